"""``lint`` starts fast: in a pre-commit hook or an editor it runs on every save, and most of its
time is start-up. What it must not import is asserted on the modules a real process loads
(``sys.modules`` when it exits), never with a timing: ``benchmarks/lint_startup.py`` measures
the time."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

import createimage_contract
from createimage_contract import _cli
from createimage_contract._console import Parser

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "createimage_contract"
HEAVY = frozenset(
    {
        f"{PACKAGE}.conformance",
        f"{PACKAGE}.strategies",
        "hypothesis",
        "botocore",
        "lxml",
        "urllib3",
        "responses",
    }
)
"""What neither ``lint`` nor the library alone ever needs: the runner, the strategies, and the
libraries they use."""
SLOW = frozenset(
    {
        "importlib.metadata",  # __version__: read when asked for (--version, SARIF)
        "importlib.resources",  # the schema documents are read through pkgutil
        "multiprocessing",  # selftest's pool
        "concurrent.futures",
        "tomllib",  # run's [tool.createimage-contract]
        "yaml",  # only for a YAML input
        "random",  # a seed, for generate, run and selftest
        f"{PACKAGE}._generate",  # the other commands: registered only when named or for --help
        f"{PACKAGE}._run",
        f"{PACKAGE}._selftest",
        f"{PACKAGE}._config",
        f"{PACKAGE}._values",
    }
)
"""What a plain ``lint`` of a JSON file does without, and the library too: each costs
milliseconds, as much as checking a small file."""

JSON_FILE = "examples/valid/minimal.json"
YAML_FILE = "tests/workflows/state-machine.asl.yaml"
FORM_BODY = (ROOT / "examples" / "valid" / "dry-run.form").read_bytes()


RUN_AND_LIST = """
import atexit, runpy, sys
out, how, what, *args = sys.argv[1:]
def listed():
    with open(out, "w", encoding="utf-8") as file:
        file.write("\\n".join(sorted(sys.modules)))
atexit.register(listed)  # after the command, however it exits
if how == "-c":
    sys.argv = ["-c", *args]
    exec(compile(what, "<string>", "exec"), {"__name__": "__main__"})
elif how == "-m":
    sys.argv = [what, *args]
    runpy.run_module(what, run_name="__main__", alter_sys=True)
else:
    sys.argv = [what, *args]
    runpy.run_path(what, run_name="__main__")
"""
"""Runs ``python -c CODE``, ``python -m MODULE`` or ``python SCRIPT`` with the arguments, and
writes the names of every module in ``sys.modules`` when the process exits."""


def imported(how: str, what: str, *args: str, stdin: bytes = b"", code: int = 0) -> set[str]:
    """Every module loaded by ``python HOW WHAT ARGS`` (``-c``/``-m``/``script``), once it
    exited with ``code``."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "modules.txt"
        done = subprocess.run(
            [sys.executable, "-c", RUN_AND_LIST, str(out), how, what, *args],
            input=stdin,
            capture_output=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert done.returncode == code, done.stderr.decode("utf-8", "replace")[-2000:]
        return set(out.read_text(encoding="utf-8").split())


def loaded(modules: set[str], names: frozenset[str]) -> list[str]:
    """Which of ``names`` (or of their submodules) ``modules`` holds."""
    return sorted(n for n in names if any(m == n or m.startswith(f"{n}.") for m in modules))


def lint(*args: str, stdin: bytes = b"", code: int = 0) -> set[str]:
    return imported("-m", PACKAGE, "lint", *args, stdin=stdin, code=code)


# --------------------------------------------------------------------------------------- lint


def test_lint_json_file() -> None:
    modules = lint(JSON_FILE)
    assert f"{PACKAGE}._lint" in modules  # the command did run
    assert loaded(modules, HEAVY | SLOW) == []


def test_lint_yaml_state_machine() -> None:
    modules = lint(YAML_FILE)
    assert "yaml" in modules
    assert loaded(modules, HEAVY | (SLOW - {"yaml"})) == []


@pytest.mark.parametrize("form", ["json", "github", "text"])
def test_lint_formats(form: str) -> None:
    assert loaded(lint("--format", form, JSON_FILE, YAML_FILE), HEAVY | SLOW) == ["yaml"]


def test_lint_sarif_reads_only_the_metadata() -> None:
    """SARIF names the tool's version and home page: the package metadata, nothing more."""
    modules = lint("--format", "sarif", JSON_FILE)
    assert "importlib.metadata" in modules
    metadata_and_its_imports = {"importlib.metadata", "importlib.resources", "random"}
    assert loaded(modules, HEAVY | (SLOW - metadata_and_its_imports)) == []


def test_lint_standard_input() -> None:
    assert loaded(lint("-", stdin=FORM_BODY), HEAVY | SLOW) == []


def test_lint_help() -> None:
    assert loaded(lint("--help"), HEAVY | SLOW) == []


@pytest.mark.parametrize("argv", [["--help"], ["generate", "--help"], ["selftest", "--help"]])
def test_help_of_the_program_and_light_commands(argv: list[str]) -> None:
    """The program's help lists every command, so it imports every command's module; none of
    them imports the runner to say what it does. (``run --help`` and ``serve --help`` do: they
    show the runner's defaults.)"""
    assert loaded(imported("-m", PACKAGE, *argv), HEAVY) == []


def test_console_script() -> None:
    """The script pip writes (``createimage-contract``), run as the shell runs it."""
    folder = Path(sys.prefix) / ("Scripts" if sys.platform == "win32" else "bin")
    script = folder / "createimage-contract"
    if not script.is_file():
        pytest.skip("no console script installed beside this interpreter")
    modules = imported("script", str(script), "lint", JSON_FILE)
    assert f"{PACKAGE}._lint" in modules
    assert loaded(modules, HEAVY | SLOW) == []


# ------------------------------------------------------------------------------------ library


@pytest.mark.parametrize(
    "code",
    [
        "import createimage_contract",
        "import createimage_contract.schema",
        "from createimage_contract import validate; validate({'InstanceId': 'i-1', 'Name': 'n'})",
    ],
)
def test_library(code: str) -> None:
    modules = imported("-c", code)
    assert f"{PACKAGE}.schema" in modules
    assert loaded(modules, HEAVY | SLOW) == []


def test_version_is_the_installed_one() -> None:
    """``__version__`` is read from the metadata when asked for, and is still exported."""
    expected = metadata.version("createimage-contract")
    assert createimage_contract.__version__ == expected
    assert "__version__" in createimage_contract.__all__
    assert "__version__" in dir(createimage_contract)
    with pytest.raises(AttributeError):
        _ = createimage_contract.no_such_name
    done = subprocess.run(
        [sys.executable, "-m", PACKAGE, "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    assert done.stdout == f"createimage-contract {expected}\n"


# ------------------------------------------------------------------- the commands, registered


def test_each_command_is_registered_by_its_module() -> None:
    """``_cli.COMMANDS`` says which module adds each command: naming a command imports only
    that module, so the table must be what the modules register."""
    for module in dict.fromkeys(_cli.COMMANDS.values()):
        commands = argparse.ArgumentParser().add_subparsers(parser_class=Parser)
        importlib.import_module(f"{PACKAGE}.{module}").register(commands)
        assert list(commands.choices) == [c for c, m in _cli.COMMANDS.items() if m == module]


def test_a_named_command_parses_as_with_every_command() -> None:
    argv = ["lint", "--format", "json", "-q", JSON_FILE]
    alone, every = _cli._parser(argv), _cli._parser()
    assert (command_names(alone), command_names(every)) == (["lint"], list(_cli.COMMANDS))
    assert vars(alone.parse_args(argv)) == vars(every.parse_args(argv))
    assert alone.format_usage() == every.format_usage()


def command_names(parser: argparse.ArgumentParser) -> list[str]:
    (commands,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(commands.choices)
