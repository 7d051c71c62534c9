"""The structure of the contract's ECMA-262 patterns, for near misses.

A validator only needs to know whether a string matches; the near misses need to know how it
matches: which characters each class allows (to break it by a case flip, by a character just
outside a range, by a Unicode letter or digit where ASCII is meant), which lengths its repeats
and alternatives allow (to break it by a length between or around them), and how to write a
string that matches (to break one thing at a time). This module parses the subset of ECMA-262
the contract uses (anchors, literals, classes with ranges and the ``\\s \\S \\d \\w`` escapes,
groups with ``|``, and the quantifiers ``* + ? {n} {n,} {n,m}``) and refuses anything else, as
the compiler does: a pattern cannot silently mean something the near misses ignore.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cache

from createimage_contract.schema import compile_pattern

UNBOUNDED = -1
"""The upper count of ``*``, ``+`` and ``{n,}``."""


@dataclass(frozen=True)
class Literal:
    char: str


@dataclass(frozen=True)
class CharClass:
    source: str
    """The class as written, brackets included: what ``contains`` asks the regex engine."""
    ranges: tuple[tuple[str, str], ...]
    """Its ranges and single characters (as ``(c, c)``), escapes like ``\\s`` left out."""
    negated: bool = False
    escapes: bool = False
    """It has class escapes (``\\s``, ``\\d``, ...): more characters than its ranges."""

    def contains(self, char: str) -> bool:
        return compile_pattern(f"^{self.source}$").search(char) is not None


@dataclass(frozen=True)
class Repeat:
    node: Node
    low: int
    high: int
    """``UNBOUNDED`` for no upper limit."""


@dataclass(frozen=True)
class Choice:
    branches: tuple[Sequence, ...]


@dataclass(frozen=True)
class Sequence:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Anchor:
    at_start: bool


Node = Literal | CharClass | Repeat | Choice | Sequence | Anchor

_CLASS_ESCAPES = frozenset("dDwWsS")
_SYNTAX = frozenset("^$.|?*+()[]{}\\")


class _Reader:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.at += 1
        return char

    def refuse(self, what: str) -> ValueError:
        return ValueError(f"pattern {self.text!r}: {what} at {self.at} is not supported")


@cache
def parse(pattern: str) -> Sequence:
    """The structure of ``pattern``; ``ValueError`` for a construct outside the subset."""
    reader = _Reader(pattern)
    node = _choice(reader)
    if reader.peek():
        raise reader.refuse(repr(reader.peek()))
    return node if isinstance(node, Sequence) else Sequence((node,))


def _choice(reader: _Reader) -> Node:
    branches = [_sequence(reader)]
    while reader.peek() == "|":
        reader.take()
        branches.append(_sequence(reader))
    return branches[0] if len(branches) == 1 else Choice(tuple(branches))


def _sequence(reader: _Reader) -> Sequence:
    nodes: list[Node] = []
    while reader.peek() not in ("", "|", ")"):
        nodes.append(_quantified(reader, _atom(reader)))
    return Sequence(tuple(nodes))


def _atom(reader: _Reader) -> Node:
    char = reader.take()
    if char in "^$":
        return Anchor(at_start=char == "^")
    if char == "(":
        if reader.peek() == "?":
            raise reader.refuse("a group with (?")
        inner = _choice(reader)
        if reader.take() != ")":
            raise reader.refuse("an unclosed group")
        return inner
    if char == "[":
        return _char_class(reader)
    if char == "\\":
        escaped = reader.take()
        if escaped in _CLASS_ESCAPES:
            return CharClass(f"[\\{escaped}]", (), escapes=True)
        if escaped.isalnum():
            raise reader.refuse(f"the escape \\{escaped}")
        return Literal(escaped)
    if char in _SYNTAX:
        raise reader.refuse(repr(char))
    return Literal(char)


def _char_class(reader: _Reader) -> CharClass:
    start = reader.at - 1
    negated = reader.peek() == "^"
    if negated:
        reader.take()
    ranges: list[tuple[str, str]] = []
    escapes = False
    while reader.peek() not in ("]", ""):
        first = _class_char(reader)
        if first is None:  # \s, \d, ...: characters the ranges do not list
            escapes = True
        elif reader.peek() == "-" and reader.text[reader.at + 1 : reader.at + 2] not in ("]", ""):
            reader.take()
            last = _class_char(reader)
            if last is None:
                raise reader.refuse("a range ending in a class escape")
            ranges.append((first, last))
        else:
            ranges.append((first, first))
    if reader.take() != "]":
        raise reader.refuse("an unclosed class")
    return CharClass(reader.text[start : reader.at], tuple(ranges), negated, escapes)


def _class_char(reader: _Reader) -> str | None:
    """One character of a class; ``None`` for a class escape such as ``\\s``."""
    char = reader.take()
    if char != "\\":
        return char
    escaped = reader.take()
    if escaped in _CLASS_ESCAPES:
        return None
    if escaped.isalnum():
        raise reader.refuse(f"the escape \\{escaped} in a class")
    return escaped


def _quantified(reader: _Reader, node: Node) -> Node:
    char = reader.peek()
    counts = {"*": (0, UNBOUNDED), "+": (1, UNBOUNDED), "?": (0, 1)}
    if char in counts:
        reader.take()
        return Repeat(node, *counts[char])
    if char != "{":
        return node
    reader.take()
    low, comma, high = _until(reader, "}").partition(",")
    if not low.isdigit() or (high and not high.isdigit()):
        raise reader.refuse("a quantifier")
    upper = int(high) if high else (UNBOUNDED if comma else int(low))
    return Repeat(node, int(low), upper)


def _until(reader: _Reader, end: str) -> str:
    taken = ""
    while reader.peek() not in (end, ""):
        taken += reader.take()
    if reader.take() != end:
        raise reader.refuse(f"a missing {end!r}")
    return taken


# --- writing strings that match --------------------------------------------------------------


def first_char(char_class: CharClass) -> str:
    """The simplest character the class allows: the start of its first range."""
    if char_class.ranges and not char_class.negated:
        return char_class.ranges[0][0]
    return next(c for c in "k0" if char_class.contains(c))


def render(node: Node, count: int | None = None) -> str:
    """The simplest string ``node`` matches (repeats at their lowest count, first branches);
    ``count`` sets the count of the outermost repeat instead."""
    if isinstance(node, Literal):
        return node.char
    if isinstance(node, CharClass):
        return first_char(node)
    if isinstance(node, Anchor):
        return ""
    if isinstance(node, Repeat):
        return render(node.node) * (node.low if count is None else count)
    if isinstance(node, Choice):
        return render(node.branches[0])
    return "".join(render(child) for child in node.nodes)


def classes(node: Node) -> list[CharClass]:
    """Every character class of the pattern, in order, each once."""
    if isinstance(node, CharClass):
        return [node]
    if isinstance(node, Repeat):
        return classes(node.node)
    children: tuple[Node, ...] = (
        node.branches
        if isinstance(node, Choice)
        else node.nodes
        if isinstance(node, Sequence)
        else ()
    )
    return list(dict.fromkeys(c for child in children for c in classes(child)))


def is_class_star(pattern: str) -> bool:
    """Whether ``pattern`` is one class repeated any number of times, anchored: an alphabet."""
    nodes = [n for n in parse(pattern).nodes if not isinstance(n, Anchor)]
    return (
        len(nodes) == 1
        and isinstance(nodes[0], Repeat)
        and isinstance(nodes[0].node, CharClass)
        and nodes[0].high == UNBOUNDED
    )


def alphabet(pattern: str) -> str | None:
    """Every character a value of ``pattern`` may have, in the class's order, when the pattern
    is one plain class repeated (``^[A-Za-z0-9 ._-]*$``); ``None`` otherwise."""
    if not is_class_star(pattern):
        return None
    (char_class,) = classes(parse(pattern))
    if char_class.negated or char_class.escapes:
        return None
    characters = (chr(c) for lo, hi in char_class.ranges for c in range(ord(lo), ord(hi) + 1))
    return "".join(dict.fromkeys(characters))


def with_class_char(pattern: str, char_class: CharClass, char: str) -> str:
    """The simplest match of ``pattern`` with the first character written by ``char_class``
    replaced by ``char`` (which may break it)."""
    return _replace_first(parse(pattern), char_class, char, [False])


def _replace_first(node: Node, target: CharClass, char: str, done: list[bool]) -> str:
    if isinstance(node, CharClass):
        if node is target and not done[0]:
            done[0] = True
            return char
        return first_char(node)
    if isinstance(node, Repeat):
        count = max(node.low, 1) if not done[0] and target in classes(node.node) else node.low
        return "".join(_replace_first(node.node, target, char, done) for _ in range(count))
    if isinstance(node, Choice):
        return _replace_first(node.branches[0], target, char, done)
    if isinstance(node, Sequence):
        return "".join(_replace_first(child, target, char, done) for child in node.nodes)
    return render(node)


def other_counts(pattern: str) -> list[tuple[int, str]]:
    """Counts around and between what a fixed-count repeat allows, with a string of each.

    For ``i-([0-9a-f]{8}|[0-9a-f]{17})``: 7, 9, 12, 16 and 18 digits. Only repeats with a fixed
    count (``{8}``), or the branches of a choice that are each one, are measured.
    """
    found: list[tuple[int, str]] = []
    _counts(parse(pattern), parse(pattern), found)
    return found


def _counts(node: Node, root: Sequence, found: list[tuple[int, str]]) -> None:
    if isinstance(node, Sequence):
        for child in node.nodes:
            _counts(child, root, found)
    elif isinstance(node, Choice):
        repeats = [b.nodes[0] for b in node.branches if len(b.nodes) == 1]
        if len(repeats) == len(node.branches) and all(_fixed(r) for r in repeats):
            allowed = sorted({r.low for r in repeats if isinstance(r, Repeat)})
            first = repeats[0]
            assert isinstance(first, Repeat)
            for count in _near_counts(allowed):
                found.append((count, _render_with(root, node, render(first.node) * count)))
    elif isinstance(node, Repeat) and _fixed(node):
        for count in _near_counts([node.low]):
            found.append((count, _render_with(root, node, render(node.node) * count)))


def _fixed(node: Node) -> bool:
    return isinstance(node, Repeat) and node.low == node.high and node.low > 0


def _near_counts(allowed: list[int]) -> list[int]:
    """One below and one above each allowed count, and the middle of each gap between them."""
    near = {c for a in allowed for c in (a - 1, a + 1) if c >= 0}
    near |= {(a + b) // 2 for a, b in itertools.pairwise(allowed) if b - a > 2}
    return sorted(near - set(allowed))


def _render_with(node: Node, target: Node, text: str) -> str:
    """The simplest match, with ``target`` written as ``text``."""
    if node is target:
        return text
    if isinstance(node, Sequence):
        return "".join(_render_with(child, target, text) for child in node.nodes)
    if isinstance(node, Repeat):
        return _render_with(node.node, target, text) * node.low
    if isinstance(node, Choice):
        return _render_with(node.branches[0], target, text)
    return render(node)


def every_match(pattern: str, limit: int = 32) -> list[str]:
    """Every simplest match of ``pattern`` over the characters of its small classes (``[Aa]``):
    ``aws:``, ``aWs:``, ... for ``^[Aa][Ww][Ss]:``; at most ``limit`` of them."""
    return list(itertools.islice(_matches(parse(pattern)), limit))


def _matches(node: Node) -> list[str]:
    if isinstance(node, CharClass):
        small = [a for a, b in node.ranges if a == b]
        return small if len(small) == len(node.ranges) and 0 < len(small) <= 4 else [render(node)]
    if isinstance(node, Sequence):
        parts = [list(_matches(child)) for child in node.nodes]
        return ["".join(combo) for combo in itertools.product(*parts)]
    return [render(node)]
