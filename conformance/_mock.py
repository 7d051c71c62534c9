"""A strict CreateImage mock for unit tests: the reference implementation, without a network.

While active it answers the CreateImage (and DescribeImages) calls a test makes through
``requests`` (intercepted with ``responses``) and through botocore/boto3 clients (answered from
botocore's own ``before-send`` event), exactly as the reference implementation would: the XML
error with the right code and status for a request that breaks a rule, an image id for a good
one, 412 for a DryRun. It records every call, with the rules it breaks, for assertions, and can
be told to answer an error of the test's choosing next (to test a client's error handling).

botocore clients pick the handler up when they are created: create them while the mock is
active (in the test, or in a fixture that uses the mock).

While a mock is active the environment holds fake AWS credentials, as moto's ``mock_aws``
does: botocore signs a request before it emits ``before-send``, so without them a test fails
with ``NoCredentialsError`` wherever none are configured (a CI job); and a request the mock
lets through is not signed with the user's keys. The environment is put back as it was when
the last active mock stops.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from createimage_contract.schema import (
    FormatError,
    Violation,
    from_form,
    parse_form,
    split_protocol,
    validate,
)

from . import _xml
from ._reference import Answer, HeldImage, ReferenceService, error_answer, new_image_id

if TYPE_CHECKING:
    import responses

EC2_ENDPOINTS = re.compile(r"https?://ec2(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?(:\d+)?(/.*)?")
MOCKED_OPERATIONS = ("CreateImage", "DescribeImages")


@dataclass(frozen=True)
class Call:
    """One request the code under test made, and what the mock answered."""

    via: str
    """``requests`` or ``botocore``."""
    method: str
    url: str
    headers: dict[str, str]
    form: str
    """The parameters as sent: the form body (and for a GET, the query)."""
    status: int
    code: str | None
    """The EC2 error code answered; ``None`` for a success."""
    violations: list[Violation] = field(default_factory=list)
    """Every rule the request breaks, header rules included (which EC2 does not answer)."""

    @property
    def params(self) -> dict[str, Any]:
        """The parameters in boto3's shape (Action and Version left out)."""
        return from_form(self.form)

    @property
    def action(self) -> str | None:
        return split_protocol(parse_form(self.form))[0].get("Action")


class CreateImageMock:
    """The mock; a context manager, or use ``start`` and ``stop``."""

    def __init__(
        self,
        *,
        instances: Iterable[str] | None = None,
        taken_names: Iterable[str] = (),
        endpoints: Iterable[str] = (),
    ) -> None:
        """``instances``: the instances that exist (``None``: every well-formed id);
        ``taken_names``: names of images that already exist; ``endpoints``: URL prefixes to
        intercept besides EC2's own (``https://ec2.<region>.amazonaws.com``)."""
        self.service = ReferenceService(instances, credentials=None)  # botocore signs with any key
        for name in taken_names:
            image = HeldImage(new_image_id(), name, None, (), self.service.instance_id)
            self.service.images[image.image_id] = image
        self.calls: list[Call] = []
        self._endpoints = [EC2_ENDPOINTS, *(re.compile(re.escape(e) + ".*") for e in endpoints)]
        self._forced: deque[tuple[int, str, str]] = deque()
        self._lock = threading.Lock()
        self._responses: responses.RequestsMock | None = None

    def fail_next(self, code: str, status: int = 400, message: str | None = None) -> None:
        """Answer the next CreateImage call with this error, whatever it asks."""
        self._forced.append((status, code, message or f"{code} (forced by the test)"))

    @property
    def created(self) -> list[HeldImage]:
        """The images the code under test created."""
        return list(self.service.images.values())

    def start(self) -> CreateImageMock:
        import responses  # here: it imports requests, which a run without the mock never needs

        self._responses = responses.RequestsMock(assert_all_requests_are_fired=False)
        self._responses.start()
        for pattern in self._endpoints:
            for method in (responses.POST, responses.GET):
                self._responses.add_callback(method, pattern, callback=self._from_requests)
        self._responses.add_passthru(re.compile(".*"))  # only EC2 is the mock's business
        _activate(self)
        _install_botocore_handler()
        return self

    def stop(self) -> None:
        _deactivate(self)
        if self._responses is not None:
            self._responses.stop()
            self._responses.reset()
            self._responses = None

    def __enter__(self) -> CreateImageMock:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def handle(
        self, via: str, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        """Answer one request as the reference implementation (or a forced error) would."""
        form = _form(method, url, body)
        with self._lock:
            forced = (
                self._forced.popleft() if self._forced and "Action=CreateImage" in form else None
            )
        if forced:
            answer = error_answer(*forced)
        else:
            answer = self.service.answer(method, url, headers, body)
        call = Call(
            via,
            method,
            url,
            headers,
            form,
            answer.status,
            _xml.error_code(answer.body) if answer.status >= 400 else None,
            _violations(method, url, headers, form),
        )
        with self._lock:
            self.calls.append(call)
        return answer

    def _from_requests(self, request: Any) -> tuple[int, dict[str, str], bytes]:
        body = request.body or b""
        answer = self.handle(
            "requests",
            request.method,
            request.url,
            dict(request.headers),
            body.encode() if isinstance(body, str) else body,
        )
        return answer.status, {"Content-Type": answer.content_type}, answer.body


def _form(method: str, url: str, body: bytes) -> str:
    query = url.partition("?")[2]
    text = body.decode("utf-8", errors="replace")
    return "&".join(part for part in (query, text) if part)


def _violations(method: str, url: str, headers: dict[str, str], form: str) -> list[Violation]:
    try:
        return validate({"url": url, "method": method, "headers": headers, "body": form})
    except FormatError:
        return []


# --- the active mocks --------------------------------------------------------------------------

_ACTIVE: list[CreateImageMock] = []
_INSTALLED = threading.Lock()


# --- the environment while a mock is active ----------------------------------------------------

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIDCREATEIMAGEMOCK",
    "AWS_SECRET_ACCESS_KEY": "createimage-mock-secret",
    # A real session token must neither sign with the fake key nor land in ``Call.headers``.
    "AWS_SESSION_TOKEN": None,
    "AWS_SECURITY_TOKEN": None,
}
"""The environment while a mock is active (``None``: unset). No region: which one a client
uses is the code under test's choice, and the mock answers EC2 in every region."""
_SAVED: list[tuple[dict[str, str | None], object]] = []
"""While a mock is active: the variables, and boto3's default session, as they were before."""


def _activate(mock: CreateImageMock) -> None:
    with _INSTALLED:
        if not _ACTIVE:
            environment = _environment_swapped(FAKE_CREDENTIALS)
            _SAVED.append((environment, _boto3_session_swapped(None)))
        _ACTIVE.append(mock)


def _deactivate(mock: CreateImageMock) -> None:
    with _INSTALLED:
        if mock not in _ACTIVE:
            return
        _ACTIVE.remove(mock)
        if not _ACTIVE and _SAVED:
            environment, session = _SAVED.pop()
            _environment_swapped(environment)
            _boto3_session_swapped(session)


def _environment_swapped(values: dict[str, str | None]) -> dict[str, str | None]:
    """Set (or with ``None`` unset) these variables; what they were before."""
    before = {name: os.environ.get(name) for name in values}
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    return before


def _boto3_session_swapped(session: object) -> object:
    """boto3 keeps the session behind ``boto3.client(...)`` for the process, and the session
    its credentials: one made before the mock knows neither its handler nor the fake keys,
    and one made while it was active keeps the fake keys. moto swaps it too."""
    boto3: Any = sys.modules.get("boto3")  # not imported yet: there is no session to keep
    if boto3 is None:
        return None
    before: object = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = session
    return before


# --- botocore's handler ------------------------------------------------------------------------


class _Raw:
    """What botocore reads an answer's body from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._body


def _botocore_handler(request: Any, event_name: str = "", **context: Any) -> AWSResponse | None:
    """Answer EC2 CreateImage/DescribeImages from the active mock; leave anything else."""
    service, _, operation = event_name.rpartition(".")
    if not _ACTIVE or not service.endswith(".ec2") or operation not in MOCKED_OPERATIONS:
        return None
    body = request.body or b""
    answer = _ACTIVE[-1].handle(
        "botocore",
        request.method,
        request.url,
        {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()},
        body.encode() if isinstance(body, str) else body,
    )
    headers = HTTPHeaders.from_dict({"Content-Type": answer.content_type})
    return AWSResponse(request.url, answer.status, headers, _Raw(answer.body))


def _install_botocore_handler() -> None:
    """Every botocore session created from now on sends through the handler (as moto does)."""
    with _INSTALLED:
        entry = ("before-send", _botocore_handler)
        if entry not in botocore.handlers.BUILTIN_HANDLERS:
            botocore.handlers.BUILTIN_HANDLERS.append(entry)
