"""Sending a form body to an endpoint as CreateImage: SigV4-signed by botocore, sent with
urllib3, read with care.

Signing is botocore's (``SigV4Auth``), not ours. A request is sent by ``start`` and its answer
read later, by ``Pending.answer``: the runner generates its next example in between, in the
same thread. Answers are read as a stream up to a size cap, so that a server cannot make the
runner hold more than that in memory, and every way a request can fail to get an answer
(refused, reset, timed out) comes back as a ``Response`` with an ``error``, for the checks to
report, never as an exception.
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import ipaddress
import itertools
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Literal
from urllib.parse import urlsplit

import urllib3
from botocore.credentials import Credentials
from urllib3.connection import HTTPConnection, HTTPSConnection

from createimage_contract.schema import Error, responses

from . import _xml
from ._probes import Forgery, Signing
from ._signing import FIXED_CREDENTIALS, Scope, sign

DEFAULT_TIMEOUT_S = 10.0
"""How long to wait for each read of an answer."""
DEFAULT_MAX_BYTES = 1024 * 1024
DEADLINE_TIMEOUTS = 3
"""A whole answer (status line, headers, body) must arrive within this many timeouts,
however it trickles in."""
MAX_BACKOFF_S = 5.0
SECRET_HEADERS = ("authorization", "x-amz-security-token")
REDACTED = "<redacted>"
_TRANSPORT_ERRORS = (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)
"""What sending a request or reading its answer raises when the other end misbehaves."""


class NoCredentials(Error):
    """A remote target and no AWS credentials in the environment."""


def is_loopback(endpoint: str) -> bool:
    try:
        host = urlsplit(endpoint).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, not an address: 127.0.0.1.example.com is not loopback


CredentialsChoice = Literal["auto", "fixed", "env"]
CREDENTIALS_CHOICES: tuple[CredentialsChoice, ...] = ("auto", "fixed", "env")


def credentials_for(endpoint: str, choice: CredentialsChoice = "auto") -> Credentials:
    """What requests to ``endpoint`` are signed with: ``fixed``, the test credentials (real
    keys never go to a local server); ``env``, the usual ``AWS_*`` variables; ``auto``, the
    first on loopback and the second elsewhere."""
    if choice == "fixed" or (choice == "auto" and is_loopback(endpoint)):
        return Credentials(*FIXED_CREDENTIALS)
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        where = "--credentials env" if is_loopback(endpoint) else "a remote target"
        raise NoCredentials(
            f"no AWS credentials: {where} needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN"))


@dataclass(frozen=True)
class Sent:
    """A request as it went out, secrets redacted."""

    method: str
    url: str
    headers: dict[str, str]
    body: str
    forged: str | None = None
    """How a probe was forged (a ``Forgery``'s kind); ``None`` for a request signed as usual."""

    def as_dict(self) -> dict[str, object]:
        sent: dict[str, object] = {"method": self.method, "url": self.url}
        sent |= {"headers": self.headers, "body": self.body}
        return sent | ({"forged": self.forged} if self.forged else {})


@dataclass(frozen=True)
class Response:
    """An answer, or why there was none (``error``)."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    """Header names in lower case."""
    body: bytes = b""
    truncated: bool = False
    """The body went past the size cap; ``body`` holds the first bytes only."""
    error: str | None = None
    retries: int = 0
    throttled: bool = False
    """Still throttled after every retry."""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def excerpt(self, limit: int = 500) -> str:
        text = self.body[:limit].decode("utf-8", errors="replace")
        return text + ("..." if len(self.body) > limit or self.truncated else "")

    def as_dict(self) -> dict[str, object]:
        report: dict[str, object] = {
            "status": self.status,
            "content_type": self.content_type,
            "body_excerpt": self.excerpt(),
        }
        if self.error:
            report["error"] = self.error
        return report


@dataclass(frozen=True)
class Pending:
    """A request on its way: ``answer`` waits for its answer and reads it (call it once)."""

    sent: Sent
    answer: Callable[[], Response]


@dataclass(frozen=True)
class _Attempt:
    """One request sent (or not: ``problem`` says why) on a connection, under a deadline."""

    connection: HTTPConnection
    watch: _Watch
    problem: Exception | None = None


class Transport:
    """One endpoint, one region, one set of credentials, and connections kept open for it."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: Credentials,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.uses_session_token = credentials.token is not None
        self.signing = Signing(endpoint, region, credentials)
        self._timeout = timeout
        self._deadline = timeout * DEADLINE_TIMEOUTS
        self._max_bytes = max_bytes
        self._retries = retries
        self._backoff_base = backoff_s
        parts = urlsplit(endpoint)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # urllib3's connections, not its pool: a pool sends and reads in one call, and the
        # runner reads an answer only after it has generated the next example. No retries, no
        # redirects, no proxies from the environment: the answer seen is the answer given.
        connection_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
        self._new_connection = partial(
            connection_class, parts.hostname or "", parts.port, timeout=timeout
        )
        self._idle: list[HTTPConnection] = []
        self._idle_lock = threading.Lock()

    def signed(self, form: str) -> tuple[dict[str, str], bytes]:
        """The headers and body of ``form`` as a signed request."""
        body = form.encode("utf-8")
        return sign(self.endpoint, body, self.signing.credentials, Scope(self.region)), body

    def start(self, form: str, forgery: Forgery | None = None) -> Pending:
        """Send ``form``, signed (or as ``forgery`` makes it); its answer is read when asked
        for."""
        if forgery is None:
            headers, body = self.signed(form)
        else:
            headers, body = forgery.forge(self.signing, form.encode("utf-8"))
        text = body.decode("utf-8", "replace")
        forged = forgery.kind if forgery else None
        sent = Sent("POST", self.endpoint, redact(headers), text, forged)
        return Pending(sent, partial(self._complete, headers, body, self._begin(headers, body)))

    def send(self, form: str) -> tuple[Sent, Response]:
        """Send ``form``, signed, and wait for its answer."""
        pending = self.start(form)
        return pending.sent, pending.answer()

    def _complete(self, headers: dict[str, str], body: bytes, attempt: _Attempt) -> Response:
        """The answer; after a throttling answer the request goes again, with backoff, a bounded
        number of times."""
        for tries in range(self._retries + 1):
            response = self._answer(attempt)
            delay = self._backoff(response, tries)
            if delay is None:
                return response
            if tries == self._retries:
                return replace(response, retries=tries, throttled=True)
            time.sleep(delay)
            attempt = self._begin(headers, body)
        raise AssertionError("unreachable: the last attempt returns")

    def _backoff(self, response: Response, tries: int) -> float | None:
        """How long to wait before retrying a throttled answer; ``None`` when it is not one."""
        throttled = response.status == 503 or (
            response.status in (400, 429)
            and _xml.error_code(response.body) in responses().throttling_codes
        )
        if not throttled:
            return None
        wait: float = self._backoff_base * 2.0**tries
        after = response.headers.get("retry-after", "")
        if after.isdigit():
            wait = float(after)
        return min(wait, MAX_BACKOFF_S)

    def _begin(self, headers: dict[str, str], body: bytes) -> _Attempt:
        """Send one request; a timer cuts its connection at the deadline, however the server
        dribbles the status line, the headers or the body."""
        connection = self._connection()
        watch = _WATCHDOG.watch(self._deadline, connection)
        try:
            connection.request(
                "POST", self._path, body=body, headers=headers, preload_content=False
            )
        except _TRANSPORT_ERRORS as problem:
            return _Attempt(connection, watch, problem)
        return _Attempt(connection, watch)

    def _answer(self, attempt: _Attempt) -> Response:
        try:
            if attempt.problem is not None:
                response = Response(None, error=self._no_answer(attempt.problem))
            else:
                response = self._receive(attempt)
        except _TRANSPORT_ERRORS as error:
            response = Response(None, error=self._no_answer(error))
        finally:
            attempt.watch.finished = True
        if attempt.watch.was_cut:  # an answer cut short can still look whole to http.client
            response = Response(None, error=f"the answer took over {self._deadline:g} s")
        if response.error or response.truncated:
            attempt.connection.close()  # what is left on it would be read as the next answer
        self._put_back(attempt.connection)
        return response

    def _no_answer(self, error: Exception) -> str:
        if isinstance(error, urllib3.exceptions.NewConnectionError):
            return f"connection failed: {_reason(error)}"
        if isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError):
            return f"no answer within {self._timeout:g} s"
        return f"broken answer: {_reason(error)}"

    def _receive(self, attempt: _Attempt) -> Response:
        answer = attempt.connection.getresponse()
        names = {name.lower(): value for name, value in answer.headers.items()}
        try:
            content, truncated = self._read(answer)
        except _TRANSPORT_ERRORS as error:
            if isinstance(error, urllib3.exceptions.TimeoutError | TimeoutError):
                return Response(
                    answer.status, names, error=f"the answer stalled for {self._timeout:g} s"
                )
            return Response(answer.status, names, error=f"broken answer: {_reason(error)}")
        return Response(answer.status, names, content, truncated)

    def _read(self, answer: urllib3.BaseHTTPResponse) -> tuple[bytes, bool]:
        """The body, up to the cap."""
        chunks: list[bytes] = []
        size = 0
        # A body of a known length, not encoded, is whole when that length is read: no call
        # is made just to learn that nothing follows.
        sized = "content-encoding" not in answer.headers
        while chunk := answer.read1(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_bytes:
                return b"".join(chunks)[: self._max_bytes], True
            if sized and answer.length_remaining == 0:
                break
        return b"".join(chunks), False

    def _connection(self) -> HTTPConnection:
        with self._idle_lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            return self._new_connection()
        if not connection.is_connected:
            connection.close()  # the server closed it while it was idle; it opens again
        return connection

    def _put_back(self, connection: HTTPConnection) -> None:
        with self._idle_lock:
            self._idle.append(connection)

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class _Watch:
    """The connection a request goes out on, so that the watchdog can cut it at the deadline."""

    def __init__(self, connection: HTTPConnection) -> None:
        self.connection = connection
        self.was_cut = False
        self.finished = False
        self._lock = threading.Lock()

    def cut(self) -> None:
        with self._lock:
            self.was_cut = True
            sock = getattr(self.connection, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Watchdog:
    """One thread that cuts, at its deadline, each request still going: cheaper than a timer
    thread per request."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, seconds: float, connection: HTTPConnection) -> _Watch:
        watch = _Watch(connection)
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + seconds, next(self._order), watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            # Waking the thread costs a switch per request; it only needs to know of a watch
            # that is now the earliest (it sleeps until the earliest, then looks again).
            if self._due[0][2] is watch:
                self._wake.notify()
        return watch

    def _run(self) -> None:
        with self._wake:
            while True:
                while self._due and self._due[0][2].finished:
                    heapq.heappop(self._due)
                if not self._due:
                    self._wake.wait()
                    continue
                deadline, _, watch = self._due[0]
                now = time.monotonic()
                if deadline > now:
                    self._wake.wait(deadline - now)
                    continue
                heapq.heappop(self._due)
                watch.cut()


_WATCHDOG = _Watchdog()


def redact(headers: dict[str, str]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


def _reason(error: Exception) -> str:
    """The innermost reason of a urllib3 error, on one line."""
    while error.__context__ is not None and error.__context__ is not error:
        error = error.__context__  # type: ignore[assignment]
    return " ".join(str(error).split())[:200] or type(error).__name__
