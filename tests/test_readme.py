"""The README says what is true: its rule table is the catalogue, row for row; its Python
session runs as shown; its ``run`` usage is the parser's; its install commands install."""

from __future__ import annotations

import argparse
import doctest
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from createimage_contract import Rule, rules
from createimage_contract._cli import _parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"

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


# --- the code blocks ---------------------------------------------------------------------------


def code_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced block of ``text``: its language (``""`` for none) and its body."""
    return re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## `` heading."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
"""What the README's sessions may do: shorten an output with ``...``, wrap a long one."""


def run_session(session: str, name: str) -> None:
    """Run a ``pycon`` block as doctest does, in a fresh namespace; fail with doctest's report."""
    test = doctest.DocTestParser().get_doctest(session, {}, name, str(README), 0)
    report: list[str] = []
    results = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS).run(test, out=report.append)
    assert results.attempted > 0
    assert results.failed == 0, "".join(report)


def test_the_python_api_section_runs_as_shown() -> None:
    blocks = code_blocks(section("The Python API"))
    assert blocks
    for number, (language, body) in enumerate(blocks):
        assert language in ("pycon", "python"), language
        if language == "pycon":
            run_session(body, f"Python API, block {number}")
        else:
            exec(compile(body, f"Python API, block {number}", "exec"), {})


def test_every_python_block_of_the_readme_is_python() -> None:
    """The other blocks call the reader's own code (``my_wrapper``): they must at least parse."""
    blocks = code_blocks(README.read_text(encoding="utf-8"))
    python = [body for language, body in blocks if language == "python"]
    assert python
    for body in python:
        compile(body, "README.md", "exec")
    for number, body in enumerate(body for language, body in blocks if language == "pycon"):
        run_session(body, f"pycon block {number}")


# --- the run usage ------------------------------------------------------------------------------


def command_parser(name: str) -> argparse.ArgumentParser:
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser: argparse.ArgumentParser = commands.choices[name]
    return parser


def words(text: str) -> str:
    return " ".join(text.split())


def test_the_run_usage_block_is_the_parsers() -> None:
    usage = [body for _, body in code_blocks(README.read_text(encoding="utf-8"))]
    shown = [body for body in usage if body.startswith("usage: createimage-contract run ")]
    assert len(shown) == 1, "one usage block for run"
    assert words(shown[0]) == words(command_parser("run").format_usage())


# --- installing ---------------------------------------------------------------------------------

GIT_URL = "https://github.com/OWNER/createimage-contract"
"""The README's git URL: ``OWNER`` is a placeholder, never a host of this machine."""


def extras() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        project = tomllib.load(stream)["project"]
    return set(project["optional-dependencies"])


def pip_installs() -> list[list[str]]:
    """The arguments of every ``pip install`` the README shows, in blocks and in the text."""
    found = re.findall(r"pip install ([^`\n]*)", README.read_text(encoding="utf-8"))
    return [shlex.split(arguments, comments=True) for arguments in found]


def test_every_install_is_from_git_or_a_checkout() -> None:
    """createimage-contract is on no package index: ``pip install createimage-contract`` fails."""
    installs = pip_installs()
    assert installs
    for arguments in installs:
        requirements = [a for a in arguments if not a.startswith("-")]
        assert requirements, arguments
        for requirement in requirements:
            from_git = requirement.endswith(f" @ git+{GIT_URL}")
            from_a_checkout = requirement == "." or requirement.startswith(("./", ".["))
            assert from_git or from_a_checkout, f"pip install {shlex.join(arguments)}"


def test_the_extras_shown_are_pyprojects() -> None:
    shown = {
        extra.strip()
        for arguments in pip_installs()
        for argument in arguments
        for group in re.findall(r"\[([^\]]*)\]", argument)
        for extra in group.split(",")
    }
    assert shown == extras()


def shell_commands(script: str) -> list[str]:
    """The commands of a ``sh`` block, one per line or ``&&`` part."""
    return [
        part.strip()
        for line in script.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
        for part in line.split("&&")
    ]


SOURCES = shutil.ignore_patterns(
    ".git", ".venv", ".typecheck", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
    ".hypothesis",
)  # fmt: skip


def test_the_install_section_installs(tmp_path: Path) -> None:
    """The Install section's blocks, run as written: ``git`` fetches this checkout for the
    README's URL (``url.<base>.insteadOf``), and ``pip install`` is pip's own, with
    ``--dry-run --no-deps``: it builds the project's metadata as a real install does (from the
    clone, the git URL or the path), resolves the extras, and installs nothing."""
    blocks = [body for language, body in code_blocks(section("Install")) if language == "sh"]
    commands = [command for body in blocks for command in shell_commands(body)]
    allowed = ("pip install ", f"git clone {GIT_URL}", "cd createimage-contract")
    assert commands and all(command.startswith(allowed) for command in commands), commands

    project = tmp_path / "repository"
    shutil.copytree(ROOT, project, ignore=SOURCES)
    config = ["user.name=test", "user.email=test@example.invalid", "commit.gpgsign=false"]
    git = ["git", *(word for setting in config for word in ("-c", setting))]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "the checkout"]):
        subprocess.run([*git, *step], cwd=project, check=True, capture_output=True)
    reports = tmp_path / "reports"
    reports.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    # Each pip in the background (they take seconds each, mostly building), waited for at the
    # end; the commands between them (git clone, cd) run in order.
    pip = (
        'pids=(); pip() { [ "$1" = install ] || exit 99; shift; "$PYTHON" -m pip install '
        "--dry-run --no-deps --ignore-installed --quiet "
        '--report "$REPORTS/${#pids[@]}.json" "$@" & pids+=($!); }'
    )
    wait = 'for pid in "${pids[@]}"; do wait "$pid"; done'

    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "REPORTS": str(reports),
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.{project.as_uri()}.insteadOf",
        "GIT_CONFIG_VALUE_0": GIT_URL,
        "GIT_TERMINAL_PROMPT": "0",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
    }
    script = "\n".join(["set -eu", pip, *blocks, wait])
    done = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr

    installed = [json.loads(path.read_text()) for path in sorted(reports.glob("*.json"))]
    assert len(installed) == sum(c.startswith("pip install ") for c in commands)
    requested: set[str] = set()
    for report in installed:
        (item,) = report["install"]
        assert item["metadata"]["name"] == "createimage-contract"
        assert set(item.get("requested_extras", [])) <= set(item["metadata"]["provides_extra"])
        requested |= set(item.get("requested_extras", []))
    assert requested == extras()


if __name__ == "__main__":
    print("\n".join(rules_table()))
