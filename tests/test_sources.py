"""Every exact code of the catalogue is stated, word for word, by the document it cites.

A code a service must answer is a promise that correct services answer it; a code no source
states would fail correct services that answer another. The documents are copies in
``tests/sources/`` (CI runs on a clean clone, with nothing beside it).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from createimage_contract import Rule, rule, rules
from createimage_contract.schema import Citation, document

SOURCES = Path(__file__).resolve().parent / "sources"
FILES = {
    "seed": "CreateImage-api-reference.txt",
    "ec2-error-codes": "ec2-error-codes.md",
    "ec2-query-protocol": "ec2-query-protocol.md",
}
VALIDATION_STATUS = Citation(
    "ec2-query-protocol",
    "validation errors (`InvalidAMIName.Malformed`, `InvalidParameterValue`, ...) 400",
)
"""Where the 400 of an exact code comes from, when the rule gives no status_source."""
ROW = re.compile(r"^([A-Z][A-Za-z]*(?:\.[A-Z][A-Za-z]*)?) \| (.+)$", re.MULTILINE)


@cache
def text(name: str) -> str:
    """A source document with its line breaks as spaces, since quotes may span wrapped lines."""
    return " ".join((SOURCES / FILES[name]).read_text(encoding="utf-8").split())


@cache
def ec2_error_codes() -> dict[str, str]:
    """EC2's list of error codes, code -> description."""
    raw = (SOURCES / FILES["ec2-error-codes"]).read_text(encoding="utf-8")
    return dict(ROW.findall(raw))


def names(citation: Citation, word: str) -> bool:
    """Whether the cited words name ``word`` (a code or a status) as a whole word."""
    return re.search(rf"(?<![\w.]){re.escape(word)}(?!\w|\.\w)", citation.says) is not None


def quoted_problems(citation: Citation) -> list[str]:
    """Why the cited words are not in the document, word for word."""
    if " ".join(citation.says.split()) not in text(citation.document):
        return [f"{citation.document} does not say {citation.says!r}"]
    return []


def code_problems(checked: Rule) -> list[str]:
    """Why the rule's exact code is not stated for its fault by the source it cites."""
    cited = checked.code_source
    if cited is None:
        return [f"the exact code {checked.code} has no code_source"]
    problems = quoted_problems(cited)
    if cited.document == "ec2-error-codes":
        row = ec2_error_codes().get(str(checked.code), "")
        if cited.says not in row:
            problems.append(f"EC2's row for {checked.code} does not say {cited.says!r}")
    elif not names(cited, str(checked.code)):
        problems.append(f"{cited.says!r} does not name {checked.code}")
    return problems


def status_problems(checked: Rule) -> list[str]:
    """Why the rule's exact status is not stated by a source."""
    if checked.status is None:
        return ["an exact code with any 4xx"]
    cited = checked.status_source or VALIDATION_STATUS
    problems = quoted_problems(cited)
    if not names(cited, str(checked.status)):
        problems.append(f"{cited.says!r} does not give the status {checked.status}")
    if checked.status_source is not None and not names(cited, str(checked.code)):
        problems.append(f"{cited.says!r} does not give the status of {checked.code}")
    return problems


def any_4xx_problems(checked: Rule) -> list[str]:
    """Why the rule without an exact code is not any 4xx with codes EC2 documents."""
    problems = [] if checked.status is None else [f"status {checked.status} without a code"]
    problems += [
        f"{c} is not in EC2's list" for c in checked.documented_codes if c not in ec2_error_codes()
    ]
    if checked.kind != "http" and not checked.documented_codes:
        problems.append("a rule services answer lists no documented codes")
    if checked.code_source is not None:
        problems.append("a code_source without a code")
    return problems


def problems(checked: Rule) -> list[str]:
    """Everything wrong with the rule's expected answer as its sources state it."""
    if checked.code is None:
        return any_4xx_problems(checked)
    return code_problems(checked) + status_problems(checked)


@pytest.mark.parametrize("rule_id", list(rules()))
def test_each_expected_answer_is_as_exact_as_its_source(rule_id: str) -> None:
    assert problems(rule(rule_id)) == []


def test_the_copies_are_the_documents_the_catalogue_cites() -> None:
    schema = document("rules.schema.json")
    assert set(FILES) == set(schema["$defs"]["Citation"]["properties"]["document"]["enum"])
    assert "errors-overview.html" in text("ec2-error-codes")
    assert text("seed").startswith("POST /#Action=CreateImage")
    assert text("ec2-query-protocol").startswith("# EC2 Query protocol facts for CreateImage")


def test_the_excerpt_of_ec2_error_codes_has_its_rows() -> None:
    listed = ec2_error_codes()
    assert len(listed) == 22
    assert listed["MissingParameter"].startswith("The request is missing a required parameter.")
    assert "NoSuchVersion" not in listed


# (what is wrong, the rule, the change that makes it so, what the check says)
UNSOURCED: list[tuple[str, str, dict[str, Any], str]] = [
    (
        "an exact code without a source",
        "version.unsupported",
        {"code": "NoSuchVersion", "status": 400},
        "the exact code NoSuchVersion has no code_source",
    ),
    (
        "a source that states another code",
        "name.charset",
        {"code": "InvalidParameterValue"},
        "EC2's row for InvalidParameterValue does not say",
    ),
    (
        "words the document does not say",
        "dry-run",
        {"code_source": Citation("seed", "the error response is DryRunOperation, always.")},
        "seed does not say",
    ),
    (
        "a sentence that does not name the code",
        "dry-run",
        {"code": "UnauthorizedOperation"},
        "is DryRunOperation.' does not name UnauthorizedOperation",
    ),
    ("a status no source gives", "name.length", {"status": 422}, "does not give the status 422"),
    (
        "a status source about another code",
        "tag.limit",
        {"status": 412, "status_source": rule("dry-run").status_source},
        "does not give the status of TagLimitExceeded",
    ),
    ("an exact code with any 4xx", "tag.limit", {"status": None}, "an exact code with any 4xx"),
    (
        "a code EC2 does not list",
        "version.unsupported",
        {"documented_codes": ("InvalidParameterValue", "NoSuchVersion")},
        "NoSuchVersion is not in EC2's list",
    ),
    (
        "no documented codes",
        "tag.key",
        {"documented_codes": ()},
        "a rule services answer lists no documented codes",
    ),
    ("an exact status without a code", "tag.key", {"status": 400}, "status 400 without a code"),
]


@pytest.mark.parametrize(
    ("rule_id", "changes", "caught"),
    [case[1:] for case in UNSOURCED],
    ids=[case[0] for case in UNSOURCED],
)
def test_an_answer_no_source_states_is_caught(
    rule_id: str, changes: dict[str, Any], caught: str
) -> None:
    found = problems(replace(rule(rule_id), **changes))
    assert any(caught in problem for problem in found), found
