"""Near misses: for each assertion of the schema, the values just on the wrong side of it that
real implementations accept, and the values just on the right side that they refuse.

Each assertion keyword has its kinds of near miss, computed from the keyword's value and the
member's other constraints, never written per rule:

- ``pattern``: each character class broken by a case flip, by a character just outside each of
  its ranges, by a Unicode letter or digit and a full-width one where ASCII is meant; the
  anchors by a trailing newline (Python's ``$`` accepts it) and a leading or trailing space;
  fixed counts by the lengths around and between them (7, 9, 12, 16, 18 for ``{8}|{17}``);
- ``minLength``/``maxLength``: one character too few or too many, counted in characters;
- ``maxItems``: one item too many;
- ``enum``/``const``: a case change, surrounding whitespace, empty, and the values the same
  enum has elsewhere in EC2 (``x-other-values``);
- ``type``: the spellings people expect a boolean or an integer to have (``True``, ``1``,
  ``+5``, ``1.0``, ...), and a scalar where a list or a structure belongs;
- ``minimum``/``maximum``: one past the bound;
- ``not``: every way to match a forbidden pattern (``aws:``, ``AWS:``, ``aWs:``, ...);
- ``required``: the member left out; ``additionalProperties``: a member CreateImage does not
  have (a real one in another case, a plural API name on the wire, an invented one);
- ``if``/``then``: one past each end of the range the condition sets.

A fault inside a list is also placed at the first, a middle and the last item of a full list
(the second tag specification, the 50th tag), and each rule is broken once more with
``DryRun=true``, where the validation error must win. On the passing side, every limit is
reached exactly: the shortest and longest values (the longest also in multi-byte characters,
because limits count characters, not bytes), a full list, each allowed value.

``plan`` and ``plan_valid`` turn these into requests, deterministically: every run sends each of
them, whatever its seed.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from createimage_contract.schema import compile_pattern

from . import _patterns
from ._breakers import sends_nothing, shape_at
from ._examples import Draft, Example, NearMiss, Service, UniqueNames, finish, outcome_member
from ._sites import ANY_ITEM, Path, Site, member_schema, sites_of
from ._spec import Spec, flatten
from ._values import UNBOUNDED_LIST, avoider, fit, lengths

Edit = Callable[[Any, Any], None]
"""Changes a container (an object, or a list) at a key (a member name, or an index)."""


@dataclass(frozen=True)
class Miss:
    kind: str
    edit: Edit


def setting(value: Any) -> Edit:
    def edit(container: Any, key: Any) -> None:
        container[key] = copy.deepcopy(value)

    return edit


def _values(kind: str, values: list[Any]) -> list[Miss]:
    distinct: list[Any] = []
    for value in values:
        if value not in distinct:
            distinct.append(value)
    return [Miss(kind, setting(value)) for value in distinct]


# Spellings of a boolean and an integer that people expect to work and EC2 does not take: the
# wire has exactly true/false and decimal digits.
BOOLEAN_MISSES = {
    "case": ["True", "TRUE", "False"],
    "number": ["1", "0"],
    "word": ["yes"],
    "empty": [""],
    "whitespace": ["true ", " false"],
}
INTEGER_MISSES = {
    "sign": ["+5"],
    "exponent": ["1e3"],
    "decimal point": ["1.0"],
    "empty": [""],
    "whitespace": [" 5"],
    "Unicode digit": ["\u0663"],
    "hexadecimal": ["0x10"],
}
UNICODE_LETTERS = ("\u00e9", "\uff41")  # é, and a full-width a
UNICODE_DIGITS = ("\u0663", "\uff11")  # Arabic-Indic three, and a full-width 1
MARKUP = ("<", "&")
"""Characters an answer must escape: a service that echoes input into XML breaks on them."""
MULTI_BYTE = "\u00e9\u00fc\u20ac\u65e5"
"""Characters of two and three bytes in UTF-8, one UTF-16 unit each, for limits at their top."""
INVENTED_MEMBER = "Reboot"
DRY_RUN_KIND = "with DryRun=true"


def site_label(site: Site) -> str:
    """The site as the coverage table names it: ``/TagSpecifications/*/Tags/*/Key maxLength``."""
    where = "/".join(site.path)
    text = f"{'' if site.part == 'body' else site.part + ':'}/{where} {site.keyword}"
    if site.keyword == "if":
        ((trigger, condition),) = site.value["properties"].items()
        text += f" {trigger}={condition['const']}"
    return text


# --- the misses of each keyword ----------------------------------------------------------------


def misses(site: Site, current: Any) -> list[Miss]:
    """Every near miss of ``site``, on the wrong side; ``current`` is the valid value there."""
    builders: dict[str, Callable[[Site, Any], list[Miss]]] = {
        "pattern": _pattern,
        "minLength": _length,
        "maxLength": _length,
        "maxItems": _too_many,
        "enum": _option,
        "const": _option,
        "type": _type,
        "minimum": _bound,
        "maximum": _bound,
        "not": _negation,
        "required": _missing,
        "additionalProperties": _unknown,
        "if": _conditional,
    }
    return builders[site.keyword](site, current)


def _spec(site: Site) -> Spec:
    return flatten(member_schema(site.part, site.path))


def _pattern(site: Site, current: Any) -> list[Miss]:
    pattern: str = site.value
    star = _patterns.is_class_star(pattern)
    base = str(current) if star else _patterns.render(_patterns.parse(pattern))

    def replaced(char_class: _patterns.CharClass, char: str) -> str:
        if star:
            return char + base[1:]
        return _patterns.with_class_char(pattern, char_class, char)

    found: list[tuple[str, str]] = []
    for char_class in _patterns.classes(_patterns.parse(pattern)):
        found += [(kind, replaced(char_class, c)) for kind, c in _class_misses(char_class)]
    found += [("trailing newline", base + "\n"), ("leading space", " " + base)]
    found += [("trailing space", base + " ")]
    found += [("length around the allowed", text) for _, text in _patterns.other_counts(pattern)]
    return _breaking(found, pattern, _spec(site))


def _class_misses(char_class: _patterns.CharClass) -> list[tuple[str, str]]:
    """Characters that break ``char_class``, by kind: a case flip, just outside a range, a
    Unicode letter or digit where ASCII is meant, an XML special character."""
    if not char_class.ranges or char_class.negated:
        return []
    allowed = [chr(c) for lo, hi in char_class.ranges for c in range(ord(lo), ord(hi) + 1)]
    flips = [c.swapcase() for c in allowed if c.isalpha() and not char_class.contains(c.swapcase())]
    outside = [
        chr(code)
        for lo, hi in char_class.ranges
        for code in (ord(lo) - 1, ord(hi) + 1)
        if 0x20 <= code < 0x7F and not char_class.contains(chr(code))
    ]
    letters = any(c.isascii() and c.isalpha() for c in allowed)
    digits = any(c.isascii() and c.isdigit() for c in allowed)
    found = [("case flip", c) for c in flips[:1]]
    found += [("character just outside the class", c) for c in outside]
    found += [("Unicode letter", c) for c in UNICODE_LETTERS if letters]
    found += [("Unicode digit", c) for c in UNICODE_DIGITS if digits]
    found += [("XML special character", c) for c in MARKUP]
    return [(kind, c) for kind, c in found if not char_class.contains(c)]


def _breaking(found: list[tuple[str, str]], pattern: str, spec: Spec) -> list[Miss]:
    """The candidates that really break ``pattern`` and keep the member's length limits (so
    that they break nothing else), each value once."""
    search = compile_pattern(pattern).search
    low, high, _ = lengths(spec)
    kept: dict[str, str] = {}
    for kind, text in found:
        if search(text) is None and low <= len(text) <= high and text not in kept:
            kept[text] = kind
    return [Miss(kind, setting(text)) for text, kind in kept.items()]


def _length(site: Site, current: Any) -> list[Miss]:
    spec, limit = _spec(site), site.value
    if site.keyword == "minLength":
        return (
            []
            if limit == 0
            else _values("one character too few", [_text(spec, limit - 1, current)])
        )
    return _values("one character too many", [_text(spec, limit + 1, current)])


def _text(spec: Spec, length: int, current: Any, characters: str | None = None) -> str:
    """``length`` characters (of ``characters``, or the member's alphabet) ending like
    ``current``, where a run's unique names keep their counter."""
    filler = characters or (spec.alphabet[0] if spec.alphabet else "k")
    text = current if isinstance(current, str) else ""
    keep = text[-UniqueNames.WIDTH :] if length >= UniqueNames.WIDTH else ""
    return avoider(spec.forbidden)(_cycle(filler, length - len(keep)) + keep)


def _too_many(site: Site, current: Any) -> list[Miss]:
    return _values("one item too many", [_items((*site.path, ANY_ITEM), site.value + 1)])


def _option(site: Site, current: Any) -> list[Miss]:
    options = site.value if site.keyword == "enum" else [site.value]
    first = str(options[0])
    wrong = [
        ("case", [first.upper(), first.capitalize(), first.lower()]),
        ("whitespace", [" " + first, first + " ", first + "\n"]),
        ("empty", [""]),
        ("another value of the same enum in EC2", site.schema.get("x-other-values", [])),
    ]
    return [
        miss
        for kind, values in wrong
        for miss in _values(kind, [v for v in values if v not in options])
    ]


def _type(site: Site, current: Any) -> list[Miss]:
    expected = site.value
    if not site.path or expected == "string":
        return []  # the whole body, or a JSON type that the wire cannot carry
    table = {"boolean": BOOLEAN_MISSES, "integer": INTEGER_MISSES}.get(expected)
    if table is None:
        return _values(f"a scalar for {'a list' if expected == 'array' else 'a structure'}", ["x"])
    return [miss for kind, values in table.items() for miss in _values(kind, values)]


def _bound(site: Site, current: Any) -> list[Miss]:
    if site.keyword == "minimum":
        return _values("one below the minimum", [site.value - 1])
    return _values("one above the maximum", [site.value + 1])


def _negation(site: Site, current: Any) -> list[Miss]:
    if not site.value:
        return _values("present", ["x"])  # a member that must be absent
    return _values("matches the forbidden pattern", _patterns.every_match(site.value["pattern"]))


def _missing(site: Site, current: Any) -> list[Miss]:
    names = site.value

    def remove(container: Any, _: Any) -> None:
        for name in names:
            container.pop(name, None)
        if sends_nothing(container):  # the wire drops empty structures: give it something
            members = flatten(member_schema(site.part, site.path)).properties
            other = next(n for n in members if n not in names)
            container[other] = _filled((*site.path, other), 0)

    return [Miss("member missing", remove)]


def _unknown(site: Site, current: Any) -> list[Miss]:
    """Members CreateImage does not have here: a real one in another case, a list by its API
    name (plural) where the wire wants the singular, an invented one; each with a value its
    look-alike would take, so that a lenient service accepts it."""
    shape = shape_at(site.path)
    first = next(iter(shape.members))
    found: list[tuple[str, str, Path]] = [
        ("a member in another case", first[0].lower() + first[1:], (first,))
    ]
    for member in shape.members.values():
        item = member.shape.item
        if member.wire_name != member.name and item is not None and item.members:
            inner = next(iter(item.members))
            found.append(
                (
                    "an API name on the wire",
                    f"{member.name}.1.{inner}",
                    (member.name, ANY_ITEM, inner),
                )
            )
    misses = [
        Miss(kind, _adding(name, simplest((*site.path, *real)))) for kind, name, real in found
    ]
    return [*misses, Miss("an unknown member", _adding(INVENTED_MEMBER, "x"))]


def _adding(name: str, value: Any) -> Edit:
    def edit(container: Any, _: Any) -> None:
        container[name] = copy.deepcopy(value)

    return edit


def _conditional(site: Site, current: Any) -> list[Miss]:
    return [Miss(kind, edit) for kind, edit in _range_ends(site, outside=True)]


_END_LABELS = {
    (True, True): "below the range",
    (True, False): "above the range",
    (False, True): "at the bottom of the range",
    (False, False): "at the top of the range",
}


def _range_ends(site: Site, *, outside: bool) -> list[tuple[str, Edit]]:
    """The ends of the range an ``if``/``then`` sets (VolumeSize for a VolumeType): one past
    each end, or each end itself."""
    ((trigger, condition),) = site.value["properties"].items()
    ((member, limits),) = site.schema["then"]["properties"].items()
    own = flatten(member_schema(site.part, (*site.path, member)))
    ends: list[tuple[str, int]] = []
    for end, step in (("minimum", -1), ("maximum", 1)):
        if end in limits:
            value = limits[end] + (step if outside else 0)
            within = (own.minimum is None or value >= own.minimum) and (
                own.maximum is None or value <= own.maximum
            )
            if within:
                ends.append((_END_LABELS[outside, step < 0], value))

    def setting_both(value: int) -> Edit:
        def edit(container: Any, _: Any) -> None:
            container[trigger] = condition["const"]
            container[member] = value

        return edit

    return [(kind, setting_both(value)) for kind, value in ends]


# --- the passing side ----------------------------------------------------------------------------


def boundaries(site: Site, current: Any) -> list[Miss]:
    """The values exactly at the limits of ``site``, which a service must accept."""
    spec = _spec(site) if site.keyword not in ("if", "required", "additionalProperties") else None
    if site.keyword == "minLength" and site.value > 0 and spec is not None:
        return _values("at the minimum length", [_text(spec, site.value, current)])
    if site.keyword == "maxLength" and spec is not None:
        found = _values("at the maximum length", [_text(spec, site.value, current)])
        if spec.alphabet is None:  # limits count characters, not bytes
            multi = _text(spec, site.value, None, MULTI_BYTE)
            found += _values("at the maximum length in multi-byte characters", [multi])
        return found
    if site.keyword == "maxItems":
        return _values("a full list", [_items((*site.path, ANY_ITEM), site.value)])
    if site.keyword in ("enum", "const") and site.part == "body":
        return _values("each allowed value", site.value if site.keyword == "enum" else [site.value])
    if site.keyword == "pattern" and spec is not None and spec.alphabet:
        return _values("every character of the class", [_every_character(spec, current)])
    if site.keyword == "not" and site.value:
        return _values(
            "the forbidden pattern but its last character", _almost(site.value["pattern"])
        )
    if site.keyword == "if":
        return [Miss(kind, edit) for kind, edit in _range_ends(site, outside=False)]
    return []


def _cycle(characters: str, length: int) -> str:
    return (characters * (length // len(characters) + 1))[:length]


def _every_character(spec: Spec, current: Any) -> str:
    """The member's whole alphabet in one value, special characters first, within its limits."""
    alphabet = spec.alphabet or ""
    specials = "".join(c for c in alphabet if not c.isalnum())
    low, high, _ = lengths(spec)
    text = specials + alphabet.replace(" ", "")
    keep = str(current)[-UniqueNames.WIDTH :]
    return fit(text, low, high - len(keep)) + keep


def _almost(pattern: str) -> list[str]:
    search = compile_pattern(pattern).search
    return [m[:-1] for m in _patterns.every_match(pattern)[:1] if m[:-1] and not search(m[:-1])]


# --- containers, items and simple values ---------------------------------------------------------


@cache
def simplest(path: Path, index: int = 0) -> Any:
    """A valid value for the member at ``path``, as simple as can be, the ``index``-th of a
    list: distinct from its neighbours in its first required member."""
    spec = flatten(member_schema("body", path))
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
        return _object(path, spec, index)
    if spec.regexes:
        return _patterns.render(_patterns.parse(spec.regexes[0]))
    low, high, _ = lengths(spec)
    pad = spec.alphabet[0] if spec.alphabet else "k"
    return avoider(spec.forbidden)(fit(f"{pad}{index + 1}", max(low, 1), high, pad))


def _object(path: Path, spec: Spec, index: int) -> dict[str, Any]:
    names = spec.required or [
        next(
            n
            for n, s in spec.properties.items()
            if not flatten(s).never and flatten(s).types & {"string", "boolean"}
        )
    ]
    return {name: simplest((*path, name), index) for name in names}


def _filled(path: Path, index: int) -> Any:
    """``simplest``, with one item in a list: a value the wire carries."""
    value = copy.deepcopy(simplest(path, index))
    if value == []:
        value.append(copy.deepcopy(simplest((*path, ANY_ITEM), index)))
    return value


def _items(item_path: Path, count: int) -> list[Any]:
    return [copy.deepcopy(simplest(item_path, i)) for i in range(count)]


def list_size(list_path: Path) -> int:
    """How many items a full list at ``list_path`` has: its maxItems, or as many as its items
    can be distinct (two resource types), or a few."""
    spec = flatten(member_schema("body", list_path))
    if spec.max_items is not None:
        return spec.max_items
    item = flatten(spec.items)
    if item.required:
        options = flatten(item.properties[item.required[0]]).options
        if options is not None:
            return len(options)
    return UNBOUNDED_LIST


Position = dict[int, tuple[int, int]]
"""For the list steps of a path (by their place in it): how many items, and which one."""


def _place(body: dict[str, Any], path: Path, position: Position) -> Any:
    """The container at ``path`` in ``body``, created valid where missing; each list on the
    way gets the items ``position`` asks for (one, by default), and the path goes on from the
    chosen one."""
    node: Any = body
    for depth, step in enumerate(path):
        if step == ANY_ITEM:
            count, chosen = position.get(depth, (1, 0))
            if len(node) < count:
                node[:] = _items(path[: depth + 1], count)
            node = node[chosen]
        else:
            if step not in node or not isinstance(node[step], dict | list):
                value = simplest(path[: depth + 1])
                node[step] = copy.deepcopy(value) if isinstance(value, dict | list) else {}
            node = node[step]
    return node


def positions(path: Path) -> Iterator[tuple[str, Position]]:
    """The first, a middle and the last item of a full list, for each list on ``path``."""
    for depth, step in enumerate(path):
        if step != ANY_ITEM:
            continue
        count = list_size(path[:depth])
        name = path[depth - 1]
        for chosen in dict.fromkeys((0, count // 2, count - 1)):
            yield f"at item {chosen + 1} of {count} {name}", {depth: (count, chosen)}


# --- plans -----------------------------------------------------------------------------------


def _target(site: Site) -> tuple[Path, Any]:
    """Where an edit of ``site`` applies: the container's path, and the key in it."""
    if site.keyword in ("required", "additionalProperties", "if") or site.part == "query":
        return site.path, None
    return site.path[:-1], site.path[-1]


def _apply(draft: Draft, site: Site, choose: Callable[[Any], Miss], position: Position) -> str:
    """Apply the miss ``choose`` picks for the value now at ``site``; its kind."""
    path, key = _target(site)
    if site.part == "query":
        miss = choose(draft.query.get(site.path[-1]) if site.keyword == "const" else None)
        miss.edit(draft.query, site.path[-1] if site.keyword == "const" else None)
        return miss.kind
    container = _place(draft.body, path, position)
    if key == ANY_ITEM:  # the item itself: the list needs its items first
        count, key = position.get(len(path), (1, 0))
        if len(container) < count:
            container[:] = _items((*path, ANY_ITEM), count)
    current = container[key] if isinstance(container, dict) and key in container else None
    miss = choose(current)
    miss.edit(container, key)
    return miss.kind


def plannable(site: Site) -> bool:
    """Sites a planned request can break on the wire (not a JSON type the wire cannot carry)."""
    wire_type = site.keyword == "type" and bool(site.path) and site.value != "string"
    return bool(site.rule) and (site.keyword != "type" or wire_type)


@dataclass(frozen=True)
class Planner:
    """Builds the planned requests: each from the simplest valid request, with the service's
    instance and the run's unique names, changed in one planned way."""

    service: Service
    names: UniqueNames | None = None

    def draft(self) -> Draft:
        body = {"InstanceId": self.service.instance_id or simplest(("InstanceId",))}
        name = simplest(("Name",))
        if self.names is not None:
            name = self.names(_text(_name_spec(), UniqueNames.WIDTH + 5, name))
        body["Name"] = _untaken(name, self.service.taken_names)
        return Draft(body)

    def near_misses(self, rule_id: str) -> list[Example]:
        """Every near miss at every site of ``rule_id``, the first one also at each list
        position and once with DryRun=true; each breaks exactly ``rule_id``."""
        planned: list[Example] = []
        sites = [site for site in sites_of(rule_id) if plannable(site)]
        for site in sites:
            count = len(self._misses(site, {}, misses))
            for index in range(count):
                planned.append(self._planned(site, {}, misses, index, rule_id))
            for kind, position in positions(site.path) if count else ():
                planned.append(self._planned(site, position, misses, 0, rule_id, kind))
        dry_run = next(
            (s for s in sites if not _about_dry_run(s) and self._misses(s, {}, misses)), None
        )
        if dry_run is not None:
            planned.append(self._planned(dry_run, {}, misses, 0, rule_id, "with DryRun=true"))
        return [_checked(example, rule_id) for example in planned]

    def boundaries(self, rule_ids: list[str], *, dry_run: bool = False) -> list[Example]:
        """Valid requests exactly at every limit of the rules' sites (with DryRun=true, when
        ``dry_run``)."""
        planned: list[Example] = []
        extra = DRY_RUN_KIND if dry_run else None
        for rule_id in rule_ids:
            for site in sites_of(rule_id):
                if not plannable(site) or site.part != "body":
                    continue
                for index in range(len(self._misses(site, {}, boundaries))):
                    planned.append(self._planned(site, {}, boundaries, index, rule_id, extra))
        outcome = "dry-run" if dry_run else None
        return [_checked(example, outcome) for example in planned]

    def _misses(
        self, site: Site, position: Position, kinds: Callable[[Site, Any], list[Miss]]
    ) -> list[Miss]:
        found: list[Miss] = []
        _apply(self.draft(), site, lambda current: _first(found, kinds(site, current)), position)
        return found

    def _planned(
        self,
        site: Site,
        position: Position,
        kinds: Callable[[Site, Any], list[Miss]],
        index: int,
        rule_id: str,
        kind: str | None = None,
    ) -> Example:
        draft = self.draft()
        done = _apply(draft, site, lambda current: kinds(site, current)[index], position)
        if kind == DRY_RUN_KIND:
            (member,), value = outcome_member("dry-run")
            draft.body[member] = value
            kind = f"{done} {DRY_RUN_KIND}" if kinds is boundaries else kind
        label = NearMiss(rule_id, site_label(site), kind or done, passes=kinds is boundaries)
        return finish(draft, self.service, label)


def _first(found: list[Miss], candidates: list[Miss]) -> Miss:
    """Keeps every candidate in ``found`` and applies none of them (for counting)."""
    found += candidates
    return Miss("", lambda _, __: None)


def _about_dry_run(site: Site) -> bool:
    (member,), _ = outcome_member("dry-run")
    return site.path[:1] == (member,)


def _checked(example: Example, rule_id: str | None) -> Example:
    """A planned request must be what it says: answered for its rule (``dry-run`` included),
    or, with no rule, valid."""
    expected = example.expect
    if expected.rule != rule_id or (rule_id is None and expected.status != 200):
        raise ValueError(
            f"the planned request {example.near_miss} is answered as {example.expect}: "
            + example.form
        )
    return example


@cache
def _name_spec() -> Spec:
    return flatten(member_schema("body", ("Name",)))


def _untaken(name: str, taken: Any) -> str:
    while name in taken:
        name = name[:-1] + ("0" if name[-1] != "0" else "1")
    return name
