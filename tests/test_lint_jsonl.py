"""``lint --input jsonl``: one request per line, streamed, in worker processes, as a user runs it.

The end-to-end cases run ``python -m createimage_contract lint --input jsonl`` in a child
process; the reader's edge cases (lines across reads, the per-line cap) call ``_bulk.run`` with
small blocks, where every boundary is met many times over."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from createimage_contract import _bulk, _cli, to_form
from createimage_contract._lint import placeholders

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
ERROR_PREFIX = "createimage-contract lint: error: "
TEXT_LINE = re.compile(
    r"(?P<file>[^:]+):(?P<line>[0-9]+):(?P<path>/[^:]*): (?P<severity>error|warning|info) "
    r"(?:(?P<code>[A-Za-z0-9.]+) )?(?P<rule>[a-z0-9.-]+) (?P<message>.+)"
)

VALID_PARAMS = {"InstanceId": "i-0a1b2c3d", "Name": "nightly-web"}
BAD_NAME = {"InstanceId": "i-0a1b2c3d", "Name": "nightly#web"}
VALID_HTTP = {
    "url": "https://ec2.us-east-1.amazonaws.com/",
    "method": "POST",
    "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    "body": to_form(VALID_PARAMS),
}
BAD_HTTP = {**VALID_HTTP, "method": "PUT"}
WARNED_HTTP = {**VALID_HTTP, "headers": {"Content-Type": "application/json"}}
VALID_FORM = to_form(VALID_PARAMS)
BAD_FORM = VALID_FORM.replace("Version=2016-11-15", "Version=2014-10-01")


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def lint(*args: str, stdin: bytes = b"", timeout: float = 60) -> Run:
    """``createimage-contract lint --input jsonl ARGS`` in a child process, on pipes."""
    environment = {k: v for k, v in os.environ.items() if k not in {"NO_COLOR", "FORCE_COLOR"}}
    environment["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run(
        [sys.executable, "-m", "createimage_contract", "lint", "--input", "jsonl", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=environment,
        timeout=timeout,
        check=False,
    )
    run = Run(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))
    assert "Traceback" not in run.err, run.err
    return run


def jsonl(*lines: Any) -> bytes:
    """Each item as a line: bytes as they are, anything else as JSON."""
    return b"".join(
        (item if isinstance(item, bytes) else json.dumps(item).encode()) + b"\n" for item in lines
    )


def reported(out: str) -> list[tuple[int, str]]:
    """(line, rule) of each violation line of a text report, in order; the summary left out."""
    found = []
    for text in out.splitlines()[:-1]:
        match = TEXT_LINE.fullmatch(text)
        assert match, f"not a violation line: {text!r}"
        found.append((int(match["line"]), match["rule"]))
    return found


def corpus(lines: int, padding: int = 0) -> tuple[bytes, list[int]]:
    """``lines`` requests in the three forms, every 97th invalid, each line ending in
    ``padding`` spaces: the data and the invalid lines."""
    rows: list[Any] = []
    invalid = []
    for number in range(1, lines + 1):
        params = {**VALID_PARAMS, "Name": f"image-{number}", "Description": "x" * (number % 80)}
        if number % 97 == 0:
            params["Name"] += "#"
            invalid.append(number)
        form = number % 3
        if form == 0:
            rows.append(params)
        elif form == 1:
            rows.append({**VALID_HTTP, "body": to_form(params)})
        else:
            rows.append(to_form(params))
    return jsonl(*rows).replace(b"\n", b" " * padding + b"\n"), invalid


# -------------------------------------------------------------------------------- the forms


def test_each_form_on_its_line_and_blank_lines_ignored(tmp_path: Path) -> None:
    data = jsonl(VALID_PARAMS, VALID_HTTP, VALID_FORM) + b"\n   \n\t\r\n"
    data += jsonl(BAD_NAME, BAD_HTTP, BAD_FORM)
    path = tmp_path / "requests.jsonl"
    path.write_bytes(data)
    run = lint(str(path))
    assert run.code == 1
    assert run.err == ""
    # Lines 4-6 are blank: not requests, not counted, not errors; the numbers stay the file's.
    assert reported(run.out) == [
        (7, "name.charset"),
        (8, "http.method"),
        (9, "version.unsupported"),
    ]
    assert run.out.startswith(f"{path}:7:/body/Name: error InvalidAMIName.Malformed name.charset ")
    assert run.out.splitlines()[-1] == "3 errors, 0 warnings in 6 lines; 3 invalid."


def test_all_valid_exits_0_and_one_invalid_line_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, VALID_FORM, VALID_HTTP))
    run = lint(str(path))
    assert (run.code, run.out, run.err) == (0, "3 lines checked, all valid.\n", "")
    path.write_bytes(jsonl(VALID_PARAMS, WARNED_HTTP))  # a warning: still valid
    run = lint(str(path))
    assert run.code == 0
    assert reported(run.out) == [(2, "header.content-type.media-type")]
    path.write_bytes(jsonl(VALID_PARAMS, VALID_FORM, BAD_NAME, VALID_HTTP))
    run = lint(str(path))
    assert run.code == 1
    assert reported(run.out) == [(3, "name.charset")]


def test_verbose_names_each_valid_line_and_quiet_only_violations(tmp_path: Path) -> None:
    path = tmp_path / "some.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, BAD_NAME))
    verbose = lint("-v", str(path))
    assert verbose.out.splitlines()[0] == f"{path}:1: valid"
    quiet = lint("-q", str(path))
    assert quiet.out.splitlines() == verbose.out.splitlines()[1:2]


# --------------------------------------------------------------------------- unreadable lines


def test_unreadable_lines_are_reported_with_their_numbers_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(
        jsonl(VALID_PARAMS, b"not json {", [VALID_PARAMS], 42, b'{"a": "\xff"}', BAD_NAME)
    )
    run = lint(str(path))
    assert run.code == 2
    errors = run.err.splitlines()
    assert [e.split(": ")[2].split(":")[1] for e in errors] == ["2", "3", "4", "5"]
    assert errors[0].startswith(f"{ERROR_PREFIX}{path}:2: not valid JSON (")
    assert errors[1] == (
        f"{ERROR_PREFIX}{path}:3: not a request: a JSON array; a line holds an object "
        "(parameters or an HTTP request) or a string (a form body)"
    )
    assert "a number" in errors[2]
    assert errors[3].startswith(f"{ERROR_PREFIX}{path}:5: not UTF-8 text (byte ")
    assert reported(run.out) == [(6, "name.charset")]  # after them: still linted
    assert run.out.splitlines()[-1] == "1 error, 0 warnings in 6 lines; 1 invalid; 4 unreadable."


def test_a_line_over_the_cap_is_one_error_and_the_run_goes_on(tmp_path: Path) -> None:
    cap = _bulk.MAX_LINE_BYTES
    # Line 2 ends in the read that crosses the cap (a worker sees it whole); line 3 is refused
    # while it is read, and skipped to its end.
    just_over = b'{"Name": "' + b"a" * (cap - 10) + b'"}'
    far_over = b'{"Name": "' + b"b" * (cap + 2 * 1024 * 1024) + b'"}'
    path = tmp_path / "long.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, just_over, far_over, BAD_NAME))
    run = lint(str(path))
    assert run.code == 2
    assert run.err.splitlines() == [
        f"{ERROR_PREFIX}{path}:{n}: longer than 10 MiB; a line holds one request" for n in (2, 3)
    ]
    assert reported(run.out) == [(4, "name.charset")]


@pytest.mark.parametrize("block", [7, 64, 1000])
def test_lines_across_reads_keep_their_numbers(block: int) -> None:
    """The reader's boundaries: lines that span reads, lines over the cap by one byte or many,
    a last line with no newline; the same report whatever the read size."""
    cap = 120
    rows = [
        jsonl(VALID_PARAMS),
        jsonl(BAD_NAME),
        b" " * (cap - 1) + b"\n",  # blank, however long
        b"{" + b" " * (cap - 2) + b"}\n",  # cap bytes: read (an empty object: invalid)
        b"{" + b" " * (cap - 1) + b"}\n",  # cap + 1: refused
        b"[" * (cap * 5) + b"\n",  # far over: refused while read
        b"\n",
        jsonl(BAD_NAME).rstrip(b"\n"),  # the last line, with no newline after it
    ]
    out, err = io.StringIO(), io.StringIO()
    settings = _bulk.Settings(placeholders=placeholders(), max_line=cap, verbosity=-1)
    code = _bulk.run(
        ["-"], settings, 1, out=out, err=err, stdin=io.BytesIO(b"".join(rows)), block=block
    )
    assert code == 2
    assert reported(out.getvalue() + "summary\n") == [
        (2, "name.charset"),
        (4, "instance-id.missing"),
        (4, "name.missing"),
        (8, "name.charset"),
    ]
    assert [line.split(":")[3] for line in err.getvalue().splitlines()] == ["5", "6"]


# ------------------------------------------------------------------------------- the processes


def test_jobs_1_and_jobs_2_give_the_same_report_in_line_order(tmp_path: Path) -> None:
    data, invalid = corpus(16_000, padding=150)
    assert len(data) > _bulk.POOL_FROM_BLOCKS * _bulk.BLOCK_BYTES  # workers are started
    path = tmp_path / "many.jsonl"
    path.write_bytes(data)
    one = lint("--jobs", "1", str(path))
    two = lint("--jobs", "2", str(path))
    assert (one.code, two.code) == (1, 1)
    assert one.out == two.out
    assert reported(two.out) == [(n, "name.charset") for n in invalid]
    assert two.out.splitlines()[-1] == (
        f"{len(invalid)} errors, 0 warnings in 16000 lines; {len(invalid)} invalid."
    )
    json_two = lint("--jobs", "2", "--format", "json", str(path))
    assert [json.loads(line)["line"] for line in json_two.out.splitlines()] == invalid


def test_workers_keep_line_order_over_many_small_blocks() -> None:
    data, invalid = corpus(600)
    data = data.replace(b"\n", b"\n\n", 50) + b"[]\n"  # blank lines among them; one unreadable
    reports = []
    for jobs in (1, 2):
        out, err = io.StringIO(), io.StringIO()
        settings = _bulk.Settings(format="json", placeholders=placeholders())
        code = _bulk.run(
            ["-"], settings, jobs, out=out, err=err, stdin=io.BytesIO(data), block=2048
        )
        assert code == 2
        reports.append(out.getvalue())
    assert reports[0] == reports[1]
    lines = [json.loads(line)["line"] for line in reports[1].splitlines()]
    assert lines == [n + 50 for n in invalid] + [651]


def test_jobs_is_only_for_jsonl_and_a_whole_number() -> None:
    assert _cli.main(["lint", "--jobs", "2", "examples/valid"]) == 2
    with pytest.raises(SystemExit) as exit_:
        _cli.main(["lint", "--input", "jsonl", "--jobs", "0", "-"])
    assert exit_.value.code == 2


def test_the_default_is_one_job_per_core() -> None:
    cores = getattr(os, "process_cpu_count", os.cpu_count)()
    assert _bulk.default_jobs() == max(1, cores or 1)


# ------------------------------------------------------------------------------------- stdin


@pytest.mark.parametrize("args", [["-"], []], ids=["dash", "no-file"])
def test_standard_input(args: list[str]) -> None:
    run = lint(*args, stdin=jsonl(VALID_PARAMS, BAD_NAME, VALID_FORM))
    assert run.code == 1
    assert run.out.startswith("<stdin>:2:/body/Name: error ")
    assert reported(run.out) == [(2, "name.charset")]


def test_empty_standard_input_is_no_input() -> None:
    run = lint("-", stdin=b"\n \n")
    assert run.code == 2
    assert run.err == f"{ERROR_PREFIX}<stdin>: no input (standard input is empty)\n"


def test_files_are_numbered_each_from_line_1_and_a_missing_one_is_reported(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(jsonl(BAD_NAME))
    second.write_bytes(jsonl(VALID_PARAMS, BAD_NAME))
    missing = tmp_path / "missing.jsonl"
    run = lint(str(first), str(missing), str(second))
    assert run.code == 2
    assert run.err.startswith(f"{ERROR_PREFIX}{missing}: cannot read (")
    assert [line.split(":/")[0] for line in run.out.splitlines()[:-1]] == [
        f"{first}:1",
        f"{second}:2",
    ]


# ------------------------------------------------------------------------------ the formats


def test_json_is_json_lines_an_entry_per_line_with_violations_or_an_error(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, BAD_NAME, b"{", {**VALID_PARAMS, "Name": "n-${date}"}))
    run = lint("--format", "json", str(path))
    assert run.code == 2
    entries = [json.loads(line) for line in run.out.splitlines()]
    assert [(e["line"], e["valid"]) for e in entries] == [(2, False), (3, False), (4, True)]
    assert [v["rule"] for v in entries[0]["violations"]] == ["name.charset"]
    assert entries[1]["error"].startswith(f"{path}:3: not valid JSON")
    assert entries[1]["violations"] == []
    assert [v["rule"] for v in entries[2]["violations"]] == ["dynamic"]  # an info: still valid
    assert {e["source"] for e in entries} == {str(path)}


def test_github_annotations_carry_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, BAD_NAME, b"nope"))
    run = lint("--format", "github", str(path))
    assert run.code == 2
    assert run.out.splitlines() == [
        f"::error file={path},line=2,title=name.charset::/body/Name: InvalidAMIName.Malformed "
        "Name does not match ^[A-Za-z0-9()\\[\\] ./'@_-]*$: 'nightly#web'",
        f"::error file={path},line=3,title=unreadable input::{path}:3: not valid JSON "
        "(Expecting value, column 1)",
    ]


def test_sarif_is_valid_and_carries_the_line(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, BAD_NAME, b"[", BAD_FORM))
    run = lint("--format", "sarif", str(path))
    assert run.code == 2
    log = json.loads(run.out)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)
    (sarif_run,) = log["runs"]
    found = [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
        for r in sarif_run["results"]
    ]
    assert found == [("name.charset", 2), ("version.unsupported", 4)]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in sarif_run["results"])
    (invocation,) = sarif_run["invocations"]
    assert (invocation["executionSuccessful"], invocation["exitCode"]) == (False, 2)
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["locations"][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert notification["message"]["text"].startswith(f"{path}:3: not valid JSON")


def test_sarif_of_standard_input_gives_the_line_as_a_property() -> None:
    run = lint("--format", "sarif", "-", stdin=jsonl(BAD_NAME))
    log = json.loads(run.out)
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))).validate(log)
    (result,) = log["runs"][0]["results"]
    assert result["properties"] == {"line": 1}
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


# ------------------------------------------------------------------------------ the progress bar


def test_a_progress_bar_on_a_terminal_and_none_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_bytes(jsonl(VALID_PARAMS, BAD_NAME, VALID_FORM))
    command = [sys.executable, "-m", "createimage_contract", "lint", "--input", "jsonl", str(path)]
    main, terminal = pty.openpty()
    child = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, cwd=ROOT
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal's other end closed (Linux)
            break
        if not chunk:
            break
        shown += chunk
    out = child.communicate(timeout=60)[0]
    os.close(main)
    assert child.returncode == 1
    size = f"{path.stat().st_size / 1_000_000:,.1f} MB"
    assert re.search(
        rf"\rlint: 3 lines, [0-9,]+/s, {re.escape(size)} of {re.escape(size)} ", shown.decode()
    )
    assert shown.endswith(b"\r")  # erased at the end
    assert b"\r" not in out and b"lines, " not in out
    piped = lint(str(path))
    assert piped.err == ""
    assert piped.out == out.decode()


# ---------------------------------------------------------------------------- bounded memory

DRIVER = textwrap.dedent(
    """
    import resource, subprocess, sys
    writer = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE)
    lint = subprocess.Popen(
        [sys.executable, "-m", "createimage_contract", "lint", "--input", "jsonl", "--jobs", "2"],
        stdin=writer.stdout,
        stdout=subprocess.PIPE,
    )
    writer.stdout.close()
    out = lint.communicate()[0]
    writer.wait()
    print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, lint.returncode, out.decode())
    """
)
WRITER = textwrap.dedent(
    """
    import sys
    padding = " " * 4000
    for n in range(40_000):
        name = f"image-{n}#" if n % 1000 == 999 else f"image-{n}"
        line = f'{{"InstanceId": "i-0a1b2c3d", "Name": "{name}",{padding}"NoReboot": true}}\\n'
        sys.stdout.write(line)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="ru_maxrss is POSIX")
def test_memory_stays_bounded_on_a_large_streamed_input() -> None:
    """160 MB through a pipe: the lint process never holds more than a few blocks of it."""
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, WRITER],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.stderr == b""
    peak, code, out = done.stdout.decode().strip().split(" ", 2)
    peak_bytes = int(peak) * (1 if sys.platform == "darwin" else 1024)
    assert int(code) == 1
    assert out.splitlines()[-1] == "40 errors, 0 warnings in 40000 lines; 40 invalid."
    assert 0 < peak_bytes < 100 * 1024 * 1024  # the input: 160 MB
