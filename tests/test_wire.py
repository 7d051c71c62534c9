"""The EC2 Query wire format: ``to_form`` is botocore's serializer byte for byte, and back."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from params_by_hand import valid_params, without_empty

from createimage_contract import FormatError, from_form, to_form, validate

FACTS_EXAMPLE = (
    "Action=CreateImage&Version=2016-11-15&InstanceId=i-1234567890abcdef0&Name=my-ami+%28v1%29"
    "&Description=test+image&NoReboot=true&DryRun=false"
    "&BlockDeviceMapping.1.DeviceName=%2Fdev%2Fsdh&BlockDeviceMapping.1.Ebs.VolumeSize=100"
    "&BlockDeviceMapping.1.Ebs.VolumeType=io1&BlockDeviceMapping.1.Ebs.DeleteOnTermination=true"
    "&BlockDeviceMapping.1.Ebs.Iops=3000&BlockDeviceMapping.2.DeviceName=%2Fdev%2Fsdc"
    "&BlockDeviceMapping.2.NoDevice=&TagSpecification.1.ResourceType=image"
    "&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web"
    "&TagSpecification.2.ResourceType=snapshot&TagSpecification.2.Tag.1.Key=team"
    "&TagSpecification.2.Tag.1.Value=ops"
)


def test_facts_example_round_trips() -> None:
    params = from_form(FACTS_EXAMPLE)
    assert params["BlockDeviceMappings"][0]["Ebs"] == {
        "VolumeSize": 100,
        "VolumeType": "io1",
        "DeleteOnTermination": True,
        "Iops": 3000,
    }
    assert params["BlockDeviceMappings"][1] == {"DeviceName": "/dev/sdc", "NoDevice": ""}
    assert params["NoReboot"] is True and params["DryRun"] is False
    assert to_form(params) == FACTS_EXAMPLE
    assert validate(FACTS_EXAMPLE) == []


def test_facts_example_is_what_botocore_sends(botocore_form: Any) -> None:
    assert botocore_form(from_form(FACTS_EXAMPLE)) == FACTS_EXAMPLE


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(valid_params())
def test_to_form_is_botocore_byte_for_byte(botocore_form: Any, params: dict[str, Any]) -> None:
    assert to_form(params) == botocore_form(params)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_params())
def test_from_form_inverts_to_form(params: dict[str, Any]) -> None:
    # The wire has no way to say "empty list" or "empty structure": botocore sends nothing.
    assert from_form(to_form(params)) == without_empty(params)
    assert validate(params) == []


@settings(max_examples=100)
@given(valid_params())
def test_from_form_inverts_to_form_exactly_without_empty_containers(params: dict[str, Any]) -> None:
    params = without_empty(params)
    assert from_form(to_form(params)) == params


@pytest.mark.parametrize(
    ("body", "params"),
    [
        ("Name=a+b%2Fc&NoReboot=false", {"Name": "a b/c", "NoReboot": False}),
        ("NoReboot=TRUE&DryRun=1", {"NoReboot": "TRUE", "DryRun": "1"}),
        (
            "BlockDeviceMapping.1.Ebs.VolumeSize=-5",
            {"BlockDeviceMappings": [{"Ebs": {"VolumeSize": -5}}]},
        ),
        (
            "BlockDeviceMapping.1.Ebs.VolumeSize=abc",
            {"BlockDeviceMappings": [{"Ebs": {"VolumeSize": "abc"}}]},
        ),
        (
            "BlockDeviceMapping.1.Ebs.Iops=" + "9" * 30,
            {"BlockDeviceMappings": [{"Ebs": {"Iops": "9" * 30}}]},
        ),
        (
            "TagSpecification.2.ResourceType=snapshot&TagSpecification.1.ResourceType=image",
            {"TagSpecifications": [{"ResourceType": "image"}, {"ResourceType": "snapshot"}]},
        ),
        (
            "TagSpecification.1.Tag.1.Key=a&TagSpecification.1.Tag.3.Key=c",
            {"TagSpecifications": [{"Tags": [{"Key": "a"}, {"Key": "c"}]}]},
        ),
        ("TagSpecification.1.Tag.0.Key=a", {"TagSpecifications": [{"Tag.0.Key": "a"}]}),
        ("TagSpecification.01.ResourceType=image", {"TagSpecification.01.ResourceType": "image"}),
        ("TagSpecifications.1.ResourceType=image", {"TagSpecifications.1.ResourceType": "image"}),
        ("Foo.Bar=1&Name.1=x", {"Foo.Bar": "1", "Name.1": "x"}),
        ("BlockDeviceMapping.1=x", {"BlockDeviceMappings": ["x"]}),
        (
            "BlockDeviceMapping.1.Ebs=x&BlockDeviceMapping.1.Ebs.VolumeSize=1",
            {"BlockDeviceMappings": [{"Ebs": "x", "Ebs.VolumeSize": "1"}]},
        ),
        ("BlockDeviceMapping.1.NoDevice", {"BlockDeviceMappings": [{"NoDevice": ""}]}),
        ("Name=first&Name=second", {"Name": "second"}),
        ("Action=CreateImage&Version=2016-11-15", {}),
        ("", {}),
    ],
)
def test_from_form_reads_what_it_can_and_keeps_the_rest(body: str, params: dict[str, Any]) -> None:
    assert from_form(body) == params


def test_from_form_takes_bytes() -> None:
    assert from_form(b"Name=caf%C3%A9") == {"Name": "caf\u00e9"}
    assert from_form("Name=caf\u00e9".encode()) == {"Name": "caf\u00e9"}


@pytest.mark.parametrize("body", [b"Name=\xff", "Name=%ff", "Name=%C3"])
def test_from_form_refuses_what_is_not_utf8(body: str | bytes) -> None:
    with pytest.raises(FormatError, match="UTF-8"):
        from_form(body)


def test_to_form_writes_invalid_parameters_too() -> None:
    # Invalid requests must still be expressible on the wire, for the fuzzer and for lint.
    form = to_form({"Name": 12, "NoReboot": "maybe", "Foo": {"Bar": [1, None]}})
    assert form == (
        "Action=CreateImage&Version=2016-11-15&Name=12&NoReboot=maybe&Foo.Bar.1=1&Foo.Bar.2="
    )


def test_to_form_refuses_what_is_not_an_object() -> None:
    with pytest.raises(FormatError, match="object"):
        to_form(["Name", "x"])  # type: ignore[arg-type]
