"""The three accepted input forms, brought to the one document the request schema describes.

- parameters: a JSON object in boto3's shape, as ``aws ec2 create-image --cli-input-json`` takes
  it; only the body rules apply, since botocore adds the rest;
- form: an EC2 Query form body as on the wire, with Action and Version in it;
- http: ``{"url", "method", "headers", "body"}`` as a workflow engine's HTTP task holds it; the
  body a form string or an object of fields (flat wire names or nested API shapes alike); the
  URL query and the body are read together, as EC2 does.

The document has the parts the input has: ``method``, ``headers``, ``query`` and ``body``.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal
from urllib.parse import urlsplit

from . import _wire
from ._compiler import json_type
from ._model import contract
from ._wire import FormatError

InputForm = Literal["auto", "json", "form", "http"]
INPUT_FORMS: tuple[InputForm, ...] = ("auto", "json", "form", "http")
HTTP_FIELDS = frozenset({"url", "method", "headers", "body"})


def detect(request: Any) -> InputForm:
    """Which input form ``request`` is in."""
    if isinstance(request, str | bytes):
        return "form"
    if isinstance(request, dict) and HTTP_FIELDS.intersection(request):
        return "http"
    return "json"


def to_document(request: Any, form: InputForm = "auto") -> dict[str, Any]:
    """The request as the request schema describes it; ``FormatError`` if it cannot be read."""
    try:
        return _to_document(request, detect(request) if form == "auto" else form)
    except RecursionError:
        raise FormatError("the request is nested too deeply to be one") from None


def _to_document(request: Any, form: InputForm) -> dict[str, Any]:
    if form == "json":
        if not isinstance(request, dict):
            raise FormatError(f"parameters must be a JSON object, not {json_type(request)}")
        return {"body": request}
    if form == "form":
        if not isinstance(request, str | bytes):
            raise FormatError(f"a form body must be text, not {json_type(request)}")
        return _from_pairs(_wire.parse_form(request))
    return _from_http(request)


def _from_pairs(pairs: _wire.Pairs) -> dict[str, Any]:
    protocol, rest = _wire.split_protocol(pairs)
    return {"query": protocol, "body": _wire.decode_pairs(rest)}


def _from_http(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise FormatError(f"an HTTP request must be a JSON object, not {json_type(request)}")
    unknown = set(request) - HTTP_FIELDS
    if unknown:
        raise FormatError(
            f"an HTTP request has only url, method, headers, body; not {min(unknown)}"
        )
    url = _field(request, "url", str, "")
    try:
        query = urlsplit(url).query
    except ValueError as problem:
        raise FormatError(f"url {url[:80]!r} is not a URL ({problem})") from None
    pairs = _wire.parse_form(query) if url else []
    body = request.get("body")
    if isinstance(body, dict):
        pairs += _wire.encode_pairs(body)  # API names become wire names; wire names stay
    elif body is not None:
        pairs += _wire.parse_form(_field(request, "body", str, ""))
    document = _from_pairs(pairs)
    if "method" in request:
        document["method"] = _field(request, "method", str, "")
    if "headers" in request:
        document["headers"] = _headers(request["headers"])
    return document


def unsent_fields(request: Any, form: InputForm = "auto") -> dict[str, str]:
    """The fields an HTTP request's URL holds in its fragment (``#Action=CreateImage``, as a
    workflow catalogue writes the operation's address): a client never sends a fragment, so
    they do not count, but a message about a missing one should say where it went."""
    if (detect(request) if form == "auto" else form) != "http" or not isinstance(request, dict):
        return {}
    url = request.get("url")
    try:
        fragment = urlsplit(url).fragment if isinstance(url, str) else ""
        return dict(_wire.parse_form(fragment)) if fragment else {}
    except (ValueError, FormatError):  # a fragment that is no form is no field either
        return {}


def _field(request: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = request.get(name, default)
    if not isinstance(value, kind):
        raise FormatError(f"{name} must be a {kind.__name__}, not {json_type(value)}")
    return value


@cache
def _header_names() -> dict[str, str]:
    return {name.lower(): name for name in contract().field("headers").members}


def _headers(headers: Any) -> dict[str, str]:
    if not isinstance(headers, dict):
        raise FormatError(f"headers must be an object, not {json_type(headers)}")
    known = _header_names()
    normalised: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise FormatError(f"header {name} must be a string, not {json_type(value)}")
        header = str(name)
        normalised[known.get(header.lower(), header)] = str(value)
    return normalised
