"""The README's rule table is the catalogue, row for row."""

from __future__ import annotations

from pathlib import Path

from createimage_contract import Rule, rules

README = Path(__file__).resolve().parent.parent / "README.md"

DOCUMENT_NAMES = {
    "seed": "seed",
    "ec2-error-codes": "EC2 error codes",
    "ec2-query-protocol": "facts",
}
"""How the table names the documents a code is quoted from (rules.schema.json's Citation)."""


def code_from(rule: Rule) -> str:
    """Where the rule's code comes from, e.g. ``EC2 error codes`` or ``none: any 4xx (...)``."""
    if rule.code_source is None:
        documented = ", ".join(rule.documented_codes)
        return f"none: any 4xx (documented: {documented})" if documented else "none: any 4xx"
    where = DOCUMENT_NAMES[rule.code_source.document]
    if rule.status_source is not None:
        where += f"; {rule.status}: {DOCUMENT_NAMES[rule.status_source.document]}"
    return where


def rules_table() -> list[str]:
    rows = [
        "| rule | kind | a request breaks it when | code | status | code from | severity "
        "| rule from |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for rule in rules().values():
        status = rule.status or "4xx"
        rows.append(
            f"| `{rule.id}` | {rule.kind} | {rule.breaks_when} | {rule.code or 'any'} "
            f"| {status} | {code_from(rule)} | {rule.severity} | {rule.source} |"
        )
    return rows


def test_readme_rules_table_is_the_catalogue() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- rules-table")
    end = text.index("<!-- end rules-table -->")
    printed = text[start:end].splitlines()[1:]
    assert printed == rules_table(), "regenerate the table: python tests/test_readme.py"


def test_readme_quick_start_is_the_two_make_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text


if __name__ == "__main__":
    print("\n".join(rules_table()))
