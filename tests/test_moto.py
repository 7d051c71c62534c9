"""moto in server mode, for real: the runner reports where it deviates from the contract."""

from __future__ import annotations

import pytest

from createimage_contract.conformance import Options, RunResult, run


@pytest.fixture(scope="module")
def moto_outcome() -> RunResult:
    rules = ("valid", "dry-run", "name.length", "tag-specification.resource-type", "name.duplicate")
    return run(target="moto", options=Options(max_examples=8, seed=4, rules=rules))


def test_a_moto_instance_was_launched_and_images_are_described(moto_outcome: RunResult) -> None:
    assert moto_outcome.target.kind == "moto"
    assert moto_outcome.target.instance_id.startswith("i-")
    assert ("describe-images", "valid") in moto_outcome.exercised
    assert not any("skipped" in note for note in moto_outcome.notes)
    valid = moto_outcome.rules["valid"]
    assert valid.sent > 0


@pytest.mark.parametrize(
    ("check", "rule", "severity"),
    [
        ("success-namespace", "valid", "warning"),  # no trailing slash on the namespace
        ("request-id-uuid", "valid", "warning"),  # the literal request id "request-id"
        ("status", "name.length", "error"),  # moto creates an image with a bad name
        ("status", "name.duplicate", "error"),  # and with a name it already holds
    ],
)
def test_moto_deviations_are_reported(
    moto_outcome: RunResult, check: str, rule: str, severity: str
) -> None:
    finding = moto_outcome.findings[(check, rule)]
    assert finding.severity == severity
    assert finding.response.status is not None and finding.sent.body.startswith(
        "Action=CreateImage"
    )


def test_moto_answers_some_bad_requests_with_an_html_500(moto_outcome: RunResult) -> None:
    broken = [f for f in moto_outcome.findings.values() if f.check == "content-type"]
    assert broken, "moto 5 answers a tag specification without tags with a 500 HTML page"
    assert all(f.response.status == 500 and "text/html" in f.response.content_type for f in broken)
