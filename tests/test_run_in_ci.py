"""``createimage-contract run`` in a CI log: progress without a terminal, the files written,
one cause shown once, counts instead of ids, a hint for a wrong instance, ``-q`` and ``-v``.

The runs are in-process (``_cli.main``) against services served on loopback in this process,
with few rules and examples; the live line of a terminal is tested on the console alone.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_run import FAST, at, cli, load, pairs, table, totals
from test_faulty_services import Faulty
from test_safety import with_snapshots

from createimage_contract import validate
from createimage_contract._console import NORMAL, VERBOSE, Style
from createimage_contract._run_console import CLEAR_LINE, RunConsole
from createimage_contract.conformance import (
    FIXED_CREDENTIALS,
    Answer,
    CategoryFinished,
    CleanedUp,
    ReferenceService,
    RuleStats,
    RunStarted,
    Target,
    serve,
)
from createimage_contract.conformance._xml import XmlProblem, parse

HEARTBEAT = re.compile(r"^  (?P<mark>[.F]) (?P<rule>[a-z0-9.-]+) +(?P<sent>\d+) sent  (?P<n>\d+) ")
HTML_500 = (
    b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n"
)


class HtmlErrorPages(ReferenceService):
    """The reference, except that every request it refuses gets one and the same HTML 500 page
    (as a web framework's error handler gives)."""

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = super().answer(method, url, headers, body)
        if answer.status == 400:
            return Answer(500, HTML_500, "text/html; charset=utf-8")
        return answer


@pytest.fixture(scope="module")
def reference() -> Iterator[tuple[str, str]]:
    with serve(ReferenceService()) as running:
        yield running.url, running.instance_id


@pytest.fixture(scope="module")
def html_pages() -> Iterator[tuple[str, str]]:
    with serve(HtmlErrorPages()) as running:
        yield running.url, running.instance_id


def between_header_and_table(out: str) -> list[str]:
    lines = out.splitlines()
    end = next(i for i, line in enumerate(lines) if line.split()[:2] == ["rule", "sent"])
    return [line for line in lines[1:end] if line]


# --- 6: progress in a CI log -------------------------------------------------------------------


def test_without_a_terminal_each_rule_is_a_line_as_it_completes(
    capsys: pytest.CaptureFixture[str], reference: tuple[str, str]
) -> None:
    run = cli(capsys, "run", *at(reference), *FAST, "--rules", "valid,dry-run,name.length")
    assert run.code == 0, run
    assert CLEAR_LINE not in run.out, "no live line without a terminal"
    progress = between_header_and_table(run.out)
    beats = [HEARTBEAT.match(line) for line in progress]
    assert all(beats), progress
    rows = table(run.out)
    assert [(b["rule"], int(b["sent"])) for b in beats if b] == [
        (rule, sent) for rule, (sent, _, _) in rows.items()
    ]
    assert all(line.endswith(" 0 findings") for line in progress)


def console(live: bool, verbosity: int = NORMAL) -> tuple[RunConsole, io.StringIO]:
    out = io.StringIO()
    return RunConsole(out, Style(False), live, verbosity=verbosity), out


TARGET = Target("http://127.0.0.1:1/", "endpoint", "i-0123456789abcdef0", "us-east-1")


def test_on_a_terminal_progress_is_one_line_rewritten_and_failing_rules_stay() -> None:
    shown, out = console(live=True)
    shown(RunStarted(TARGET, ("valid", "dry-run", "name.length")))
    shown(CategoryFinished("valid", RuleStats(40, 0), 0))
    shown(CategoryFinished("dry-run", RuleStats(1, 1), 1))
    shown(CategoryFinished("name.length", RuleStats(12, 0), 0))
    shown(CleanedUp((), {}))
    text = out.getvalue()
    assert f"{CLEAR_LINE}[1/3] valid: 40 sent, 0 findings" in text
    assert f"{CLEAR_LINE}[3/3] name.length: 12 sent, 0 findings" in text
    # A rule that found something gets a line of its own, which clears the live line first.
    assert f"{CLEAR_LINE}  F dry-run {' ' * 26}    1 sent  1 finding\n" in text

    verbose, out = console(live=True, verbosity=VERBOSE)
    verbose(RunStarted(TARGET, ("valid",)))
    verbose(CategoryFinished("valid", RuleStats(40, 0), 0))
    assert CLEAR_LINE not in out.getvalue(), "-v keeps a line per rule"
    assert out.getvalue().splitlines()[1].startswith("  . valid")


# --- 7: the files written ----------------------------------------------------------------------


def test_each_file_written_is_named_before_the_totals(
    capsys: pytest.CaptureFixture[str], reference: tuple[str, str], tmp_path: Path
) -> None:
    report, junit, baseline = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "known.json"
    run = cli(
        capsys,
        "run",
        *at(reference),
        *FAST,
        "--rules",
        "valid",
        "--report-json",
        str(report),
        "--junit-xml",
        str(junit),
        "--write-baseline",
        str(baseline),
    )
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[-4:-1] == [
        f"wrote {report} (JSON report)",
        f"wrote {junit} (JUnit XML)",
        f"wrote {baseline} (baseline)",
    ]
    totals(run.out)
    assert report.is_file() and junit.is_file() and baseline.is_file()

    # 8 (c): on loopback, the images are counted, not listed.
    written = load(report)
    (valid,) = written["rules"]
    assert written["images"] == {
        "created": valid["sent"],
        "deregistered": 0,
        "snapshots_deleted": 0,
        "left_behind": {},
    }
    assert written["hints"] == []


# --- 8: one cause, shown once ------------------------------------------------------------------


def test_findings_that_got_one_answer_are_shown_once_as_its_cause(
    capsys: pytest.CaptureFixture[str], html_pages: tuple[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    chosen = ["description.length", "name.length", "tag.key"]
    run = cli(
        capsys,
        "run",
        *at(html_pages),
        *FAST,
        "--rules",
        ",".join(chosen),
        "--report-json",
        str(report),
    )
    assert run.code == 1, run
    lines = run.out.splitlines()
    headings = [line for line in lines if re.match(r"^(ERROR|WARNING): ", line)]
    assert headings == ["ERROR: content-type, status, xml x 3 rules (one answer)"]
    start = lines.index(headings[0])
    assert lines[start + 1] == f"  rules:     {', '.join(chosen)}"
    assert lines[start + 2] == "  content-type: content type is 'text/html; charset=utf-8', not XML"
    # The status message names its rule: shown for the rule of the shortest request.
    status = re.fullmatch(
        r"  status: expected 400 for (\S+), got 500; alike for 2 other rules", lines[start + 3]
    )
    assert status and status[1] in chosen, lines[start + 3]
    # 8 (b): an HTML page is named as one, not as a DTD.
    assert lines[start + 4] == "  xml: the body is an HTML page, not XML"
    assert "DOCTYPE" not in run.out and "DTD" not in run.out
    assert lines[start + 5].startswith("  request:   POST ")
    assert lines[start + 7] == "  response:  500 text/html; charset=utf-8"
    # Each check x rule is still a finding of its own in the counts and the report.
    assert totals(run.out)["errors"] == "9"
    assert pairs(load(report)) == {
        (check, rule) for check in ("status", "content-type", "xml") for rule in chosen
    }


def test_an_html_page_is_named_as_html_and_a_real_dtd_still_as_a_dtd() -> None:
    html = [
        HTML_500,
        b"<!DOCTYPE html><html><body>Bad request</body></html>",
        b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" "http://www.w3.org/TR/html4/strict.dtd">'
        b"<html></html>",
    ]
    for body in html:
        with pytest.raises(XmlProblem, match=r"^is an HTML page, not XML$"):
            parse(body)
    dtds = [
        b'<!DOCTYPE html [<!ENTITY x "y">]><html>&x;</html>',  # an internal subset: a DTD
        b'<?xml version="1.0"?><!DOCTYPE CreateImageResponse [<!ENTITY e "e">]><a>&e;</a>',
        b"<!DOCTYPE htmlx><x/>",
    ]
    for body in dtds:
        with pytest.raises(XmlProblem, match=r"declares a DOCTYPE \(a DTD\)"):
            parse(body)


def test_off_loopback_images_and_snapshots_are_counted_apart(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    key, secret = FIXED_CREDENTIALS
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    report = tmp_path / "r.json"
    # 0.0.0.0 reaches this machine, yet is not a loopback address: the run treats it as remote.
    with serve(Faulty(with_snapshots([])), host="0.0.0.0") as running:
        run = cli(
            capsys,
            "run",
            *at((running.url, running.instance_id)),
            *FAST,
            "--rules",
            "valid",
            "--allow-resource-creation",
            "--report-json",
            str(report),
        )
    assert run.code == 0, run
    images = load(report)["images"]
    created = images["created"]
    assert created > 1
    assert images == {
        "created": created,
        "deregistered": created,
        "snapshots_deleted": created,
        "left_behind": {},
    }
    assert f"cleanup: removed {created} images and {created} snapshots" in run.out.splitlines()


# --- 9: the commonest mistake ------------------------------------------------------------------


def test_an_instance_the_target_does_not_hold_gets_a_hint(
    capsys: pytest.CaptureFixture[str], reference: tuple[str, str], tmp_path: Path
) -> None:
    url, held = reference
    wrong = "i-0123456789abcdef0"
    assert wrong != held
    report = tmp_path / "r.json"
    # One seed: the hint counts the valid requests, and both runs must send the same ones.
    where = (
        "--endpoint",
        url,
        "--instance-id",
        wrong,
        *FAST,
        "--seed",
        "1",
        "--rules",
        "valid,dry-run",
    )
    run = cli(capsys, "run", *where, "--report-json", str(report))
    assert run.code == 1, run
    (hint,) = load(report)["hints"]
    assert "InvalidInstanceID.NotFound" in hint and wrong in hint and "--instance-id" in hint
    assert f"hint: {hint}" in run.out.splitlines()
    quiet = cli(capsys, "run", *where, "-q")
    assert f"hint: {hint}" in quiet.out.splitlines(), "-q keeps the hint"


@pytest.mark.parametrize("command", ["run", "serve", "generate", "lint", "selftest"])
def test_every_instance_id_in_the_help_is_well_formed(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    shown = cli(capsys, command, "--help")
    assert shown.code == 0
    for instance_id in re.findall(r"\bi-[0-9A-Za-z]+\b", shown.out):
        assert validate({"InstanceId": instance_id, "Name": "probe"}) == [], instance_id
    if command == "run":
        assert "i-0123456789abcdef0" in shown.out


# --- 12: one, and -q and -v ----------------------------------------------------------------------


def test_one_is_singular_in_the_header_and_the_totals(
    capsys: pytest.CaptureFixture[str], html_pages: tuple[str, str]
) -> None:
    run = cli(capsys, "run", *at(html_pages), *FAST, "--rules", "name.length", "--checks", "status")
    assert run.code == 1, run
    assert " 1 category against " in run.out.splitlines()[0]
    assert re.search(r": 1 error, 0 warnings$", run.out.splitlines()[-1]), run.out
    assert re.search(r"sent  1 finding$", run.out.splitlines()[1]), run.out


def test_quiet_prints_the_findings_and_the_totals_only(
    capsys: pytest.CaptureFixture[str], html_pages: tuple[str, str], tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    where = (*at(html_pages), *FAST, "--rules", "name.length", "--checks", "status")
    run = cli(capsys, "run", *where, "--quiet", "--report-json", str(report))
    assert run.code == 1, run
    lines = [line for line in run.out.splitlines() if line]
    assert lines[0] == "ERROR: status x name.length"
    assert all(line.startswith("  ") for line in lines[1:-1]), lines
    totals(run.out)
    assert report.is_file(), "written, without saying so"


def test_verbose_prints_the_options_and_every_near_miss(
    capsys: pytest.CaptureFixture[str], reference: tuple[str, str]
) -> None:
    run = cli(capsys, "run", *at(reference), *FAST, "--rules", "name.length", "--seed", "7", "-v")
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert lines[1].startswith("options: seed 7, max-examples 3, workers 4, ")
    assert HEARTBEAT.match(lines[2])
    assert any(line.startswith("near miss (rule, site, kind)") for line in lines)
    normal = cli(capsys, "run", *at(reference), *FAST, "--rules", "name.length", "--seed", "7")
    assert not any(line.startswith(("options:", "near miss (")) for line in normal.out.splitlines())
    assert json.dumps(normal.err) == '""'
