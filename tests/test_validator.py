"""The validator: its verdicts against two oracles, the input forms, and the answer it expects."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import botocore.session
import jsonschema
import pytest
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutations import mutated_params

from createimage_contract import Expectation, FormatError, expect, is_valid, validate
from createimage_contract.schema import compile_pattern, contract, document
from createimage_contract.schema._compiler import Failure, compiled
from createimage_contract.schema._ecma import translate

REQUEST = document("request.schema.json")


def _resolve(ref: str) -> Any:
    node: Any = REQUEST
    for token in ref.removeprefix("#/").split("/"):
        node = node[token]
    return node


def _rule_of(error: jsonschema.ValidationError) -> str:
    """The nearest x-rule along the schema path of a jsonschema error.

    The library's schema paths do not show ``$ref``: a step that is not in a node is in the
    schema that node refers to.
    """
    node: Any = REQUEST
    rule = ""
    for step in error.absolute_schema_path:
        while isinstance(node, dict) and step not in node and "$ref" in node:
            node = _resolve(node["$ref"])
            rule = node.get("x-rule", rule)
        if isinstance(node, dict):
            rule = node.get("x-rule", rule)
        node = node[step]
    return rule


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if isinstance(instance, str) and not compile_pattern(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


# The library validator, told the two readings the contract documents: ECMA-262 patterns and
# integers that are not written as floats.
_types = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", lambda _, value: isinstance(value, int) and not isinstance(value, bool)
)
_Oracle = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator, validators={"pattern": _ecma_pattern}, type_checker=_types
)
ORACLE = _Oracle(REQUEST)


def _oracle_rules(params: Any) -> Counter[str]:
    return Counter(_rule_of(error) for error in ORACLE.iter_errors({"body": params}))


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_params())
def test_compiled_validator_agrees_with_jsonschema(params: Any) -> None:
    # As sets: where a value has the wrong type, validate reports the type alone, where the
    # library also reports the bounds of the same rule (1e999 is not an integer, and too big).
    assert {v.rule for v in validate(params)} == set(_oracle_rules(params))


@pytest.fixture(scope="module")
def create_image_shape() -> Any:
    model = botocore.session.get_session().get_service_model("ec2")
    return model.operation_model("CreateImage").input_shape


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_params())
def test_what_botocore_rejects_validate_rejects(create_image_shape: Any, params: Any) -> None:
    report = ParamValidator().validate(params, create_image_shape)
    if report.has_errors():
        assert not is_valid(validate(params)), report.generate_report()


@pytest.mark.parametrize(
    ("params", "botocore_accepts"),
    [
        ({"InstanceId": "foo", "Name": "n"}, False),  # botocore checks Name's min length only
        ({"InstanceId": "foo", "Name": "n" * 129}, True),
        ({"InstanceId": "i-0a1b2c3d", "Name": "has#hash"}, True),
        ({"InstanceId": "i-0a1b2c3d", "Name": "ok", "Description": "d" * 256}, False),
    ],
)
def test_botocore_misses_what_validate_catches(
    create_image_shape: Any, params: dict[str, Any], botocore_accepts: bool
) -> None:
    assert (
        not ParamValidator().validate(params, create_image_shape).has_errors()
        or not botocore_accepts
    )
    assert not is_valid(validate(params))


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^[a-z]+$", "abc", True),
        ("^[a-z]+$", "abc\n", False),  # Python's $ matches before a final newline
        ("^a.c$", "a\rc", False),  # ECMA's . excludes every line terminator
        ("^a.c$", "a\u2028c", False),
        ("^\\d+$", "\u0663", False),  # \d is ASCII only
        ("^\\w+$", "\u00e9", False),
        ("^\\s$", "\u00a0", True),  # \s includes no-break space
        ("^\\s$", "\x1c", False),  # ... but not Python's extra separators
        ("^[\\s\\S]*$", "any\nthing", True),
        ("^[0-9]{2}$", "12", True),
    ],
)
def test_patterns_have_ecma_semantics(pattern: str, text: str, matches: bool) -> None:
    assert bool(compile_pattern(pattern).search(text)) is matches


@pytest.mark.parametrize("pattern", ["(?<year>[0-9]+)", "\\p{L}", "\\u{1F600}"])
def test_unknown_regex_constructs_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="not supported"):
        translate(pattern)


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return own + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def test_every_pattern_of_the_contract_translates() -> None:
    patterns = _patterns(REQUEST) + _patterns(document("responses.schema.json"))
    assert len(patterns) >= 10
    for pattern in patterns:
        assert pattern.startswith("^") and pattern.endswith("$"), "patterns match whole strings"
        compile_pattern(pattern)


HTTP_BODY = "Action=CreateImage&Version=2016-11-15&InstanceId=i-0a1b2c3d&Name=nightly"
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    "request_",
    [
        {"InstanceId": "i-0a1b2c3d", "Name": "nightly"},
        HTTP_BODY,
        HTTP_BODY.encode(),
        {"url": "https://ec2/", "method": "POST", "headers": FORM_HEADERS, "body": HTTP_BODY},
        {
            "url": "https://ec2/?" + HTTP_BODY,
            "method": "GET",
            "headers": FORM_HEADERS | {"X-Amz-Date": "20261127T101010Z"},
            "body": None,
        },
        {
            "url": "https://ec2/?Action=CreateImage",
            "method": "POST",
            "headers": {"CONTENT-TYPE": "application/x-www-form-urlencoded"},
            "body": {
                "Version": "2016-11-15",
                "InstanceId": "i-0a1b2c3d",
                "Name": "nightly",
                "TagSpecifications": [{"ResourceType": "image", "Tags": [{"Key": "k"}]}],
                "BlockDeviceMapping.1.Ebs.VolumeSize": 8,
            },
        },
    ],
    ids=["params", "form", "form-bytes", "http-form", "http-get-query", "http-fields"],
)
def test_each_input_form_reads_a_valid_request(request_: Any) -> None:
    assert validate(request_) == []


def test_http_url_and_body_are_read_together() -> None:
    request = {
        "url": "https://ec2/?Action=CreateImage",
        "headers": FORM_HEADERS,
        "body": "InstanceId=i-0a1b2c3d&Name=nightly",
    }
    assert [(v.rule, v.path) for v in validate(request)] == [("version.missing", "/query/Version")]


def test_http_body_fields_are_strings_on_the_wire() -> None:
    request = {
        "headers": FORM_HEADERS,
        "body": {
            "Action": "CreateImage",
            "Version": "2016-11-15",
            "InstanceId": "i-0a1b2c3d",
            "Name": 1234,
            "NoReboot": "maybe",
        },
    }
    assert [v.rule for v in validate(request)] == ["boolean.invalid"]


def test_input_can_be_forced() -> None:
    assert [v.rule for v in validate({"url": "x"}, input="json")] == [
        "parameter.unknown",
        "instance-id.missing",
        "name.missing",
    ]


@pytest.mark.parametrize(
    ("request_", "input_", "message"),
    [
        (["InstanceId"], "auto", "must be a JSON object, not array"),
        ("Name=x", "json", "must be a JSON object, not string"),
        ({"Name": "x"}, "form", "must be text"),
        ({"url": 5}, "auto", "url must be a str"),
        ({"body": 5}, "auto", "body must be a str"),
        ({"headers": ["Content-Type"]}, "auto", "headers must be an object"),
        ({"headers": {"X-Amz-Date": None}}, "auto", "header X-Amz-Date must be a string"),
        ({"url": "", "timeout": 5}, "auto", "not timeout"),
    ],
)
def test_unreadable_requests_raise_format_error(request_: Any, input_: Any, message: str) -> None:
    with pytest.raises(FormatError, match=re.escape(message)):
        validate(request_, input=input_)


def test_all_violations_are_reported_not_the_first() -> None:
    violations = validate({"InstanceId": "x", "Name": "#", "Description": "d" * 300, "Bad": 1})
    assert Counter(v.rule for v in violations) == Counter(
        [
            "instance-id.malformed",
            "name.length",
            "name.charset",
            "description.length",
            "parameter.unknown",
        ]
    )
    name_length = next(v for v in violations if v.rule == "name.length")
    assert name_length.as_dict() == {
        "rule": "name.length",
        "path": "/body/Name",
        "message": "Name has 1 character, fewer than 3",
        "code": "InvalidAMIName.Malformed",
        "status": 400,
        "severity": "error",
    }


def test_paths_are_json_pointers() -> None:
    (violation,) = validate({"InstanceId": "i-0a1b2c3d", "Name": "nightly", "a/b~c": 1})
    assert violation.path == "/body/a~1b~0c"


def test_warnings_do_not_make_a_request_invalid() -> None:
    params = {
        "InstanceId": "i-0a1b2c3d",
        "Name": "nightly",
        "BlockDeviceMappings": [{"Ebs": {"OutpostArn": "arn"}}],
    }
    violations = validate(params)
    assert [v.severity for v in violations] == ["warning"] and is_valid(violations)
    assert expect(params) == Expectation(None, None, "ebs.unsupported-member")


@pytest.mark.parametrize(
    ("params", "state", "rule"),
    [
        ({"Name": "#", "Foo": 1}, {}, "parameter.unknown"),
        ({"InstanceId": "i-0a1b2c3d", "Name": "ab#", "DryRun": True}, {}, "name.charset"),
        (
            {"InstanceId": "i-0a1b2c3d", "Name": "taken", "DryRun": True},
            {"known_instances": ["i-0a1b2c3d"], "used_names": ["taken"]},
            "name.duplicate",
        ),
        (
            {"InstanceId": "i-0a1b2c3e", "Name": "taken"},
            {"known_instances": ["i-0a1b2c3d"], "used_names": ["taken"]},
            "instance-id.not-found",
        ),
        (
            {"InstanceId": "bad", "Name": "nightly"},
            {"known_instances": []},
            "instance-id.malformed",
        ),
    ],
)
def test_the_first_rule_in_catalogue_order_is_the_answer(
    params: dict[str, Any], state: dict[str, Any], rule: str
) -> None:
    assert expect(params, **state).rule == rule


def test_service_rules_need_the_service_state() -> None:
    params = {"InstanceId": "i-0a1b2c3d", "Name": "nightly"}
    assert validate(params) == []
    assert [v.rule for v in validate(params, known_instances=set())] == ["instance-id.not-found"]
    assert [v.rule for v in validate(params, used_names={"nightly"})] == ["name.duplicate"]


@given(st.text())
def test_any_text_is_read_as_a_form_without_crashing(body: str) -> None:
    try:
        violations = validate(body)
    except FormatError:
        return
    assert all(v.path.startswith(("/query", "/body")) for v in violations)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_params())
def test_generated_predicates_agree_with_the_checks(params: Any) -> None:
    # validate() trusts the generated predicates to skip valid parts: they must never disagree.
    root = compiled(contract().root)
    failures: list[Failure] = []
    root.collect({"body": params}, (), failures)
    assert root.valid({"body": params}) is (failures == [])


CATALOGUE_URL = "https://ec2.us-east-1.amazonaws.com/#Action=CreateImage"
"""The operation's address as a workflow engine's catalogue writes it: Action in the fragment."""
SIGNED_FIELDS = "Version=2016-11-15&InstanceId=i-0123456789abcdef0&Name=nightly"


def test_an_action_only_in_the_url_fragment_is_missing_and_the_message_says_why() -> None:
    request = {"url": CATALOGUE_URL, "method": "POST", "body": SIGNED_FIELDS}
    (violation,) = validate(request)
    assert (violation.rule, violation.path, violation.code) == (
        "action.missing",
        "/query/Action",
        "MissingAction",
    )
    assert violation.message == (
        "Action is missing: the URL fragment `#Action=CreateImage` is never sent; "
        "put Action in the query or the body"
    )


def test_a_fragment_changes_nothing_when_action_is_sent_or_the_fragment_holds_none() -> None:
    sent = {"url": CATALOGUE_URL, "method": "POST", "body": "Action=CreateImage&" + SIGNED_FIELDS}
    assert validate(sent) == []
    anchor = {"url": "https://ec2.us-east-1.amazonaws.com/#top", "body": SIGNED_FIELDS}
    assert [v.message for v in validate(anchor)] == ["Action is missing"]
