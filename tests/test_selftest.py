"""``createimage-contract selftest``, run for real: every faulty variant of the reference is
caught, no conformant one is reported, and the selftest fails when a check goes blind."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from createimage_contract.conformance import VARIANTS

WRONG_CODE = "tag-limit-code"
"""A faulty variant only the error-code check can catch: right status, wrong code."""


def selftest(*options: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "createimage_contract", "selftest", *options],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        check=False,
    )


def report(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_every_faulty_variant_is_caught_and_no_conformant_one_is_reported(tmp_path: Path) -> None:
    # Three drawn examples per rule besides the planned near misses: every fault is caught
    # even so (a stronger claim than with run's 20), in a third of the time.
    options = ("--seed", "1", "--max-examples", "3", "--report-json", "selftest.json")
    done = selftest(*options, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr
    assert done.stderr == ""
    found = report(tmp_path / "selftest.json")
    assert set(found) == {"variants", "summary"}
    assert [v["name"] for v in found["variants"]] == [v.name for v in VARIANTS]
    for entry in found["variants"]:
        assert set(entry) == {"name", "kind", "caught", "findings"}
        errors = [f for f in entry["findings"] if f["severity"] == "error"]
        if entry["kind"] == "faulty":
            assert entry["caught"] and errors, entry["name"]
        else:
            assert not entry["caught"] and not errors, entry
        for finding in entry["findings"]:
            assert set(finding) == {"check", "rule", "severity", "message"}
    summary = found["summary"]
    assert summary["faulty"] >= 40 and summary["conformant"] >= 6
    assert summary["caught"] == summary["faulty"] and summary["false_alarms"] == 0
    assert summary["faulty"] + summary["conformant"] == len(VARIANTS)
    assert 0 < summary["duration_s"] < 600
    lines = done.stdout.splitlines()
    assert sum(line.split()[:1] == [v.name] for line in lines for v in VARIANTS) == len(VARIANTS)
    assert lines[-1].startswith(
        f"{summary['faulty']} faulty, {summary['faulty']} caught, "
        f"{summary['conformant']} conformant, 0 false alarms in "
    )
    assert "\033[" not in done.stdout  # not a terminal: no colour


def test_a_blind_check_lets_a_faulty_variant_through_and_the_selftest_fails(
    tmp_path: Path,
) -> None:
    done = selftest(
        "--seed",
        "1",
        "--variants",
        f"{WRONG_CODE},namespace-prefix",
        "--exclude-checks",
        "error-code",
        "--report-json",
        "selftest.json",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    found = report(tmp_path / "selftest.json")
    assert [(v["name"], v["caught"]) for v in found["variants"]] == [
        (WRONG_CODE, False),
        ("namespace-prefix", False),
    ]
    assert found["summary"] | {"duration_s": 0} == {
        "faulty": 1,
        "caught": 0,
        "conformant": 1,
        "false_alarms": 0,
        "duration_s": 0,
    }
    rows = {line.split()[0]: line.split()[2] for line in done.stdout.splitlines()[3:5]}
    assert rows == {WRONG_CODE: "MISSED", "namespace-prefix": "ok"}
    assert f"missed: {WRONG_CODE}" in done.stdout


def test_with_every_check_the_same_variant_is_caught(tmp_path: Path) -> None:
    done = selftest("--seed", "1", "--variants", WRONG_CODE, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error-code x tag.limit" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("1 faulty, 1 caught, 0 conformant")


def test_an_unknown_variant_is_exit_2_with_one_line(tmp_path: Path) -> None:
    done = selftest("--variants", "namespace-prefix,no-such-variant", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert "unknown variant 'no-such-variant'; the variants are instance-id-" in line


def test_bad_options_are_exit_2_with_one_line(tmp_path: Path) -> None:
    for options in (
        ("--jobs", "0"),
        ("--exclude-checks", "no-such-check"),
        ("--report-json", str(tmp_path / "missing" / "selftest.json")),
    ):
        done = selftest(*options, "--variants", "namespace-prefix", cwd=tmp_path)
        assert done.returncode == 2, options
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert done.stdout == "", options


def test_a_variant_that_cannot_be_checked_is_a_problem_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug of ours, in the run or in serving a variant, is no verdict about the variant."""
    from createimage_contract import _selftest, conformance

    def broken(**_: object) -> None:
        raise RuntimeError("a bug of ours\nin two lines")

    monkeypatch.setattr(conformance, "run", broken)
    result = _selftest.check_variant(WRONG_CODE, 1, conformance.CHECK_IDS)
    assert result.problem == "RuntimeError: a bug of ours in two lines"
    assert not result.caught and not result.as_it_should and result.findings == ()
