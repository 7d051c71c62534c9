"""The README's rule table is the catalogue, row for row."""

from __future__ import annotations

from pathlib import Path

from createimage_contract import rules

README = Path(__file__).resolve().parent.parent / "README.md"


def rules_table() -> list[str]:
    rows = [
        "| rule | kind | a request breaks it when | code | status | severity | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in rules().values():
        status = rule.status or "4xx"
        rows.append(
            f"| `{rule.id}` | {rule.kind} | {rule.breaks_when} | {rule.code or 'any'} "
            f"| {status} | {rule.severity} | {rule.source} |"
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
