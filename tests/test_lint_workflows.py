"""``createimage-contract lint`` on workflow definitions: Conductor/Orkes workflows and Step
Functions state machines, as their authors write them, run as a user runs the command.

The files are in ``tests/workflows/``: a correct Conductor workflow and its broken twin, a
correct state machine in JSON and the same in YAML, and a broken one. The small cases (the
placeholder boundaries, custom hosts and syntaxes) are written to a temporary folder and linted
together, so that the whole module needs few child processes.

A finding is ``(rule, path, task)``: the rule broken, the JSON pointer into the workflow file,
the task (Conductor's ``taskReferenceName``, Step Functions' state name).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_cli_lint import ERROR_PREFIX, ROOT, VIOLATION_KEYS, Run, run_lint

from createimage_contract import _cli, rule, rules

Finding = tuple[str, str, str]
"""``(rule, path, task)``."""

WORKFLOWS = "tests/workflows"
CONDUCTOR = f"{WORKFLOWS}/conductor-backup.json"
CONDUCTOR_BROKEN = f"{WORKFLOWS}/conductor-broken.json"
MACHINE_JSON = f"{WORKFLOWS}/state-machine.asl.json"
MACHINE_YAML = f"{WORKFLOWS}/state-machine.asl.yaml"
MACHINE_BROKEN = f"{WORKFLOWS}/state-machine-broken.asl.yaml"
CORRECT = [CONDUCTOR, MACHINE_JSON, MACHINE_YAML]
BROKEN = [CONDUCTOR_BROKEN, MACHINE_BROKEN]

WORKFLOW_VIOLATION_KEYS = VIOLATION_KEYS | {"task"}
FRAGMENT_MESSAGE = (
    "the URL fragment `#Action=CreateImage` is never sent; put Action in the query or the body"
)
LINE = re.compile(
    r"(?P<file>[^:]+):(?P<path>/[^:]*): "
    r"(?:(?P<severity>error|warning) (?P<code>\S+) (?P<rule>[a-z0-9.-]+)|info (?P<info>dynamic)) "
    r"task (?P<task>[^:\s]+): (?P<message>.+)"
)
"""A violation line of the text report: ``FILE:POINTER: SEVERITY CODE RULE task NAME: message``,
or ``FILE:POINTER: info dynamic task NAME: message``."""


# ------------------------------------------------------------------------------ the findings

# conductor-broken.json: where each task's request is.
_FORK = "/tasks/2/forkTasks"
WEB = f"{_FORK}/0/0/inputParameters/http_request"
DB = f"{_FORK}/1/0/inputParameters/http_request"
CACHE = f"{_FORK}/2/0/inputParameters"  # Orkes style: the request is inputParameters itself
WEEKLY = "/tasks/4/decisionCases/weekly/0/inputParameters/http_request"
ARCHIVE = "/tasks/4/decisionCases/monthly/0/inputParameters/http_request"
TAGGED = "/tasks/4/defaultCase/0/inputParameters"
LEGACY = "/tasks/5/decisionCases/true/0/inputParameters/http_request"
BATCH = "/tasks/6/loopOver/0/inputParameters/http_request"

CONDUCTOR_BROKEN_FINDINGS = [
    # FORK_JOIN, branch 1: the Action only in the URL fragment, which a client never sends.
    ("action.missing", f"{WEB}/uri", "image_web_ref"),
    # branch 2: Action=createImage (the SDK's spelling), no contentType (Conductor's default is
    # application/json: the warning points at the request object), and placeholders that keep
    # their literal faults.
    ("action.unknown", f"{DB}/uri", "image_db_ref"),
    ("header.content-type.media-type", DB, "image_db_ref"),
    ("instance-id.malformed", f"{DB}/body/InstanceId", "image_db_ref"),
    ("name.charset", f"{DB}/body/Name", "image_db_ref"),  # "db!${workflow.input.date}"
    ("boolean.invalid", f"{DB}/body/NoReboot", "image_db_ref"),
    # branch 3, Orkes style: PUT, contentType application/json, Version in the body object.
    ("http.method", f"{CACHE}/method", "image_cache_ref"),
    ("header.content-type.media-type", f"{CACHE}/contentType", "image_cache_ref"),
    ("version.unsupported", f"{CACHE}/body/Version", "image_cache_ref"),
    ("name.length", f"{CACHE}/body/Name", "image_cache_ref"),  # 134 literal characters, then ${...}
    ("description.length", f"{CACHE}/body/Description", "image_cache_ref"),
    ("snapshot-location.invalid", f"{CACHE}/body/SnapshotLocation", "image_cache_ref"),
    ("boot-mode-override.invalid", f"{CACHE}/body/BootModeOverride", "image_cache_ref"),
    # SWITCH, case weekly: a form-string body; whatever is in it points at the body.
    ("version.missing", f"{WEEKLY}/uri", "image_weekly_ref"),
    ("tag-specification.resource-type", f"{WEEKLY}/body", "image_weekly_ref"),
    # SWITCH, case monthly: no Name (pointed at where it would be), a reserved key, a long value.
    ("name.missing", f"{ARCHIVE}/body/Name", "image_archive_ref"),
    ("tag.key", f"{ARCHIVE}/body/TagSpecifications/0/Tags/0/Key", "image_archive_ref"),
    ("tag.value", f"{ARCHIVE}/body/TagSpecifications/0/Tags/1/Value", "image_archive_ref"),
    # SWITCH, default case, Orkes style: Reboot is no parameter; 51 tags.
    ("parameter.unknown", f"{TAGGED}/body/Reboot", "image_tagged_ref"),
    ("tag.limit", f"{TAGGED}/body/TagSpecifications/0/Tags", "image_tagged_ref"),
    # DECISION (the legacy SWITCH): InstanceID is not InstanceId.
    ("parameter.unknown", f"{LEGACY}/body/InstanceID", "image_legacy_ref"),
    ("instance-id.missing", f"{LEGACY}/body/InstanceId", "image_legacy_ref"),
    # DO_WHILE: signing headers in the wrong formats, block device mappings EC2 refuses.
    ("header.x-amz-date", f"{BATCH}/headers/X-Amz-Date", "image_batch_ref"),
    ("header.x-amz-content-sha256", f"{BATCH}/headers/X-Amz-Content-Sha256", "image_batch_ref"),
    ("header.x-amz-algorithm", f"{BATCH}/headers/X-Amz-Algorithm", "image_batch_ref"),
    ("header.x-amz-credential", f"{BATCH}/headers/X-Amz-Credential", "image_batch_ref"),
    ("header.x-amz-signedheaders", f"{BATCH}/headers/X-Amz-SignedHeaders", "image_batch_ref"),
    ("header.x-amz-security-token", f"{BATCH}/headers/X-Amz-Security-Token", "image_batch_ref"),
    ("header.x-amz-signature", f"{BATCH}/headers/X-Amz-Signature", "image_batch_ref"),
    ("ebs.volume-type", f"{BATCH}/body/BlockDeviceMappings/0/Ebs/VolumeType", "image_batch_ref"),
    ("integer.invalid", f"{BATCH}/body/BlockDeviceMappings/0/Ebs/VolumeSize", "image_batch_ref"),
    (
        "ebs.volume-size-range",
        f"{BATCH}/body/BlockDeviceMappings/1/Ebs/VolumeSize",
        "image_batch_ref",
    ),
    (
        "ebs.unsupported-member",
        f"{BATCH}/body/BlockDeviceMappings/2/Ebs/AvailabilityZone",
        "image_batch_ref",
    ),
    # Not here: the Slack task and the internal API (not EC2), whatever they hold.
]

_BRANCHES = "/States/BackupTiers/Branches"
WEB_TIER = f"{_BRANCHES}/0/States/ImageWebTier/Parameters"
DB_TIER = f"{_BRANCHES}/1/States/ImageDatabaseTier/Parameters"
BATCH_WORKER = "/States/BackupBatchWorkers/ItemProcessor/States/ImageBatchWorker/Parameters"
BASTION = "/States/ImageBastion/Arguments"  # JSONata: Arguments, not Parameters

MACHINE_BROKEN_FINDINGS = [
    # Parallel, branch 1.
    ("name.charset", f"{WEB_TIER}/Name", "ImageWebTier"),
    ("boolean.invalid", f"{WEB_TIER}/NoReboot", "ImageWebTier"),  # "true", a string
    # Parallel, branch 2 (its createSnapshot state is no CreateImage call).
    ("instance-id.malformed", f"{DB_TIER}/InstanceId", "ImageDatabaseTier"),
    (
        "integer.invalid",
        f"{DB_TIER}/BlockDeviceMappings/0/Ebs/VolumeSize",
        "ImageDatabaseTier",
    ),
    (
        "parameter.unknown",
        f"{DB_TIER}/BlockDeviceMappings/0/Ebs/KmsKeyAlias",
        "ImageDatabaseTier",
    ),
    # Map's item processor: a plural InstanceIds.$ is no parameter (its name is known, only its
    # value is dynamic), so InstanceId is missing.
    ("parameter.unknown", f"{BATCH_WORKER}/InstanceIds.$", "ImageBatchWorker"),
    ("instance-id.missing", f"{BATCH_WORKER}/InstanceId", "ImageBatchWorker"),
    (
        "tag-specification.resource-type",
        f"{BATCH_WORKER}/TagSpecifications/0/ResourceType",
        "ImageBatchWorker",
    ),
    ("tag.key", f"{BATCH_WORKER}/TagSpecifications/0/Tags/0/Key", "ImageBatchWorker"),
    # JSONata Arguments.
    ("boot-mode-override.invalid", f"{BASTION}/BootModeOverride", "ImageBastion"),
    ("snapshot-location.invalid", f"{BASTION}/SnapshotLocation", "ImageBastion"),
    ("parameter.type", f"{BASTION}/TagSpecifications", "ImageBastion"),  # an object, not a list
    # A top-level state: a number for Name.
    ("parameter.type", "/States/ImageJumpHost/Parameters/Name", "ImageJumpHost"),
]

# conductor-backup.json: every value holding a placeholder that a rule would check.
_C_WEB = "/tasks/2/forkTasks/0/0/inputParameters/http_request"
_C_DB = "/tasks/2/forkTasks/1/0/inputParameters"
_C_ARCHIVE = "/tasks/5/decisionCases/monthly/0/inputParameters/http_request"
_C_BATCH = "/tasks/6/loopOver/0/inputParameters/http_request"
CONDUCTOR_DYNAMIC = {
    ("dynamic", f"{_C_WEB}/headers/X-Amz-Date", "image_web_ref"),
    ("dynamic", f"{_C_WEB}/headers/X-Amz-Security-Token", "image_web_ref"),
    ("dynamic", f"{_C_WEB}/body/InstanceId", "image_web_ref"),
    ("dynamic", f"{_C_WEB}/body/Name", "image_web_ref"),
    ("dynamic", f"{_C_WEB}/body/Description", "image_web_ref"),
    ("dynamic", f"{_C_WEB}/body/TagSpecifications/0/Tags/0/Value", "image_web_ref"),
    ("dynamic", f"{_C_WEB}/body/TagSpecifications/0/Tags/1/Value", "image_web_ref"),
    ("dynamic", f"{_C_DB}/headers/X-Amz-Date", "image_db_ref"),
    ("dynamic", f"{_C_DB}/body", "image_db_ref"),  # InstanceId, Name and a tag value in the form
    ("dynamic", f"{_C_ARCHIVE}/body/Name", "image_archive_ref"),
    ("dynamic", f"{_C_BATCH}/headers/X-Amz-Date", "image_batch_ref"),
    ("dynamic", f"{_C_BATCH}/body/InstanceId", "image_batch_ref"),
    ("dynamic", f"{_C_BATCH}/body/Name", "image_batch_ref"),
}
CONDUCTOR_MAYBE_DYNAMIC = {
    # The host's region and the Authorization header hold placeholders too, but no lint rule
    # reads them: a `dynamic` info there is allowed, not required.
    ("dynamic", f"{_C_WEB}/uri", "image_web_ref"),
    ("dynamic", f"{_C_DB}/uri", "image_db_ref"),
    ("dynamic", f"{_C_BATCH}/uri", "image_batch_ref"),
    ("dynamic", f"{_C_WEB}/headers/Authorization", "image_web_ref"),
    ("dynamic", f"{_C_DB}/headers/Authorization", "image_db_ref"),
    ("dynamic", f"{_C_BATCH}/headers/Authorization", "image_batch_ref"),
}
FORM_BODIES = {f"{_C_DB}/body"}
"""Pointers of form-string bodies: several dynamic values there share one pointer."""

_M_WEB = f"{_BRANCHES}/0/States/ImageWebTier/Parameters"
_M_DB = f"{_BRANCHES}/1/States/ImageDatabaseTier/Parameters"
_M_BATCH = "/States/BackupBatchWorkers/ItemProcessor/States/ImageBatchWorker/Parameters"
MACHINE_DYNAMIC = {
    ("dynamic", f"{_M_WEB}/InstanceId.$", "ImageWebTier"),
    ("dynamic", f"{_M_WEB}/Name.$", "ImageWebTier"),  # States.Format('web-{}', $.date)
    ("dynamic", f"{_M_WEB}/TagSpecifications/0/Tags/0/Value.$", "ImageWebTier"),
    ("dynamic", f"{_M_DB}/InstanceId.$", "ImageDatabaseTier"),
    ("dynamic", f"{_M_DB}/Name.$", "ImageDatabaseTier"),
    ("dynamic", f"{_M_DB}/TagSpecifications.$", "ImageDatabaseTier"),  # a whole structure
    ("dynamic", f"{_M_BATCH}/InstanceId.$", "ImageBatchWorker"),
    ("dynamic", f"{_M_BATCH}/Name.$", "ImageBatchWorker"),
    ("dynamic", "/States/ImageBastion/Arguments/InstanceId", "ImageBastion"),
    ("dynamic", "/States/ImageBastion/Arguments/Name", "ImageBastion"),
    ("dynamic", "/States/ImageBastion/Arguments/TagSpecifications/0/Tags/0/Value", "ImageBastion"),
}

NOT_WRITABLE_KINDS = {
    "auth": "signatures: lint does not check them, a definition carries none yet",
    "service": "need the service's state (which instances, which names it holds)",
    "outcome": "dry-run is an answer, not a fault",
}
NOT_WRITABLE_RULES = {
    # Conductor always sends a Content-Type (application/json unless told otherwise: that is
    # header.content-type.media-type), and a Step Functions SDK integration sends no HTTP of
    # the author's: no workflow can leave the header out.
    "header.content-type.missing",
}


def writable_rules() -> set[str]:
    """The catalogue's rules a workflow definition can break."""
    return {
        r.id
        for r in rules().values()
        if r.kind not in NOT_WRITABLE_KINDS and r.id not in NOT_WRITABLE_RULES
    }


# --------------------------------------------------------------------------------- helpers


def reports_by_source(run: Run) -> dict[str, dict[str, Any]]:
    reports = json.loads(run.out)
    assert isinstance(reports, list)
    by_source = {r["source"]: r for r in reports}
    assert len(by_source) == len(reports), "a source reported twice"
    return by_source


def findings(report: dict[str, Any], *, info: bool = False) -> list[Finding]:
    """The report's findings of severity error and warning, or (``info``) its infos."""
    return [
        (v["rule"], v["path"], v["task"])
        for v in report["violations"]
        if (v["severity"] == "info") is info
    ]


def errors(report: dict[str, Any]) -> set[Finding]:
    return {f for f in findings(report) if rule(f[0]).severity == "error"}


def lint_in(folder: Path, *args: str) -> Run:
    """``createimage-contract lint ARGS`` in a child process run in ``folder``, so that the
    report names files as given."""
    done = subprocess.run(
        [sys.executable, "-m", "createimage_contract", "lint", *args],
        capture_output=True,
        cwd=folder,
        timeout=120,
        check=False,
    )
    run = Run(done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8"))
    assert "Traceback" not in run.err, run.err
    return run


def write(folder: Path, name: str, document: Any) -> str:
    path = folder / name
    if name.endswith((".yaml", ".yml")):
        path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    else:
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return str(path)


# ------------------------------------------------------------- the files of tests/workflows


@pytest.fixture(scope="module")
def all_json() -> Run:
    return run_lint("--format", "json", *CORRECT, *BROKEN)


@pytest.fixture(scope="module")
def all_text() -> Run:
    return run_lint("--color", "never", *CORRECT, *BROKEN)


@pytest.fixture(scope="module")
def reports(all_json: Run) -> dict[str, dict[str, Any]]:
    by_source = reports_by_source(all_json)
    assert list(by_source) == [*CORRECT, *BROKEN]
    return by_source


def test_the_yaml_machine_is_the_json_machine() -> None:
    """The test data: both files hold one state machine, so that their reports can be compared."""
    as_json = json.loads((ROOT / MACHINE_JSON).read_text(encoding="utf-8"))
    as_yaml = yaml.safe_load((ROOT / MACHINE_YAML).read_text(encoding="utf-8"))
    assert as_yaml == as_json


def test_correct_workflows_exit_0_with_infos_only() -> None:
    run = run_lint("--format", "json", *CORRECT)
    assert (run.code, run.err) == (0, "")
    for source, report in reports_by_source(run).items():
        assert report["valid"] is True, source
        assert "error" not in report
        assert findings(report) == [], source
        assert {v["rule"] for v in report["violations"]} == {"dynamic"}, source


def test_broken_workflows_exit_1(all_json: Run, all_text: Run) -> None:
    assert (all_json.code, all_text.code) == (1, 1)
    assert all_json.err == all_text.err == ""
    for source in BROKEN:
        assert run_lint(source).code == 1, source


def test_conductor_broken_findings_exactly(reports: dict[str, dict[str, Any]]) -> None:
    report = reports[CONDUCTOR_BROKEN]
    assert report["valid"] is False
    assert Counter(findings(report)) == Counter(CONDUCTOR_BROKEN_FINDINGS)


def test_state_machine_broken_findings_exactly(reports: dict[str, dict[str, Any]]) -> None:
    report = reports[MACHINE_BROKEN]
    assert report["valid"] is False
    assert Counter(findings(report)) == Counter(MACHINE_BROKEN_FINDINGS)


def test_every_writable_rule_fires_in_the_broken_files(reports: dict[str, dict[str, Any]]) -> None:
    fired = {f[0] for source in BROKEN for f in findings(reports[source])}
    assert writable_rules() - fired == set()
    # And the exclusions name rules that exist: a renamed rule must not slip out of the list.
    assert set(rules()) >= NOT_WRITABLE_RULES
    assert set(NOT_WRITABLE_KINDS) <= {r.kind for r in rules().values()}


def test_the_fragment_is_named_in_the_message(reports: dict[str, dict[str, Any]]) -> None:
    (missing,) = (
        v for v in reports[CONDUCTOR_BROKEN]["violations"] if v["rule"] == "action.missing"
    )
    assert FRAGMENT_MESSAGE in missing["message"]


def test_conductor_infos_are_one_per_dynamic_value(reports: dict[str, dict[str, Any]]) -> None:
    infos = findings(reports[CONDUCTOR], info=True)
    assert set(infos) >= CONDUCTOR_DYNAMIC
    assert set(infos) - CONDUCTOR_DYNAMIC <= CONDUCTOR_MAYBE_DYNAMIC
    repeated = {f for f, n in Counter(infos).items() if n > 1 and f[1] not in FORM_BODIES}
    assert repeated == set()


def test_state_machine_infos_are_one_per_dynamic_value(
    reports: dict[str, dict[str, Any]],
) -> None:
    for source in (MACHINE_JSON, MACHINE_YAML):
        infos = findings(reports[source], info=True)
        assert Counter(infos) == Counter(MACHINE_DYNAMIC), source


def test_yaml_and_json_machines_report_the_same(reports: dict[str, dict[str, Any]]) -> None:
    as_json, as_yaml = reports[MACHINE_JSON], reports[MACHINE_YAML]
    assert as_yaml["violations"] == as_json["violations"]
    assert as_yaml["valid"] == as_json["valid"]


def test_yaml_and_json_broken_machines_report_the_same(tmp_path: Path) -> None:
    machine = yaml.safe_load((ROOT / MACHINE_BROKEN).read_text(encoding="utf-8"))
    twin = write(tmp_path, "state-machine-broken.asl.json", machine)
    run = run_lint("--format", "json", MACHINE_BROKEN, twin)
    assert run.code == 1
    by_source = reports_by_source(run)
    assert by_source[twin]["violations"] == by_source[MACHINE_BROKEN]["violations"]
    text = run_lint("--color", "never", MACHINE_BROKEN, twin)
    lines = [line for line in text.out.splitlines() if LINE.fullmatch(line)]
    from_yaml = [
        line.removeprefix(MACHINE_BROKEN) for line in lines if line.startswith(f"{MACHINE_BROKEN}:")
    ]
    from_json = [line.removeprefix(twin) for line in lines if line.startswith(f"{twin}:")]
    assert from_yaml == from_json
    assert from_yaml


# ------------------------------------------------------------------------- the JSON report


def test_json_violations_name_their_task(reports: dict[str, dict[str, Any]]) -> None:
    for source, report in reports.items():
        assert {"source", "valid", "violations"} <= set(report), source
        assert report["violations"], source
        for violation in report["violations"]:
            assert set(violation) == WORKFLOW_VIOLATION_KEYS, violation
            assert isinstance(violation["task"], str) and violation["task"], violation
            assert violation["path"].startswith("/"), violation
            assert isinstance(violation["message"], str) and violation["message"], violation
            if violation["severity"] == "info":
                assert violation["rule"] == "dynamic", violation
                assert (violation["code"], violation["status"]) == (None, None), violation
            else:
                catalogued = rule(violation["rule"])
                assert violation["code"] == catalogued.code
                assert violation["status"] == catalogued.status
                assert violation["severity"] == catalogued.severity


def test_infos_never_make_a_workflow_invalid(reports: dict[str, dict[str, Any]]) -> None:
    for source in CORRECT:
        severities = {v["severity"] for v in reports[source]["violations"]}
        assert severities == {"info"}, source
        assert reports[source]["valid"] is True


# ------------------------------------------------------------------------- the text report


def test_text_lines_are_the_json_violations(
    all_text: Run, reports: dict[str, dict[str, Any]]
) -> None:
    for source, report in reports.items():
        expected = []
        for v in report["violations"]:
            # In text the message starts with the task; the JSON message may or may not.
            message = v["message"].removeprefix(f"task {v['task']}: ")
            if v["severity"] == "info":
                said = "info dynamic"
            else:
                said = f"{v['severity']} {v['code'] or '4xx'} {v['rule']}"
            expected.append(f"{source}:{v['path']}: {said} task {v['task']}: {message}")
        printed = [line for line in all_text.out.splitlines() if line.startswith(f"{source}:/")]
        assert printed == expected, source


def test_text_lines_have_the_documented_shape(all_text: Run) -> None:
    lines = [
        line
        for line in all_text.out.splitlines()
        if line.split(":", 1)[0] in [*CORRECT, *BROKEN] and ":/" in line
    ]
    assert lines
    infos = 0
    for line in lines:
        match = LINE.fullmatch(line)
        assert match, f"not FILE:POINTER: SEVERITY CODE RULE task NAME: message: {line!r}"
        if match["info"]:
            infos += 1
        else:
            assert match["code"] == (rule(match["rule"]).code or "4xx")
            assert match["severity"] == rule(match["rule"]).severity
    assert infos > 0
    charset = (
        f"{CONDUCTOR_BROKEN}:{DB}/body/Name: error InvalidAMIName.Malformed name.charset "
        "task image_db_ref: "
    )
    assert any(line.startswith(charset) for line in lines), charset
    assert any(
        line.startswith(f"{MACHINE_YAML}:{_M_WEB}/Name.$: info dynamic task ImageWebTier: ")
        for line in lines
    )
    assert "no CreateImage call" not in all_text.out


# ------------------------------------------------------------------------------ small cases

EC2 = "https://ec2.us-east-1.amazonaws.com/?Action=CreateImage&Version=2016-11-15"
FORM = "application/x-www-form-urlencoded"
REQUEST = "/tasks/0/inputParameters/http_request"
TASK = "create_image_ref"
CREATE_IMAGE = "arn:aws:states:::aws-sdk:ec2:createImage"
STATE = "/States/Backup"


def conductor(body: Any, *, uri: str = EC2, method: str = "POST") -> dict[str, Any]:
    """A workflow of one correct HTTP task but for ``body``, sent to ``uri``."""
    request = {"uri": uri, "method": method, "contentType": FORM, "accept": "text/xml"}
    return {
        "name": "nightly_backup",
        "version": 1,
        "schemaVersion": 2,
        "ownerEmail": "platform-team@example.com",
        "tasks": [
            {
                "name": "create_image",
                "taskReferenceName": TASK,
                "type": "HTTP",
                "inputParameters": {"http_request": {**request, "body": body}},
            }
        ],
    }


def machine(parameters: dict[str, Any], *, jsonata: bool = False) -> dict[str, Any]:
    """A state machine of one createImage Task state, ``Backup``."""
    state: dict[str, Any] = {"Type": "Task", "Resource": CREATE_IMAGE}
    if jsonata:
        state |= {"QueryLanguage": "JSONata", "Arguments": parameters}
    else:
        state["Parameters"] = parameters
    return {"StartAt": "Backup", "States": {"Backup": {**state, "End": True}}}


def dynamic(*paths: str, task: str = TASK) -> set[Finding]:
    return {("dynamic", path, task) for path in paths}


BODY = f"{REQUEST}/body"
SLACK = {
    "name": "notify_slack",
    "taskReferenceName": "notify_slack_ref",
    "type": "HTTP",
    "inputParameters": {
        "uri": "https://hooks.slack.com/services/${workflow.input.slackWebhookPath}",
        "method": "POST",
        "body": {"text": "Nightly backup done"},
    },
}
NO_CALL_CONDUCTOR = {
    "name": "notify",
    "version": 1,
    "schemaVersion": 2,
    "ownerEmail": "platform-team@example.com",
    "tasks": [
        SLACK,
        {
            "name": "describe_images",
            "taskReferenceName": "describe_images_ref",
            "type": "HTTP",
            "inputParameters": {
                "uri": "https://ec2.us-east-1.amazonaws.com/?Action=DescribeImages&Version=2016-11-15",
                "method": "GET",
            },
        },
    ],
}
NO_CALL_MACHINE = {
    "StartAt": "Notify",
    "States": {
        "Notify": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "notify", "Payload": {"Name": "not an AMI!"}},
            "End": True,
        }
    },
}
HOSTS = {
    "host-port.json": "http://localhost:4566/?Action=CreateImage&Version=2016-11-15",
    "host-glob.json": "https://ec2.zone-a.cloud.example.net/?Action=CreateImage&Version=2016-11-15",
    "host-name.json": "https://ec2-gateway.internal/?Action=CreateImage&Version=2016-11-15",
}
HOST_OPTIONS = [
    "--ec2-host",
    "localhost:4566",
    "--ec2-host",
    "ec2.*.cloud.example.net",
    "--ec2-host",
    "ec2-gateway.internal",
]
BAD_NAME = {"InstanceId": "i-0a1b2c3d", "Name": "nightly backup #7"}
CUSTOM_SYNTAX = {"InstanceId": "%%INSTANCE_ID%%", "Name": "backup-<<date>>"}
CUSTOM_OPTIONS = ["--placeholder", "%%[A-Z_]+%%", "--placeholder", "<<[a-z]+>>"]

CASES: dict[str, tuple[Any, set[Finding], set[Finding] | None]] = {
    # file: (document, its errors and warnings, its infos; None: infos not looked at)
    "name-128-literal.json": (
        conductor({"InstanceId": "i-0a1b2c3d", "Name": "n" * 128 + "${workflow.input.date}"}),
        set(),
        dynamic(f"{BODY}/Name"),
    ),
    "name-129-literal.json": (
        conductor({"InstanceId": "i-0a1b2c3d", "Name": "n" * 129 + "${workflow.input.date}"}),
        {("name.length", f"{BODY}/Name", TASK)},
        None,
    ),
    "name-allowed-literals.json": (
        conductor(
            {
                "InstanceId": "i-0a1b2c3d",
                "Name": "web (prod) [eu-west-1]/v1.2 'nightly' @team_a ${workflow.input.date}",
            }
        ),
        set(),
        dynamic(f"{BODY}/Name"),
    ),
    "name-bang.json": (
        conductor({"InstanceId": "i-0a1b2c3d", "Name": "backup!${workflow.input.date}"}),
        {("name.charset", f"{BODY}/Name", TASK)},
        None,
    ),
    "double-braces.json": (
        conductor({"InstanceId": "{{ instance_id }}", "Name": "backup-{{ date }}"}),
        set(),
        dynamic(f"{BODY}/InstanceId", f"{BODY}/Name"),
    ),
    "dollar-double-braces.json": (
        conductor(
            {"InstanceId": "${{ inputs.instance-id }}", "Name": "backup-${{ github.run_id }}"}
        ),
        set(),
        dynamic(f"{BODY}/InstanceId", f"{BODY}/Name"),
    ),
    "custom-syntax.json": (
        conductor(CUSTOM_SYNTAX),
        # Without --placeholder, %%...%% and <<...>> are literal characters.
        {
            ("instance-id.malformed", f"{BODY}/InstanceId", TASK),
            ("name.charset", f"{BODY}/Name", TASK),
        },
        None,
    ),
    "whole-structure-conductor.json": (
        conductor(
            {
                "InstanceId": "${workflow.input.instanceId}",
                "Name": "${prepare_ref.output.name}",
                "TagSpecifications": "${prepare_ref.output.tagSpecifications}",
            }
        ),
        set(),
        dynamic(f"{BODY}/InstanceId", f"{BODY}/Name", f"{BODY}/TagSpecifications"),
    ),
    "whole-structure.asl.json": (
        machine(
            {
                "InstanceId.$": "$.instanceId",
                "Name.$": "$.name",
                "TagSpecifications.$": "$.tags",
                "BlockDeviceMappings.$": "$.mappings",
            }
        ),
        set(),
        dynamic(
            f"{STATE}/Parameters/InstanceId.$",
            f"{STATE}/Parameters/Name.$",
            f"{STATE}/Parameters/TagSpecifications.$",
            f"{STATE}/Parameters/BlockDeviceMappings.$",
            task="Backup",
        ),
    ),
    "jsonata.asl.json": (
        machine(
            {
                "InstanceId": "{% $states.input.instanceId %}",
                "Name": "{% 'backup-' & $states.input.date %}",
                "NoReboot": "true",
            },
            jsonata=True,
        ),
        {("boolean.invalid", f"{STATE}/Arguments/NoReboot", "Backup")},
        dynamic(f"{STATE}/Arguments/InstanceId", f"{STATE}/Arguments/Name", task="Backup"),
    ),
    "literal-machine.asl.yaml": (
        machine({"InstanceId": "i-0a1b2c3d", "Name": "nightly backup #7"}),
        {("name.charset", f"{STATE}/Parameters/Name", "Backup")},
        set(),
    ),
    "lowercase-action.json": (
        conductor(
            {"InstanceId": "i-0a1b2c3d", "Name": "nightly"},
            uri="https://ec2.us-east-1.amazonaws.com/?Action=createimage&Version=2016-11-15",
        ),
        {("action.unknown", f"{REQUEST}/uri", TASK)},
        set(),
    ),
    "region-placeholder.json": (
        conductor(
            BAD_NAME,
            uri="https://ec2.${workflow.input.region}.amazonaws.com/?Action=CreateImage&Version=2016-11-15",
        ),
        {("name.charset", f"{BODY}/Name", TASK)},
        None,
    ),
    "fragment-and-body.json": (
        conductor(
            {"Version": "2016-11-15", "InstanceId": "i-0a1b2c3d", "Name": "nightly"},
            uri="https://ec2.us-east-1.amazonaws.com/#action=createimage",
        ),
        {("action.missing", f"{REQUEST}/uri", TASK)},
        set(),
    ),
    **{name: (conductor(BAD_NAME, uri=uri), set(), set()) for name, uri in HOSTS.items()},
    "no-call.json": (NO_CALL_CONDUCTOR, set(), set()),
    "no-call.asl.json": (NO_CALL_MACHINE, set(), set()),
}
NO_CALL = ["no-call.json", "no-call.asl.json", *HOSTS]
"""The cases without a CreateImage call (the custom hosts, unless named)."""


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workflows")
    for name, (document, _, _) in CASES.items():
        write(folder, name, document)
    return folder


@pytest.fixture(scope="module")
def cases_json(cases: Path) -> dict[str, dict[str, Any]]:
    run = lint_in(cases, "--format", "json", *CASES)
    assert run.code == 1, run.err
    assert run.err == ""
    by_source = reports_by_source(run)
    assert list(by_source) == list(CASES)
    return by_source


@pytest.mark.parametrize("name", list(CASES))
def test_small_case(cases_json: dict[str, dict[str, Any]], name: str) -> None:
    _, expected, expected_infos = CASES[name]
    report = cases_json[name]
    assert Counter(findings(report)) == Counter(expected)
    assert report["valid"] is not expected
    if expected_infos is not None:
        infos = findings(report, info=True)
        assert Counter(infos) == Counter(expected_infos)


def test_no_action_but_instance_id_and_name_is_a_call(tmp_path: Path) -> None:
    """No Action anywhere, but the body holds CreateImage's two required parameters."""
    document = conductor(
        {"Version": "2016-11-15", "InstanceId": "i-0a1b2c3d", "Name": "nightly"},
        uri="https://ec2.us-east-1.amazonaws.com/",
    )
    source = write(tmp_path, "no-action.json", document)
    run = run_lint("--format", "json", source)
    assert run.code == 1
    (report,) = json.loads(run.out)
    assert [(v["rule"], v["task"]) for v in report["violations"]] == [("action.missing", TASK)]
    assert report["violations"][0]["path"].startswith(REQUEST)


def test_a_workflow_without_a_call_is_valid_and_says_so(cases: Path) -> None:
    run = lint_in(cases, "--color", "never", *NO_CALL)
    assert (run.code, run.err) == (0, "")
    for name in NO_CALL:
        said = [line for line in run.out.splitlines() if line.startswith(f"{name}:")]
        assert said, name
        assert all("no CreateImage call" in line for line in said), said


def test_custom_placeholders_make_values_dynamic(cases: Path) -> None:
    run = lint_in(cases, "--format", "json", *CUSTOM_OPTIONS, "custom-syntax.json")
    assert (run.code, run.err) == (0, "")
    (report,) = json.loads(run.out)
    assert findings(report) == []
    assert Counter(findings(report, info=True)) == Counter(
        dynamic(f"{BODY}/InstanceId", f"{BODY}/Name")
    )


def test_ec2_host_makes_a_custom_endpoint_linted(cases: Path) -> None:
    run = lint_in(cases, "--format", "json", *HOST_OPTIONS, *HOSTS)
    assert (run.code, run.err) == (1, "")
    by_source = reports_by_source(run)
    for name in HOSTS:
        assert findings(by_source[name]) == [("name.charset", f"{BODY}/Name", TASK)], name


def test_ec2_host_names_only_the_hosts_given(cases: Path) -> None:
    run = lint_in(cases, "--format", "json", "--ec2-host", "localhost:4566", *HOSTS)
    assert run.code == 1
    by_source = reports_by_source(run)
    assert findings(by_source["host-port.json"]) == [("name.charset", f"{BODY}/Name", TASK)]
    assert by_source["host-glob.json"]["violations"] == []
    assert by_source["host-name.json"]["violations"] == []


# ------------------------------------------------------------------------------ the inputs


def test_input_workflow_forces_the_reading(reports: dict[str, dict[str, Any]]) -> None:
    run = run_lint("--input", "workflow", "--format", "json", *CORRECT, *BROKEN)
    assert run.code == 1
    assert reports_by_source(run) == reports


def test_input_workflow_reads_standard_input(reports: dict[str, dict[str, Any]]) -> None:
    document = (ROOT / CONDUCTOR_BROKEN).read_bytes()
    run = run_lint("--input", "workflow", "--format", "json", "-", stdin=document)
    assert run.code == 1
    (report,) = json.loads(run.out)
    assert report["source"] == "<stdin>"
    assert report["violations"] == reports[CONDUCTOR_BROKEN]["violations"]


def test_single_tasks_and_arrays_of_tasks(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """What ``generate --format conductor-task`` writes, one task a line, lints as tasks."""
    options = ["--format", "conductor-task", "--invalid", "name.charset", "--count", "2"]
    assert _cli.main(["generate", *options, "--seed", "1"]) == 0
    tasks = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    array = write(tmp_path, "tasks.json", tasks)
    single = write(tmp_path, "task.json", tasks[0])
    run = run_lint("--format", "json", array, single)
    assert run.code == 1
    by_source = reports_by_source(run)
    body = "inputParameters/http_request/body"  # generate writes a form body
    assert errors(by_source[array]) == {
        ("name.charset", f"/0/{body}", "create_image_1"),
        ("name.charset", f"/1/{body}", "create_image_2"),
    }
    assert errors(by_source[single]) == {("name.charset", f"/{body}", "create_image_1")}


def test_a_directory_is_searched_for_state_machines_in_yaml(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    for name in ("b.asl.yaml", "a.asl.yml", "c.json", "notes.yaml", "d/e.asl.yaml"):
        write(tmp_path, name, machine(BAD_NAME))
    run = run_lint("--format", "json", str(tmp_path))
    sources = [r["source"] for r in json.loads(run.out)]
    # Sorted, the folder's own files first; a YAML file is a state machine only as *.asl.yaml.
    expected = ["a.asl.yml", "b.asl.yaml", "c.json", "d/e.asl.yaml"]
    assert sources == [str(tmp_path / name) for name in expected]
    assert run.code == 1


def test_an_unreadable_state_machine_is_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.asl.yaml"
    broken.write_text("StartAt: Backup\nStates:\n  Backup: [Type: Task\n", encoding="utf-8")
    run = run_lint("--format", "json", CONDUCTOR, str(broken))
    assert run.code == 2
    (line,) = run.err.splitlines()
    assert line.startswith(f"{ERROR_PREFIX}{broken}: ")
    good, bad = json.loads(run.out)
    assert good["source"] == CONDUCTOR and good["valid"] is True
    assert bad["source"] == str(broken) and "error" in bad


# --------------------------------------------------------------------------------- README


def readme_section() -> str:
    """The README's section on workflows, up to the next heading of its level or above."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n### Linting workflow definitions\n")
    ends = [readme.find(mark, start + 1) for mark in ("\n## ", "\n### ")]
    return readme[start : min((end for end in ends if end != -1), default=len(readme))]


def shown_files(section: str) -> dict[str, str]:
    """The files the section shows: a ```json or ```yaml block under a line `` `NAME`: ``."""
    blocks = re.findall(r"^`([\w.-]+)`:\n\n```(?:json|yaml)\n(.*?)^```", section, re.M | re.S)
    return dict(blocks)


def shown_runs(section: str) -> list[tuple[list[str], list[str]]]:
    """Each ``$ createimage-contract lint ...`` block: its arguments and the lines shown."""
    runs = []
    for body in re.findall(r"^```\n\$ createimage-contract lint (.*?)^```", section, re.M | re.S):
        command, *lines = body.splitlines()
        runs.append((command.split(), lines))
    return runs


def test_the_readme_section_shows_what_lint_prints(tmp_path: Path) -> None:
    section = readme_section()
    files = shown_files(section)
    runs = shown_runs(section)
    assert set(files) == {"nightly-backup.json", "backup.asl.yaml"}
    assert len(runs) == 2
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for arguments, shown in runs:
        run = lint_in(tmp_path, "--color", "never", *arguments)
        assert run.code == 1, run.err
        assert run.out.splitlines() == shown


def test_quiet_keeps_the_errors_and_drops_the_dynamic_infos() -> None:
    """``-q`` is for a CI log: what fails, not what is left to run time."""
    loud = run_lint(CONDUCTOR_BROKEN)
    quiet = run_lint("-q", CONDUCTOR_BROKEN)
    assert loud.code == quiet.code == 1
    assert ": info dynamic " in loud.out
    assert ": info dynamic " not in quiet.out
    kept = [line for line in loud.out.splitlines() if ": error " in line or ": warning " in line]
    assert quiet.out.splitlines() == kept
