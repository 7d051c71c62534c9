"""What ``createimage-contract selftest`` prints with ``-q`` and ``-v``, on its table alone
(the runs behind it are ``test_selftest.py``'s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from createimage_contract._console import NORMAL, QUIET, VERBOSE, Style
from createimage_contract._selftest import Found, Result, Table

CAUGHT = Result(
    "instance-id-uppercase-hex",
    "faulty",
    ("instance-id.malformed",),
    tuple(
        Found("status", rule, "error", f"expected 400 for {rule}, got 200")
        for rule in ("instance-id.malformed", "name.length", "name.charset", "tag.key", "tag.value")
    ),
)
FALSE_ALARM = Result(
    "namespace-prefix", "conformant", (), (Found("xml", "valid", "error", "not XML"),)
)


def printed(capsys: pytest.CaptureFixture[str], verbosity: int, report: Path | None) -> list[str]:
    table = Table([CAUGHT.name, FALSE_ALARM.name], Style(False), verbosity)
    table.head()
    table.row(CAUGHT)
    table.row(FALSE_ALARM)
    table.finish([CAUGHT, FALSE_ALARM], 1.0, report)
    return capsys.readouterr().out.splitlines()


def test_quiet_prints_what_went_wrong_and_the_summary_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = printed(capsys, QUIET, tmp_path / "selftest.json")
    assert lines[0] == "false alarm: namespace-prefix"
    assert lines[-1] == "1 faulty, 1 caught, 1 conformant, 1 false alarm in 1.0 s"
    assert not any(line.startswith(CAUGHT.name) for line in lines), "no rows"
    assert not any(line.startswith("wrote ") for line in lines)


def test_normal_rows_show_three_findings_and_name_the_report(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = printed(capsys, NORMAL, tmp_path / "selftest.json")
    (row,) = [line for line in lines if line.startswith(CAUGHT.name)]
    assert row.endswith(" and 2 more")
    assert f"wrote {tmp_path / 'selftest.json'} (JSON report)" in lines


def test_verbose_rows_show_every_finding(capsys: pytest.CaptureFixture[str]) -> None:
    lines = printed(capsys, VERBOSE, None)
    (row,) = [line for line in lines if line.startswith(CAUGHT.name)]
    assert " more" not in row
    assert all(f"status x {f.rule}" in row for f in CAUGHT.findings)
