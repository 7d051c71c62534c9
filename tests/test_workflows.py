"""Workflow definitions for ``lint``: which documents are workflows, which of their tasks call
CreateImage and with what request, where in the file a violation is; and reading them from YAML,
with their line numbers. All in-process: ``_workflows``, ``_inputs`` and ``_json_lines``."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from createimage_contract import _inputs, _json_lines, _workflows
from createimage_contract.schema import Placeholder, validate

ROOT = Path(__file__).resolve().parent.parent
EC2 = "https://ec2.us-east-1.amazonaws.com/"
CREATE = EC2 + "?Action=CreateImage&Version=2016-11-15"
RESOURCE = "arn:aws:states:::aws-sdk:ec2:createImage"
PARAMS = {"InstanceId": "i-0123456789abcdef0", "Name": "nightly"}


def http_task(ref: str, uri: str = CREATE, **fields: Any) -> dict[str, Any]:
    request = {"uri": uri, "method": "POST", "body": dict(PARAMS), **fields}
    return {
        "name": "create",
        "taskReferenceName": ref,
        "type": "HTTP",
        "inputParameters": {"http_request": request},
    }


def sdk_state(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": RESOURCE, "Parameters": dict(PARAMS), "End": True, **fields}


def machine(states: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states, **fields}


def only_call(document: Any, ec2_hosts: tuple[str, ...] = ()) -> _workflows.Call:
    found = _workflows.calls(document, ec2_hosts)
    assert len(found.calls) == 1, found
    return found.calls[0]


def where(document: Any) -> list[tuple[str, str]]:
    return [(call.task, call.pointer) for call in _workflows.calls(document).calls]


def write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ------------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "document",
    [
        {"name": "backup", "version": 1, "tasks": []},
        http_task("one"),
        {"type": "HTTP", "inputParameters": {"uri": CREATE}},  # no reference name, Orkes style
        [{"name": "a", "tasks": []}, http_task("one")],  # bulk registration
        machine({"Backup": sdk_state()}),
        sdk_state(),
    ],
    ids=["conductor-workflow", "task", "task-type", "array", "state-machine", "state"],
)
def test_a_workflow_document_is_detected(document: Any) -> None:
    assert _workflows.is_workflow(document)


@pytest.mark.parametrize(
    "document",
    [
        dict(PARAMS),
        {**PARAMS, "TagSpecifications": [{"ResourceType": "image", "Tags": []}]},
        "Action=CreateImage&InstanceId=i-1&Name=a",
        {"url": CREATE, "method": "POST", "headers": {}, "body": dict(PARAMS)},
        [],
        [dict(PARAMS)],
        {"InstanceId": "i-1", "Type": "Task", "Resource": RESOURCE},  # parameters, oddly named
        {"StartAt": "A"},  # no States
        None,
    ],
    ids=[
        "parameters",
        "parameters-tags",
        "form",
        "http",
        "empty-array",
        "array-of-parameters",
        "parameters-with-type",
        "no-states",
        "null",
    ],
)
def test_a_request_is_not_taken_for_a_workflow(document: Any) -> None:
    assert not _workflows.is_workflow(document)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("examples/valid/minimal.json", "auto"),
        ("examples/valid/http-task.json", "auto"),
        ("examples/valid/http-task-fields.json", "auto"),
        ("examples/valid/create-image.form", "form"),
    ],
)
def test_the_three_request_forms_are_read_as_before(path: str, form: str) -> None:
    assert _inputs.read(str(ROOT / path)).form == form


# ----------------------------------------------------------------------------- nesting: conductor


def test_conductor_tasks_are_found_in_every_kind_of_nesting() -> None:
    workflow = {
        "name": "backup",
        "tasks": [
            http_task("top"),
            {
                "type": "FORK_JOIN",
                "taskReferenceName": "fork",
                "forkTasks": [
                    [http_task("fork_0")],
                    [{"type": "SET_VARIABLE"}, http_task("fork_1")],
                ],
            },
            {
                "type": "SWITCH",
                "taskReferenceName": "switch",
                "decisionCases": {"weekly": [http_task("weekly")], "a/b": [http_task("slash")]},
                "defaultCase": [http_task("default")],
            },
            {"type": "DO_WHILE", "taskReferenceName": "loop", "loopOver": [http_task("loop")]},
            {
                "type": "SUB_WORKFLOW",
                "taskReferenceName": "sub",
                "subWorkflowParam": {
                    "name": "inline",
                    "workflowDefinition": {"tasks": [http_task("inner")]},
                },
            },
        ],
    }
    body = "/inputParameters/http_request"
    assert where(workflow) == [
        ("top", "/tasks/0" + body),
        ("fork_0", "/tasks/1/forkTasks/0/0" + body),
        ("fork_1", "/tasks/1/forkTasks/1/1" + body),
        ("weekly", "/tasks/2/decisionCases/weekly/0" + body),
        ("slash", "/tasks/2/decisionCases/a~1b/0" + body),
        ("default", "/tasks/2/defaultCase/0" + body),
        ("loop", "/tasks/3/loopOver/0" + body),
        ("inner", "/tasks/4/subWorkflowParam/workflowDefinition/tasks/0" + body),
    ]


def test_a_bulk_array_a_single_task_and_orkes_style_have_their_pointers() -> None:
    orkes = {"name": "orkes", "type": "HTTP", "inputParameters": {"uri": CREATE, "body": PARAMS}}
    assert where([{"name": "a", "tasks": [http_task("a")]}, orkes]) == [
        ("a", "/0/tasks/0/inputParameters/http_request"),
        ("orkes", "/1/inputParameters"),  # no taskReferenceName: its name
    ]
    assert where(http_task("alone")) == [("alone", "/inputParameters/http_request")]


# ------------------------------------------------------------------------- nesting: step functions


def test_step_functions_states_are_found_in_parallel_and_map() -> None:
    definition = machine(
        {
            "Backup": sdk_state(),
            "Fan": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    machine({"Pass": {"Type": "Pass", "End": True}}),
                    machine({"Backup": sdk_state()}),
                ],
            },
            "Each": {"Type": "Map", "End": True, "ItemProcessor": machine({"Backup": sdk_state()})},
            "Old": {"Type": "Map", "End": True, "Iterator": machine({"a/b": sdk_state()})},
        }
    )
    assert where(definition) == [
        ("Backup", "/States/Backup/Parameters"),
        ("Backup", "/States/Fan/Branches/1/States/Backup/Parameters"),
        ("Backup", "/States/Each/ItemProcessor/States/Backup/Parameters"),
        ("a/b", "/States/Old/Iterator/States/a~1b/Parameters"),
    ]


def test_a_lone_state_has_its_pointer_and_no_name() -> None:
    assert where(sdk_state()) == [("", "/Parameters")]


def test_only_the_create_image_resource_is_a_call_and_ec2_sdk_states_are_counted() -> None:
    states = {
        "Describe": sdk_state(Resource="arn:aws:states:::aws-sdk:ec2:describeImages"),
        "Wrong": sdk_state(Resource="arn:aws:states:::aws-sdk:ec2:CreateImage"),
        "Lambda": sdk_state(Resource="arn:aws:states:::lambda:invoke"),
        "Pass": {"Type": "Pass", "Resource": RESOURCE, "End": True},  # not a Task
    }
    found = _workflows.calls(machine(states))
    assert found.calls == []
    assert found.http_tasks == 2
    assert found.describe_none() == (
        f"no CreateImage call: 2 aws-sdk:ec2 Task states, none with Resource {RESOURCE}"
    )


# -------------------------------------------------------------------------------- EC2 hosts


@pytest.mark.parametrize(
    "uri",
    [
        "https://ec2.amazonaws.com/?Action=CreateImage",
        "https://ec2.us-east-1.amazonaws.com/?Action=CreateImage",
        "https://EC2.US-EAST-1.AMAZONAWS.COM:443/?Action=CreateImage",
        "https://ec2.cn-north-1.amazonaws.com.cn/?Action=CreateImage",
        "https://ec2-fips.us-gov-west-1.amazonaws.com/?Action=CreateImage",
        "https://ec2.eu-west-1.api.aws/?Action=CreateImage",
        "https://ec2.${workflow.input.region}.amazonaws.com/?Action=CreateImage",
        "https://ec2-fips.${workflow.input.region}.amazonaws.com/?Action=CreateImage",
    ],
)
def test_an_ec2_host_is_a_call(uri: str) -> None:
    assert where(http_task("t", uri)) == [("t", "/inputParameters/http_request")]


@pytest.mark.parametrize(
    "uri",
    [
        "https://s3.us-east-1.amazonaws.com/?Action=CreateImage",
        "https://ec2.us-east-1.amazonaws.com.example.com/?Action=CreateImage",
        "https://myec2.us-east-1.amazonaws.com/?Action=CreateImage",
        "https://api.example.com/ec2.us-east-1.amazonaws.com?Action=CreateImage",
        "${workflow.input.url}",
        "https://${workflow.input.host}/?Action=CreateImage",
        "https://[broken/?Action=CreateImage",
    ],
)
def test_another_host_is_no_call(uri: str) -> None:
    found = _workflows.calls(http_task("t", uri))
    assert found.calls == []
    assert found.http_tasks == 1


@pytest.mark.parametrize(
    ("uri", "hosts", "is_call"),
    [
        ("http://localhost:4566/?Action=CreateImage", ("localhost:4566",), True),
        ("http://LocalHost:4566/?Action=CreateImage", ("localhost",), True),
        ("http://localhost:4566/?Action=CreateImage", ("LOCALHOST:4566",), True),
        ("http://localhost:4566/?Action=CreateImage", ("localhost:1234",), False),
        ("http://localhost:4566/?Action=CreateImage", (), False),
        ("https://ec2.corp.internal:8443/?Action=CreateImage", ("*.internal",), True),
        ("https://ec2.corp.internal:8443/?Action=CreateImage", ("*.internal:8443",), True),
        ("https://ec2.corp.example/?Action=CreateImage", ("*.internal",), False),
        ("https://user:secret@mock.test/?Action=CreateImage", ("mock.test",), True),
    ],
)
def test_ec2_host_option_adds_hosts(uri: str, hosts: tuple[str, ...], is_call: bool) -> None:
    assert len(_workflows.calls(http_task("t", uri), hosts).calls) == is_call


def test_no_call_among_http_tasks_says_so() -> None:
    workflow = {"tasks": [http_task("a", "https://example.com/"), http_task("b", "https://x/")]}
    found = _workflows.calls(workflow)
    assert (found.calls, found.http_tasks) == ([], 2)
    assert found.describe_none() == (
        "no CreateImage call: 2 HTTP tasks, none to an EC2 host with Action CreateImage "
        "(--ec2-host adds hosts)"
    )
    assert _workflows.calls({"tasks": [{"type": "SIMPLE"}]}).describe_none() == (
        "no CreateImage call: no HTTP task"
    )


# ----------------------------------------------------------------------------------- action


@pytest.mark.parametrize(
    ("uri", "body"),
    [
        (CREATE, PARAMS),
        (EC2, {"Action": "CreateImage", **PARAMS}),
        (EC2, "Action=CreateImage&Version=2016-11-15&InstanceId=i-1"),
        (EC2 + "#Action=CreateImage", {"InstanceId": "i-1"}),  # only in the fragment
        (EC2 + "?Action=createimage", {"InstanceId": "i-1"}),  # wrong case: linted
        (EC2, {"Action": "CREATEIMAGE"}),
        (EC2, PARAMS),  # no Action anywhere, but InstanceId and Name: it forgot it
        (EC2, "InstanceId=i-1&Name=nightly"),
    ],
    ids=["query", "body", "form-body", "fragment", "lowercase", "uppercase", "none", "none-form"],
)
def test_a_create_image_action_is_a_call(uri: str, body: Any) -> None:
    assert len(_workflows.calls(http_task("t", uri, body=body)).calls) == 1


@pytest.mark.parametrize(
    ("uri", "body"),
    [
        (EC2 + "?Action=DescribeImages", PARAMS),
        (EC2, {"Action": "DescribeImages", **PARAMS}),
        (EC2, "Action=RunInstances&InstanceId=i-1&Name=a"),
        (EC2 + "?Action=${workflow.input.action}", PARAMS),
        (EC2 + "#Action=DescribeImages", PARAMS),
        (EC2, {"InstanceId": "i-1"}),  # no Action, and no Name either
        (EC2, None),
    ],
    ids=["query", "body", "form-body", "placeholder", "fragment", "instance-only", "no-body"],
)
def test_another_action_is_no_call(uri: str, body: Any) -> None:
    assert _workflows.calls(http_task("t", uri, body=body)).calls == []


# ----------------------------------------------------------------------- conductor mapping


def test_conductor_fields_become_the_http_request() -> None:
    task = http_task(
        "t", contentType="application/x-www-form-urlencoded", accept="text/xml", readTimeOut=5
    )
    task["inputParameters"]["http_request"]["headers"] = {"X-Amz-Date": "20240101T000000Z"}
    assert only_call(task).request == {
        "url": CREATE,
        "method": "POST",
        "headers": {
            "X-Amz-Date": "20240101T000000Z",
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "text/xml",
        },
        "body": PARAMS,
    }
    assert only_call(task).form == "http"


def test_a_header_written_wins_over_content_type_and_accept() -> None:
    task = http_task("t", contentType="application/json", accept="application/json")
    task["inputParameters"]["http_request"]["headers"] = {
        "content-type": "application/x-www-form-urlencoded",
        "ACCEPT": "text/xml",
    }
    headers = only_call(task).request["headers"]
    assert headers == {"content-type": "application/x-www-form-urlencoded", "ACCEPT": "text/xml"}


def test_conductor_default_content_type_is_sent_and_has_no_method_unless_given() -> None:
    task = http_task("t")
    del task["inputParameters"]["http_request"]["method"]
    call = only_call(task)
    headers = {"Content-Type": "application/json"}
    assert call.request == {"url": CREATE, "headers": headers, "body": PARAMS}
    assert call.locate("/headers/Content-Type") == "/inputParameters/http_request"


def test_orkes_style_input_parameters_are_the_request() -> None:
    task = {
        "taskReferenceName": "o",
        "type": "HTTP",
        "inputParameters": {
            "uri": CREATE,
            "method": "POST",
            "contentType": "text/plain",
            "body": "Name=a",
        },
    }
    call = only_call(task)
    assert call.pointer == "/inputParameters"
    assert call.request["headers"] == {"Content-Type": "text/plain"}
    assert call.locate("/headers/Content-Type") == "/inputParameters/contentType"


def test_locate_maps_http_paths_to_the_task() -> None:
    body = {
        "Action": "CreateImage",
        **PARAMS,
        "TagSpecifications": [
            {"ResourceType": "image", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "aws:b"}]}
        ],
    }
    task = http_task("t", EC2 + "?Version=2016-11-15", body=body, accept="text/xml")
    task["inputParameters"]["http_request"]["headers"] = {"x-amz-date": "now"}
    call = only_call(task)
    ptr = "/inputParameters/http_request"
    assert {
        path: call.locate(path)
        for path in [
            "/method",
            "/headers/X-Amz-Date",
            "/headers/Accept",
            "/headers/Content-Type",
            "/headers/Authorization",
            "/query/Action",
            "/query/Version",
            "/body/TagSpecifications/0/Tags/1/Key",
            "/body/Description",
            "/body/BlockDeviceMappings/0/Ebs",
            "/body/TagSpecifications/0/Tags/5/Key",
            "",
        ]
    } == {
        "/method": ptr + "/method",
        "/headers/X-Amz-Date": ptr + "/headers/x-amz-date",  # as the file spells it
        "/headers/Accept": ptr + "/accept",
        "/headers/Content-Type": ptr,  # the engine's default: the file does not write it
        "/headers/Authorization": ptr + "/headers/Authorization",
        "/query/Action": ptr + "/body/Action",
        "/query/Version": ptr + "/uri",
        "/body/TagSpecifications/0/Tags/1/Key": ptr + "/body/TagSpecifications/0/Tags/1/Key",
        "/body/Description": ptr + "/body/Description",  # missing: where it would be
        "/body/BlockDeviceMappings/0/Ebs": ptr + "/body",  # nearest written ancestor
        "/body/TagSpecifications/0/Tags/5/Key": ptr + "/body/TagSpecifications/0/Tags",
        "": ptr,
    }


def test_locate_of_flat_wire_names_and_form_bodies_is_the_nearest_written_member() -> None:
    flat = only_call(http_task("t", body={**PARAMS, "TagSpecification.1.Tag.1.Key": "aws:x"}))
    ptr = "/inputParameters/http_request"
    assert flat.locate("/body/TagSpecifications/0/Tags/0/Key") == ptr + "/body"
    form = only_call(http_task("t", EC2, body="Action=CreateImage&InstanceId=i-1&Name=a"))
    assert form.locate("/body/Name") == ptr + "/body"
    assert form.locate("/query/Action") == ptr + "/body"
    assert form.locate("/query/Version") == ptr + "/uri"


def test_located_violations_of_the_validator_point_into_the_file() -> None:
    body = {
        "InstanceId": "i-0123456789abcdef0",
        "TagSpecifications": [
            {"ResourceType": "image", "Tags": [{"Key": "a", "Value": "b"}, {"Key": "aws:x"}]}
        ],
    }
    call = only_call({"tasks": [{"type": "SIMPLE"}, http_task("t", body=body)]})
    located = {v.rule: call.locate(v.path) for v in validate(call.request, input=call.form)}
    ptr = "/tasks/1/inputParameters/http_request"
    assert located["name.missing"] == ptr + "/body/Name"
    assert located["tag.key"] == ptr + "/body/TagSpecifications/0/Tags/1/Key"
    assert located["header.content-type.media-type"] == ptr


# -------------------------------------------------------------------------- step functions


def test_dollar_keys_become_placeholders_at_any_depth() -> None:
    parameters = {
        "InstanceId.$": "$.instance",
        "Name.$": "States.Format('nightly-{}', $.date)",
        "NoReboot": True,
        "TagSpecifications": [
            {
                "ResourceType": "image",
                "Tags": [{"Key": "date", "Value.$": "$$.Execution.StartTime"}],
            }
        ],
    }
    call = only_call(machine({"Backup": sdk_state(Parameters=parameters)}))
    assert call.form == "json"
    assert call.request == {
        "InstanceId": Placeholder("$.instance"),
        "Name": Placeholder("States.Format('nightly-{}', $.date)"),
        "NoReboot": True,
        "TagSpecifications": [
            {
                "ResourceType": "image",
                "Tags": [{"Key": "date", "Value": Placeholder("$$.Execution.StartTime")}],
            }
        ],
    }
    ptr = "/States/Backup/Parameters"
    assert call.locate("/body/Name") == ptr + "/Name.$"
    assert call.locate("/body/TagSpecifications/0/Tags/0/Value") == (
        ptr + "/TagSpecifications/0/Tags/0/Value.$"
    )
    assert call.locate("/body/NoReboot") == ptr + "/NoReboot"
    assert call.locate("/body/Description") == ptr + "/Description"
    assert call.locate("/body/BlockDeviceMappings/0") == ptr


def test_jsonata_reads_arguments_as_written() -> None:
    arguments = {"InstanceId": "{% $states.input.id %}", "Name": "nightly", "X.$": "kept"}
    top = machine({"Backup": sdk_state(Arguments=arguments)}, QueryLanguage="JSONata")
    call = only_call(top)
    assert call.pointer == "/States/Backup/Arguments"
    assert call.request == arguments  # no "Key.$" in JSONata; {% %} is the validator's
    assert call.locate("/body/Name") == "/States/Backup/Arguments/Name"


def test_the_query_language_of_the_state_or_the_machine_chooses_arguments() -> None:
    state = sdk_state(QueryLanguage="JSONata", Arguments={"Name": "a"})
    assert only_call(machine({"S": state})).pointer == "/States/S/Arguments"
    inherited = machine({"Fan": {"Type": "Parallel", "Branches": [machine({"S": sdk_state()})]}})
    inherited["QueryLanguage"] = "JSONata"
    call = only_call(inherited)  # no Arguments written: a request missing everything
    assert (call.pointer, call.request) == ("/States/Fan/Branches/0/States/S/Arguments", {})
    overridden = machine({"S": sdk_state(QueryLanguage="JSONPath")}, QueryLanguage="JSONata")
    assert only_call(overridden).pointer == "/States/S/Parameters"


def test_whole_dynamic_arguments_or_parameters_are_one_placeholder() -> None:
    arguments = sdk_state(Arguments="{% $states.input.args %}")
    del arguments["Parameters"]
    call = only_call(arguments)
    assert (call.pointer, call.request) == ("/Arguments", Placeholder("{% $states.input.args %}"))
    assert call.locate("/body/Name") == "/Arguments"
    parameters = sdk_state(**{"Parameters.$": "$.image"})
    del parameters["Parameters"]
    call = only_call(parameters)
    assert (call.pointer, call.request) == ("/Parameters.$", Placeholder("$.image"))


# ------------------------------------------------------------------------------------- YAML

STATE_MACHINE_YAML = """\
Comment: nightly images
StartAt: Backup
States:
  Backup:
    Type: Task
    Resource: arn:aws:states:::aws-sdk:ec2:createImage
    Parameters:
      InstanceId.$: $.instance
      Name: nightly-2024-01-01
      Description: 2024-01-01
      TagSpecifications:
        - ResourceType: image
          Tags:
            - Key: when
              Value: 2024-01-01T00:00:00Z
    End: true
"""


def test_yaml_is_read_with_dates_kept_as_strings(tmp_path: Path) -> None:
    read = _inputs.read(write(tmp_path, "nightly.asl.yaml", STATE_MACHINE_YAML))
    assert (read.form, read.yaml) == ("workflow", True)
    call = only_call(read.request)
    assert call.request["Description"] == "2024-01-01"
    assert call.request["TagSpecifications"][0]["Tags"][0]["Value"] == "2024-01-01T00:00:00Z"
    explicit = _inputs.read(write(tmp_path, "p.yml", "Name: !!timestamp 2024-01-01\n"))
    assert (explicit.form, explicit.request) == ("auto", {"Name": "2024-01-01"})


def test_yaml_line_numbers_follow_the_file(tmp_path: Path) -> None:
    read = _inputs.read(write(tmp_path, "nightly.asl.yml", STATE_MACHINE_YAML))
    call = only_call(read.request)
    lines = _json_lines.member_lines(read)
    assert lines[("States", "Backup", "Parameters", "InstanceId.$")] == 8
    line = {
        p: _json_lines.line_of(read, call.locate(p), lines)
        for p in [
            "/body/InstanceId",
            "/body/Description",
            "/body/TagSpecifications/0/Tags/0/Value",
            "/body/NoReboot",
            "/body/BlockDeviceMappings/0/Ebs",
        ]
    }
    assert line == {
        "/body/InstanceId": 8,
        "/body/Description": 10,
        "/body/TagSpecifications/0/Tags/0/Value": 15,
        "/body/NoReboot": 7,  # missing: its parent's line
        "/body/BlockDeviceMappings/0/Ebs": 7,
    }


CONDUCTOR_JSON = """\
{
  "tasks": [
    {
      "type": "HTTP",
      "inputParameters": {
        "uri": "URI",
        "body": {"InstanceId": "i-1"}
      }
    }
  ]
}
"""


def test_json_workflow_line_numbers_take_file_pointers(tmp_path: Path) -> None:
    text = CONDUCTOR_JSON.replace("URI", CREATE)
    read = _inputs.read(write(tmp_path, "flow.json", text))
    assert read.form == "workflow"
    call = only_call(read.request)
    lines = _json_lines.member_lines(read)
    assert _json_lines.line_of(read, call.locate("/body/Name"), lines) == 7
    assert _json_lines.line_of(read, call.locate("/query/Action"), lines) == 6
    assert _json_lines.line_of(read, call.locate("/headers/Content-Type"), lines) == 5


def test_yaml_parameters_keep_their_reading_and_lines(tmp_path: Path) -> None:
    read = _inputs.read(write(tmp_path, "p.yaml", "InstanceId: i-1\n\nName: a\n"))
    assert (read.form, read.request) == ("auto", {"InstanceId": "i-1", "Name": "a"})
    lines = _json_lines.member_lines(read)
    assert _json_lines.line_of(read, "/body/Name", lines) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a: [1, 2\nb: 3\n",
            "not valid YAML (expected ',' or ']', but got ':' at line 2 column 2)",
        ),
        ("a: b\n\tc: d\n", "at line 2 column 1)"),
        (
            "a: 1\n---\nb: 2\n",
            "(expected a single document in the stream, but found another document at line 2",
        ),
        ("a: \x07\n", "not valid YAML (unacceptable character #x0007"),
    ],
)
def test_bad_yaml_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.asl.yaml", text)
    with pytest.raises(_inputs.InputError) as raised:
        _inputs.read(path)
    assert str(raised.value).startswith(f"{path}: not valid YAML (")
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_yaml_aliases_that_repeat_too_much_are_refused(tmp_path: Path) -> None:
    anchors = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        anchors.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    for text in ["\n".join(anchors) + "\n", "&a [*a]\n"]:
        with pytest.raises(_inputs.InputError, match="YAML aliases repeat too much"):
            _inputs.read(write(tmp_path, "laughs.yaml", text))
    few = "base: &b {InstanceId: i-1}\nuse: [*b, *b]\n"
    assert _inputs.read(write(tmp_path, "few.yaml", few)).request["use"][1] == {"InstanceId": "i-1"}


def test_input_workflow_reads_yaml_from_any_text_and_refuses_a_request(tmp_path: Path) -> None:
    path = write(tmp_path, "machine.txt", STATE_MACHINE_YAML)
    assert _inputs.read(path, "workflow").form == "workflow"
    with pytest.raises(_inputs.InputError, match="not a workflow definition"):
        _inputs.read(str(ROOT / "examples/valid/minimal.json"), "workflow")


def test_a_directory_yields_state_machines_in_yaml_but_no_other_yaml(tmp_path: Path) -> None:
    for name in ["a.asl.yaml", "b.asl.yml", "c.asl.json", "ci.yaml", "d.yml", "e.json"]:
        write(tmp_path, name, "{}")
    found = [Path(p).name for p in _inputs.expand([str(tmp_path)])]
    assert found == ["a.asl.yaml", "b.asl.yml", "c.asl.json", "e.json"]


def test_calls_do_not_change_the_document() -> None:
    document = machine({"Backup": sdk_state(Parameters={"Name.$": "$.n"})})
    before = copy.deepcopy(document)
    _workflows.calls(document)
    assert document == before
