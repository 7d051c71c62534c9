"""The pytest plugin: the conformance suite as pytest items, a reference service, a strict mock.

Registered through the ``pytest11`` entry point. Importing it costs little: everything heavy
is imported when a fixture or the suite is used, so that installing createimage-contract does
not slow down test runs that do not use it.

- ``pytest --pyargs createimage_contract.conformance.suite [--createimage-endpoint URL ...]``
  runs the conformance suite, one item per check x rule. Under pytest-xdist the controller
  makes the run and hands the workers each item's verdict, in builtins: they import the
  runner only to issue a warning.
- ``createimage_reference``: a reference implementation for the session (``.url``,
  ``.instance_id``).
- ``createimage_mock``: a strict mock of CreateImage for unit tests, configured per test with
  ``@pytest.mark.createimage(instances=[...], taken_names=[...], endpoints=[...])``.

The suite's settings are its ``--createimage-*`` options, or else ``[tool.createimage-contract]``
in the nearest ``pyproject.toml``; they are checked when the session starts, and a bad one is
one usage error (exit code 4) that names it.
"""

from __future__ import annotations

import functools
import random
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from importlib.util import find_spec, module_from_spec, spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from ._suite_settings import SuiteSettings, checked
from ._suite_verdicts import Verdicts, awaited, run_to, run_verdicts, suite_pairs

if TYPE_CHECKING:
    from createimage_contract.conformance import (
        CreateImageMock,
        Running,
    )

MARKER_OPTIONS = ("instances", "taken_names", "endpoints")
NO_VERDICT = "createimage_no_verdict"
"""Where an xdist worker hands the controller the reason its run had no verdict."""
RESULT_FILE = "createimage_result"
"""In an xdist worker's ``workerinput``: the file the controller writes the session's verdicts
to."""
ITEMS = "createimage_items"
"""In an xdist worker's ``workerinput``: the suite's check x rule pairs, and the checks chosen."""
SUITE_MODULE = "createimage_contract.conformance.suite"
SUITE_NODEID = "createimage_contract/conformance/suite.py"
"""The suite's file, as its items name it when it lies outside the rootdir."""
_NO_VERDICT_SEEN = pytest.StashKey[str]()
_SHARED = pytest.StashKey[Path]()
_CHOSEN = pytest.StashKey[frozenset[str]]()
"""The checks chosen, in an xdist worker that the controller told (``ITEMS``)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("createimage", "createimage-contract conformance suite")
    group.addoption(
        "--createimage-endpoint",
        metavar="URL",
        help="the CreateImage service to check (default: the embedded reference)",
    )
    group.addoption("--createimage-instance-id", metavar="ID", help="an instance it holds")
    # No defaults here: the runner's own apply (`createimage-contract run --help` shows
    # them); importing the runner to name them would slow down every pytest run. Values are
    # checked when the suite runs, each mistake in one line (argparse's are two).
    group.addoption(
        "--createimage-region", metavar="R", help="for SigV4 (default: as for run --region)"
    )
    group.addoption(
        "--createimage-max-examples",
        metavar="N",
        help="examples per rule (default: as for run --max-examples)",
    )
    group.addoption(
        "--createimage-credentials",
        metavar="WHICH",
        help="what requests are signed with: fixed, env or auto (default: as for run)",
    )
    group.addoption(
        "--createimage-checks",
        metavar="IDS",
        help="only these checks, comma-separated (the others' items are deselected)",
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
    if config.getoption("createimage_seed") is None:
        # One seed for the session, the same in every xdist worker (they read the run's file).
        config.option.createimage_seed = random.SystemRandom().randrange(2**32)
    if not _runs_suite(config):
        return
    items = getattr(config, "workerinput", {}).get(ITEMS)
    if items is not None:
        # An xdist worker the controller told everything it needs (pytest_configure_node): it
        # checks nothing again, and imports neither the runner nor its dependencies.
        config.stash[_CHOSEN] = frozenset(items["checks"])
        _collect_by_path(config)
    else:
        # Every mistake is one usage error now, not an error per item later. A worker of
        # pytest-xdist that was not told checks again, but leaves reaching the endpoint to the
        # controller.
        reach = not hasattr(config, "workerinput") and not config.getoption("collectonly")
        config.stash[_SUITE] = checked(config, reach=reach)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Under pytest-xdist the controller starts the run now, before its workers."""
    if _SUITE in session.config.stash and _distributes(session.config):
        _start_shared_run(session.config)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """In an xdist worker the controller told, that never imported hypothesis: no item of its
    ran a hypothesis test, and hypothesis's pytest plugin has nothing to report; but its
    ``pytest_terminal_summary`` imports hypothesis all the same (half a second of CPU, at the
    end of the session, which waits for it), for a summary that a worker writes nowhere."""
    config = session.config
    if _CHOSEN in config.stash and "hypothesis" not in sys.modules:
        hypothesis_plugin = config.pluginmanager.get_plugin("hypothesispytest")
        if hypothesis_plugin is not None:
            config.pluginmanager.unregister(hypothesis_plugin)


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(_SHARED, None)
    if shared is not None:
        shutil.rmtree(shared.parent, ignore_errors=True)


def pytest_report_header(config: pytest.Config) -> str | None:
    suite = config.stash.get(_SUITE, None)
    if suite is None:
        return None
    target = suite.endpoint or "the embedded reference"
    return f"createimage-contract: {target}, seed {suite.options.seed}"


# --- the suite's settings ----------------------------------------------------------------------


_SUITE = pytest.StashKey[SuiteSettings]()


def _suite(config: pytest.Config) -> SuiteSettings:
    """The suite's settings; checked here when pytest_configure did not know the suite runs."""
    if _SUITE not in config.stash:
        config.stash[_SUITE] = checked(config, reach=False)
    return config.stash[_SUITE]


def _runs_suite(config: pytest.Config) -> bool:
    return any("conformance.suite" in str(arg) or "suite.py" in str(arg) for arg in config.args)


# --- the suite's items -------------------------------------------------------------------------


@functools.cache
def _suite_file() -> Path | None:
    """Where the suite's file is, found without importing the runner."""
    spec = find_spec("createimage_contract.conformance")
    folders = spec.submodule_search_locations if spec is not None else None
    return (Path(next(iter(folders))) / "suite.py").resolve() if folders else None


def _collect_by_path(config: pytest.Config) -> None:
    """An xdist worker collects the suite by its file: pytest finds a ``--pyargs`` module with
    ``importlib.util.find_spec``, which imports the package it is in, and with it the runner."""
    if not config.getoption("pyargs") or _suite_file() is None:
        return
    parts = [arg.partition("::") for arg in config.args]
    config.args[:] = [
        f"{_suite_file()}{sep}{rest}" if name == SUITE_MODULE else name + sep + rest
        for name, sep, rest in parts
    ]


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The suite's folder is collected as a plain folder, not as a package: pytest sets up a
    package by importing its ``__init__.py`` by path, which is the runner (in an editable
    install, a second copy of it, named after the folder)."""
    suite_file = _suite_file()
    if suite_file is None or path.resolve() != suite_file.parent:
        return None
    return pytest.Dir.from_parent(parent, path=path)


def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    """The suite's file is imported alone (``SuiteSettingsModule``).

    A node id starts with the file's path from the rootdir. For a file outside it that was
    named on the command line, as ``--pyargs`` names the suite (installed, or in a checkout
    elsewhere), pytest leaves that part empty (pytest issue 11245): the items read
    ``::test_conformance[...]``, and JUnit's classname is empty. The suite's file is then
    named as the package names it."""
    if module_path.name != "suite.py" or module_path.resolve() != _suite_file():
        return None
    inside = module_path.is_relative_to(parent.config.rootpath)
    nodeid = None if inside else SUITE_NODEID
    return SuiteSettingsModule.from_parent(parent, path=module_path, nodeid=nodeid)


class SuiteSettingsModule(pytest.Module):
    """The suite's file, imported as the package's module but without the package: its
    ``__init__`` is the runner and what it needs (hypothesis, botocore, lxml), which an xdist
    worker that reads the controller's verdicts does not need (importing it took 0.8 s of a
    worker's 1.2 s of CPU, on a machine that the run keeps busy)."""

    def _getobj(self) -> ModuleType:
        module = sys.modules.get(SUITE_MODULE)
        if module is not None and Path(str(module.__file__)).resolve() == self.path.resolve():
            return module
        spec = spec_from_file_location(SUITE_MODULE, self.path)
        if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
            raise self.CollectError(f"cannot import {self.path}")
        module = module_from_spec(spec)
        sys.modules[SUITE_MODULE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[SUITE_MODULE]
            raise
        return module


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The suite's items: one per check x rule, as the controller of pytest-xdist told the
    worker (``ITEMS``), or else as the runner says."""
    function = metafunc.function
    if (function.__module__, function.__name__) != (SUITE_MODULE, "test_conformance"):
        return
    items = getattr(metafunc.config, "workerinput", {}).get(ITEMS)
    pairs = [(check, rule) for check, rule in items["pairs"]] if items else suite_pairs()
    metafunc.parametrize(("check", "rule"), pairs, ids=[f"{c}-{r}" for c, r in pairs])


def _chosen(config: pytest.Config) -> frozenset[str] | None:
    """The checks chosen, when the suite runs."""
    if _CHOSEN in config.stash:
        return config.stash[_CHOSEN]
    suite = config.stash.get(_SUITE, None)
    return None if suite is None else frozenset(suite.options.checks)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The items of checks left out (``--createimage-checks``) are deselected."""
    chosen = _chosen(config)
    if chosen is None:
        return
    left_out = [item for item in items if _check_of(item) not in (None, *chosen)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        dropped = set(map(id, left_out))
        items[:] = [item for item in items if id(item) not in dropped]


def _check_of(item: pytest.Item) -> str | None:
    """The check of a suite item; ``None`` for any other item."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or item.path.resolve() != _suite_file():
        return None
    check: str | None = callspec.params.get("check")
    return check


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
def createimage_verdicts(
    pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory
) -> Verdicts:
    """What each item of the suite reports, from the session's conformance run: made once,
    shared with every xdist worker.

    A run without a verdict (a bug of ours stopped it, it sent no request, or it could not be
    made) ends the session with exit code 2 and one line, before any item can pass."""
    outcome = _shared_verdicts(pytestconfig, tmp_path_factory)
    if isinstance(outcome, str):
        _end_session(pytestconfig, outcome)
    return outcome


def _end_session(config: pytest.Config, reason: str) -> NoReturn:
    line = f"createimage-contract: {reason}"
    if hasattr(config, "workeroutput"):
        config.workeroutput[NO_VERDICT] = line
    # 2: the session is interrupted, and 2 is also what `run` exits with for this.
    pytest.exit(line, returncode=pytest.ExitCode.INTERRUPTED)


def _distributes(config: pytest.Config) -> bool:
    """Whether this is pytest-xdist's controller, which will hand the items to workers (its
    own test: it has set ``dist`` from ``-n`` by now)."""
    return (
        not hasattr(config, "workerinput")
        and config.pluginmanager.hasplugin("xdist")
        and config.getoption("dist", "no") != "no"
        and not config.getoption("collectonly")
    )


def _start_shared_run(config: pytest.Config) -> Path:
    """The xdist controller makes the run, in a thread, from the start of the session: the
    workers start and collect meanwhile, then read the items' verdicts from the file returned.
    When the first worker to need it made it, the run began only once that worker was up, and
    -n 2 took 6.3 s against 4.9 s for a serial session (2 cores); 5.6 s once the controller
    made it, the workers' start (importing the runner) taking CPU from the run. The workers
    now import neither the runner nor its dependencies (``ITEMS``, ``SuiteSettingsModule``,
    ``pytest_sessionfinish``), and -n 2 is no slower than serial (5.0 s and 5.1 s)."""
    if _SHARED not in config.stash:
        path = Path(tempfile.mkdtemp(prefix="createimage-contract-")) / "verdicts.pickle"
        config.stash[_SHARED] = path
        args = (config.stash[_SUITE], _strict(config), path)
        thread = threading.Thread(target=run_to, args=args, name="createimage-run")
        thread.daemon = True  # an interrupted session does not wait for it
        thread.start()
    return config.stash[_SHARED]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, in the controller, before it starts each worker: the suite's items, and
    where their verdicts will be."""
    config: pytest.Config = node.config
    if _SUITE in config.stash:  # else a worker that needs the run makes it (_shared_verdicts)
        node.workerinput[RESULT_FILE] = str(_start_shared_run(config))
        checks = list(config.stash[_SUITE].options.checks)
        node.workerinput[ITEMS] = {
            "pairs": [list(pair) for pair in suite_pairs()],
            "checks": checks,
        }


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


def _shared_verdicts(config: pytest.Config, factory: pytest.TempPathFactory) -> Verdicts | str:
    """The verdicts of the session's run: made here, or by the xdist controller
    (``_start_shared_run``), or else (the controller did not know the suite runs) by the first
    worker to need them. A line instead when the run has no verdict."""
    from filelock import FileLock

    if not hasattr(config, "workerinput"):
        return run_verdicts(_suite(config), _strict(config))
    if RESULT_FILE in config.workerinput:
        return awaited(Path(config.workerinput[RESULT_FILE]))
    shared = factory.getbasetemp().parent  # the same folder for every xdist worker
    path = shared / "createimage-conformance.pickle"
    with FileLock(str(shared / "createimage-conformance.lock")):
        if not path.exists():
            run_to(_suite(config), _strict(config), path)
    return awaited(path)


def _strict(config: pytest.Config) -> bool:
    return bool(config.getoption("createimage_strict"))
