"""Each kind of constraint (an assertion keyword of the contract) and what the strategies do
with it, in one table: how a drawn value breaks it (``_breakers``), which near misses break it
and which values sit exactly at its limit (``_near``). How it is checked is the schema's own
(``schema.predicate``), and how a valid value is drawn within it is ``Spec``'s and ``_values``'s.

A keyword the model knows and this table does not is an error when it is first used: a new
constraint kind is added here, once, and every rule that uses it gets its breaks, its near
misses and its limits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from createimage_contract.schema import Constraint

from . import _breakers, _near
from ._breakers import Break
from ._near import Miss

Breaker = Callable[[Constraint], Break | None]
Planner = Callable[[Constraint, Any], list[Miss]]


@dataclass(frozen=True)
class ConstraintKind:
    breaker: Breaker
    """A value drawn to break it (``None``: the wire cannot break it)."""
    near_misses: Planner
    """The values just on the wrong side, that real implementations take."""
    limits: Planner
    """The values exactly at its limit, on the right side, that they refuse."""


KINDS: dict[str, ConstraintKind] = {
    "type": ConstraintKind(_breakers.break_type, _near.type_misses, _near.no_limits),
    "enum": ConstraintKind(_breakers.break_option, _near.option_misses, _near.each_option),
    "const": ConstraintKind(_breakers.break_option, _near.option_misses, _near.each_option),
    "minLength": ConstraintKind(_breakers.break_length, _near.length_misses, _near.length_limits),
    "maxLength": ConstraintKind(_breakers.break_length, _near.length_misses, _near.length_limits),
    "pattern": ConstraintKind(_breakers.break_pattern, _near.pattern_misses, _near.whole_alphabet),
    "minimum": ConstraintKind(_breakers.break_bound, _near.bound_misses, _near.no_limits),
    "maximum": ConstraintKind(_breakers.break_bound, _near.bound_misses, _near.no_limits),
    "maxItems": ConstraintKind(_breakers.break_list, _near.too_many, _near.full_list),
    "required": ConstraintKind(_breakers.break_required, _near.missing, _near.no_limits),
    "not": ConstraintKind(
        _breakers.break_forbidden, _near.forbidden_misses, _near.almost_forbidden
    ),
    "additionalProperties": ConstraintKind(
        _breakers.break_members, _near.unknown_members, _near.no_limits
    ),
    "if": ConstraintKind(_breakers.break_range, _near.range_misses, _near.range_limits),
}


def kind_of(site: Constraint) -> ConstraintKind:
    try:
        return KINDS[site.keyword]
    except KeyError:
        raise ValueError(f"the strategies have no constraint kind {site.keyword!r}") from None


@cache
def breaker(site: Constraint) -> Break | None:
    """How a drawn value breaks ``site`` on the wire, or ``None`` when that is not possible."""
    if site.part == "query":  # Action and Version, outside the body's shapes
        return _breakers.break_protocol(site)
    return kind_of(site).breaker(site)


def misses(site: Constraint, current: Any) -> list[Miss]:
    """Every near miss of ``site``; ``current`` is the valid value there."""
    return kind_of(site).near_misses(site, current)


def boundaries(site: Constraint, current: Any) -> list[Miss]:
    """The values exactly at the limits of ``site``, which a service must accept."""
    return kind_of(site).limits(site, current)
