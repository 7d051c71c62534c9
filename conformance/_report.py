"""What a run found, for people (the console), for programs (JSON), for CI dashboards (JUnit),
and against what was already known (the baseline)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lxml import etree

from createimage_contract import __version__
from createimage_contract._console import EXIT_FOUND, EXIT_OK, EXIT_USAGE, Style
from createimage_contract.schema import curl_command

from ._engine import CategoryFinished, CleanedUp, Event, Finding, Outcome, RunStarted
from ._xml import xml_safe

Key = tuple[str, str]
INTERNAL_ERROR_HINT = (
    "a bug in createimage-contract, not a finding about the target; please report it"
)
NOTHING_SENT = "the run sent no CreateImage request, so it checked nothing"


def no_verdict(outcome: Outcome) -> str | None:
    """Why ``outcome`` can neither pass nor fail, in one line (after ``createimage-contract``
    and the command's name): a bug of ours stopped it, or it sent no request at all."""
    if outcome.internal_error is not None:
        return f"internal error: {outcome.internal_error} ({INTERNAL_ERROR_HINT})"
    if outcome.sent_nothing:
        return f"error: {NOTHING_SENT}"
    return None


class BaselineError(Exception):
    """A baseline file that cannot be read; the message names it."""


@dataclass(frozen=True)
class Verdict:
    """The findings of a run, set against a baseline of known deviations."""

    new: list[Finding]
    known: list[Finding]
    fixed: list[Key]
    strict: bool
    no_verdict: str | None = None
    """Why the run can neither pass nor fail (``no_verdict``); it then exits 2."""

    @classmethod
    def of(cls, outcome: Outcome, baseline: set[Key], strict: bool) -> Verdict:
        findings = sorted(outcome.findings.values(), key=lambda f: (f.rule, f.check))
        return cls(
            [f for f in findings if f.key not in baseline],
            [f for f in findings if f.key in baseline],
            # Fixed: checked again in this run and not found; a pair not checked proves nothing.
            sorted((baseline & outcome.exercised) - set(outcome.findings)),
            strict,
            no_verdict(outcome),
        )

    def failing(self, finding: Finding) -> bool:
        return finding.severity == "error" or self.strict

    @property
    def exit_code(self) -> int:
        if self.no_verdict is not None:
            return EXIT_USAGE
        return EXIT_FOUND if any(self.failing(f) for f in self.new) else EXIT_OK

    def count(self, severity: str) -> int:
        return sum(1 for f in self.new if f.severity == severity)


# --- baseline ----------------------------------------------------------------------------------


MAX_BASELINE_BYTES = 10 * 1024 * 1024


def load_baseline(path: Path) -> set[Key]:
    """The known (check, rule) pairs; ``BaselineError`` says, in one line, why there are none."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BASELINE_BYTES + 1)
    except OSError as error:
        raise BaselineError(f"{path}: cannot read ({error.strerror or error})") from None
    if len(data) > MAX_BASELINE_BYTES:
        raise BaselineError(f"{path}: larger than {MAX_BASELINE_BYTES // 1024 // 1024} MiB")
    try:
        document = json.loads(data.decode("utf-8"))
        return {(str(entry["check"]), str(entry["rule"])) for entry in document["known"]}
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        # The kind of problem, not its text: that could quote the whole file.
        wanted = '{"known": [{"check": ..., "rule": ...}]}'
        raise BaselineError(
            f"{path}: not a baseline ({type(error).__name__}; want {wanted})"
        ) from None


def write_baseline(path: Path, outcome: Outcome) -> None:
    known = [
        {"check": f.check, "rule": f.rule, "severity": f.severity, "message": f.message}
        for f in sorted(outcome.findings.values(), key=lambda f: (f.rule, f.check))
    ]
    path.write_text(json.dumps({"known": known}, indent=2) + "\n", encoding="utf-8")


# --- the console -------------------------------------------------------------------------------


class Console:
    """Progress while the run goes (on a terminal), then the failures and a summary table."""

    def __init__(
        self, out: TextIO, style: Style, progress: bool, command: str, stats: bool = False
    ) -> None:
        self.out = out
        self.style = style
        self.progress = progress
        self.command = command
        self.stats = stats
        """List every planned near miss and how often it was sent."""
        self.verdict: Verdict | None = None

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

    def finish(self, outcome: Outcome, verdict: Verdict) -> None:
        """What was found, then the totals; without a verdict, no totals and nothing green
        (the command says why on stderr)."""
        for finding in verdict.new:
            self._failure(finding, outcome)
        self._table(outcome, verdict)
        if self.stats:
            self._coverage_table(outcome)
        self._coverage_line(outcome)
        for note in outcome.notes:
            self._line(self.style.yellow(f"note: {note}"))
        if verdict.no_verdict is not None:
            return
        for check, rule in verdict.fixed:
            self._line(self.style.green(f"fixed: {check} x {rule} (in the baseline, not seen now)"))
        self._line(self._totals(outcome, verdict))

    def _failure(self, finding: Finding, outcome: Outcome) -> None:
        colour = self.style.red if finding.severity == "error" else self.style.yellow
        self._line("")
        self._line(colour(f"{finding.severity.upper()}: {finding.check} x {finding.rule}"))
        self._line(f"  {finding.message}")
        self._line(f"  request:   {finding.sent.method} {finding.sent.url}")
        self._line(f"             {finding.sent.body}")
        response = finding.response
        got = response.error or f"{response.status} {response.content_type}"
        self._line(f"  response:  {got}")
        if response.body:
            self._line(f"             {' '.join(response.excerpt(300).split())}")
        self._line(f"  reproduce: {reproduce(finding, outcome)}")
        self._line(f"  seed:      {outcome.seed} ({self.command} --seed {outcome.seed})")

    def _table(self, outcome: Outcome, verdict: Verdict) -> None:
        failing = {(f.rule) for f in verdict.new if verdict.failing(f)}
        self._line("")
        self._line(f"{'rule':<34} {'sent':>6} {'passed':>6} {'failed':>6}")
        for rule, stats in outcome.rules.items():
            row = f"{rule:<34} {stats.sent:>6} {stats.sent - stats.failed:>6} {stats.failed:>6}"
            self._line(self.style.red(row) if rule in failing else row)

    def _coverage_table(self, outcome: Outcome) -> None:
        self._line("")
        self._line(f"{'near miss (rule, site, kind)':<108} {'sent':>6}")
        rule = None
        for near_miss, sent in outcome.coverage.items():
            if near_miss.rule != rule:
                rule = near_miss.rule
                self._line(rule)
            kind = near_miss.kind + (" (passes)" if near_miss.passes else "")
            row = f"  {near_miss.site:<50} {kind:<56} {sent:>6}"
            self._line(row if sent else self.style.yellow(row))

    def _coverage_line(self, outcome: Outcome) -> None:
        planned, sent = len(outcome.coverage), sum(1 for n in outcome.coverage.values() if n)
        if not planned:
            return
        text = f"near misses: {sent} of {planned} planned (rule x site x kind) sent"
        self._line("")
        self._line(text if sent == planned else self.style.yellow(text + ": the run stopped early"))

    def _totals(self, outcome: Outcome, verdict: Verdict) -> str:
        errors, warnings = verdict.count("error"), verdict.count("warning")
        text = (
            f"{outcome.requests} requests in {outcome.duration_s:.1f} s: "
            f"{errors} errors, {warnings} warnings"
        )
        if verdict.known or verdict.fixed:
            text += f" ({len(verdict.known)} known, {len(verdict.fixed)} fixed)"
        return (self.style.red if verdict.exit_code else self.style.green)(text)

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def reproduce(finding: Finding, outcome: Outcome) -> str:
    return curl_command(
        finding.sent.body, outcome.target.endpoint, outcome.target.region, outcome.signed_with_token
    )


# --- JSON and JUnit ----------------------------------------------------------------------------


def json_report(outcome: Outcome, verdict: Verdict) -> dict[str, Any]:
    passed = len(outcome.exercised - set(outcome.findings))
    return {
        "tool": {"name": "createimage-contract", "version": __version__},
        "target": {"endpoint": outcome.target.endpoint, "kind": outcome.target.kind},
        "seed": outcome.seed,
        "requests": outcome.requests,
        "duration_s": round(outcome.duration_s, 3),
        "rules": [
            {"rule": rule, "sent": stats.sent, "failed": stats.failed}
            for rule, stats in outcome.rules.items()
        ],
        "failures": [
            {
                "check": f.check,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "request": f.sent.as_dict(),
                "response": f.response.as_dict(),
                "reproduce": reproduce(f, outcome),
                "known": f in verdict.known,
            }
            for f in [*verdict.new, *verdict.known]
        ],
        "fixed": [{"check": check, "rule": rule} for check, rule in verdict.fixed],
        "notes": outcome.notes,
        "internal_error": outcome.internal_error,
        "coverage": {
            "complete": outcome.coverage_complete,
            "planned": len(outcome.coverage),
            "sent": sum(1 for sent in outcome.coverage.values() if sent),
            "near_misses": [
                {
                    "rule": near_miss.rule,
                    "site": near_miss.site,
                    "kind": near_miss.kind,
                    "passes": near_miss.passes,
                    "sent": sent,
                }
                for near_miss, sent in outcome.coverage.items()
            ],
        },
        "images": {
            "created": outcome.created,
            "deregistered": outcome.deregistered,
            "left_behind": outcome.left_behind,
        },
        "summary": {
            "errors": verdict.count("error"),
            "warnings": verdict.count("warning"),
            "passed": passed,
        },
    }


def junit_xml(outcome: Outcome, verdict: Verdict) -> bytes:
    """One test case per check x rule that the run exercised; a run without a verdict (an
    internal error, nothing sent) gets one more, in error, so that no dashboard shows it
    green."""
    known = {f.key for f in verdict.known}
    cases = sorted(outcome.exercised | set(outcome.findings), key=lambda key: (key[1], key[0]))
    suite = etree.Element("testsuite", name="createimage-contract", tests=str(len(cases)))
    if verdict.no_verdict is not None:
        run = etree.SubElement(suite, "testcase", classname="createimage-contract", name="run")
        etree.SubElement(run, "error", message=xml_safe(verdict.no_verdict), type="no-verdict")
        suite.set("tests", str(len(cases) + 1))
        suite.set("errors", "1")
    failures = 0
    for check, rule in cases:
        case = etree.SubElement(suite, "testcase", classname=rule, name=check)
        finding = outcome.findings.get((check, rule))
        if finding is None:
            continue
        if (check, rule) in known:
            etree.SubElement(case, "skipped", message="known deviation (baseline)")
        elif verdict.failing(finding):
            failures += 1
            failure = etree.SubElement(
                case, "failure", message=xml_safe(finding.message), type=finding.severity
            )
            failure.text = xml_safe(
                f"request: {finding.sent.body}\nresponse: {finding.response.status} "
                f"{finding.response.excerpt(300)}\nreproduce: {reproduce(finding, outcome)}"
            )
        else:
            out = etree.SubElement(case, "system-out")
            out.text = xml_safe(f"warning: {finding.message}")
    suite.set("failures", str(failures))
    suite.set("time", f"{outcome.duration_s:.3f}")
    return etree.tostring(suite, xml_declaration=True, encoding="UTF-8", pretty_print=True)
