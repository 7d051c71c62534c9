"""What ``createimage-contract run`` prints: progress while the run goes (on a terminal), then
each new finding, a table per rule, the near misses sent, the notes, and the totals."""

from __future__ import annotations

from typing import TextIO

from . import __version__
from ._console import Style
from .conformance import (
    CategoryFinished,
    CleanedUp,
    Event,
    Finding,
    RunResult,
    RunStarted,
    Target,
    Verdict,
    finding_lines,
)


class RunConsole:
    """A listener of the run, and its report at the end (``finish``)."""

    def __init__(self, out: TextIO, style: Style, progress: bool, stats: bool = False) -> None:
        self.out = out
        self.style = style
        self.progress = progress
        """Mark each category as it finishes."""
        self.stats = stats
        """List every planned near miss and how often it was sent."""

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            target = event.target
            self._line(
                f"createimage-contract {__version__}: {len(event.categories)} categories "
                f"against {target.endpoint} ({target.kind}, instance {target.instance_id})"
            )
        elif isinstance(event, CleanedUp):
            if event.deregistered:
                self._line(f"cleanup: removed {', '.join(event.deregistered)}")
            for resource_id, why in event.left_behind.items():
                self._line(self.style.red(f"cleanup: could not remove {resource_id} ({why})"))
        elif isinstance(event, CategoryFinished) and self.progress:
            mark = self.style.red("F") if event.findings else self.style.green(".")
            self._line(
                f"  {mark} {event.rule:<34} {event.stats.sent:>4} sent {event.findings:>3} findings"
            )

    def finish(self, result: RunResult, verdict: Verdict) -> None:
        """What was found, then the totals; without a verdict, no totals and nothing green
        (the command says why on stderr)."""
        for finding in verdict.new:
            self._finding(finding, result)
        self._table(result, verdict)
        if self.stats:
            self._coverage_table(result)
        self._coverage_line(result)
        for note in result.notes:
            self._line(self.style.yellow(f"note: {note}"))
        if verdict.no_verdict is not None:
            return
        for check, rule in verdict.fixed:
            self._line(self.style.green(f"fixed: {check} x {rule} (in the baseline, not seen now)"))
        self._line(self._totals(result, verdict))

    def _finding(self, finding: Finding, result: RunResult) -> None:
        colour = self.style.red if finding.severity == "error" else self.style.yellow
        heading, *details = finding_lines(finding, result, _rerun(result.target))
        self._line("")
        self._line(colour(heading))
        for line in details:
            self._line(line)

    def _table(self, result: RunResult, verdict: Verdict) -> None:
        failing = {f.rule for f in verdict.new if verdict.failing(f)}
        self._line("")
        self._line(f"{'rule':<34} {'sent':>6} {'passed':>6} {'failed':>6}")
        for rule, stats in result.rules.items():
            row = f"{rule:<34} {stats.sent:>6} {stats.sent - stats.failed:>6} {stats.failed:>6}"
            self._line(self.style.red(row) if rule in failing else row)

    def _coverage_table(self, result: RunResult) -> None:
        self._line("")
        self._line(f"{'near miss (rule, site, kind)':<108} {'sent':>6}")
        rule = None
        for near_miss, sent in result.coverage.items():
            if near_miss.rule != rule:
                rule = near_miss.rule
                self._line(rule)
            kind = near_miss.kind + (" (passes)" if near_miss.passes else "")
            row = f"  {near_miss.site:<50} {kind:<56} {sent:>6}"
            self._line(row if sent else self.style.yellow(row))

    def _coverage_line(self, result: RunResult) -> None:
        planned, sent = len(result.coverage), sum(1 for n in result.coverage.values() if n)
        if not planned:
            return
        text = f"near misses: {sent} of {planned} planned (rule x site x kind) sent"
        self._line("")
        self._line(text if sent == planned else self.style.yellow(text + ": the run stopped early"))

    def _totals(self, result: RunResult, verdict: Verdict) -> str:
        errors, warnings = verdict.count("error"), verdict.count("warning")
        text = (
            f"{result.requests} requests in {result.duration_s:.1f} s: "
            f"{errors} errors, {warnings} warnings"
        )
        if verdict.known or verdict.fixed:
            text += f" ({len(verdict.known)} known, {len(verdict.fixed)} fixed)"
        return (self.style.red if verdict.failed else self.style.green)(text)

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def _rerun(target: Target) -> str:
    """The command that runs against ``target`` again, up to its seed option."""
    if target.kind == "endpoint":
        where = f"--endpoint {target.endpoint} --instance-id {target.instance_id}"
    else:
        where = f"--target {target.kind}"
    return f"createimage-contract run {where} --seed"
