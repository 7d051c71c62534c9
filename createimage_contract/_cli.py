"""The ``createimage-contract`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__, _lint
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
    return parser


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
