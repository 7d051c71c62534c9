"""Near misses: derived from each constraint kind of the schema, each breaking exactly its rule,
and on the passing side every limit reached exactly."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import parse_qsl

import pytest

from createimage_contract import rule, validate
from createimage_contract.schema import Constraint, compile_pattern, contract
from createimage_contract.strategies import (
    Example,
    boundary_requests,
    breakable_rules,
    name_source,
    near_misses,
)
from createimage_contract.strategies._kinds import misses
from createimage_contract.strategies._near import Miss
from createimage_contract.strategies._patterns import (
    every_match,
    other_counts,
    parse,
    render,
)

INSTANCE = "i-0123456789abcdef0"
NEAR = near_misses(instance_id=INSTANCE, unique_names=name_source(0))
BOUNDARIES = boundary_requests(instance_id=INSTANCE, unique_names=name_source(9000))


def fields(example: Example) -> dict[str, str]:
    return dict(parse_qsl(example.form, keep_blank_values=True))


def values_of(rule_id: str, suffix: str) -> list[str]:
    """The values the near misses of ``rule_id`` send in fields whose wire name ends so."""
    return [
        value
        for example in NEAR
        if example.near_miss is not None and example.near_miss.rule == rule_id
        for name, value in fields(example).items()
        if name.endswith(suffix)
    ]


def kinds_of(rule_id: str) -> set[str]:
    return {e.near_miss.kind for e in NEAR if e.near_miss and e.near_miss.rule == rule_id}


@pytest.mark.parametrize("example", NEAR, ids=lambda e: f"{e.near_miss.rule}:{e.near_miss.kind}")
def test_each_near_miss_breaks_exactly_its_rule(example: Example) -> None:
    assert example.near_miss is not None and not example.near_miss.passes
    broken = rule(example.near_miss.rule)
    assert {v.rule for v in validate(example.form)} == {broken.id}
    assert (example.expect.rule, example.expect.code) == (broken.id, broken.code)


def test_every_request_rule_has_near_misses_and_one_with_dry_run() -> None:
    request_rules = [r for r in breakable_rules() if rule(r).kind == "request"]
    for rule_id in request_rules:
        assert "with DryRun=true" in kinds_of(rule_id), rule_id
        with_dry_run = [e for e in NEAR if e.near_miss and e.near_miss.kind == "with DryRun=true"]
        assert all(fields(e).get("DryRun") == "true" for e in with_dry_run)


@pytest.mark.parametrize(
    "example", BOUNDARIES, ids=lambda e: f"{e.near_miss.site}:{e.near_miss.kind}"
)
def test_each_boundary_request_is_valid(example: Example) -> None:
    assert example.near_miss is not None and example.near_miss.passes
    assert validate(example.form) == []
    assert example.expect.status == 200


def test_boundary_requests_with_dry_run_expect_dry_run_operation() -> None:
    dry = boundary_requests(dry_run=True)
    assert len(dry) == len(BOUNDARIES)
    assert {(e.expect.status, e.expect.code) for e in dry} == {(412, "DryRunOperation")}


def test_pattern_near_misses_of_instance_ids() -> None:
    ids = values_of("instance-id.malformed", "InstanceId")
    hex_lengths = {len(i) - 2 for i in ids if i.startswith("i-") and i[2:].isalnum()}
    assert {7, 9, 12, 16, 18} <= hex_lengths  # around and between {8} and {17}
    assert any(i[2:].isascii() and any(c in "ABCDEF" for c in i) for i in ids)  # a case flip
    assert any(i.endswith("\n") for i in ids) and any(i.startswith(" ") for i in ids)
    assert any(i.endswith(" ") for i in ids)
    for foreign in ("\u00e9", "\u0663", "\uff11", "g", ":", "/"):
        assert any(foreign in i for i in ids), foreign


def test_pattern_near_misses_of_names() -> None:
    names = values_of("name.charset", "Name")
    assert any(n.endswith("\n") for n in names)
    for foreign in ("\u00e9", "\u0663", "\uff11", "`", "{", ":", "&", "<"):
        assert any(foreign in n for n in names), foreign
    assert all(3 <= len(n) <= 128 for n in names)  # they break the charset, not the length


def test_length_near_misses_count_characters_on_both_sides() -> None:
    assert {len(n) for n in values_of("name.length", "Name")} == {2, 129}
    assert {len(d) for d in values_of("description.length", "Description")} == {256}
    assert 129 in {len(k) for k in values_of("tag.key", "Key")}
    assert "" in values_of("tag.key", "Key")
    assert {len(v) for v in values_of("tag.value", "Value")} == {257}
    passing = defaultdict(set)
    for example in BOUNDARIES:
        for name, value in fields(example).items():
            passing[name.rsplit(".", 1)[-1]].add((len(value), len(value.encode()) > len(value)))
    assert {(3, False), (128, False)} <= passing["Name"]
    assert {(255, False), (255, True)} <= passing["Description"]  # multi-byte at the maximum
    assert {(128, False), (128, True)} <= passing["Key"]
    assert {(256, False), (256, True)} <= passing["Value"]


def test_forbidden_prefixes_in_every_case() -> None:
    keys = set(values_of("tag.key", "Key"))
    assert {"aws:", "AWS:", "Aws:", "aWs:", "awS:"} <= keys


def test_list_faults_at_the_first_a_middle_and_the_last_item() -> None:
    kinds = kinds_of("tag.key")
    assert {"at item 1 of 50 Tags", "at item 26 of 50 Tags", "at item 50 of 50 Tags"} <= kinds
    assert "at item 2 of 2 TagSpecifications" in kinds
    assert "at item 3 of 3 BlockDeviceMappings" in kinds_of("ebs.volume-type")
    fiftieth = [e for e in NEAR if e.near_miss and e.near_miss.kind == "at item 50 of 50 Tags"]
    assert fiftieth and all(
        any(name.split(".")[:4] == ["TagSpecification", "1", "Tag", "50"] for name in fields(e))
        for e in fiftieth
    )


def test_list_limits_one_over_and_exactly_at() -> None:
    (over,) = [e for e in NEAR if e.near_miss and e.near_miss.kind == "one item too many"]
    assert sum(1 for name in fields(over) if name.endswith(".Key")) == 51
    (full,) = [e for e in BOUNDARIES if e.near_miss and e.near_miss.kind == "a full list"]
    assert sum(1 for name in fields(full) if name.endswith(".Key")) == 50
    assert fields(full)["TagSpecification.1.ResourceType"] == "image"  # DescribeImages shows them


def test_enum_near_misses_include_the_other_values_of_ec2() -> None:
    resource_types = set(values_of("tag-specification.resource-type", "ResourceType"))
    assert {"volume", "instance", "IMAGE", " image", "image ", ""} <= resource_types
    assert {"legacy-bios", "uefi-preferred"} <= set(
        values_of("boot-mode-override.invalid", "BootModeOverride")
    )
    volume_types = set(values_of("ebs.volume-type", "VolumeType"))
    assert {"STANDARD", "Standard", " standard"} <= volume_types


def test_integer_and_boolean_spellings() -> None:
    integers = set(values_of("integer.invalid", "Ebs.Iops"))
    assert {str(2**31), str(-(2**31) - 1), "+5", "1e3", "1.0", ""} <= integers
    booleans = set(values_of("boolean.invalid", "NoReboot"))
    assert {"True", "TRUE", "1", "yes", ""} <= booleans


def test_unknown_members_at_every_level() -> None:
    unknown = [e for e in NEAR if e.near_miss and e.near_miss.rule == "parameter.unknown"]
    levels = {e.near_miss.site for e in unknown if e.near_miss}
    assert levels == {
        "/ additionalProperties",
        "/TagSpecifications/* additionalProperties",
        "/TagSpecifications/*/Tags/* additionalProperties",
        "/BlockDeviceMappings/* additionalProperties",
        "/BlockDeviceMappings/*/Ebs additionalProperties",
    }
    names = {name for e in unknown for name in fields(e)}
    assert {"instanceId", "TagSpecifications.1.ResourceType", "Reboot"} <= names


def test_a_new_pattern_gets_its_near_misses_from_its_structure() -> None:
    """Nothing is written per rule: a pattern the schema does not have yet is broken by its own
    classes, anchors and counts."""
    constraints = contract().constraints_of("instance-id.malformed")
    (instance_site,) = [s for s in constraints if s.keyword == "pattern"]
    pattern = "^ami-[0-9a-f]{8}$"
    site = Constraint(
        "instance-id.malformed", "body", ("InstanceId",), "pattern", pattern, instance_site.node
    )
    values = [_value_of(miss) for miss in misses(site, None)]
    search = compile_pattern(pattern).search
    assert all(search(v) is None for v in values)
    assert {"ami-A0000000", "ami-0000000", "ami-000000000", "ami-00000000\n"} <= set(values)
    assert instance_site.value != pattern


def _value_of(miss: Miss) -> str:
    box: dict[str, str] = {}
    miss.edit(box, "value")
    return box["value"]


def test_patterns_are_parsed_into_their_structure() -> None:
    instance = "^i-([0-9a-f]{8}|[0-9a-f]{17})$"
    assert render(parse(instance)) == "i-00000000"
    assert [count for count, _ in other_counts(instance)] == [7, 9, 12, 16, 18]
    assert all(compile_pattern(instance).search(text) is None for _, text in other_counts(instance))
    assert len(every_match("^[Aa][Ww][Ss]:[\\s\\S]*$")) == 8
    for refused in ("(?<=a)b", "\\k<x>", "a{x}", "[a-z", "(ab"):
        with pytest.raises(ValueError, match="not supported"):
            parse(refused)
