"""One generated request in its three shapes, and how a draft becomes one."""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from createimage_contract.schema import (
    Expectation,
    Field,
    Node,
    Path,
    contract,
    encode_pairs,
    expect,
    protocol_parameters,
    rules,
)


@dataclass(frozen=True)
class NearMiss:
    """What a planned request is about: a rule, the assertion of the schema it tries (its
    site, such as ``/Name maxLength``), and the kind of near miss (``one character too many``).
    ``passes``: the request is valid, exactly at the limit."""

    rule: str
    site: str
    kind: str
    passes: bool = False


@dataclass(frozen=True)
class Example:
    """A CreateImage request and the answer a conforming service must give it.

    ``params`` is the request in boto3's shape, or ``None`` where boto3-style parameters cannot
    say it (``NoReboot=maybe``, an unknown parameter, a missing Action); ``form`` is the body as
    sent; ``expect`` is the answer (status ``None`` means any 4xx); ``near_miss`` says what a
    planned request (from ``near_misses`` or ``boundary_requests``) is about.
    """

    params: dict[str, Any] | None
    form: str
    expect: Expectation
    near_miss: NearMiss | None = None

    @property
    def rule(self) -> str | None:
        return self.expect.rule

    def as_json(self) -> dict[str, Any]:
        """The example as ``generate --format jsonl`` writes it."""
        status: int | str = "4xx" if self.expect.status is None else self.expect.status
        return {
            "params": self.params,
            "form": self.form,
            "expect": {"status": status, "code": self.expect.code, "rule": self.expect.rule},
        }


@dataclass
class Draft:
    """A request being built: the protocol parameters and the operation's parameters."""

    body: dict[str, Any]
    query: dict[str, str] = field(default_factory=lambda: dict(protocol_parameters()))


@dataclass(frozen=True)
class Service:
    """What the service holds, for the expectations: instances, and names already taken."""

    instance_id: str | None = None
    taken_names: Collection[str] = ()

    def expectation(self, form: str) -> Expectation:
        return expect(
            form,
            known_instances=None if self.instance_id is None else {self.instance_id},
            used_names=set(self.taken_names) or None,
        )


def finish(draft: Draft, service: Service, near_miss: NearMiss | None = None) -> Example:
    form = urlencode(list(draft.query.items()) + encode_pairs(draft.body))
    intact = list(draft.query.items()) == list(protocol_parameters().items())
    params = draft.body if intact and expressible(draft.body, contract().field("body")) else None
    return Example(params, form, service.expectation(form), near_miss)


def expressible(value: Any, shape: Field) -> bool:
    """Whether boto3-style parameters can hold ``value``: known members, right JSON types."""
    if shape.kind == "structure":
        return isinstance(value, dict) and all(
            name in shape.members and expressible(member, shape.members[name])
            for name, member in value.items()
        )
    if shape.kind == "list":
        item = shape.item
        return (
            isinstance(value, list)
            and item is not None
            and all(expressible(v, item) for v in value)
        )
    if shape.kind == "boolean":
        return isinstance(value, bool)
    if shape.kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, str)


@cache
def outcome_member(rule_id: str) -> tuple[Path, Any]:
    """The body member and value that an outcome rule (``dry-run``) is about."""
    matches = contract().node(rules()[rule_id].matches)
    body: Node = matches.first("properties").named["body"]
    ((name, member),) = body.first("properties").named.items()
    return (name,), member.first("const")


class UniqueNames:
    """Makes names unique within a run: the last characters become a counter, in the name's
    own alphabet, so that length and characters stay what they were drawn to be.

    The counter lives outside Hypothesis's data on purpose: a replayed or shrunk example gets a
    new name, so that a service that remembers names does not see a duplicate it was not meant to.
    One instance shared by several strategies keeps their names apart too; a random ``start``
    keeps two runs against the same service apart (by chance only: there are ``capacity``
    names, 73**3 for the Name alphabet).
    """

    WIDTH = 3

    def __init__(self, alphabet: str, start: int = 0) -> None:
        self._alphabet = alphabet
        self._start = start
        self._next = start
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """How many names it makes before they repeat."""
        count: int = len(self._alphabet) ** self.WIDTH  # int ** int is typed Any
        return count

    @property
    def issued(self) -> int:
        """How many names it has made: the next source to take over from this one starts
        this much further on."""
        return self._next - self._start

    def __call__(self, name: str) -> str:
        with self._lock:
            number = self._next
            self._next += 1
        digits = ""
        for _ in range(self.WIDTH):
            number, digit = divmod(number, len(self._alphabet))
            digits = self._alphabet[digit] + digits
        return name[: len(name) - self.WIDTH] + digits
