"""``lint --format github`` and ``--format sarif``: the reports CI systems read.

GitHub workflow commands are parsed back as GitHub's toolkit writes them; SARIF logs are
validated against the OASIS SARIF 2.1.0 schema, vendored unchanged in ``tests/schemas/``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from createimage_contract import __version__, _cli, _lint_formats, rules, validate
from createimage_contract.schema import DYNAMIC

ROOT = Path(__file__).resolve().parent.parent
SARIF_SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
VALID = sorted(f"examples/valid/{p.name}" for p in (ROOT / "examples" / "valid").iterdir())
INVALID = sorted(f"examples/invalid/{p.name}" for p in (ROOT / "examples" / "invalid").iterdir())
COMMAND = re.compile(r"::(?P<level>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)")


def lint(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = _cli.main(["lint", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def unescape(text: str) -> str:
    for escaped, character in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n")):
        text = text.replace(escaped, character)
    return text.replace("%25", "%")


def commands(out: str) -> list[dict[str, str]]:
    """Each workflow command as a dict: ``level``, its properties, ``message``; unescaped."""
    found = []
    for line in out.splitlines():
        match = COMMAND.fullmatch(line)
        assert match, f"not a workflow command: {line!r}"
        pairs = (p.split("=", 1) for p in match["properties"].split(","))
        command = {name: unescape(value) for name, value in pairs}
        found.append({**command, "level": match["level"], "message": unescape(match["message"])})
    return found


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


PARAMETERS = """{
  "InstanceId": "i-0a1b2c3d",

  "Name": "a",
  "BlockDeviceMappings": [
    {"DeviceName": "/dev/sdf"},
    {
      "Ebs": {"OutpostArn": "arn"}
    }
  ]
}
"""
"""A short name on line 4 (an error), an Outpost ARN on line 8 (a warning)."""


# ------------------------------------------------------------------------------------ github


def test_github_is_one_command_per_violation_on_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write(tmp_path, "request.json", PARAMETERS)
    code, out, err = lint(capsys, "--format", "github", source)
    assert (code, err) == (1, "")
    expected = validate(json.loads(PARAMETERS))
    assert [v.severity for v in expected] == ["error", "warning"]
    found = commands(out)
    assert [(a["level"], a["file"], a["line"], a["title"]) for a in found] == [
        (v.severity, source, line, v.rule) for v, line in zip(expected, ["4", "8"], strict=True)
    ]
    assert [a["message"] for a in found] == [
        f"{v.path}: {v.code or '4xx'} {v.message}" for v in expected
    ]


@pytest.mark.parametrize(
    ("text", "rule", "line"),
    [
        pytest.param(
            '\n\n{\n  "InstanceId": "i-0a1b2c3d"\n}\n',
            "name.missing",
            "3",
            id="missing-member-root",
        ),
        pytest.param(
            '{"InstanceId": "i-0a1b2c3d", "Name": "nightly",\n "TagSpecifications": [\n'
            '  {"ResourceType": "image",\n   "Tags": [\n    {"Value": "v"}]}]}',
            "tag.key",
            "5",
            id="missing-member-nested",
        ),
        pytest.param(
            '{\n "url": "https://ec2.us-east-1.amazonaws.com/?Version=2014-10-01",\n'
            ' "method": "POST",\n "body": "Action=CreateImage&InstanceId=i-0a1b2c3d&Name=a"}',
            "version.unsupported",
            "2",
            id="http-query-in-url",
        ),
        pytest.param(
            '{"url": "https://ec2.us-east-1.amazonaws.com/", "method": "POST",\n'
            ' "headers": {\n  "content-type": "application/x-www-form-urlencoded",\n'
            '  "x-amz-date": "yesterday"},\n "body": "Action=CreateImage&Version=2016-11-15'
            '&InstanceId=i-0a1b2c3d&Name=nightly"}',
            "header.x-amz-date",
            "4",
            id="http-header-any-case",
        ),
        pytest.param(
            '{"url": "https://ec2.us-east-1.amazonaws.com/?Action=CreateImage&Version=2016-11-15",'
            '\n "headers": {"Content-Type": "application/x-www-form-urlencoded"},\n "body": {\n'
            '  "InstanceId": "i-0a1b2c3d",\n  "Name": "nightly#42"}}',
            "name.charset",
            "5",
            id="http-body-object",
        ),
    ],
)
def test_github_line_is_the_members_or_its_parents(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, rule: str, line: str
) -> None:
    source = write(tmp_path, "request.json", text)
    code, out, _ = lint(capsys, "--format", "github", source)
    assert code == 1
    (annotation,) = (a for a in commands(out) if a["title"] == rule)
    assert annotation["line"] == line, annotation


def test_github_line_of_a_form_body_is_1(capsys: pytest.CaptureFixture[str]) -> None:
    source = str(ROOT / "examples" / "invalid" / "version.unsupported.form")
    _, out, _ = lint(capsys, "--format", "github", source)
    (annotation,) = commands(out)
    assert (annotation["file"], annotation["line"]) == (source, "1")


def test_github_escapes_as_the_toolkit_does(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    source = write(tmp_path, "a,b:c%d.json", '{"InstanceId": "i-0a1b2c3d", "Name": "100%"}')
    _, out, _ = lint(capsys, "--format", "github", source)
    assert "file=" + source.replace("%", "%25").replace(",", "%2C").replace(":", "%3A") in out
    assert out.rstrip("\n").endswith("'100%25'")
    assert commands(out)[0]["file"] == source
    assert _lint_formats._escape_data("50%\r\n:,") == "50%25%0D%0A:,"
    assert _lint_formats._escape_property("50%\r\n:,") == "50%25%0D%0A%3A%2C"


def test_github_unreadable_input_is_an_error_on_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.json")
    code, out, err = lint(capsys, "--format", "github", missing)
    assert code == 2
    (annotation,) = commands(out)
    assert annotation == {
        "level": "error",
        "file": missing,
        "title": "unreadable input",
        "message": err.split("error: ", 1)[1].rstrip("\n"),
    }


def test_github_stdin_has_no_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (ROOT / "examples" / "invalid" / "name.length.form").read_bytes()
    monkeypatch.setattr(sys, "stdin", _piped(body))
    _, out, _ = lint(capsys, "--format", "github", "-")
    (annotation,) = commands(out)
    assert set(annotation) == {"level", "title", "message"}


def test_github_valid_inputs_print_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert lint(capsys, "--format", "github", *VALID) == (0, "", "")


def _piped(data: bytes) -> Any:
    import io

    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


# ------------------------------------------------------------------------------------- sarif


@pytest.fixture(scope="module")
def sarif_schema() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")  # the OASIS file, draft-04
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def sarif(
    capsys: pytest.CaptureFixture[str], validator: jsonschema.Draft4Validator, *args: str
) -> tuple[int, dict[str, Any]]:
    code, out, _ = lint(capsys, "--format", "sarif", *args)
    log = json.loads(out)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []
    return code, log


@pytest.mark.parametrize(
    ("sources", "code"),
    [
        pytest.param(VALID, 0, id="valid"),
        pytest.param(INVALID, 1, id="invalid"),
        pytest.param([*VALID[:1], *INVALID[:1], "examples/missing.json", "examples"], 2, id="mix"),
    ],
)
def test_sarif_validates_against_the_official_schema(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sarif_schema: jsonschema.Draft4Validator,
    sources: list[str],
    code: int,
) -> None:
    monkeypatch.chdir(ROOT)
    exit_code, log = sarif(capsys, sarif_schema, *sources)
    assert exit_code == code
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    (invocation,) = run["invocations"]
    assert invocation["exitCode"] == code
    assert invocation["executionSuccessful"] is (code != 2)
    assert bool(invocation["toolExecutionNotifications"]) is (code == 2)


def test_sarif_rules_are_the_catalogue(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sarif_schema: jsonschema.Draft4Validator,
) -> None:
    monkeypatch.chdir(ROOT)
    _, log = sarif(capsys, sarif_schema, *VALID[:1])
    driver = log["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("createimage-contract", __version__)
    # The catalogue, then the info of a value known only at run time (a placeholder).
    assert [r["id"] for r in driver["rules"]] == [*rules(), DYNAMIC]
    assert driver["rules"][-1]["defaultConfiguration"]["level"] == "note"
    for described in driver["rules"][:-1]:
        catalogued = rules()[described["id"]]
        assert described["defaultConfiguration"]["level"] == catalogued.severity
        assert described["shortDescription"]["text"]


def test_sarif_results_are_the_violations_on_their_lines(
    capsys: pytest.CaptureFixture[str],
    sarif_schema: jsonschema.Draft4Validator,
    tmp_path: Path,
) -> None:
    source = write(tmp_path, "request.json", PARAMETERS)
    code, log = sarif(capsys, sarif_schema, source)
    assert code == 1
    (run,) = log["runs"]
    expected = validate(json.loads(PARAMETERS))
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        (v.rule, v.severity) for v in expected
    ]
    for result, line in zip(run["results"], [4, 8], strict=True):
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == Path(source).as_uri()
        assert physical["region"] == {"startLine": line}
        assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("/body/")


def test_sarif_unreadable_input_is_a_notification_not_a_result(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sarif_schema: jsonschema.Draft4Validator,
) -> None:
    monkeypatch.chdir(ROOT)
    code, log = sarif(capsys, sarif_schema, "examples/invalid/name.charset.json", "no such.json")
    assert code == 2
    (run,) = log["runs"]
    assert [r["ruleId"] for r in run["results"]] == ["name.charset"]
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "examples/invalid/name.charset.json"
    }
    (notification,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notification["level"] == "error"
    assert notification["message"]["text"].startswith("no such.json: cannot read")
    (location,) = notification["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "no%20such.json"}


def test_sarif_stdin_has_no_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sarif_schema: jsonschema.Draft4Validator,
) -> None:
    monkeypatch.setattr(sys, "stdin", _piped(b"Action=CreateImage&Version=2016-11-15"))
    code, log = sarif(capsys, sarif_schema, "-")
    assert code == 1
    for result in log["runs"][0]["results"]:
        (location,) = result["locations"]
        assert set(location) == {"logicalLocations"}


# --------------------------------------------------------------------------------- workflows

WORKFLOW = """{
  "name": "nightly",
  "tasks": [
    {"name": "notify", "taskReferenceName": "notify_ref", "type": "HTTP",
     "inputParameters": {"http_request": {"uri": "https://hooks.example.com/x", "method": "POST"}}},
    {
      "name": "image", "taskReferenceName": "image_ref", "type": "HTTP",
      "inputParameters": {"http_request": {
        "uri": "https://ec2.us-east-1.amazonaws.com/?Action=CreateImage&Version=2016-11-15",
        "method": "POST",
        "contentType": "application/x-www-form-urlencoded",
        "body": {
          "InstanceId": "${workflow.input.instanceId}",
          "Name": "nightly#1"
        }
      }}
    }
  ]
}
"""
"""A wrong Name on line 14, a dynamic InstanceId on line 13."""
MACHINE = """\
StartAt: Image
States:
  Image:
    Type: Task
    Resource: arn:aws:states:::aws-sdk:ec2:createImage
    Parameters:
      InstanceId.$: $.instance
      Name: a
    End: true
"""
"""A short Name on line 8, a dynamic InstanceId (its ``.$`` key) on line 7."""
NO_CALL = '{"name": "tidy", "tasks": [{"name": "t", "taskReferenceName": "t", "type": "WAIT"}]}'


def test_github_annotates_workflow_lines_with_the_task(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    conductor = write(tmp_path, "nightly.json", WORKFLOW)
    machine = write(tmp_path, "image.asl.yaml", MACHINE)
    code, out, _ = lint(capsys, "--format", "github", conductor, machine)
    assert code == 1
    found = [(c["level"], c["file"], c["line"], c["title"]) for c in commands(out)]
    assert found == [
        ("error", conductor, "14", "name.charset"),
        ("notice", conductor, "13", "dynamic"),
        ("error", machine, "8", "name.length"),
        ("notice", machine, "7", "dynamic"),
    ]
    messages = [c["message"] for c in commands(out)]
    assert messages[0].startswith(
        "/tasks/1/inputParameters/http_request/body/Name: InvalidAMIName.Malformed task image_ref:"
    )
    assert messages[3].startswith("/States/Image/Parameters/InstanceId.$: task Image: InstanceId")


def test_a_workflow_without_a_call_is_a_notice_and_a_sarif_note(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sarif_schema: jsonschema.Draft4Validator,
) -> None:
    source = write(tmp_path, "tidy.json", NO_CALL)
    code, out, _ = lint(capsys, "--format", "github", source)
    [notice] = commands(out)
    assert (code, notice["level"], notice["file"]) == (0, "notice", source)
    assert notice["message"] == "no CreateImage call: no HTTP task"
    code, log = sarif(capsys, sarif_schema, source)
    [invocation] = log["runs"][0]["invocations"]
    [note] = invocation["toolExecutionNotifications"]
    assert (code, invocation["executionSuccessful"], note["level"]) == (0, True, "note")
    assert log["runs"][0]["results"] == []


def test_sarif_dynamic_values_are_notes_of_their_own_rule(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    sarif_schema: jsonschema.Draft4Validator,
) -> None:
    source = write(tmp_path, "nightly.json", WORKFLOW)
    code, log = sarif(capsys, sarif_schema, source)
    run = log["runs"][0]
    rules_listed = run["tool"]["driver"]["rules"]
    levels = [
        (r["ruleId"], r["level"], rules_listed[r["ruleIndex"]]["id"], r["locations"][0])
        for r in run["results"]
    ]
    assert [(rule_id, level, listed) for rule_id, level, listed, _ in levels] == [
        ("name.charset", "error", "name.charset"),
        (DYNAMIC, "note", DYNAMIC),
    ]
    pointers = [where["logicalLocations"][0]["fullyQualifiedName"] for *_, where in levels]
    assert pointers == [
        "/tasks/1/inputParameters/http_request/body/Name",
        "/tasks/1/inputParameters/http_request/body/InstanceId",
    ]
    assert code == 1
