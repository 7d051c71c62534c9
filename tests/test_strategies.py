"""The strategies: valid, invalid and DryRun requests, exactly as labelled, reaching every limit."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from params_by_hand import without_empty

from createimage_contract import Expectation, from_form, rules, to_form, validate
from createimage_contract.strategies import (
    Example,
    breakable_rules,
    dry_run_requests,
    invalid_requests,
    requests,
    valid_requests,
)

INSTANCE = "i-0123456789abcdef0"
FAST = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FAST
@given(valid_requests())
def test_valid_examples_pass_and_round_trip(example: Example) -> None:
    assert example.params is not None
    assert validate(example.params) == [] and validate(example.form) == []
    assert example.form == to_form(example.params)
    assert from_form(example.form) == without_empty(example.params)
    assert example.expect == Expectation(200, None, None)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(valid_requests())
def test_valid_forms_are_botocore_forms(botocore_form: Any, example: Example) -> None:
    assert example.params is not None
    assert botocore_form(example.params) == example.form


@FAST
@given(dry_run_requests())
def test_dry_run_examples_expect_412(example: Example) -> None:
    assert validate(example.form) == []
    assert example.params is not None and example.params["DryRun"] is True
    assert example.expect == Expectation(412, "DryRunOperation", "dry-run")


@pytest.mark.parametrize("rule_id", breakable_rules())
def test_invalid_examples_break_exactly_their_rule(rule_id: str) -> None:
    @FAST
    @given(invalid_requests(rule_id))
    def check(example: Example) -> None:
        broken = rules()[rule_id]
        assert example.expect == Expectation(broken.status, broken.code, rule_id)
        assert {v.rule for v in validate(example.form)} == {rule_id}
        if example.params is not None:
            assert to_form(example.params) == example.form
            assert {v.rule for v in validate(example.params)} == {rule_id}

    check()


@pytest.mark.parametrize(
    ("rule_id", "has_params"),
    [
        ("boolean.invalid", False),
        ("parameter.unknown", False),
        ("action.missing", False),
        ("version.unsupported", False),
        ("name.length", True),
        ("tag.limit", True),
    ],
)
def test_params_are_given_where_boto3_can_say_it(rule_id: str, has_params: bool) -> None:
    example = find(invalid_requests(rule_id), lambda _: True, settings=settings(database=None))
    assert (example.params is not None) is has_params


def test_service_rules_need_the_service_state() -> None:
    assert "instance-id.not-found" not in breakable_rules()
    with pytest.raises(ValueError, match="instance_id"):
        invalid_requests("instance-id.not-found")
    with pytest.raises(ValueError, match="taken_names"):
        invalid_requests("name.duplicate")
    with pytest.raises(ValueError, match="lint checks it"):
        invalid_requests("header.x-amz-date")
    with pytest.raises(ValueError, match="dry_run_requests"):
        invalid_requests("dry-run")
    with pytest.raises(ValueError, match=re.escape("no rule 'name.lenght'")):
        invalid_requests("name.lenght")


@FAST
@given(invalid_requests("instance-id.not-found", instance_id=INSTANCE))
def test_unknown_instances_are_well_formed_and_not_the_one_held(example: Example) -> None:
    assert example.params is not None and example.params["InstanceId"] != INSTANCE
    assert validate(example.form) == []
    assert example.expect.code == "InvalidInstanceID.NotFound"


def test_an_unknown_instance_id_can_be_given() -> None:
    example = find(
        invalid_requests(
            "instance-id.not-found", instance_id=INSTANCE, unknown_instance_id="i-0badbad0"
        ),
        lambda _: True,
    )
    assert example.params is not None and example.params["InstanceId"] == "i-0badbad0"


@FAST
@given(invalid_requests("name.duplicate", instance_id=INSTANCE, taken_names=["taken-1", "taken-2"]))
def test_duplicate_names_come_from_the_taken_ones(example: Example) -> None:
    assert example.params is not None and example.params["Name"] in {"taken-1", "taken-2"}
    assert example.expect.rule == "name.duplicate"


@FAST
@given(valid_requests(instance_id=INSTANCE, taken_names=["000", "abc"]))
def test_valid_requests_use_the_instance_and_avoid_taken_names(example: Example) -> None:
    assert example.params is not None
    assert example.params["InstanceId"] == INSTANCE and example.params["Name"] not in {"000", "abc"}
    assert example.expect.status == 200


def test_unique_names_are_unique_within_a_run() -> None:
    names: list[str] = []

    @settings(max_examples=300, database=None, phases=[Phase.generate], deadline=None)
    @given(valid_requests(unique_names=True))
    def collect(example: Example) -> None:
        assert example.params is not None
        names.append(example.params["Name"])

    collect()
    assert len(names) == len(set(names)) > 100
    assert all(validate({"InstanceId": INSTANCE, "Name": name}) == [] for name in names)


def test_a_valid_example_shrinks_to_the_smallest_request() -> None:
    example = find(valid_requests(), lambda _: True, settings=settings(database=None))
    assert example.params == {"InstanceId": "i-00000000", "Name": "000"}


@pytest.mark.parametrize(
    ("rule_id", "broken"),
    [
        ("version.missing", ""),
        ("name.length", "&Name="),
        ("boolean.invalid", "&NoReboot="),
        ("tag.key", "&TagSpecification.1.ResourceType=image&TagSpecification.1.Tag.1.Key="),
        ("ebs.volume-size-range", "&BlockDeviceMapping.1.Ebs.VolumeType=standard"),
    ],
)
def test_an_invalid_example_shrinks_to_what_a_person_can_read(rule_id: str, broken: str) -> None:
    example = find(
        invalid_requests(rule_id),
        lambda _: True,
        settings=settings(database=None, derandomize=True),
    )
    assert len(example.form) < 160, example.form
    assert broken in example.form


def test_coverage_over_a_few_thousand_examples() -> None:
    produced: Counter[str] = Counter()
    lengths: dict[str, set[int]] = {
        "Name": set(),
        "Description": set(),
        "Key": set(),
        "Value": set(),
        "Tags": set(),
    }

    @settings(
        max_examples=3000,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(requests())
    def collect(example: Example) -> None:
        produced[example.expect.rule or "valid"] += 1
        params = example.params if example.params is not None else from_form(example.form)
        for name in ("Name", "Description"):
            if isinstance(params.get(name), str):
                lengths[name].add(len(params[name]))
        for specification in params.get("TagSpecifications", []):
            if isinstance(specification, dict) and isinstance(specification.get("Tags"), list):
                lengths["Tags"].add(len(specification["Tags"]))
                for tag in specification["Tags"]:
                    if isinstance(tag, dict):
                        lengths["Key"].update(
                            {len(tag["Key"])} if isinstance(tag.get("Key"), str) else set()
                        )
                        lengths["Value"].update(
                            {len(tag["Value"])} if isinstance(tag.get("Value"), str) else set()
                        )

    collect()
    print("\n" + coverage_table(produced))
    assert set(produced) == {*breakable_rules(), "dry-run", "valid"}
    assert {2, 3, 128, 129} <= lengths["Name"]
    assert {0, 255, 256} <= lengths["Description"]
    assert {0, 1, 128, 129} <= lengths["Key"]
    assert {0, 256, 257} <= lengths["Value"]
    assert {0, 50, 51} <= lengths["Tags"]


def coverage_table(produced: Counter[str]) -> str:
    width = max(map(len, produced))
    return "\n".join(f"{rule:<{width}}  {count:>5}" for rule, count in produced.most_common())
