"""``createimage-contract selftest``: the proof that the conformance run works.

The default suite (what ``run`` sends with no options) runs against built-in variants of the
reference implementation (``conformance/_variants.py``): each faulty one must be caught, each
conformant one must pass. Every variant is served in a process of its own, as ``run`` serves
the reference, and checked in a worker process of a pool, ``--jobs`` at a time: a run and the
service it talks to work side by side, and a few of them keep both cores busy.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._console import (
    EXIT_FOUND,
    EXIT_OK,
    NORMAL,
    QUIET,
    SEED,
    VERBOSE,
    Style,
    error,
    id_list,
    new_seed,
    whole_number,
    write_out,
)
from ._values import check_ids, max_examples

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .conformance import Child

DEFAULT_JOBS = 2
"""Measured on 2 cores, 61 variants: 156 s one at a time, 99 s two, 106 s three, 103 s four.
A run and its service keep about 1.2 cores busy: two of them fill both cores."""
SHOWN_FINDINGS = 3
"""Findings listed in a row of the table; the rest are counted."""

EPILOG = """\
Each faulty variant deviates from the contract in one way: it is caught when the run reports
an error under one of the rules the variant names. Each conformant variant differs from the
reference only where the contract allows: any error reported about it is a false alarm.

exit codes:
  0  every faulty variant caught, and no false alarm
  1  a faulty variant was missed, or a conformant one was reported
  2  the selftest could not be made (bad options, a variant that did not start), one line
     on stderr

output: a row per variant as its result comes, then what went wrong and a summary line. -q
prints only what went wrong and the summary; -v lists every finding in the rows (not the first
3).

examples:
  createimage-contract selftest
  createimage-contract selftest --variants tag-limit-code,namespace-prefix --seed 1
  createimage-contract selftest --report-json selftest.json
"""


def register(commands: Any) -> None:
    selftest = commands.add_parser(
        "selftest",
        help="show that the run catches faulty services and passes conformant ones",
        description="Run the default conformance suite against built-in variants of the "
        "reference implementation, faulty and conformant, and show that each faulty one is "
        "caught and no conformant one is reported.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    selftest.add_argument(
        "--seed", type=SEED, metavar="S", help="random seed; the same seed, the same runs"
    )
    selftest.add_argument(
        "--jobs",
        type=whole_number(1, 32),
        default=DEFAULT_JOBS,
        metavar="N",
        help=f"variants checked at a time ({DEFAULT_JOBS})",
    )
    selftest.add_argument(
        "--max-examples",
        type=max_examples,
        metavar="N",
        help="examples per rule in each run (default: as for run --max-examples)",
    )
    selftest.add_argument(
        "--variants", type=_variant_ids, metavar="NAMES", help="only these, comma-separated"
    )
    selftest.add_argument(
        "--exclude-checks",
        type=check_ids,
        default=(),
        metavar="IDS",
        help="leave these checks out of every run (to see what each one catches)",
    )
    selftest.add_argument("--report-json", type=Path, metavar="FILE", help="write a JSON report")
    selftest.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    selftest.set_defaults(handler=command)


def _variant_names() -> Sequence[str]:
    from .conformance import VARIANTS

    return [variant.name for variant in VARIANTS]


_variant_ids = id_list("variant", _variant_names)


# --- one variant ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    check: str
    rule: str
    severity: str
    message: str

    @property
    def label(self) -> str:
        return f"{self.check} x {self.rule}"


@dataclass(frozen=True)
class Result:
    """What the run against one variant found."""

    name: str
    kind: str
    catches: tuple[str, ...]
    findings: tuple[Found, ...]
    notes: tuple[str, ...] = ()
    problem: str | None = None
    """Why the variant could not be checked (one line); ``None`` when it was."""

    @property
    def errors(self) -> list[Found]:
        return [found for found in self.findings if found.severity == "error"]

    @property
    def caught(self) -> bool:
        return self.kind == "faulty" and any(f.rule in self.catches for f in self.errors)

    @property
    def false_alarm(self) -> bool:
        return self.kind == "conformant" and bool(self.errors)

    @property
    def as_it_should(self) -> bool:
        return self.caught if self.kind == "faulty" else not self.false_alarm


_child: Child | None = None
"""The worker's child process, which serves one variant after the other."""


def check_variant(
    name: str, seed: int, checks: tuple[str, ...], examples: int | None = None
) -> Result:
    """The default suite against the variant ``name``, served by a process of its own: the
    worker's child, which serves the variants this worker checks one after the other (a
    process's start and imports cost a third of a second; its service starts anew for each).
    What stops the check (a child that does not start, a bug of ours) is the result's
    ``problem``, in one line."""
    from .conformance import Options, run, variant

    chosen = variant(name)
    options = Options(seed=seed, checks=checks)
    if examples is not None:
        options = replace(options, max_examples=examples)
    try:
        url, instance_id = _worker_child().serve(name)
        outcome = run(endpoint=url, instance_id=instance_id, options=options)
    except Exception as problem:
        _forget_child_if_gone()
        line = " ".join(f"{type(problem).__name__}: {problem}".split())
        return Result(name, chosen.kind, chosen.catches, (), problem=line)
    findings = tuple(
        Found(f.check, f.rule, f.severity, f.message)
        for f in sorted(outcome.findings.values(), key=lambda f: (f.severity, f.check, f.rule))
    )
    return Result(name, chosen.kind, chosen.catches, findings, tuple(outcome.notes))


def _worker_child() -> Child:
    """The worker's child, started with the first variant, stopped when the worker ends."""
    import atexit

    from .conformance import Child

    global _child
    if _child is None:
        _child = Child()
        atexit.register(_child.close)
    return _child


def _forget_child_if_gone() -> None:
    global _child
    if _child is not None and not _child.running:
        _child.close()
        _child = None


def _results(
    names: Sequence[str], seed: int, checks: tuple[str, ...], jobs: int, examples: int | None
) -> Iterator[Result]:
    """Each variant's result, in the order of ``names``, as soon as it and those before it are
    done; ``jobs`` worker processes check them (started fresh: no fork of a running process)."""
    import multiprocessing  # only here, as the pool: lint starts without them
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=context) as pool:
        futures: list[Future[Result]] = [
            pool.submit(check_variant, name, seed, checks, examples) for name in names
        ]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


# --- the command ---------------------------------------------------------------------------------


def command(args: argparse.Namespace) -> int:
    from concurrent.futures.process import BrokenProcessPool

    from .conformance import CHECK_IDS

    checks = tuple(c for c in CHECK_IDS if c not in args.exclude_checks)
    if not checks:
        return error("selftest", "no check is left to run after --exclude-checks")
    report = args.report_json
    if report is not None and (report.is_dir() or not report.parent.is_dir()):
        folder = report if report.is_dir() else report.parent
        return error("selftest", f"cannot write {report}: {folder} is a folder or missing")
    names = list(dict.fromkeys(args.variants or _variant_names()))  # each once, as given
    seed = new_seed() if args.seed is None else args.seed
    table = Table(names, Style.for_stream(sys.stdout, args.color), args.verbosity)
    started = time.perf_counter()
    if args.verbosity != QUIET:
        write_out(lambda: print(_header(names, seed, args.jobs), flush=True))
    write_out(table.head)
    results = []
    try:
        for result in _results(names, seed, checks, args.jobs, args.max_examples):
            results.append(result)
            write_out(partial(table.row, result))
    except BrokenProcessPool as problem:  # a worker died: no verdict
        return error("selftest", f"a worker process stopped: {problem}")
    duration = time.perf_counter() - started
    if report is not None:
        try:
            text = json.dumps(json_report(results, duration), indent=2) + "\n"
            report.write_text(text, encoding="utf-8")
        except OSError as problem:
            return error("selftest", f"cannot write {report}: {problem.strerror or problem}")
    write_out(lambda: table.finish(results, duration, report))
    broken = [r for r in results if r.problem]
    if broken:
        return error(
            "selftest", f"variant {broken[0].name} could not be checked: {broken[0].problem}"
        )
    return EXIT_OK if all(r.as_it_should for r in results) else EXIT_FOUND


def _header(names: Sequence[str], seed: int, jobs: int) -> str:
    from .conformance import variant
    from .schema import counted

    faulty = sum(variant(name).kind == "faulty" for name in names)
    conformant = counted(len(names) - faulty, "conformant variant")
    return (
        f"selftest: the default suite against {faulty} faulty and {conformant} of the "
        f"reference (seed {seed}, {jobs} at a time)\n"
    )


class Table:
    """One row per variant, printed as its result comes; then what went wrong, and a summary.
    Quiet, no rows: only what went wrong and the summary."""

    def __init__(self, names: Sequence[str], style: Style, verbosity: int = NORMAL) -> None:
        self.width = max(len(name) for name in names)
        self.style = style
        self.verbosity = verbosity

    def head(self) -> None:
        if self.verbosity == QUIET:
            return
        print(
            self.style.bold(self._line("variant", "kind", f"{'verdict':<11}", "findings")),
            flush=True,
        )

    def _line(self, name: str, kind: str, verdict: str, findings: str) -> str:
        """``verdict`` comes padded (and painted after padding: colour codes have no width)."""
        return f"{name:<{self.width}}  {kind:<10}  {verdict}  {findings}"

    def row(self, result: Result) -> None:
        if self.verbosity == QUIET:
            return
        painted = self.style.green if result.as_it_should else self.style.red
        verdict = painted(f"{_verdict(result):<11}")
        shown = None if self.verbosity == VERBOSE else SHOWN_FINDINGS
        findings = _compact(result, shown)
        print(self._line(result.name, result.kind, verdict, findings), flush=True)

    def finish(self, results: list[Result], duration: float, report: Path | None = None) -> None:
        from .conformance import catches_label, variant

        problems = [r for r in results if not r.as_it_should]
        if problems and self.verbosity != QUIET:
            print()
        for result in problems:
            print(self.style.bold(f"{_verdict(result).lower()}: {result.name}"))
            chosen = variant(result.name)
            print(f"  deviation: {chosen.deviation}")
            if result.kind == "faulty":
                print(f"  caught by: {catches_label(chosen).replace('`', '')}")
            for found in result.findings:
                print(f"  {found.severity} {found.label}: {found.message}")
            for note in result.notes:
                print(f"  note: {note}")
            if result.problem:
                print(f"  could not be checked: {result.problem}")
        summary = _summary(results, duration)
        if report is not None and self.verbosity != QUIET:
            print(f"wrote {report} (JSON report)")
        if self.verbosity != QUIET or problems:
            print()
        painted = self.style.green if not problems else self.style.red
        print(painted(summary), flush=True)


def _verdict(result: Result) -> str:
    if result.problem:
        return "NOT CHECKED"
    if result.kind == "faulty":
        return "caught" if result.caught else "MISSED"
    return "FALSE ALARM" if result.false_alarm else "ok"


def _compact(result: Result, shown: int | None = SHOWN_FINDINGS) -> str:
    """The findings as ``check x rule``, errors first, those that catch the variant first; the
    first ``shown`` of them (all: ``None``), the rest counted."""
    ordered = sorted(
        result.findings,
        key=lambda f: (f.severity != "error", f.rule not in result.catches, f.check, f.rule),
    )
    labels = [f.label + (" (warning)" if f.severity != "error" else "") for f in ordered]
    if not labels:
        return "-"
    hidden = len(labels) - (len(labels) if shown is None else shown)
    return ", ".join(labels[: len(labels) - hidden]) + (f" and {hidden} more" if hidden > 0 else "")


def _summary(results: list[Result], duration: float) -> str:
    counts = _counts(results)
    alarms = counts["false_alarms"]
    return (
        f"{counts['faulty']} faulty, {counts['caught']} caught, {counts['conformant']} "
        f"conformant, {alarms} false alarm{'' if alarms == 1 else 's'} in {duration:.1f} s"
    )


def _counts(results: list[Result]) -> dict[str, int]:
    return {
        "faulty": sum(r.kind == "faulty" for r in results),
        "caught": sum(r.caught for r in results),
        "conformant": sum(r.kind == "conformant" for r in results),
        "false_alarms": sum(r.false_alarm for r in results),
    }


def json_report(results: list[Result], duration: float) -> dict[str, Any]:
    return {
        "variants": [
            {
                "name": r.name,
                "kind": r.kind,
                "caught": r.caught,
                "findings": [
                    {"check": f.check, "rule": f.rule, "severity": f.severity, "message": f.message}
                    for f in r.findings
                ],
            }
            for r in results
        ],
        "summary": {**_counts(results), "duration_s": round(duration, 3)},
    }
