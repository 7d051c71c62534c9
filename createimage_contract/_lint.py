"""``createimage-contract lint``: validate request files and report, as text or JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from . import _inputs
from ._console import Style
from .schema import FormatError, InputForm, Violation, is_valid, validate

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


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


def exit_code(results: Iterable[Result]) -> int:
    """2 if any input could not be read, else 1 if any is invalid, else 0."""
    results = list(results)
    if any(r.error for r in results):
        return EXIT_UNREADABLE
    return EXIT_VALID if all(r.valid for r in results) else EXIT_INVALID


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
