"""Requests per second of a conformance run, next to a plain HTTP loop against the same server.

Run it by hand from the project root; it is not a test and pytest never collects it::

    .venv/bin/python benchmarks/run_throughput.py [--max-examples N] [--repeat R]
        [--server reference|wsgiref|both] [--generators N]

It measures against two kinds of server, each started afresh for every measure:

- ``reference``: the reference implementation as ``run`` starts it (``reference_process``: on
  a free loopback port, in a process of its own; HTTP/1.1, connections kept open). The run
  sends every category.
- ``wsgiref``: the standard library's ``wsgiref`` server (HTTP/1.0: it closes the connection
  after each answer, and serves one request at a time), in a child process on a free loopback
  port, with a tiny application that reads the body and answers every request with the same
  small EC2 error (400, ``InvalidParameterValue``). The run sends only the categories for
  which that answer conforms (the rules that take any 4xx, or that code), so that it has no
  findings, and so no shrinking: the measure is throughput, not Hypothesis shrinking.

For each, every round measures, back to back under the same load of the machine:

- the run: ``Engine(...).run()`` with the default options (every check), ``--max-examples``
  examples per category (20 unless told) and a fixed seed. Its rate is the outcome's request
  count over the outcome's duration: Hypothesis generation, SigV4 signing, HTTP, XML parsing,
  the checks, DescribeImages and the server's own work, all in. The examples are drawn ahead
  by the run's generator processes (``--generators``: the run's default unless told; 0
  draws them in the run's own process, as runs did before).
- the loop: one ``requests.Session`` POSTing the very forms the run sent (recorded by the
  transport, DescribeImages included), every one signed before the clock starts, and each
  answer read in full. Against the reference it replays them after the run, so the names the
  run created are taken and the valid forms get 400 (name.duplicate) where the run got 200;
  the server still reads, validates and answers each, which is what a throughput limit needs.
- the run with ``--workers 1`` (one request in flight instead of four), on a fresh server.
- the run's own work: the same run (same categories, same seed, same generator processes)
  with no checks, through a transport that signs each request and answers it at once with the
  fixed error, sending nothing: Hypothesis generating the examples, signing, and the engine
  around them. The loop over it is the ratio the run would reach if HTTP and the checks cost
  nothing.

The run's time is also split, per request, into where it went (``time.perf_counter``
accumulators around the transport's and the engine's steps, each exclusive of what it calls):
signing (and forging the probes), sending (connecting and writing the request), waiting and
reading the answer (whatever of the server's time the run did not spend generating), parsing
the answer's XML, the checks (DescribeImages goes to the transport's rows), and the rest:
Hypothesis generating the examples (or, drawn ahead, waiting for a generator process to have
drawn them), and the engine around them. The accumulators cost a few microseconds a request.
Beside them, the CPU time per request of this process (and of the generator processes, which
end with the run), in the run and in the loop (the server's CPU is in neither): on a machine
whose cores are all busy the ratio follows the CPU both sides spend rather than the waits.

Ratios are given round by round (a round's measures are taken back to back, under the same
load of the machine), as a median and a range. The first round of the first server is the
first run in the process (a cold start, as each ``createimage-contract run`` is: Hypothesis
builds its tables then); the medians are of every round. Goals: a median ratio run / loop of
at least 0.6 against both servers (0.8 would be the moonshot), and a default run against the
reference in under 15 s of wall time on a 2-core machine. The script reports whether each goal
is met and exits 0 either way.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import hypothesis
import requests

from createimage_contract.conformance import (
    Options,
    RunResult,
    Target,
    _checks,
    _engine,
    automatic_generators,
)
from createimage_contract.conformance._engine import Engine, category_names
from createimage_contract.conformance._probes import Forgery
from createimage_contract.conformance._targets import reference_process
from createimage_contract.conformance._transport import (
    Pending,
    Response,
    Sent,
    Transport,
    credentials_for,
    redact,
)
from createimage_contract.schema import rule

SEED = 0
RATIO_GOAL = 0.6
RATIO_MOONSHOT = 0.8
WALL_GOAL_S = 15.0
TIMEOUT_S = 10.0
REGION = "us-east-1"
SERVERS = ("reference", "wsgiref")
WSGIREF_CODE = "InvalidParameterValue"
WSGIREF_ANSWER = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>'
    + WSGIREF_CODE.encode()
    + b"</Code><Message>The parameter is not valid.</Message></Error></Errors>"
    b"<RequestID>5f1b2b8e-7d4e-4a61-9b8e-2f4b8f0c9a11</RequestID></Response>"
)
WSGIREF_INSTANCE = "i-0123456789abcdef0"
PHASES = ("generation", "signing", "sending", "reading", "parsing", "checks")
PHASE_NAMES = {
    "generation": "generation and engine",  # or waiting for the generator processes
    "signing": "signing",
    "sending": "sending",
    "reading": "waiting and reading",
    "parsing": "parsing XML",
    "checks": "checks",
}


# --- the wsgiref server ---------------------------------------------------------------------


WSGIREF_SERVER = """
import os, sys, threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

ANSWER = sys.argv[1].encode()

class Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass

def app(environ, start_response):
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    headers = [("Content-Type", "text/xml;charset=UTF-8"), ("Content-Length", str(len(ANSWER)))]
    start_response("400 Bad Request", headers)
    return [ANSWER]

server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(server.server_port, flush=True)

def stop_when_stdin_closes():
    sys.stdin.read()
    os._exit(0)

threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
server.serve_forever()
"""
"""The wsgiref server, run by ``python -c`` (nothing of the project imported): on a free
loopback port, which it prints; the answer is its argument; it stops when its stdin closes."""


@contextmanager
def wsgiref_process() -> Iterator[str]:
    """A wsgiref server in a child process: its URL."""
    child = subprocess.Popen(
        [sys.executable, "-c", WSGIREF_SERVER, WSGIREF_ANSWER.decode()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        port = child.stdout.readline().strip()
        if not port.isdigit():
            raise RuntimeError(f"the wsgiref server did not start: {port!r}")
        yield f"http://127.0.0.1:{port}/"
    finally:
        child.stdin.close()
        child.wait(10)


def wsgiref_categories() -> tuple[str, ...]:
    """The categories whose requests the fixed answer (400, ``InvalidParameterValue``) suits:
    rules with any 4xx or that code (and, for authentication, a code EC2 documents)."""
    chosen = []
    for name in category_names():
        if name in (_checks.VALID, _checks.DRY_RUN, _engine.DUPLICATE):
            continue
        broken = rule(name)
        if broken.status not in (None, 400) or broken.code not in (None, WSGIREF_CODE):
            continue
        if broken.kind == "auth" and WSGIREF_CODE not in broken.documented_codes:
            continue
        chosen.append(name)
    return tuple(chosen)


@contextmanager
def server(kind: str) -> Iterator[tuple[str, str]]:
    """A fresh server of ``kind``: its URL and an instance it holds."""
    if kind == "reference":
        with reference_process(None) as (url, instance_id):
            yield url, instance_id
    else:
        with wsgiref_process() as url:
            yield url, WSGIREF_INSTANCE


# --- where the time goes --------------------------------------------------------------------


class Phases:
    """Exclusive time per phase: entering one pauses the one it is called from. One thread
    (the engine's) enters them."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self._stack: list[str] = []
        self._mark = 0.0

    def enter(self, name: str) -> None:
        now = time.perf_counter()
        if self._stack:
            self.seconds[self._stack[-1]] += now - self._mark
        self._stack.append(name)
        self._mark = now

    def leave(self) -> None:
        now = time.perf_counter()
        self.seconds[self._stack.pop()] += now - self._mark
        self._mark = now

    def timed(self, name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.enter(name)
            try:
                return call(*args, **kwargs)
            finally:
                self.leave()

        return wrapped


@contextmanager
def engine_timed(phases: Phases) -> Iterator[None]:
    """The engine's parsing (``Exchange``) and checks (``_Session._judge``) timed."""
    session, exchange = _engine._Session, _checks.Exchange
    judge, post_init = session._judge, exchange.__post_init__
    session._judge = phases.timed("checks", judge)  # type: ignore[method-assign]
    exchange.__post_init__ = phases.timed("parsing", post_init)  # type: ignore[method-assign]
    try:
        yield
    finally:
        session._judge = judge  # type: ignore[method-assign]
        exchange.__post_init__ = post_init  # type: ignore[method-assign]


class RecordingTransport(Transport):
    """A ``Transport`` that keeps every form it sends, in order, counts the answers, and times
    its steps."""

    def __init__(self, endpoint: str, region: str, phases: Phases) -> None:
        super().__init__(endpoint, region, credentials_for(endpoint), TIMEOUT_S)
        self.forms: list[str] = []
        self.statuses: Counter[int | None] = Counter()
        self.phases = phases
        self._begin = phases.timed("sending", self._begin)  # type: ignore[method-assign]

    def start(self, form: str, forgery: Forgery | None = None) -> Pending:
        self.forms.append(form)
        self.phases.enter("signing")  # all of start but _begin: signing, or forging
        try:
            pending = super().start(form, forgery)
        finally:
            self.phases.leave()
        return Pending(
            pending.sent, self.phases.timed("reading", lambda: self._counted(pending.answer()))
        )

    def _counted(self, response: Response) -> Response:
        self.statuses[response.status] += 1
        return response


class AnsweringTransport(Transport):
    """Sends nothing: every request gets the same small error answer at once."""

    ANSWER = Response(400, {"content-type": "text/xml;charset=UTF-8"}, WSGIREF_ANSWER)

    def __init__(self, endpoint: str, region: str) -> None:
        super().__init__(endpoint, region, credentials_for(endpoint), TIMEOUT_S)

    def start(self, form: str, forgery: Forgery | None = None) -> Pending:
        body = form.encode()
        headers, _ = forgery.forge(self.signing, body) if forgery else self.signed(form)
        return Pending(Sent("POST", self.endpoint, redact(headers), form), lambda: self.ANSWER)


# --- the measures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRound:
    outcome: RunResult
    wall_s: float
    forms: list[str]
    statuses: Counter[int | None]
    phases: dict[str, float]
    """Seconds per phase; ``generation`` is what the others leave of the run's duration."""
    cpu_s: float
    """CPU time of this process (all its threads) during the run."""
    children_cpu_s: float
    """CPU time of the generator processes (they end with the run, the servers do not)."""

    @property
    def rate(self) -> float:
        return self.outcome.requests / self.outcome.duration_s


@dataclass(frozen=True)
class LoopRound:
    requests: int
    seconds: float
    statuses: Counter[int | None]
    cpu_s: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def conformance_run(url: str, instance_id: str, kind: str, options: Options) -> RunRound:
    target = Target(url, kind if kind == "reference" else "endpoint", instance_id, REGION)
    phases = Phases()
    transport = RecordingTransport(url, target.region, phases)
    try:
        with engine_timed(phases):
            start, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
            outcome = Engine(target, transport, options, []).run()
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            children = children_cpu() - children
    finally:
        transport.close()
    seconds = dict(phases.seconds)
    seconds["generation"] = outcome.duration_s - sum(seconds.values())
    return RunRound(outcome, wall, transport.forms, transport.statuses, seconds, cpu, children)


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (the generator processes)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_work(options: Options) -> RunResult:
    """A run with no HTTP, no server and no checks: generation, signing and the engine."""
    url = "http://127.0.0.1:9/"
    target = Target(url, "reference", WSGIREF_INSTANCE, REGION)
    transport = AnsweringTransport(url, REGION)
    bare = dataclasses.replace(options, checks=())
    return Engine(target, transport, bare, []).run()


def replay(url: str, forms: list[str]) -> LoopRound:
    """POST ``forms`` to ``url`` from one plain session, signed before the clock starts."""
    signer = Transport(url, REGION, credentials_for(url), TIMEOUT_S)
    prepared = [signer.signed(form) for form in forms]
    signer.close()
    statuses: Counter[int | None] = Counter()
    with requests.Session() as session:
        session.trust_env = False
        start, cpu = time.perf_counter(), time.process_time()
        for headers, body in prepared:
            answer = session.post(url, data=body, headers=headers, timeout=TIMEOUT_S)
            _ = answer.content
            statuses[answer.status_code] += 1
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return LoopRound(len(prepared), seconds, statuses, cpu)


@dataclass
class Measures:
    kind: str
    options: Options
    runs: list[RunRound] = dataclasses.field(default_factory=list)
    loops: list[LoopRound] = dataclasses.field(default_factory=list)
    one_in_flight: list[RunRound] = dataclasses.field(default_factory=list)
    own: list[RunResult] = dataclasses.field(default_factory=list)

    def round(self) -> None:
        with server(self.kind) as (url, instance_id):
            run = conformance_run(url, instance_id, self.kind, self.options)
            self.runs.append(run)
            self.loops.append(replay(url, run.forms))
        with server(self.kind) as (url, instance_id):
            one = dataclasses.replace(self.options, workers=1)
            self.one_in_flight.append(conformance_run(url, instance_id, self.kind, one))
        self.own.append(own_work(self.options))

    def ratios(self) -> list[float]:
        return [run.rate / loop.rate for run, loop in zip(self.runs, self.loops, strict=True)]


def count_statuses(statuses: Counter[int | None]) -> str:
    return ", ".join(
        f"{'none' if status is None else status}: {n}"
        for status, n in sorted(statuses.items(), key=lambda item: item[0] or 0)
    )


def spread(values: list[float], form: str = ".3f") -> str:
    ordered = sorted(values)
    median = statistics.median(ordered)
    return f"median {median:{form}}, range {ordered[0]:{form}}-{ordered[-1]:{form}}"


def report(measures: Measures, max_examples: int, cold: bool) -> None:
    """Print what was measured against one kind of server (``cold``: its first round was the
    first run in the process)."""
    runs, loops, options = measures.runs, measures.loops, measures.options
    first = runs[0].outcome
    categories = "all" if options.rules is None else "the conforming"
    print(
        f"\n== {measures.kind}: {categories} {len(first.rules)} categories, all "
        f"{len(options.checks)} checks, max_examples {max_examples}, seed {SEED}, workers "
        f"{options.workers}, generators {generators(options)}; {len(runs)} rounds, each on "
        "fresh servers"
    )
    for number, (run, loop) in enumerate(zip(runs, loops, strict=True), start=1):
        outcome = run.outcome
        print(
            f"  round {number}: run {outcome.requests} requests in {outcome.duration_s:.2f} s "
            f"({run.rate:,.0f} req/s, wall {run.wall_s:.2f} s, {len(outcome.findings)} findings"
            f"{', notes: ' + '; '.join(outcome.notes) if outcome.notes else ''}); "
            f"loop {loop.requests} in {loop.seconds:.2f} s ({loop.rate:,.0f} req/s); "
            f"ratio {run.rate / loop.rate:.2f}{' (cold)' if cold and number == 1 else ''}"
        )
        print(
            f"    answers: run {count_statuses(run.statuses)}; loop {count_statuses(loop.statuses)}"
        )
        if outcome.internal_error:
            print(f"    INTERNAL ERROR: {outcome.internal_error}")
    if any(run.outcome.findings for run in runs) and measures.kind == "wsgiref":
        print("  WARNING: findings against the fixed answer: the run shrank, the rate is off")
    print(f"  run rate:   {spread([r.rate for r in runs], ',.0f')} requests/s")
    print(f"  loop rate:  {spread([r.rate for r in loops], ',.0f')} requests/s")
    ratios = measures.ratios()
    median = statistics.median(ratios)
    verdict = "met" if median >= RATIO_GOAL else "NOT met"
    moonshot = ", moonshot met" if median >= RATIO_MOONSHOT else ""
    print(
        f"  ratio run / loop, round by round: {spread(ratios)} "
        f"(goal >= {RATIO_GOAL}: {verdict}{moonshot})"
    )
    ones = [one.rate / loop.rate for one, loop in zip(measures.one_in_flight, loops, strict=True)]
    print(
        f"  run --workers 1: {spread([r.rate for r in measures.one_in_flight], ',.0f')} "
        f"requests/s; ratio to the loop {spread(ones)}"
    )
    own_each = [o.duration_s / o.requests for o in measures.own]
    ceiling = [
        loop.seconds / loop.requests / own for loop, own in zip(loops, own_each, strict=True)
    ]
    print(
        f"  the run's own work (generation, signing, the engine; no HTTP, no checks): "
        f"{spread([own * 1e6 for own in own_each], '.0f')} microseconds per example; "
        f"loop / own work {spread(ceiling)} (the most a run could reach, were HTTP and the "
        "checks free)"
    )
    print("  per request, in microseconds (median over rounds):")
    per_request = {
        phase: statistics.median(r.phases.get(phase, 0.0) / r.outcome.requests for r in runs) * 1e6
        for phase in PHASES
    }
    total = statistics.median(r.outcome.duration_s / r.outcome.requests for r in runs) * 1e6
    loop_each = statistics.median(r.seconds / r.requests for r in loops) * 1e6
    for phase in PHASES:
        print(f"    {PHASE_NAMES[phase]:24} {per_request[phase]:7.0f}")
    print(f"    {'run, all in':24} {total:7.0f}   (the loop: {loop_each:.0f} per request)")
    run_cpu = statistics.median(r.cpu_s / r.outcome.requests for r in runs) * 1e6
    drawing_cpu = statistics.median(r.children_cpu_s / r.outcome.requests for r in runs) * 1e6
    loop_cpu = statistics.median(r.cpu_s / r.requests for r in loops) * 1e6
    print(
        f"    {'CPU of this process':24} {run_cpu:7.0f}   (the loop: {loop_cpu:.0f}; the server's "
        "is in neither: on a busy machine the ratio follows the CPU both sides spend)"
    )
    print(f"    {'CPU of the generators':24} {drawing_cpu:7.0f}")


def generators(options: Options) -> str:
    if options.generators is not None:
        return str(options.generators)
    return f"{automatic_generators()} (the default here)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--max-examples", type=int, default=20, help="examples per category (default 20)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds, each on fresh servers (3)")
    parser.add_argument(
        "--server", choices=(*SERVERS, "both"), default="both", help="which servers (both)"
    )
    parser.add_argument(
        "--generators",
        type=int,
        help="the run's generator processes (its default unless told; 0: none, as before)",
    )
    args = parser.parse_args(argv)
    max_examples: int = args.max_examples
    repeat: int = args.repeat
    if max_examples < 1:
        parser.error("--max-examples must be at least 1")
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    options = Options(max_examples=max_examples, seed=SEED, generators=args.generators)
    kinds = SERVERS if args.server == "both" else (args.server,)
    measures = [
        Measures(
            kind,
            options
            if kind == "reference"
            else dataclasses.replace(options, rules=wsgiref_categories()),
        )
        for kind in kinds
    ]
    for _ in range(repeat):  # interleaved: every measure sees the machine's load of the moment
        for measure in measures:
            measure.round()

    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    print(f"Hypothesis {hypothesis.__version__}, requests {requests.__version__}")
    print(f"os.cpu_count(): {os.cpu_count()}")
    for number, measure in enumerate(measures):
        report(measure, max_examples, cold=number == 0)
    reference = next((m for m in measures if m.kind == "reference"), None)
    if reference is not None:
        walls = [r.wall_s for r in reference.runs]
        wall_verdict = "met" if max(walls) < WALL_GOAL_S else "NOT met"
        if max_examples != Options().max_examples:
            wall_verdict = "not a default run, not judged"
        print(
            f"wall time of the run against the reference: {spread(walls, '.2f')} s (goal < "
            f"{WALL_GOAL_S:.0f} s for a default run on 2 cores: {wall_verdict})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
