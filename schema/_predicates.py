"""Writes a node's validity predicate as Python source, for speed.

Most requests are valid, and for them the only question is yes or no. Answering it through a
tree of closures costs a function call per keyword; this module writes the same tree as one
function per schema object with its keywords inlined (``allOf`` and ``$ref`` included), the way
fastjsonschema does, and compiles it with ``exec``. Members and items are inlined too; the
sub-schemas of ``not`` and ``if`` are calls to their own generated functions.

Only the predicate is generated. Finding out *what* is wrong stays in ``_compiler``'s closures,
which ask these predicates which parts to descend into. The semantics are the compiler's
(ECMA-262 patterns, integers that are not floats); the tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _ecma
from ._model import Assertion, Conditional, Members, Node

_TYPE_TESTS = {
    "object": "type({v}) is dict",
    "array": "type({v}) is list",
    "string": "type({v}) is str",
    "boolean": "{v} is True or {v} is False",
    "integer": "type({v}) is int",
    "number": "type({v}) is int or type({v}) is float",
    "null": "{v} is None",
}


class PredicateWriter:
    """Generates and caches one predicate function per node."""

    def __init__(self, same_json_value: Callable[[Any, Any], bool]):
        self._namespace: dict[str, Any] = {"_same": same_json_value}
        self._names: dict[int, str] = {}

    def predicate(self, node: Node) -> Callable[[Any], bool]:
        """The function ``valid(instance) -> bool`` for ``node``."""
        function: Callable[[Any], bool] = self._namespace[self._function(node)]
        return function

    def _function(self, node: Node) -> str:
        key = id(node)
        if key not in self._names:
            name = f"_valid_{len(self._names)}"
            self._names[key] = name
            source = [f"def {name}(v):", *_indent(self._body(node, "v")), "    return True"]
            exec("\n".join(source), self._namespace)  # source we generated ourselves
        return self._names[key]

    def _constant(self, value: Any) -> str:
        name = f"_k{len(self._namespace)}"
        self._namespace[name] = value
        return name

    def _body(self, node: Node, v: str) -> list[str]:
        """Statements that ``return False`` when the variable ``v`` does not satisfy ``node``."""
        if node.never:
            return ["return False"]
        return [line for assertion in node.assertions for line in self._assertion(assertion, v)]

    def _assertion(self, assertion: Assertion, v: str) -> list[str]:
        keyword, value = assertion.keyword, assertion.value
        fail = "return False"
        if keyword == "type":
            return [f"if not ({' or '.join(_TYPE_TESTS[n].format(v=v) for n in value)}): {fail}"]
        if keyword == "enum" and all(type(o) is str for o in value):
            options = self._constant(frozenset(value))
            return [f"if not (type({v}) is str and {v} in {options}): {fail}"]
        if keyword == "enum":
            return [f"if not any(_same({v}, o) for o in {self._constant(list(value))}): {fail}"]
        if keyword == "const":
            return [f"if not _same({v}, {self._constant(value)}): {fail}"]
        if keyword in _SIMPLE:
            return [_SIMPLE[keyword].format(v=v, limit=int(value)) + f": {fail}"]
        if keyword == "pattern":
            search = self._constant(_ecma.compile_pattern(value).search)
            return [f"if type({v}) is str and {search}({v}) is None: {fail}"]
        if keyword == "required":
            present = " and ".join(f"{name!r} in {v}" for name in value) or "True"
            return [f"if type({v}) is dict and not ({present}): {fail}"]
        if keyword == "properties":
            return self._properties(value, v)
        if keyword == "items":
            item = _next(v)
            return [
                f"if type({v}) is list:",
                f"    for {item} in {v}:",
                *_indent(self._body(value, item), 2),
            ]
        if keyword == "allOf":
            return [line for sub in value for line in self._body(sub, v)]
        if keyword == "$ref":
            return self._body(value, v)
        if keyword == "not":
            return [f"if {self._function(value)}({v}): {fail}"]
        return self._conditional(value, v)  # "if", the one keyword left

    def _conditional(self, conditional: Conditional, v: str) -> list[str]:
        then = _indent(self._body(conditional.then, v)) if conditional.then else []
        otherwise = _indent(self._body(conditional.otherwise, v)) if conditional.otherwise else []
        test = f"if {self._function(conditional.condition)}({v}):"
        return [test, *(then or ["    pass"]), "else:", *(otherwise or ["    pass"])]

    def _properties(self, members: Members, v: str) -> list[str]:
        member = _next(v)
        lines = [f"if type({v}) is dict:"]
        for name, sub in members.named.items():
            body = self._body(sub, member)
            if body:
                lines += [f"    if {name!r} in {v}:", f"        {member} = {v}[{name!r}]"]
                lines += _indent(body, 2)
        if members.other is not None:
            known = self._constant(frozenset(members.named))
            lines += [
                f"    if not {known}.issuperset({v}):",
                f"        for k in {v}.keys() - {known}:",
                f"            if not {self._function(members.other)}({v}[k]): return False",
            ]
        return lines


_SIMPLE = {
    "minLength": "if type({v}) is str and len({v}) < {limit}",
    "maxLength": "if type({v}) is str and len({v}) > {limit}",
    "minimum": "if (type({v}) is int or type({v}) is float) and {v} < {limit}",
    "maximum": "if (type({v}) is int or type({v}) is float) and {v} > {limit}",
    "maxItems": "if type({v}) is list and len({v}) > {limit}",
}


def _next(variable: str) -> str:
    """A fresh variable name one level below ``variable`` (v, x1, x2, ...)."""
    return "x1" if variable == "v" else f"x{int(variable[1:]) + 1}"


def _indent(lines: list[str], levels: int = 1) -> list[str]:
    return ["    " * levels + line for line in lines]
