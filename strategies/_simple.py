"""The simplest valid values of the contract's fields, deterministically: the base that the
planned requests (near misses, values at the limits) change in one way each."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from createimage_contract.schema import ANY_ITEM, Path

from . import _patterns
from ._spec import Spec, field_at, flatten
from ._values import UNBOUNDED_LIST, avoider, fit, lengths


@cache
def simplest(path: Path, index: int = 0) -> Any:
    """A valid value for the member at ``path``, as simple as can be, the ``index``-th of a
    list: distinct from its neighbours in its first required member."""
    spec = flatten(field_at(path))
    if spec.options is not None:
        return spec.options[index % len(spec.options)]
    kind = next(iter(spec.types)) if len(spec.types) == 1 else "string"
    if kind == "boolean":
        return False
    if kind == "integer":  # 1, unless the bounds say otherwise
        low = 1 if spec.minimum is None else max(spec.minimum, 1)
        return low if spec.maximum is None else min(low, spec.maximum)
    if kind == "array":
        return []
    if kind == "object":
        return object_of(path, spec, index)
    if spec.regexes:
        return _patterns.render(_patterns.parse(spec.regexes[0]))
    low, high, _ = lengths(spec)
    pad = spec.alphabet[0] if spec.alphabet else "k"
    return avoider(spec.forbidden)(fit(f"{pad}{index + 1}", max(low, 1), high, pad))


def object_of(path: Path, spec: Spec, index: int) -> dict[str, Any]:
    names = spec.required or [
        next(
            n
            for n, s in spec.properties.items()
            if not flatten(s).never and flatten(s).types & {"string", "boolean"}
        )
    ]
    return {name: simplest((*path, name), index) for name in names}


def filled(path: Path, index: int) -> Any:
    """``simplest``, with one item in a list: a value the wire carries."""
    value = copy.deepcopy(simplest(path, index))
    if value == []:
        value.append(copy.deepcopy(simplest((*path, ANY_ITEM), index)))
    return value


def items_of(item_path: Path, count: int) -> list[Any]:
    return [copy.deepcopy(simplest(item_path, i)) for i in range(count)]


def list_size(list_path: Path) -> int:
    """How many items a full list at ``list_path`` has: its maxItems, or as many as its items
    can be distinct (two resource types), or a few."""
    spec = flatten(field_at(list_path))
    if spec.max_items is not None:
        return spec.max_items
    item = flatten(spec.items)
    if item.required:
        options = flatten(item.properties[item.required[0]]).options
        if options is not None:
            return len(options)
    return UNBOUNDED_LIST
