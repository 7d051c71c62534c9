"""``createimage-contract lint``: validate request files and report, as text, JSON, GitHub
workflow commands or SARIF."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import _inputs, _lint_formats
from ._console import EXIT_FOUND, EXIT_OK, EXIT_USAGE, QUIET, VERBOSE, Style, error, write_out
from .schema import (
    INPUT_FORMS,
    FormatError,
    InputForm,
    Violation,
    counted,
    is_valid,
    validate,
)

LINT_EPILOG = """\
inputs: a FILE may be a directory, searched with its subdirectories (not hidden ones) for
*.json and *.form files, in sorted order. With no FILE, piped standard input is read; empty
standard input is no input, an error (exit 2).

input forms (--input auto: a .json file, or text starting with { [ or ", is JSON; a JSON
object with url/method/headers/body fields is an HTTP request, any other JSON is parameters;
anything else is a form body):
  json   boto3-style parameters, as `aws ec2 create-image --cli-input-json` takes them
  form   an EC2 Query form body as sent on the wire (Action=CreateImage&Version=...)
  http   {"url", "method", "headers", "body"} as a workflow engine's HTTP task holds it

report formats (--format):
  text    FILE:PATH: SEVERITY CODE rule-id message, one line per violation, then a summary;
          -q: the violation lines only; -v: also a line for each valid input
  json    an array with one object per input
  github  GitHub Actions workflow commands: an annotation per violation, on its line
  sarif   SARIF 2.1.0, for code-scanning dashboards

exit codes:
  0  every input is valid (warnings allowed)
  1  some input breaks a rule of severity error
  2  some input could not be read or parsed, or the command line is wrong

examples:
  createimage-contract lint request.json
  aws ec2 create-image --generate-cli-skeleton | createimage-contract lint -
  createimage-contract lint --format json examples/valid examples/invalid
  createimage-contract lint --format github requests/
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
        "files",
        nargs="*",
        metavar="FILE",
        help="request files or directories; - reads standard input",
    )
    lint.add_argument(
        "--input", choices=INPUT_FORMS, default="auto", help="how to read the inputs (auto)"
    )
    lint.add_argument(
        "--format",
        choices=("text", "json", "github", "sarif"),
        default="text",
        help="report format (text)",
    )
    lint.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour the text"
    )
    lint.set_defaults(handler=command)


def command(args: argparse.Namespace) -> int:
    files: list[str] = args.files
    if not files and sys.stdin.isatty():
        return error("lint", "no input; give FILE ... or - for stdin")
    sources = _inputs.expand(files) if files else [_inputs.STDIN]
    results = [lint_one(source, args.input) for source in sources]
    if not files and results[0].no_input:
        # Nothing given and nothing piped (an empty $FILES in CI): linting nothing is no pass.
        return error("lint", "no input: no FILE given and standard input is empty")
    for result in results:
        if result.error:
            error("lint", result.error)
    code = exit_code(results)
    write_out(lambda: _write(args, results, code))
    return code


def _write(args: argparse.Namespace, results: list[Result], code: int) -> None:
    if args.format == "json":
        write_json(results, sys.stdout)
    elif args.format == "github":
        _lint_formats.write_github(results, sys.stdout)
    elif args.format == "sarif":
        _lint_formats.write_sarif(results, sys.stdout, code)
    else:
        style = Style.for_stream(sys.stdout, args.color)
        write_text(results, sys.stdout, style, args.verbosity)


@dataclass(frozen=True)
class Result:
    """The outcome of linting one input: its violations, or why it could not be read."""

    source: str
    violations: list[Violation] = field(default_factory=list)
    error: str | None = None
    read: _inputs.Input | None = None
    """The input as read, for the reports that give line numbers."""
    no_input: bool = False
    """Standard input was empty: nothing was piped in."""

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
    name = "<stdin>" if source == _inputs.STDIN else source
    try:
        read = _inputs.read(source, form)
        return Result(read.source, validate(read.request, input=read.form), read=read)
    except _inputs.InputError as error:
        return Result(name, error=str(error), no_input=isinstance(error, _inputs.NoInput))
    except FormatError as error:
        return Result(name, error=f"{name}: {error}")
    except RecursionError:  # parameters nested deeper than the validator descends
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


def write_text(results: list[Result], out: TextIO, style: Style, verbosity: int = 0) -> None:
    """One line per violation, ``FILE:PATH: SEVERITY CODE rule-id message``, then a summary
    (not when quiet); verbose, also a line for each valid input."""
    for result in results:
        for v in result.violations:
            # The severity in words: in a CI log, colour is lost and both would look alike.
            colour = style.red if v.severity == "error" else style.yellow
            said = colour(f"{v.severity} {v.code or '4xx'}")
            rule = style.dim(v.rule)
            out.write(f"{style.bold(result.source)}:{v.path}: {said} {rule} {v.message}\n")
        if verbosity >= VERBOSE and result.valid:
            out.write(f"{style.bold(result.source)}: {style.green(_valid(result))}\n")
    if verbosity > QUIET:
        out.write(_summary(results, style) + "\n")


def _valid(result: Result) -> str:
    warnings = len(result.violations)
    return f"valid, {counted(warnings, 'warning')}" if warnings else "valid"


def _summary(results: list[Result], style: Style) -> str:
    violations = [v for r in results for v in r.violations]
    errors = sum(v.severity == "error" for v in violations)
    warnings = len(violations) - errors
    unreadable = sum(r.error is not None for r in results)
    invalid = sum(not r.valid for r in results) - unreadable
    inputs = counted(len(results), "input")
    if not violations and not unreadable:
        return style.green(f"{inputs} checked, all valid.")
    parts = [f"{counted(errors, 'error')}, {counted(warnings, 'warning')} in {inputs}"]
    parts.append(f"{invalid} invalid")
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    return ("; ".join(parts)) + "."
