"""Talking to the shell: the argument parser, exit codes, one-line errors, colour only on a
terminal (and never when NO_COLOR is set, no-color.org), and output to a reader that may leave
early."""

from __future__ import annotations

import argparse
import fnmatch
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn, TextIO

ColorChoice = Literal["auto", "always", "never"]


@dataclass(frozen=True)
class Style:
    enabled: bool

    @classmethod
    def for_stream(cls, stream: TextIO, choice: ColorChoice = "auto") -> Style:
        if choice != "auto":
            return cls(choice == "always")
        plain = bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"
        return cls(not plain and stream.isatty())

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._paint("1", text)

    def dim(self, text: str) -> str:
        return self._paint("2", text)

    def red(self, text: str) -> str:
        return self._paint("31", text)

    def yellow(self, text: str) -> str:
        return self._paint("33", text)

    def green(self, text: str) -> str:
        return self._paint("32", text)


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit 2, and whose help can be
    completed when it is asked for (``complete_help``): registering a command then imports
    nothing its help merely mentions."""

    def __init__(
        self, *args: Any, complete_help: Callable[[Parser], None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._complete_help = complete_help

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")

    def format_help(self) -> str:
        if self._complete_help is not None:
            complete, self._complete_help = self._complete_help, None
            complete(self)
        return super().format_help()


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``; anything else one line."""

    def parse(text: str) -> int:
        digits = text.strip()
        value = int(digits) if digits.isdigit() and len(digits) <= len(str(high)) else None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, not {text!r}"
            )
        return value

    return parse


SEED = whole_number(0, 2**64 - 1)
"""An argparse type: a random seed."""


def new_seed() -> int:
    import random  # only here: lint draws no seed

    return random.SystemRandom().randrange(2**32)


def id_list(
    what: str, known: Callable[[], Sequence[str]], *, globs: bool = False
) -> Callable[[str], tuple[str, ...]]:
    """An argparse type: comma-separated ids, each one of ``known()`` (asked for when an
    option is given, not when the parser is built). With ``globs``, an id may be a shell-style
    pattern (``auth.*``) that matches at least one of them."""

    def parse(text: str) -> tuple[str, ...]:
        choices = known()
        ids = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [i for i in ids if not _names_any(i, choices, globs)]
        if unknown or not ids:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or text!r}; the {what}s are "
                + ", ".join(choices)
            )
        return ids

    return parse


def _names_any(given: str, choices: Sequence[str], globs: bool) -> bool:
    if not globs:
        return given in choices
    return any(fnmatch.fnmatchcase(choice, given) for choice in choices)


QUIET, NORMAL, VERBOSE = -1, 0, 1
"""``args.verbosity``, as ``-q`` and ``-v`` set it on every command."""

EXIT_OK = 0
EXIT_FOUND = 1
"""Something was found: an invalid input, a deviation."""
EXIT_USAGE = 2
"""The command could not do its job: bad options, unreadable input, unreachable target."""


def error(command: str, message: str) -> int:
    """Print ``command: error: message`` as one line on stderr; returns ``EXIT_USAGE``."""
    print(f"createimage-contract {command}: error: {' '.join(message.split())}", file=sys.stderr)
    return EXIT_USAGE


def write_out(write: Callable[[], None]) -> None:
    """Run ``write`` (to stdout); a reader that left early (``| head``) changes no verdict."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        # Point stdout at /dev/null so that Python's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
