"""The shapes of CreateImage's parameters, read off the request schema.

The wire format needs less than the full schema: which members are structures or lists, their
wire names, and which scalars are booleans or integers. This module derives exactly that, once,
so that ``to_form`` and ``from_form`` follow the schema instead of a second copy of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from . import _documents

Kind = Literal["structure", "list", "boolean", "integer", "string"]


@dataclass(frozen=True)
class Member:
    name: str
    wire_name: str
    shape: Shape


@dataclass(frozen=True)
class Shape:
    kind: Kind
    members: dict[str, Member] = field(default_factory=dict)
    """API name -> member, for structures."""
    by_wire_name: dict[str, Member] = field(default_factory=dict)
    item: Shape | None = None
    """The element shape, for lists."""


def _kind(schema: dict[str, Any]) -> Kind:
    kinds: dict[Any, Kind] = {"object": "structure", "array": "list", "boolean": "boolean"}
    kinds["integer"] = "integer"
    return kinds.get(schema.get("type"), "string")


def _shape(document: dict[str, Any], schema: dict[str, Any]) -> Shape:
    while "$ref" in schema:
        schema = _documents.resolve(document, schema["$ref"])
    kind = _kind(schema)
    if kind == "list":
        return Shape(kind, item=_shape(document, schema["items"]))
    if kind != "structure":
        return Shape(kind)
    members = {
        name: Member(name, sub.get("x-wire-name", name), _shape(document, sub))
        for name, sub in schema.get("properties", {}).items()
    }
    return Shape(kind, members, {m.wire_name: m for m in members.values()})


@cache
def parameters() -> Shape:
    """The shape of CreateImage's parameters (the request's ``body``)."""
    document = _documents.load(_documents.REQUEST)
    return _shape(document, document["properties"]["body"])


@cache
def protocol_parameters() -> dict[str, str]:
    """The protocol parameters and the one value each may have: Action and Version."""
    document = _documents.load(_documents.REQUEST)
    properties = document["$defs"]["ProtocolParameters"]["properties"]
    return {name: schema["const"] for name, schema in properties.items()}
