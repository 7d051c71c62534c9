"""Compiles the contract's nodes (``_model``) into plain Python checks.

Each node (a schema object) becomes two functions: ``valid(instance) -> bool``, a predicate
generated as Python source (``_predicates``) that builds nothing, and ``collect(instance,
location, out)``, closures that append a ``Failure`` for every assertion broken, naming the
catalogue rule of the nearest ``x-rule`` at or above the assertion. ``collect`` asks each
member's and item's
predicate before descending, so a valid request costs one pass of generated predicates and no
allocation (this is what makes ``validate`` faster than botocore's own parameter validation),
and an invalid one pays for messages only where it is wrong.

The model has refused any keyword it does not know; each assertion it knows compiles here. The
tests compare the verdicts with the ``jsonschema`` library's on generated instances.

Two deliberate readings: ``integer`` means a JSON number that is not written as a float
(``1.0`` would go on the wire as ``1.0``, which EC2 rejects), and ``pattern`` has ECMA-262
semantics (see ``_ecma``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from . import _ecma
from ._model import Assertion, Conditional, Members, Node
from ._predicates import PredicateWriter

Location = tuple[str | int, ...]
Predicate = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Failure:
    """An assertion an instance broke: the rule it belongs to, where, and how."""

    rule: str
    location: Location
    detail: str


Collect = Callable[[Any, Location, list[Failure]], None]
"""Appends the failures of an instance, or nothing when it satisfies what is checked."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """A schema object: its generated predicate, and the walk that says what is wrong."""

    valid: Predicate
    collect: Collect

    def check(self, instance: Any, location: Location, out: list[Failure]) -> None:
        """Append every failure of ``instance``, asking the fast predicate first."""
        if not self.valid(instance):
            self.collect(instance, location, out)


_JSON_TYPES: dict[str, Predicate] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "boolean": lambda v: v is True or v is False,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "null": lambda v: v is None,
}
_ARTICLES = {"object": "an object", "array": "an array", "integer": "an integer"}


def json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value (a float is a ``number``)."""
    for name in ("boolean", "integer", "number", "string", "object", "array", "null"):
        if _JSON_TYPES[name](value):
            return name
    return type(value).__name__


def excerpt(value: Any, limit: int = 40) -> str:
    """A short, printable rendering of a value for messages."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


def same_json_value(a: Any, b: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    return bool(a == b)


def _leaf(valid: Predicate, rule: str, detail: Callable[[Any], str]) -> Collect:
    """An assertion on the instance itself; a failure is one ``Failure`` at its location."""

    def collect(instance: Any, location: Location, out: list[Failure]) -> None:
        if not valid(instance):
            out.append(Failure(rule, location, detail(instance)))

    return collect


def _said(message: str | None, default: Callable[[Any], str]) -> Callable[[Any], str]:
    """The schema's own message for a failure, with the value that broke it, or the default."""
    if message is None:
        return default
    return lambda instance: f"{message}, not {excerpt(instance)}"


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _typed(type_check: Collect, rest: Collect) -> Collect:
    """A value of the wrong type is reported once: for its type, not also for its bounds."""

    def collect(instance: Any, location: Location, out: list[Failure]) -> None:
        before = len(out)
        type_check(instance, location, out)
        if len(out) == before:
            rest(instance, location, out)

    return collect


REDACTED = "<redacted>"


def _redacting(collect: Collect) -> Collect:
    """Messages about a secret value (a key id, a signature, a token) do not repeat it."""

    def redacted(instance: Any, location: Location, out: list[Failure]) -> None:
        found: list[Failure] = []
        collect(instance, location, found)
        shown = excerpt(instance)
        out += [Failure(f.rule, f.location, f.detail.replace(shown, REDACTED)) for f in found]

    return redacted


def _nothing(instance: Any, location: Location, out: list[Failure]) -> None:
    return None


def _all_of(parts: list[Collect]) -> Collect:
    if not parts:
        return _nothing
    if len(parts) == 1:
        return parts[0]

    def collect(instance: Any, location: Location, out: list[Failure]) -> None:
        for part in parts:
            part(instance, location, out)

    return collect


# keyword: (the instances it applies to, what it measures, the test, the message)
_BOUNDS: dict[str, tuple[Predicate, Callable[[Any], Any], Callable[[Any, Any], bool], str]] = {
    "minLength": (
        lambda v: type(v) is str,
        len,
        operator.ge,
        "has {n} character{s}, fewer than {limit}",
    ),
    "maxLength": (
        lambda v: type(v) is str,
        len,
        operator.le,
        "has {n} character{s}, more than {limit}",
    ),
    "minimum": (_is_number, lambda v: v, operator.ge, "is {n}, less than {limit}"),
    "maximum": (_is_number, lambda v: v, operator.le, "is {n}, more than {limit}"),
    "maxItems": (lambda v: type(v) is list, len, operator.le, "has {n} item{s}, more than {limit}"),
}


def _bound(keyword: str, limit: int, rule: str, message: str | None) -> Collect:
    applies, measure, within, text = _BOUNDS[keyword]

    def said(value: Any) -> str:
        n = measure(value)
        return message or text.format(n=n, limit=limit, s="" if n == 1 else "s")  # 1 character

    return _leaf(lambda v: not applies(v) or within(measure(v), limit), rule, said)


class _Compiler:
    def __init__(self) -> None:
        self._compiled: dict[int, Compiled] = {}
        self._predicates = PredicateWriter(same_json_value)

    def compiled(self, node: Node) -> Compiled:
        """The node compiled; one per node (nodes are shared by refs)."""
        if id(node) not in self._compiled:
            self._compiled[id(node)] = Compiled(
                self._predicates.predicate(node), self._collect(node)
            )
        return self._compiled[id(node)]

    def _collect(self, node: Node) -> Collect:
        if node.never:
            return _leaf(lambda _: False, node.rule, lambda _: "is not allowed here")
        typed: Collect | None = None
        parts: list[Collect] = []
        for assertion in node.assertions:
            part = self._assertion(assertion, node)
            if assertion.keyword == "type":
                typed = part
            else:
                parts.append(part)
        collect = _all_of(parts)
        if typed is not None:
            collect = _typed(typed, collect)
        return _redacting(collect) if node.secret else collect

    def _assertion(self, assertion: Assertion, node: Node) -> Collect:
        keyword, value, rule, message = assertion.keyword, assertion.value, node.rule, node.message
        if keyword in _BOUNDS:
            return _bound(keyword, value, rule, message)
        build: Callable[[Any, Node], Collect] = getattr(self, "_" + keyword.replace("$", "dollar_"))
        return build(value, node)

    def _dollar_ref(self, target: Node, _: Node) -> Collect:
        return self.compiled(target).collect

    def _type(self, names: tuple[str, ...], node: Node) -> Collect:
        tests = [_JSON_TYPES[name] for name in names]
        wanted = " or ".join(_ARTICLES.get(n, f"a {n}") for n in names)
        return _leaf(
            lambda v: any(test(v) for test in tests),
            node.rule,
            _said(node.message, lambda v: f"must be {wanted}, not {json_type(v)} {excerpt(v)}"),
        )

    def _enum(self, options: tuple[Any, ...], node: Node) -> Collect:
        listed = ", ".join(str(o) for o in options)
        return _leaf(
            lambda v: any(same_json_value(v, o) for o in options),
            node.rule,
            _said(node.message, lambda v: f"must be one of {listed}, not {excerpt(v)}"),
        )

    def _const(self, expected: Any, node: Node) -> Collect:
        return _leaf(
            lambda v: same_json_value(v, expected),
            node.rule,
            _said(node.message, lambda v: f"must be {expected}, not {excerpt(v)}"),
        )

    def _pattern(self, pattern: str, node: Node) -> Collect:
        search = _ecma.compile_pattern(pattern).search
        return _leaf(
            lambda v: type(v) is not str or search(v) is not None,
            node.rule,
            _said(node.message, lambda v: f"does not match {pattern}: {excerpt(v)}"),
        )

    def _required(self, names: tuple[str, ...], node: Node) -> Collect:
        rule, message = node.rule, node.message

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            if type(instance) is dict:
                for name in names:
                    if name not in instance:
                        out.append(Failure(rule, (*location, name), message or "is missing"))

        return collect

    def _properties(self, members: Members, _: Node) -> Collect:
        known = {name: self.compiled(sub) for name, sub in members.named.items()}
        extra = self.compiled(members.other) if members.other is not None else None

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            if type(instance) is dict:
                for name, value in instance.items():
                    compiled = known.get(name, extra)
                    if compiled is not None:
                        compiled.check(value, (*location, name), out)

        return collect

    def _items(self, sub: Node, _: Node) -> Collect:
        item = self.compiled(sub)

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            if type(instance) is list:
                for index, value in enumerate(instance):
                    item.check(value, (*location, index), out)

        return collect

    def _allOf(self, subs: tuple[Node, ...], _: Node) -> Collect:
        return _all_of([self.compiled(sub).collect for sub in subs])

    def _not(self, sub: Node, node: Node) -> Collect:
        matches = self._predicates.predicate(sub)
        detail = node.message or f"must not match {sub.description or sub}"
        return _leaf(lambda v: not matches(v), node.rule, lambda _: detail)

    def _if(self, conditional: Conditional, _: Node) -> Collect:
        condition = self._predicates.predicate(conditional.condition)
        then = self.compiled(conditional.then).collect if conditional.then else _nothing
        otherwise = (
            self.compiled(conditional.otherwise).collect if conditional.otherwise else _nothing
        )

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            (then if condition(instance) else otherwise)(instance, location, out)

        return collect


@cache
def _compiler() -> _Compiler:
    return _Compiler()


def compiled(node: Node) -> Compiled:
    """``node`` (of the contract) compiled into its predicate and its walk."""
    return _compiler().compiled(node)


def predicate(node: Node) -> Predicate:
    """Whether a value satisfies ``node`` (of the contract): its generated predicate."""
    return compiled(node).valid
