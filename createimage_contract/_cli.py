"""The ``createimage-contract`` command line: each command registers itself from its module."""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import __version__, _generate, _lint, _run, _selftest
from ._console import EXIT_USAGE


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
    for module in (_lint, _generate, _run, _selftest):
        module.register(commands)
    return parser


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
