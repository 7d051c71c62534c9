"""``createimage-contract matrix``: the same requests to several targets, in two views.

Each target gets a conformance run of its own, in a worker process of its own (Hypothesis is not
thread-safe), with the same seed: the same generated requests, byte for byte, but for the
target's instance id (and the names, which each run makes unique). Before its run, each target
is sent one fixed corpus of DryRun requests (``conformance.corpus``), byte for byte the same but
for the instance id, and DescribeImages by the name of each valid one.

The conformance view sets each target against the contract: a row per rule x check, a column
per target, each cell pass, fail, warning or skipped. The differential view sets the targets
against each other: the corpus requests they answered differently (status, EC2 error code, XML
shape), and the DescribeImages answers that differ. ``report`` is the ``--report-json`` report,
``markdown_table`` the README's table of it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._console import (
    EXIT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    QUIET,
    SEED,
    VERBOSE,
    Parser,
    Style,
    error,
    new_seed,
    write_out,
)
from ._values import add_rule_choice, instance_id, max_examples
from .schema import Error, counted

if TYPE_CHECKING:
    from .conformance import CorpusRequest, Exchange, Options, RunResult, Target, Verdict

DEFAULT_TARGETS = ("reference", "moto")
KINDS = ("status", "code", "xml-shape", "describe-images")
"""The kinds of disagreement, in the order the differential view gives them."""
STATUSES = ("pass", "fail", "warning", "skipped")
SHOWN_PER_KIND = 5
"""The ways of answering differently of each kind the console shows (all with ``-v``)."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}\Z")

MATRIX_EPILOG = """\
targets (repeatable; reference and moto when none is given):
  --target reference                 the reference implementation, on loopback
  --target moto                      moto's server on loopback, with an instance launched
  --endpoint NAME=URL --instance-id NAME=ID
                                     any CreateImage service, named NAME in the matrix
                                     (its baseline is DIR/NAME.json)

the two views of the same data:
  conformance   each target against the contract: a row per rule x check, a column per
                target, each cell pass, fail, warning or skipped (not checked there), with
                the requests sent (and failed) for the rule. Each target's run is the one
                `run --seed S --max-examples N` makes: the same generated requests, byte for
                byte, go to every target, but for its instance id and the image names, which
                each run makes unique.
  differential  the targets against each other: a fixed corpus drawn from the seed (for every
                rule its near misses and N requests that break it, and valid requests at every
                limit and N more), all with DryRun=true so that nothing is created anywhere,
                the same to every target but for the instance id. Where the answers differ:
                status, then the EC2 error code, then the XML shape (the element paths of the
                answer, Response/Errors/Error/Code, ...). Then, by the name of each valid
                request, DescribeImages: a target that created nothing lists nothing
                (describe-images). This also shows where the contract is silent (any 4xx) and
                implementations disagree.
The targets are run in parallel, each in a process of its own.

exit codes:
  0  every target conformant: no error-severity finding beyond its baseline
  1  a target deviates
  2  no matrix, with one line on stderr: bad options (--endpoint without its --instance-id,
     an unknown --target, ...), a target that did not start or cannot be reached, a run
     that failed or checked nothing

examples:
  createimage-contract matrix --seed 1 --report-json matrix.json --html matrix.html
  createimage-contract matrix --target reference \\
      --endpoint mine=http://127.0.0.1:8080/ --instance-id mine=i-0123456789abcdef0 \\
      --baseline-dir known/      # known/mine.json, as run --write-baseline writes it
  createimage-contract matrix --exclude-rules 'auth.*,header.x-amz-date' --max-examples 5
"""


def register(commands: Any) -> None:
    matrix: Parser = commands.add_parser(
        "matrix",
        help="send the same requests to several targets and compare them, with the contract "
        "and with each other",
        description="Run the conformance suite against several CreateImage targets with one\n"
        "seed, and show a conformance matrix (rule x check per target) and where the targets\n"
        "answered the same requests differently.",
        epilog=MATRIX_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    matrix.add_argument(
        "--target",
        action="append",
        default=[],
        type=_embedded_kind,
        dest="targets",
        metavar="KIND",
        help="an embedded target: reference or moto (repeatable)",
    )
    matrix.add_argument(
        "--endpoint",
        action="append",
        default=[],
        type=_named(str, "URL"),
        dest="endpoints",
        metavar="NAME=URL",
        help="a CreateImage service, and its name in the matrix (repeatable)",
    )
    matrix.add_argument(
        "--instance-id",
        action="append",
        default=[],
        type=_named(instance_id, "ID"),
        dest="instance_ids",
        metavar="NAME=ID",
        help="the instance the service NAME holds (one for each --endpoint)",
    )
    matrix.add_argument(
        "--seed", type=SEED, metavar="S", help="random seed; the same seed, the same requests"
    )
    matrix.add_argument(
        "--max-examples",
        type=max_examples,
        metavar="N",
        help="examples per rule (default: as for run --max-examples)",
    )
    add_rule_choice(matrix)
    matrix.add_argument(
        "--baseline-dir",
        type=Path,
        metavar="DIR",
        help="known deviations: DIR/NAME.json for the target NAME, as run --write-baseline "
        "writes it (none for a target without its file)",
    )
    matrix.add_argument("--report-json", type=Path, metavar="FILE", help="write a JSON report")
    matrix.add_argument("--html", type=Path, metavar="FILE", help="write the matrix as a page")
    matrix.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    matrix.set_defaults(handler=command)


def _embedded_kind(text: str) -> str:
    if text not in DEFAULT_TARGETS:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(DEFAULT_TARGETS)})"
        )
    return text


def _named(value: Callable[[str], str], what: str) -> Callable[[str], tuple[str, str]]:
    """An argparse type: ``NAME=VALUE``, NAME a target's name (letters, digits, ``._-``: it
    names its baseline file too)."""

    def parse(text: str) -> tuple[str, str]:
        name, equals, rest = text.partition("=")
        if not equals or not _NAME.match(name):
            raise argparse.ArgumentTypeError(
                f"want NAME={what} (NAME of letters, digits, '.', '_', '-'), not {text!r}"
            )
        return name, value(rest)

    return parse


# --- what to make ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetSpec:
    """A column of the matrix: an embedded target (``endpoint`` ``None``) or any service."""

    name: str
    kind: str
    """``reference``, ``moto`` or ``endpoint``."""
    endpoint: str | None = None
    instance_id: str | None = None


@dataclass(frozen=True)
class Plan:
    targets: tuple[TargetSpec, ...]
    options: Options
    baselines: dict[str, set[tuple[str, str]]] = field(default_factory=dict)


class PlanError(Error):
    """Options that make no matrix; the message says why, in one line."""


def plan(args: argparse.Namespace) -> Plan:
    """The matrix the options ask for; ``PlanError`` when they ask for none. Nothing is
    started or sent."""
    from .conformance import (
        BaselineError,
        NoCredentials,
        Options,
        TargetError,
        category_names,
        check_target,
        load_baseline,
    )

    instances = dict(args.instance_ids)
    endpoints = dict(args.endpoints)
    for flag, given in (("--endpoint", args.endpoints), ("--instance-id", args.instance_ids)):
        repeated = [name for name, count in Counter(n for n, _ in given).items() if count > 1]
        if repeated:
            raise PlanError(f"{flag} names {repeated[0]} twice")
    missing = [name for name in endpoints if name not in instances]
    if missing:
        raise PlanError(
            f"--endpoint {missing[0]}=URL needs --instance-id {missing[0]}=ID: an instance "
            "the service holds"
        )
    stray = [name for name in instances if name not in endpoints]
    if stray:
        raise PlanError(f"--instance-id {stray[0]}=ID names no --endpoint {stray[0]}=URL")
    kinds = list(args.targets) or ([] if endpoints else list(DEFAULT_TARGETS))
    specs = [TargetSpec(kind, kind) for kind in dict.fromkeys(kinds)]
    specs += [TargetSpec(n, "endpoint", url, instances[n]) for n, url in endpoints.items()]
    names = [spec.name for spec in specs]
    if len(set(names)) < len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise PlanError(f"two targets are named {twice}: name an --endpoint otherwise")
    options = Options(
        **{
            name: value
            for name, value in {
                "seed": new_seed() if args.seed is None else args.seed,
                "max_examples": args.max_examples,
                "rules": args.rules,
                "exclude_rules": args.exclude_rules,
            }.items()
            if value is not None
        }
    )
    if not any(options.selects(name) for name in category_names()):
        raise PlanError("no rule is left to run after --exclude-rules")
    try:
        for spec in specs:
            check_target(spec.endpoint, options.credentials)
    except (TargetError, NoCredentials) as problem:
        raise PlanError(str(problem)) from None
    for report in (args.report_json, args.html):
        if report is not None and (report.is_dir() or not report.parent.is_dir()):
            folder = report if report.is_dir() else report.parent
            raise PlanError(f"cannot write {report}: {folder} is a folder or missing")
    baselines: dict[str, set[tuple[str, str]]] = {}
    if args.baseline_dir is not None:
        if not args.baseline_dir.is_dir():
            raise PlanError(f"--baseline-dir {args.baseline_dir}: not a folder")
        for name in names:
            path = args.baseline_dir / f"{name}.json"
            if path.exists():
                try:
                    baselines[name] = load_baseline(path)
                except BaselineError as problem:
                    raise PlanError(str(problem)) from None
    return Plan(tuple(specs), options, baselines)


# --- making it ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a worker brings back for one target: its run (``None`` and ``problem`` when it
    could not be made), its answers to the corpus and to the DescribeImages requests."""

    result: RunResult | None
    problem: str | None
    replayed: list[Exchange]
    described: list[Exchange]


@dataclass(frozen=True)
class Column:
    """A target of the matrix, with what its worker brought back."""

    name: str
    kind: str
    target: Target
    result: RunResult
    verdict: Verdict
    replayed: list[Exchange]
    described: list[Exchange]
    baseline: bool
    elsewhere: dict[tuple[str, str], Answers] = field(default_factory=dict)
    """Its findings' requests, sent to the other targets: their answers, by check x rule."""


@dataclass(frozen=True)
class Matrix:
    options: Options
    columns: list[Column]
    corpus: list[CorpusRequest]
    describes: list[CorpusRequest]
    date: str
    duration_s: float

    @property
    def canonical_instance(self) -> str:
        """The instance id the corpus names: the first target's."""
        return self.columns[0].target.instance_id

    @property
    def conformant(self) -> bool:
        return all(not column.verdict.failed for column in self.columns)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.conformant else EXIT_FOUND

    def report(self) -> dict[str, Any]:
        """The ``--report-json`` report (``schema/matrix-report.schema.json``)."""
        from . import __version__

        return {
            "tool": {"name": "createimage-contract", "version": __version__},
            "seed": self.options.seed,
            "date": self.date,
            "max_examples": self.options.max_examples,
            "targets": [
                {
                    "name": column.name,
                    "endpoint": column.target.endpoint,
                    "kind": column.kind,
                    "instance_id": column.target.instance_id,
                    "conformant": not column.verdict.failed,
                }
                for column in self.columns
            ],
            "substitutions": self.substitutions(),
            "cells": self.cells(),
            "disagreements": self.disagreements(),
        }

    def substitutions(self) -> list[dict[str, str]]:
        return substitutions([(c.name, c.target) for c in self.columns])

    def cells(self) -> list[dict[str, Any]]:
        from .conformance import CHECK_IDS, category_names, json_report

        keys = set().union(*(c.result.exercised | set(c.result.findings) for c in self.columns))
        order = {name: index for index, name in enumerate(category_names())}
        checks = {check: index for index, check in enumerate(CHECK_IDS)}
        rows = sorted(
            keys, key=lambda key: (order.get(key[1], len(order)), key[1], checks.get(key[0], 0))
        )
        reproduced = {}
        for column in self.columns:
            for failure in json_report(column.result, column.verdict)["failures"]:
                reproduced[column.name, failure["check"], failure["rule"]] = failure["reproduce"]
        return [
            {
                "rule": rule,
                "check": check,
                "results": {
                    column.name: _cell(column, check, rule, reproduced) for column in self.columns
                },
            }
            for check, rule in rows
        ]

    def disagreements(self) -> list[dict[str, Any]]:
        from .schema import curl_command

        first = self.columns[0]
        found = []
        for kind, request, answers in self._differences():
            form = request.form
            found.append(
                {
                    "kind": kind,
                    "rule": request.rule,
                    "request": {
                        "form": form,
                        "curl": curl_command(
                            form,
                            first.target.endpoint,
                            first.target.region,
                            first.result.signed_with_token,
                        ),
                    },
                    "answers": {name: answer.as_dict() for name, answer in answers.items()},
                }
            )
        return found

    def _differences(self) -> Iterator[tuple[str, CorpusRequest, dict[str, Any]]]:
        """Each request answered differently: the kind of difference, the request, and each
        target's answer."""
        if len(self.columns) < 2:
            return
        for index, request in enumerate(self.corpus):
            answers = {c.name: c.replayed[index].answer for c in self.columns}
            kind = _difference(list(answers.values()))
            if kind is not None:
                yield kind, request, answers
        for index, request in enumerate(self.describes):
            answers = {c.name: c.described[index].answer for c in self.columns}
            if _difference(list(answers.values())) is not None:
                yield "describe-images", request, answers


def substitutions(targets: Sequence[tuple[str, Target]]) -> list[dict[str, str]]:
    """What the corpus (and each run) says to each target otherwise than to the first: its
    instance id."""
    first = targets[0][1].instance_id
    return [
        {"target": name, "field": "InstanceId", "value": target.instance_id}
        for name, target in targets[1:]
        if target.instance_id != first
    ]


def _difference(answers: Sequence[Any]) -> str | None:
    """The first way ``answers`` differ: ``status``, ``code``, ``xml-shape``; ``None``."""
    for kind, facet in (("status", "status"), ("code", "code"), ("xml-shape", "shape")):
        if len({getattr(answer, facet) for answer in answers}) > 1:
            return kind
    return None


def _cell(
    column: Column, check: str, rule: str, reproduced: dict[tuple[str, str, str], str]
) -> dict[str, Any]:
    from .conformance import summarize

    result = column.result
    stats = result.rules.get(rule)
    finding = result.findings.get((check, rule))
    if finding is not None:
        status = "fail" if finding.severity == "error" else "warning"
    else:
        status = "pass" if (check, rule) in result.exercised else "skipped"
    cell: dict[str, Any] = {
        "status": status,
        "sent": stats.sent if stats else 0,
        "failed": stats.failed if stats else 0,
        "finding": None,
    }
    if finding is not None:
        answer = summarize(finding.response)
        cell["finding"] = {
            "message": finding.message,
            "severity": finding.severity,
            "request": {
                "form": finding.sent.body,
                "curl": reproduced[column.name, check, rule],
            },
            "answer": answer.as_dict(),
        }
        elsewhere = column.elsewhere.get((check, rule))
        if elsewhere:
            cell["finding"]["elsewhere"] = elsewhere
    return cell


class MatrixError(Error):
    """No matrix: a target did not start, or its run failed. One line."""


Answers = dict[str, dict[str, Any]]
"""Answers to one request (``AnswerSummary.as_dict``), by target name."""
Started = Callable[[Sequence[tuple[str, "Target"]]], None]
Progress = Callable[[str, "RunResult", float], None]


def build(made: Plan, started: Started | None = None, progress: Progress | None = None) -> Matrix:
    """Start the embedded targets, send each the corpus and its conformance run (each target in
    a worker process of its own, all at once), and gather what came back. ``started`` hears of
    the targets once they are started, ``progress`` of each target as its worker is done.
    ``MatrixError`` says, in one line, why there is no matrix."""
    import multiprocessing
    from concurrent.futures import Future, ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from .conformance import (
        Target,
        TargetError,
        Verdict,
        corpus,
        describe_internal_error,
        describe_requests,
        probe,
        start_target,
        with_instance,
    )

    begun = time.perf_counter()
    date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    options = made.options
    try:
        for spec in made.targets:
            if spec.endpoint is not None:
                probe(spec.endpoint, options.timeout)
    except TargetError as problem:
        raise MatrixError(str(problem)) from None
    context = multiprocessing.get_context("spawn")  # no fork of a process serving moto
    workers = len(made.targets)
    with ExitStack() as stack:
        pool = stack.enter_context(ProcessPoolExecutor(workers, mp_context=context))
        for _ in range(workers):  # the workers import while the targets start
            pool.submit(_warm_up)
        targets: list[Target] = []
        try:
            for spec in made.targets:
                if spec.endpoint is None:
                    targets.append(stack.enter_context(start_target(spec.kind, options)))
                else:
                    assert spec.instance_id is not None
                    targets.append(
                        Target(spec.endpoint, "endpoint", spec.instance_id, options.region)
                    )
        except TargetError as problem:
            raise MatrixError(str(problem)) from None
        if started is not None:
            started(
                [(spec.name, target) for spec, target in zip(made.targets, targets, strict=True)]
            )
        canonical = targets[0].instance_id
        requests = corpus(canonical, options) if len(targets) > 1 else []
        describes = describe_requests(requests)
        futures: dict[Future[Outcome], int] = {
            pool.submit(
                _target_task,
                target.endpoint,
                target.instance_id,
                options,
                [with_instance(r.form, canonical, target.instance_id) for r in requests],
                [r.form for r in describes],
            ): index
            for index, target in enumerate(targets)
        }
        outcomes: dict[int, Outcome] = {}
        try:
            for future in as_completed(futures):
                index = futures[future]
                name = made.targets[index].name
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    raise MatrixError(f"target {name}: its worker process stopped") from None
                except Exception as bug:
                    raise MatrixError(f"target {name}: {describe_internal_error(bug)}") from None
                if outcome.result is None:
                    raise MatrixError(f"target {name}: {outcome.problem}")
                if outcome.result.no_verdict is not None:
                    raise MatrixError(f"target {name}: {outcome.result.no_verdict}")
                outcomes[index] = outcome
                if progress is not None:
                    progress(name, outcome.result, time.perf_counter() - begun)
        finally:
            for future in futures:
                future.cancel()
        names = [spec.name for spec in made.targets]
        elsewhere = _sent_elsewhere(names, targets, outcomes, options)
    columns = []
    for index, spec in enumerate(made.targets):
        outcome = outcomes[index]
        assert outcome.result is not None
        baseline = made.baselines.get(spec.name)
        columns.append(
            Column(
                spec.name,
                spec.kind,
                targets[index],
                outcome.result,
                Verdict.of(outcome.result, baseline or set(), strict=False),
                outcome.replayed,
                outcome.described,
                baseline is not None,
                elsewhere[index],
            )
        )
    return Matrix(
        options, columns, requests, describes, date, round(time.perf_counter() - begun, 3)
    )


def _sent_elsewhere(
    names: list[str], targets: list[Target], outcomes: dict[int, Outcome], options: Options
) -> list[dict[tuple[str, str], Answers]]:
    """For each target, the request of each of its findings sent to every other target (its
    instance id put in, and ``DryRun=true``), and what they answer, by check x rule: so that a
    failing cell shows each target's answer to the same request. As a DryRun, it creates
    nothing, and a name the other target's own run already used is not answered as a
    duplicate. Not a forged request (a probe of who gets in: a replay signs as a run does), nor
    one whose broken value is DryRun itself."""
    from .conformance import as_dry_run, replay, with_instance

    found: list[dict[tuple[str, str], Answers]] = [{} for _ in targets]
    for index, target in enumerate(targets):
        result = outcomes[index].result
        assert result is not None
        kept = [
            (key, form)
            for key, finding in result.findings.items()
            if finding.sent.forged is None and (form := as_dry_run(finding.sent.body))
        ]
        for other, there in enumerate(targets):
            if other == index or not kept:
                continue
            forms = [with_instance(form, target.instance_id, there.instance_id) for _, form in kept]
            exchanges = replay(there.endpoint, forms, options)
            for (key, _), exchange in zip(kept, exchanges, strict=True):
                found[index].setdefault(key, {})[names[other]] = exchange.answer.as_dict()
    return found


def _warm_up() -> None:
    """A worker's imports, done while the parent starts the targets."""
    import createimage_contract.conformance  # noqa: F401


def _target_task(
    endpoint: str,
    instance: str,
    options: Options,
    forms: list[str],
    describe_forms: list[str],
) -> Outcome:
    """In a worker: the corpus, then DescribeImages by its valid names, then the conformance
    run, against one target. A run that cannot be made is the outcome's ``problem``."""
    from .conformance import InternalError, NoCredentials, TargetError, replay, run

    replayed = replay(endpoint, forms, options) if forms else []
    described = replay(endpoint, describe_forms, options) if describe_forms else []
    try:
        result = run(endpoint=endpoint, instance_id=instance, options=options)
    except (TargetError, NoCredentials) as problem:
        return Outcome(None, str(problem), replayed, described)
    except InternalError as stopped:  # its result says so: no verdict
        result = stopped.result
    return Outcome(result, None, replayed, described)


# --- the console ---------------------------------------------------------------------------------


def header(options: Options, targets: Sequence[tuple[str, Target]]) -> str:
    """One line: the seed, the targets, what is substituted for which."""
    listed = ", ".join(f"{name} {target.endpoint}" for name, target in targets)
    substituted = [
        f"{s['field']} {targets[0][1].instance_id} -> {s['value']} for {s['target']}"
        for s in substitutions(targets)
    ]
    if len(targets) > 1:
        substituted.append("image names (each run makes its own unique)")
    said = f"; substituted: {', '.join(substituted)}" if substituted else ""
    return (
        f"matrix: seed {options.seed}, max-examples {options.max_examples}, "
        f"{counted(len(targets), 'target')}: {listed}{said}"
    )


def _cell_text(cell: dict[str, Any], style: Style) -> tuple[str, str]:
    """A cell as text, and as painted text (the same width)."""
    status, sent, failed = cell["status"], cell["sent"], cell["failed"]
    if status == "pass":
        return (text := f"pass {sent}"), style.green(text)
    if status == "fail":
        return (text := f"FAIL {failed}/{sent}"), style.red(text)
    if status == "warning":
        return (text := f"warn {failed}/{sent}"), style.yellow(text)
    return "-", style.dim("-")


def conformance_lines(report: dict[str, Any], style: Style, every_row: bool = False) -> list[str]:
    """The conformance view as a text table: the rows where any target did not pass (every
    row with ``every_row``), and how many passed everywhere."""
    names = [target["name"] for target in report["targets"]]
    cells = report["cells"]
    all_pass = [c for c in cells if all(r["status"] == "pass" for r in c["results"].values())]
    shown = cells if every_row else [c for c in cells if c not in all_pass]
    lines = [
        f"conformance: {counted(len(cells), 'rule x check row')}, {len(all_pass)} passed by "
        f"every target" + ("" if every_row or not shown else "; the others:")
    ]
    if not shown:
        return lines
    label = max(len(f"{c['rule']} x {c['check']}") for c in shown)
    widths = [
        max(len(name), *(len(_cell_text(c["results"][name], style)[0]) for c in shown))
        for name in names
    ]
    heads = "".join(f"  {name:<{w}}" for name, w in zip(names, widths, strict=True))
    lines.append(("  " + " " * label + heads).rstrip())
    for cell in shown:
        row = f"  {cell['rule'] + ' x ' + cell['check']:<{label}}"
        for name, width in zip(names, widths, strict=True):
            text, painted = _cell_text(cell["results"][name], style)
            row += "  " + painted + " " * (width - len(text))
        lines.append(row.rstrip())
    return lines


def differential_lines(
    matrix: Matrix, report: dict[str, Any], style: Style, every_one: bool = False
) -> list[str]:
    """The differential view: the disagreements counted by kind; under each kind, the ways
    the targets answered (each target's status and code) most common first, with how many
    requests got them and one of them (the first ways, every one with ``every_one``)."""
    if len(matrix.columns) < 2:
        return ["differential: one target, nothing to compare"]
    found = report["disagreements"]
    sent = (
        f"{counted(len(matrix.corpus), 'CreateImage request')} with DryRun=true and "
        f"{counted(len(matrix.describes), 'DescribeImages request')}, the same to every target"
    )
    lines = [f"differential: {sent}; {len(found)} answered differently"]
    for kind in KINDS:
        ways: dict[str, list[dict[str, Any]]] = {}
        for disagreement in (d for d in found if d["kind"] == kind):
            answers = disagreement["answers"].items()
            way = " | ".join(f"{name} {_answer_text(answer)}" for name, answer in answers)
            ways.setdefault(way, []).append(disagreement)
        count = sum(map(len, ways.values()))
        lines.append(
            f"  {kind:<16}{count:>5}" + (f" in {counted(len(ways), 'way')}" if ways else "")
        )
        ranked = sorted(ways.items(), key=lambda item: -len(item[1]))
        for way, alike in ranked if every_one else ranked[:SHOWN_PER_KIND]:
            first = alike[0]
            form = first["request"]["form"]
            form = form if every_one or len(form) <= 100 else form[:97] + "..."
            lines.append(f"    {len(alike):>4} x {style.bold(way)}")
            lines.append(f"           e.g. {first['rule']}: {form}")
        if not every_one and len(ranked) > SHOWN_PER_KIND:
            lines.append(f"           and {counted(len(ranked) - SHOWN_PER_KIND, 'other way')}")
    return lines


def _answer_text(answer: dict[str, Any]) -> str:
    status = "no answer" if answer["status"] is None else str(answer["status"])
    if answer["code"]:
        return f"{status} {answer['code']}"
    if answer["shape"].startswith("("):
        return f"{status} {answer['shape']}"
    return status


def verdict_line(column: Column, style: Style) -> str:
    verdict = column.verdict
    errors, warnings = verdict.count("error"), verdict.count("warning")
    counts = f"{counted(errors, 'error')}, {counted(warnings, 'warning')}"
    known = f"; {len(verdict.known)} known (baseline)" if verdict.known else ""
    if verdict.failed:
        return f"{column.name}: {style.red('DEVIATES')} ({counts}{known})"
    return f"{column.name}: {style.green('conformant')} ({counts}{known})"


def console_lines(
    matrix: Matrix,
    report: dict[str, Any],
    style: Style,
    verbosity: int,
    written: Sequence[tuple[Path, str]] = (),
) -> list[str]:
    """What the command prints once the matrix is made: the views (not with ``-q``), the
    files written, and a verdict line per target."""
    lines = []
    if verbosity != QUIET:
        every = verbosity == VERBOSE
        lines += conformance_lines(report, style, every)
        lines += differential_lines(matrix, report, style, every)
    lines += [f"wrote {path} ({what})" for path, what in written]
    lines += [verdict_line(column, style) for column in matrix.columns]
    return lines


# --- the README's table -------------------------------------------------------------------------


def markdown_table(report: dict[str, Any]) -> str:
    """The report as Markdown: a row per rule where a target did not pass every check, with
    the checks each target failed (and warned about); then the disagreements counted by rule
    and kind. Only what the seed decides is in it (no endpoint, instance id, message, count of
    requests or date): the same seed, and the same targets, give the same text."""
    names = [target["name"] for target in report["targets"]]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for cell in report["cells"]:
        by_rule.setdefault(cell["rule"], []).append(cell)
    lines = ["| rule | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    passed = 0
    for rule, cells in by_rule.items():
        texts = [_markdown_cell(cells, name) for name in names]
        if all(text == "pass" for text in texts):
            passed += 1
        else:
            lines.append(f"| `{rule}` | " + " | ".join(texts) + " |")
    if passed:
        lines += ["", f"{counted(passed, 'other rule')}: every check passes on every target."]
    if len(names) > 1:
        counts = Counter((d["rule"], d["kind"]) for d in report["disagreements"])
        lines += ["", "| answered differently | " + " | ".join(KINDS) + " |"]
        lines.append("|---|" + "---:|" * len(KINDS))
        for rule in dict.fromkeys(d["rule"] for d in report["disagreements"]):
            row = [f"`{rule}`"] + [str(counts[rule, kind]) for kind in KINDS]
            lines.append("| " + " | ".join(row) + " |")
        totals = Counter(d["kind"] for d in report["disagreements"])
        lines.append("| all | " + " | ".join(str(totals[kind]) for kind in KINDS) + " |")
        lines += ["", "| how | " + " | ".join(names) + " | requests |"]
        lines.append("|---|" + "---|" * len(names) + "---:|")
        ways = Counter(
            (d["kind"], *(_answer_text(d["answers"][name]) for name in names))
            for d in report["disagreements"]
        )
        for way, count in sorted(ways.items(), key=lambda item: (-item[1], item[0])):
            lines.append("| " + " | ".join(w.replace("|", "\\|") for w in way) + f" | {count} |")
    return "\n".join(lines) + "\n"


def _markdown_cell(cells: list[dict[str, Any]], name: str) -> str:
    """A rule's checks on one target: ``pass``; ``skipped`` when none was exercised there;
    else the checks that failed and those that warned."""
    statuses = {cell["check"]: cell["results"][name]["status"] for cell in cells}
    said = [
        f"{status}: " + ", ".join(f"`{check}`" for check, s in statuses.items() if s == status)
        for status in ("fail", "warning")
        if status in statuses.values()
    ]
    if said:
        return "; ".join(said)
    return "pass" if "pass" in statuses.values() else "skipped"


# --- the command ---------------------------------------------------------------------------------


def command(args: argparse.Namespace) -> int:
    from .conformance import describe_internal_error

    try:
        made = plan(args)
    except PlanError as problem:
        return error("matrix", str(problem))
    try:
        return _command(args, made)
    except MatrixError as problem:
        return error("matrix", str(problem))
    except Exception as bug:
        print(f"createimage-contract matrix: {describe_internal_error(bug)}", file=sys.stderr)
        return EXIT_USAGE


def _command(args: argparse.Namespace, made: Plan) -> int:
    return finish(args, make(args, made))


def make(args: argparse.Namespace, made: Plan) -> Matrix:
    """``build`` the matrix, printing the header once the targets are started and a line for
    each target as it is done (not with ``-q``)."""

    def started(targets: Sequence[tuple[str, Target]]) -> None:
        if args.verbosity != QUIET:
            line = header(made.options, targets)
            write_out(lambda: print(line, flush=True))

    def progress(name: str, result: RunResult, elapsed: float) -> None:
        if args.verbosity != QUIET:
            line = (
                f"  {name}: {counted(result.requests, 'request')} in {result.duration_s:.1f} s "
                f"({elapsed:.1f} s since the start)"
            )
            write_out(lambda: print(line, flush=True))

    return build(made, started, progress)


def finish(args: argparse.Namespace, matrix: Matrix) -> int:
    """Write the reports asked for, print the views and the verdicts; the exit code."""
    style = Style.for_stream(sys.stdout, args.color)
    report = matrix.report()
    written, not_written = write_reports(args, report)
    lines = console_lines(matrix, report, style, args.verbosity, written)
    write_out(lambda: print("\n".join(lines), flush=True))
    if not_written is not None:
        return error("matrix", not_written)
    return matrix.exit_code


def write_reports(
    args: argparse.Namespace, report: dict[str, Any]
) -> tuple[list[tuple[Path, str]], str | None]:
    """Write the JSON report and the page, as asked: those written, and why one could not be."""
    written: list[tuple[Path, str]] = []
    try:
        if args.report_json is not None:
            text = json.dumps(report, indent=2) + "\n"
            args.report_json.write_text(text, encoding="utf-8")
            written.append((args.report_json, "JSON report"))
        if args.html is not None:
            from ._matrix_page import render

            args.html.write_text(render(report), encoding="utf-8")
            written.append((args.html, "HTML page"))
    except OSError as problem:
        return written, f"cannot write {problem.filename}: {problem.strerror or problem}"
    return written, None
