"""``createimage-contract run`` and ``serve``, as a user runs them.

Most cases call ``_cli.main`` in-process against the embedded reference or against a faulty
service (a ``ReferenceService`` subclass served on loopback by ``serve()``); a few run the
installed command in a child process: the default run (once, it takes a few seconds) and
``serve``. Runs are kept short with ``--max-examples`` and ``--rules``.
"""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import pytest
from interrupts import sigint_as_usual
from lxml import etree

from createimage_contract import FormatError, _cli, expect
from createimage_contract.conformance import (
    CHECK_IDS,
    Answer,
    ReferenceService,
    automatic_generators,
    category_names,
    serve,
)
from createimage_contract.conformance._transport import Transport, credentials_for

ROOT = Path(__file__).resolve().parent.parent
ERROR_PREFIX = "createimage-contract run: error: "
FAST = ("--max-examples", "3")
REPORT_KEYS = {
    "tool",
    "target",
    "seed",
    "requests",
    "duration_s",
    "rules",
    "failures",
    "fixed",
    "hints",
    "notes",
    "internal_error",
    "coverage",
    "images",
    "summary",
}
FAILURE_KEYS = {"check", "rule", "severity", "message", "request", "response", "reproduce"}
TOTALS = re.compile(
    r"^(?P<requests>\d+) requests? in \d+\.\d s: (?P<errors>\d+) errors?, "
    r"(?P<warnings>\d+) warnings?(?: \((?P<known>\d+) known, (?P<fixed>\d+) fixed\))?$"
)
ROW = re.compile(r"^(?P<rule>[a-z0-9.-]+) +(?P<sent>\d+) +(?P<passed>\d+) +(?P<failed>\d+)$")
STARTED = re.compile(
    r"^createimage-contract \S+: (\d+) categor(?:y|ies) against (\S+) \((\w+), instance "
    r"(i-[0-9a-f]+)\)$"
)
ERROR_CHECKS = {"response", "status", "content-type", "xml", "error-body"}
SUCCESS_CHECKS = {
    "response",
    "status",
    "content-type",
    "xml",
    "success-namespace",
    "image-id",
    "request-id",
    "request-id-uuid",
    "describe-images",
}
NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """``_cli.main(args)`` with its output captured; a usage error (argparse's ``SystemExit``)
    counts as the exit code it carries, as it does for a user."""
    try:
        code = _cli.main(list(args))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err, captured.err
    return Run(code, captured.out, captured.err)


def assert_one_line_error(run: Run) -> str:
    """A run that could not be made: exit 2, one line on stderr, no traceback; the line."""
    assert run.code == 2, run
    assert run.err.count("\n") == 1 and run.err.endswith("\n"), run.err
    assert "Traceback" not in run.err
    return run.err.strip()


def totals(out: str) -> re.Match[str]:
    last = out.rstrip("\n").splitlines()[-1]
    match = TOTALS.match(last)
    assert match, f"no totals line at the end: {last!r}"
    return match


def table(out: str) -> dict[str, tuple[int, int, int]]:
    """The summary table: rule -> (sent, passed, failed)."""
    lines = out.splitlines()
    header = next(
        i for i, line in enumerate(lines) if line.split() == ["rule", "sent", "passed", "failed"]
    )
    rows: dict[str, tuple[int, int, int]] = {}
    for line in lines[header + 1 :]:
        match = ROW.match(line)
        if not match:
            break
        rows[match["rule"]] = (int(match["sent"]), int(match["passed"]), int(match["failed"]))
    return rows


def pairs(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["check"], f["rule"]) for f in report["failures"]}


def load(path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return report


def junit_cases(path: Path) -> tuple[Any, list[Any]]:
    suite = etree.parse(str(path)).getroot()
    assert suite.tag == "testsuite"
    return suite, list(suite.iter("testcase"))


def free_port() -> int:
    """A loopback port nothing listens on (bound once, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# --- faulty services ---------------------------------------------------------------------------


def error_answer(status: int, code: str, message: str) -> Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
        "</Errors><RequestID>6d3c1c4e-2f9f-4a4e-9a45-0a5b9a1c2d3e</RequestID></Response>"
    )
    return Answer(status, body.encode("utf-8"))


class Faulty(ReferenceService):
    """The reference, except for the rules in ``faults``: rule -> the answer given instead."""

    faults: ClassVar[dict[str, Answer]] = {}

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        text = body.decode("utf-8", errors="replace")
        request = {"url": url, "method": method, "headers": headers, "body": text}
        try:
            expectation = expect(request, input="http", known_instances=self.instance_ids)
        except FormatError:
            return super().answer(method, url, headers, body)
        if expectation.rule in self.faults:
            return self.faults[expectation.rule]
        return super().answer(method, url, headers, body)


class WrongCharsetCode(Faulty):
    """Refuses a bad name with the right status but the wrong code."""

    faults: ClassVar[dict[str, Answer]] = {
        "name.charset": error_answer(400, "InvalidParameterValue", "The name is bad.")
    }


class CharsetAndTagLimit(Faulty):
    """The wrong code for a bad name, and a 500 for too many tags."""

    faults: ClassVar[dict[str, Answer]] = {
        "name.charset": WrongCharsetCode.faults["name.charset"],
        "tag.limit": error_answer(500, "InternalError", "Something broke."),
    }


class NamespaceWithoutSlash(ReferenceService):
    """Answers a created image in the 2016-11-15 namespace without its trailing slash."""

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = super().answer(method, url, headers, body)
        if answer.status == 200 and b"<CreateImageResponse" in answer.body:
            text = answer.body.replace(NAMESPACE.encode(), NAMESPACE.rstrip("/").encode())
            return Answer(answer.status, text, answer.content_type)
        return answer


class PickyAboutDescriptions(ReferenceService):
    """A 500 whenever a refused request carries a Description: which rules show it depends on
    the examples generated, so on the seed. (A status, not a wrong code: most rules accept any
    client error's code.)"""

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = super().answer(method, url, headers, body)
        if answer.status == 400 and b"Description=" in body:
            return error_answer(500, "InternalError", "No descriptions here.")
        return answer


@pytest.fixture(scope="module")
def charset_service() -> Iterator[tuple[str, str]]:
    with serve(WrongCharsetCode()) as running:
        yield running.url, running.instance_id


@pytest.fixture(scope="module")
def two_faults_service() -> Iterator[tuple[str, str]]:
    with serve(CharsetAndTagLimit()) as running:
        yield running.url, running.instance_id


def at(service: tuple[str, str]) -> tuple[str, ...]:
    url, instance_id = service
    return ("--endpoint", url, "--instance-id", instance_id)


# --- the default run, end to end ---------------------------------------------------------------


def test_the_default_run_passes_against_the_reference_with_every_report(tmp_path: Path) -> None:
    report_path, junit_path = tmp_path / "report.json", tmp_path / "junit.xml"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "createimage_contract",
            "run",
            "--report-json",
            str(report_path),
            "--junit-xml",
            str(junit_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert "\x1b[" not in done.stdout, "colour on a pipe"
    started = STARTED.match(done.stdout.splitlines()[0])
    assert started, done.stdout.splitlines()[0]
    count, endpoint, kind, _ = started.groups()
    categories = category_names()
    assert kind == "reference" and int(count) == len(categories)

    rows = table(done.stdout)
    assert sorted(rows) == sorted(categories)
    for rule_id, (sent, passed, failed) in rows.items():
        assert sent > 0 and passed == sent and failed == 0, rule_id
    match = totals(done.stdout)
    assert match["errors"] == "0" and match["warnings"] == "0" and match["known"] is None
    assert "0 errors" in done.stdout.splitlines()[-1]

    report = load(report_path)
    assert set(report) == REPORT_KEYS
    assert report["tool"]["name"] == "createimage-contract"
    assert report["target"] == {"endpoint": endpoint, "kind": "reference"}
    assert isinstance(report["seed"], int)
    assert report["requests"] == int(match["requests"]) >= sum(r[0] for r in rows.values())
    assert report["duration_s"] > 0
    assert all(set(entry) == {"rule", "sent", "failed"} for entry in report["rules"])
    assert sorted(entry["rule"] for entry in report["rules"]) == sorted(categories)
    assert {e["rule"]: (e["sent"], e["failed"]) for e in report["rules"]} == {
        rule_id: (sent, failed) for rule_id, (sent, _, failed) in rows.items()
    }
    assert report["failures"] == [] and report["fixed"] == [] and report["notes"] == []
    assert report["internal_error"] is None
    coverage = report["coverage"]
    assert coverage["complete"] and coverage["planned"] == coverage["sent"] > 0
    assert all(row["sent"] > 0 for row in coverage["near_misses"])
    assert f"near misses: {coverage['sent']} of {coverage['planned']} planned" in done.stdout
    assert set(report["summary"]) == {"errors", "warnings", "passed"}
    assert report["summary"]["errors"] == report["summary"]["warnings"] == 0

    suite, cases = junit_cases(junit_path)
    assert suite.get("name") == "createimage-contract"
    assert suite.get("failures") == "0"
    found = [(case.get("name"), case.get("classname")) for case in cases]
    assert len(found) == len(set(found)) == int(suite.get("tests"))
    assert all(len(case) == 0 for case in cases), "a passing case has no failure or skip"
    expected = {(check, "valid") for check in SUCCESS_CHECKS}
    with_code = ERROR_CHECKS | {"error-code"}  # an exact code, or any but DryRunOperation
    expected |= {(check, "dry-run") for check in with_code | {"dry-run-creates-nothing"}}
    for rule_id in categories[2:]:
        expected |= {(check, rule_id) for check in with_code}
    assert set(found) == expected
    assert report["summary"]["passed"] == len(found)


# --- deviations --------------------------------------------------------------------------------


def test_a_faulty_service_fails_the_run_and_each_deviation_is_shown_in_full(
    capsys: pytest.CaptureFixture[str], two_faults_service: tuple[str, str], tmp_path: Path
) -> None:
    url, instance_id = two_faults_service
    report_path = tmp_path / "report.json"
    run = cli(
        capsys,
        "run",
        *at(two_faults_service),
        *FAST,
        "--seed",
        "5",
        "--rules",
        "valid,name.charset,tag.limit",
        "--report-json",
        str(report_path),
    )
    assert run.code == 1, run
    assert run.err == ""
    assert "\x1b[" not in run.out
    lines = run.out.splitlines()
    assert STARTED.match(lines[0]) and "(endpoint, instance " + instance_id in lines[0]

    headings = [line for line in lines if re.match(r"^(ERROR|WARNING): ", line)]
    # tag.limit's two findings got one answer (a 500 InternalError): shown once, as one cause.
    assert sorted(headings) == [
        "ERROR: error-code x name.charset",
        "ERROR: error-code, status x tag.limit (one answer)",
    ]
    charset = lines.index("ERROR: error-code x name.charset")
    block = lines[charset + 1 : charset + 9]
    assert block[0] == "  expected error code InvalidAMIName.Malformed, got InvalidParameterValue"
    assert block[1] == f"  request:   POST {url}"
    assert block[2].strip().startswith("Action=CreateImage&") and "Name=" in block[2]
    assert block[3] == "  response:  400 text/xml;charset=UTF-8"
    assert "<Code>InvalidParameterValue</Code>" in block[4]
    assert block[5].startswith(f"  reproduce: curl -sS -X POST {url} ")
    assert block[5].endswith(shlex.quote(block[2].strip()))
    assert block[6] == (
        f"  seed:      5 (createimage-contract run --endpoint {url} "
        f"--instance-id {instance_id} --seed 5)"
    )
    status = lines.index("ERROR: error-code, status x tag.limit (one answer)")
    assert lines[status + 1].startswith("  error-code: expected error code ")
    assert lines[status + 2] == "  status: expected 400 for tag.limit, got 500"
    assert lines[status + 5] == "  response:  500 text/xml;charset=UTF-8"

    rows = table(run.out)
    assert list(rows) == ["valid", "name.charset", "tag.limit"]
    assert rows["valid"][2] == 0
    assert rows["name.charset"][2] > 0 and rows["tag.limit"][2] > 0
    match = totals(run.out)
    assert (match["errors"], match["warnings"]) == ("3", "0")

    report = load(report_path)
    assert report["target"] == {"endpoint": url, "kind": "endpoint"}
    assert report["seed"] == 5
    assert pairs(report) == {
        ("error-code", "name.charset"),
        ("error-code", "tag.limit"),
        ("status", "tag.limit"),
    }
    assert report["summary"]["errors"] == 3
    for failure in report["failures"]:
        assert set(failure) == FAILURE_KEYS | {"known"}, failure
        assert failure["severity"] == "error" and failure["message"]
        assert failure["request"]["method"] == "POST" and failure["request"]["url"] == url
        headers = {k.lower(): v for k, v in failure["request"]["headers"].items()}
        assert headers["authorization"] == "<redacted>"
        assert failure["response"]["status"] == (500 if failure["rule"] == "tag.limit" else 400)
        words = shlex.split(failure["reproduce"])
        assert words[:4] == ["curl", "-sS", "-X", "POST"] and url in words
        assert words[words.index("--data-binary") + 1] == failure["request"]["body"]

    # What ``reproduce`` sends gets the faulty answer again.
    charset_failure = next(f for f in report["failures"] if f["rule"] == "name.charset")
    transport = Transport(url, "us-east-1", credentials_for(url))
    try:
        _, again = transport.send(charset_failure["request"]["body"])
    finally:
        transport.close()
    assert again.status == 400 and b"<Code>InvalidParameterValue</Code>" in again.body


def test_a_warning_passes_the_run_unless_strict(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with serve(NamespaceWithoutSlash()) as running:
        where = ("--endpoint", running.url, "--instance-id", running.instance_id)
        lenient_json, lenient_xml = tmp_path / "lenient.json", tmp_path / "lenient.xml"
        lenient = cli(
            capsys,
            "run",
            *where,
            *FAST,
            "--rules",
            "valid",
            "--report-json",
            str(lenient_json),
            "--junit-xml",
            str(lenient_xml),
        )
        strict_xml = tmp_path / "strict.xml"
        strict = cli(
            capsys,
            "run",
            *where,
            *FAST,
            "--rules",
            "valid",
            "--strict",
            "--junit-xml",
            str(strict_xml),
        )
    assert lenient.code == 0, lenient
    assert "WARNING: success-namespace x valid" in lenient.out.splitlines()
    assert "lacks the trailing slash" in lenient.out
    match = totals(lenient.out)
    assert (match["errors"], match["warnings"]) == ("0", "1")
    report = load(lenient_json)
    assert [(f["check"], f["rule"], f["severity"]) for f in report["failures"]] == [
        ("success-namespace", "valid", "warning")
    ]
    assert report["summary"]["warnings"] == 1 and report["summary"]["errors"] == 0
    suite, cases = junit_cases(lenient_xml)
    assert suite.get("failures") == "0"
    (case,) = [c for c in cases if c.get("name") == "success-namespace"]
    assert [child.tag for child in case] == ["system-out"]

    assert strict.code == 1, strict
    assert "WARNING: success-namespace x valid" in strict.out.splitlines()
    suite, cases = junit_cases(strict_xml)
    assert suite.get("failures") == "1"
    (case,) = [c for c in cases if c.get("name") == "success-namespace"]
    assert [child.tag for child in case] == ["failure"]
    assert case[0].get("type") == "warning"


# --- the baseline ------------------------------------------------------------------------------


def test_a_baseline_turns_known_deviations_into_passes_and_reports_fixed_ones(
    capsys: pytest.CaptureFixture[str], two_faults_service: tuple[str, str], tmp_path: Path
) -> None:
    baseline = tmp_path / "known.json"
    first_json = tmp_path / "first.json"
    first = cli(
        capsys,
        "run",
        *at(two_faults_service),
        *FAST,
        "--rules",
        "name.charset",
        "--write-baseline",
        str(baseline),
        "--report-json",
        str(first_json),
    )
    assert first.code == 1, first
    written = json.loads(baseline.read_text(encoding="utf-8"))
    assert set(written) == {"known"}
    assert (
        {(e["check"], e["rule"]) for e in written["known"]}
        == pairs(load(first_json))
        == {("error-code", "name.charset")}
    )
    assert all(e["severity"] == "error" and e["message"] for e in written["known"])

    # The same service, the same rules: everything is known.
    known_json = tmp_path / "known-run.json"
    known = cli(
        capsys,
        "run",
        *at(two_faults_service),
        *FAST,
        "--rules",
        "name.charset",
        "--baseline",
        str(baseline),
        "--report-json",
        str(known_json),
    )
    assert known.code == 0, known
    assert not any(line.startswith("ERROR:") for line in known.out.splitlines())
    match = totals(known.out)
    assert (match["errors"], match["known"], match["fixed"]) == ("0", "1", "0")
    report = load(known_json)
    assert [(f["check"], f["rule"], f["known"]) for f in report["failures"]] == [
        ("error-code", "name.charset", True)
    ]
    assert report["summary"]["errors"] == 0

    # A deviation the baseline does not hold still fails the run.
    wider = cli(
        capsys,
        "run",
        *at(two_faults_service),
        *FAST,
        "--rules",
        "name.charset,tag.limit",
        "--baseline",
        str(baseline),
    )
    assert wider.code == 1, wider
    headings = {line for line in wider.out.splitlines() if line.startswith("ERROR:")}
    assert headings == {"ERROR: error-code, status x tag.limit (one answer)"}
    match = totals(wider.out)
    assert (match["errors"], match["known"]) == ("2", "1")

    # The reference has none of them: the baseline's entry is fixed.
    fixed_json = tmp_path / "fixed.json"
    fixed = cli(
        capsys,
        "run",
        *FAST,
        "--rules",
        "name.charset",
        "--baseline",
        str(baseline),
        "--report-json",
        str(fixed_json),
    )
    assert fixed.code == 0, fixed
    assert "fixed: error-code x name.charset (in the baseline, not seen now)" in (
        fixed.out.splitlines()
    )
    match = totals(fixed.out)
    assert (match["errors"], match["known"], match["fixed"]) == ("0", "0", "1")
    assert load(fixed_json)["fixed"] == [{"check": "error-code", "rule": "name.charset"}]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("missing.json", None),
        ("directory", ""),
        ("not-json.json", "known: everything\n"),
        ("no-known.json", '{"deviations": []}'),
        ("no-rule.json", '{"known": [{"check": "status"}]}'),
        ("a-list.json", "[]"),
        ("known-a-number.json", '{"known": 5}'),
    ],
)
def test_an_unreadable_or_malformed_baseline_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str | None
) -> None:
    path = tmp_path / name
    if name == "directory":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    run = cli(capsys, "run", *FAST, "--rules", "valid", "--baseline", str(path))
    line = assert_one_line_error(run)
    assert line.startswith(ERROR_PREFIX) and str(path) in line
    assert run.out == "", "nothing is run with a broken baseline"


# --- choosing checks ---------------------------------------------------------------------------


def test_checks_and_exclude_checks_limit_what_is_checked(
    capsys: pytest.CaptureFixture[str], charset_service: tuple[str, str], tmp_path: Path
) -> None:
    def junit_run(*options: str) -> tuple[Run, set[tuple[str, str]]]:
        path = tmp_path / "junit.xml"
        run = cli(
            capsys,
            "run",
            *at(charset_service),
            *FAST,
            "--rules",
            "name.charset",
            "--junit-xml",
            str(path),
            *options,
        )
        _, cases = junit_cases(path)
        return run, {(case.get("name"), case.get("classname")) for case in cases}

    everything, cases = junit_run()
    assert everything.code == 1
    assert ("error-code", "name.charset") in cases

    excluded, cases = junit_run("--exclude-checks", "error-code")
    assert excluded.code == 0, excluded
    assert "ERROR:" not in excluded.out
    assert {check for check, _ in cases} == ERROR_CHECKS

    chosen, cases = junit_run("--checks", "status, error-body")
    assert chosen.code == 0, chosen
    assert {check for check, _ in cases} == {"status", "error-body"}

    only, cases = junit_run("--checks", "error-code")
    assert only.code == 1, only
    assert cases == {("error-code", "name.charset")}
    assert "ERROR: error-code x name.charset" in only.out.splitlines()


@pytest.mark.parametrize(
    ("options", "mentions"),
    [
        (["--checks", "status,no-such-check"], "no-such-check"),
        (["--exclude-checks", "statuses"], "statuses"),
        (["--checks", ","], "unknown check"),
        (["--rules", "valid,name.colour"], "name.colour"),
        (["--rules", "header.x-amz-signature"], "header.x-amz-signature"),  # lint's only
        (["--exclude-rules", "auth.*,nope"], "nope"),
        (["--max-examples", "0"], "--max-examples"),
        (["--max-examples", "-3"], "--max-examples"),
        (["--timeout", "0"], "--timeout"),
        (["--timeout", "soon"], "--timeout"),
        (["--generators", "-1"], "--generators"),
        (["--generators", "17"], "--generators"),
        (["--seed", "-1"], "--seed"),
        (["--target", "localstack"], "--target"),
        (["--endpoint", "http://127.0.0.1:1/", "--target", "moto"], "not allowed"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], options: list[str], mentions: str
) -> None:
    run = cli(capsys, "run", *options)
    line = assert_one_line_error(run)
    assert line.startswith(ERROR_PREFIX), line
    assert mentions in line
    assert run.out == ""


# --- targets that cannot be run against --------------------------------------------------------


def test_an_unreachable_endpoint_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    run = cli(capsys, "run", "--endpoint", url, "--instance-id", "i-0123abcd", *FAST)
    line = assert_one_line_error(run)
    assert line.startswith(f"{ERROR_PREFIX}cannot reach {url}")
    assert run.out == ""


def test_an_endpoint_needs_an_instance_id(
    capsys: pytest.CaptureFixture[str], charset_service: tuple[str, str]
) -> None:
    url, _ = charset_service
    run = cli(capsys, "run", "--endpoint", url, *FAST)
    line = assert_one_line_error(run)
    assert line.startswith(ERROR_PREFIX) and "--instance-id" in line
    assert run.out == ""


def test_a_remote_endpoint_without_credentials_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("the test allows no network")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    url = "https://ec2.us-east-1.amazonaws.com/"
    run = cli(capsys, "run", "--endpoint", url, "--instance-id", "i-0123abcd", *FAST)
    line = assert_one_line_error(run)
    assert line.startswith(ERROR_PREFIX) and "AWS_ACCESS_KEY_ID" in line
    assert attempts == []
    assert run.out == ""


@pytest.mark.parametrize("instance_id", ["nope", "i-XYZ12345", "i-0123", "ami-0123abcd"])
def test_a_malformed_instance_id_is_refused(
    capsys: pytest.CaptureFixture[str], charset_service: tuple[str, str], instance_id: str
) -> None:
    url, _ = charset_service
    run = cli(capsys, "run", "--endpoint", url, "--instance-id", instance_id, *FAST)
    line = assert_one_line_error(run)
    assert line.startswith(ERROR_PREFIX) and repr(instance_id) in line
    assert run.out == ""
    embedded = cli(capsys, "run", "--instance-id", instance_id, *FAST)
    assert assert_one_line_error(embedded) == line


# --- the seed ----------------------------------------------------------------------------------


def test_the_same_seed_finds_the_same_deviations(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chosen = "name.length,name.charset,tag.key,boolean.invalid,integer.invalid,ebs.volume-type"
    found: list[set[tuple[str, str]]] = []
    with serve(PickyAboutDescriptions()) as running:
        for index, seed in enumerate(["1", "1", "2"]):
            path = tmp_path / f"report-{index}.json"
            run = cli(
                capsys,
                "run",
                "--endpoint",
                running.url,
                "--instance-id",
                running.instance_id,
                *FAST,
                "--rules",
                chosen,
                "--seed",
                seed,
                "--report-json",
                str(path),
            )
            assert run.code == 1, run
            assert load(path)["seed"] == int(seed)
            found.append(pairs(load(path)))
    first, again, other = found
    assert first == again
    # The deviations depend on the examples: some rules show them, not all, and another seed
    # gives other examples.
    assert first and {rule_id for _, rule_id in first} < set(chosen.split(","))
    assert other != first


# --- serve -------------------------------------------------------------------------------------


def read_line(stream: IO[str], seconds: float = 30.0) -> str:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(stream.readline).result(timeout=seconds)


def test_serve_prints_its_url_and_instance_and_answers_signed_requests() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "createimage_contract", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=sigint_as_usual,
    )
    try:
        assert process.stdout is not None
        first, second = read_line(process.stdout), read_line(process.stdout)
        assert (
            read_line(process.stdout)
            == "lets in requests signed by AKIDLOOPBACKTESTING for us-east-1/ec2\n"
        )
        announced = re.fullmatch(
            r"reference CreateImage service at (http://127\.0\.0\.1:\d+/)\n", first
        )
        assert announced, first
        held = re.fullmatch(r"instance (i-[0-9a-f]{17})\n", second)
        assert held, second
        url, instance_id = announced[1], held[1]
        assert not url.endswith(":0/")

        transport = Transport(url, "us-east-1", credentials_for(url))
        try:
            form = (
                f"Action=CreateImage&Version=2016-11-15&InstanceId={instance_id}&Name=served-image"
            )
            _, created = transport.send(form)
            _, again = transport.send(form)
            _, unknown = transport.send(form.replace(instance_id, "i-0123456789abcdef0"))
        finally:
            transport.close()
        assert created.status == 200, created
        assert re.search(rb"<imageId>ami-[0-9a-f]{17}</imageId>", created.body), created.body
        assert again.status == 400 and b"<Code>InvalidAMIName.Duplicate</Code>" in again.body
        assert unknown.status == 400 and b"<Code>InvalidInstanceID.NotFound</Code>" in unknown.body

        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "Traceback" not in err and "stopped" in err
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


# --- help --------------------------------------------------------------------------------------


def test_run_help_lists_every_check_and_the_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = cli(capsys, "run", "--help")
    assert run.code == 0 and run.err == ""
    listed = {
        line.split()[0]
        for line in run.out.split("checks (--checks/--exclude-checks take these ids")[1]
        .split("exit codes:")[0]
        .splitlines()[1:]
        if line.strip()
    }
    assert listed == set(CHECK_IDS)
    codes = run.out.split("exit codes:")[1].split("examples:")[0]
    assert re.findall(r"^  (\d)  ", codes, re.MULTILINE) == ["0", "1", "2"]
    two = " ".join(codes.split("  2  ")[1].split())
    assert "internal error" in two and "no CreateImage request" in two
    for option in ("--endpoint", "--instance-id", "--checks", "--exclude-checks", "--baseline"):
        assert option in run.out
    for option in ("--credentials WHICH", "--exclude-rules IDS"):
        assert option in run.out
    words = " ".join(run.out.split())
    assert "(AKIDLOOPBACKTESTING / loopback-test-secret-key), which the embedded" in words
    assert "--credentials WHICH what requests are signed with: fixed" in words
    assert "loopback, env elsewhere) (auto)" in words
    assert f"0 draws them in the run's own process (here: {automatic_generators()})" in words


def test_serve_help_says_which_key_it_lets_in(capsys: pytest.CaptureFixture[str]) -> None:
    serve_help = cli(capsys, "serve", "--help")
    assert serve_help.code == 0
    words = " ".join(serve_help.out.split())
    assert "--access-key-id ID the only access key it lets in" in words
    assert "--region REGION the region requests must be signed for (us-east-1)" in words
