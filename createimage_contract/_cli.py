"""The ``createimage-contract`` command line: each command registers itself from its module.

Registering imports nothing heavy (no Hypothesis, no conformance runner): ``lint`` must start
fast, so each command imports what it needs when it runs, or when its help is asked for. When
the command line names a command, only the module of that command is imported and registered
(``COMMANDS``); the others are for the program's own help and its usage errors."""

from __future__ import annotations

import argparse
import importlib
import io
import sys
from collections.abc import Callable, Sequence

from ._console import NORMAL, QUIET, VERBOSE, Parser

COMMANDS = {
    "lint": "_lint",
    "generate": "_generate",
    "run": "_run",
    "serve": "_run",
    "matrix": "_matrix",
    "selftest": "_selftest",
}
"""Each command, in the order of the help, and the module whose ``register`` adds it."""


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given the arguments, of the command they name if they
    start with one (which is all that parsing them needs)."""
    parser = Parser(
        prog="createimage-contract",
        description="Check that anything speaking the EC2 CreateImage API speaks it correctly.",
    )
    parser.add_argument("-V", "--version", action=_Version, nargs=0, help=_Version.HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    named = COMMANDS.get(next(iter(argv or ()), ""))
    for module in dict.fromkeys(COMMANDS.values()) if named is None else (named,):
        importlib.import_module(f".{module}", __package__).register(commands)
    for command in commands.choices.values():
        _add_verbosity(command)
    return parser


class _Version(argparse.Action):
    """``--version``, as argparse's own, but reading the version only when it is asked for
    (``importlib.metadata`` takes longer to import than ``lint`` takes to check a file)."""

    HELP = "show program's version number and exit"

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from . import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


def _add_verbosity(command: argparse.ArgumentParser) -> None:
    """``-q`` and ``-v`` on every command, after its own options (as ruff and pytest have
    them): ``args.verbosity`` is -1, 0 or 1."""
    group = command.add_argument_group("output").add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const=QUIET,
        default=NORMAL,
        help="print less: what was found, and the verdict",
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const=VERBOSE,
        help="print more: every step",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (usage errors and ``--help`` exit through
    argparse, with ``SystemExit`` 2 and 0)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            # A request may hold text no terminal encoding can print (a lone surrogate).
            stream.reconfigure(errors="backslashreplace")
    if argv is None:
        argv = sys.argv[1:]
    args = _parser(argv).parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("createimage-contract: interrupted", file=sys.stderr)
        return 130
