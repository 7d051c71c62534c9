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

Each function here is one keyword's near misses (or values at its limit), as ``Miss``es: a kind
and an edit of the request; ``_kinds`` tables them, and ``_plan`` turns them into requests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from createimage_contract.schema import ANY_ITEM, Constraint, Path, compile_pattern, contract

from . import _patterns
from ._breakers import sends_nothing
from ._examples import UniqueNames
from ._simple import filled, items_of, simplest
from ._spec import Spec, field_at, flatten, limits_by_member, trigger
from ._values import avoider, fit, lengths

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


# --- the wrong side: each keyword's near misses -----------------------------------------------


def _spec(site: Constraint) -> Spec:
    return flatten(contract().field(site.part, site.path))


def pattern_misses(site: Constraint, current: Any) -> list[Miss]:
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


def length_misses(site: Constraint, current: Any) -> list[Miss]:
    spec, limit = _spec(site), site.value
    if site.keyword == "minLength":
        return (
            []
            if limit == 0
            else _values("one character too few", [text_like(spec, limit - 1, current)])
        )
    return _values("one character too many", [text_like(spec, limit + 1, current)])


def text_like(spec: Spec, length: int, current: Any, characters: str | None = None) -> str:
    """``length`` characters (of ``characters``, or the member's alphabet) ending like
    ``current``, where a run's unique names keep their counter."""
    filler = characters or (spec.alphabet[0] if spec.alphabet else "k")
    text = current if isinstance(current, str) else ""
    keep = text[-UniqueNames.WIDTH :] if length >= UniqueNames.WIDTH else ""
    return avoider(spec.forbidden)(_cycle(filler, length - len(keep)) + keep)


def too_many(site: Constraint, current: Any) -> list[Miss]:
    return _values("one item too many", [items_of((*site.path, ANY_ITEM), site.value + 1)])


def option_misses(site: Constraint, current: Any) -> list[Miss]:
    options = list(site.value) if site.keyword == "enum" else [site.value]
    first = str(options[0])
    wrong = [
        ("case", [first.upper(), first.capitalize(), first.lower()]),
        ("whitespace", [" " + first, first + " ", first + "\n"]),
        ("empty", [""]),
        ("another value of the same enum in EC2", list(site.node.other_values)),
    ]
    return [
        miss
        for kind, values in wrong
        for miss in _values(kind, [v for v in values if v not in options])
    ]


def type_misses(site: Constraint, current: Any) -> list[Miss]:
    (expected,) = site.value
    if not site.path or expected == "string":
        return []  # the whole body, or a JSON type that the wire cannot carry
    table = {"boolean": BOOLEAN_MISSES, "integer": INTEGER_MISSES}.get(expected)
    if table is None:
        return _values(f"a scalar for {'a list' if expected == 'array' else 'a structure'}", ["x"])
    return [miss for kind, values in table.items() for miss in _values(kind, values)]


def bound_misses(site: Constraint, current: Any) -> list[Miss]:
    if site.keyword == "minimum":
        return _values("one below the minimum", [site.value - 1])
    return _values("one above the maximum", [site.value + 1])


def forbidden_misses(site: Constraint, current: Any) -> list[Miss]:
    forbidden = site.value.first("pattern")
    if forbidden is None:  # not: {}
        return _values("present", ["x"])  # a member that must be absent
    return _values("matches the forbidden pattern", _patterns.every_match(forbidden))


def missing(site: Constraint, current: Any) -> list[Miss]:
    names = site.value

    def remove(container: Any, _: Any) -> None:
        for name in names:
            container.pop(name, None)
        if sends_nothing(container):  # the wire drops empty structures: give it something
            members = contract().field(site.part, site.path).members
            other = next(n for n in members if n not in names)
            container[other] = filled((*site.path, other), 0)

    return [Miss("member missing", remove)]


def unknown_members(site: Constraint, current: Any) -> list[Miss]:
    """Members CreateImage does not have here: a real one in another case, a list by its API
    name (plural) where the wire wants the singular, an invented one; each with a value its
    look-alike would take, so that a lenient service accepts it."""
    shape = field_at(site.path)
    first = next(iter(shape.members))
    found: list[tuple[str, str, Path]] = [
        ("a member in another case", first[0].lower() + first[1:], (first,))
    ]
    for member in shape.members.values():
        item = member.item
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


def range_misses(site: Constraint, current: Any) -> list[Miss]:
    """One past each end of the range a condition sets (VolumeSize for a VolumeType)."""
    return [Miss(kind, edit) for kind, edit in _range_ends(site, outside=True)]


_END_LABELS = {
    (True, True): "below the range",
    (True, False): "above the range",
    (False, True): "at the bottom of the range",
    (False, False): "at the top of the range",
}


def _range_ends(site: Constraint, *, outside: bool) -> list[tuple[str, Edit]]:
    """The ends of the range an ``if``/``then`` sets (VolumeSize for a VolumeType): one past
    each end, or each end itself."""
    name, wanted = trigger(site.value)
    ((member, limits),) = limits_by_member(site.value).items()
    own = flatten(contract().field(site.part, (*site.path, member)))
    bound = {a.keyword: a.value for a in limits}
    ends: list[tuple[str, int]] = []
    for end, step in (("minimum", -1), ("maximum", 1)):
        if end in bound:
            value = bound[end] + (step if outside else 0)
            within = (own.minimum is None or value >= own.minimum) and (
                own.maximum is None or value <= own.maximum
            )
            if within:
                ends.append((_END_LABELS[outside, step < 0], value))

    def setting_both(value: int) -> Edit:
        def edit(container: Any, _: Any) -> None:
            container[name] = wanted
            container[member] = value

        return edit

    return [(kind, setting_both(value)) for kind, value in ends]


# --- the right side: the values exactly at each limit ---------------------------------------


def length_limits(site: Constraint, current: Any) -> list[Miss]:
    """A value of exactly the limit; the longest also in multi-byte characters, as a limit
    counts characters, not bytes."""
    spec, limit = _spec(site), site.value
    if site.keyword == "minLength":
        return _values("at the minimum length", [text_like(spec, limit, current)]) if limit else []
    found = _values("at the maximum length", [text_like(spec, limit, current)])
    if spec.alphabet is None:
        multi = text_like(spec, limit, None, MULTI_BYTE)
        found += _values("at the maximum length in multi-byte characters", [multi])
    return found


def full_list(site: Constraint, current: Any) -> list[Miss]:
    return _values("a full list", [items_of((*site.path, ANY_ITEM), site.value)])


def each_option(site: Constraint, current: Any) -> list[Miss]:
    if site.part != "body":
        return []  # Action and Version have one value, which every request has
    options = list(site.value) if site.keyword == "enum" else [site.value]
    return _values("each allowed value", options)


def whole_alphabet(site: Constraint, current: Any) -> list[Miss]:
    spec = _spec(site)
    if not spec.alphabet:
        return []
    return _values("every character of the class", [_every_character(spec, current)])


def almost_forbidden(site: Constraint, current: Any) -> list[Miss]:
    forbidden = site.value.first("pattern")
    if forbidden is None:
        return []
    return _values("the forbidden pattern but its last character", _almost(forbidden))


def range_limits(site: Constraint, current: Any) -> list[Miss]:
    return [Miss(kind, edit) for kind, edit in _range_ends(site, outside=False)]


def no_limits(site: Constraint, current: Any) -> list[Miss]:
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
