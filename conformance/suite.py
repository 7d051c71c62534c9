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

from createimage_contract.conformance import Finding, Outcome
from createimage_contract.conformance._engine import DRY_RUN, VALID, category_names
from createimage_contract.conformance._report import reproduce
from createimage_contract.pytest_plugin import Conformance, CreateImageWarning

COMMON = ("response", "status", "content-type", "xml")
SUCCESS = ("success-namespace", "image-id", "request-id", "request-id-uuid", "describe-images")


def checks_for(rule_id: str) -> tuple[str, ...]:
    """The checks that apply to the answers a conforming service gives for ``rule_id``."""
    if rule_id == VALID:
        return COMMON + SUCCESS
    error = ("error-code", "error-body")  # an exact code, or any but DryRunOperation
    return COMMON + error + (("dry-run-creates-nothing",) if rule_id == DRY_RUN else ())


PAIRS = [
    (check, rule_id) for rule_id in category_names("i-00000000") for check in checks_for(rule_id)
]


@pytest.mark.parametrize(("check", "rule"), PAIRS, ids=[f"{c}-{r}" for c, r in PAIRS])
def test_conformance(createimage_conformance: Conformance, check: str, rule: str) -> None:
    outcome = createimage_conformance.outcome
    if rule not in outcome.rules:
        pytest.skip(f"{rule} was not run")
    findings = [outcome.findings[(check, rule)]] if (check, rule) in outcome.findings else []
    if check == "status":  # checks that should not have applied at all come with the status
        expected = set(checks_for(rule))
        findings += [
            f for f in outcome.findings.values() if f.rule == rule and f.check not in expected
        ]
    if not findings:
        if (check, rule) not in outcome.exercised:
            notes = [note for note in outcome.notes if note.startswith(f"{check}:")]
            pytest.skip(notes[0] if notes else f"{check} never applied to an answer for {rule}")
        return
    if (check, rule) in createimage_conformance.known:
        pytest.xfail(f"known deviation (baseline): {findings[0].message}")
    failing = [f for f in findings if f.severity == "error" or createimage_conformance.strict]
    for finding in findings:
        if finding not in failing:
            warnings.warn(CreateImageWarning(f"{check} x {rule}: {finding.message}"), stacklevel=1)
    if failing:
        text = "\n\n".join(_describe(f, outcome.seed, outcome) for f in failing)
        pytest.fail(text, pytrace=False)


def _describe(finding: Finding, seed: int, outcome: Outcome) -> str:
    response = finding.response
    got = response.error or f"{response.status} {response.content_type}"
    return "\n".join(
        [
            f"{finding.severity.upper()}: {finding.check} x {finding.rule}: {finding.message}",
            f"request:   {finding.sent.method} {finding.sent.url}",
            f"           {finding.sent.body}",
            f"response:  {got}",
            f"           {' '.join(response.excerpt(300).split())}",
            f"reproduce: {reproduce(finding, outcome)}",
            f"seed:      {seed} (--createimage-seed {seed})",
        ]
    )
