"""The rule catalogue (``rules.json``) as typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from . import _documents

Severity = Literal["error", "warning"]
Kind = Literal["http", "request", "service", "outcome"]


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue: what breaks it and what a conforming service answers."""

    id: str
    kind: Kind
    breaks_when: str
    code: str | None
    """The EC2 error code; ``None`` when EC2 has no fixed code (any 4xx will do)."""
    status: int | None
    """The HTTP status; ``None`` when any 4xx will do."""
    severity: Severity
    source: str
    precedence: int
    """Position in the catalogue: a service names the first rule a request breaks."""
    field: str | None = None
    matches: Any = None

    @property
    def expected_answer(self) -> str:
        """The answer as a person reads it, for example ``400 InvalidAMIName.Malformed``."""
        status = "4xx" if self.status is None else str(self.status)
        return f"{status} {self.code}" if self.code else status


def _rule(position: int, entry: dict[str, Any]) -> Rule:
    status = entry["status"]
    return Rule(
        id=entry["id"],
        kind=entry["kind"],
        breaks_when=entry["breaks_when"],
        code=entry["code"],
        status=None if status == "4xx" else int(status),
        severity=entry["severity"],
        source=entry["source"],
        precedence=position,
        field=entry.get("field"),
        matches=entry.get("matches"),
    )


@cache
def rules() -> MappingProxyType[str, Rule]:
    """Every rule by id, in catalogue (precedence) order."""
    entries = _documents.load(_documents.RULES)["rules"]
    return MappingProxyType({e["id"]: _rule(i, e) for i, e in enumerate(entries)})


def rule(rule_id: str) -> Rule:
    """The rule ``rule_id``; a ``KeyError`` names the ids that exist."""
    try:
        return rules()[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r}; the catalogue has {', '.join(rules())}") from None
