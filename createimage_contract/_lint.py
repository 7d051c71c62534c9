"""``createimage-contract lint``: validate request files and report, as text or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import _inputs
from ._console import EXIT_FOUND, EXIT_OK, EXIT_USAGE, Style, error, write_out
from .schema import INPUT_FORMS, FormatError, InputForm, Violation, is_valid, validate

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


def register(commands: Any) -> None:
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
    lint.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    files: list[str] = args.files
    if not files:
        if sys.stdin.isatty():
            return error("lint", "no input; give FILE ... or - for stdin")
        files = ["-"]
    results = [lint_one(source, args.input) for source in files]
    for result in results:
        if result.error:
            error("lint", result.error)
    if args.format == "json":
        write_out(lambda: write_json(results, sys.stdout))
    else:
        style = Style.for_stream(sys.stdout, args.color)
        write_out(lambda: write_text(results, sys.stdout, style))
    return exit_code(results)


@dataclass(frozen=True)
class Result:
    """The outcome of linting one input: its violations, or why it could not be read."""

    source: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None

    @property
    def valid(self) -> bool:
        return self.error is None and is_valid(self.violations)

    def as_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "source": self.source,
            "valid": self.valid,
            "violations": [v.as_dict() for v in self.violations],
        }
        if self.error is not None:
            report["error"] = self.error
        return report


def lint_one(source: str, form: InputForm) -> Result:
    """Read and validate one input; a read or parse problem is the result's ``error``."""
    try:
        request = _inputs.read(source, form)
        return Result(request.source, validate(request.request, input=request.form))
    except _inputs.InputError as error:
        return Result(source, error=str(error))
    except FormatError as error:
        name = "<stdin>" if source == _inputs.STDIN else source
        return Result(name, error=f"{name}: {error}")
    except RecursionError:  # parameters nested deeper than the validator descends
        name = "<stdin>" if source == _inputs.STDIN else source
        return Result(name, error=f"{name}: nested too deeply to be a request")


def exit_code(results: Iterable[Result]) -> int:
    """2 if any input could not be read, else 1 if any is invalid, else 0."""
    results = list(results)
    if any(r.error for r in results):
        return EXIT_USAGE
    return EXIT_OK if all(r.valid for r in results) else EXIT_FOUND


def write_json(results: list[Result], out: TextIO) -> None:
    json.dump([r.as_dict() for r in results], out, indent=2)
    out.write("\n")


def write_text(results: list[Result], out: TextIO, style: Style) -> None:
    """One line per violation, ``FILE:PATH: CODE rule-id message``, then a summary."""
    for result in results:
        for v in result.violations:
            colour = style.red if v.severity == "error" else style.yellow
            code = colour(v.code or "4xx")
            rule = style.dim(v.rule)
            out.write(f"{style.bold(result.source)}:{v.path}: {code} {rule} {v.message}\n")
    out.write(_summary(results, style) + "\n")


def _summary(results: list[Result], style: Style) -> str:
    violations = [v for r in results for v in r.violations]
    errors = sum(v.severity == "error" for v in violations)
    warnings = len(violations) - errors
    unreadable = sum(r.error is not None for r in results)
    invalid = sum(not r.valid for r in results) - unreadable
    inputs = _plural(len(results), "input")
    if not violations and not unreadable:
        return style.green(f"{inputs} checked, all valid.")
    parts = [f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {inputs}"]
    parts.append(f"{invalid} invalid")
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    return ("; ".join(parts)) + "."


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
