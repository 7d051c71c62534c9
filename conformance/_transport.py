"""Sending a form body to an endpoint as CreateImage: SigV4-signed by botocore, sent with
urllib3, read with care.

Signing is botocore's (``SigV4Auth``), not ours. Answers are read as a stream up to a size cap,
so that a server cannot make the runner hold more than that in memory, and every way a request
can fail to get an answer (refused, reset, timed out) comes back as a ``Response`` with an
``error``, for the checks to report, never as an exception.
"""

from __future__ import annotations

import contextlib
import heapq
import ipaddress
import itertools
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from createimage_contract._curl import FORM_CONTENT_TYPE
from createimage_contract.schema import document

LOOPBACK_CREDENTIALS = ("AKIDLOOPBACKTESTING", "loopback-test-secret-key")
"""Fixed credentials for loopback targets: real keys are never sent to a local server."""
DEFAULT_MAX_BYTES = 1024 * 1024
DEADLINE_TIMEOUTS = 3
"""A whole answer (status line, headers, body) must arrive within this many timeouts,
however it trickles in."""
MAX_BACKOFF_S = 5.0
THROTTLING_CODES = frozenset(document("responses.schema.json")["x-throttling-codes"])
SECRET_HEADERS = ("authorization", "x-amz-security-token")
REDACTED = "<redacted>"


class NoCredentials(Exception):
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


def credentials_for(endpoint: str) -> Credentials:
    if is_loopback(endpoint):
        return Credentials(*LOOPBACK_CREDENTIALS)
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key or not secret:
        raise NoCredentials(
            "no AWS credentials: a remote target needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN"))


@dataclass(frozen=True)
class Sent:
    """A request as it went out, secrets redacted."""

    method: str
    url: str
    headers: dict[str, str]
    body: str

    def as_dict(self) -> dict[str, object]:
        return {"method": self.method, "url": self.url, "headers": self.headers, "body": self.body}


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


class Transport:
    """One endpoint, one region, one set of credentials, one connection pool."""

    def __init__(
        self,
        endpoint: str,
        region: str,
        credentials: Credentials,
        timeout: float = 10.0,
        max_bytes: int = DEFAULT_MAX_BYTES,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.endpoint = endpoint
        self.region = region
        self.uses_session_token = credentials.token is not None
        self._signer = SigV4Auth(credentials, "ec2", region)
        self._timeout = timeout
        self._deadline = timeout * DEADLINE_TIMEOUTS
        self._max_bytes = max_bytes
        self._retries = retries
        self._backoff_base = backoff_s
        # urllib3 itself, not requests on top of it: a quarter less time per request, which
        # matters when every generated example is one. No retries, no redirects, no proxies
        # from the environment: the answer seen is the answer given.
        self._pool = urllib3.connectionpool.connection_from_url(
            endpoint,
            maxsize=16,
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
        )
        self._pool.ConnectionCls = _watched(self._pool.ConnectionCls)
        parts = urlsplit(endpoint)
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def signed(self, form: str) -> tuple[dict[str, str], bytes]:
        """The headers and body of ``form`` as a signed request."""
        body = form.encode("utf-8")
        request = AWSRequest(
            method="POST", url=self.endpoint, data=body, headers={"Content-Type": FORM_CONTENT_TYPE}
        )
        self._signer.add_auth(request)
        return dict(request.headers.items()), body

    def send(self, form: str) -> tuple[Sent, Response]:
        headers, body = self.signed(form)
        sent = Sent("POST", self.endpoint, redact(headers), form)
        return sent, self.post(headers, body)

    def post(self, headers: dict[str, str], body: bytes) -> Response:
        """POST, and again after a throttling answer, with backoff, a bounded number of times."""
        for attempt in range(self._retries + 1):
            response = self._post_once(headers, body)
            delay = self._backoff(response, attempt)
            if delay is None:
                return response
            if attempt == self._retries:
                return replace(response, retries=attempt, throttled=True)
            time.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns")

    def _backoff(self, response: Response, attempt: int) -> float | None:
        """How long to wait before retrying a throttled answer; ``None`` when it is not one."""
        throttled = response.status == 503 or (
            response.status in (400, 429) and _error_code(response.body) in THROTTLING_CODES
        )
        if not throttled:
            return None
        wait: float = self._backoff_base * 2.0**attempt
        after = response.headers.get("retry-after", "")
        if after.isdigit():
            wait = float(after)
        return min(wait, MAX_BACKOFF_S)

    def _post_once(self, headers: dict[str, str], body: bytes) -> Response:
        """One request; a timer cuts its connection at the deadline, however the server
        dribbles the status line, the headers or the body."""
        watch = _WATCHDOG.watch(self._deadline)
        _watching.watch = watch
        try:
            response = self._exchange(headers, body)
            if watch.was_cut:  # an answer cut short can still look whole to http.client
                return Response(None, error=f"the answer took over {self._deadline:g} s")
            return response
        except (urllib3.exceptions.HTTPError, OSError) as error:
            if watch.was_cut:
                return Response(None, error=f"the answer took over {self._deadline:g} s")
            if isinstance(error, urllib3.exceptions.TimeoutError):
                return Response(None, error=f"no answer within {self._timeout:g} s")
            if isinstance(error, urllib3.exceptions.NewConnectionError):
                return Response(None, error=f"connection failed: {_reason(error)}")
            return Response(None, error=f"broken answer: {_reason(error)}")
        finally:
            watch.finished = True
            _watching.watch = None

    def _exchange(self, headers: dict[str, str], body: bytes) -> Response:
        answer = self._pool.urlopen(
            "POST",
            self._path,
            body=body,
            headers=headers,
            preload_content=False,
            redirect=False,
            retries=False,
        )
        names = {name.lower(): value for name, value in answer.headers.items()}
        try:
            content, truncated = self._read(answer)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            answer.close()
            if _watching.watch is not None and _watching.watch.was_cut:
                raise
            if isinstance(error, urllib3.exceptions.TimeoutError):
                return Response(
                    answer.status, names, error=f"the answer stalled for {self._timeout:g} s"
                )
            return Response(answer.status, names, error=f"broken answer: {_reason(error)}")
        if truncated:
            answer.close()  # the rest was never read: the connection cannot be reused
        else:
            answer.release_conn()
        return Response(answer.status, names, content, truncated)

    def _read(self, answer: urllib3.BaseHTTPResponse) -> tuple[bytes, bool]:
        """The body, up to the cap."""
        chunks: list[bytes] = []
        size = 0
        while chunk := answer.read1(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > self._max_bytes:
                return b"".join(chunks)[: self._max_bytes], True
        return b"".join(chunks), False

    def close(self) -> None:
        self._pool.close()


class _Watch:
    """The connection a request goes out on, so that the watchdog can cut it at the deadline."""

    def __init__(self) -> None:
        self.connection: Any = None
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

    def watch(self, seconds: float) -> _Watch:
        watch = _Watch()
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
_watching = threading.local()


def _watched(connection_class: Any) -> Any:
    """``connection_class``, telling the request's watch which connection it goes out on."""

    class Watched(connection_class):  # type: ignore[misc]
        def request(self, *args: Any, **kwargs: Any) -> Any:
            watch = getattr(_watching, "watch", None)
            if watch is not None:
                watch.connection = self
            return super().request(*args, **kwargs)

    return Watched


def _error_code(body: bytes) -> str | None:
    found = re.search(rb"<Code>([^<]{1,100})</Code>", body[:4096])
    return found.group(1).decode("utf-8", "replace") if found else None


def redact(headers: dict[str, str]) -> dict[str, str]:
    return {k: REDACTED if k.lower() in SECRET_HEADERS else v for k, v in headers.items()}


def _reason(error: Exception) -> str:
    """The innermost reason of a urllib3 error, on one line."""
    while error.__context__ is not None and error.__context__ is not error:
        error = error.__context__  # type: ignore[assignment]
    return " ".join(str(error).split())[:200] or type(error).__name__
