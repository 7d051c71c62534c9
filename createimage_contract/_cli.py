"""The ``createimage-contract`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__, _generate, _lint
from ._console import Style
from .schema import INPUT_FORMS

EXIT_USAGE = 2

LINT_EPILOG = """\
input forms (--input auto: a .json file, or text starting with { [ or ", is JSON; a JSON
object with url/method/headers/body fields is an HTTP request, any other JSON is parameters;
anything else is a form body):
  json   boto3-style parameters, as `aws ec2 create-image --cli-input-json` takes them
  form   an EC2 Query form body as sent on the wire (Action=CreateImage&Version=...)
  http   {"url", "method", "headers", "body"} as a workflow engine's HTTP task holds it

exit codes:
  0  every input is valid (warnings allowed)
  1  some input breaks a rule of severity error
  2  some input could not be read or parsed, or the command line is wrong

examples:
  createimage-contract lint request.json
  aws ec2 create-image --generate-cli-skeleton | createimage-contract lint -
  createimage-contract lint --format json examples/valid/* examples/invalid/*
"""


GENERATE_EPILOG = """\
what is generated (one of; without any, a mix of all three):
  --valid          requests that break no rule: a conforming service answers 200
  --invalid [RULE] requests that break exactly one rule (RULE, or any), otherwise valid
  --dry-run        valid requests with DryRun=true: the answer is 412 DryRunOperation

formats:
  jsonl  {"params": {...} or null, "form": "Action=CreateImage&...",
          "expect": {"status": 200 or 4xx, "code": null or "...", "rule": null or "..."}}
         params is null where boto3-style parameters cannot say the request
  form   the form body, one per line
  curl   a curl command per example, signed by curl from $AWS_ACCESS_KEY_ID and
         $AWS_SECRET_ACCESS_KEY (nothing is sent by generate itself)

The same --seed gives the same output; without one, a random seed is used and printed on
stderr. The rules --invalid can break are in the README's table (all request rules;
instance-id.not-found needs --instance-id, name.duplicate --taken-name;
header rules are lint's).

exit codes: 0 written, 2 bad options (one line on stderr)

examples:
  createimage-contract generate --invalid name.charset --count 5
  createimage-contract generate --valid --format curl --endpoint http://localhost:5000/
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="createimage-contract",
        description="Check that anything speaking the EC2 CreateImage API speaks it correctly.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    lint = commands.add_parser(
        "lint",
        help="validate CreateImage requests in files against the contract",
        description="Validate CreateImage requests against the contract and list every "
        "rule each one breaks, with the EC2 error code a conforming service answers.",
        epilog=LINT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lint.add_argument(
        "files", nargs="*", metavar="FILE", help="request files; - reads standard input"
    )
    lint.add_argument(
        "--input", choices=INPUT_FORMS, default="auto", help="how to read the inputs (auto)"
    )
    lint.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    lint.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text"
    )
    lint.set_defaults(handler=_run_lint)
    _add_generate(commands)
    return parser


def _add_generate(commands: argparse._SubParsersAction[_Parser]) -> None:
    generate = commands.add_parser(
        "generate",
        help="print example CreateImage requests and the answers they must get",
        description="Generate CreateImage requests from the contract, each with the answer a "
        "conforming service must give, without sending anything.",
        epilog=GENERATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument("--count", type=_positive, default=10, help="how many (10)")
    generate.add_argument("--seed", type=_seed, help="random seed; the same seed, the same output")
    kind = generate.add_mutually_exclusive_group()
    kind.add_argument("--valid", action="store_const", dest="kind", const="valid")
    kind.add_argument(
        "--invalid", nargs="?", const=_generate.ALL_RULES, metavar="RULE", help="break RULE (any)"
    )
    kind.add_argument("--dry-run", action="store_const", dest="kind", const="dry-run")
    generate.add_argument("--instance-id", help="the instance the requests name")
    generate.add_argument(
        "--taken-name",
        action="append",
        default=[],
        dest="taken_names",
        metavar="NAME",
        help="an image name the service already holds (repeatable; for name.duplicate)",
    )
    generate.add_argument(
        "--unique-names", action="store_true", help="no two requests share a Name"
    )
    generate.add_argument("--format", choices=_generate.FORMATS, default="jsonl")
    generate.add_argument(
        "--endpoint", default="https://ec2.us-east-1.amazonaws.com/", help="for --format curl"
    )
    generate.add_argument("--region", default="us-east-1", help="for --format curl")
    generate.add_argument(
        "--stats", action="store_true", help="print how often each rule was produced, on stderr"
    )
    generate.set_defaults(handler=_run_generate, kind=None)


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, not {text!r}")
    return value


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number from 0, not {text!r}")
    return int(text)


def _run_generate(args: argparse.Namespace) -> int:
    kind = "invalid" if args.invalid else args.kind or "mixed"
    rule = None if args.invalid in (None, _generate.ALL_RULES) else args.invalid
    seed = _generate.new_seed() if args.seed is None else args.seed
    if args.seed is None:
        print(f"createimage-contract generate: seed {seed}", file=sys.stderr)
    request = _generate.Request(
        kind, rule, args.instance_id, tuple(args.taken_names), args.unique_names, args.count, seed
    )
    try:
        drawn = _generate.examples(request)
    except ValueError as error:
        print(f"createimage-contract generate: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        _generate.write(
            drawn, _generate.writer(args.format, args.endpoint, args.region), sys.stdout
        )
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    if args.stats:
        print(_generate.coverage_table(drawn), file=sys.stderr)
    return 0


def _run_lint(args: argparse.Namespace) -> int:
    files: list[str] = args.files
    if not files:
        if sys.stdin.isatty():
            print(
                "createimage-contract lint: error: no input; give FILE ... or - for stdin",
                file=sys.stderr,
            )
            return EXIT_USAGE
        files = ["-"]
    results = [_lint.lint_one(source, args.input) for source in files]
    for result in results:
        if result.error:
            print(f"createimage-contract lint: error: {result.error}", file=sys.stderr)
    try:
        if args.format == "json":
            _lint.write_json(results, sys.stdout)
        else:
            _lint.write_text(results, sys.stdout, Style.for_stream(sys.stdout, args.color))
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()  # the reader left (| head); the verdict still stands
    return _lint.exit_code(results)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("createimage-contract: interrupted", file=sys.stderr)
        return 130
