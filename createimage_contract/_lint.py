"""``createimage-contract lint``: validate request files and report, as text, JSON, GitHub
workflow commands or SARIF."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import _inputs, _lint_formats, _workflows
from ._console import (
    EXIT_FOUND,
    EXIT_OK,
    EXIT_USAGE,
    QUIET,
    VERBOSE,
    Style,
    error,
    whole_number,
    write_out,
)
from .schema import (
    FormatError,
    Violation,
    counted,
    is_valid,
    validate,
)

PLACEHOLDERS = {
    "${{ ... }}": r"\$\{\{.*?\}\}",  # GitHub Actions and other CI systems; before ${ ... }
    "${ ... }": r"\$\{[^}]*\}",  # Conductor, and shell-like templates
    "{% ... %}": r"\{%.*?%\}",  # JSONata in Step Functions
    "{{ ... }}": r"\{\{.*?\}\}",  # Jinja, Handlebars, Mustache, Go templates
}
"""The placeholders a value may hold, by syntax; ``--placeholder`` adds more. A Step Functions
``"Key.$"`` member is one too, whole (``_workflows``)."""
LINT_INPUTS: tuple[str, ...] = (*_inputs.READ_FORMS, "jsonl")
"""``--input``: the forms ``_inputs`` reads, and JSON Lines, which ``_bulk`` streams."""
MAX_JOBS = 1024

LINT_EPILOG = """\
inputs: a FILE may be a directory, searched with its subdirectories (not hidden ones) for
*.json, *.form, *.asl.yaml and *.asl.yml files, in sorted order. With no FILE, piped standard
input is read; empty standard input is no input, an error (exit 2).

input forms (--input auto: a .json file, or text starting with { [ or ", is JSON, a .yaml or
.yml file is YAML; a workflow definition is a workflow; a JSON object with url/method/headers/
body fields is an HTTP request, any other JSON is parameters; anything else is a form body):
  json      boto3-style parameters, as `aws ec2 create-image --cli-input-json` takes them
  form      an EC2 Query form body as sent on the wire (Action=CreateImage&Version=...)
  http      {"url", "method", "headers", "body"} as a workflow engine's HTTP task holds it
  workflow  a Conductor/Orkes workflow or task (its HTTP tasks to an EC2 host with Action
            CreateImage), or a Step Functions state machine in JSON or YAML (its Task states
            arn:aws:states:::aws-sdk:ec2:createImage, in Parallel branches and Map too);
            paths are JSON pointers into the file, and each violation names its task or state
  jsonl     JSON Lines: one request per line, in any of the first three forms (an object of
            parameters or an HTTP request, or a JSON string holding a form body); blank lines
            are ignored; not the default for any file

placeholders: a value holding ${...}, {%...%}, {{...}} or ${{...}} (or a --placeholder), and a
Step Functions "Key.$" member, is known only at run time: its literal characters and the length
of its literal part are checked, and the rest is an info line (rule dynamic) that never fails.

bulk (--input jsonl): the input is streamed, so it may be of any size, and its lines are
checked by --jobs N worker processes (default: one per core; a small input in one) and
reported as they come, in line order, with FILE:LINE: before the path. A line that is not JSON,
not a request, or over 10 MiB is reported with its number (an error: exit 2) and the run goes
on. On a terminal, a progress bar on standard error.

report formats (--format):
  text    FILE:PATH: SEVERITY CODE rule-id message, one line per violation, then a summary;
          FILE:PATH: info dynamic message for a value known only at run time;
          -q: the error and warning lines only; -v: also a line for each valid input
  json    an array with one object per input; for jsonl, JSON Lines: an object per line
          that breaks a rule or cannot be read, with its "line"
  github  GitHub Actions workflow commands: an annotation per violation, on its line
  sarif   SARIF 2.1.0, for code-scanning dashboards

exit codes:
  0  every input is valid (warnings and dynamic values allowed)
  1  some input breaks a rule of severity error
  2  some input could not be read or parsed, or the command line is wrong

examples:
  createimage-contract lint request.json
  aws ec2 create-image --generate-cli-skeleton | createimage-contract lint -
  createimage-contract lint --format json examples/valid examples/invalid
  createimage-contract lint --format github requests/
  createimage-contract lint workflows/backup.json statemachine/backup.asl.yaml
  createimage-contract lint --ec2-host 'ec2.*.internal' --placeholder '<<[^>]*>>' flow.json
  createimage-contract lint --input jsonl --jobs 4 -q requests.jsonl
  zcat requests.jsonl.gz | createimage-contract lint --input jsonl --format json - > found.jsonl
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
        "--input",
        choices=LINT_INPUTS,
        default="auto",
        help="how to read the inputs (auto)",
    )
    lint.add_argument(
        "--jobs",
        type=whole_number(1, MAX_JOBS),
        metavar="N",
        help="with --input jsonl: check the lines in N processes (default: one per core)",
    )
    lint.add_argument(
        "--ec2-host",
        action="append",
        default=[],
        metavar="HOST",
        help="in a workflow, an HTTP task to HOST (host, host:port or a glob such as "
        "'*.internal') calls EC2 too; repeatable",
    )
    lint.add_argument(
        "--placeholder",
        action="append",
        default=[],
        type=_placeholder,
        metavar="REGEX",
        help="text matching REGEX is a placeholder too (Python syntax); repeatable",
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


def _placeholder(text: str) -> str:
    """A ``--placeholder`` value: a regular expression that matches some text, never nothing."""
    try:
        compiled = re.compile(text)
    except re.error as problem:
        raise argparse.ArgumentTypeError(
            f"not a regular expression: {text!r} ({problem})"
        ) from None
    if compiled.fullmatch(""):
        raise argparse.ArgumentTypeError(f"{text!r} matches empty text: every value would hold one")
    return text


def placeholders(extra: Sequence[str] = ()) -> re.Pattern[str]:
    """One pattern of every placeholder syntax: ours, then ``extra``."""
    return re.compile("|".join([*PLACEHOLDERS.values(), *(f"(?:{x})" for x in extra)]), re.DOTALL)


@dataclass(frozen=True)
class Options:
    """How to read and check the inputs: ``lint``'s options that are not about the report."""

    form: _inputs.ReadForm = "auto"
    ec2_hosts: tuple[str, ...] = ()
    placeholders: re.Pattern[str] = field(default_factory=placeholders)


def command(args: argparse.Namespace) -> int:
    files: list[str] = args.files
    if not files and sys.stdin.isatty():
        return error("lint", "no input; give FILE ... or - for stdin")
    if args.jobs is not None and args.input != "jsonl":
        return error("lint", "--jobs is for --input jsonl")
    if args.input == "jsonl":
        from . import _bulk  # only here: a plain lint starts no slower

        return _bulk.command(args, placeholders(args.placeholder))
    sources = _inputs.expand(files) if files else [_inputs.STDIN]
    options = Options(args.input, tuple(args.ec2_host), placeholders(args.placeholder))
    results = [lint_one(source, options) for source in sources]
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
    calls: int | None = None
    """For a workflow definition, how many CreateImage calls it holds; ``None`` otherwise."""
    note: str | None = None
    """For a workflow with no CreateImage call: what was seen instead."""

    @property
    def valid(self) -> bool:
        return self.error is None and is_valid(self.violations)

    def as_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {
            "source": self.source,
            "valid": self.valid,
            "violations": [v.as_dict() for v in self.violations],
        }
        if self.calls is not None:
            report["calls"] = self.calls
        if self.note is not None:
            report["note"] = self.note
        if self.error is not None:
            report["error"] = self.error
        return report


@dataclass(frozen=True)
class TaskViolation(Violation):
    """A violation inside a workflow definition: its path is a JSON pointer into the file, and
    its message starts with the task (or state) it is in."""

    task: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "task": self.task}


def lint_one(source: str, options: Options | None = None) -> Result:
    """Read and validate one input; a read or parse problem is the result's ``error``."""
    options = options or Options()
    name = "<stdin>" if source == _inputs.STDIN else source
    try:
        read = _inputs.read(source, options.form)
        if read.form == "workflow":
            return _lint_workflow(read, options)
        found = validate(read.request, input=read.form, placeholders=options.placeholders)
        return Result(read.source, found, read=read)
    except _inputs.InputError as error:
        return Result(name, error=str(error), no_input=isinstance(error, _inputs.NoInput))
    except FormatError as error:
        return Result(name, error=f"{name}: {error}")
    except RecursionError:  # parameters nested deeper than the validator descends
        return Result(name, error=f"{name}: nested too deeply to be a request")


def _lint_workflow(read: _inputs.Input, options: Options) -> Result:
    found = _workflows.calls(read.request, options.ec2_hosts)
    violations: list[Violation] = []
    for call in found.calls:
        try:
            broken = validate(call.request, input=call.form, placeholders=options.placeholders)
        except FormatError as error:
            raise FormatError(f"{call.pointer}: task {call.task}: {error}") from None
        violations += [_in_task(v, call) for v in broken]
    note = None if found.calls else found.describe_none()
    return Result(read.source, violations, read=read, calls=len(found.calls), note=note)


def _in_task(violation: Violation, call: _workflows.Call) -> TaskViolation:
    where = {
        "path": call.locate(violation.path),
        "message": f"task {call.task}: {violation.message}",
    }
    return TaskViolation(**{**vars(violation), **where}, task=call.task)


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
    """One line per violation, ``FILE:PATH: SEVERITY CODE rule-id message``, then a summary;
    quiet, the error and warning lines only; verbose, also a line for each valid input."""
    for result in results:
        for v in result.violations:
            if v.severity == "info" and verbosity <= QUIET:
                continue
            out.write(f"{style.bold(result.source)}:{v.path}: {said(v, style)} {v.message}\n")
        if result.note is not None and verbosity > QUIET:
            out.write(f"{style.bold(result.source)}: {style.yellow(result.note)}\n")
        if verbosity >= VERBOSE and result.valid:
            out.write(f"{style.bold(result.source)}: {style.green(_valid(result))}\n")
    if verbosity > QUIET:
        out.write(_summary(results, style) + "\n")


def said(violation: Violation, style: Style) -> str:
    """The severity in words, the code and the rule: in a CI log colour is lost, and an error
    and a warning would look alike. An info (a dynamic value) has no code."""
    if violation.severity == "info":
        return f"{style.dim('info')} {style.dim(violation.rule)}"
    colour = style.red if violation.severity == "error" else style.yellow
    said = f"{violation.severity} {violation.code or '4xx'}"
    return f"{colour(said)} {style.dim(violation.rule)}"


def _valid(result: Result) -> str:
    warnings = sum(v.severity == "warning" for v in result.violations)
    return f"valid, {counted(warnings, 'warning')}" if warnings else "valid"


def _summary(results: list[Result], style: Style) -> str:
    violations = [v for r in results for v in r.violations]
    errors = sum(v.severity == "error" for v in violations)
    warnings = sum(v.severity == "warning" for v in violations)
    unreadable = sum(r.error is not None for r in results)
    return summary(
        style,
        checked=counted(len(results), "input"),
        errors=errors,
        warnings=warnings,
        dynamic=len(violations) - errors - warnings,
        invalid=sum(not r.valid for r in results) - unreadable,
        unreadable=unreadable,
    )


def summary(
    style: Style,
    *,
    checked: str,
    errors: int,
    warnings: int,
    dynamic: int,
    invalid: int,
    unreadable: int,
) -> str:
    """The text report's last line; ``checked`` says what was checked (``3 inputs``)."""
    besides = f"; {counted(dynamic, 'value')} known only at run time" if dynamic else ""
    if not errors and not warnings and not unreadable:
        return style.green(f"{checked} checked, all valid") + besides + "."
    parts = [f"{counted(errors, 'error')}, {counted(warnings, 'warning')} in {checked}"]
    parts.append(f"{invalid} invalid")
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    return "; ".join(parts) + besides + "."
