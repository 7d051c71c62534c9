"""The contract as a typed model: the request schema read once, every keyword known here.

``request.schema.json`` is JSON; everything that interprets it (the validator and its generated
predicates, the wire format, the strategies, the reference implementation, the checks) reads
this model instead, so that the schema is interpreted in one place. Three views of it:

- ``Node``: one schema object, ``$ref`` resolved, with its assertions in document order and the
  rule a failure of each breaks (the nearest ``x-rule`` at or above it). The validator walks
  nodes.
- ``Constraint``: one assertion, located: the rule, the part of the request (``query``,
  ``body``, ...), the path of the value (member names, ``*`` for any item of a list), the
  keyword and its value. The strategies break each constraint.
- ``Field``: one value of the request by its path: its name on the wire, its JSON type, its
  members or items, and every constraint on it, gathered through ``$ref`` and ``allOf``. The wire
  format and the strategies' values read fields.

A keyword the model does not know is refused when the model is built: the schema cannot say
something that every reader of it would silently ignore.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from types import MappingProxyType
from typing import Any, Literal, cast

from . import _documents

Keyword = Literal[
    "type",
    "enum",
    "const",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "maxItems",
    "required",
    "properties",
    "items",
    "allOf",
    "$ref",
    "not",
    "if",
]
KEYWORDS: frozenset[str] = frozenset(Keyword.__args__)  # type: ignore[attr-defined]
ANNOTATIONS = frozenset(
    {"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples"}
)
COMPANIONS = frozenset({"then", "else", "additionalProperties"})
"""Read with their neighbour: ``then``/``else`` with ``if``, ``additionalProperties`` with
``properties`` (alone, it is read as ``properties`` without members)."""
JsonType = Literal["object", "array", "string", "boolean", "integer", "number", "null"]
Bound = Literal["minLength", "maxLength", "minimum", "maximum", "maxItems"]
LOWER_BOUNDS = frozenset({"minLength", "minimum"})
Part = Literal["method", "headers", "query", "body"]
PARTS: tuple[Part, ...] = ("method", "headers", "query", "body")
Path = tuple[str, ...]
ANY_ITEM = "*"
"""In a path: any item of a list."""


@dataclass(frozen=True)
class Members:
    """``properties`` (and ``additionalProperties``): a node for each member it names, and one
    for any other member (``None``: any other member is allowed)."""

    named: Mapping[str, Node]
    other: Node | None


@dataclass(frozen=True)
class Conditional:
    """``if`` with its ``then`` and ``else`` (``None`` where the schema has none)."""

    condition: Node
    then: Node | None
    otherwise: Node | None


@dataclass(frozen=True)
class Assertion:
    """One keyword of a node and its value, typed by keyword: names for ``type`` and
    ``required``, options for ``enum``, a number for the bounds, a pattern, a ``Node`` for
    ``items``, ``$ref`` and ``not``, nodes for ``allOf``, ``Members``, a ``Conditional``."""

    keyword: Keyword
    value: Any


@dataclass(frozen=True, eq=False)
class Node:
    """One schema object; one per object and inherited rule (refs to it share it)."""

    rule: str
    """The rule a failure of its own assertions breaks."""
    assertions: tuple[Assertion, ...]
    """In document order (``type`` as written; the validator reports it first)."""
    message: str | None = None
    """``x-message``: how a failure is worded, where the default would not read well."""
    secret: bool = False
    """``x-secret``: messages never repeat the value (a key id, a signature, a token)."""
    wire_name: str | None = None
    other_values: tuple[str, ...] = ()
    """``x-other-values``: what an enum of the same name takes elsewhere in EC2."""
    description: str | None = None
    never: bool = False
    """The schema ``false``: no value satisfies it."""

    def __repr__(self) -> str:
        return f"Node({self.rule or '-'}: {', '.join(a.keyword for a in self.assertions)})"

    def first(self, keyword: Keyword) -> Any:
        """The value of ``keyword`` in this node, or ``None``."""
        return next((a.value for a in self.assertions if a.keyword == keyword), None)


@dataclass(frozen=True, eq=False)
class Constraint:
    """One assertion of the request, located; one object per assertion (its identity is its
    hash)."""

    rule: str
    part: Part
    path: Path
    keyword: str
    """An assertion keyword, or ``additionalProperties`` for members a node does not name."""
    value: Any
    node: Node
    """The node it sits in (for ``if``: its ``then``; for ``enum``: ``other_values``)."""

    def __repr__(self) -> str:
        return f"Constraint({self.rule} {self.part}/{'/'.join(self.path)} {self.keyword})"


WireKind = Literal["structure", "list", "boolean", "integer", "string"]
_WIRE_KINDS: dict[str | None, WireKind] = {
    "object": "structure",
    "array": "list",
    "boolean": "boolean",
    "integer": "integer",
}


@dataclass(eq=False)
class Field:
    """One value of the request, by its path: what every node about it says."""

    part: Part
    path: Path
    nodes: tuple[Node, ...]
    """Every node about the value, through ``$ref`` and ``allOf``, in document order."""
    members: dict[str, Field] = field(default_factory=dict)
    item: Field | None = None

    @property
    def name(self) -> str:
        return self.path[-1] if self.path else self.part

    @cached_property
    def wire_name(self) -> str:
        """The member's name in the EC2 Query form body (``x-wire-name``, else its name)."""
        return next((n.wire_name for n in self.nodes if n.wire_name), self.name)

    @cached_property
    def json_type(self) -> str | None:
        """Its JSON type, where the nodes give exactly one."""
        types = {t for node in self.nodes for t in (node.first("type") or ())}
        return next(iter(types)) if len(types) == 1 else None

    @cached_property
    def kind(self) -> WireKind:
        """What the wire format makes of it: a structure, a list, a boolean, an integer or a
        string (anything else is sent as written)."""
        return _WIRE_KINDS.get(self.json_type, "string")

    @cached_property
    def assertions(self) -> tuple[Assertion, ...]:
        """Every assertion about the value itself (not its members' or items'), in order."""
        structure = ("properties", "items", "allOf", "$ref")
        return tuple(a for n in self.nodes for a in n.assertions if a.keyword not in structure)

    @cached_property
    def by_wire_name(self) -> Mapping[str, Field]:
        return MappingProxyType({member.wire_name: member for member in self.members.values()})

    @cached_property
    def other_values(self) -> tuple[str, ...]:
        return tuple(v for node in self.nodes for v in node.other_values)

    @cached_property
    def never(self) -> bool:
        """No value satisfies it (``not: {}``): the member must be absent."""
        return any(a.keyword == "not" and not a.value.assertions for a in self.assertions)

    def values_of(self, keyword: Keyword) -> list[Any]:
        """The values of every ``keyword`` assertion about the value, in order."""
        return [a.value for a in self.assertions if a.keyword == keyword]

    def limit(self, keyword: Bound) -> int | None:
        """The narrowest ``keyword`` bound on the value, or ``None``."""
        values: list[int] = self.values_of(keyword)
        if not values:
            return None
        return max(values) if keyword in LOWER_BOUNDS else min(values)

    @cached_property
    def types(self) -> frozenset[str]:
        return frozenset(t for names in self.values_of("type") for t in names)

    @cached_property
    def options(self) -> tuple[Any, ...] | None:
        """The values allowed (``enum``, ``const``), or ``None`` where any is."""
        allowed: tuple[Any, ...] | None = None
        for assertion in self.assertions:
            if assertion.keyword in ("enum", "const"):
                listed = assertion.value if assertion.keyword == "enum" else (assertion.value,)
                allowed = listed if allowed is None else tuple(o for o in allowed if o in listed)
        return allowed

    @cached_property
    def forbidden_patterns(self) -> tuple[str, ...]:
        """The patterns the value must not match (``not`` of a pattern)."""
        negated = (node.first("pattern") for node in self.values_of("not"))
        return tuple(pattern for pattern in negated if pattern is not None)

    @cached_property
    def required(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n for names in self.values_of("required") for n in names))

    def narrowed(self, assertions: tuple[Assertion, ...]) -> Field:
        """The field with more assertions about its value (the limits a condition adds)."""
        extra = Node(self.nodes[0].rule if self.nodes else "", assertions)
        return Field(self.part, self.path, (*self.nodes, extra), dict(self.members), self.item)


# --- reading the document ------------------------------------------------------------------------


class _Reader:
    """Turns the schema objects of one document into nodes, refusing unknown keywords."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._nodes: dict[tuple[int, str], Node] = {}

    def node(self, schema: Any, inherited: str = "") -> Node:
        if schema is True:
            return Node(inherited, ())
        if schema is False:
            return Node(inherited, (), never=True)
        key = (id(schema), inherited)
        if key not in self._nodes:
            self._nodes[key] = self._read(schema, inherited)
        return self._nodes[key]

    def _read(self, schema: Mapping[str, Any], inherited: str) -> Node:
        rule = schema.get("x-rule", inherited)
        assertions = tuple(
            assertion
            for keyword, value in schema.items()
            if (assertion := self._assertion(keyword, value, schema, rule)) is not None
        )
        return Node(
            rule,
            assertions,
            schema.get("x-message"),
            bool(schema.get("x-secret")),
            schema.get("x-wire-name"),
            tuple(schema.get("x-other-values", ())),
            schema.get("description"),
        )

    def _assertion(
        self, keyword: str, value: Any, schema: Mapping[str, Any], rule: str
    ) -> Assertion | None:
        if keyword in ANNOTATIONS or keyword.startswith("x-"):
            return None
        if keyword in COMPANIONS:
            if keyword == "additionalProperties" and "properties" not in schema:
                return Assertion("properties", Members({}, self.node(value, rule)))
            return None
        if keyword not in KEYWORDS:
            raise ValueError(f"the contract uses {keyword!r}, which the model does not know")
        typed = cast(Keyword, keyword)
        return Assertion(typed, self._value(typed, value, schema, rule))

    def _value(self, keyword: Keyword, value: Any, schema: Mapping[str, Any], rule: str) -> Any:
        if keyword in ("type", "required"):
            return (value,) if isinstance(value, str) else tuple(value)
        if keyword == "enum":
            return tuple(value)
        if keyword in ("items", "not"):
            return self.node(value, rule)
        if keyword == "$ref":
            return self.node(_documents.resolve(self.document, value), rule)
        if keyword == "allOf":
            return tuple(self.node(sub, rule) for sub in value)
        if keyword == "properties":
            named = {name: self.node(sub, rule) for name, sub in value.items()}
            other = schema.get("additionalProperties")
            return Members(named, None if other is None else self.node(other, rule))
        if keyword == "if":
            then, otherwise = schema.get("then"), schema.get("else")
            return Conditional(
                self.node(value, rule),
                None if then is None else self.node(then, rule),
                None if otherwise is None else self.node(otherwise, rule),
            )
        return value


# --- the located views --------------------------------------------------------------------------


def through_refs(node: Node) -> Node:
    """The node a node that is only a ``$ref`` stands for (with the rule it has there)."""
    while len(node.assertions) == 1 and node.assertions[0].keyword == "$ref":
        node = node.assertions[0].value
    return node


def _gathered(node: Node) -> Iterator[Node]:
    """``node`` and the nodes its ``$ref`` and ``allOf`` bring in, in document order."""
    yield node
    for assertion in node.assertions:
        if assertion.keyword == "$ref":
            yield from _gathered(assertion.value)
        elif assertion.keyword == "allOf":
            for sub in assertion.value:
                yield from _gathered(sub)


def _field(part: Part, path: Path, node: Node) -> Field:
    nodes = tuple(_gathered(node))
    built = Field(part, path, nodes)
    for gathered in nodes:
        for assertion in gathered.assertions:
            if assertion.keyword == "properties":
                for name, member in assertion.value.named.items():
                    _merge(built, name, _field(part, (*path, name), member))
            elif assertion.keyword == "items":
                item = _field(part, (*path, ANY_ITEM), assertion.value)
                built.item = item if built.item is None else _joined(built.item, item)
    return built


def _merge(parent: Field, name: str, member: Field) -> None:
    known = parent.members.get(name)
    parent.members[name] = member if known is None else _joined(known, member)


def _joined(a: Field, b: Field) -> Field:
    joined = Field(a.part, a.path, a.nodes + b.nodes, dict(a.members), a.item or b.item)
    for name, member in b.members.items():
        _merge(joined, name, member)
    return joined


def _constraints(node: Node, part: Part, path: Path, found: list[Constraint]) -> None:
    """Every assertion below ``node``, located, in document order."""
    for assertion in node.assertions:
        keyword, value = assertion.keyword, assertion.value
        if keyword in ("$ref",):
            _constraints(value, part, path, found)
        elif keyword == "allOf":
            for sub in value:
                _constraints(sub, part, path, found)
        elif keyword == "properties":
            for name, member in value.named.items():
                _constraints(member, part, (*path, name), found)
            if value.other is not None:
                other = through_refs(value.other)
                found.append(
                    Constraint(other.rule, part, path, "additionalProperties", other, node)
                )
        elif keyword == "items":
            _constraints(value, part, (*path, ANY_ITEM), found)
        else:
            found.append(Constraint(node.rule, part, path, keyword, value, node))


# --- the contract -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    """The request schema, typed: its root node, each part's fields, every constraint."""

    root: Node
    parts: Mapping[str, Field]
    constraints: tuple[Constraint, ...]
    reader: _Reader = field(repr=False)

    def field(self, part: Part, path: Path = ()) -> Field:
        """The field at ``path`` in ``part`` (``*`` for a list's item); ``KeyError`` if none."""
        found = self.parts[part]
        for step in path:
            next_field = found.item if step == ANY_ITEM else found.members.get(step)
            if next_field is None:
                raise KeyError(f"no field {part}/{'/'.join(path)}")
            found = next_field
        return found

    def constraints_of(self, rule_id: str) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.rule == rule_id)

    def node(self, schema: Any) -> Node:
        """A schema of this document (a rule's ``matches``) as a node."""
        return self.reader.node(schema)


@cache
def contract() -> Contract:
    """The request schema as a typed model, read once."""
    document = _documents.load(_documents.REQUEST)
    reader = _Reader(document)
    root = reader.node(document)
    members = root.first("properties")
    parts: dict[str, Field] = {}
    found: list[Constraint] = []
    for part in PARTS:
        if part in members.named:
            parts[part] = _field(part, (), members.named[part])
            _constraints(members.named[part], part, (), found)
    return Contract(root, MappingProxyType(parts), tuple(found), reader)
