"""What each item of the conformance suite reports, made from the session's run: in builtins
only, so that a pytest-xdist worker reads them without importing the runner."""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ._suite_settings import Key, SuiteSettings

if TYPE_CHECKING:
    from createimage_contract.conformance import Conformance, Finding, RunResult

Verdict = tuple[str, str, list[tuple[str, str]]]
"""What a suite item reports, in builtins only (an xdist worker reads it without importing the
runner): ``pass``, ``skip``, ``xfail`` or ``fail``; the reason or the failure's text; the
warnings to issue, as (check x rule, message)."""
Verdicts = dict[Key, Verdict]


def suite_pairs() -> list[Key]:
    """The suite's items: each rule with each check that applies to it."""
    from createimage_contract.conformance import category_names, checks_for

    return [(check, rule) for rule in category_names() for check in checks_for(rule)]


def awaited(path: Path) -> Verdicts | str:
    """The verdicts ``run_to`` writes to ``path``, once they are there."""
    while not path.exists():  # written whole, under its name at once (run_to)
        time.sleep(0.02)
    outcome: Verdicts | str = pickle.loads(path.read_bytes())  # builtins only
    return outcome


def run_to(suite: SuiteSettings, strict: bool, path: Path) -> None:
    """Make the run and write its verdicts to ``path``, whatever happens: a worker waits for
    them."""
    outcome = run_verdicts(suite, strict)
    partial = path.with_suffix(".partial")
    try:
        partial.write_bytes(pickle.dumps(outcome))
        partial.replace(path)
    except OSError:
        pass  # the session ended before the run did (pytest_unconfigure removed the folder)


def run_verdicts(suite: SuiteSettings, strict: bool) -> Verdicts | str:
    """The verdicts of the session's run, or the line that ends the session when it has none."""
    from createimage_contract.conformance import Conformance, describe_internal_error

    try:
        result = _run(suite)
        if isinstance(result, str):
            return result
        if result.no_verdict is not None:
            return result.no_verdict
        return _verdicts(Conformance(result, suite.known, strict))
    except Exception as bug:  # a bug of ours around the run: it must still end the session
        return describe_internal_error(bug)


def _verdicts(conformance: Conformance) -> Verdicts:
    from createimage_contract.conformance import checks_for

    result = conformance.result
    verdicts: Verdicts = {}
    for check, rule in suite_pairs():
        findings = [result.findings[(check, rule)]] if (check, rule) in result.findings else []
        if check == "status":  # checks that should not have applied at all come with the status
            expected = set(checks_for(rule))
            findings += [
                f for f in result.findings.values() if f.rule == rule and f.check not in expected
            ]
        verdicts[(check, rule)] = _verdict(conformance, check, rule, findings)
    return verdicts


def _verdict(conformance: Conformance, check: str, rule: str, findings: list[Finding]) -> Verdict:
    result = conformance.result
    if rule not in result.rules:
        return ("skip", f"{rule} was not run", [])
    if not findings:
        if (check, rule) in result.exercised:
            return ("pass", "", [])
        notes = [note for note in result.notes if note.startswith(f"{check}:")]
        return ("skip", notes[0] if notes else f"{check} never applied to an answer for {rule}", [])
    if (check, rule) in conformance.known:
        return ("xfail", f"known deviation (baseline): {findings[0].message}", [])
    failing = [f for f in findings if f.severity == "error" or conformance.strict]
    # Each warning names its own check: the status item also carries other checks' findings.
    warned = [(f"{f.check} x {f.rule}", f.message) for f in findings if f not in failing]
    if failing:
        return ("fail", "\n\n".join(_failure(f, result) for f in failing), warned)
    return ("pass", "", warned)


def _failure(finding: Finding, result: RunResult) -> str:
    from createimage_contract.conformance import finding_lines

    heading, message, *details = finding_lines(finding, result, "--createimage-seed")
    # pytest's short summary shows the first line only: the message goes on it too.
    return "\n".join([f"{heading}: {message.strip()}", *details])


def _run(suite: SuiteSettings) -> RunResult | str:
    """The session's run; its result also when a bug of ours stopped it (``internal_error``
    says so), so that every xdist worker reads the same one. A line when it could not be made
    (the endpoint went away since the session started, say)."""
    from createimage_contract.conformance import InternalError, NoCredentials, TargetError, run

    # Off loopback the run sends valid requests with DryRun only, as `run` does without
    # --allow-resource-creation: their items are skipped as not run.
    try:
        return run(endpoint=suite.endpoint, instance_id=suite.instance_id, options=suite.options)
    except (TargetError, NoCredentials) as problem:
        return f"error: {problem}"
    except InternalError as stopped:
        return stopped.result
