"""The contract's documents: valid JSON Schema, consistent with each other and with the code."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest

from createimage_contract import rules
from createimage_contract.schema import DOCUMENT_NAMES, contract, document

SCHEMAS = [
    "request.schema.json",
    "responses.schema.json",
    "rules.schema.json",
    "matrix-report.schema.json",
]


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for value in node.values() for n in _nodes(value)]
    if isinstance(node, list):
        return [n for value in node for n in _nodes(value)]
    return []


@pytest.mark.parametrize("name", SCHEMAS)
def test_schemas_are_valid_json_schema_2020_12(name: str) -> None:
    schema = document(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_document_ships_with_the_package() -> None:
    assert set(DOCUMENT_NAMES) == {*SCHEMAS, "rules.json"}
    for name in DOCUMENT_NAMES:
        assert document(name)


def test_the_catalogue_follows_its_own_format() -> None:
    jsonschema.Draft202012Validator(document("rules.schema.json")).validate(document("rules.json"))


def test_rule_ids_are_unique() -> None:
    ids = [entry["id"] for entry in document("rules.json")["rules"]]
    assert len(ids) == len(set(ids)) == len(rules())


def test_every_x_rule_names_a_catalogue_rule() -> None:
    named = {node["x-rule"] for node in _nodes(document("request.schema.json")) if "x-rule" in node}
    assert named <= set(rules())


def test_every_rule_visible_in_a_request_is_in_the_request_schema() -> None:
    named = {node["x-rule"] for node in _nodes(document("request.schema.json")) if "x-rule" in node}
    visible = {r.id for r in rules().values() if r.kind in ("http", "request")}
    assert visible == named


def test_service_and_outcome_rules_say_where_they_apply() -> None:
    for rule in rules().values():
        if rule.kind == "service":
            assert rule.field and rule.field.startswith("/body/")
        if rule.kind == "outcome":
            jsonschema.Draft202012Validator.check_schema(rule.matches)


def test_a_rule_without_an_exact_code_takes_any_4xx() -> None:
    for rule in rules().values():
        if rule.code is None:
            assert rule.status is None and rule.code_source is None, rule.id
            assert rule.documented_codes or rule.kind == "http", rule.id
        else:
            assert rule.status is not None and rule.code_source is not None, rule.id
            assert rule.documented_codes == (), rule.id


ANY_4XX = (None, None)


def test_the_answers_are_the_audited_ones() -> None:
    # An exact code only where a source states it for the fault (tests/test_sources.py holds
    # each to its source's words); any 4xx where several documented codes fit.
    expected = {
        "auth.missing": ANY_4XX,
        "auth.malformed": ANY_4XX,
        "auth.signature": ANY_4XX,
        "auth.expired": ANY_4XX,
        "auth.unknown-key": ANY_4XX,
        "auth.scope": ANY_4XX,
        "action.missing": ("MissingAction", 400),
        "action.unknown": ("InvalidAction", 400),
        "version.missing": ANY_4XX,
        "version.unsupported": ANY_4XX,
        "parameter.unknown": ("UnknownParameter", 400),
        "parameter.type": ANY_4XX,
        "instance-id.missing": ANY_4XX,
        "name.missing": ANY_4XX,
        "instance-id.malformed": ("InvalidInstanceID.Malformed", 400),
        "name.length": ("InvalidAMIName.Malformed", 400),
        "name.charset": ("InvalidAMIName.Malformed", 400),
        "description.length": ANY_4XX,
        "boolean.invalid": ANY_4XX,
        "integer.invalid": ANY_4XX,
        "snapshot-location.invalid": ANY_4XX,
        "boot-mode-override.invalid": ANY_4XX,
        "tag-specification.resource-type": ANY_4XX,
        "tag.key": ANY_4XX,
        "tag.value": ANY_4XX,
        "tag.limit": ("TagLimitExceeded", 400),
        "ebs.volume-type": ANY_4XX,
        "ebs.unsupported-member": ANY_4XX,
        "ebs.volume-size-range": ANY_4XX,
        "instance-id.not-found": ("InvalidInstanceID.NotFound", 400),
        "name.duplicate": ("InvalidAMIName.Duplicate", 400),
        "dry-run": ("DryRunOperation", 412),
    }
    answers = {r.id: (r.code, r.status) for r in rules().values() if r.kind != "http"}
    assert answers == expected


def test_the_model_refuses_keywords_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="uniqueItems"):
        contract().node({"type": "array", "uniqueItems": True})


def test_every_body_field_of_the_seed_is_in_the_schema() -> None:
    body = document("request.schema.json")["$defs"]["CreateImageParameters"]["properties"]
    seed = {
        "InstanceId",
        "NoReboot",
        "TagSpecifications",
        "Name",
        "BlockDeviceMappings",
        "DryRun",
        "Description",
    }
    assert seed <= set(body) and set(body) - seed == {"SnapshotLocation", "BootModeOverride"}


def _numbers_by_rule(node: Any, rule: str, found: dict[str, set[str]]) -> None:
    """Every number that appears in the schema under each rule: limits, consts, patterns."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document("request.schema.json")
            for token in node["$ref"].removeprefix("#/").split("/"):
                target = target[token]
            _numbers_by_rule(target, node.get("x-rule", rule), found)
        rule = node.get("x-rule", rule)
        for value in node.values():
            _numbers_by_rule(value, rule, found)
    elif isinstance(node, list):
        for value in node:
            _numbers_by_rule(value, rule, found)
    elif not isinstance(node, bool) and isinstance(node, int | str):
        found.setdefault(rule, set()).update(re.findall(r"\d+", str(node)))


def test_limits_in_the_catalogue_prose_are_the_schema_limits() -> None:
    # "breaks_when" restates limits for people; it must not drift from the schema's.
    found: dict[str, set[str]] = {}
    _numbers_by_rule(document("request.schema.json"), "", found)
    for rule in rules().values():
        if rule.kind in ("http", "request"):
            stated = set(re.findall(r"\d+", rule.breaks_when))
            assert stated <= found.get(rule.id, set()), (rule.id, stated - found[rule.id])
