"""The answers of CreateImage (and DescribeImages), typed, from ``responses.schema.json``.

The checks and the reference implementation read these shapes, not the document: the root
element and its namespace, the status, the members a whole answer has (as paths of local
names), and the patterns of the ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any

from . import _documents

ResponsePath = tuple[str, ...]


@dataclass(frozen=True)
class Requirement:
    """A member a whole answer has, as a path of local names; ``filled``: with some text."""

    path: ResponsePath
    filled: bool


@dataclass(frozen=True)
class ResponseShape:
    """One answer: its root element, namespace (``None``: none), status (``None``: any 4xx)
    and the members it must have."""

    name: str
    root: str
    namespace: str | None
    tolerated_namespace: str | None
    """A namespace that is a warning, not an error (the same without its trailing slash)."""
    status: int | None
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class Responses:
    """Every answer's shape, and what all answers share."""

    shapes: MappingProxyType[str, ResponseShape]
    content_type: str
    """The content type EC2 sends."""
    throttling_codes: frozenset[str]
    """Error codes that mean "slow down", retried with backoff as a 503 is."""
    image_id_pattern: str
    request_id_pattern: str
    """The form EC2's request ids have (a UUID): a convention, not a requirement."""


@cache
def responses() -> Responses:
    document = _documents.load(_documents.RESPONSES)
    definitions = document["$defs"]
    shapes = {
        name: _shape(document, name, definition)
        for name, definition in definitions.items()
        if "x-xml-root" in definition
    }
    return Responses(
        MappingProxyType(shapes),
        document["x-content-type"],
        frozenset(document["x-throttling-codes"]),
        definitions["ImageId"]["pattern"],
        definitions["RequestId"]["x-expected-pattern"],
    )


def _shape(document: Any, name: str, definition: dict[str, Any]) -> ResponseShape:
    status = definition.get("x-status")
    return ResponseShape(
        name,
        definition["x-xml-root"],
        definition["x-xml-namespace"],
        definition.get("x-xml-namespace-tolerated"),
        status if isinstance(status, int) else None,
        tuple(_requirements(document, definition, ())),
    )


def _requirements(document: Any, schema: dict[str, Any], path: ResponsePath) -> list[Requirement]:
    """The required members below ``schema``, to their leaves."""
    found: list[Requirement] = []
    for name in schema.get("required", []):
        member = _resolved(document, schema["properties"][name])
        below = _requirements(document, member, (*path, name))
        filled = member.get("type") == "string" and member.get("minLength", 0) > 0
        found += below or [Requirement((*path, name), filled)]
    return found


def _resolved(document: Any, schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _documents.resolve(document, schema["$ref"])
    return schema
