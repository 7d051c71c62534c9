"""What the contract says about one value, in the form the strategies draw from.

A field of the contract (``schema.Field``) carries every assertion about its value, gathered
through ``$ref`` and ``allOf``; the strategies need them as limits: the lengths, the alphabet,
the bounds, the options, the members. ``flatten`` reads a field's assertions into a ``Spec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from createimage_contract.schema import (
    ANY_ITEM,
    Assertion,
    Conditional,
    Constraint,
    Field,
    Part,
    Path,
    contract,
)

from . import _patterns


@dataclass
class Spec:
    types: set[str] = field(default_factory=set)
    options: list[Any] | None = None
    """The allowed values, from ``enum`` or ``const``."""
    min_length: int = 0
    max_length: int | None = None
    alphabet: str | None = None
    """Every character a string may have, from a character-class pattern."""
    regexes: list[str] = field(default_factory=list)
    """Other patterns the string must match (ECMA-262)."""
    forbidden: list[str] = field(default_factory=list)
    """Patterns the string must not match (``not`` of a pattern)."""
    never: bool = False
    """No value satisfies the schema (``not: {}``): the member must be absent."""
    minimum: int | None = None
    maximum: int | None = None
    properties: dict[str, Field] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    conditionals: list[Conditional] = field(default_factory=list)
    items: Field | None = None
    max_items: int | None = None


def field_at(path: Path, part: Part = "body") -> Field:
    """The contract's field at ``path`` (``*`` for a list's item)."""
    return contract().field(part, path)


@cache
def flatten(value: Field, extra: tuple[Assertion, ...] = ()) -> Spec:
    """What the contract asserts about ``value``, with ``extra`` assertions on top (the limits a
    condition adds), as limits to draw within."""
    limited = value.narrowed(extra) if extra else value
    for negated in limited.values_of("not"):
        if {a.keyword for a in negated.assertions} - {"pattern", "type"}:
            raise ValueError(f"the strategies cannot negate {negated!r}")
    patterns = limited.values_of("pattern")
    alphabets = [a for a in map(_patterns.alphabet, patterns) if a is not None]
    return Spec(
        types=set(limited.types),
        options=None if limited.options is None else list(limited.options),
        min_length=limited.limit("minLength") or 0,
        max_length=limited.limit("maxLength"),
        alphabet=_common(alphabets),
        regexes=[p for p in patterns if _patterns.alphabet(p) is None],
        forbidden=list(limited.forbidden_patterns),
        never=limited.never,
        minimum=limited.limit("minimum"),
        maximum=limited.limit("maximum"),
        properties=dict(limited.members),
        required=list(limited.required),
        conditionals=limited.values_of("if"),
        items=limited.item,
        max_items=limited.limit("maxItems"),
    )


def _common(alphabets: list[str]) -> str | None:
    """The characters every alphabet has, in the first one's order; ``None`` for none."""
    if not alphabets:
        return None
    first, *others = alphabets
    return "".join(c for c in first if all(c in other for other in others))


def limits_by_member(conditional: Conditional) -> dict[str, tuple[Assertion, ...]]:
    """What the ``then`` of a condition asserts about each member it names."""
    members = conditional.then.first("properties") if conditional.then else None
    if members is None:
        return {}
    return {name: node.assertions for name, node in members.named.items()}


def trigger(conditional: Conditional) -> tuple[str, Any]:
    """The member a condition is about and the value it asks for (``VolumeType`` is ``gp2``)."""
    ((name, node),) = conditional.condition.first("properties").named.items()
    return name, node.first("const")


def sites_of(rule_id: str) -> tuple[Constraint, ...]:
    """Where ``rule_id`` can be broken in what a request sends (Action, Version, the body):
    its constraints there. Headers and the method are the HTTP request's, left to ``lint``."""
    return tuple(c for c in contract().constraints_of(rule_id) if c.part in ("query", "body"))


__all__ = [
    "ANY_ITEM",
    "Spec",
    "field_at",
    "flatten",
    "limits_by_member",
    "sites_of",
    "trigger",
]
