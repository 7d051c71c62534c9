"""The ``createimage-contract`` command line: each command registers itself from its module.

Registering imports nothing heavy (no Hypothesis, no conformance runner): ``lint`` must start
fast, so each command imports what it needs when it runs, or when its help is asked for."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Sequence

from . import __version__, _generate, _lint, _run, _selftest
from ._console import NORMAL, QUIET, VERBOSE, Parser


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="createimage-contract",
        description="Check that anything speaking the EC2 CreateImage API speaks it correctly.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.required = True
    for module in (_lint, _generate, _run, _selftest):
        module.register(commands)
    for command in commands.choices.values():
        _add_verbosity(command)
    return parser


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
    args = _parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("createimage-contract: interrupted", file=sys.stderr)
        return 130
