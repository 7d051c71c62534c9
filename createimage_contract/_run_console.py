"""What ``createimage-contract run`` prints: where its settings came from, progress while the run
goes, then each new finding (those that got one and the same answer together), a table per
rule, the near misses sent, the notes, the files written, and the totals.

Progress is a line per rule as it completes, so that a CI log shows the run is alive; on a
terminal one live line instead, rewritten in place, and a line of its own for each rule that
found something. ``-q`` leaves only the findings, the hints and the verdict; ``-v`` adds a line
per rule on a terminal too, the run's options, and every near miss with how often it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from . import __version__
from ._console import NORMAL, QUIET, VERBOSE, Style
from .conformance import (
    CategoryFinished,
    CleanedUp,
    Event,
    RunResult,
    RunStarted,
    Target,
    Verdict,
    cause_lines,
    causes,
)
from .schema import counted

CLEAR_LINE = "\r\033[K"
"""Back to the start of the line, and erase it: the live line is rewritten in place."""

Written = Sequence[tuple[Path, str]]
"""The files a run wrote, each with what it is (``JSON report``)."""


class RunConsole:
    """A listener of the run, and its report at the end (``finish``)."""

    def __init__(
        self,
        out: TextIO,
        style: Style,
        live: bool,
        stats: bool = False,
        verbosity: int = NORMAL,
        settings: Sequence[str] = (),
    ) -> None:
        self.out = out
        self.style = style
        self.live = live and verbosity == NORMAL
        """A terminal: progress on one line rewritten in place (not with ``-v``, which keeps
        a line per rule)."""
        self.stats = stats or verbosity == VERBOSE
        """List every planned near miss and how often it was sent."""
        self.verbosity = verbosity
        self.settings = settings
        """Lines after the header: where the settings came from, and with ``-v`` what they are."""
        self._categories = 0
        self._finished = 0
        self._live_shown = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, CleanedUp):
            self._cleaned_up(event)
        elif isinstance(event, CategoryFinished):
            self._finished += 1
            self._progress(event)

    def _started(self, event: RunStarted) -> None:
        self._categories = len(event.categories)
        if self.verbosity == QUIET:
            return
        target = event.target
        categories = counted(len(event.categories), "category", "categories")
        self._line(
            f"createimage-contract {__version__}: {categories} against {target.endpoint} "
            f"({target.kind}, instance {target.instance_id})"
        )
        for line in self.settings:
            self._line(line)

    def _progress(self, event: CategoryFinished) -> None:
        if self.verbosity == QUIET:
            return
        findings = counted(event.findings, "finding")
        if self.live and not event.findings:
            width = len(str(self._categories))
            self._live(
                f"[{self._finished:>{width}}/{self._categories}] {event.rule}: "
                f"{event.stats.sent} sent, {findings}"
            )
            return
        mark = self.style.red("F") if event.findings else self.style.green(".")
        self._line(f"  {mark} {event.rule:<34} {event.stats.sent:>4} sent  {findings}")

    def _cleaned_up(self, event: CleanedUp) -> None:
        """What was removed, counted (listed with ``-v``); what was not, always, one by one:
        it is left in the target's account."""
        removed = [*event.deregistered, *event.deleted_snapshots]
        if removed and self.verbosity == VERBOSE:
            self._line(f"cleanup: removed {', '.join(removed)}")
        elif removed and self.verbosity == NORMAL:
            images = counted(len(event.deregistered), "image")
            snapshots = counted(len(event.deleted_snapshots), "snapshot")
            self._line(f"cleanup: removed {images} and {snapshots}")
        for resource_id, why in event.left_behind.items():
            self._line(self.style.red(f"cleanup: could not remove {resource_id} ({why})"))

    def finish(self, result: RunResult, verdict: Verdict, written: Written = ()) -> None:
        """What was found, then the totals; without a verdict, no totals and nothing green
        (the command says why on stderr)."""
        for cause in causes(verdict.new):
            colour = self.style.red if cause.severity == "error" else self.style.yellow
            heading, *details = cause_lines(cause, result, _rerun(result.target))
            self._line("")
            self._line(colour(heading))
            for line in details:
                self._line(line)
        if self.verbosity != QUIET:
            self._summary(result, verdict, written)
        for hint in result.hints:
            self._line(self.style.yellow(f"hint: {hint}"))
        if verdict.no_verdict is not None:
            return
        if self.verbosity != QUIET:
            for check, rule in verdict.fixed:
                text = f"fixed: {check} x {rule} (in the baseline, not seen now)"
                self._line(self.style.green(text))
        self._line(self._totals(result, verdict))

    def _summary(self, result: RunResult, verdict: Verdict, written: Written) -> None:
        """The table, the near misses, the notes and the files written."""
        self._table(result, {f.rule for f in verdict.new if verdict.failing(f)})
        if self.stats:
            self._coverage_table(result)
        self._coverage_line(result)
        for note in result.notes:
            self._line(self.style.yellow(f"note: {note}"))
        for path, what in written:
            self._line(f"wrote {path} ({what})")

    def _table(self, result: RunResult, failing: set[str]) -> None:
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
        errors = counted(verdict.count("error"), "error")
        warnings = counted(verdict.count("warning"), "warning")
        requests = counted(result.requests, "request")
        text = f"{requests} in {result.duration_s:.1f} s: {errors}, {warnings}"
        if verdict.known or verdict.fixed:
            text += f" ({len(verdict.known)} known, {len(verdict.fixed)} fixed)"
        return (self.style.red if verdict.failed else self.style.green)(text)

    def _live(self, text: str) -> None:
        self.out.write(CLEAR_LINE + text)
        self.out.flush()
        self._live_shown = True

    def _line(self, text: str) -> None:
        if self._live_shown:  # the live line gives way to what is printed for good
            self.out.write(CLEAR_LINE)
            self._live_shown = False
        self.out.write(text + "\n")
        self.out.flush()


def _rerun(target: Target) -> str:
    """The command that runs against ``target`` again, up to its seed option."""
    if target.kind == "endpoint":
        where = f"--endpoint {target.endpoint} --instance-id {target.instance_id}"
    else:
        where = f"--target {target.kind}"
    return f"createimage-contract run {where} --seed"
