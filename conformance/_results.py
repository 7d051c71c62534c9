"""What a run found, and the events it tells its listeners as it goes.

A ``RunResult`` holds the target the run was made against, each distinct finding (check x
rule, with the smallest request that showed it), per rule the requests sent and failed, the
notes, the images created and removed, and the near misses sent. Each category of a run finds
into a result of its own, merged into the run's when the category is done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from createimage_contract.schema import Error
from createimage_contract.strategies import NearMiss

from ._runtime import as_internal_error
from ._transport import Response, Sent

Key = tuple[str, str]
"""A check x rule: ``(check, rule)``."""
NOTHING_SENT = "the run sent no CreateImage request, so it checked nothing"


@dataclass(frozen=True)
class Target:
    """What a run is made against."""

    endpoint: str
    kind: str
    """One of ``EMBEDDED_KINDS``, or ``endpoint``."""
    instance_id: str
    region: str


@dataclass(frozen=True)
class Finding:
    """One distinct failure (check x rule), with the smallest request that showed it."""

    check: str
    rule: str
    severity: str
    message: str
    sent: Sent
    response: Response

    @property
    def key(self) -> Key:
        return self.check, self.rule


@dataclass
class RuleStats:
    sent: int = 0
    failed: int = 0


@dataclass
class RunResult:
    """What a run found about its target (``run``'s result; a category's too, merged into the
    run's)."""

    target: Target
    seed: int
    requests: int = 0
    duration_s: float = 0.0
    rules: dict[str, RuleStats] = field(default_factory=dict)
    findings: dict[Key, Finding] = field(default_factory=dict)
    exercised: set[Key] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    """Every image id the target answered with, in order (a faulty service creates too)."""
    deregistered: list[str] = field(default_factory=list)
    """Images deregistered, off loopback, at the end."""
    deleted_snapshots: list[str] = field(default_factory=list)
    """The snapshots of those images, deleted after them (counted apart: an image may have
    several, or none)."""
    left_behind: dict[str, str] = field(default_factory=dict)
    """Images (and snapshots) the run could not remove, and why."""
    hints: list[str] = field(default_factory=list)
    """What the findings suggest about how the run was made, rather than about the target (an
    instance the target does not hold): shown before them."""
    signed_with_token: bool = False
    """The requests carried a session token (the curl reproductions need it too)."""
    internal_error: str | None = None
    """A bug of ours stopped the run: the exception and where it was raised, in one line
    (``internal_error_line``). The findings are then only those made before it."""
    coverage: dict[NearMiss, int] = field(default_factory=dict)
    """Every planned request (rule x site x kind of near miss) of the categories run, and how
    many were sent: a complete run sent each at least once."""

    @property
    def coverage_complete(self) -> bool:
        return all(self.coverage.values())

    @property
    def sent_nothing(self) -> bool:
        """No category sent a CreateImage request (DescribeImages and cleanup aside): there is
        nothing to judge, which must not read as a pass."""
        return not any(stats.sent for stats in self.rules.values())

    @property
    def no_verdict(self) -> str | None:
        """Why the run can neither pass nor fail, in one line (after ``createimage-contract``
        and the command's name): a bug of ours stopped it, or it sent no request at all."""
        if self.internal_error is not None:
            return as_internal_error(self.internal_error)
        if self.sent_nothing:
            return f"error: {NOTHING_SENT}"
        return None

    def note(self, note: str) -> None:
        if note not in self.notes:
            self.notes.append(note)

    def keep(self, finding: Finding) -> None:
        """Keep ``finding``, unless the one kept for its check x rule was shown by a shorter
        request."""
        kept = self.findings.get(finding.key)
        if kept is None or len(finding.sent.body) < len(kept.sent.body):
            self.findings[finding.key] = finding

    def merge(self, rule_id: str, found: RunResult) -> CategoryFinished:
        """Add what the category ``rule_id`` found to this result; the event that says so."""
        self.requests += found.requests
        self.rules[rule_id] = found.rules.get(rule_id, RuleStats())
        self.exercised |= found.exercised
        self.coverage.update(found.coverage)
        for note in found.notes:
            self.note(note)
        for finding in found.findings.values():
            self.keep(finding)
        count = sum(1 for f in found.findings.values() if f.rule == rule_id)
        return CategoryFinished(rule_id, self.rules[rule_id], count)


class InternalError(Error):
    """A run stopped by a bug of createimage-contract, not by anything the target did. The
    message is the one line of ``RunResult.internal_error``; ``result`` holds what the run
    had found until then."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.internal_error)
        self.result = result


# --- what a run tells its listeners --------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted:
    target: Target
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CategoryFinished:
    rule: str
    stats: RuleStats
    findings: int


@dataclass(frozen=True)
class CleanedUp:
    """Off loopback: the images the run deregistered, the snapshots it deleted, and what it
    could not remove (and why)."""

    deregistered: tuple[str, ...]
    left_behind: dict[str, str]
    deleted_snapshots: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


Event = RunStarted | CategoryFinished | CleanedUp | RunFinished
Listener = Callable[[Event], None]
