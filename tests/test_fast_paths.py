"""The shortcuts that make ``validate`` fast give the answers the long way gives.

The generated walk checks members in the schema's order and puts the failures back in the
request's; a pattern anchored on a plain first character is asked that character first; lint's
placeholders are looked for only in a text that holds a character they start with; and plain
JSON has its strings gathered by exact types.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from createimage_contract._lint import placeholders
from createimage_contract.schema import _dynamic, validate
from createimage_contract.schema._ecma import compile_pattern
from createimage_contract.schema._model import contract
from createimage_contract.schema._predicates import anchored_start

SCHEMA_PATTERNS = sorted(
    {c.value for c in contract().constraints if c.keyword == "pattern"}
    | {c.value.first("pattern") for c in contract().constraints if c.keyword == "not"} - {None}
)
"""Every pattern of the contract, those a value must not match (``not``) included."""
SEARCHED = [
    placeholders(),
    placeholders([r"<<[a-z]+>>"]),
    re.compile(r"\$x|\{y"),
    re.compile(r"(?#|)\$|\{"),
    re.compile(r"[|{]a|\$"),
]
texts = st.text(alphabet=st.sampled_from("$%{}|<>ax aAwWsS:\n"), max_size=30)
plain_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


def test_failures_of_several_members_come_in_the_requests_order() -> None:
    params = {"Name": 1, "Foo": 2, "InstanceId": 3, "TagSpecifications": [{"Tags": 5}]}
    assert [v.path for v in validate(params)] == [
        "/body/Name",
        "/body/Foo",
        "/body/InstanceId",
        "/body/TagSpecifications/0/Tags",
        "/body/TagSpecifications/0/ResourceType",
    ]


@pytest.mark.parametrize("pattern", SCHEMA_PATTERNS)
@given(text=texts)
def test_a_pattern_matches_only_strings_that_start_as_it_says(pattern: str, text: str) -> None:
    starts = anchored_start(pattern)
    if starts is not None and compile_pattern(pattern).search(text):
        assert text[:1] in starts


def test_the_first_character_of_the_aws_prefix_is_read_from_its_pattern() -> None:
    assert anchored_start("^[Aa][Ww][Ss]:[\\s\\S]*$") == frozenset("Aa")
    for pattern in ("^a?b", "^[a-z]x", "^x|y", "a", "^(a)", "^[^a]", "^\\d"):
        assert anchored_start(pattern) is None


@pytest.mark.parametrize("pattern", SEARCHED, ids=lambda p: p.pattern)
@given(text=texts)
def test_a_placeholder_is_found_where_a_search_finds_one(
    pattern: re.Pattern[str], text: str
) -> None:
    assert _dynamic._found(pattern, text) is (pattern.search(text) is not None)


@given(plain_json)
def test_plain_json_has_its_strings_gathered_as_the_general_way_does(value: Any) -> None:
    general: list[str] = []
    plain: list[str] = []
    _dynamic._strings(value, general)
    assert _dynamic._plain_strings(value, plain)
    assert plain == general


@pytest.mark.parametrize(
    "request_",
    [
        {1: "${x}"},
        {1: "${x}", "Tags": ()},
        {"Name": _dynamic.Placeholder("$.name")},
        [True, ("${x}",)],
        "{{ y }}",
    ],
    ids=["a-name-not-a-string", "and-a-tuple", "a-placeholder-value", "a-tuple", "a-string"],
)
def test_what_is_not_plain_json_is_searched_the_general_way(request_: Any) -> None:
    expected = not isinstance(request_, list)  # a tuple's strings are not the request's
    assert _dynamic._holds(request_, placeholders()) is expected
