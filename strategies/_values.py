"""Strategies for valid values, built from the schema by construction and biased to its limits.

Nothing here draws a value and throws it away: lengths, alphabets, bounds and members come from
the schema, and a string that happens to hit a forbidden pattern (a tag key starting with
``aws:``) is repaired, not redrawn. Each strategy has a plain branch first, so that a failing
example shrinks to the shortest, simplest value, and boundary branches (the shortest and the
longest allowed, every special character of an alphabet, the full list) so that limits are
reached often.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import strategies as st

from createimage_contract.schema import Field, compile_pattern, predicate

from ._spec import Spec, flatten, limits_by_member

UNBOUNDED_TEXT = 24
"""Longest string drawn where the schema sets no maximum (no limit to reach there)."""
UNBOUNDED_LIST = 3
"""Most items drawn where the schema sets no maxItems."""
TEXT = st.characters(exclude_categories=["Cs"])  # any character that UTF-8 can carry


@cache
def valid(value: Field, *, lean: bool = False) -> st.SearchStrategy[Any]:
    """Values that satisfy the field ``value`` of the contract. Lean values are short and skip
    the boundary branches: for the many items of a full list."""
    return from_spec(flatten(value), lean=lean)


LEAN_TEXT = 8
"""Longest string beyond its minimum in a lean value."""


def from_spec(spec: Spec, *, lean: bool = False) -> st.SearchStrategy[Any]:
    if spec.never:
        raise ValueError("no value satisfies this schema")
    if spec.options is not None:
        return st.sampled_from(spec.options)
    kind = next(iter(spec.types)) if len(spec.types) == 1 else "string"
    builders: dict[str, Callable[[Spec, bool], st.SearchStrategy[Any]]] = {
        "boolean": lambda _, __: st.booleans(),
        "integer": lambda spec, _: integers(spec),
        "string": strings,
        "object": objects,
        "array": arrays,
    }
    return builders[kind](spec, lean)


def integers(spec: Spec) -> st.SearchStrategy[int]:
    low, high = spec.minimum, spec.maximum
    plain = st.integers(low, high)
    if low is None or high is None:
        return plain
    return at_limits(plain, lambda _, limit: limit, low, high)


def lengths(spec: Spec) -> tuple[int, int, bool]:
    """The length range of a string, and whether its top is a real limit."""
    if spec.max_length is None:
        return spec.min_length, spec.min_length + UNBOUNDED_TEXT, False
    return spec.min_length, spec.max_length, True


def alphabet(spec: Spec) -> st.SearchStrategy[str]:
    return st.sampled_from(spec.alphabet) if spec.alphabet is not None else TEXT


def strings(spec: Spec, lean: bool = False) -> st.SearchStrategy[str]:
    if spec.regexes:
        return regex_strings(spec)
    low, high, limited = lengths(spec)
    characters = alphabet(spec)
    repair = avoider(spec.forbidden)
    if lean:
        return st.text(characters, min_size=low, max_size=min(high, low + LEAN_TEXT)).map(repair)
    texts = st.text(characters, min_size=low, max_size=high)
    if limited:
        texts = at_limits(
            texts,
            lambda text, n: fit(text, n, n, spec.alphabet[0] if spec.alphabet else "a"),
            low,
            high,
        )
    specials = "".join(c for c in spec.alphabet or "" if not c.isalnum())
    if specials:  # every special character of the alphabet, in one value
        texts |= st.permutations(specials).map(lambda cs: fit("".join(cs), low, high))
    return texts.map(repair) if spec.forbidden else texts


def at_limits(
    values: st.SearchStrategy[Any], resize: Callable[[Any, int], Any], low: int, high: int
) -> st.SearchStrategy[Any]:
    """``values``, a third of them moved to the lowest and a third to the highest limit.

    The choice is drawn after the value, and "as drawn" is its simplest option, so that a
    shrink first drops the move and then shrinks the value as usual: a boundary drawn as a
    separate branch of ``one_of`` would keep a failing example stuck at the longest value.
    """
    moves: st.SearchStrategy[int | None] = st.sampled_from([None, low, high])

    @st.composite
    def moved(draw: st.DrawFn) -> Any:  # measured: half the overhead of tuples(...).map(...)
        value = draw(values)
        limit = draw(moves)
        return value if limit is None else resize(value, limit)

    return moved()


def regex_strings(spec: Spec) -> st.SearchStrategy[str]:
    if len(spec.regexes) > 1 or spec.alphabet or spec.max_length or spec.min_length:
        raise ValueError(f"the strategies cannot combine these string constraints: {spec}")
    return matching(spec.regexes[0])


def matching(pattern: str) -> st.SearchStrategy[str]:
    """Strings that fully match ``pattern`` (ECMA-262, as the schema writes it).

    The alphabet is given because Hypothesis's default, ``characters(codec="utf-8")``, is the
    same set of characters but tabulates the codec over all of Unicode on first use: about a
    second of every run, as its cache lives in the run's private home.
    """
    return st.from_regex(compile_pattern(pattern), fullmatch=True, alphabet=TEXT)


def fit(text: str, low: int, high: int, filler: str = "a") -> str:
    """``text`` cut or padded to a length between ``low`` and ``high``."""
    return (text + filler * low)[: max(low, min(len(text), high))]


def avoider(patterns: list[str]) -> Callable[[str], str]:
    """A repair: a string that matches a forbidden pattern gets its first character changed."""
    searches = [compile_pattern(p).search for p in patterns]

    def repair(text: str) -> str:
        for replacement in "x_0":
            if not any(search(text) for search in searches):
                return text
            text = replacement + text[1:]
        return text

    return repair


def arrays(spec: Spec, lean: bool = False) -> st.SearchStrategy[list[Any]]:
    top = UNBOUNDED_LIST if spec.max_items is None else min(spec.max_items, UNBOUNDED_LIST)
    plain = items(spec, 0, 1 if lean else top)
    if lean or spec.max_items is None:
        return plain
    return st.one_of(plain, st.just([]), many(spec, spec.max_items))


def items(spec: Spec, low: int, high: int, *, lean: bool = False) -> st.SearchStrategy[list[Any]]:
    """Lists of ``low`` to ``high`` items, distinct in their first required member (tag keys,
    resource types), as EC2 wants them."""
    item = valid(spec.items, lean=lean)
    item_spec = flatten(spec.items)
    if not item_spec.required:
        return st.lists(item, min_size=low, max_size=high)
    name = item_spec.required[0]
    options = flatten(item_spec.properties[name]).options
    if options is not None:  # no more items than distinct values, or the list would retry
        high = min(high, len(options))
    return st.lists(item, min_size=low, max_size=high, unique_by=lambda value: value[name])


def many(spec: Spec, count: int) -> st.SearchStrategy[list[Any]]:
    """``count`` items for a list at (or past) its limit: one lean item drawn, then numbered in
    its first required member (``0-k``, ``1-k``, ...) so that the items stay distinct and the
    example stays small enough to read and to shrink."""
    item_spec = flatten(spec.items)
    name = item_spec.required[0] if item_spec.required else None
    member = flatten(item_spec.properties[name]) if name else None
    if name is None or member is None or member.options is not None or member.regexes:
        return items(spec, count, count, lean=True)
    low, high, _ = lengths(member)
    repair = avoider(member.forbidden)

    def numbered(item: dict[str, Any]) -> list[dict[str, Any]]:
        return [{**item, name: repair(fit(f"{i}-{item[name]}", low, high))} for i in range(count)]

    return valid(spec.items, lean=True).map(numbered)


def members(spec: Spec, lean: bool = False) -> dict[str, st.SearchStrategy[Any]]:
    """Strategies for the members that can have a value (not the ones that must be absent)."""
    return {
        name: valid(schema, lean=lean)
        for name, schema in spec.properties.items()
        if not flatten(schema).never
    }


def objects(spec: Spec, lean: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    available = members(spec, lean)
    constrained = {name for c in spec.conditionals for name in limits_by_member(c)}
    required = {n: s for n, s in available.items() if n in spec.required}
    optional = {
        n: s for n, s in available.items() if n not in spec.required and n not in constrained
    }
    plain = st.fixed_dictionaries(required, optional=optional)
    if not constrained:
        return plain
    return _conditional(spec, plain, sorted(constrained & set(available)))


def _conditional(
    spec: Spec, plain: st.SearchStrategy[dict[str, Any]], dependent: list[str]
) -> st.SearchStrategy[dict[str, Any]]:
    """Members whose limits depend on others (VolumeSize on VolumeType) are drawn last."""
    conditions = [(predicate(c.condition), limits_by_member(c)) for c in spec.conditionals]
    built: dict[tuple[str, tuple[int, ...]], st.SearchStrategy[Any]] = {}

    def member(name: str, applying: tuple[int, ...]) -> st.SearchStrategy[Any]:
        """The member's strategy under the conditions that hold, built once for each set."""
        if (name, applying) not in built:
            limits = tuple(a for i in applying for a in conditions[i][1][name])
            built[name, applying] = from_spec(flatten(spec.properties[name], limits))
        return built[name, applying]

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        value = draw(plain)
        for name in dependent:
            if name in spec.required or draw(st.booleans()):
                applying = tuple(
                    index
                    for index, (holds, limits) in enumerate(conditions)
                    if name in limits and holds(value)
                )
                value[name] = draw(member(name, applying))
        return value

    return build()
