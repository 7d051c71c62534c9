"""``createimage-contract lint``: its reports, exit codes and inputs, run as a user runs it.

The end-to-end cases run the installed command in a child process (``python -m
createimage_contract``) from the project root, so that file names in the reports are the relative
names given on the command line; the rest call ``_cli.main`` in-process.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from createimage_contract import _cli, rule, rules

ROOT = Path(__file__).resolve().parent.parent
VALID = sorted(f"examples/valid/{p.name}" for p in (ROOT / "examples" / "valid").iterdir())
INVALID = sorted(f"examples/invalid/{p.name}" for p in (ROOT / "examples" / "invalid").iterdir())
ERROR_PREFIX = "createimage-contract lint: error: "
ANSI = re.compile(r"\x1b\[[0-9;]*m")
VIOLATION_LINE = re.compile(
    r"(?P<file>[^:]+):(?P<path>/[^:]*): (?P<severity>error|warning) "
    r"(?P<code>[A-Za-z0-9.]+) (?P<rule>[a-z0-9.-]+) (?P<message>.+)"
)
REPORT_KEYS = {"source", "valid", "violations"}
VIOLATION_KEYS = {"rule", "path", "message", "code", "status", "severity"}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run_lint(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> Run:
    """``createimage-contract lint ARGS`` in a child process; stdin and stdout are pipes."""
    environment = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    environment.update({"TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8"})
    environment.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "createimage_contract", "lint", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=environment,
        timeout=120,
        check=False,
    )
    run = Run(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))
    assert "Traceback" not in run.err, run.err
    return run


def lint_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """``_cli.main(["lint", *args])`` with the output captured."""
    code = _cli.main(["lint", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return Run(code, captured.out, captured.err)


def violation_lines(out: str) -> list[str]:
    """The report's lines before its summary line."""
    lines = out.splitlines()
    assert lines, "no summary line"
    return lines[:-1]


def summary_line(out: str) -> str:
    return out.splitlines()[-1]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def expected_summary(reports: Sequence[dict[str, Any]]) -> str:
    violations = [v for r in reports for v in r["violations"]]
    errors = sum(v["severity"] == "error" for v in violations)
    unreadable = sum("error" in r for r in reports)
    invalid = sum(not r["valid"] for r in reports) - unreadable
    if not violations and not unreadable:
        return f"{plural(len(reports), 'input')} checked, all valid."
    summary = (
        f"{plural(errors, 'error')}, {plural(len(violations) - errors, 'warning')} "
        f"in {plural(len(reports), 'input')}; {invalid} invalid"
    )
    return summary + (f"; {unreadable} unreadable." if unreadable else ".")


def rule_of_example(source: str) -> str:
    """The rule an invalid example breaks: its file name up to the last extension."""
    return Path(source).name.rsplit(".", 1)[0]


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# ---------------------------------------------------------------- the examples, linted once each


@pytest.fixture(scope="module")
def invalid_text() -> Run:
    return run_lint(*INVALID)


@pytest.fixture(scope="module")
def invalid_json() -> Run:
    return run_lint("--format", "json", *INVALID)


@pytest.fixture(scope="module")
def valid_text() -> Run:
    return run_lint(*VALID)


@pytest.fixture(scope="module")
def valid_json() -> Run:
    return run_lint("--format", "json", *VALID)


def report_of(run: Run, source: str) -> dict[str, Any]:
    reports = [r for r in json.loads(run.out) if r["source"] == source]
    assert len(reports) == 1, f"{source} reported {len(reports)} times"
    report: dict[str, Any] = reports[0]
    return report


def test_examples_exist() -> None:
    assert len(VALID) >= 3
    assert len(INVALID) >= 3


@pytest.mark.parametrize("source", INVALID)
def test_invalid_example_breaks_the_rule_it_is_named_after(invalid_json: Run, source: str) -> None:
    rule_id = rule_of_example(source)
    assert rule_id in rules(), f"{source} is named after no rule of the catalogue"
    report = report_of(invalid_json, source)
    assert report["valid"] is False
    assert "error" not in report
    errors = [v for v in report["violations"] if v["severity"] == "error"]
    assert [v["rule"] for v in errors] == [rule_id]


@pytest.mark.parametrize("source", VALID)
def test_valid_example_is_valid(valid_json: Run, source: str) -> None:
    report = report_of(valid_json, source)
    assert report["valid"] is True
    assert "error" not in report
    assert [v for v in report["violations"] if v["severity"] == "error"] == []


def test_exit_0_when_every_input_is_valid(valid_text: Run, valid_json: Run) -> None:
    assert (valid_text.code, valid_json.code) == (0, 0)
    assert valid_text.err == valid_json.err == ""
    warnings = sum(len(r["violations"]) for r in json.loads(valid_json.out))
    if warnings == 0:
        assert valid_text.out == f"{len(VALID)} inputs checked, all valid.\n"
    assert summary_line(valid_text.out) == expected_summary(json.loads(valid_json.out))


def test_exit_1_when_an_input_is_invalid(invalid_text: Run, invalid_json: Run) -> None:
    assert (invalid_text.code, invalid_json.code) == (1, 1)
    assert invalid_text.err == invalid_json.err == ""


# ------------------------------------------------------------------------------ the text report


def test_text_report_is_one_line_per_violation_then_a_summary(
    invalid_text: Run, invalid_json: Run
) -> None:
    reports = json.loads(invalid_json.out)
    expected = [
        f"{r['source']}:{v['path']}: {v['severity']} {v['code'] or '4xx'} "
        f"{v['rule']} {v['message']}"
        for r in reports
        for v in r["violations"]
    ]
    assert violation_lines(invalid_text.out) == expected
    assert summary_line(invalid_text.out) == expected_summary(reports)
    assert invalid_text.out.endswith("\n")


def test_text_report_names_file_path_code_and_rule(invalid_text: Run) -> None:
    lines = violation_lines(invalid_text.out)
    files: set[str] = set()
    for line in lines:
        match = VIOLATION_LINE.fullmatch(line)
        assert match, f"not FILE:PATH: SEVERITY CODE rule-id message: {line!r}"
        files.add(match["file"])
        assert match["rule"] == rule_of_example(match["file"])
        assert match["code"] == (rule(match["rule"]).code or "4xx")
        assert match["severity"] == rule(match["rule"]).severity
    assert files == set(INVALID)
    charset = (
        "examples/invalid/name.charset.json:/body/Name: "
        "error InvalidAMIName.Malformed name.charset "
    )
    (line,) = (line for line in lines if line.startswith("examples/invalid/name.charset.json:"))
    assert line.startswith(charset)
    assert line.endswith("'nightly#42'")


def test_the_readme_example_is_what_lint_prints() -> None:
    files = ["examples/invalid/name.charset.json", "examples/invalid/version.unsupported.form"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(f"$ createimage-contract lint {' '.join(files)}\n", 1)[1]
    run = run_lint(*files)
    assert run.out == shown.split("```", 1)[0]
    # No source gives EC2's code for an unsupported Version: any client error will do.
    assert ": error 4xx version.unsupported " in run.out


def test_text_report_has_no_colour_when_stdout_is_not_a_terminal(invalid_text: Run) -> None:
    assert "\x1b" not in invalid_text.out


def test_color_always_adds_ansi_escapes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("NO_COLOR", "1")  # an explicit --color always wins over NO_COLOR
    source = "examples/invalid/name.charset.json"
    coloured = lint_in_process(capsys, "--color", "always", source)
    plain = lint_in_process(capsys, "--color", "never", source)
    assert coloured.code == plain.code == 1
    assert "\x1b[31merror InvalidAMIName.Malformed\x1b[0m" in coloured.out
    assert "\x1b" not in plain.out
    assert ANSI.sub("", coloured.out) == plain.out


@pytest.mark.parametrize(
    ("env", "coloured"),
    [
        pytest.param({}, True, id="terminal"),
        pytest.param({"NO_COLOR": "1"}, False, id="NO_COLOR"),
        pytest.param({"TERM": "dumb"}, False, id="TERM=dumb"),
    ],
)
def test_color_auto_colours_a_terminal_unless_no_color(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], coloured: bool
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert _cli.main(["lint", "--color", "auto", "examples/invalid/name.charset.json"]) == 1
    assert ("\x1b[" in terminal.getvalue()) is coloured
    assert ANSI.sub("", terminal.getvalue()).startswith("examples/invalid/name.charset.json:")


# ------------------------------------------------------------------------------ the JSON report


def test_json_report_is_one_object_per_input(invalid_json: Run, valid_json: Run) -> None:
    for run, sources in ((invalid_json, INVALID), (valid_json, VALID)):
        reports = json.loads(run.out)
        assert isinstance(reports, list)
        assert [r["source"] for r in reports] == sources
        for report in reports:
            assert set(report) == REPORT_KEYS
            assert isinstance(report["valid"], bool)
            for violation in report["violations"]:
                assert set(violation) == VIOLATION_KEYS
                catalogued = rule(violation["rule"])
                assert violation["code"] == catalogued.code
                assert violation["status"] == catalogued.status
                assert violation["severity"] == catalogued.severity
                assert violation["path"].startswith("/")
                assert isinstance(violation["message"], str) and violation["message"]


def test_json_report_of_an_unreadable_input_has_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)
    missing = str(tmp_path / "missing.json")
    run = lint_in_process(capsys, "--format", "json", "examples/valid/minimal.json", missing)
    assert run.code == 2
    good, bad = json.loads(run.out)
    assert good == {"source": "examples/valid/minimal.json", "valid": True, "violations": []}
    assert set(bad) == {*REPORT_KEYS, "error"}
    assert bad["source"] == missing
    assert bad["valid"] is False
    assert bad["violations"] == []
    assert isinstance(bad["error"], str)
    assert missing in bad["error"]
    assert run.err == f"{ERROR_PREFIX}{bad['error']}\n"


# ------------------------------------------------------------------------- unreadable: exit 2


@dataclass(frozen=True)
class Unreadable:
    content: bytes | None
    """What the file holds; ``None``: no file is written."""
    reason: str
    """What the error line says about it."""
    options: tuple[str, ...] = ()
    directory: bool = False

    def make(self, folder: Path, name: str) -> Path:
        path = folder / name
        if self.directory:
            path.mkdir()
        elif self.content is not None:
            path.write_bytes(self.content)
        return path


HTTP_HEADERS_LIST = (
    b'{"url": "https://ec2.us-east-1.amazonaws.com/", "method": "POST",'
    b' "headers": [["Content-Type", "application/x-www-form-urlencoded"]],'
    b' "body": "Action=CreateImage&Version=2016-11-15&InstanceId=i-0a1b2c3d&Name=nightly"}'
)
UNREADABLE = {
    "missing": Unreadable(None, "cannot read"),
    "directory": Unreadable(None, "is a directory", directory=True),
    "invalid-json": Unreadable(b'{"InstanceId": "i-0a1b2c3d", "Name": }', "not valid JSON"),
    "invalid-utf8": Unreadable(b"Action=CreateImage&Name=caf\xe9", "not UTF-8"),
    "nul-bytes": Unreadable(b"Action=CreateImage\x00\x01\x02\x03", "binary data"),
    "headers-list": Unreadable(HTTP_HEADERS_LIST, "headers must be an object"),
    "json-array-forced": Unreadable(
        b'[{"InstanceId": "i-0a1b2c3d", "Name": "nightly"}]',
        "must be a JSON object",
        options=("--input", "json"),
    ),
}
UNREADABLE["json-array-auto"] = Unreadable(
    b'[{"InstanceId": "i-0a1b2c3d", "Name": "nightly"}]', "must be a JSON object, not array"
)


@pytest.mark.parametrize(
    "case",
    [pytest.param(case, id=kind) for kind, case in UNREADABLE.items()],
)
def test_exit_2_when_an_input_cannot_be_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: Unreadable
) -> None:
    path = case.make(tmp_path, "request")
    run = lint_in_process(capsys, *case.options, str(path))
    assert run.code == 2
    (line,) = run.err.splitlines()
    assert line.startswith(f"{ERROR_PREFIX}{path}: ")
    assert case.reason in line
    assert summary_line(run.out) == "0 errors, 0 warnings in 1 input; 0 invalid; 1 unreadable."
    assert violation_lines(run.out) == []


def test_every_unreadable_input_is_named_on_stderr(tmp_path: Path) -> None:
    paths = [case.make(tmp_path, kind) for kind, case in UNREADABLE.items() if not case.options]
    run = run_lint(*map(str, paths))
    assert run.code == 2
    lines = run.err.splitlines()
    assert len(lines) == len(paths)
    for path, line in zip(paths, lines, strict=True):
        assert line.startswith(f"{ERROR_PREFIX}{path}: ")
    assert summary_line(run.out) == (
        f"0 errors, 0 warnings in {len(paths)} inputs; 0 invalid; {len(paths)} unreadable."
    )


@pytest.mark.parametrize("report", ["text", "json"])
def test_good_invalid_and_missing_inputs_together(tmp_path: Path, report: str) -> None:
    good, invalid = "examples/valid/minimal.json", "examples/invalid/name.charset.json"
    missing = str(tmp_path / "missing.json")
    run = run_lint("--format", report, good, invalid, missing)
    assert run.code == 2
    (line,) = run.err.splitlines()
    assert line.startswith(f"{ERROR_PREFIX}{missing}: ")
    if report == "json":
        reports = json.loads(run.out)
        assert [r["source"] for r in reports] == [good, invalid, missing]
        assert [r["valid"] for r in reports] == [True, False, False]
        assert [v["rule"] for v in reports[1]["violations"]] == ["name.charset"]
        assert "error" in reports[2]
    else:
        (violation,) = violation_lines(run.out)
        assert violation.startswith(
            f"{invalid}:/body/Name: error InvalidAMIName.Malformed name.charset "
        )
        assert summary_line(run.out) == "1 error, 0 warnings in 3 inputs; 1 invalid; 1 unreadable."


# ------------------------------------------------------------------------------- usage: exit 2


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--no-such-option", "examples/valid/minimal.json"], id="unknown-option"),
        pytest.param(["--input", "yaml", "examples/valid/minimal.json"], id="bad-input"),
        pytest.param(["--format", "xml", "examples/valid/minimal.json"], id="bad-format"),
    ],
)
def test_usage_error_is_one_line_and_exit_2(args: list[str]) -> None:
    run = run_lint(*args)
    assert run.code == 2
    assert run.out == ""
    (line,) = run.err.splitlines()
    assert "error:" in line
    assert args[0] in line or args[1] in line


def test_no_input_on_a_terminal_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal())
    run = lint_in_process(capsys)
    assert run.code == 2
    assert run.out == ""
    (line,) = run.err.splitlines()
    assert line.startswith(ERROR_PREFIX)


def test_lint_help_documents_exit_codes_and_input_forms() -> None:
    run = run_lint("--help")
    assert run.code == 0
    assert run.err == ""
    assert "exit codes:" in run.out
    for code in ("0", "1", "2"):
        assert re.search(rf"^\s+{code}\s+\S", run.out, re.MULTILINE), f"exit code {code}"
    for form in ("json", "form", "http", "workflow", "jsonl"):
        assert re.search(rf"^\s+{form}\s+\S", run.out, re.MULTILINE), f"input form {form}"
    assert "--input {auto,json,form,http,workflow,jsonl}" in run.out
    assert "- reads standard input" in run.out


HEAVY = (
    "createimage_contract.conformance",
    "hypothesis",
    "botocore",
    "lxml",
    "urllib3",
    "responses",
)
"""What ``lint`` never needs: the runner, and the libraries of the strategies and the runner."""
LINT_ALONE = """
import sys
from createimage_contract import _cli
code = _cli.main(sys.argv[2:])
print([name for name in sys.argv[1].split(",") if name in sys.modules])
sys.exit(code)
"""


def test_lint_imports_neither_the_runner_nor_its_libraries() -> None:
    """Building the command line registers every command; none of them may import what only
    ``run``, ``generate`` or ``selftest`` need, so that ``lint`` starts fast."""
    done = subprocess.run(
        [sys.executable, "-c", LINT_ALONE, ",".join(HEAVY), "lint", "examples/valid/minimal.json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]", done.stdout


# ------------------------------------------------------------------------------ standard input


def test_stdin_form_body() -> None:
    body = (ROOT / "examples" / "valid" / "dry-run.form").read_bytes()
    run = run_lint("-", stdin=body)
    assert (run.code, run.out, run.err) == (0, "1 input checked, all valid.\n", "")


def test_stdin_form_body_invalid() -> None:
    body = (ROOT / "examples" / "invalid" / "name.length.form").read_bytes()
    run = run_lint("-", stdin=body)
    assert run.code == 1
    (line,) = violation_lines(run.out)
    assert line.startswith("<stdin>:/body/Name: error InvalidAMIName.Malformed name.length ")


def test_stdin_json_parameters() -> None:
    document = (ROOT / "examples" / "invalid" / "name.charset.json").read_bytes()
    run = run_lint("--format", "json", "-", stdin=document)
    assert run.code == 1
    (report,) = json.loads(run.out)
    assert report["source"] == "<stdin>"
    assert [v["rule"] for v in report["violations"]] == ["name.charset"]


def test_stdin_is_read_when_no_file_is_given() -> None:
    run = run_lint(stdin=(ROOT / "examples" / "valid" / "minimal.json").read_bytes())
    assert (run.code, run.out, run.err) == (0, "1 input checked, all valid.\n", "")


def test_stdin_json_forced_as_a_form_body_is_invalid() -> None:
    document = (ROOT / "examples" / "valid" / "minimal.json").read_bytes()
    run = run_lint("--input", "form", "--format", "json", "-", stdin=document)
    assert run.code == 1
    (report,) = json.loads(run.out)
    rules_broken = {v["rule"] for v in report["violations"]}
    assert {"action.missing", "version.missing", "parameter.unknown"} <= rules_broken


@pytest.mark.parametrize(
    ("form", "source", "code", "rules_broken"),
    [
        pytest.param(
            "form",
            "examples/valid/minimal.json",
            1,
            {"action.missing", "parameter.unknown", "instance-id.missing"},
            id="json-as-form",
        ),
        pytest.param(
            "json", "examples/valid/http-task.json", 1, {"parameter.unknown"}, id="http-as-json"
        ),
        pytest.param("json", "examples/valid/dry-run.form", 2, set(), id="form-as-json"),
        pytest.param("http", "examples/valid/minimal.json", 2, set(), id="json-as-http"),
        pytest.param("http", "examples/valid/http-task.json", 0, set(), id="http-as-http"),
        pytest.param("json", "examples/valid/minimal.json", 0, set(), id="json-as-json"),
    ],
)
def test_input_option_forces_a_reading(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    form: str,
    source: str,
    code: int,
    rules_broken: set[str],
) -> None:
    monkeypatch.chdir(ROOT)
    run = lint_in_process(capsys, "--input", form, "--format", "json", source)
    assert run.code == code
    (report,) = json.loads(run.out)
    assert rules_broken <= {v["rule"] for v in report["violations"]}
    assert ("error" in report) is (code == 2)
    assert run.err.count("\n") == (1 if code == 2 else 0)


def test_a_byte_order_mark_is_not_content(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "request"
    path.write_bytes(b'\xef\xbb\xbf{"InstanceId": "i-0a1b2c3d", "Name": "nightly"}')
    run = lint_in_process(capsys, str(path))
    assert run.code == 0, run.out


def test_a_reader_that_leaves_early_does_not_change_the_verdict() -> None:
    invalid = sorted(str(p) for p in (ROOT / "examples" / "invalid").iterdir()) * 100
    reader = subprocess.Popen(
        ["head", "-c", "10"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert reader.stdin is not None
    lint = subprocess.run(
        [sys.executable, "-m", "createimage_contract", "lint", *invalid],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        cwd=ROOT,
    )
    reader.stdin.close()
    reader.wait()
    assert lint.returncode == 1
    assert "Traceback" not in lint.stderr


# --------------------------------------------------------- severity, -q and -v, plurals (text)

WARNING_AND_ERROR = {
    "InstanceId": "i-0a1b2c3d",
    "Name": "a",
    "BlockDeviceMappings": [{"Ebs": {"OutpostArn": "arn"}}],
}
"""A request breaking a rule of each severity: a name too short, and an Outpost ARN."""


def write_request(folder: Path, name: str, document: Any) -> str:
    path = folder / name
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


def test_text_report_says_the_severity_in_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """In a CI log colour is lost: each line says error or warning."""
    source = write_request(tmp_path, "request.json", WARNING_AND_ERROR)
    run = lint_in_process(capsys, "--color", "never", source)
    assert run.code == 1
    severities = {}
    for line in violation_lines(run.out):
        match = VIOLATION_LINE.fullmatch(line)
        assert match, line
        severities[match["rule"]] = match["severity"]
    assert severities["name.length"] == "error"
    assert "warning" in severities.values()
    assert all(rule(r).severity == s for r, s in severities.items())


def test_one_character_is_singular(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = write_request(tmp_path, "request.json", {"InstanceId": "i-0a1b2c3d", "Name": "a"})
    run = lint_in_process(capsys, source)
    (line,) = violation_lines(run.out)
    assert line.endswith(" name.length Name has 1 character, fewer than 3")
    assert summary_line(run.out) == "1 error, 0 warnings in 1 input; 1 invalid."


def test_quiet_prints_the_violation_lines_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    normal = lint_in_process(capsys, *VALID, *INVALID)
    quiet = lint_in_process(capsys, "-q", *VALID, *INVALID)
    assert quiet.code == normal.code == 1
    assert quiet.out == "".join(f"{line}\n" for line in violation_lines(normal.out))
    assert lint_in_process(capsys, "--quiet", *VALID) == Run(0, "", "")


def test_verbose_names_each_valid_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)
    warned = write_request(tmp_path, "warned.json", {**WARNING_AND_ERROR, "Name": "nightly"})
    run = lint_in_process(capsys, "-v", VALID[0], INVALID[0], warned)
    lines = run.out.splitlines()
    assert lines[0] == f"{VALID[0]}: valid"
    assert lines[1].startswith(f"{INVALID[0]}:/")
    assert lines[2].startswith(f"{warned}:/body/BlockDeviceMappings/0/Ebs/OutpostArn: warning ")
    assert lines[3] == f"{warned}: valid, 1 warning"
    assert lines[4:] == ["1 error, 1 warning in 3 inputs; 1 invalid."]
    assert (
        lint_in_process(capsys, "--verbose", *INVALID).out == lint_in_process(capsys, *INVALID).out
    )


def test_lint_help_says_what_quiet_and_verbose_do() -> None:
    run = run_lint("--help")
    assert "-q: the error and warning lines only" in run.out
    assert "-v: also a line for each valid input" in run.out
    assert "{text,json,github,sarif}" in run.out


# ------------------------------------------------------------------------- no input on stdin


def piped(data: bytes) -> io.TextIOWrapper:
    """Standard input as a pipe holding ``data``: not a terminal."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


@pytest.mark.parametrize("report", ["text", "json", "github", "sarif"])
@pytest.mark.parametrize("data", [b"", b" \n\t\r\n"], ids=["empty", "blank"])
def test_no_file_and_nothing_piped_is_no_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: bytes, report: str
) -> None:
    """An empty $FILES in CI: linting nothing is no pass, and no list of four errors."""
    monkeypatch.setattr(sys, "stdin", piped(data))
    run = lint_in_process(capsys, "--format", report)
    assert (run.code, run.out) == (2, "")
    (line,) = run.err.splitlines()
    assert line.startswith(f"{ERROR_PREFIX}no input")


def test_dash_and_nothing_piped_is_an_unreadable_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", piped(b"\n"))
    run = lint_in_process(capsys, "-")
    assert run.code == 2
    assert run.err == f"{ERROR_PREFIX}<stdin>: no input (standard input is empty)\n"
    assert run.out == "0 errors, 0 warnings in 1 input; 0 invalid; 1 unreadable.\n"


def test_an_empty_file_is_still_read_as_a_form_body(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Only standard input is "no input" when empty: an empty file is a request missing all."""
    path = tmp_path / "request.form"
    path.write_bytes(b"")
    assert lint_in_process(capsys, str(path)).code == 1


# ------------------------------------------------------------------------------- directories


def test_a_directory_is_searched_for_request_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("b/z.json", "b/a.form", "a.json", "notes.txt", ".git/x.json", "c/d/e.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text('{"InstanceId": "i-0a1b2c3d", "Name": "nightly"}')
    run = lint_in_process(capsys, "--format", "json", str(tmp_path))
    sources = [report["source"] for report in json.loads(run.out)]
    # The folder's own files first, then each subfolder's, all sorted; no hidden folder.
    expected = ["a.json", "b/a.form", "b/z.json", "c/d/e.json"]
    assert sources == [str(tmp_path / name) for name in expected]
    assert run.code == 0


def test_the_example_directories_lint_as_their_files(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    by_directory = lint_in_process(capsys, "examples/valid", "examples/invalid/")
    by_file = lint_in_process(capsys, *VALID, *INVALID)
    assert by_directory == by_file
    assert by_directory.code == 1


def test_a_directory_without_request_files_is_one_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)
    (tmp_path / "notes.txt").write_text("Action=CreateImage")
    run = lint_in_process(capsys, VALID[0], str(tmp_path))
    assert run.code == 2
    assert run.err == (
        f"{ERROR_PREFIX}{tmp_path}: is a directory with no .json or .form file in it\n"
    )
    assert summary_line(run.out) == "0 errors, 0 warnings in 2 inputs; 0 invalid; 1 unreadable."
