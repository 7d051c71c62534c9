"""Breaking one rule at one site, keeping every other rule of the request satisfied.

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

from createimage_contract.schema._ecma import compile_pattern
from createimage_contract.schema._shapes import Shape, parameters

from ._examples import Draft
from ._sites import ANY_ITEM, Path, Site, member_schema
from ._spec import Spec, flatten
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


@cache
def breaker(site: Site) -> Break | None:
    """How to break ``site`` on the wire, or ``None`` when that is not possible."""
    if site.part == "query":
        return _protocol(site)
    if site.keyword == "type":
        return _type(site)
    builders: dict[str, Callable[[Site], Break | None]] = {
        "enum": _option,
        "const": _option,
        "minLength": _length,
        "maxLength": _length,
        "pattern": _pattern,
        "not": _negation,
        "minimum": _bound,
        "maximum": _bound,
        "maxItems": _too_many,
        "required": _missing,
        "additionalProperties": _unknown,
        "if": _conditional,
    }
    return builders[site.keyword](site)


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
    schema = member_schema("body", path)
    spec = flatten(schema)
    if "array" in spec.types:
        return st.lists(valid(spec.items), min_size=1, max_size=1)
    return valid(schema)


def _set(site: Site, values: st.SearchStrategy[Any]) -> Break:
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
    for condition, then in flatten(member_schema("body", parent_path)).conditionals:
        if name in then.get("properties", {}):
            for trigger in condition.get("required", []):
                parent.pop(trigger, None)


def _spec(site: Site) -> Spec:
    return flatten(member_schema("body", site.path))


# --- one breaker per keyword -----------------------------------------------------------------


def _protocol(site: Site) -> Break | None:
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


def _type(site: Site) -> Break | None:
    expected = site.value
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


def _option(site: Site) -> Break:
    options = site.value if site.keyword == "enum" else [site.value]
    return _set(site, _not_one_of(options))


def _length(site: Site) -> Break | None:
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


def _pattern(site: Site) -> Break:
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


def _negation(site: Site) -> Break:
    spec = _spec(site)
    if not site.value or site.value == {}:
        return _set(site, st.text(TEXT, max_size=24))  # a member that must be absent
    low, high, _ = lengths(spec)
    matches = matching(site.value["pattern"])
    return _set(site, matches.map(lambda s: s[: max(high, low)]))


def _bound(site: Site) -> Break:
    limit = site.value
    outside = limit - 1 if site.keyword == "minimum" else limit + 1
    step = -1 if site.keyword == "minimum" else 1
    return _set(
        site, st.one_of(st.just(outside), st.integers(1, 1000).map(lambda n: outside + step * n))
    )


def _too_many(site: Site) -> Break:
    spec, limit = _spec(site), site.value
    return _set(site, st.one_of(many(spec, limit + 1), many(spec, limit + 3)))


def _missing(site: Site) -> Break:
    names = site.value

    def apply(draw: st.DrawFn, draft: Draft) -> None:
        container = _ensure(draw, draft.body, site.path)
        for name in names:
            container.pop(name, None)
        if sends_nothing(container):  # the wire drops empty structures: give it something
            others = [
                n for n in flatten(member_schema("body", site.path)).properties if n not in names
            ]
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


def _unknown(site: Site) -> Break:
    shape = shape_at(site.path)

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


def shape_at(path: Path) -> Shape:
    """The wire shape of the member at ``path`` (``*`` for a list's item)."""
    shape = parameters()
    for step in path:
        item = shape.item if step == ANY_ITEM else shape.members[step].shape
        assert item is not None
        shape = item
    return shape


def _conditional(site: Site) -> Break:
    condition, then = site.value, site.schema.get("then", True)
    ((trigger, trigger_schema),) = condition["properties"].items()
    ((member, limits),) = then["properties"].items()
    own = flatten(member_schema("body", (*site.path, member)))
    low, high = limits.get("minimum"), limits.get("maximum")
    outside = []
    if low is not None and (own.minimum is None or low - 1 >= own.minimum):
        outside.append(integers(Spec(minimum=own.minimum, maximum=low - 1)))
    if high is not None and (own.maximum is None or high + 1 <= own.maximum):
        outside.append(integers(Spec(minimum=high + 1, maximum=own.maximum)))
    values = st.one_of(outside)

    def apply(draw: st.DrawFn, draft: Draft) -> None:
        container = _ensure(draw, draft.body, site.path)
        container[trigger] = trigger_schema["const"]
        container[member] = draw(values)

    return apply
