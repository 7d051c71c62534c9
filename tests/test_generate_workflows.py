"""``generate --format conductor-task|asl-state``: examples as workflow authors hold them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from createimage_contract import _cli, validate

SEED = ["--seed", "5"]
KINDS = [
    (["--valid"], None),
    (["--dry-run"], "dry-run"),
    (["--invalid", "name.charset"], "name.charset"),
    (["--invalid", "instance-id.malformed"], "instance-id.malformed"),
    (["--invalid", "tag.key"], "tag.key"),
    (["--invalid", "tag.limit"], "tag.limit"),
    (["--invalid", "ebs.volume-type"], "ebs.volume-type"),
    (["--invalid", "integer.invalid"], "integer.invalid"),
]


def generate(capsys: pytest.CaptureFixture[str], *options: str) -> tuple[int, str, str]:
    code = _cli.main(["generate", *options])
    out, err = capsys.readouterr()
    return code, out, err


def lines(capsys: pytest.CaptureFixture[str], *options: str) -> list[dict[str, Any]]:
    code, out, err = generate(capsys, *options)
    assert code == 0, err
    assert out.isascii(), "non-ASCII is escaped: a line is a line"
    return [json.loads(line) for line in out.splitlines()]


def broken(request: Any, rule: str | None) -> set[str]:
    """The rules ``request`` breaks: its errors, and ``rule`` when it is found (a warning)."""
    return {v.rule for v in validate(request) if v.severity == "error" or v.rule == rule}


def expected(rule: str | None) -> set[str]:
    return set() if rule in (None, "dry-run") else {rule}


def as_http(task: dict[str, Any]) -> dict[str, Any]:
    """The request the HTTP task sends, as ``validate`` reads an HTTP request."""
    http = task["inputParameters"]["http_request"]
    return {
        "url": http["uri"],
        "method": http["method"],
        "headers": {"Content-Type": http["contentType"]},
        "body": http["body"],
    }


@pytest.mark.parametrize(("options", "rule"), KINDS)
def test_conductor_tasks_send_what_their_description_expects(
    capsys: pytest.CaptureFixture[str], options: list[str], rule: str | None
) -> None:
    tasks = lines(capsys, "--format", "conductor-task", "--count", "6", *SEED, *options)
    assert len(tasks) == 6
    for task in tasks:
        assert set(task) == {"name", "taskReferenceName", "type", "description", "inputParameters"}
        assert task["type"] == "HTTP"
        http = task["inputParameters"]["http_request"]
        assert http["method"] == "POST" and http["accept"] == "text/xml"
        assert http["uri"] == "https://ec2.us-east-1.amazonaws.com/"
        assert broken(as_http(task), rule) == expected(rule)
        assert task["description"].startswith("expect ")
        if rule is None:
            assert task["description"] == "expect 200"
        elif rule == "dry-run":
            assert task["description"] == "expect 412 DryRunOperation: dry-run"
        else:
            assert task["description"].endswith(f": breaks {rule}")


@pytest.mark.parametrize(("options", "rule"), KINDS)
def test_asl_states_pass_parameters_that_break_what_their_comment_says(
    capsys: pytest.CaptureFixture[str], options: list[str], rule: str | None
) -> None:
    states = lines(capsys, "--format", "asl-state", "--count", "6", *SEED, *options)
    assert len(states) == 6
    for state in states:
        assert set(state) == {"Type", "Resource", "Parameters", "Comment", "End"}
        assert state["Type"] == "Task" and state["End"] is True
        assert state["Resource"] == "arn:aws:states:::aws-sdk:ec2:createImage"
        assert isinstance(state["Parameters"], dict)
        assert broken(state["Parameters"], rule) == expected(rule)
        assert state["Comment"].startswith("expect ")
        if rule not in (None, "dry-run"):
            assert state["Comment"].endswith(f": breaks {rule}")


def test_a_mixed_run_says_every_request_in_both_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tasks = lines(capsys, "--format", "conductor-task", "--count", "40", *SEED)
    references = [task["taskReferenceName"] for task in tasks]
    assert len(set(references)) == 40
    assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) for name in references)
    for task in tasks:
        rule = re.sub(r"^expect [^:]*(: (breaks )?)?", "", task["description"]) or None
        assert broken(as_http(task), rule) == expected(rule)
    states = lines(capsys, "--format", "asl-state", "--count", "40", *SEED)
    assert len(states) == 40, "draws on until COUNT requests can be said as parameters"
    for state in states:
        rule = re.sub(r"^expect [^:]*(: (breaks )?)?", "", state["Comment"]) or None
        assert broken(state["Parameters"], rule) == expected(rule)


def test_invalid_without_a_rule_in_asl_state_keeps_to_parameters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    states = lines(capsys, "--format", "asl-state", "--count", "30", "--invalid", *SEED)
    assert len(states) == 30
    assert all(state["Parameters"] is not None for state in states)
    assert len({state["Comment"] for state in states}) > 5


def test_a_rule_parameters_cannot_say_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = generate(
        capsys, "--format", "asl-state", "--invalid", "action.missing", "--count", "1", *SEED
    )
    assert code == 2 and out == ""
    (line,) = err.splitlines()
    assert "action.missing" in line and "Step Functions Parameters" in line
    assert line.startswith("createimage-contract generate: error: --format asl-state")


@pytest.mark.parametrize("fmt", ["conductor-task", "asl-state"])
def test_the_same_seed_gives_the_same_workflow_examples(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    first = generate(capsys, "--format", fmt, "--count", "12", "--seed", "42")
    assert first[0] == 0 and first[1]
    assert generate(capsys, "--format", fmt, "--count", "12", "--seed", "42") == first
    assert generate(capsys, "--format", fmt, "--count", "12", "--seed", "43")[1] != first[1]


def test_the_task_uri_is_the_endpoint_or_the_region_s(
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = ["--format", "conductor-task", "--count", "2", "--valid", *SEED]
    (task, _) = lines(capsys, *options, "--region", "eu-west-1")
    assert task["inputParameters"]["http_request"]["uri"] == "https://ec2.eu-west-1.amazonaws.com/"
    (task, _) = lines(capsys, *options, "--endpoint", "http://127.0.0.1:9/")
    assert task["inputParameters"]["http_request"]["uri"] == "http://127.0.0.1:9/"


def test_non_ascii_names_are_escaped_in_both_formats(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for fmt in ("conductor-task", "asl-state"):
        code, out, _ = generate(
            capsys, "--format", fmt, "--count", "40", "--invalid", "name.charset", *SEED
        )
        assert code == 0 and out.isascii() and len(out.splitlines()) == 40
        if fmt == "asl-state":  # a task's body is URL-encoded: ASCII already
            assert "\\u" in out, "some drawn names are not ASCII"


def test_help_names_the_workflow_formats(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _cli.main(["generate", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for word in ("conductor-task", "asl-state", "http_request", "aws-sdk:ec2:createImage"):
        assert word in out


@pytest.mark.parametrize(("options", "rule"), KINDS)
def test_lint_finds_in_a_workflow_of_generated_tasks_what_each_one_breaks(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    options: list[str],
    rule: str | None,
) -> None:
    """The round trip a user makes: generated tasks and states pasted into a workflow and a
    state machine, then linted; each call found, each with its own rule and nothing else."""
    tasks = lines(capsys, "--format", "conductor-task", "--count", "4", *SEED, *options)
    states = lines(capsys, "--format", "asl-state", "--count", "4", *SEED, *options)
    workflow = tmp_path / "backup.json"
    workflow.write_text(json.dumps({"name": "backup", "version": 1, "tasks": tasks}))
    machine = tmp_path / "backup.asl.json"
    named = {f"Image{i}": {**state, "End": True} for i, state in enumerate(states)}
    machine.write_text(json.dumps({"StartAt": "Image0", "States": named}))
    _cli.main(["lint", "--format", "json", str(workflow), str(machine)])
    reports = json.loads(capsys.readouterr().out)
    names = ([t["taskReferenceName"] for t in tasks], list(named))
    for report, tasks_named in zip(reports, names, strict=True):
        assert report["calls"] == len(tasks_named)
        found: dict[str, set[str]] = {name: set() for name in tasks_named}
        for v in report["violations"]:
            if v["severity"] == "error" or v["rule"] == rule:
                found[v["task"]].add(v["rule"])
        assert found == {name: expected(rule) for name in tasks_named}
