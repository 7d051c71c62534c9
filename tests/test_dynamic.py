"""Placeholders: a value known only at run time is checked on what is known, and the rest is one
``dynamic`` info that never fails (``validate(..., placeholders=...)``)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from createimage_contract._lint import placeholders
from createimage_contract.schema import DYNAMIC, Placeholder, Violation, is_valid, validate

PLACEHOLDERS = placeholders()
INSTANCE = "i-1234567890abcdef0"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
URL = "https://ec2.us-east-1.amazonaws.com/"


def found(request: Any, **options: Any) -> list[tuple[str, str, str]]:
    """(severity, rule, path) of each violation, with our placeholders."""
    options.setdefault("placeholders", PLACEHOLDERS)
    return [(v.severity, v.rule, v.path) for v in validate(request, **options)]


def params(**members: Any) -> dict[str, Any]:
    return {"InstanceId": INSTANCE, "Name": "backup", **members}


@pytest.mark.parametrize(
    "value",
    [
        "${workflow.input.instanceId}",
        "{% $states.input.instance %}",
        "{{ instance_id }}",
        "${{ inputs.instance }}",
        "i-${workflow.input.suffix}",
    ],
)
def test_a_placeholder_instance_id_is_dynamic_not_malformed(value: str) -> None:
    assert found(params(InstanceId=value)) == [("info", DYNAMIC, "/body/InstanceId")]


def test_without_placeholders_the_same_value_is_an_error() -> None:
    assert found(params(InstanceId="${workflow.input.id}"), placeholders=None) == [
        ("error", "instance-id.malformed", "/body/InstanceId")
    ]


def test_the_info_says_what_was_written_and_what_is_left_to_run_time() -> None:
    [info] = validate(params(Name="backup-${workflow.input.date}"), placeholders=PLACEHOLDERS)
    assert info.severity == "info" and info.code is None and info.status is None
    assert "'backup-${workflow.input.date}'" in info.message
    assert "its literal part is checked" in info.message
    assert is_valid([info])


def test_a_literal_character_outside_the_allowed_set_is_still_an_error() -> None:
    violations = validate(params(Name="backup!${workflow.input.date}"), placeholders=PLACEHOLDERS)
    assert [(v.severity, v.rule) for v in violations] == [
        ("error", "name.charset"),
        ("info", DYNAMIC),
    ]
    assert "'!'" in violations[0].message
    assert violations[0].code == "InvalidAMIName.Malformed"


@pytest.mark.parametrize(("literal", "broken"), [(128, False), (129, True)])
def test_a_literal_part_longer_than_the_maximum_is_still_an_error(
    literal: int, broken: bool
) -> None:
    name = "n" * literal + "${workflow.input.date}"
    rules = [rule for _, rule, _ in found(params(Name=name))]
    assert rules == (["name.length", DYNAMIC] if broken else [DYNAMIC])


def test_a_short_literal_is_not_too_short_the_placeholder_may_fill_it() -> None:
    assert found(params(Name="a${x}")) == [("info", DYNAMIC, "/body/Name")]


def test_a_forbidden_prefix_before_the_first_placeholder_is_still_an_error() -> None:
    tags = [{"ResourceType": "image", "Tags": [{"Key": "aws:${k}"}, {"Key": "${k}aws:"}]}]
    assert found(params(TagSpecifications=tags)) == [
        ("error", "tag.key", "/body/TagSpecifications/0/Tags/0/Key"),
        ("info", DYNAMIC, "/body/TagSpecifications/0/Tags/0/Key"),
        ("info", DYNAMIC, "/body/TagSpecifications/0/Tags/1/Key"),
    ]


def test_an_enum_a_boolean_and_an_integer_may_be_placeholders() -> None:
    ebs = {"VolumeType": "gp${x}", "VolumeSize": "${size}"}
    request = params(NoReboot="${y}", BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": ebs}])
    assert found(request) == [
        ("info", DYNAMIC, "/body/NoReboot"),
        ("info", DYNAMIC, "/body/BlockDeviceMappings/0/Ebs/VolumeType"),
        ("info", DYNAMIC, "/body/BlockDeviceMappings/0/Ebs/VolumeSize"),
    ]


def test_a_placeholder_completing_an_enum_value_does_not_make_it_one() -> None:
    # "io1${x}" is not io1: the size range of io1 (4 GiB at least) must not be applied to it.
    ebs = {"VolumeType": "io1${x}", "VolumeSize": 2}
    request = params(BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": ebs}])
    assert found(request) == [("info", DYNAMIC, "/body/BlockDeviceMappings/0/Ebs/VolumeType")]


def test_a_whole_structure_placeholder_is_dynamic() -> None:
    request = params(TagSpecifications=Placeholder("$.tags"), InstanceId=Placeholder("$.id"))
    assert found(request) == [
        ("info", DYNAMIC, "/body/InstanceId"),
        ("info", DYNAMIC, "/body/TagSpecifications"),
    ]


def test_whole_parameters_that_are_one_placeholder_are_dynamic() -> None:
    assert found(Placeholder("$.parameters"), input="json") == [("info", DYNAMIC, "/body")]
    assert found("{% $states.input.args %}", input="json") == [("info", DYNAMIC, "/body")]


def test_an_unknown_parameter_stays_unknown_whatever_its_value() -> None:
    assert found(params(Nmae="${workflow.input.name}")) == [
        ("error", "parameter.unknown", "/body/Nmae")
    ]


def test_a_parameter_whose_name_is_a_placeholder_is_dynamic() -> None:
    assert found(params(**{"${workflow.input.param}": "x"})) == [
        ("info", DYNAMIC, "/body/${workflow.input.param}")
    ]


def test_placeholders_in_a_form_body_even_with_the_characters_a_form_splits_on() -> None:
    body = "Action=CreateImage&Version=2016-11-15&InstanceId={% $a & $b = 1 %}&Name=backup"
    request = {"url": URL, "method": "POST", "headers": FORM_HEADERS, "body": body}
    assert found(request) == [("info", DYNAMIC, "/body/InstanceId")]


@pytest.mark.parametrize(
    ("field", "unknown"),
    [("body", "/body"), ("headers", "/headers"), ("url", "/url"), ("method", "/method")],
)
def test_an_http_field_that_is_one_placeholder_leaves_its_parts_unknown(
    field: str, unknown: str
) -> None:
    request: dict[str, Any] = {
        "url": URL + "?Action=CreateImage&Version=2016-11-15",
        "method": "POST",
        "headers": FORM_HEADERS,
        "body": f"InstanceId={INSTANCE}&Name=backup",
        field: "${workflow.input.x}",
    }
    assert found(request) == [("info", DYNAMIC, unknown)]


def test_a_dynamic_body_still_lets_the_method_and_headers_be_checked() -> None:
    request = {"url": URL, "method": "PUT", "headers": {}, "body": "${workflow.input.body}"}
    assert found(request) == [
        ("error", "http.method", "/method"),
        ("error", "header.content-type.missing", "/headers/Content-Type"),
        ("info", DYNAMIC, "/body"),
    ]


def test_a_request_holding_the_marks_own_characters_is_checked_as_written() -> None:
    # The private-use characters that stand for placeholders, already in the request: nothing
    # is taken for a placeholder, so nothing can hide.
    assert found(params(Name="\U000f0000${x}")) == [("error", "name.charset", "/body/Name")]


def test_a_custom_placeholder_syntax() -> None:
    custom = placeholders([r"<<[^>]*>>"])
    assert found(params(InstanceId="<<instance>>"), placeholders=custom) == [
        ("info", DYNAMIC, "/body/InstanceId")
    ]
    assert found(params(InstanceId="<<instance>>"))[0][1] == "instance-id.malformed"


def test_without_placeholders_a_valid_request_has_no_info() -> None:
    assert found(params()) == []


def test_dynamic_violations_read_as_violations() -> None:
    [info] = validate(params(Name="${n}"), placeholders=re.compile(r"\$\{[^}]*\}"))
    assert isinstance(info, Violation)
    assert info.as_dict()["severity"] == "info"
