"""What a run found: set against what was already known (the verdict, the baseline), a
finding as people read it, and reports for programs (JSON) and CI dashboards (JUnit)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lxml import etree

from createimage_contract.schema import CurlAuth, Error, counted, curl_command

from ._probes import forgery
from ._results import Finding, Key, RunResult
from ._xml import xml_safe

TOOL = "createimage-contract"


class BaselineError(Error):
    """A baseline file that cannot be read; the message names it."""


@dataclass(frozen=True)
class Verdict:
    """The findings of a run, set against a baseline of known deviations."""

    new: list[Finding]
    known: list[Finding]
    fixed: list[Key]
    strict: bool
    no_verdict: str | None = None
    """Why the run can neither pass nor fail (``RunResult.no_verdict``)."""

    @classmethod
    def of(cls, result: RunResult, baseline: set[Key], strict: bool) -> Verdict:
        findings = sorted(result.findings.values(), key=lambda f: (f.rule, f.check))
        return cls(
            [f for f in findings if f.key not in baseline],
            [f for f in findings if f.key in baseline],
            # Fixed: checked again in this run and not found; a pair not checked proves nothing.
            sorted((baseline & result.exercised) - set(result.findings)),
            strict,
            result.no_verdict,
        )

    def failing(self, finding: Finding) -> bool:
        return finding.severity == "error" or self.strict

    @property
    def failed(self) -> bool:
        """A new finding fails the run (an error, or with ``strict`` a warning too); whether
        there is a verdict at all is ``no_verdict``'s to say."""
        return any(self.failing(f) for f in self.new)

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


def write_baseline(path: Path, result: RunResult) -> None:
    known = [
        {"check": f.check, "rule": f.rule, "severity": f.severity, "message": f.message}
        for f in sorted(result.findings.values(), key=lambda f: (f.rule, f.check))
    ]
    path.write_text(json.dumps({"known": known}, indent=2) + "\n", encoding="utf-8")


# --- a finding, as people read it -------------------------------------------------------------


def finding_lines(finding: Finding, result: RunResult, rerun: str) -> list[str]:
    """``finding`` as a heading (``ERROR: check x rule``) and lines below it: the message, the
    request, the answer, a ``curl`` command that sends the request again, and the seed, with
    ``rerun`` (a command line or an option that ends in the seed's option) to run it again."""
    response = finding.response
    lines = [
        f"{finding.severity.upper()}: {finding.check} x {finding.rule}",
        f"  {finding.message}",
        f"  request:   {finding.sent.method} {finding.sent.url}",
        f"             {finding.sent.body}",
        *([f"  forged:    {finding.sent.forged}"] if finding.sent.forged else []),
        f"  response:  {response.error or f'{response.status} {response.content_type}'}",
    ]
    if response.body:
        lines.append(f"             {' '.join(response.excerpt(300).split())}")
    lines.append(f"  reproduce: {reproduce(finding, result)}")
    lines.append(f"  seed:      {result.seed} ({rerun} {result.seed})")
    return lines


@dataclass(frozen=True)
class Cause:
    """Findings that got one and the same answer, so one cause: a 500 HTML page fails the
    status, content-type and xml checks of every rule whose requests meet it. People read it
    once, with the checks and rules it fails; the reports still count each check x rule."""

    findings: tuple[Finding, ...]

    @property
    def shown(self) -> Finding:
        """The finding with the shortest request: the one to reproduce."""
        return min(self.findings, key=lambda f: len(f.sent.body))

    @property
    def severity(self) -> str:
        return "error" if any(f.severity == "error" for f in self.findings) else "warning"

    @property
    def checks(self) -> list[str]:
        return list(dict.fromkeys(f.check for f in self.findings))

    @property
    def rules(self) -> list[str]:
        return list(dict.fromkeys(f.rule for f in self.findings))


def causes(findings: Iterable[Finding]) -> list[Cause]:
    """``findings`` grouped by the answer they got (its status, or why there was none, its
    content type and its body), in the order of each group's first finding."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for finding in findings:
        answer = finding.response
        key = (answer.status, answer.error, answer.content_type, answer.body)
        groups.setdefault(key, []).append(finding)
    return [Cause(tuple(group)) for group in groups.values()]


def cause_lines(cause: Cause, result: RunResult, rerun: str) -> list[str]:
    """A cause as ``finding_lines`` shows one finding; for several, a heading that names its
    checks and rules (``ERROR: status, xml x 3 rules``), what each check found (for one rule,
    when the others got the same message with their own rule in it), and the shortest request
    of them with its answer."""
    if len(cause.findings) == 1:
        return finding_lines(cause.findings[0], result, rerun)
    shown, rules = cause.shown, cause.rules
    where = rules[0] if len(rules) == 1 else counted(len(rules), "rule")
    lines = [f"{cause.severity.upper()}: {', '.join(cause.checks)} x {where} (one answer)"]
    if len(rules) > 1:
        lines.append(f"  rules:     {', '.join(rules)}")
    for check in cause.checks:
        lines.append(f"  {check}: {_check_message(cause, check, shown.rule)}")
    return lines + finding_lines(shown, result, rerun)[2:]


def _check_message(cause: Cause, check: str, rule: str) -> str:
    """What ``check`` found, as it found it for ``rule`` (or its first rule); the messages of
    the other rules differ by the rule they name, no more: the answer is the same."""
    found = [f for f in cause.findings if f.check == check]
    first = next((f for f in found if f.rule == rule), found[0])
    others = len({f.message for f in found}) - 1
    if not others:
        return first.message
    return f"{first.message}; alike for {counted(len(found) - 1, 'other rule')}"


def reproduce(finding: Finding, result: RunResult) -> str:
    """A curl command that sends the request again; a probe's forged as it was."""
    target, sent = result.target, finding.sent
    auth = CurlAuth()
    if sent.forged is not None:
        auth = forgery(finding.rule, sent.forged).reenact(sent.headers, target.region)
    return curl_command(sent.body, target.endpoint, target.region, result.signed_with_token, auth)


# --- JSON and JUnit ----------------------------------------------------------------------------


@cache
def _tool_version() -> str:
    return version(TOOL)


def json_report(result: RunResult, verdict: Verdict) -> dict[str, Any]:
    passed = len(result.exercised - set(result.findings))
    return {
        "tool": {"name": TOOL, "version": _tool_version()},
        "target": {"endpoint": result.target.endpoint, "kind": result.target.kind},
        "seed": result.seed,
        "requests": result.requests,
        "duration_s": round(result.duration_s, 3),
        "rules": [
            {"rule": rule, "sent": stats.sent, "failed": stats.failed}
            for rule, stats in result.rules.items()
        ],
        "failures": [
            {
                "check": f.check,
                "rule": f.rule,
                "severity": f.severity,
                "message": f.message,
                "request": f.sent.as_dict(),
                "response": f.response.as_dict(),
                "reproduce": reproduce(f, result),
                "known": f in verdict.known,
            }
            for f in [*verdict.new, *verdict.known]
        ],
        "fixed": [{"check": check, "rule": rule} for check, rule in verdict.fixed],
        "hints": result.hints,
        "notes": result.notes,
        "internal_error": result.internal_error,
        "coverage": {
            "complete": result.coverage_complete,
            "planned": len(result.coverage),
            "sent": sum(1 for sent in result.coverage.values() if sent),
            "near_misses": [
                {
                    "rule": near_miss.rule,
                    "site": near_miss.site,
                    "kind": near_miss.kind,
                    "passes": near_miss.passes,
                    "sent": sent,
                }
                for near_miss, sent in result.coverage.items()
            ],
        },
        # Counts: on loopback a run creates hundreds of images that die with the target.
        # Only what could not be removed is listed, since only that is left to do something about.
        "images": {
            "created": len(result.created),
            "deregistered": len(result.deregistered),
            "snapshots_deleted": len(result.deleted_snapshots),
            "left_behind": result.left_behind,
        },
        "summary": {
            "errors": verdict.count("error"),
            "warnings": verdict.count("warning"),
            "passed": passed,
        },
    }


def junit_xml(result: RunResult, verdict: Verdict) -> bytes:
    """One test case per check x rule that the run exercised; a run without a verdict (an
    internal error, nothing sent) gets one more, in error, so that no dashboard shows it
    green."""
    known = {f.key for f in verdict.known}
    cases = sorted(result.exercised | set(result.findings), key=lambda key: (key[1], key[0]))
    suite = etree.Element("testsuite", name="createimage-contract", tests=str(len(cases)))
    if verdict.no_verdict is not None:
        run = etree.SubElement(suite, "testcase", classname="createimage-contract", name="run")
        etree.SubElement(run, "error", message=xml_safe(verdict.no_verdict), type="no-verdict")
        suite.set("tests", str(len(cases) + 1))
        suite.set("errors", "1")
    failures = 0
    for check, rule in cases:
        case = etree.SubElement(suite, "testcase", classname=rule, name=check)
        finding = result.findings.get((check, rule))
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
                f"{finding.response.excerpt(300)}\nreproduce: {reproduce(finding, result)}"
            )
        else:
            out = etree.SubElement(case, "system-out")
            out.text = xml_safe(f"warning: {finding.message}")
    suite.set("failures", str(failures))
    suite.set("time", f"{result.duration_s:.3f}")
    return etree.tostring(suite, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# --- inside a pytest session ---------------------------------------------------------------------


@dataclass(frozen=True)
class Conformance:
    """The conformance run of a pytest session, from which the plugin makes each suite item's
    verdict."""

    result: RunResult
    known: frozenset[Key]
    """The baseline: deviations known already, which the items report as ``xfail``."""
    strict: bool


class CreateImageWarning(Error, UserWarning):
    """A warning-severity deviation found by the conformance suite."""
