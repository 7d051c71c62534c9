"""``createimage-contract run`` and ``serve``: the conformance run, and the reference service."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._console import EXIT_OK, EXIT_USAGE, Style, error, whole_number, write_out
from ._generate import SEED
from .schema import validate

if TYPE_CHECKING:
    from createimage_contract.conformance import Outcome
    from createimage_contract.conformance._report import Verdict

RUN_EPILOG = """\
targets:
  (default)          the reference implementation, in a process of its own, on loopback
  --target moto      moto's server on loopback, with an instance launched in it
  --endpoint URL     anything that speaks CreateImage (needs --instance-id)

what is sent: for every rule the strategies can break, requests that break it; valid and
DryRun requests; a well-formed unknown instance id; a name used twice. Every request is
SigV4-signed (fixed test credentials on loopback, the AWS_* variables elsewhere).

checks (--checks/--exclude-checks take these ids, comma-separated):
{checks}

exit codes:
  0  no error-severity deviation (with --strict, no warning either), baseline aside
  1  deviations found
  2  no verdict, with one line on stderr: the run could not be made (bad options,
     unreachable endpoint, ...); it sent no CreateImage request at all; or an internal
     error (a bug in createimage-contract, not a finding) stopped it, reports still written

examples:
  createimage-contract run
  createimage-contract run --target moto --report-json moto.json
  createimage-contract run --endpoint http://localhost:4566/ --instance-id i-0abc12345 \\
      --baseline known.json --junit-xml conformance.xml
"""


def register(commands: Any) -> None:
    from createimage_contract.conformance._checks import CHECKS
    from createimage_contract.conformance._engine import EMBEDDED_KINDS, Options
    from createimage_contract.conformance._transport import DEFAULT_MAX_BYTES

    defaults = Options()
    listed = "\n".join(f"  {check.id:<24} {check.summary}" for check in CHECKS)
    run = commands.add_parser(
        "run",
        help="send generated requests to a CreateImage service and check every answer",
        description="Run the conformance suite against a CreateImage service and report "
        "exactly where it deviates from the contract.",
        epilog=RUN_EPILOG.format(checks=listed),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument("--endpoint", metavar="URL", help="the service to check")
    where.add_argument(
        "--target", choices=EMBEDDED_KINDS, default="reference", help="an embedded target"
    )
    run.add_argument("--instance-id", metavar="ID", help="an instance the service holds")
    run.add_argument("--region", metavar="R", default="us-east-1", help="for SigV4 (us-east-1)")
    run.add_argument(
        "--max-examples",
        type=whole_number(1, 10_000),
        default=defaults.max_examples,
        metavar="N",
        help=f"examples per rule ({defaults.max_examples})",
    )
    run.add_argument(
        "--seed", type=SEED, metavar="S", help="random seed; the same seed, the same run"
    )
    run.add_argument(
        "--rules",
        type=_rules,
        metavar="IDS",
        help="only these rules (or valid, dry-run), comma-separated",
    )
    run.add_argument("--checks", type=_ids, metavar="IDS", help="only these checks")
    run.add_argument(
        "--exclude-checks", type=_ids, default=(), metavar="IDS", help="not these checks"
    )
    run.add_argument("--strict", action="store_true", help="warnings fail the run too")
    run.add_argument("--baseline", type=Path, metavar="FILE", help="known deviations")
    run.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="write this run's deviations"
    )
    run.add_argument(
        "--timeout", type=_seconds, default=10.0, metavar="S", help="per request (10 s)"
    )
    run.add_argument(
        "--workers",
        type=whole_number(1, 64),
        default=defaults.workers,
        metavar="N",
        help=f"requests in flight while exploring: the target answers them while the next "
        f"examples are generated ({defaults.workers})",
    )
    run.add_argument(
        "--stats",
        action="store_true",
        help="list every planned near miss (rule x site x kind) and how often it was sent",
    )
    run.add_argument("--report-json", type=Path, metavar="FILE", help="write a JSON report")
    run.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit report")
    run.add_argument(
        "--max-response-size",
        type=whole_number(1, 1024**3),
        default=DEFAULT_MAX_BYTES,
        metavar="BYTES",
        help=f"read no more of an answer ({DEFAULT_MAX_BYTES})",
    )
    run.add_argument(
        "--allow-resource-creation",
        action="store_true",
        help="off loopback, send valid requests without DryRun (images created are "
        "deregistered at the end)",
    )
    run.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    run.set_defaults(handler=command)

    serve = commands.add_parser(
        "serve",
        help="run the reference implementation until Ctrl-C",
        description="Serve the reference CreateImage implementation on loopback, with one "
        "instance, and print its URL and the instance id.",
    )
    serve.add_argument("--port", type=whole_number(0, 65535), default=0, help="port (a free one)")
    serve.add_argument("--instance-id", help="the instance it holds (a new one)")
    serve.set_defaults(handler=serve_command)


def _id_list(what: str, known: Callable[[], Sequence[str]]) -> Callable[[str], tuple[str, ...]]:
    """An argparse type: comma-separated ids, each one of ``known()``."""

    def parse(text: str) -> tuple[str, ...]:
        choices = known()
        ids = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [i for i in ids if i not in choices]
        if unknown or not ids:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or text!r}; the {what}s are "
                + ", ".join(choices)
            )
        return ids

    return parse


def _check_ids() -> Sequence[str]:
    from createimage_contract.conformance._checks import CHECK_IDS

    return CHECK_IDS


def _rule_ids() -> Sequence[str]:
    from createimage_contract.conformance._engine import category_names

    return category_names("i-00000000")  # any instance: it only makes the service rules count


_ids = _id_list("check", _check_ids)
_rules = _id_list("rule", _rule_ids)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be seconds above 0, not {text!r}")
    return value


def command(args: argparse.Namespace) -> int:
    """The run; a bug of ours outside the engine (which keeps its own in the outcome) is one
    line too, never a traceback."""
    from createimage_contract.conformance._engine import internal_error_line
    from createimage_contract.conformance._report import INTERNAL_ERROR_HINT

    try:
        return _command(args)
    except Exception as bug:
        line = f"internal error: {internal_error_line(bug)} ({INTERNAL_ERROR_HINT})"
        print(f"createimage-contract run: {line}", file=sys.stderr)
        return EXIT_USAGE


def _command(args: argparse.Namespace) -> int:
    from createimage_contract.conformance import _report
    from createimage_contract.conformance._checks import CHECK_IDS
    from createimage_contract.conformance._engine import Engine, Options
    from createimage_contract.conformance._targets import TargetError, check_url, open_target
    from createimage_contract.conformance._transport import (
        NoCredentials,
        Transport,
        credentials_for,
    )

    from ._generate import new_seed

    if args.instance_id is not None and validate({"InstanceId": args.instance_id, "Name": "probe"}):
        return error("run", f"--instance-id {args.instance_id!r} is not a well-formed instance id")
    try:
        if args.endpoint is not None:
            check_url(args.endpoint)
        credentials_for(args.endpoint or "http://127.0.0.1/")  # before anything is sent
    except (TargetError, NoCredentials) as problem:
        return error("run", str(problem))
    try:
        baseline = _report.load_baseline(args.baseline) if args.baseline else set()
    except _report.BaselineError as problem:
        return error("run", str(problem))
    checks = tuple(c for c in (args.checks or CHECK_IDS) if c not in args.exclude_checks)
    if not checks:
        return error("run", "no check is left to run after --exclude-checks")
    for report in (args.report_json, args.junit_xml, args.write_baseline):
        if report is not None and (report.is_dir() or not report.parent.is_dir()):
            folder = report if report.is_dir() else report.parent
            return error("run", f"cannot write {report}: {folder} is a folder or missing")
    seed = new_seed() if args.seed is None else args.seed
    options = Options(
        args.max_examples,
        seed,
        checks,
        args.workers,
        rules=args.rules,
        allow_resource_creation=args.allow_resource_creation,
    )
    style = Style.for_stream(sys.stdout, args.color)
    progress = sys.stdout.isatty()
    console = _report.Console(sys.stdout, style, progress, _rerun_command(args), args.stats)
    try:
        with open_target(
            args.target, args.endpoint, args.instance_id, args.region, args.timeout
        ) as target:
            credentials = credentials_for(target.endpoint)
            transport = Transport(
                target.endpoint, target.region, credentials, args.timeout, args.max_response_size
            )
            try:
                outcome = Engine(target, transport, options, [console]).run()
            finally:
                transport.close()
    except (TargetError, NoCredentials) as problem:
        return error("run", str(problem))
    verdict = _report.Verdict.of(outcome, baseline, args.strict)
    write_out(lambda: console.finish(outcome, verdict))
    not_written = _write_reports(args, outcome, verdict)
    if verdict.no_verdict is not None:  # an internal error, or nothing sent: reports first
        print(f"createimage-contract run: {verdict.no_verdict}", file=sys.stderr)
    if not_written is not None:
        return error("run", not_written)
    return verdict.exit_code


def _write_reports(args: argparse.Namespace, outcome: Outcome, verdict: Verdict) -> str | None:
    """Write the reports asked for; why one could not be written, if so."""
    from createimage_contract.conformance import _report

    try:
        if args.report_json:
            report = _report.json_report(outcome, verdict)
            args.report_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        if args.junit_xml:
            args.junit_xml.write_bytes(_report.junit_xml(outcome, verdict))
        if args.write_baseline:
            _report.write_baseline(args.write_baseline, outcome)
    except OSError as problem:
        return f"cannot write {problem.filename}: {problem.strerror or problem}"
    return None


def _rerun_command(args: argparse.Namespace) -> str:
    if args.endpoint:
        return (
            f"createimage-contract run --endpoint {args.endpoint} --instance-id {args.instance_id}"
        )
    return f"createimage-contract run --target {args.target}"


def serve_command(args: argparse.Namespace) -> int:
    from createimage_contract.conformance._reference import ReferenceService, serve

    if args.instance_id is not None and validate({"InstanceId": args.instance_id, "Name": "probe"}):
        return error("serve", f"{args.instance_id!r} is not a well-formed instance id")
    service = ReferenceService([args.instance_id] if args.instance_id else [])
    try:
        with serve(service, port=args.port) as running:
            print(f"reference CreateImage service at {running.url}", flush=True)
            print(f"instance {running.instance_id}", flush=True)
            while True:
                time.sleep(3600)
    except OSError as problem:
        return error("serve", f"cannot listen on port {args.port}: {problem.strerror or problem}")
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return EXIT_OK
