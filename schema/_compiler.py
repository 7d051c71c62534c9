"""Compiles the contract's JSON Schema into plain Python checks.

Each schema object becomes two functions: ``valid(instance) -> bool``, a predicate generated as
Python source (``_predicates``) that builds nothing, and ``collect(instance, location, out)``,
closures that append a ``Failure`` for every assertion broken, naming the catalogue rule of the
nearest ``x-rule`` at or above the assertion. ``collect`` asks each member's and item's
predicate before descending, so a valid request costs one pass of generated predicates and no
allocation (this is what makes ``validate`` faster than botocore's own parameter validation),
and an invalid one pays for messages only where it is wrong.

The compiler knows exactly the keywords the contract uses and refuses any other assertion
keyword, so the schema cannot silently say something the checks ignore; the tests compare its
verdicts with the ``jsonschema`` library's on generated instances.

Two deliberate readings: ``integer`` means a JSON number that is not written as a float
(``1.0`` would go on the wire as ``1.0``, which EC2 rejects), and ``pattern`` has ECMA-262
semantics (see ``_ecma``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import _documents, _ecma
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


_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)
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
        "has {n} characters, fewer than {limit}",
    ),
    "maxLength": (
        lambda v: type(v) is str,
        len,
        operator.le,
        "has {n} characters, more than {limit}",
    ),
    "minimum": (_is_number, lambda v: v, operator.ge, "is {n}, less than {limit}"),
    "maximum": (_is_number, lambda v: v, operator.le, "is {n}, more than {limit}"),
    "maxItems": (lambda v: type(v) is list, len, operator.le, "has {n} items, more than {limit}"),
}


def _bound(keyword: str, limit: int, rule: str, message: str | None) -> Collect:
    applies, measure, within, text = _BOUNDS[keyword]
    return _leaf(
        lambda v: not applies(v) or within(measure(v), limit),
        rule,
        lambda v: message or text.format(n=measure(v), limit=limit),
    )


class _Compiler:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document
        self._nodes: dict[tuple[int, str], Compiled] = {}
        self._predicates = PredicateWriter(document, same_json_value)

    def node(self, schema: Any, inherited_rule: str) -> Compiled:
        """The schema object compiled; one per object and inherited rule, shared by refs."""
        key = (id(schema), inherited_rule)
        if key not in self._nodes:
            self._nodes[key] = Compiled(
                self._predicates.predicate(schema), self._collect(schema, inherited_rule)
            )
        return self._nodes[key]

    def _collect(self, schema: Any, inherited_rule: str) -> Collect:
        if schema is True:
            return _nothing
        if schema is False:
            return _leaf(lambda _: False, inherited_rule, lambda _: "is not allowed here")
        rule = schema.get("x-rule", inherited_rule)
        message = schema.get("x-message")
        parts = {
            keyword: part
            for keyword, value in schema.items()
            if (part := self._keyword(keyword, value, schema, rule, message)) is not None
        }
        typed = parts.pop("type", None)
        collect = _all_of(list(parts.values()))
        if typed is not None:
            collect = _typed(typed, collect)
        return _redacting(collect) if schema.get("x-secret") else collect

    def _keyword(
        self, keyword: str, value: Any, schema: Mapping[str, Any], rule: str, message: str | None
    ) -> Collect | None:
        if keyword in _ANNOTATIONS or keyword.startswith("x-") or keyword in ("then", "else"):
            return None
        if keyword == "additionalProperties" and "properties" in schema:
            return None  # compiled together with "properties"
        if keyword in _BOUNDS:
            return _bound(keyword, value, rule, message)
        build = getattr(self, "_" + keyword.replace("$", "dollar_"), None)
        if build is None:
            raise ValueError(f"the contract uses {keyword!r}, which the compiler does not know")
        part: Collect = build(value, schema, rule, message)
        return part

    def _dollar_ref(self, ref: str, _s: Any, rule: str, _m: Any) -> Collect:
        return self.node(_documents.resolve(self._document, ref), rule).collect

    def _type(self, names: str | list[str], _s: Any, rule: str, message: str | None) -> Collect:
        allowed = [names] if isinstance(names, str) else names
        tests = [_JSON_TYPES[name] for name in allowed]
        wanted = " or ".join(_ARTICLES.get(n, f"a {n}") for n in allowed)
        return _leaf(
            lambda v: any(test(v) for test in tests),
            rule,
            _said(message, lambda v: f"must be {wanted}, not {json_type(v)} {excerpt(v)}"),
        )

    def _enum(self, options: list[Any], _s: Any, rule: str, message: str | None) -> Collect:
        listed = ", ".join(str(o) for o in options)
        return _leaf(
            lambda v: any(same_json_value(v, o) for o in options),
            rule,
            _said(message, lambda v: f"must be one of {listed}, not {excerpt(v)}"),
        )

    def _const(self, expected: Any, _s: Any, rule: str, message: str | None) -> Collect:
        return _leaf(
            lambda v: same_json_value(v, expected),
            rule,
            _said(message, lambda v: f"must be {expected}, not {excerpt(v)}"),
        )

    def _pattern(self, pattern: str, _s: Any, rule: str, message: str | None) -> Collect:
        search = _ecma.compile_pattern(pattern).search
        return _leaf(
            lambda v: type(v) is not str or search(v) is not None,
            rule,
            _said(message, lambda v: f"does not match {pattern}: {excerpt(v)}"),
        )

    def _required(self, names: list[str], _s: Any, rule: str, message: str | None) -> Collect:
        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            if type(instance) is dict:
                for name in names:
                    if name not in instance:
                        out.append(Failure(rule, (*location, name), message or "is missing"))

        return collect

    def _properties(
        self, schemas: dict[str, Any], schema: Mapping[str, Any], rule: str, _m: Any
    ) -> Collect:
        known = {name: self.node(sub, rule) for name, sub in schemas.items()}
        extra = self.node(schema.get("additionalProperties", True), rule)

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            if type(instance) is dict:
                for name, value in instance.items():
                    known.get(name, extra).check(value, (*location, name), out)

        return collect

    def _additionalProperties(self, sub: Any, _s: Any, rule: str, _m: Any) -> Collect:
        return self._properties({}, {"additionalProperties": sub}, rule, None)

    def _items(self, sub: Any, _s: Any, rule: str, _m: Any) -> Collect:
        item = self.node(sub, rule)

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            if type(instance) is list:
                for index, value in enumerate(instance):
                    item.check(value, (*location, index), out)

        return collect

    def _allOf(self, subs: list[Any], _s: Any, rule: str, _m: Any) -> Collect:
        return _all_of([self.node(sub, rule).collect for sub in subs])

    def _not(self, sub: Any, _s: Any, rule: str, message: str | None) -> Collect:
        matches = self._predicates.predicate(sub)
        detail = message or f"must not match {sub.get('description', sub)}"
        return _leaf(lambda v: not matches(v), rule, lambda _: detail)

    def _if(self, sub: Any, schema: Mapping[str, Any], rule: str, _m: Any) -> Collect:
        condition = self._predicates.predicate(sub)
        then = self.node(schema.get("then", True), rule).collect
        otherwise = self.node(schema.get("else", True), rule).collect

        def collect(instance: Any, location: Location, out: list[Failure]) -> None:
            (then if condition(instance) else otherwise)(instance, location, out)

        return collect


def compile_schema(document: Mapping[str, Any], schema: Any = None) -> Compiled:
    """The compiled ``schema`` (default: the whole ``document``), refs resolved in it."""
    return _Compiler(document).node(document if schema is None else schema, "")
