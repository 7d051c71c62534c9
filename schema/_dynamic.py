"""Values known only at run time: the placeholders of workflow definitions and templates.

A workflow author writes ``"Name": "backup-${workflow.input.date}"`` or a Step Functions
``"InstanceId.$": "$.instance"``; what is sent is known only when the workflow runs. Such a value
is checked on what is known (its literal characters, and the length its literal part alone
already has), and the rest is reported once as ``dynamic``, an ``info`` that never fails.

How: before the request is read, each placeholder becomes one *mark*, a character of Unicode's
plane-15 private use area that no request holds, so that the wire format and the schema read the
request as they always do (a placeholder may hold ``&`` or ``=``, which a form body would split
on). Then every failure at a location whose value or name holds a mark is replaced by the checks
that stay true whatever the marks become.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, cast

from ._compiler import Failure, Location, excerpt
from ._ecma import compile_pattern
from ._model import ANY_ITEM, PARTS, Field, Part, contract

DYNAMIC = "dynamic"
"""The rule id of a value known only at run time (severity ``info``)."""
_FIRST_MARK = 0xF0000
_LAST_MARK = 0xFFFFD
_CHARSET = re.compile(r"\^(\[(?:\\.|[^\]\\])*\])(?:\*|\+|\{\d+(?:,\d*)?\})\$")
"""A pattern that only lists the characters allowed (``^[A-Za-z0-9 ._-]*$``): each literal
character can be checked on its own."""
_ANY_REST = "[\\s\\S]*$"
"""How a forbidden prefix ends (``^[Aa][Ww][Ss]:[\\s\\S]*$``): whatever follows, it matches."""
_WHOLE_HTTP_FIELDS = {"url": ("query",), "method": ("method",), "headers": ("headers",)}
"""What a wholly dynamic field of an HTTP request leaves unknown (the body: see ``_unknown``)."""


@dataclass(frozen=True)
class Placeholder:
    """A whole value filled in at run time: a Step Functions ``"Key.$": "$.path"`` member, say,
    becomes ``"Key": Placeholder("$.path")``. ``text`` is what the definition wrote."""

    text: str


@dataclass
class Marks:
    """The placeholders of one request, each as the mark that stands for it."""

    pattern: re.Pattern[str]
    texts: dict[str, str] = field(default_factory=dict)
    """Mark -> the placeholder as written."""
    whole_fields: dict[str, str] = field(default_factory=dict)
    """The HTTP request's fields that are one placeholder (``body``), with what was written."""

    def mark(self, value: Any) -> Any:
        """``value`` with each placeholder in its strings and names replaced by its mark."""
        if isinstance(value, Placeholder):
            return self._mark_of(value.text)
        if isinstance(value, str):
            return self.pattern.sub(lambda found: self._mark_of(found.group()), value)
        if isinstance(value, dict):
            return {self.mark(name): self.mark(member) for name, member in value.items()}
        if isinstance(value, list):
            return [self.mark(item) for item in value]
        return value

    def _mark_of(self, text: str) -> str:
        # A text met twice keeps one mark; past the area's end, marks are reused (then only a
        # message may show another placeholder's text, never a verdict).
        mark = chr(_FIRST_MARK + len(self.texts) % (_LAST_MARK - _FIRST_MARK))
        self.texts.setdefault(mark, text)
        return mark

    def holds(self, text: str) -> bool:
        return any(mark in text for mark in self.texts) if self.texts else False

    def written(self, text: str) -> str:
        """``text`` as the definition wrote it: each mark back to its placeholder."""
        for mark, placeholder in self.texts.items():
            text = text.replace(mark, placeholder)
        return text

    def literal(self, text: str) -> str:
        """What ``text`` holds besides its placeholders."""
        return "".join(c for c in text if c not in self.texts)


def marked(request: Any, pattern: re.Pattern[str], http: bool) -> tuple[Any, Marks]:
    """The request with its placeholders marked; an HTTP request's wholly dynamic fields (a body
    that is one placeholder) are taken out, to be reported as such."""
    marks = Marks(pattern)
    if not _holds(request, pattern) or _has_marks(request):
        # Most requests hold no placeholder. One that holds the marks' own characters is
        # checked as written, rather than guessed at.
        return request, marks
    request = marks.mark(request)
    if http and isinstance(request, dict):
        for name in ("body", *_WHOLE_HTTP_FIELDS):
            value = request.get(name)
            if isinstance(value, str) and value and not marks.literal(value).strip():
                marks.whole_fields[name] = marks.written(value)
        request = {k: v for k, v in request.items() if k not in marks.whole_fields}
    return request, marks


def _holds(value: Any, pattern: re.Pattern[str]) -> bool:
    """Whether the request may hold a placeholder: one search of all its strings together (a
    match across two of them only costs the closer look that follows)."""
    strings: list[str] = []
    if _plain_strings(value, strings):
        try:
            return _found(pattern, "\n".join(strings))
        except TypeError:  # a name that is not a string: gathered the general way below
            pass
    strings = []
    if _strings(value, strings):
        return True
    return _found(pattern, "\n".join(strings))


def _found(pattern: re.Pattern[str], text: str) -> bool:
    """Whether ``pattern`` matches in ``text``: searched only when ``text`` holds a character a
    match may start with."""
    firsts = _first_characters(pattern)
    if firsts is None:
        return pattern.search(text) is not None
    for first in firsts:
        if first in text:
            return pattern.search(text) is not None
    return False


_PLAIN_SCALARS = frozenset({int, float, bool, type(None)})


def _plain_strings(value: Any, found: list[str]) -> bool:
    """``_strings`` for plain JSON, which the request nearly always is: its strings and names
    into ``found``, in the same order, by exact types; False at the first value of another type
    (a ``Placeholder``, a subclass), for ``_strings`` to gather them all again."""
    kind = type(value)
    if kind is dict:
        return _plain_members(value, found)
    if kind is list:
        for item in value:
            kind = type(item)
            if kind is str:
                found.append(item)
            elif kind is dict:  # an object in a list (a tag): inlined, as there are many
                for name, member in item.items():
                    found.append(name)
                    if type(member) is str:
                        found.append(member)
                    elif type(member) not in _PLAIN_SCALARS and not _plain_strings(member, found):
                        return False
            elif kind not in _PLAIN_SCALARS and not _plain_strings(item, found):
                return False
        return True
    if kind is str:
        found.append(value)
        return True
    return kind in _PLAIN_SCALARS


def _plain_members(value: dict[Any, Any], found: list[str]) -> bool:
    for name, member in value.items():
        found.append(name)
        kind = type(member)
        if kind is str:
            found.append(member)
        elif kind not in _PLAIN_SCALARS and not _plain_strings(member, found):
            return False
    return True


def _strings(value: Any, found: list[str]) -> bool:
    """Gather the strings of ``value`` into ``found``; True at once for a ``Placeholder``."""
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dict):
        for name, member in value.items():
            found.append(str(name))
            if _strings(member, found):
                return True
    elif isinstance(value, list):
        return any(_strings(item, found) for item in value)
    return isinstance(value, Placeholder)


_SPECIAL = frozenset(".^$*+?{}[]()|\\")


@cache
def _first_characters(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """The characters every match of ``pattern`` starts with, where its source says so plainly:
    branches that each start with one literal character (``\\$\\{...|\\{%...``, as lint's
    placeholders do); ``None`` for any other pattern. A text that holds none of them holds no
    match, which ``in`` tells far sooner than a search does."""
    if pattern.flags & (re.IGNORECASE | re.VERBOSE) or "(?#" in pattern.pattern:
        return None  # letters of either case; or a source whose comments may hold anything
    firsts: set[str] = set()
    for branch in _branches(pattern.pattern):
        if branch[:1] == "\\" and branch[1:2] and not branch[1].isalnum():
            first, rest = branch[1], branch[2:]  # an escaped character stands for itself
        elif branch[:1] and branch[0] not in _SPECIAL:
            first, rest = branch[0], branch[1:]
        else:
            return None
        if rest[:1] in ("?", "*", "+", "{"):  # repeated, or perhaps absent: not plain
            return None
        firsts.add(first)
    return frozenset(firsts)


def _branches(source: str) -> list[str]:
    """``source`` split at its top-level ``|`` (not one in a group, a set, or escaped)."""
    branches: list[str] = []
    start = depth = index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 1
        elif char == "[":
            index = _set_end(source, index)
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == "|" and depth == 0:
            branches.append(source[start:index])
            start = index + 1
        index += 1
    return [*branches, source[start:]]


def _set_end(source: str, index: int) -> int:
    """The index of the ``]`` that closes the set opening at ``index`` (a ``]`` first in a set,
    or escaped, is one of its characters)."""
    index += 2 if source[index + 1 : index + 2] == "^" else 1
    index += 1 if source[index : index + 1] == "]" else 0
    while index < len(source) and source[index] != "]":
        index += 2 if source[index] == "\\" else 1
    return index


def _has_marks(value: Any) -> bool:
    """Whether a string of the request holds a character of the marks' area (few ever do)."""
    if isinstance(value, str):
        return bool(value) and max(value) >= chr(_FIRST_MARK)
    if isinstance(value, dict):
        return any(_has_marks(name) or _has_marks(member) for name, member in value.items())
    if isinstance(value, list):
        return any(_has_marks(item) for item in value)
    return False


def checked(document: dict[str, Any], failures: list[Failure], marks: Marks) -> list[Failure]:
    """``failures`` of the marked ``document`` as they stand whatever the placeholders become:
    those a dynamic value caused give way to the checks of its literal part and one ``dynamic``
    failure for it; locations and details say the placeholders as written."""
    dynamic = dict(_dynamic_locations(document, (), marks))
    unknown = _unknown(marks)
    kept = [f for f in failures if not _depends(f.location, dynamic, unknown)]
    for location, value in dynamic.items():
        kept += _literal_failures(location, value, marks)
    kept += [_dynamic_failure((name,), text, "") for name, text in marks.whole_fields.items()]
    for location, value in dynamic.items():
        if value is None:
            kept.append(Failure(DYNAMIC, location, "is a name known only at run time"))
        else:
            kept.append(_dynamic_failure(location, marks.written(value), marks.literal(value)))
    return [_written(f, marks) for f in kept]


def _dynamic_locations(
    value: Any, location: Location, marks: Marks
) -> Iterator[tuple[Location, str | None]]:
    """Each location whose value holds a mark (with the value), or whose name does (``None``:
    everything under it is unknown)."""
    if isinstance(value, str):
        if marks.holds(value) and _field_at(location) is not None:
            yield location, value
    elif isinstance(value, dict):
        for name, member in value.items():
            if marks.holds(str(name)):
                yield (*location, name), None
            else:
                yield from _dynamic_locations(member, (*location, name), marks)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _dynamic_locations(item, (*location, index), marks)


def _unknown(marks: Marks) -> tuple[Location, ...]:
    """The parts a wholly dynamic HTTP field leaves unknown. A body may hold Action and Version
    as well as the parameters, so a dynamic body leaves the query unknown too."""
    parts: list[Location] = []
    for name in marks.whole_fields:
        parts += [("body",), ("query",)] if name == "body" else [_WHOLE_HTTP_FIELDS[name]]
    return tuple(parts)


def _depends(
    location: Location, dynamic: dict[Location, str | None], unknown: tuple[Location, ...]
) -> bool:
    """Whether a failure at ``location`` may be the placeholders' doing."""
    if any(location[: len(part)] == part for part in unknown):
        return True
    return any(location[: len(at)] == at for at in dynamic)


def _field_at(location: Location) -> Field | None:
    """The contract's field for a location of the document, or ``None`` for a member it does not
    have or does not allow (an unknown parameter stays unknown whatever its value)."""
    if not location or location[0] not in PARTS:
        return None
    part, *path = location
    try:
        found = contract().field(
            cast(Part, part), tuple(ANY_ITEM if isinstance(s, int) else str(s) for s in path)
        )
    except KeyError:
        return None
    return None if found.never else found


def _literal_failures(location: Location, value: str | None, marks: Marks) -> list[Failure]:
    """What the literal part of a dynamic value breaks whatever its placeholders become: a
    character outside the allowed set, a length already past the maximum, or a forbidden
    prefix written before the first placeholder."""
    found = _field_at(location) if value is not None else None
    if found is None or value is None:
        return []
    literal = marks.literal(value)
    prefix = re.split("|".join(map(re.escape, marks.texts)), value, maxsplit=1)[0]
    failures: list[Failure] = []
    for node in found.nodes:
        for assertion in node.assertions:
            detail = _literal_detail(assertion.keyword, assertion.value, literal, prefix)
            if detail:
                failures.append(Failure(node.rule, location, detail))
    return failures


def _literal_detail(keyword: str, value: Any, literal: str, prefix: str) -> str | None:
    if keyword == "maxLength" and len(literal) > value:
        return f"has {len(literal)} characters outside its placeholders, more than {value}"
    if keyword == "pattern" and (allowed := _charset(value)):
        wrong = ", ".join(repr(c) for c in dict.fromkeys(literal) if not allowed(c))
        return (
            f"has {wrong} outside its placeholders, not allowed whatever they become"
            if wrong
            else None
        )
    forbidden = value.first("pattern") if keyword == "not" else None
    if forbidden and forbidden.endswith(_ANY_REST) and compile_pattern(forbidden).search(prefix):
        return f"starts with {excerpt(prefix)} before its placeholders, which no value may"
    return None


@cache
def _charset(pattern: str) -> Any:
    """For a pattern that only lists the allowed characters, a test of one character."""
    listed = _CHARSET.fullmatch(pattern)
    if listed is None:
        return None
    one = compile_pattern(f"^{listed.group(1)}$")
    return lambda character: one.search(character) is not None


def whole(location: Location, written: str) -> Failure:
    """The ``dynamic`` failure of a request that is one placeholder."""
    return _dynamic_failure(location, written, "")


def _dynamic_failure(location: Location, written: str, literal: str) -> Failure:
    known = "its literal part is checked, the rest" if literal else "its value"
    detail = f"is dynamic ({excerpt(written, 60)}): {known} is known only at run time"
    return Failure(DYNAMIC, location, detail)


def _written(failure: Failure, marks: Marks) -> Failure:
    location = tuple(marks.written(s) if isinstance(s, str) else s for s in failure.location)
    return Failure(failure.rule, location, marks.written(failure.detail))
