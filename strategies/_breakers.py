"""Breaking one constraint with a drawn value, keeping every other rule of the request satisfied.

Each assertion keyword has one way to be broken, parametrized by the schema: a string one
character too long in the value's own alphabet, a character from outside a character class, a
value just outside an enum, a member taken away, a member CreateImage does not have. What a
keyword cannot break on the wire (a JSON type of a string member: on the wire every value is a
string) has no breaker, and the strategies do not offer it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from createimage_contract.schema import (
    ANY_ITEM,
    Conditional,
    Constraint,
    Path,
    compile_pattern,
)

from ._examples import Draft
from ._spec import Spec, field_at, flatten, limits_by_member, trigger
from ._values import TEXT, alphabet, avoider, integers, lengths, many, matching, valid

Break = Callable[[st.DrawFn, Draft], None]

# Strings that look like a boolean or an integer to a person but are not one to EC2.
NOT_BOOLEANS = ["maybe", "True", "FALSE", "1", "0", "yes", "", "true "]
NOT_INTEGERS = ["x", "1.5", "1e3", "", " 1", "0x10", "+1", "12abc", "\u0661"]
# Characters that often slip through a hand-written check of a character class.
FOREIGN = ["\n", "#", "*", "!", "+", ":", "\u00e4", "\t", "\x00", "\u00a0", "%", "&", "=", "~"]
UNKNOWN_NAMES = [
    "Reboot",
    "InstanceID",
    "name",
    "Tags",
    "DryRUN",
    "Size",
    "TagSpecifications.1.ResourceType",
    "BlockDeviceMappings.1.DeviceName",
]


# --- placing a value at a path of the body ---------------------------------------------------


def _ensure(draw: st.DrawFn, body: dict[str, Any], path: Path) -> Any:
    """The container at ``path`` in ``body``, created valid (lists not empty) where missing;
    an index is drawn for ``*``."""
    node: Any = body
    for depth, step in enumerate(path):
        here = path[: depth + 1]
        if step == ANY_ITEM:
            if not node:
                node.append(draw(_nonempty(here)))
            node = node[draw(st.integers(0, len(node) - 1))]
        else:
            if step not in node or not isinstance(node[step], dict | list) or node[step] == []:
                node[step] = draw(_nonempty(here))
            node = node[step]
    return node


@cache
def _nonempty(path: Path) -> st.SearchStrategy[Any]:
    value = field_at(path)
    if value.item is not None:
        return st.lists(valid(value.item), min_size=1, max_size=1)
    return valid(value)


def _set(site: Constraint, values: st.SearchStrategy[Any]) -> Break:
    """A break that sets the value at the site's path to one drawn from ``values``."""

    def apply(draw: st.DrawFn, draft: Draft) -> None:
        parent = _ensure(draw, draft.body, site.path[:-1])
        name = site.path[-1]
        if name == ANY_ITEM:
            if not parent:
                parent.append(None)
            parent[draw(st.integers(0, len(parent) - 1))] = draw(values)
        else:
            parent[name] = draw(values)
            _drop_conditions(site.path[:-1], name, parent)

    return apply


def _drop_conditions(parent_path: Path, name: str, parent: dict[str, Any]) -> None:
    """A member whose limits depend on another (VolumeSize on VolumeType) is broken alone."""
    for conditional in flatten(field_at(parent_path)).conditionals:
        if name in limits_by_member(conditional):
            parent.pop(trigger(conditional)[0], None)


def _spec(site: Constraint) -> Spec:
    return flatten(field_at(site.path))


# --- one breaker per keyword -----------------------------------------------------------------


def break_protocol(site: Constraint) -> Break | None:
    if site.keyword == "required":
        names = site.value

        def remove(draw: st.DrawFn, draft: Draft) -> None:
            for name in names:
                draft.query.pop(name, None)

        return remove
    if site.keyword != "const":
        return None
    name = site.path[-1]
    wrong = _not_one_of([site.value])

    def replace(draw: st.DrawFn, draft: Draft) -> None:
        draft.query[name] = draw(wrong)

    return replace


def break_type(site: Constraint) -> Break | None:
    (expected,) = site.value
    if not site.path or expected == "string":
        return None  # the whole body, or a JSON type that the wire cannot carry
    if expected in ("object", "array"):
        return _set(site, st.sampled_from(["x", "", "true"]))
    if expected == "boolean":
        return _set(site, _not_one_of(["true", "false"], NOT_BOOLEANS))
    return _set(site, st.sampled_from(NOT_INTEGERS))


def _not_one_of(options: list[Any], examples: list[str] | None = None) -> st.SearchStrategy[str]:
    """Strings that are none of ``options``: near misses first, then anything."""
    texts = [str(o) for o in options]
    near = {
        v
        for o in texts
        for v in (
            o.upper(),
            o.lower(),
            o.capitalize(),
            o + "s",
            o[:-1],
            " " + o,
            o + "\n",
            o.replace("-", "_"),
        )
    }
    near |= set(examples or [])
    near -= set(texts)
    anything = st.text(TEXT, max_size=12).map(lambda s: s if s not in texts else s + "x")
    return st.one_of(st.sampled_from(sorted(near)), anything)


def break_option(site: Constraint) -> Break:
    options = list(site.value) if site.keyword == "enum" else [site.value]
    return _set(site, _not_one_of(options))


def break_length(site: Constraint) -> Break | None:
    spec = _spec(site)
    low, high, _ = lengths(spec)
    if site.keyword == "minLength":
        if low == 0:
            return None
        bad = st.one_of(st.integers(0, low - 1), st.just(low - 1))
    else:
        bad = st.one_of(st.just(high + 1), st.integers(high + 1, high + 20))
    characters = alphabet(spec)
    repair = avoider(spec.forbidden)
    texts = bad.flatmap(lambda n: st.text(characters, min_size=n, max_size=n)).map(repair)
    return _set(site, texts)


def break_pattern(site: Constraint) -> Break:
    spec = _spec(site)
    if spec.alphabet is not None:
        return _set(site, _with_foreign_character(spec))
    return _set(site, _mutated(site.value))


def _with_foreign_character(spec: Spec) -> st.SearchStrategy[str]:
    low, high, _ = lengths(spec)
    allowed = spec.alphabet or ""
    foreign = st.one_of(
        st.sampled_from([c for c in FOREIGN if c not in allowed]),
        st.characters(exclude_characters=allowed, exclude_categories=["Cs"]),
    )

    texts = st.text(st.sampled_from(allowed), min_size=max(low, 1), max_size=high)
    anywhere = st.booleans()  # False, the simplest, puts it last

    @st.composite
    def build(draw: st.DrawFn) -> str:
        text = draw(texts)
        last = len(text) - 1
        position = draw(st.integers(0, last)) if draw(anywhere) else last
        return text[:position] + draw(foreign) + text[position + 1 :]

    return build()


def _mutated(pattern: str) -> st.SearchStrategy[str]:
    """Strings near ones that match ``pattern`` and do not: each mutation of a matching string
    is computed, and the strategy picks among those that no longer match."""
    search = compile_pattern(pattern).search

    def variants(text: str) -> list[str]:
        candidates = [
            text[:-1],
            text + text[-1:],
            text.upper(),
            text + "\n",
            " " + text,
            text[:1] + "g" + text[2:],
            text[:-1] + "G",
            text.replace("-", "_"),
            "",
        ]
        return [c for c in dict.fromkeys(candidates) if search(c) is None]

    matches = matching(pattern)

    @st.composite
    def build(draw: st.DrawFn) -> str:
        # An index, not flatmap(sampled_from): that built a new strategy on every draw, which
        # Hypothesis validates and unwraps each time. The first candidate is the simplest, as
        # with sampled_from.
        candidates = variants(draw(matches))
        assume(candidates)  # as sampled_from([]) would: none of them breaks the pattern
        return candidates[draw(st.integers(0, len(candidates) - 1))]

    return build()


def break_forbidden(site: Constraint) -> Break:
    spec = _spec(site)
    forbidden = site.value.first("pattern")
    if forbidden is None:  # not: {}, a member that must be absent
        return _set(site, st.text(TEXT, max_size=24))
    low, high, _ = lengths(spec)
    matches = matching(forbidden)
    return _set(site, matches.map(lambda s: s[: max(high, low)]))


def break_bound(site: Constraint) -> Break:
    limit = site.value
    outside = limit - 1 if site.keyword == "minimum" else limit + 1
    step = -1 if site.keyword == "minimum" else 1
    return _set(
        site, st.one_of(st.just(outside), st.integers(1, 1000).map(lambda n: outside + step * n))
    )


def break_list(site: Constraint) -> Break:
    spec, limit = _spec(site), site.value
    return _set(site, st.one_of(many(spec, limit + 1), many(spec, limit + 3)))


def break_required(site: Constraint) -> Break:
    names = site.value

    def apply(draw: st.DrawFn, draft: Draft) -> None:
        container = _ensure(draw, draft.body, site.path)
        for name in names:
            container.pop(name, None)
        if sends_nothing(container):  # the wire drops empty structures: give it something
            others = [n for n in field_at(site.path).members if n not in names]
            other = draw(st.sampled_from(others))
            container[other] = draw(_nonempty((*site.path, other)))

    return apply


def sends_nothing(value: Any) -> bool:
    """Whether ``value`` is only empty lists and structures, which the wire cannot carry."""
    if isinstance(value, dict):
        return all(sends_nothing(member) for member in value.values())
    if isinstance(value, list):
        return all(sends_nothing(item) for item in value)
    return False


def break_members(site: Constraint) -> Break:
    shape = field_at(site.path)

    def unknown(name: str) -> bool:
        return name not in shape.members and name.split(".")[0] not in shape.by_wire_name

    invented = st.from_regex(r"\A[A-Z][A-Za-z]{2,15}\Z", alphabet=TEXT).map(
        lambda n: n if unknown(n) else n + "Xyz"
    )
    names = st.one_of(st.sampled_from([n for n in UNKNOWN_NAMES if unknown(n)]), invented)

    def apply(draw: st.DrawFn, draft: Draft) -> None:
        container = _ensure(draw, draft.body, site.path)
        container[draw(names)] = draw(st.text(TEXT, max_size=12))

    return apply


def break_range(site: Constraint) -> Break:
    conditional: Conditional = site.value
    name, value = trigger(conditional)
    ((member, limits),) = limits_by_member(conditional).items()
    own = flatten(field_at((*site.path, member)))
    bound = {a.keyword: a.value for a in limits}
    low, high = bound.get("minimum"), bound.get("maximum")
    outside = []
    if low is not None and (own.minimum is None or low - 1 >= own.minimum):
        outside.append(integers(Spec(minimum=own.minimum, maximum=low - 1)))
    if high is not None and (own.maximum is None or high + 1 <= own.maximum):
        outside.append(integers(Spec(minimum=high + 1, maximum=own.maximum)))
    values = st.one_of(outside)

    def apply(draw: st.DrawFn, draft: Draft) -> None:
        container = _ensure(draw, draft.body, site.path)
        container[name] = value
        container[member] = draw(values)

    return apply
