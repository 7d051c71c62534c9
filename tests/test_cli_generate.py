"""``createimage-contract generate``: formats, seeds, options and errors, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from createimage_contract import Expectation, from_form, rules, validate
from createimage_contract.strategies import breakable_rules

ROOT = Path(__file__).resolve().parent.parent


def generate(*options: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "createimage_contract", "generate", *options],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_jsonl_lines_carry_params_form_and_expectation() -> None:
    run = generate("--count", "40", "--seed", "7")
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    assert len(lines) == 40
    for line in lines:
        assert set(line) == {"params", "form", "expect"}
        assert set(line["expect"]) == {"status", "code", "rule"}
        rule_id = line["expect"]["rule"]
        found = {
            v.rule for v in validate(line["form"]) if v.severity == "error" or v.rule == rule_id
        }
        if rule_id in (None, "dry-run"):
            assert found == set()
        else:
            assert found == {rule_id}
            status = rules()[rule_id].status
            assert line["expect"]["status"] == ("4xx" if status is None else status)
        if line["params"] is not None:
            assert {v.rule for v in validate(line["params"])} == {
                v.rule for v in validate(line["form"])
            }


README_EXAMPLES = [
    ["--invalid", "name.charset", "--count", "1", "--seed", "1"],
    ["--invalid", "name.charset", "--count", "1", "--seed", "1", "--format", "conductor-task"],
    ["--invalid", "tag.key", "--count", "1", "--seed", "1", "--format", "asl-state"],
]


@pytest.mark.parametrize("options", README_EXAMPLES, ids=lambda o: o[-1])
def test_the_readme_examples_are_what_generate_prints(options: list[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = readme.split(f"$ createimage-contract generate {' '.join(options)}\n", 1)[1]
    lines = [line.strip() for line in shown.split("```", 1)[0].splitlines() if line.strip()]
    assert generate(*options).stdout.splitlines() == lines


def test_a_rule_without_an_exact_code_expects_any_4xx() -> None:
    # A list sent as one value: correct services answer UnknownParameter, InvalidParameterValue...
    run = generate("--invalid", "parameter.type", "--count", "5", "--seed", "3")
    expectations = [json.loads(line)["expect"] for line in run.stdout.splitlines()]
    assert expectations == [{"status": "4xx", "code": None, "rule": "parameter.type"}] * 5


def test_the_same_seed_gives_the_same_output(tmp_path: Path) -> None:
    first = generate("--count", "25", "--seed", "42")
    second = generate("--count", "25", "--seed", "42", cwd=tmp_path)
    assert first.stdout == second.stdout and first.stdout
    assert generate("--count", "25", "--seed", "43").stdout != first.stdout
    assert list(tmp_path.iterdir()) == [], "generate must not leave files behind"


def test_without_a_seed_the_seed_used_is_printed() -> None:
    run = generate("--count", "2")
    assert run.returncode == 0 and run.stderr.startswith("createimage-contract generate: seed ")


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--valid"], {None}),
        (["--dry-run"], {"dry-run"}),
        (["--invalid", "tag.limit"], {"tag.limit"}),
    ],
)
def test_kind_options_select_what_is_generated(
    option: list[str], expected: set[str | None]
) -> None:
    run = generate("--count", "15", "--seed", "1", *option)
    assert {json.loads(line)["expect"]["rule"] for line in run.stdout.splitlines()} == expected


def test_invalid_without_a_rule_mixes_the_rules() -> None:
    run = generate("--count", "200", "--seed", "3", "--invalid", "--stats")
    produced = {json.loads(line)["expect"]["rule"] for line in run.stdout.splitlines()}
    assert None not in produced and len(produced) > 10 and produced <= set(breakable_rules())
    assert "rule" in run.stderr and "count" in run.stderr  # the coverage table


def test_form_and_curl_formats() -> None:
    forms = generate(
        "--count", "5", "--seed", "2", "--valid", "--format", "form"
    ).stdout.splitlines()
    assert all(validate(form) == [] for form in forms)
    curls = generate(
        "--count",
        "5",
        "--seed",
        "2",
        "--valid",
        "--format",
        "curl",
        "--endpoint",
        "http://127.0.0.1:9/",
        "--region",
        "eu-west-1",
    ).stdout.splitlines()
    assert len(curls) == 5
    for curl, form in zip(curls, forms, strict=True):
        assert curl.startswith(
            "curl -sS -X POST http://127.0.0.1:9/ --aws-sigv4 aws:amz:eu-west-1:ec2"
        )
        assert '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"' in curl and form in curl


def test_service_options_shape_the_requests() -> None:
    run = generate(
        "--count",
        "10",
        "--seed",
        "1",
        "--valid",
        "--instance-id",
        "i-0123456789abcdef0",
        "--unique-names",
        "--format",
        "form",
    )
    params = [from_form(form) for form in run.stdout.splitlines()]
    assert {p["InstanceId"] for p in params} == {"i-0123456789abcdef0"}
    assert len({p["Name"] for p in params}) == 10
    run = generate(
        "--count",
        "3",
        "--seed",
        "1",
        "--invalid",
        "instance-id.not-found",
        "--instance-id",
        "i-0123456789abcdef0",
    )
    for line in run.stdout.splitlines():
        assert json.loads(line)["expect"] == {
            "status": 400,
            "code": "InvalidInstanceID.NotFound",
            "rule": "instance-id.not-found",
        }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--invalid", "name.lenght"], "no rule 'name.lenght'"),
        (["--invalid", "instance-id.not-found"], "--instance-id"),
        (["--invalid", "name.duplicate"], "--taken-name"),
        (["--invalid", "header.x-amz-date"], "lint checks it"),
        (["--count", "0"], "--count"),
        (["--count", "x"], "--count"),
        (["--seed", "-1"], "--seed"),
        (["--valid", "--dry-run"], "not allowed with"),
        (["--format", "xml"], "--format"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(options: list[str], message: str) -> None:
    run = generate("--seed", "1", *options)
    assert run.returncode == 2 and run.stdout == ""
    (line,) = [line for line in run.stderr.splitlines() if "seed" not in line or "--seed" in line]
    assert message in line and "Traceback" not in run.stderr


def test_help_teaches_the_formats_and_kinds() -> None:
    run = generate("--help")
    assert run.returncode == 0
    for word in ("--valid", "--invalid", "--dry-run", "jsonl", "curl", "same --seed"):
        assert word in run.stdout


def test_expectations_in_jsonl_are_the_catalogue_answers() -> None:
    run = generate("--count", "30", "--seed", "11", "--invalid")
    for line in map(json.loads, run.stdout.splitlines()):
        rule = rules()[line["expect"]["rule"]]
        status = "4xx" if rule.status is None else rule.status
        assert Expectation(rule.status, rule.code, rule.id).code == line["expect"]["code"]
        assert line["expect"]["status"] == status
