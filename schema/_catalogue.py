"""The rule catalogue (``rules.json``) as typed objects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from types import MappingProxyType
from typing import Any, Literal

from . import _documents

Severity = Literal["error", "warning"]
RuleKind = Literal["http", "auth", "request", "service", "outcome"]
Document = Literal["seed", "ec2-error-codes", "ec2-query-protocol"]


@dataclass(frozen=True)
class Citation:
    """Words of a source document, verbatim: where an exact code or status is stated."""

    document: Document
    says: str


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue: what breaks it and what a conforming service answers."""

    id: str
    kind: RuleKind
    breaks_when: str
    code: str | None
    """The EC2 error code; ``None`` when no source states one for the fault (any 4xx will do)."""
    status: int | None
    """The HTTP status; ``None`` when any 4xx will do."""
    severity: Severity
    source: str
    """Where the rule itself comes from."""
    precedence: int
    """Position in the catalogue: a service names the first rule a request breaks."""
    field: str | None = None
    matches: Any = None
    code_source: Citation | None = None
    """Where the exact code is stated for this fault; ``None`` when there is no exact code."""
    status_source: Citation | None = None
    """Where a status other than 400 is stated; 400 is the protocol's for validation errors."""
    documented_codes: tuple[str, ...] = ()
    """Without an exact code: the EC2 codes whose documented meaning covers the fault."""
    answer_status: int | None = None
    """The status EC2 documents for the first documented code, where it is not 400."""
    probed: bool = False
    """A service must enforce it: run sends a request that breaks it (every auth rule too)."""
    window_s: int | None = None
    """``auth.expired``: how far X-Amz-Date may be from the time of arrival."""

    @property
    def sent_as_probe(self) -> bool:
        """Whether run sends a forged request for it, with DryRun=true."""
        return self.kind == "auth" or self.probed


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
        code_source=_citation(entry.get("code_source")),
        status_source=_citation(entry.get("status_source")),
        documented_codes=tuple(entry.get("documented_codes", ())),
        answer_status=entry.get("answer_status"),
        probed=bool(entry.get("probed")),
        window_s=entry.get("window_s"),
    )


def _citation(entry: dict[str, Any] | None) -> Citation | None:
    return None if entry is None else Citation(entry["document"], entry["says"])


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
