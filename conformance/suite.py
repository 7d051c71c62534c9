"""The conformance suite as ordinary pytest items, one per check x rule::

    pytest --pyargs createimage_contract.conformance.suite [--createimage-endpoint URL ...]

One conformance run is made for the session (shared by pytest-xdist workers); each item then
reports on its check x rule: it fails with the smallest request that showed the deviation,
the answer, and a ``curl`` command that reproduces it. Deviations of a check that should not
even apply to a rule (a success body for a bad request) come with the rule's ``status`` item,
which fails with them. Without ``--createimage-endpoint`` the run is against the embedded
reference implementation.
"""

from __future__ import annotations

import warnings

import pytest

# The package's names, not relative ones: pytest imports this file by its path, under another
# name when the folder is mapped into the package (an editable install), and the classes must
# be the package's (a warning crosses to pytest-xdist's controller by its module's name).
from createimage_contract.conformance import (
    Conformance,
    CreateImageWarning,
    Finding,
    RunResult,
    category_names,
    checks_for,
    finding_lines,
)

PAIRS = [(check, rule_id) for rule_id in category_names() for check in checks_for(rule_id)]


@pytest.mark.parametrize(("check", "rule"), PAIRS, ids=[f"{c}-{r}" for c, r in PAIRS])
def test_conformance(createimage_conformance: Conformance, check: str, rule: str) -> None:
    result = createimage_conformance.result
    if rule not in result.rules:
        pytest.skip(f"{rule} was not run")
    findings = [result.findings[(check, rule)]] if (check, rule) in result.findings else []
    if check == "status":  # checks that should not have applied at all come with the status
        expected = set(checks_for(rule))
        findings += [
            f for f in result.findings.values() if f.rule == rule and f.check not in expected
        ]
    if not findings:
        if (check, rule) not in result.exercised:
            notes = [note for note in result.notes if note.startswith(f"{check}:")]
            pytest.skip(notes[0] if notes else f"{check} never applied to an answer for {rule}")
        return
    if (check, rule) in createimage_conformance.known:
        pytest.xfail(f"known deviation (baseline): {findings[0].message}")
    failing = [f for f in findings if f.severity == "error" or createimage_conformance.strict]
    for finding in findings:
        if finding not in failing:
            warnings.warn(CreateImageWarning(f"{check} x {rule}: {finding.message}"), stacklevel=1)
    if failing:
        pytest.fail("\n\n".join(_failure(f, result) for f in failing), pytrace=False)


def _failure(finding: Finding, result: RunResult) -> str:
    heading, message, *details = finding_lines(finding, result, "--createimage-seed")
    # pytest's short summary shows the first line only: the message goes on it too.
    return "\n".join([f"{heading}: {message.strip()}", *details])
