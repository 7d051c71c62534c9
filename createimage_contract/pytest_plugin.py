"""The pytest plugin: the conformance suite as pytest items, a reference service, a strict mock.

Registered through the ``pytest11`` entry point. Importing it costs little: everything heavy
is imported when a fixture or the suite is used, so that installing createimage-contract does
not slow down test runs that do not use it.

- ``pytest --pyargs createimage_contract.conformance.suite [--createimage-endpoint URL ...]``
  runs the conformance suite, one item per check x rule.
- ``createimage_reference``: a reference implementation for the session (``.url``,
  ``.instance_id``).
- ``createimage_mock``: a strict mock of CreateImage for unit tests, configured per test with
  ``@pytest.mark.createimage(instances=[...], taken_names=[...], endpoints=[...])``.
"""

from __future__ import annotations

import argparse
import pickle
import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._console import id_list

if TYPE_CHECKING:
    from createimage_contract.conformance import (
        Conformance,
        CreateImageMock,
        Running,
        RunResult,
    )

MARKER_OPTIONS = ("instances", "taken_names", "endpoints")
NO_VERDICT = "createimage_no_verdict"
"""Where an xdist worker hands the controller the reason its run had no verdict."""
_NO_VERDICT_SEEN = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("createimage", "createimage-contract conformance suite")
    group.addoption(
        "--createimage-endpoint",
        metavar="URL",
        help="the CreateImage service to check (default: the embedded reference)",
    )
    group.addoption("--createimage-instance-id", metavar="ID", help="an instance it holds")
    # No defaults here: the runner's own apply (`createimage-contract run --help` shows
    # them); importing the runner to name them would slow down every pytest run.
    group.addoption(
        "--createimage-region", metavar="R", help="for SigV4 (default: as for run --region)"
    )
    group.addoption(
        "--createimage-max-examples",
        metavar="N",
        type=int,
        help="examples per rule (default: as for run --max-examples)",
    )
    group.addoption(
        "--createimage-credentials",
        metavar="WHICH",
        help="what requests are signed with: fixed, env or auto (default: as for run)",
    )
    group.addoption(
        "--createimage-exclude-rules",
        metavar="IDS",
        help="leave these rules out, comma-separated, globs too: 'auth.*' for a mock that "
        "checks no signature",
    )
    group.addoption("--createimage-seed", metavar="S", type=int, help="random seed")
    group.addoption(
        "--createimage-strict", action="store_true", help="warnings fail their items too"
    )
    group.addoption(
        "--createimage-baseline", metavar="FILE", type=Path, help="known deviations: xfail"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "createimage(instances=None, taken_names=(), endpoints=()): configure the "
        "createimage_mock fixture for this test",
    )
    if _runs_suite(config):
        _check_target(config.getoption("createimage_endpoint"), _suite_options(config))
    if config.getoption("createimage_seed") is None:
        # One seed for the session, the same in every xdist worker (they read the run's file).
        config.option.createimage_seed = random.SystemRandom().randrange(2**32)


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _runs_suite(config):
        return None
    target = config.getoption("createimage_endpoint") or "the embedded reference"
    return f"createimage-contract: {target}, seed {config.getoption('createimage_seed')}"


def _check_target(endpoint: str | None, given: dict[str, Any]) -> None:
    """A bad endpoint, or one without credentials, is one usage error, not an error per item."""
    from createimage_contract.conformance import NoCredentials, TargetError, check_target

    try:
        check_target(endpoint, given.get("credentials", "auto"))
    except (TargetError, NoCredentials) as problem:
        raise pytest.UsageError(f"createimage-contract: {problem}") from None


def _suite_options(config: pytest.Config) -> dict[str, Any]:
    """The run's options the user gave, checked: a bad one is one usage error naming it."""
    given = {
        "max_examples": config.getoption("createimage_max_examples"),
        "seed": config.getoption("createimage_seed"),
        "region": config.getoption("createimage_region"),
    }
    parsers = {"credentials": _credentials, "exclude_rules": _rule_patterns}
    for name, parse in parsers.items():
        text = config.getoption(f"createimage_{name}")
        try:
            given[name] = None if text is None else parse(text)
        except argparse.ArgumentTypeError as problem:
            flag = "--createimage-" + name.replace("_", "-")
            raise pytest.UsageError(f"createimage-contract: {flag}: {problem}") from None
    return {name: value for name, value in given.items() if value is not None}


def _credentials(text: str) -> str:
    from createimage_contract.conformance import CREDENTIALS_CHOICES

    if text not in CREDENTIALS_CHOICES:
        choices = ", ".join(CREDENTIALS_CHOICES)
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {choices}")
    return text


def _rule_patterns(text: str) -> tuple[str, ...]:
    from createimage_contract.conformance import category_names

    return id_list("rule", category_names, globs=True)(text)


def _runs_suite(config: pytest.Config) -> bool:
    return any("conformance.suite" in str(arg) or "suite.py" in str(arg) for arg in config.args)


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def createimage_reference() -> Iterator[Running]:
    """A reference CreateImage service on loopback for the session: ``.url``, ``.instance_id``."""
    from createimage_contract.conformance import serve

    with serve() as running:
        yield running


@pytest.fixture
def createimage_mock(request: pytest.FixtureRequest) -> Iterator[CreateImageMock]:
    """A strict CreateImage mock, active for the test (see ``@pytest.mark.createimage``)."""
    from createimage_contract.conformance import CreateImageMock

    marker = request.node.get_closest_marker("createimage")
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    unknown = set(options) - set(MARKER_OPTIONS)
    if unknown or (marker and marker.args):
        raise pytest.UsageError(
            f"@pytest.mark.createimage takes {', '.join(MARKER_OPTIONS)} by name, "
            f"not {', '.join(sorted(unknown)) or marker.args if marker else ''}"
        )
    with CreateImageMock(**options) as mock:
        yield mock


@pytest.fixture(scope="session")
def createimage_conformance(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Conformance:
    """The conformance run for the session, made once, shared with every xdist worker.

    A run without a verdict (a bug of ours stopped it, or it sent no request) ends the
    session with exit code 2 and one line, before any item can pass."""
    from createimage_contract.conformance import BaselineError, Conformance, load_baseline

    baseline: Path | None = pytestconfig.getoption("createimage_baseline")
    try:
        known = frozenset(load_baseline(baseline)) if baseline else frozenset()
    except BaselineError as problem:
        raise pytest.UsageError(str(problem)) from None
    result = _shared_result(pytestconfig, tmp_path_factory)
    reason = result.no_verdict
    if reason is not None:
        line = f"createimage-contract: {reason}"
        if hasattr(pytestconfig, "workeroutput"):
            pytestconfig.workeroutput[NO_VERDICT] = line
        # 2: the session is interrupted, and 2 is also what `run` exits with for this.
        pytest.exit(line, returncode=pytest.ExitCode.INTERRUPTED)
    return Conformance(result, known, bool(pytestconfig.getoption("createimage_strict")))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist, in the controller: a worker stopped because its run had no verdict.
    xdist reports that as a crashed worker and drops the worker's line; the summary prints it."""
    reason = getattr(node, "workeroutput", {}).get(NO_VERDICT)
    if reason:
        node.config.stash[_NO_VERDICT_SEEN] = reason


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    reason = config.stash.get(_NO_VERDICT_SEEN, None)
    if reason is not None:
        terminalreporter.write_line(reason, red=True, bold=True)


def _shared_result(config: pytest.Config, factory: pytest.TempPathFactory) -> RunResult:
    from filelock import FileLock

    if not hasattr(config, "workerinput"):
        return _run(config)
    shared = factory.getbasetemp().parent  # the same folder for every xdist worker
    path = shared / "createimage-conformance.pickle"
    with FileLock(str(shared / "createimage-conformance.lock")):
        if not path.exists():
            path.write_bytes(pickle.dumps(_run(config)))
        result: RunResult = pickle.loads(path.read_bytes())
        return result


def _run(config: pytest.Config) -> RunResult:
    """The session's run; its result also when a bug of ours stopped it (``internal_error``
    says so), so that every xdist worker reads the same one."""
    from createimage_contract.conformance import (
        InternalError,
        NoCredentials,
        Options,
        TargetError,
        run,
    )

    # Off loopback the run sends valid requests with DryRun only, as `run` does without
    # --allow-resource-creation: their items are skipped as not run.
    options = Options(**_suite_options(config))
    try:
        return run(
            endpoint=config.getoption("createimage_endpoint"),
            instance_id=config.getoption("createimage_instance_id"),
            options=options,
        )
    except (TargetError, NoCredentials) as problem:
        raise pytest.UsageError(f"createimage-contract: {problem}") from None
    except InternalError as stopped:
        return stopped.result
