"""Examples drawn ahead by forked generator processes (``conformance/_ahead.py``): the same
requests as drawn in the run's own process, names never taken twice, a child that fails is an
internal error, and Ctrl-C is the run's alone."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from interrupts import sigint_as_usual

from createimage_contract.conformance import (
    InternalError,
    Options,
    ReferenceService,
    RunResult,
    _engine,
    run,
    serve,
)
from createimage_contract.conformance._ahead import Drawn, can_fork
from createimage_contract.conformance._reference import Answer

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = "i-0123456789abcdef0"
SOME_OF_EACH = ("valid", "dry-run", "auth.signature", "name.length", "tag.key", "name.duplicate")
"""Planned requests, drawn ones, forged probes, and the names sent twice."""

pytestmark = pytest.mark.skipif(not can_fork(), reason="generator processes are forked: Linux")


class Recording(ReferenceService):
    """The reference, keeping every CreateImage request's fields."""

    def __init__(self) -> None:
        super().__init__([INSTANCE])
        self.requests: list[dict[str, str]] = []
        self._lock = threading.Lock()

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if fields.get("Action") == "CreateImage":
            with self._lock:
                self.requests.append(fields)
        return super().answer(method, url, headers, body)


def recorded_run(service: Recording, options: Options) -> RunResult:
    with serve(service) as running:
        return run(endpoint=running.url, instance_id=INSTANCE, options=options)


@pytest.fixture
def fixed_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each category's names start at a fixed place (a run picks them at random), so that
    two runs can be compared request by request."""
    monkeypatch.setattr(_engine, "_name_starts", lambda count: [i * 5000 for i in range(count)])


@pytest.mark.usefixtures("fixed_names")
def test_drawn_ahead_or_here_the_run_sends_the_same_requests() -> None:
    """Every category: planned requests, drawn ones, forged probes, names sent twice."""
    options = Options(max_examples=4, seed=7)
    sent: dict[int, Counter[str]] = {}
    outcomes: dict[int, RunResult] = {}
    for generators in (0, 1, 2):
        service = Recording()
        outcomes[generators] = recorded_run(service, replace(options, generators=generators))
        # Four in flight: the server may take them in another order than they were sent.
        sent[generators] = Counter(repr(sorted(fields.items())) for fields in service.requests)
    assert sum(sent[0].values()) > 500
    assert len(outcomes[0].rules) == len(_engine.category_names())
    assert sent[1] == sent[0] and sent[2] == sent[0]
    for generators in (1, 2):
        assert outcomes[generators].rules == outcomes[0].rules
        assert outcomes[generators].coverage == outcomes[0].coverage
        assert outcomes[generators].findings == {} == outcomes[0].findings


class SuccessesFail(Recording):
    """Answers 500 where it would create an image: a finding on every valid request, which
    the run then shrinks, drawing again."""

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = super().answer(method, url, headers, body)
        return Answer(500, answer.body) if answer.status == 200 else answer


@pytest.mark.parametrize("generators", [0, 2])
def test_shrinking_after_the_drawing_takes_names_of_its_own(generators: int) -> None:
    """A service remembers names: a name sent again would be refused as a duplicate (a false
    alarm). Shrinking draws the same examples again (the same seed), so it must take names
    after those the exploring took, wherever that drew. ``name.duplicate``: no planned
    requests, and each valid request is sent twice only when it succeeds (never, here)."""
    service = SuccessesFail()
    options = Options(max_examples=10, seed=3, rules=("name.duplicate",), workers=1)
    outcome = recorded_run(service, replace(options, generators=generators))
    assert outcome.rules["name.duplicate"].sent > 10, "the failure was shrunk"
    assert "status" in {finding.check for finding in outcome.findings.values()}
    names = Counter(fields["Name"] for fields in service.requests)
    assert [name for name, times in names.items() if times > 1] == []


def test_a_generator_that_dies_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn_here = _engine._Plan.draw

    def dies_at_the_second(plan: Any, index: int) -> Drawn:
        if index == 1:
            os._exit(3)
        return drawn_here(plan, index)

    monkeypatch.setattr(_engine._Plan, "draw", dies_at_the_second)
    options = Options(max_examples=3, seed=1, rules=("valid", "name.length"), generators=1)
    with pytest.raises(InternalError) as stopped:
        recorded_run(Recording(), options)
    line = "the process drawing examples ended (exit code 3) before category 2"
    assert str(stopped.value) == line
    assert list(stopped.value.result.rules) == ["valid"], "the first category was sent"
    assert multiprocessing.active_children() == []


def test_a_generator_ignores_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C is the run's to handle (it reports, and removes what it created); a SIGINT that
    reaches a generator changes nothing."""
    drawn_here = _engine._Plan.draw

    def interrupted(plan: Any, index: int) -> Drawn:
        os.kill(os.getpid(), signal.SIGINT)  # in the child
        return drawn_here(plan, index)

    monkeypatch.setattr(_engine._Plan, "draw", interrupted)
    options = Options(max_examples=3, seed=1, rules=("valid", "name.length"), generators=1)
    outcome = recorded_run(Recording(), options)
    assert list(outcome.rules) == ["valid", "name.length"] and outcome.findings == {}


def run_in_a_pool_worker(generators: int | None) -> tuple[int, list[str]]:
    """A small run's request count and notes (in a ``multiprocessing.Pool`` worker, which
    may not have children)."""
    options = Options(max_examples=2, seed=1, rules=("valid", "name.length"))
    outcome = recorded_run(Recording(), replace(options, generators=generators))
    return outcome.requests, outcome.notes


@pytest.mark.parametrize("generators", [None, 2])
def test_a_run_in_a_process_that_may_not_fork_draws_its_own(generators: int | None) -> None:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        requests, notes = pool.apply(run_in_a_pool_worker, (generators,))
    assert requests > 30
    if generators is None:
        assert notes == []
    else:
        assert notes == [
            "--generators 2: no process can be forked safely here (only on Linux, and not from "
            "a pool's worker); the examples were drawn in the run's own process"
        ]


def test_generators_end_with_the_run() -> None:
    recorded_run(Recording(), Options(max_examples=2, seed=1, rules=SOME_OF_EACH, generators=2))
    assert multiprocessing.active_children() == []


def processes_in_group(group: int) -> list[int]:
    """The processes of a process group (Linux: read from /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        fields = stat.rpartition(")")[2].split()
        if int(fields[2]) == group and fields[0] != "Z":  # pgrp; zombies are gone already
            members.append(int(entry.name))
    return members


@pytest.fixture
def run_in_own_group() -> Iterator[subprocess.Popen[str]]:
    """``createimage-contract run`` in a process group of its own, as a terminal's foreground
    job is: Ctrl-C there is a SIGINT to every process of the group."""
    command = [sys.executable, "-m", "createimage_contract", "run", "--max-examples", "300"]
    process = subprocess.Popen(
        [*command, "--generators", "2", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=sigint_as_usual,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()


def test_ctrl_c_reaches_the_run_and_no_generator(
    run_in_own_group: subprocess.Popen[str],
) -> None:
    process = run_in_own_group
    assert process.stdout is not None
    header = process.stdout.readline()
    assert header.startswith("createimage-contract "), header
    first = process.stdout.readline()  # the first category is done: the generators are busy
    assert " valid " in first, first
    assert len(processes_in_group(process.pid)) >= 4, "the run, the reference, 2 generators"
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err
    deadline = time.monotonic() + 10
    while processes_in_group(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_in_group(process.pid) == [], "a process of the run outlived it"
    assert "createimage-contract " not in out, "the header was written once, not again"
