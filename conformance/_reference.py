"""The reference implementation: a strict CreateImage service that follows the catalogue exactly.

It answers what ``expect`` says a conforming service answers, in the XML of EC2 (the shapes
of ``responses.schema.json``), and holds its instances and images in memory so that the
service rules (``instance-id.not-found``, ``name.duplicate``) and DryRun ("nothing created")
are real. It also answers ``DescribeImages`` for the images it created, which is how the
runner checks that a create really created. Nothing about the rules is written here: they come
from ``schema/``.

``ReferenceService.answer`` is the service without HTTP (the mocks use it); ``wsgi`` is the same
as a WSGI application, and ``serve`` runs it on loopback.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import Any

from createimage_contract.schema import (
    Expectation,
    FormatError,
    expect,
    parse_form,
    responses,
    rule,
    split_protocol,
    to_document,
)

from . import _xml
from ._images import image_tags
from ._signing import DEFAULT_REGION, FIXED_CREDENTIALS, Gate, Refusal

MAX_BODY = 1024 * 1024
IDLE_TIMEOUT_S = 30.0
"""How long a kept-open connection may wait for its next request."""
Reader = Callable[[int], bytes]
FALLBACK_STATUS = 400
FALLBACK_CODE = "InvalidParameterValue"
"""The code of an answer the catalogue gives none for (a request that cannot be read)."""
DRY_RUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."
FIXED_KEYS: Mapping[str, str] = MappingProxyType(dict([FIXED_CREDENTIALS]))


def _content_type() -> str:
    return responses().content_type


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = field(default_factory=_content_type)


@dataclass(frozen=True)
class HeldImage:
    """An image the reference holds: what it was created with."""

    image_id: str
    name: str
    description: str | None
    tags: tuple[tuple[str, str], ...]
    instance_id: str


def new_instance_id() -> str:
    return "i-" + secrets.token_hex(9)[:17]


def new_image_id() -> str:
    return "ami-" + secrets.token_hex(9)[:17]


class ReferenceService:
    """CreateImage and DescribeImages, in memory, thread-safe."""

    def __init__(
        self,
        instance_ids: Iterable[str] | None = (),
        *,
        credentials: Mapping[str, str] | None = FIXED_KEYS,
        region: str = DEFAULT_REGION,
        skipping: frozenset[str] = frozenset(),
    ) -> None:
        """``instance_ids``: the instances it holds (one new one when none are given), or
        ``None`` for a service where every well-formed instance id exists (a mock's).
        ``credentials``: the keys it lets in (access key id -> secret), checking each request's
        SigV4 signature for ``region`` (the test credentials by default); ``None`` lets every
        request in unchecked (a mock's, which sees what botocore signed with any keys).
        ``skipping``: authentication rules it does not check (the selftest's variants)."""
        held = None if instance_ids is None else frozenset(instance_ids)
        self.instance_ids = frozenset({new_instance_id()}) if held == frozenset() else held
        self.images: dict[str, HeldImage] = {}
        self.gate = None if credentials is None else Gate(credentials, region, skipping)
        self._lock = threading.Lock()

    @property
    def instance_id(self) -> str:
        """One instance the service holds (the one, unless several were given)."""
        return min(self.instance_ids) if self.instance_ids else "i-0123456789abcdef0"

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to one HTTP request; ``url`` may be just the path and query (with the
        Host header, it is what the signature was computed for)."""
        refused = self.refusal(method, url, headers, body)
        return refused if refused is not None else self.admitted(method, url, headers, body)

    def admitted(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        """The answer to a request that got in."""
        try:
            text = body.decode("utf-8")
            protocol, _ = split_protocol(parse_form(url.partition("?")[2]) + parse_form(text))
            request = {"url": url, "method": method, "headers": headers, "body": text}
            pairs = parse_form(url.partition("?")[2]) + parse_form(text)
            if protocol.get("Action") == "DescribeImages":
                return self._describe(pairs)
            if protocol.get("Action") == "DeregisterImage":
                return self._deregister(dict(pairs).get("ImageId", ""))
            return self._create(request)
        except (FormatError, UnicodeDecodeError) as error:
            return error_answer(
                FALLBACK_STATUS, FALLBACK_CODE, f"The request cannot be read: {error}"
            )

    def refusal(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer | None:
        """The answer to a request that does not get in; ``None`` when it does (always, without
        credentials to check)."""
        if self.gate is None:
            return None
        host = next((v for k, v in headers.items() if k.lower() == "host"), "")
        whole = url if "://" in url else f"http://{host}{url}"
        refusal = self.gate.refusal(method, whole, headers, body)
        return None if refusal is None else _refused_entry(refusal)

    def _create(self, request: dict[str, Any]) -> Answer:
        with self._lock:
            names = {image.name for image in self.images.values()}
            expectation = expect(
                request, input="http", known_instances=self.instance_ids, used_names=names
            )
            if expectation.status == 200:
                image = self._remember(to_document(request, "http")["body"])
                return _success(image.image_id)
        return _refusal(expectation)

    def _remember(self, params: dict[str, Any]) -> HeldImage:
        image = HeldImage(
            new_image_id(),
            params["Name"],
            params.get("Description"),
            tuple(image_tags(params)),
            params["InstanceId"],
        )
        self.images[image.image_id] = image
        return image

    def _deregister(self, image_id: str) -> Answer:
        """DeregisterImage, which the runner uses to clean up after itself."""
        with self._lock:
            removed = self.images.pop(image_id, None)
        if removed is None:
            return error_answer(
                400, "InvalidAMIID.NotFound", f"The image id '{image_id}' does not exist"
            )
        ns = responses().shapes["CreateImageResponse"].namespace
        root = _xml.build(
            "DeregisterImageResponse",
            ns,
            _xml.leaf("requestId", _request_id(), ns),
            _xml.leaf("return", "true", ns),
        )
        return Answer(200, _xml.serialize(root))

    def _describe(self, pairs: list[tuple[str, str]]) -> Answer:
        wanted_ids = {value for name, value in pairs if name.startswith("ImageId.")}
        filters = _filters(pairs)
        with self._lock:
            found = [
                image
                for image in self.images.values()
                if (not wanted_ids or image.image_id in wanted_ids) and _matches(image, filters)
            ]
        return Answer(200, _xml.serialize(_images_xml(found)))

    def respond(
        self, method: str, url: str, headers: dict[str, str], length: int, read: Reader
    ) -> Answer:
        """The answer to a request whose body of ``length`` bytes ``read`` reads; a body over
        ``MAX_BODY`` is refused unread."""
        if length > MAX_BODY:
            return error_answer(413, "RequestEntityTooLarge", f"The body is over {MAX_BODY} bytes.")
        return self.answer(method, url, headers, read(length) if length > 0 else b"")

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The service as a WSGI application."""
        query = environ.get("QUERY_STRING", "")
        url = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        answer = self.respond(
            environ["REQUEST_METHOD"], url, _headers(environ), length, environ["wsgi.input"].read
        )
        start_response(
            f"{answer.status} {_REASONS.get(answer.status, 'Error')}",
            [("Content-Type", answer.content_type), ("Content-Length", str(len(answer.body)))],
        )
        return [answer.body]


_REASONS = {200: "OK", 400: "Bad Request", 412: "Precondition Failed", 413: "Too Large"}


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers


def _filters(pairs: list[tuple[str, str]]) -> dict[str, set[str]]:
    """``Filter.N.Name`` / ``Filter.N.Value.M`` as {name: values}."""
    names: dict[str, str] = {}
    values: dict[str, set[str]] = {}
    for key, value in pairs:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "Filter" and parts[2] == "Name":
            names[parts[1]] = value
        elif len(parts) == 4 and parts[0] == "Filter" and parts[2] == "Value":
            values.setdefault(parts[1], set()).add(value)
    return {names[n]: values.get(n, set()) for n in names}


def _matches(image: HeldImage, filters: dict[str, set[str]]) -> bool:
    fields = {"name": image.name, "image-id": image.image_id, "description": image.description}
    return all(fields.get(name) in allowed for name, allowed in filters.items())


def _request_id() -> str:
    return str(uuid.uuid4())


def _success(image_id: str) -> Answer:
    shape = responses().shapes["CreateImageResponse"]
    ns = shape.namespace
    root = _xml.build(
        shape.root,
        ns,
        _xml.leaf("requestId", _request_id(), ns),
        _xml.leaf("imageId", image_id, ns),
    )
    return Answer(200, _xml.serialize(root))


def error_answer(status: int, code: str, message: str) -> Answer:
    """An EC2 error answer: ``Response/Errors/Error`` with ``Code``, ``Message``, ``RequestID``."""
    shape = responses().shapes["ErrorResponse"]
    error = _xml.node("Error", None, _xml.leaf("Code", code), _xml.leaf("Message", message))
    root = _xml.build(
        shape.root, None, _xml.node("Errors", None, error), _xml.leaf("RequestID", _request_id())
    )
    return Answer(status, _xml.serialize(root))


def _refused_entry(refusal: Refusal) -> Answer:
    """The answer to a request that does not get in: the first code EC2 documents for the rule
    it breaks, with the status EC2 documents for that code."""
    broken = rule(refusal.rule)
    code = broken.documented_codes[0] if broken.documented_codes else FALLBACK_CODE
    return error_answer(broken.answer_status or FALLBACK_STATUS, code, refusal.detail)


def _refusal(expectation: Expectation) -> Answer:
    status = expectation.status or FALLBACK_STATUS
    code = expectation.code or _documented_code(expectation.rule)
    if expectation.rule == "dry-run":
        message = DRY_RUN_MESSAGE
    elif expectation.violation is not None:
        message = f"{expectation.violation.message} ({expectation.rule})"
    else:
        message = str(expectation.rule)
    return error_answer(status, code, message)


def _documented_code(rule_id: str | None) -> str:
    """For a rule with no exact code (any 4xx will do): the first code EC2 documents for it."""
    documented = rule(rule_id).documented_codes if rule_id else ()
    return documented[0] if documented else FALLBACK_CODE


def _images_xml(images: list[HeldImage]) -> _xml.Element:
    shape = responses().shapes["DescribeImagesResponse"]
    ns = shape.namespace
    items = []
    for image in images:
        members = [
            _xml.leaf("imageId", image.image_id, ns),
            _xml.leaf("name", image.name, ns),
            _xml.leaf("imageState", "available", ns),
        ]
        if image.description is not None:
            members.append(_xml.leaf("description", image.description, ns))
        tags = [
            _xml.node("item", ns, _xml.leaf("key", key, ns), _xml.leaf("value", value, ns))
            for key, value in image.tags
        ]
        members.append(_xml.node("tagSet", ns, *tags))
        items.append(_xml.node("item", ns, *members))
    return _xml.build(
        shape.root,
        ns,
        _xml.leaf("requestId", _request_id(), ns),
        _xml.node("imagesSet", ns, *items),
    )


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1, connections kept open: a run sends a thousand requests and more, and a new
    connection for each (what wsgiref's HTTP/1.0 server makes) costs a handshake and a thread
    each time."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the head and the body leave at once, not 40 ms apart
    timeout = IDLE_TIMEOUT_S
    server: _Server

    def _respond(self) -> None:
        length = self.headers.get("Content-Length", "0").strip()
        size = int(length) if length.isdigit() else MAX_BODY + 1  # unreadable: refused
        answer = self.server.service.respond(
            self.command, self.path, dict(self.headers.items()), size, self.rfile.read
        )
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        if size > MAX_BODY:  # the body was not read: the connection cannot carry another request
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _respond

    def log_message(self, format: str, *args: Any) -> None:
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: ReferenceService) -> None:
        super().__init__(address, _Handler)
        self.service = service


@dataclass(frozen=True)
class Running:
    """A service serving on loopback: its URL, the instance it holds, and what a request must
    be signed with to get in (``access_key_id``, ``secret_access_key``, ``region``; the keys
    are ``None`` for a service that checks no signature)."""

    url: str
    instance_id: str
    service: ReferenceService

    @property
    def access_key_id(self) -> str | None:
        gate = self.service.gate
        return next(iter(gate.keys)) if gate else None

    @property
    def secret_access_key(self) -> str | None:
        gate = self.service.gate
        return next(iter(gate.keys.values())) if gate else None

    @property
    def region(self) -> str:
        return self.service.gate.region if self.service.gate else DEFAULT_REGION


@contextmanager
def serve(
    service: ReferenceService | None = None, port: int = 0, host: str = "127.0.0.1"
) -> Iterator[Running]:
    """Run ``service`` (a new one by default) on ``host:port`` (a free port by default)."""
    service = service or ReferenceService()
    server = _Server((host, port), service)
    # A short poll: shutdown waits for the loop to notice, 0.5 s by default, on every stop.
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="reference", daemon=True
    )
    thread.start()
    try:
        yield Running(f"http://{host}:{server.server_port}/", service.instance_id, service)
    finally:
        server.shutdown()
        server.server_close()


__all__ = ["Answer", "HeldImage", "ReferenceService", "Running", "serve"]
