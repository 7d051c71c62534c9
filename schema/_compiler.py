"""Compiles the contract's nodes (``_model``) into plain Python checks, written as source.

Each node (a schema object) becomes two generated functions: ``valid(instance) -> bool``, the
predicate (``_predicates``), which builds nothing, and ``collect(instance, location, out)``,
the walk, which appends a ``Failure`` for every assertion broken, naming the catalogue rule of
the nearest ``x-rule`` at or above the assertion. The walk is the predicate's code with each
``return False`` turned into an append: the same tests (``PredicateWriter.failed``), inlined
the same way, so a valid part costs about what it costs the predicate, and a wrong one pays
for its location and message only in the branch that appends them. ``validate`` walks every
request; it does not ask the predicate first, which would cost a wrong request twice.

The walk reports in document order: members in the order the instance has them, items in
order, and, within a value, its type first (a value of the wrong type is reported for its type
alone), then its assertions as the schema writes them. Members are looked up in the schema's
order, as the predicate does; when more than one member of an object fails, their failures
are put back in the instance's order.

The model has refused any keyword it does not know; each assertion it knows compiles here. The
tests compare the verdicts with the ``jsonschema`` library's on generated instances.

Two deliberate readings: ``integer`` means a JSON number that is not written as a float
(``1.0`` would go on the wire as ``1.0``, which EC2 rejects), and ``pattern`` has ECMA-262
semantics (see ``_ecma``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ._model import Assertion, Conditional, Members, Node
from ._predicates import (
    NEVER_FAILS,
    Known,
    PredicateWriter,
    applies,
    indent,
    next_variable,
    within,
)

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


# --- messages ----------------------------------------------------------------------------------

Detail = str | Callable[[Any], str]
"""How a failure is worded: a fixed text, or one made from the value that broke the assertion."""

# keyword: (what it measures, the message)
_BOUNDS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "minLength": (len, "has {n} character{s}, fewer than {limit}"),
    "maxLength": (len, "has {n} character{s}, more than {limit}"),
    "minimum": (lambda v: v, "is {n}, less than {limit}"),
    "maximum": (lambda v: v, "is {n}, more than {limit}"),
    "maxItems": (len, "has {n} item{s}, more than {limit}"),
}


def _bound_detail(keyword: str, limit: Any) -> Callable[[Any], str]:
    measure, text = _BOUNDS[keyword]

    def detail(value: Any) -> str:
        n = measure(value)
        return text.format(n=n, limit=limit, s="" if n == 1 else "s")  # 1 character

    return detail


def _default_detail(keyword: str, value: Any) -> Callable[[Any], str]:
    """The message of a failed ``type``, ``enum``, ``const`` or ``pattern``."""
    if keyword == "type":
        wanted = " or ".join(_ARTICLES.get(n, f"a {n}") for n in value)
        return lambda v: f"must be {wanted}, not {json_type(v)} {excerpt(v)}"
    if keyword == "enum":
        listed = ", ".join(str(o) for o in value)
        return lambda v: f"must be one of {listed}, not {excerpt(v)}"
    if keyword == "const":
        return lambda v: f"must be {value}, not {excerpt(v)}"
    return lambda v: f"does not match {value}: {excerpt(v)}"


def detail(assertion: Assertion, node: Node) -> Detail:
    """The message of a failure of ``assertion``, an assertion about the value itself: the
    schema's own (``x-message``, with the value that broke it where it names one), or ours."""
    keyword, value, message = assertion.keyword, assertion.value, node.message
    if keyword in _BOUNDS:
        return message or _bound_detail(keyword, value)
    if keyword == "not":
        return message or f"must not match {value.description or value}"
    if message is None:
        return _default_detail(keyword, value)
    return lambda v: f"{message}, not {excerpt(v)}"


REDACTED = "<redacted>"


def _redacting(collect: Collect) -> Collect:
    """Messages about a secret value (a key id, a signature, a token) do not repeat it."""

    def redacted(instance: Any, location: Location, out: list[Failure]) -> None:
        start = len(out)
        collect(instance, location, out)
        if len(out) > start:
            shown = excerpt(instance)
            out[start:] = [
                Failure(f.rule, f.location, f.detail.replace(shown, REDACTED)) for f in out[start:]
            ]

    return redacted


def _in_order(out: list[Failure], start: int, instance: dict[Any, Any], depth: int) -> None:
    """The failures appended since ``start`` by the members of ``instance``, which are checked
    in the schema's order, put back in the instance's order (the member's name is the segment
    ``depth`` of their location). A stable sort: each member's own failures keep their order."""
    position = {name: index for index, name in enumerate(instance)}
    out[start:] = sorted(out[start:], key=lambda failure: position[failure.location[depth]])


# --- the walks ---------------------------------------------------------------------------------

At = tuple[str, tuple[str, ...]]
"""A location in generated source: the variable holding its start, and the expressions of the
segments after it (member names, loop indices). It is built only where a failure is appended."""


def _location(at: At) -> str:
    start, segments = at
    return f"({', '.join(('*' + start, *segments))})" if segments else start


def _below(at: At, segment: str) -> At:
    return at[0], (*at[1], segment)


class _WalkWriter:
    """Generates the walk of a node: ``collect(v, loc, out)``, its predicate's tests inlined the
    same way, each failure appended with its rule, location and message. The local ``n`` counts
    the failures in ``out``, so that telling whether a part added any costs no call."""

    def __init__(self, predicates: PredicateWriter) -> None:
        self._predicates = predicates
        self._names: dict[int, str] = {}
        predicates.namespace.update(_Failure=Failure, _in_order=_in_order)

    def walk(self, node: Node) -> Collect:
        collect: Collect = self._predicates.namespace[self._function(node)]
        return collect

    def _function(self, node: Node) -> str:
        key = id(node)
        if key not in self._names:
            name = f"_collect_{len(self._names)}"
            self._names[key] = name
            body = self._own(node, "v", ("loc", ()), ())
            self._predicates.define(
                [f"def {name}(v, loc, out):", "    n = len(out)", *indent(body)]
            )
            if node.secret:
                namespace = self._predicates.namespace
                namespace[name] = _redacting(namespace[name])
        return self._names[key]

    def _node(self, node: Node, v: str, at: At, known: Known) -> list[str]:
        """Statements that append the failures of the variable ``v`` against ``node``."""
        if node.secret:  # its own function, which redacts; asked only when the value is wrong
            call = f"{self._function(node)}({v}, {_location(at)}, out)"
            return [
                f"if not {self._predicates.name(node)}({v}):",
                f"    {call}",
                "    n = len(out)",
            ]
        return self._own(node, v, at, known)

    def _own(self, node: Node, v: str, at: At, known: Known) -> list[str]:
        if node.never:
            return self._append(node.rule, at, repr("is not allowed here"))
        typed = next((a for a in node.assertions if a.keyword == "type"), None)
        type_failed, known = self._predicates.type_test(typed, v, known)
        checks: list[str] = []
        for assertion in node.assertions:
            if assertion is not typed:
                checks += self._assertion(assertion, node, v, at, known)
        if typed is None or type_failed is None:
            return checks
        # A value of the wrong type is reported once: for its type, not also for its bounds.
        lines = [
            f"if {type_failed}:",
            *indent(self._append(node.rule, at, self._said(typed, node, v))),
        ]
        return [*lines, "else:", *indent(checks)] if checks else lines

    def _append(self, rule: str, at: At, said: str) -> list[str]:
        return [f"out.append(_Failure({rule!r}, {_location(at)}, {said}))", "n += 1"]

    def _said(self, assertion: Assertion, node: Node, v: str) -> str:
        """The source of the message of a failure of ``assertion`` by ``v``."""
        said = detail(assertion, node)
        return repr(said) if isinstance(said, str) else f"{self._predicates.constant(said)}({v})"

    def _assertion(
        self, assertion: Assertion, node: Node, v: str, at: At, known: Known
    ) -> list[str]:
        keyword, value = assertion.keyword, assertion.value
        failed = self._predicates.failed(assertion, v, known)
        if failed is not None:
            if failed == NEVER_FAILS:
                return []
            return [
                f"if {failed}:",
                *indent(self._append(node.rule, at, self._said(assertion, node, v))),
            ]
        if keyword == "required":
            return within(applies("object", v, known), self._required(value, node, v, at))
        if keyword == "properties":
            return within(applies("object", v, known), self._properties(value, v, at))
        if keyword == "items":
            return within(applies("array", v, known), self._items(value, v, at))
        if keyword == "allOf":
            return [line for sub in value for line in self._node(sub, v, at, known)]
        if keyword == "$ref":
            return self._node(value, v, at, known)
        return self._conditional(value, v, at, known)  # "if", the one keyword left

    def _required(self, names: tuple[str, ...], node: Node, v: str, at: At) -> list[str]:
        said = repr(node.message or "is missing")
        lines: list[str] = []
        for name in names:
            lines += [f"if {name!r} not in {v}:"]
            lines += indent(self._append(node.rule, _below(at, repr(name)), said))
        return lines

    def _items(self, item_node: Node, v: str, at: At) -> list[str]:
        item = next_variable(v)
        index = "i" + item[1:]
        body = self._node(item_node, item, _below(at, index), ())
        return [f"for {index}, {item} in enumerate({v}):", *indent(body)] if body else []

    def _properties(self, members: Members, v: str, at: At) -> list[str]:
        """The members the schema names, in its order, then any other, in the instance's; the
        failures of more than one member are then put in the instance's order."""
        member = next_variable(v)
        start = "m" + member[1:]
        lines = [f"{start} = n"]
        for name, sub in members.named.items():
            body = self._node(sub, member, _below(at, repr(name)), ())
            if body:
                lines += [f"if {name!r} in {v}:", f"    {member} = {v}[{name!r}]", *indent(body)]
        key = "k" + member[1:]
        other: list[str] = []
        if members.other is not None:
            other = self._node(members.other, member, _below(at, key), ())
        if other:
            known = self._predicates.constant(frozenset(members.named))
            lines += [
                f"if not {known}.issuperset({v}):",
                f"    for {key} in {v}:",
                f"        if {key} not in {known}:",
                f"            {member} = {v}[{key}]",
                *indent(other, 3),
            ]
        depth = f"len(loc) + {len(at[1])}"
        return [*lines, f"if n - {start} > 1: _in_order(out, {start}, {v}, {depth})"]

    def _conditional(self, conditional: Conditional, v: str, at: At, known: Known) -> list[str]:
        then = self._node(conditional.then, v, at, known) if conditional.then else []
        otherwise = self._node(conditional.otherwise, v, at, known) if conditional.otherwise else []
        if not then and not otherwise:
            return []
        test = f"if {self._predicates.satisfied(conditional.condition, v, known)}:"
        return [test, *indent(then or ["pass"]), "else:", *indent(otherwise or ["pass"])]


class _Compiler:
    def __init__(self) -> None:
        self._compiled: dict[int, Compiled] = {}
        self._predicates = PredicateWriter(same_json_value)
        self._walks = _WalkWriter(self._predicates)

    def compiled(self, node: Node) -> Compiled:
        """The node compiled; one per node (nodes are shared by refs)."""
        if id(node) not in self._compiled:
            self._compiled[id(node)] = Compiled(self.predicate(node), self._walks.walk(node))
        return self._compiled[id(node)]

    def predicate(self, node: Node) -> Predicate:
        return self._predicates.predicate(node)


@cache
def _compiler() -> _Compiler:
    return _Compiler()


def compiled(node: Node) -> Compiled:
    """``node`` (of the contract) compiled into its predicate and its walk."""
    return _compiler().compiled(node)


def predicate(node: Node) -> Predicate:
    """Whether a value satisfies ``node`` (of the contract): its generated predicate."""
    return _compiler().predicate(node)
