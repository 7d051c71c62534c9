"""Writes a node's validity predicate as Python source, for speed.

Some questions are only yes or no: whether a value satisfies a sub-schema of ``not`` or ``if``,
whether a request is one an outcome rule names (``expect``). Answering through a tree of
closures costs a function call per keyword; this module writes the same tree as one
function per schema object with its keywords inlined (``allOf`` and ``$ref`` included), the way
fastjsonschema does, and compiles it with ``exec``. Members and items are inlined too, and so
are the sub-schemas of ``not`` and ``if`` when they are plain enough to be one expression;
others are calls to their own generated functions. A test that the value's type already
answers (the length of what is known to be a string) does not ask for the type again, and a
pattern anchored on a plain first character (``^[Aa]...``) has that character asked first.

The test of each assertion on a value (``failed``) is shared with ``_compiler``, which writes
the walk that says *what* is wrong into the same namespace, so that a predicate and its walk
cannot disagree on a verdict. The semantics are the compiler's (ECMA-262 patterns, integers
that are not floats); the tests check them against the ``jsonschema`` library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _ecma
from ._model import Assertion, Conditional, Members, Node

Known = tuple[str, ...]
"""The JSON types a variable is known to have where a test runs (its node's ``type`` passed
before), so that the test need not ask again; empty where nothing is known."""
NEVER_FAILS = "False"
"""What ``failed`` answers for an assertion the known type already satisfies."""

_TYPE_TESTS = {
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "string": "type({v}) is str",
    "boolean": "{v} is True or {v} is False",
    "integer": "type({v}) is int",
    "number": "type({v}) is int or type({v}) is float",
    "null": "{v} is None",
}
# keyword: (the JSON type it applies to, the test that it fails on such a value)
_BOUNDS = {
    "minLength": ("string", "len({v}) < {limit}"),
    "maxLength": ("string", "len({v}) > {limit}"),
    "minimum": ("number", "{v} < {limit}"),
    "maximum": ("number", "{v} > {limit}"),
    "maxItems": ("array", "len({v}) > {limit}"),
}
_FAIL = "return False"


def known_to_be(known: Known, json_type: str) -> bool:
    """Whether a value of the ``known`` types is surely a ``json_type`` (an integer is a
    number)."""
    return bool(known) and all(
        t == json_type or (t, json_type) == ("integer", "number") for t in known
    )


def applies(json_type: str, v: str, known: Known) -> str | None:
    """The test that ``v`` is a ``json_type``, which an assertion about such values asks first;
    ``None`` when ``known`` already says so."""
    if known_to_be(known, json_type):
        return None
    return f"({_TYPE_TESTS[json_type].format(v=v)})"


def within(test: str | None, lines: list[str]) -> list[str]:
    """``lines`` run only when ``test`` holds (always, for ``None``)."""
    return lines if test is None or not lines else [f"if {test}:", *indent(lines)]


_SPECIAL = frozenset("^$\\.*+?()[]{}|/")


def anchored_start(pattern: str) -> frozenset[str] | None:
    """The characters a string matching the ECMA-262 ``pattern`` starts with, where the pattern
    says so plainly: anchored (``^``), without alternatives, its first element one character or
    a set of plain ones, not repeated (``^[Aa][Ww][Ss]:...`` starts with ``A`` or ``a``);
    ``None`` for any other pattern."""
    if not pattern.startswith("^") or "|" in pattern:
        return None
    element = pattern[1:]
    if element[:1] == "\\" and element[1:2] and not element[1].isalnum():
        starts, rest = frozenset(element[1]), element[2:]
    elif element[:1] == "[" and "]" in element[2:]:
        listed, rest = element[1:].split("]", 1)
        if not listed or any(c in _SPECIAL or c == "-" for c in listed):
            return None
        starts = frozenset(listed)
    elif element[:1] and element[0] not in _SPECIAL:
        starts, rest = frozenset(element[0]), element[1:]
    else:
        return None
    return None if rest[:1] in ("?", "*", "+", "{") else starts


def _guarded(json_type: str, test: str, v: str, known: Known) -> str:
    guard = applies(json_type, v, known)
    return test if guard is None else f"{guard} and {test}"


class PredicateWriter:
    """Generates and caches one predicate function per node, in a namespace others may write
    their own generated functions into (``define``)."""

    def __init__(self, same_json_value: Callable[[Any, Any], bool]):
        self.namespace: dict[str, Any] = {"_same": same_json_value}
        self._names: dict[int, str] = {}

    def predicate(self, node: Node) -> Callable[[Any], bool]:
        """The function ``valid(instance) -> bool`` for ``node``."""
        function: Callable[[Any], bool] = self.namespace[self.name(node)]
        return function

    def name(self, node: Node) -> str:
        """The name of ``node``'s predicate in the namespace, generated on first use."""
        key = id(node)
        if key not in self._names:
            name = f"_valid_{len(self._names)}"
            self._names[key] = name
            self.define([f"def {name}(v):", *indent(self._body(node, "v", ())), "    return True"])
        return self._names[key]

    def define(self, source: list[str]) -> None:
        """Run generated source (ours, never the input's) in the namespace."""
        exec("\n".join(source), self.namespace)

    def constant(self, value: Any) -> str:
        """A name for ``value`` in the namespace, for generated source to use."""
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def failed(self, assertion: Assertion, v: str, known: Known) -> str | None:
        """The expression that is true when the variable ``v`` breaks ``assertion``, for the
        assertions about the value itself (``NEVER_FAILS`` when ``known`` settles it); ``None``
        for those about its parts (``properties``, ``items``, ``required``) and those that hold
        others (``allOf``, ``$ref``, ``if``)."""
        keyword, value = assertion.keyword, assertion.value
        if keyword == "type":
            if known and set(known) <= set(value):
                return NEVER_FAILS
            return f"not ({' or '.join(_TYPE_TESTS[n].format(v=v) for n in value)})"
        if keyword in ("enum", "const"):
            return self._option_failed(keyword, value, v, known)
        if keyword in _BOUNDS:
            json_type, test = _BOUNDS[keyword]
            return _guarded(json_type, test.format(v=v, limit=int(value)), v, known)
        if keyword == "pattern":
            test = f"{self.constant(_ecma.compile_pattern(value).search)}({v}) is None"
            starts = anchored_start(value)
            if starts is not None:  # a slice and a set ask the first character sooner
                test = f"({v}[:1] not in {self.constant(starts)} or {test})"
            return _guarded("string", test, v, known)
        if keyword == "not":
            return self.satisfied(value, v, known)
        return None

    def _option_failed(self, keyword: str, value: Any, v: str, known: Known) -> str:
        options = tuple(value) if keyword == "enum" else (value,)
        if all(type(o) is str for o in options):  # JSON equality of strings: their own
            test = f"{v} in {self.constant(frozenset(options))}"
            if len(options) == 1:
                test = f"{v} == {self.constant(options[0])}"
            return f"not ({_guarded('string', test, v, known)})"
        if keyword == "const":
            return f"not _same({v}, {self.constant(value)})"
        return f"not any(_same({v}, o) for o in {self.constant(list(value))})"

    def satisfied(self, node: Node, v: str, known: Known) -> str:
        """An expression true when ``v`` satisfies ``node``: inlined when the node is plain
        (assertions about the value, ``required``, members that are plain), else a call."""
        tests = self._plain_tests(node, v, known)
        if tests is None:
            return f"{self.name(node)}({v})"
        tests = [test for test in tests if test != NEVER_FAILS]
        return f"not ({' or '.join(tests)})" if tests else "True"

    def _plain_tests(self, node: Node, v: str, known: Known) -> list[str] | None:
        """The failure tests of a plain node, its type first; ``None`` for another node."""
        if node.never:
            return ["True"]
        typed, rest = _typed(node)
        type_failed, known = self.type_test(typed, v, known)
        tests = [] if type_failed is None else [type_failed]
        for assertion in rest:
            test = self.failed(assertion, v, known)
            if test is None:
                test = self._structure_failed(assertion, v, known)
            if test is None:
                return None
            tests.append(test)
        return tests

    def type_test(self, typed: Assertion | None, v: str, known: Known) -> tuple[str | None, Known]:
        """The failure test of a node's ``type`` (``None`` where none is needed), and what is
        known of the value past it."""
        failed = NEVER_FAILS if typed is None else self.failed(typed, v, known)
        if typed is None or failed is None or failed == NEVER_FAILS:
            return None, known
        return failed, tuple(typed.value)

    def _structure_failed(self, assertion: Assertion, v: str, known: Known) -> str | None:
        """The failure test of a ``required``, or of ``properties`` of plain members only."""
        if assertion.keyword == "required":
            present = " and ".join(f"{name!r} in {v}" for name in assertion.value) or "True"
            return _guarded("object", f"not ({present})", v, known)
        members: Members = assertion.value
        if assertion.keyword != "properties" or members.other is not None:
            return None
        wrong: list[str] = []
        for name, sub in members.named.items():
            tests = self._plain_tests(sub, f"{v}[{name!r}]", ())
            if tests is None:
                return None
            tests = [test for test in tests if test != NEVER_FAILS]
            if tests:
                wrong.append(f"({name!r} in {v} and ({' or '.join(tests)}))")
        return _guarded("object", f"({' or '.join(wrong)})", v, known) if wrong else NEVER_FAILS

    def _body(self, node: Node, v: str, known: Known) -> list[str]:
        """Statements that ``return False`` when the variable ``v`` does not satisfy ``node``."""
        if node.never:
            return [_FAIL]
        typed, rest = _typed(node)
        type_failed, known = self.type_test(typed, v, known)
        lines = [] if type_failed is None else [f"if {type_failed}: {_FAIL}"]
        return lines + [line for assertion in rest for line in self._assertion(assertion, v, known)]

    def _assertion(self, assertion: Assertion, v: str, known: Known) -> list[str]:
        keyword, value = assertion.keyword, assertion.value
        failed = self.failed(assertion, v, known)
        if failed is not None:
            return [] if failed == NEVER_FAILS else [f"if {failed}: {_FAIL}"]
        if keyword == "required":
            return [f"if {self._structure_failed(assertion, v, known)}: {_FAIL}"]
        if keyword == "properties":
            return within(applies("object", v, known), self._properties(value, v))
        if keyword == "items":
            item = next_variable(v)
            loop = [f"for {item} in {v}:", *indent(self._body(value, item, ()))]
            return within(applies("array", v, known), loop)
        if keyword == "allOf":
            return [line for sub in value for line in self._body(sub, v, known)]
        if keyword == "$ref":
            return self._body(value, v, known)
        return self._conditional(value, v, known)  # "if", the one keyword left

    def _conditional(self, conditional: Conditional, v: str, known: Known) -> list[str]:
        then = self._body(conditional.then, v, known) if conditional.then else []
        otherwise = self._body(conditional.otherwise, v, known) if conditional.otherwise else []
        if not then and not otherwise:
            return []
        test = f"if {self.satisfied(conditional.condition, v, known)}:"
        return [test, *indent(then or ["pass"]), "else:", *indent(otherwise or ["pass"])]

    def _properties(self, members: Members, v: str) -> list[str]:
        member = next_variable(v)
        lines: list[str] = []
        for name, sub in members.named.items():
            body = self._body(sub, member, ())
            if body:
                lines += [f"if {name!r} in {v}:", f"    {member} = {v}[{name!r}]"]
                lines += indent(body)
        if members.other is not None:
            known = self.constant(frozenset(members.named))
            other = self.satisfied(members.other, f"{v}[k]", ())
            lines += [
                f"if not {known}.issuperset({v}):",
                f"    for k in {v}.keys() - {known}:",
                f"        if not {other}: {_FAIL}",
            ]
        return lines


def _typed(node: Node) -> tuple[Assertion | None, list[Assertion]]:
    """The node's ``type`` assertion, which is tested first, and the others in order."""
    typed = next((a for a in node.assertions if a.keyword == "type"), None)
    return typed, [a for a in node.assertions if a.keyword != "type"]


def next_variable(variable: str) -> str:
    """A fresh variable name one level below ``variable`` (v, x1, x2, ...)."""
    return "x1" if variable == "v" else f"x{int(variable[1:]) + 1}"


def indent(lines: list[str], levels: int = 1) -> list[str]:
    return ["    " * levels + line for line in lines]
