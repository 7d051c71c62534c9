"""Hostile inputs for the command line: whatever a user (or a script gone wrong) hands it.

The contract: input that cannot be used ends with exit code 2 and ONE line on stderr that names
the input (the file, or the option and its value), never a traceback, and nothing on stdout that
could pass for a result; a ``lint`` of several files still reports the files it could read.

Every case runs ``_cli.main`` in-process (argparse's usage errors count as the ``SystemExit``
code they carry, as for a user); a few run the installed command in a child process, where a
traceback would really reach the terminal.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from createimage_contract import _cli, _generate, _run
from createimage_contract._inputs import MAX_INPUT_BYTES
from createimage_contract.schema import INPUT_FORMS

ROOT = Path(__file__).resolve().parent.parent
GOOD = "examples/valid/minimal.json"
INVALID = "examples/invalid/name.charset.json"
ONE_UNREADABLE = "0 errors, 0 warnings in 1 input; 0 invalid; 1 unreadable.\n"
MAX_LINE = 2048
"""An error line is for a person at a terminal: a path, a reason, a few words more."""
FAST_RUN = ("--max-examples", "1", "--rules", "valid")
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
VALID_FORM = b"Action=CreateImage&Version=2016-11-15&InstanceId=i-0a1b2c3d&Name=nightly"
EC2_URL = "https://ec2.us-east-1.amazonaws.com/"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def excerpt(text: str, limit: int = 300) -> str:
    """``text`` short enough for an assertion message (some failures are megabytes long)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """``_cli.main(args)`` with its output captured; a usage error (argparse's ``SystemExit``)
    counts as the exit code it carries. Any other exception escapes: it is a traceback."""
    try:
        code = _cli.main(list(args))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def prefix(command: str) -> str:
    return f"createimage-contract {command}: error: "


def assert_one_line_error(run: Run, command: str, names: tuple[str, ...]) -> str:
    """Exit 2, one short line on stderr for ``command`` naming one of ``names``; the line."""
    assert "Traceback" not in run.err and "Traceback" not in run.out, excerpt(run.err)
    assert run.code == 2, (run.code, excerpt(run.out), excerpt(run.err))
    assert run.err.endswith("\n") and run.err.count("\n") == 1, excerpt(run.err)
    line = run.err.rstrip("\n")
    assert line.startswith(prefix(command)), excerpt(line)
    assert len(line) <= MAX_LINE, f"a line of {len(line)} characters: {excerpt(line)}"
    assert any(name in line for name in names), f"names none of {names}: {excerpt(line)}"
    return line


# --- the corpus ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    argv: list[str]
    names: tuple[str, ...]
    """The error line must contain one of these: the input's path, the option or its value."""

    @property
    def command(self) -> str:
        return self.argv[0]


@dataclass(frozen=True)
class Scene:
    """Where a case is set up: a fresh folder, patches undone after the case, and a stack that
    closes what the case holds open (sockets) at its end."""

    folder: Path
    monkeypatch: pytest.MonkeyPatch
    stack: contextlib.ExitStack


Build = Callable[[Scene], Invocation]


@dataclass(frozen=True)
class Hostile:
    id: str
    build: Build

    def param(self) -> Any:
        return pytest.param(self, id=self.id)


def lint_file(name: str, content: bytes, *options: str) -> Build:
    """``lint [OPTIONS] FILE``, FILE holding ``content``."""

    def build(scene: Scene) -> Invocation:
        path = scene.folder / name
        path.write_bytes(content)
        return Invocation(["lint", *options, str(path)], (str(path),))

    return build


def lint_path(make: Callable[[Path], Path]) -> Build:
    """``lint PATH`` for a path that is not a regular file (``make`` makes it)."""

    def build(scene: Scene) -> Invocation:
        path = make(scene.folder)
        return Invocation(["lint", str(path)], (str(path),))

    return build


def huge(path: Path, size: int = MAX_INPUT_BYTES + 1) -> Path:
    """A file of ``size`` NUL bytes, written sparsely (no time, no disk)."""
    with path.open("wb") as stream:
        stream.truncate(size)
    return path


def dangling_symlink(folder: Path) -> Path:
    path = folder / "request.json"
    path.symlink_to(folder / "gone" / "request.json")
    return path


def through_a_file(folder: Path) -> Path:
    """A path that goes through a regular file as if it were a folder (ENOTDIR, even as root)."""
    (folder / "request.json").write_bytes(b"{}")
    return folder / "request.json" / "x"


def directory(folder: Path) -> Path:
    path = folder / "requests.json"
    path.mkdir()
    return path


def lint_socket(scene: Scene) -> Invocation:
    """A UNIX socket file (opening one fails with ENXIO, even as root). Bound by a relative
    name: a socket path may not be longer than about 100 bytes, and tmp_path can be."""
    scene.monkeypatch.chdir(scene.folder)
    listener = scene.stack.enter_context(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    listener.bind("request.sock")
    return Invocation(["lint", "request.sock"], ("request.sock",))


def nested(depth: int, inner: str = "1") -> str:
    return '{"a": ' * depth + inner + "}" * depth


def command_options(*argv: str, names: tuple[str, ...]) -> Build:
    """A command line with no files to make."""

    def build(_: Scene) -> Invocation:
        return Invocation(list(argv), names)

    return build


def never_generate(*argv: str, names: tuple[str, ...]) -> Build:
    """``generate`` options it must refuse before drawing anything: drawing fails the case at
    once, rather than running (nearly) forever."""

    def build(scene: Scene) -> Invocation:
        def drawing(request: _generate.Request) -> list[Any]:
            raise AssertionError(f"generate accepted {argv} and began drawing {request.count}")

        scene.monkeypatch.setattr(_generate, "examples", drawing)
        return Invocation(list(argv), names)

    return build


def baseline(name: str, write: Callable[[Path], object]) -> Build:
    """``run --baseline FILE`` (quick options, in case the run is made anyway)."""

    def build(scene: Scene) -> Invocation:
        path = scene.folder / name
        write(path)
        return Invocation(["run", *FAST_RUN, "--baseline", str(path)], (str(path),))

    return build


def baseline_bytes(name: str, content: bytes) -> Build:
    return baseline(name, lambda path: path.write_bytes(content))


def report_into(option: str, where: Callable[[Path], Path]) -> Build:
    """``run OPTION FILE`` for a report FILE that cannot be written."""

    def build(scene: Scene) -> Invocation:
        path = where(scene.folder)
        return Invocation(["run", *FAST_RUN, option, str(path)], (str(path),))

    return build


def endpoint(url: str) -> Build:
    return command_options(
        "run", "--endpoint", url, "--instance-id", "i-0123abcd", *FAST_RUN, names=(url,)
    )


def port_in_use(scene: Scene) -> Invocation:
    listener = scene.stack.enter_context(socket.socket())
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = str(listener.getsockname()[1])
    return Invocation(["serve", "--port", port], (port,))


HTTP = '{"url": "https://ec2.us-east-1.amazonaws.com/", "method": "POST", %s}'

CORPUS: list[Hostile] = [
    # lint: what cannot be parsed
    Hostile("lint-invalid-json-extra-data", lint_file("request.json", b'{"Name": "a"} {"b": 1}')),
    Hostile("lint-invalid-json-unterminated", lint_file("request.json", b'{"InstanceId": "i-0a')),
    Hostile("lint-empty-json-file", lint_file("request.json", b"")),
    Hostile("lint-json-array-of-arrays", lint_file("request.json", b"[[], [[]]]")),
    Hostile("lint-json-number", lint_file("request.json", b"42")),
    Hostile("lint-json-null", lint_file("request.json", b"null")),
    Hostile("lint-json-true", lint_file("request.json", b"true")),
    Hostile(
        "lint-json-string-auto",
        lint_file("request.json", b'"InstanceId=i-0a1b2c3d&Name=nightly"'),
    ),
    Hostile(
        "lint-json-string-as-json",
        lint_file("request.json", b'"InstanceId=i-0a1b2c3d"', "--input", "json"),
    ),
    Hostile("lint-json-number-1e999", lint_file("request.json", b"1e999")),
    Hostile(
        "lint-json-integer-5000-digits",
        lint_file("request.json", b'{"InstanceId": "i-0a1b2c3d", "Name": ' + b"9" * 5000 + b"}"),
    ),
    Hostile("lint-deeply-nested-array", lint_file("request.json", b"[" * 100_000)),
    Hostile(
        "lint-http-body-nested-5000",
        lint_file("request.json", (HTTP % f'"body": {nested(5000)}').encode()),
    ),
    Hostile("lint-huge-file", lint_path(lambda folder: huge(folder / "request.json"))),
    Hostile(
        "lint-binary-nul-bytes", lint_file("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    ),
    Hostile("lint-invalid-utf8-json", lint_file("request.json", b'{"Name": "caf\xc3\x28"}')),
    Hostile("lint-utf16-json", lint_file("request.json", '{"Name": "a"}'.encode("utf-16"))),
    Hostile("lint-form-invalid-percent-escape", lint_file("request", VALID_FORM + b"&Name=%ff")),
    Hostile(
        "lint-http-body-invalid-percent-escape",
        lint_file("request.json", (HTTP % '"body": "Name=caf%C3%28"').encode()),
    ),
    Hostile("lint-dangling-symlink", lint_path(dangling_symlink)),
    Hostile("lint-path-through-a-file", lint_path(through_a_file)),
    Hostile("lint-unix-socket", lint_socket),
    Hostile("lint-directory", lint_path(directory)),
    Hostile("lint-http-url-a-number", lint_file("request.json", b'{"url": 443, "body": ""}')),
    Hostile(
        "lint-http-method-a-list",
        lint_file("request.json", b'{"url": "https://ec2.us-east-1.amazonaws.com/", "method": []}'),
    ),
    Hostile("lint-http-body-true", lint_file("request.json", (HTTP % '"body": true').encode())),
    Hostile(
        "lint-http-header-null",
        lint_file("request.json", (HTTP % '"headers": {"Host": null}').encode()),
    ),
    Hostile(
        "lint-http-unknown-field",
        lint_file("request.json", (HTTP % '"Body": "Name=x"').encode(), "--input", "http"),
    ),
    Hostile(
        "lint-http-url-unclosed-bracket",
        lint_file("request.json", b'{"url": "http://[::1/?Action=CreateImage", "body": ""}'),
    ),
    # generate
    Hostile(
        "generate-malformed-instance-id",
        command_options("generate", "--seed", "1", "--instance-id", "i-XYZ", names=("i-XYZ",)),
    ),
    Hostile(
        "generate-empty-instance-id",
        command_options(
            "generate", "--seed", "1", "--valid", "--instance-id", "", names=("--instance-id",)
        ),
    ),
    Hostile(
        "generate-count-10**12",
        never_generate("generate", "--seed", "1", "--count", str(10**12), names=("--count",)),
    ),
    Hostile(
        "generate-seed-2**64",
        never_generate("generate", "--seed", str(2**64), names=("--seed",)),
    ),
    Hostile(
        "generate-unknown-rule",
        command_options(
            "generate", "--seed", "1", "--invalid", "name.colour", names=("name.colour",)
        ),
    ),
    Hostile(
        "generate-unknown-rule-no-seed",
        command_options("generate", "--invalid", "name.colour", names=("name.colour",)),
    ),
    Hostile(
        "generate-service-rule-other-state",
        command_options(
            "generate",
            "--seed",
            "1",
            "--invalid",
            "name.duplicate",
            "--instance-id",
            "i-0123abcd",
            names=("--taken-name",),
        ),
    ),
    Hostile(
        "generate-empty-taken-name",
        command_options("generate", "--seed", "1", "--taken-name", "", names=("--taken-name",)),
    ),
    # run: the baseline
    Hostile("run-baseline-binary", baseline_bytes("known.json", b"\x00\xff\xfe\x00binary")),
    Hostile("run-baseline-huge", baseline("known.json", lambda path: huge(path, 32 * 1024 * 1024))),
    Hostile(
        "run-baseline-large-binary",
        baseline_bytes("known.json", b"\xff" * (1024 * 1024)),
    ),
    Hostile(
        "run-baseline-nested-100000",
        baseline_bytes("known.json", b'{"known": ' + b"[" * 100_000),
    ),
    Hostile(
        "run-baseline-array-of-entries",
        baseline_bytes("known.json", b'[{"check": "status", "rule": "valid"}]'),
    ),
    Hostile(
        "run-baseline-entry-without-check",
        baseline_bytes("known.json", b'{"known": [{"rule": "valid"}]}'),
    ),
    # run: the reports
    Hostile(
        "run-report-json-a-folder",
        report_into("--report-json", lambda folder: folder),
    ),
    Hostile(
        "run-junit-xml-a-folder",
        report_into("--junit-xml", lambda folder: folder),
    ),
    Hostile(
        "run-report-json-missing-folder",
        report_into("--report-json", lambda folder: folder / "missing" / "report.json"),
    ),
    # run: the endpoint (no AWS credentials in the environment)
    Hostile("run-endpoint-ftp", endpoint("ftp://x")),
    Hostile("run-endpoint-no-host", endpoint("http://")),
    Hostile("run-endpoint-not-a-url", endpoint("not a url")),
    Hostile(
        "run-endpoint-unclosed-bracket",
        endpoint("http://[::1"),
    ),
    Hostile("run-endpoint-port-99999", endpoint("http://127.0.0.1:99999/")),
    # run: numbers
    *(
        Hostile(
            f"run-timeout-{value}",
            command_options("run", "--timeout", value, *FAST_RUN, names=("--timeout",)),
        )
        for value in ("nan", "inf", "-1")
    ),
    Hostile(
        "run-max-response-size-0",
        command_options(
            "run", "--max-response-size", "0", *FAST_RUN, names=("--max-response-size",)
        ),
    ),
    # serve (stopped at once if it does start serving: see the test)
    Hostile(
        "serve-malformed-instance-id",
        command_options("serve", "--instance-id", "ami-0123abcd", names=("ami-0123abcd",)),
    ),
    Hostile(
        "serve-empty-instance-id",
        command_options("serve", "--instance-id", "", names=("--instance-id", "''")),
    ),
    Hostile("serve-port-in-use", port_in_use),
    Hostile("serve-port-99999", command_options("serve", "--port", "99999", names=("--port",))),
    Hostile("serve-port-negative", command_options("serve", "--port", "-1", names=("--port",))),
]


def interrupt(_: float) -> None:
    """``serve`` waits in ``time.sleep``: a case that does start serving is stopped at once,
    as by Ctrl-C, instead of serving until the test run times out."""
    raise KeyboardInterrupt


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scene]:
    for name in AWS_VARIABLES:  # as on a machine without AWS credentials
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(_run, "time", SimpleNamespace(sleep=interrupt))
    with contextlib.ExitStack() as stack:
        yield Scene(tmp_path, monkeypatch, stack)


def assert_nothing_misleading(run: Run, command: str) -> None:
    """stdout says no more than that the input could not be used."""
    if command == "lint":
        assert run.out == ONE_UNREADABLE, excerpt(run.out)
    else:
        assert run.out == "", excerpt(run.out)


@pytest.mark.parametrize("case", [case.param() for case in CORPUS])
def test_a_hostile_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], scene: Scene, case: Hostile
) -> None:
    invocation = case.build(scene)
    run = cli(capsys, *invocation.argv)
    assert_one_line_error(run, invocation.command, invocation.names)
    assert_nothing_misleading(run, invocation.command)


def test_the_corpus_covers_every_command() -> None:
    assert len(CORPUS) >= 20
    assert len({case.id for case in CORPUS}) == len(CORPUS)
    commands = {case.id.split("-")[0] for case in CORPUS}
    assert commands == {"lint", "generate", "run", "serve"}


# --- end to end: a traceback would reach the terminal -------------------------------------------

E2E = {
    "lint-deeply-nested-array",
    "lint-huge-file",
    "lint-json-integer-5000-digits",
    "generate-count-10**12",
    "generate-unknown-rule-no-seed",
    "run-baseline-nested-100000",
    "run-endpoint-unclosed-bracket",
    "run-timeout-nan",
    "serve-port-in-use",
}


def e2e_params() -> list[Any]:
    params = []
    for case in CORPUS:
        if case.id not in E2E:
            continue
        params.append(pytest.param(case, id=case.id))
    assert len(params) == len(E2E)
    return params


def child_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    environment.pop("NO_COLOR", None)
    return environment


def text_of(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def run_child(
    argv: list[str], cwd: Path, stdin: bytes = b"", timeout: float = 30, root: bool = False
) -> Run:
    """The installed command in a child process (from the project root when ``root``)."""
    done = subprocess.run(
        [sys.executable, "-m", "createimage_contract", *argv],
        input=stdin,
        capture_output=True,
        cwd=ROOT if root else cwd,
        env=child_environment(),
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, text_of(done.stdout), text_of(done.stderr))


@pytest.mark.parametrize("case", e2e_params())
def test_a_hostile_input_is_one_line_and_exit_2_in_a_child_process(
    scene: Scene, case: Hostile
) -> None:
    invocation = case.build(scene)
    run = run_child(invocation.argv, scene.folder)
    assert_one_line_error(run, invocation.command, invocation.names)
    assert_nothing_misleading(run, invocation.command)


@pytest.mark.parametrize(
    ("options", "data"),
    [
        pytest.param((), b"[" * 100_000, id="deeply-nested"),
        pytest.param(("--input", "http"), b'{"body": \x00}', id="nul-bytes-as-http"),
        pytest.param((), b"\xff" * (MAX_INPUT_BYTES + 1), id="over-10-MiB"),
    ],
)
def test_hostile_stdin_is_named_stdin(
    tmp_path: Path, options: tuple[str, ...], data: bytes
) -> None:
    run = run_child(["lint", *options, "-"], tmp_path, stdin=data)
    assert_one_line_error(run, "lint", ("<stdin>: ",))
    assert_nothing_misleading(run, "lint")


# --- run --endpoint, with credentials at hand ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "http://",
        "not a url",
        "https://:443/",
        "http://[::1",
    ],
)
def test_a_malformed_endpoint_is_named_when_credentials_are_at_hand(
    capsys: pytest.CaptureFixture[str], scene: Scene, url: str
) -> None:
    scene.monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    scene.monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("the test allows no network")

    scene.monkeypatch.setattr(socket, "getaddrinfo", refuse)
    scene.monkeypatch.setattr(socket, "create_connection", refuse)
    run = cli(capsys, "run", "--endpoint", url, "--instance-id", "i-0123abcd", *FAST_RUN)
    assert_one_line_error(run, "run", (url,))
    assert run.out == ""
    assert attempts == [], "a malformed URL is refused before anything is looked up"


# --- lint: many files, some hostile --------------------------------------------------------------


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def hostile_files(folder: Path) -> list[Path]:
    """Files no lint can read, each in its own way."""
    (folder / "plain.json").write_bytes(b"{}")
    (folder / "folder.json").mkdir()
    (folder / "dangling.json").symlink_to(folder / "gone.json")
    return [
        write(folder / "deep.json", b"[" * 100_000),
        write(folder / "binary.bin", b"\x7fELF\x02\x01\x01\x00\x00\x00"),
        write(folder / "latin1.form", b"Action=CreateImage&Name=caf\xe9"),
        huge(folder / "huge.json"),
        folder / "folder.json",
        folder / "dangling.json",
        folder / "plain.json" / "x",
        write(folder / "array.json", b'[{"InstanceId": "i-0a1b2c3d", "Name": "nightly"}]'),
        write(folder / "escape.form", VALID_FORM + b"&Description=%ff"),
        write(folder / "http.json", b'{"url": "https://ec2.us-east-1.amazonaws.com/", "body": 1}'),
    ]


def assert_each_named_once(err: str, paths: list[Path]) -> None:
    lines = err.splitlines()
    assert len(lines) == len(paths), excerpt(err, 3000)
    for path, line in zip(paths, lines, strict=True):
        assert line.startswith(f"{prefix('lint')}{path}: "), line
        assert len(line) <= MAX_LINE


@pytest.mark.parametrize("report", ["text", "json"])
def test_a_lint_of_many_files_reports_the_readable_ones_and_names_each_hostile_one(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    report: str,
) -> None:
    monkeypatch.chdir(ROOT)
    hostile = hostile_files(tmp_path)
    half = len(hostile) // 2
    sources = [*map(str, hostile[:half]), GOOD, *map(str, hostile[half:]), INVALID]
    run = cli(capsys, "lint", "--format", report, *sources)
    assert run.code == 2
    assert_each_named_once(run.err, hostile)
    if report == "json":
        reports = json.loads(run.out)
        assert [r["source"] for r in reports] == sources
        by_source = {r["source"]: r for r in reports}
        assert by_source[GOOD] == {"source": GOOD, "valid": True, "violations": []}
        assert "error" not in by_source[INVALID]
        assert [v["rule"] for v in by_source[INVALID]["violations"]] == ["name.charset"]
        for path in hostile:
            assert by_source[str(path)]["error"].startswith(f"{path}: ")
            assert by_source[str(path)]["violations"] == []
    else:
        *violations, summary = run.out.splitlines()
        (violation,) = violations
        assert violation.startswith(
            f"{INVALID}:/body/Name: error InvalidAMIName.Malformed name.charset "
        )
        assert summary == (
            f"1 error, 0 warnings in {len(sources)} inputs; 1 invalid; {len(hostile)} unreadable."
        )


def test_a_lint_of_many_files_in_a_child_process(tmp_path: Path) -> None:
    hostile = hostile_files(tmp_path)
    sources = [GOOD, INVALID, *map(str, hostile)]
    run = run_child(["lint", *sources], tmp_path, root=True)
    assert run.code == 2
    assert "Traceback" not in run.err
    assert_each_named_once(run.err, hostile)
    assert run.out.splitlines()[0].startswith(f"{INVALID}:/body/Name: ")
    assert run.out.endswith(f"in {len(sources)} inputs; 1 invalid; {len(hostile)} unreadable.\n")


# --- lint: edge cases whose right answer is not exit 2 -------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n \n"], ids=["empty", "blank"])
def test_an_empty_form_file_is_a_request_missing_everything(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes
) -> None:
    # A file that is not .json and does not start like JSON is a form body (lint's epilog), and
    # an empty form body is readable: it is a CreateImage request with nothing in it, so exit 1
    # with the rules it breaks, not exit 2. (An empty .json file is unparsable JSON: exit 2, in
    # the corpus.)
    path = write(tmp_path / "request", content)
    run = cli(capsys, "lint", "--format", "json", str(path))
    assert (run.code, run.err) == (1, "")
    (report,) = json.loads(run.out)
    assert "error" not in report
    assert {v["rule"] for v in report["violations"]} == {
        "action.missing",
        "version.missing",
        "instance-id.missing",
        "name.missing",
    }


def lint_volume_size(capsys: pytest.CaptureFixture[str], folder: Path, number: str) -> Run:
    document = {
        "InstanceId": "i-0a1b2c3d",
        "Name": "nightly",
        "BlockDeviceMappings": [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": "@"}}],
    }
    text = json.dumps(document).replace('"@"', number)
    return cli(
        capsys, "lint", "--format", "json", str(write(folder / "request.json", text.encode()))
    )


VOLUME_SIZE = "/body/BlockDeviceMappings/0/Ebs/VolumeSize"


def test_a_number_beyond_a_double_in_a_field_is_a_violation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # 1e999 is valid JSON that Python reads as inf: in a field, the request is readable and
    # breaks the field's rule (exit 1). Alone, it is not an object: exit 2, in the corpus.
    run = lint_volume_size(capsys, tmp_path, "1e999")
    assert (run.code, run.err) == (1, "")
    (report,) = json.loads(run.out)
    assert "error" not in report
    assert {(v["rule"], v["path"]) for v in report["violations"]} == {
        ("integer.invalid", VOLUME_SIZE)
    }


@pytest.mark.parametrize("number", ["1e999", "-1e999", "NaN"])
def test_a_number_beyond_a_double_is_one_violation(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, number: str
) -> None:
    run = lint_volume_size(capsys, tmp_path, number)
    (report,) = json.loads(run.out)
    assert [(v["rule"], v["path"]) for v in report["violations"]] == [
        ("integer.invalid", VOLUME_SIZE)
    ]


def test_a_lone_surrogate_in_json_is_reported_without_a_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path / "request.json", b'{"InstanceId": "i-0a1b2c3d", "Name": "a", "\\ud800": 1}'
    )
    run = cli(capsys, "lint", str(path))
    assert run.code in (1, 2)
    assert "\ud800" not in run.out


# --- lint: whatever JSON, whatever bytes ---------------------------------------------------------

KEYS = st.sampled_from(
    [
        "url",
        "method",
        "headers",
        "body",
        "Action",
        "Version",
        "InstanceId",
        "Name",
        "Description",
        "NoReboot",
        "DryRun",
        "BlockDeviceMappings",
        "Ebs",
        "VolumeSize",
        "TagSpecifications",
        "Content-Type",
    ]
) | st.text(max_size=8)
TEXTS = st.text(max_size=24) | st.sampled_from(
    [
        VALID_FORM.decode(),
        EC2_URL,
        f"{EC2_URL}?Action=CreateImage&Version=2016-11-15",
        "?InstanceId=i-0a1b2c3d&Name=%ff",
        "i-0a1b2c3d",
        "nightly",
        "POST",
        "image",
        "true",
        "gp3",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXTS
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=30,
)
NEAR_VALID = st.fixed_dictionaries(
    {"InstanceId": st.just("i-0a1b2c3d") | TEXTS, "Name": st.just("nightly") | TEXTS},
    optional={
        "Description": TEXTS,
        "NoReboot": SCALARS,
        "DryRun": SCALARS,
        "BlockDeviceMappings": JSON_VALUES,
        "TagSpecifications": JSON_VALUES,
    },
)
"""Parameters close to a valid request, so that the verdicts 0 and 1 come up too."""
HTTP_REQUESTS = st.fixed_dictionaries(
    {},
    optional={
        "url": TEXTS,
        "method": st.just("POST") | SCALARS,
        "headers": st.dictionaries(KEYS, SCALARS, max_size=3) | SCALARS,
        "body": st.just(VALID_FORM.decode()) | NEAR_VALID | JSON_VALUES,
    },
)
DOCUMENTS = JSON_VALUES | NEAR_VALID | HTTP_REQUESTS
FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_verdict(run: Run, sources: list[str], report: str) -> None:
    """Exit 0, 1 or 2, consistent with the report; one stderr line per unreadable input."""
    assert run.code in (0, 1, 2), run
    event(f"exit {run.code}")
    assert "Traceback" not in run.err
    lines = run.err.splitlines()
    for line in lines:
        assert line.startswith(prefix("lint")), line
        assert len(line) <= MAX_LINE
    named = [s for s in sources if any(line.startswith(f"{prefix('lint')}{s}: ") for line in lines)]
    assert len(named) == len(lines), (sources, lines)
    assert (run.code == 2) is bool(lines)
    if report == "json":
        reports = json.loads(run.out)
        assert [r["source"] for r in reports] == sources
        assert [r["source"] for r in reports if "error" in r] == named
        if run.code != 2:
            assert (run.code == 0) is all(r["valid"] for r in reports)
    else:
        assert run.out.endswith(".\n")
        if run.code == 2:
            assert run.out.endswith(f"; {len(named)} unreadable.\n")


@pytest.mark.parametrize("form", INPUT_FORMS)
@FUZZ
@given(value=DOCUMENTS, report=st.sampled_from(["text", "json"]))
def test_any_json_value_is_linted_or_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, form: str, value: Any, report: str
) -> None:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    run = cli(capsys, "lint", "--input", form, "--format", report, str(path))
    assert_verdict(run, [str(path)], report)


BYTES = (
    st.binary(max_size=200)
    | st.text(max_size=80).map(str.encode)
    | DOCUMENTS.map(lambda value: json.dumps(value).encode())
    | st.tuples(st.sampled_from([VALID_FORM, b'{"InstanceId": "i-0a1b2c3d"}']), st.binary()).map(
        lambda parts: parts[0] + parts[1]
    )
)


@FUZZ
@given(
    contents=st.lists(BYTES, min_size=1, max_size=3),
    form=st.sampled_from(INPUT_FORMS),
    report=st.sampled_from(["text", "json"]),
)
def test_any_bytes_are_linted_or_refused_one_line_per_file(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    contents: list[bytes],
    form: str,
    report: str,
) -> None:
    paths = [
        write(tmp_path / (f"input-{index}.json" if index % 2 else f"input-{index}"), content)
        for index, content in enumerate(contents)
    ]
    sources = list(map(str, paths))
    run = cli(capsys, "lint", "--input", form, "--format", report, *sources)
    assert_verdict(run, sources, report)
