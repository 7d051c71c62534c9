"""The EC2 Query wire format: parameters to a form body and back.

Encoding follows botocore's EC2 serializer: members in the order given, lists flattened as
``Name.1``, ``Name.2`` under their singular wire names, structures dot-nested, booleans as
``true``/``false``, empty lists and structures not sent at all, and the pairs form-encoded with
``quote_plus``. Decoding reverses it with the schema's types; a value that cannot be converted
(``NoReboot=maybe``) is kept as the string it was, for the validator to report, and a wire name
CreateImage does not have is kept whole (``Foo.1.Bar``) as an unknown parameter.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ._errors import Error
from ._model import Field, contract

Pairs = list[tuple[str, str]]

_INDEX = re.compile(r"[1-9][0-9]{0,8}")
_INTEGER = re.compile(r"-?[0-9]{1,20}")


class FormatError(Error, ValueError):
    """The input cannot be read as a CreateImage request at all."""


@cache
def protocol_parameters() -> dict[str, str]:
    """The protocol parameters and the one value each may have: Action and Version."""
    members = contract().field("query").members
    return {name: member.nodes[0].first("const") for name, member in members.items()}


def encode_pairs(params: Any) -> Pairs:
    """The wire pairs of ``params`` (without Action and Version)."""
    if not isinstance(params, dict):
        raise FormatError(f"parameters must be an object, not {type(params).__name__}")
    pairs: Pairs = []
    try:
        _flatten(params, contract().field("body"), "", pairs)
    except RecursionError:
        raise FormatError("parameters nested too deeply to be sent") from None
    return pairs


def _flatten(value: Any, shape: Field | None, prefix: str, pairs: Pairs) -> None:
    if isinstance(value, dict):
        for name, member_value in value.items():
            member = shape.members.get(name) if shape else None
            wire_name = member.wire_name if member else str(name)
            path = f"{prefix}.{wire_name}" if prefix else wire_name
            _flatten(member_value, member, path, pairs)
    elif isinstance(value, list):
        item = shape.item if shape else None
        for index, element in enumerate(value, 1):
            _flatten(element, item, f"{prefix}.{index}", pairs)
    else:
        pairs.append((prefix, encode_scalar(value)))


def encode_scalar(value: Any) -> str:
    """A scalar as the EC2 Query protocol writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def to_form(params: dict[str, Any]) -> str:
    """The form body botocore sends for ``params``, byte for byte: Action, Version, then params."""
    protocol = list(protocol_parameters().items())
    return urlencode(protocol + encode_pairs(params))


def parse_form(body: str | bytes) -> Pairs:
    """The name/value pairs of a form body, in order; blank values kept."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"{error.reason} at byte {error.start}"
            raise FormatError(f"form body is not UTF-8 ({reason})") from None
    try:
        return parse_qsl(body.strip(), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as error:
        raise FormatError(f"form body has a %-escape that is not UTF-8 ({error.reason})") from None


def split_protocol(pairs: Pairs) -> tuple[dict[str, str], Pairs]:
    """Action and Version (a later value wins, as with any repeated name) apart from the rest."""
    protocol_names = protocol_parameters()
    protocol = {name: value for name, value in pairs if name in protocol_names}
    return protocol, [(name, value) for name, value in pairs if name not in protocol_names]


def decode_pairs(pairs: Pairs) -> dict[str, Any]:
    """Parameters in their API shape from wire pairs (Action and Version already taken out)."""
    root: dict[str, Any] = {}
    for name, value in pairs:
        _insert(root, contract().field("body"), name.split("."), value)
    params: dict[str, Any] = _finish(root)
    return params


def from_form(body: str | bytes) -> dict[str, Any]:
    """The parameters of a form body, in their API (boto3) shape; Action and Version dropped."""
    return decode_pairs(split_protocol(parse_form(body))[1])


class _Indexed(dict[int, Any]):
    """A list being assembled from ``Name.N`` pairs, which may come in any order."""


def _insert(container: dict[str, Any], shape: Field, segments: list[str], value: str) -> None:
    member = shape.by_wire_name.get(segments[0])
    rest = segments[1:]
    if member is None or not _place(container, member.name, member, rest, value):
        container[".".join(segments)] = value  # not a parameter CreateImage has


def _place(container: dict[Any, Any], key: Any, shape: Field, rest: list[str], value: str) -> bool:
    """Put ``value`` under ``container[key]``; False when the pair does not fit the shape."""
    if shape.kind == "list":
        if not rest or not _INDEX.fullmatch(rest[0]) or shape.item is None:
            return _place_scalar(container, key, rest, value)
        items = container.setdefault(key, _Indexed())
        return isinstance(items, _Indexed) and _place(
            items, int(rest[0]), shape.item, rest[1:], value
        )
    if shape.kind == "structure":
        if not rest:
            return _place_scalar(container, key, rest, value)
        members = container.setdefault(key, {})
        if not isinstance(members, dict) or isinstance(members, _Indexed):
            return False
        _insert(members, shape, rest, value)
        return True
    return _place_scalar(container, key, rest, _decode_scalar(value, shape))


def _place_scalar(container: dict[Any, Any], key: Any, rest: list[str], value: Any) -> bool:
    if rest or isinstance(container.get(key), dict):
        return False
    container[key] = value
    return True


def _decode_scalar(value: str, shape: Field) -> Any:
    if shape.kind == "boolean" and value in ("true", "false"):
        return value == "true"
    if shape.kind == "integer" and _INTEGER.fullmatch(value):
        return int(value)
    return value


def _finish(value: Any) -> Any:
    if isinstance(value, _Indexed):
        return [_finish(value[index]) for index in sorted(value)]
    if isinstance(value, dict):
        return {key: _finish(member) for key, member in value.items()}
    return value
