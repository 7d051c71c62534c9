"""``createimage-contract run`` and ``serve``: the conformance run, and the reference service.

The runner is imported when a command runs, or when ``run --help`` lists its checks and
defaults: registering the commands imports nothing of it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._config import SETTINGS, Config, ConfigError, load_config
from ._console import (
    EXIT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    SEED,
    VERBOSE,
    Parser,
    Style,
    error,
    new_seed,
    whole_number,
    write_out,
)
from ._values import add_rule_choice, check_ids, credentials, max_examples
from .schema import validate

if TYPE_CHECKING:
    from .conformance import Options, RunResult, Verdict

RUN_EPILOG = """\
targets:
  (default)          the reference implementation, in a process of its own, on loopback
  --target moto      moto's server on loopback, with an instance launched in it
  --endpoint URL     anything that speaks CreateImage (needs --instance-id)

what is sent: for every rule the strategies can break, requests that break it, and the near
misses on each side of every limit; valid and DryRun requests; a well-formed unknown instance
id; a name used twice; and probes of who gets in (auth.*, and the header rules a service must
enforce): DryRun requests left unsigned, signed by an unknown key, for another region or
time, or changed after signing. A probe that gets in creates nothing: the service answers
DryRunOperation, which is the finding.

credentials: every request is SigV4-signed. On loopback with the fixed test credentials
({key} / {secret}), which the embedded reference holds;
off loopback with the AWS_* variables. --credentials env signs with the AWS_* variables on
loopback too (the embedded reference then holds that key), --credentials fixed forces the
test credentials. For a mock that checks no signature: --exclude-rules
'auth.*,header.x-amz-date'.

checks (--checks/--exclude-checks take these ids, comma-separated):
{checks}

exit codes:
  0  no error-severity deviation (with --strict, no warning either), baseline aside
  1  deviations found
  2  no verdict, with one line on stderr: the run could not be made (bad options,
     unreachable endpoint, ...); it sent no CreateImage request at all; or an internal
     error (a bug in createimage-contract, not a finding) stopped it, reports still written

output: a line per rule as it completes (on a terminal, one line rewritten in place), each new
finding (those that got one and the same answer shown once, with the checks and rules they
fail), a table per rule, the notes, the files written, and the totals. -q prints only the
findings, hints and the totals; -v a line per rule on a terminal too, the run's options, and
every near miss with how often it was sent (as --stats).

settings: the nearest pyproject.toml (from the working folder up) may hold defaults for
--endpoint, --instance-id, --region, --baseline, --max-examples and --checks, under
[tool.createimage-contract], keyed by the options' names without the dashes:
  [tool.createimage-contract]
  endpoint = "http://127.0.0.1:8080/"
  instance-id = "i-0123456789abcdef0"
  checks = ["status", "error-code"]
  baseline = "known-deviations.json"   # relative to the pyproject.toml
Options given on the command line win (--target also wins over endpoint); the run says which
settings it took from the file.

examples:
  createimage-contract run
  createimage-contract run --target moto --report-json moto.json
  createimage-contract run --rules 'auth.*,header.*'
  createimage-contract run --endpoint http://localhost:4566/ --instance-id i-0123456789abcdef0 \\
      --baseline known.json --junit-xml conformance.xml
"""
SERVE_EPILOG = """\
examples:
  createimage-contract serve --port 8080
  AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret createimage-contract serve \\
      --access-key-id AKIDEXAMPLE --secret-access-key secret
  (then, from the same environment: createimage-contract run --endpoint URL --instance-id ID
   --credentials env)
"""
RunnerDefaults = dict[argparse.Action, str]
"""Options whose default is the runner's, with their help, which names it as ``{default}``."""


def register(commands: Any) -> None:
    runner_defaults: RunnerDefaults = {}

    def defaulted(group: Any, flag: str, help: str, **kwargs: Any) -> None:
        runner_defaults[group.add_argument(flag, **kwargs)] = help

    run: Parser = commands.add_parser(
        "run",
        help="send generated requests to a CreateImage service and check every answer",
        description="Run the conformance suite against a CreateImage service and report "
        "exactly where it deviates from the contract.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        complete_help=partial(_complete_help, runner_defaults),
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument("--endpoint", metavar="URL", help="the service to check")
    defaulted(
        where,
        "--target",
        "an embedded target: {kinds} ({default})",
        type=_target_kind,
        metavar="KIND",
    )
    run.add_argument("--instance-id", metavar="ID", help="an instance the service holds")
    defaulted(run, "--region", "for SigV4 ({default})", metavar="R")
    defaulted(
        run,
        "--credentials",
        "what requests are signed with: fixed (the test credentials), env (AWS_* "
        "variables), auto (fixed on loopback, env elsewhere) ({default})",
        type=credentials,
        metavar="WHICH",
    )
    defaulted(
        run,
        "--max-examples",
        "examples per rule ({default})",
        type=max_examples,
        metavar="N",
    )
    run.add_argument(
        "--seed", type=SEED, metavar="S", help="random seed; the same seed, the same run"
    )
    add_rule_choice(run)
    run.add_argument("--checks", type=check_ids, metavar="IDS", help="only these checks")
    run.add_argument(
        "--exclude-checks", type=check_ids, default=(), metavar="IDS", help="not these checks"
    )
    run.add_argument("--strict", action="store_true", help="warnings fail the run too")
    run.add_argument("--baseline", type=Path, metavar="FILE", help="known deviations")
    run.add_argument(
        "--write-baseline", type=Path, metavar="FILE", help="write this run's deviations"
    )
    defaulted(run, "--timeout", "per request ({default:g} s)", type=_seconds, metavar="S")
    defaulted(
        run,
        "--workers",
        "requests in flight while exploring: the target answers them while the next examples "
        "are generated ({default})",
        type=whole_number(1, 64),
        metavar="N",
    )
    defaulted(
        run,
        "--generators",
        "processes that draw the next rules' examples while the run sends the current one's "
        "(forked, Linux only; the same seed sends the same requests); 0 draws them in the "
        "run's own process (here: {default})",
        type=whole_number(0, 16),
        metavar="N",
    )
    run.add_argument(
        "--stats",
        action="store_true",
        help="list every planned near miss (rule x site x kind) and how often it was sent",
    )
    run.add_argument("--report-json", type=Path, metavar="FILE", help="write a JSON report")
    run.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit report")
    defaulted(
        run,
        "--max-response-size",
        "read no more of an answer ({default})",
        type=whole_number(1, 1024**3),
        metavar="BYTES",
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
        description="Serve the reference CreateImage implementation on loopback, with one\n"
        "instance, and print its URL, the instance id and the key it lets in. It checks\n"
        "every request's SigV4 signature, scope and date as EC2 does.",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        complete_help=partial(_complete_help, runner_defaults),
    )
    serve.add_argument("--port", type=whole_number(0, 65535), default=0, help="port (a free one)")
    serve.add_argument("--instance-id", help="the instance it holds (a new one)")
    serve.add_argument(
        "--access-key-id",
        metavar="ID",
        help="the only access key it lets in, with --secret-access-key (the test credentials)",
    )
    serve.add_argument("--secret-access-key", metavar="SECRET", help="that key's secret")
    defaulted(serve, "--region", "the region requests must be signed for ({default})")
    serve.set_defaults(handler=serve_command)


def _complete_help(runner_defaults: RunnerDefaults, parser: Parser) -> None:
    """The runner's defaults (and for ``run`` the checks), filled into the help of ``run`` or
    ``serve`` when it is asked for."""
    from .conformance import (
        CHECK_SUMMARIES,
        EMBEDDED_KINDS,
        FIXED_CREDENTIALS,
        Options,
        automatic_generators,
    )

    defaults = vars(Options()) | {"target": EMBEDDED_KINDS[0], "generators": automatic_generators()}
    kinds = " or ".join(EMBEDDED_KINDS)
    for action, text in runner_defaults.items():
        action.help = text.format(default=defaults[action.dest], kinds=kinds)
    if parser.epilog == RUN_EPILOG:
        listed = "\n".join(f"  {c:<24} {summary}" for c, summary in CHECK_SUMMARIES.items())
        key, secret = FIXED_CREDENTIALS
        parser.epilog = RUN_EPILOG.format(checks=listed, key=key, secret=secret)


def _target_kind(text: str) -> str:
    from .conformance import EMBEDDED_KINDS

    if text not in EMBEDDED_KINDS:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(EMBEDDED_KINDS)})"
        )
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be seconds above 0, not {text!r}")
    return value


def _given(**values: Any) -> dict[str, Any]:
    """The values the user gave (not ``None``): the rest are the runner's defaults."""
    return {name: value for name, value in values.items() if value is not None}


def command(args: argparse.Namespace) -> int:
    """The run; a bug of ours outside the run (which keeps its own in its result) is one line
    too, never a traceback."""
    from .conformance import describe_internal_error

    try:
        return _command(args)
    except Exception as bug:
        print(f"createimage-contract run: {describe_internal_error(bug)}", file=sys.stderr)
        return EXIT_USAGE


def _command(args: argparse.Namespace) -> int:
    from ._run_console import RunConsole
    from .conformance import (
        CHECK_IDS,
        BaselineError,
        InternalError,
        NoCredentials,
        TargetError,
        Verdict,
        category_names,
        check_target,
        load_baseline,
        run,
    )

    try:
        settings = _settings(args, load_config())
    except ConfigError as problem:
        return error("run", str(problem))
    if args.instance_id is not None and validate({"InstanceId": args.instance_id, "Name": "probe"}):
        return error("run", f"--instance-id {args.instance_id!r} is not a well-formed instance id")
    try:
        check_target(args.endpoint, args.credentials or "auto")  # before anything is sent
        baseline = load_baseline(args.baseline) if args.baseline else set()
    except (TargetError, NoCredentials, BaselineError) as problem:
        return error("run", str(problem))
    checks = tuple(c for c in (args.checks or CHECK_IDS) if c not in args.exclude_checks)
    if not checks:
        return error("run", "no check is left to run after --exclude-checks")
    unwritable = _unwritable(args)
    if unwritable is not None:
        return error("run", unwritable)
    options = _options(args, checks)
    if not any(options.selects(name) for name in category_names()):
        return error("run", "no rule is left to run after --exclude-rules")
    if args.verbosity == VERBOSE:
        settings.append(_options_line(options))
    style = Style.for_stream(sys.stdout, args.color)
    console = RunConsole(
        sys.stdout, style, sys.stdout.isatty(), args.stats, args.verbosity, settings
    )
    where = _given(endpoint=args.endpoint, target=args.target, instance_id=args.instance_id)
    try:
        result = run(**where, options=options, listeners=[console])
    except (TargetError, NoCredentials) as problem:
        return error("run", str(problem))
    except InternalError as stopped:  # reported as the run's no verdict, after the reports
        result = stopped.result
    verdict = Verdict.of(result, baseline, args.strict)
    written, not_written = _write_reports(args, result, verdict)
    write_out(lambda: console.finish(result, verdict, written))
    if verdict.no_verdict is not None:  # an internal error, or nothing sent: reports first
        print(f"createimage-contract run: {verdict.no_verdict}", file=sys.stderr)
    if not_written is not None:
        return error("run", not_written)
    if verdict.no_verdict is not None:
        return EXIT_USAGE
    return EXIT_FOUND if verdict.failed else EXIT_OK


def _settings(args: argparse.Namespace, config: Config) -> list[str]:
    """Fill in what the command line left out from ``[tool.createimage-contract]``; the line
    that says which settings came from there (none when none did)."""
    taken = []
    for key in SETTINGS:
        dest = key.replace("-", "_")
        if key == "endpoint" and args.target is not None:
            continue  # --target names the embedded target: the file's endpoint is not wanted
        if getattr(args, dest) is None and config.get(key) is not None:
            value = config.get(key)
            setattr(args, dest, tuple(value) if key == "checks" else value)
            taken.append(key)
    if not taken:
        return []
    return [f"settings from {config.source}: {', '.join(taken)}"]


def _unwritable(args: argparse.Namespace) -> str | None:
    """Why a file asked for could not be written, before anything is sent."""
    for report in (args.report_json, args.junit_xml, args.write_baseline):
        if report is not None and (report.is_dir() or not report.parent.is_dir()):
            folder = report if report.is_dir() else report.parent
            return f"cannot write {report}: {folder} is a folder or missing"
    return None


def _options(args: argparse.Namespace, checks: tuple[str, ...]) -> Options:
    from .conformance import Options

    return Options(
        **_given(
            max_examples=args.max_examples,
            seed=new_seed() if args.seed is None else args.seed,
            checks=checks,
            workers=args.workers,
            generators=args.generators,
            rules=args.rules,
            exclude_rules=args.exclude_rules,
            credentials=args.credentials,
            allow_resource_creation=args.allow_resource_creation,
            region=args.region,
            timeout=args.timeout,
            max_response_size=args.max_response_size,
        )
    )


def _options_line(options: Options) -> str:
    """The run's options, for ``-v``: what a rerun needs to be the same run."""
    return (
        f"options: seed {options.seed}, max-examples {options.max_examples}, workers "
        f"{options.workers}, timeout {options.timeout:g} s, region {options.region}, "
        f"credentials {options.credentials}, checks {', '.join(options.checks)}"
    )


def _write_reports(
    args: argparse.Namespace, result: RunResult, verdict: Verdict
) -> tuple[list[tuple[Path, str]], str | None]:
    """Write the reports asked for: those written, with what each is, and why one could not
    be written, if so (the next ones are then not tried)."""
    from .conformance import json_report, junit_xml, write_baseline

    written: list[tuple[Path, str]] = []
    try:
        if args.report_json:
            report = json_report(result, verdict)
            args.report_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            written.append((args.report_json, "JSON report"))
        if args.junit_xml:
            args.junit_xml.write_bytes(junit_xml(result, verdict))
            written.append((args.junit_xml, "JUnit XML"))
        if args.write_baseline:
            write_baseline(args.write_baseline, result)
            written.append((args.write_baseline, "baseline"))
    except OSError as problem:
        return written, f"cannot write {problem.filename}: {problem.strerror or problem}"
    return written, None


def serve_command(args: argparse.Namespace) -> int:
    from .conformance import FIXED_CREDENTIALS, Options, ReferenceService, serve

    if args.instance_id is not None and validate({"InstanceId": args.instance_id, "Name": "probe"}):
        return error("serve", f"{args.instance_id!r} is not a well-formed instance id")
    if (args.access_key_id is None) != (args.secret_access_key is None):
        return error("serve", "--access-key-id and --secret-access-key go together")
    key, secret = (args.access_key_id, args.secret_access_key)
    if key is None:
        key, secret = FIXED_CREDENTIALS
    region = args.region or Options().region
    held = [args.instance_id] if args.instance_id else []
    service = ReferenceService(held, credentials={key: secret}, region=region)
    try:
        with serve(service, port=args.port) as running:
            print(f"reference CreateImage service at {running.url}", flush=True)
            print(f"instance {running.instance_id}", flush=True)
            print(f"lets in requests signed by {key} for {region}/ec2", flush=True)
            while True:
                time.sleep(3600)
    except OSError as problem:
        return error("serve", f"cannot listen on port {args.port}: {problem.strerror or problem}")
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return EXIT_OK
