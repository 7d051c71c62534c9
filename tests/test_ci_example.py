"""examples/ci/github-actions.yml is a workflow GitHub accepts, its command lines are the
tool's, its baseline loads, and its steps, run here as a runner runs them, pass and write the
reports it uploads."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from packaging.requirements import Requirement
from ruamel.yaml import YAML

from createimage_contract._cli import _parser
from createimage_contract.conformance import load_baseline

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / "examples" / "ci" / "github-actions.yml"
SHELL_OPERATORS = {";", "&", "&&", "|", "||", "(", ")"}
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
"""How a GitHub runner runs a ``run:`` script (its default shell, ``bash``)."""


def workflow() -> dict[str, Any]:
    document: dict[str, Any] = YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))
    return document


def job() -> dict[str, Any]:
    (only,) = workflow()["jobs"].values()
    assert isinstance(only, dict)
    return only


def step(name: str) -> dict[str, Any]:
    (found,) = [s for s in job()["steps"] if s.get("name") == name]
    assert isinstance(found, dict)
    return found


def variables() -> dict[str, str]:
    """The environment the workflow gives its steps."""
    return {**workflow().get("env", {}), **job().get("env", {})}


def expand(word: str, env: dict[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` as the shell expands them, from ``env`` only."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        assert name in env, f"${name} is not set by the workflow"
        return env[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, word)


def tool_commands() -> list[list[str]]:
    """Every ``createimage-contract ...`` command line of the workflow's ``run:`` steps, as
    argv with the workflow's variables expanded, up to its redirection or its ``&``."""
    commands = []
    for each in job()["steps"]:
        script = each.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words: list[str] = []
            redirected = False  # after > or <, words are file names up to the next operator
            for token in [*lexer, ";"]:
                if token in SHELL_OPERATORS or token[0] in "<>":
                    if words[:1] == ["createimage-contract"]:
                        commands.append([expand(word, variables()) for word in words])
                    words, redirected = [], token not in SHELL_OPERATORS
                elif not redirected:
                    words.append(token)
    return commands


def parsed(command: str) -> argparse.Namespace:
    (argv,) = [argv for argv in tool_commands() if argv[1] == command]
    return _parser().parse_args(argv[1:])


def test_it_is_a_github_workflow() -> None:
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(WORKFLOW),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_it_serves_then_runs() -> None:
    assert [argv[1] for argv in tool_commands()] == ["serve", "run"]


def test_every_command_line_is_the_tools() -> None:
    for argv in tool_commands():
        try:
            _parser().parse_args(argv[1:])
        except SystemExit:
            pytest.fail(f"not a command line of the tool: {shlex.join(argv)}")


def test_the_run_checks_the_service_it_started() -> None:
    serve, run = parsed("serve"), parsed("run")
    assert run.endpoint == f"http://127.0.0.1:{serve.port}/"
    assert run.instance_id == serve.instance_id
    assert run.credentials == "env"
    assert (serve.access_key_id, serve.secret_access_key) == (
        variables()["AWS_ACCESS_KEY_ID"],
        variables()["AWS_SECRET_ACCESS_KEY"],
    )


def test_its_baseline_loads() -> None:
    baseline = ROOT / parsed("run").baseline
    assert baseline.is_relative_to(ROOT / "examples" / "ci")
    assert load_baseline(baseline) == set()  # the stand-in service conforms


def test_the_reports_are_uploaded_whatever_the_verdict() -> None:
    run = parsed("run")
    upload = step("Upload the reports")
    assert upload["uses"] == "actions/upload-artifact@v4"
    assert upload["if"] == "always()"
    uploaded = upload["with"]["path"].split()
    assert str(run.report_json) in uploaded and str(run.junit_xml) in uploaded


def test_it_installs_the_tool_from_git() -> None:
    (argv,) = [
        shlex.split(line)
        for line in step("Install createimage-contract")["run"].splitlines()
        if "pip install" in line
    ]
    (requirement,) = [Requirement(word) for word in argv if "createimage-contract" in word]
    assert requirement.name == "createimage-contract"
    assert requirement.url == "git+https://github.com/OWNER/createimage-contract"
    with (ROOT / "pyproject.toml").open("rb") as stream:
        extras = tomllib.load(stream)["project"]["optional-dependencies"]
    assert requirement.extras <= set(extras)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_its_steps_pass_when_run_here(tmp_path: Path) -> None:
    """The service, waiting for it and the run, each step's script run by bash as the runner
    runs it, with the workflow's environment (on a free port) and the tool of this
    checkout on PATH, in a copy of the baseline's place in the repository."""
    baseline = Path(parsed("run").baseline)
    (tmp_path / baseline).parent.mkdir(parents=True)
    shutil.copyfile(ROOT / baseline, tmp_path / baseline)
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(variables())
    env["SERVICE_PORT"] = str(free_port())
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])

    def bash(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*BASH, step(name)["run"]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    # The service outlives its step, as on a runner: it runs in a process group of its own,
    # ended at the end.
    service = subprocess.Popen(
        [*BASH, step("Start the service")["run"]],
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    try:
        assert service.wait(timeout=30) == 0
        waited = bash("Wait for the service")
        assert waited.returncode == 0, waited.stdout + waited.stderr
        ran = bash("Conformance run")
        log = (tmp_path / "service.log").read_text(encoding="utf-8")
        assert ran.returncode == 0, ran.stdout + ran.stderr + log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(service.pid, signal.SIGTERM)

    run = parsed("run")
    report = json.loads((tmp_path / run.report_json).read_text(encoding="utf-8"))
    assert report["summary"]["errors"] == 0 and report["requests"] > 0
    junit = ElementTree.parse(tmp_path / run.junit_xml).getroot()
    assert list(junit.iter("testcase"))
    for uploaded in step("Upload the reports")["with"]["path"].split():
        assert (tmp_path / uploaded).is_file(), uploaded
