"""``lint --input jsonl``: JSON Lines, one request per line, read as a stream and checked in
worker processes, the report written as it goes.

The main process reads the input in blocks of whole lines (``Task``), hands them to the
workers and writes what each block came to (``Done``) in line order, a few blocks ahead at
most; it keeps only the counts, for the summary and the exit code. So memory stays bounded
whatever the input's size. A worker imports this module and what it imports (lint's report
formats and the schema), nothing of the other commands."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, TextIO

from . import _lint_formats
from ._console import EXIT_FOUND, EXIT_OK, EXIT_USAGE, QUIET, VERBOSE, Style, error
from ._lint import said, summary
from .schema import Error, FormatError, InputForm, Violation, counted, validate

if TYPE_CHECKING:
    from concurrent.futures import Future
    from multiprocessing.context import BaseContext

MAX_LINE_BYTES = 10 * 1024 * 1024
"""A line longer than this is reported, not read: one request is never that long."""
BLOCK_BYTES = 1024 * 1024
"""How much is read at once: a block of whole lines (a few thousand typical requests) is what a
worker checks at a time."""
POOL_FROM_BLOCKS = 4
"""Fewer blocks are checked in the main process: starting workers would take longer."""
WINDOW_PER_JOB = 3
"""Blocks read ahead per worker: enough to keep each busy, few enough to bound memory."""
STDIN = "-"
STDIN_NAME = "<stdin>"
ERROR_PREFIX = "createimage-contract lint: error: "
_KINDS = {list: "a JSON array", int: "a number", float: "a number", bool: "true or false"}
_NOT_A_REQUEST = (
    "not a request: {kind}; a line holds an object (parameters or an HTTP request) or a "
    "string (a form body)"
)


@dataclass(frozen=True)
class Settings:
    """What the workers need to know: the report's format, and how to read values."""

    format: str = "text"
    color: bool = False
    verbosity: int = 0
    placeholders: re.Pattern[str] | None = None
    max_line: int = MAX_LINE_BYTES


class Task(NamedTuple):
    """Whole lines of one input, for a worker: ``first`` is the number of the first."""

    source: str
    first: int
    data: bytes


class Done(NamedTuple):
    """What some lines came to: the report's text for them, and the counts."""

    out: str = ""
    """The report (in its format) for these lines, to write as it is."""
    unread: tuple[tuple[str, int | None, str], ...] = ()
    """Each line that could not be read: its input, its number (``None``: the whole input),
    and why, naming both."""
    lines: int = 0
    """Lines read (blank lines are not counted)."""
    invalid: int = 0
    unreadable: int = 0
    errors: int = 0
    warnings: int = 0
    dynamic: int = 0
    size: int = 0
    """The bytes these lines take in the input."""


class _End(NamedTuple):
    """An input read to its end."""

    source: str


Item = Task | Done | _End


# ------------------------------------------------------------------ the command (main process)


def command(args: argparse.Namespace, placeholders: re.Pattern[str]) -> int:
    """``lint --input jsonl [FILE ...]``: the exit code."""
    settings = Settings(
        format=args.format,
        color=Style.for_stream(sys.stdout, args.color).enabled,
        verbosity=args.verbosity,
        placeholders=placeholders,
    )
    from concurrent.futures.process import BrokenProcessPool

    try:
        return run(
            args.files or [STDIN],
            settings,
            args.jobs or default_jobs(),
            progress=sys.stderr.isatty(),
        )
    except BrokenProcessPool as problem:  # a worker killed (out of memory, say)
        return error("lint", f"a worker process ended unexpectedly ({problem})")


def default_jobs() -> int:
    """The cores this process may use."""
    count: int | None = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(1, count or 1)


def run(
    sources: Iterable[str],
    settings: Settings,
    jobs: int = 1,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stdin: IO[bytes] | None = None,
    progress: bool = False,
    block: int = BLOCK_BYTES,
) -> int:
    """Lint every line of ``sources`` (``-``: ``stdin``), writing the report to ``out`` as it
    goes, each unreadable line to ``err``; ``progress``, a bar on ``err``. The exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    reader = _Reader(list(sources), settings, block, stdin or sys.stdin.buffer)
    bar = _Bar(err, reader.total) if progress else None
    report = _Report(settings, out, err, bar)
    tally = Tally()
    report.begin()
    try:
        with closing(_lint_all(reader.items(), settings, jobs)) as results:
            counted_lines = 0  # at the end of the input before
            for result in results:
                if isinstance(result, _End):
                    if tally.total.lines == counted_lines:
                        result = reader.empty(result.source)
                    else:
                        counted_lines = tally.total.lines
                        continue
                tally.add(result)
                report.write(result)
                if bar is not None:
                    bar.update(tally.total.lines, tally.total.size)
    finally:
        if bar is not None:
            bar.clear()
    code = tally.exit_code()
    report.end(tally, code)
    return code


_COUNTS = ("lines", "invalid", "unreadable", "errors", "warnings", "dynamic", "size")
"""The fields of ``Done`` that are counts."""


@dataclass
class Tally:
    """The counts of the whole run, which is all the main process keeps: those of every
    ``Done``, summed (its text is written as it comes, and not kept)."""

    total: Done = field(default_factory=Done)

    def add(self, done: Done) -> None:
        sums = {name: getattr(self.total, name) + getattr(done, name) for name in _COUNTS}
        self.total = Done(**sums)

    def exit_code(self) -> int:
        """2 if any line (or input) could not be read, else 1 if any request is invalid."""
        if self.total.unreadable:
            return EXIT_USAGE
        return EXIT_FOUND if self.total.invalid else EXIT_OK

    def summary(self, style: Style) -> str:
        total = self.total
        return summary(
            style,
            checked=counted(total.lines, "line"),
            errors=total.errors,
            warnings=total.warnings,
            dynamic=total.dynamic,
            invalid=total.invalid,
            unreadable=total.unreadable,
        )


def _lint_all(
    items: Iterator[Item], settings: Settings, jobs: int
) -> Generator[Done | _End, None, None]:
    """What each item comes to, in order: in ``jobs`` worker processes, or in this one for
    ``--jobs 1`` or a small input (``POOL_FROM_BLOCKS``)."""
    head: list[Item] = []
    blocks = 0
    for item in items:
        head.append(item)
        blocks += isinstance(item, Task)
        if blocks >= POOL_FROM_BLOCKS:
            break
    stream = chain(head, items)
    if jobs == 1 or blocks < POOL_FROM_BLOCKS:
        for item in stream:
            yield lint_block(item, settings) if isinstance(item, Task) else item
        return
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        jobs, mp_context=_context(), initializer=_start_worker, initargs=(settings,)
    )
    try:
        pending: deque[Future[Done] | Done | _End] = deque()
        window = jobs * WINDOW_PER_JOB
        for item in stream:
            pending.append(pool.submit(lint_block, item) if isinstance(item, Task) else item)
            while pending and (len(pending) > window or _ready(pending[0])):
                yield _outcome(pending.popleft())
        while pending:
            yield _outcome(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ready(item: Future[Done] | Done | _End) -> bool:
    return item.done() if not isinstance(item, Done | _End) else True


def _outcome(item: Future[Done] | Done | _End) -> Done | _End:
    return item if isinstance(item, Done | _End) else item.result()


def _context() -> BaseContext:
    """Workers forked from a server that has imported this module alone (where there is
    one), else fresh interpreters: never a fork of this process, threads and all."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


class _Reader:
    """The inputs as blocks of whole lines, and what could not be read of them."""

    def __init__(
        self, sources: list[str], settings: Settings, block: int, stdin: IO[bytes]
    ) -> None:
        self.sources = sources
        self.settings = settings
        self.block = block
        self.stdin = stdin
        self.total = _total_size(sources, stdin)
        """The size of the inputs, when it is known (regular files)."""

    def items(self) -> Iterator[Item]:
        for source in self.sources:
            name = STDIN_NAME if source == STDIN else source
            try:
                stream = self.stdin if source == STDIN else Path(source).open("rb")  # noqa: SIM115
            except IsADirectoryError:
                yield self.failed(name, f"{name}: is a directory, not a JSON Lines file")
                continue
            except OSError as problem:
                yield self.failed(name, f"{name}: cannot read ({problem.strerror or problem})")
                continue
            try:
                yield from self._blocks(name, stream)
            except OSError as problem:
                yield self.failed(name, f"{name}: cannot read ({problem.strerror or problem})")
            finally:
                if stream is not self.stdin:
                    stream.close()
            yield _End(name)

    def _blocks(self, name: str, stream: IO[bytes]) -> Iterator[Item]:
        line = 1  # the number of the first line not yet handed out
        pending: list[bytes] = []  # the start of that line, when it spans reads
        pending_size = 0
        skipping = False  # inside a line too long to read
        while data := stream.read(self.block):
            if skipping:
                end = data.find(b"\n")
                if end < 0:
                    continue
                data, skipping, line = data[end + 1 :], False, line + 1
            cut = data.rfind(b"\n")
            if cut < 0:
                pending.append(data)
                pending_size += len(data)
                if pending_size > self.settings.max_line:
                    too_long = self.failed(name, _too_long(name, line, self.settings), line)
                    yield too_long._replace(size=pending_size)
                    pending, pending_size, skipping = [], 0, True
                continue
            lines = b"".join([*pending, data[: cut + 1]]) if pending else data[: cut + 1]
            yield Task(name, line, lines)
            line += lines.count(b"\n")
            rest = data[cut + 1 :]
            pending, pending_size = ([rest], len(rest)) if rest else ([], 0)
        if pending:  # the last line, with no newline after it
            yield Task(name, line, b"".join(pending))

    def failed(self, name: str, message: str, line: int | None = None) -> Done:
        """An input (``line`` ``None``) or a line that could not be read at all."""
        lines = _Lines.of(self.settings, name)
        lines.unreadable(line, message)
        return Done(lines.text(), ((name, line, message),), int(line is not None), unreadable=1)

    def empty(self, name: str) -> Done:
        if name == STDIN_NAME:
            return self.failed(name, f"{name}: no input (standard input is empty)")
        return self.failed(name, f"{name}: no request in it (the file is empty or blank)")


def _total_size(sources: list[str], stdin: IO[bytes]) -> int | None:
    import stat

    total = 0
    for source in sources:
        try:
            status = os.fstat(stdin.fileno()) if source == STDIN else Path(source).stat()
        except (OSError, ValueError, AttributeError):  # a stream with no file descriptor
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        total += status.st_size
    return total


def _too_long(name: str, line: int, settings: Settings) -> str:
    limit = settings.max_line
    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
    return f"{name}:{line}: longer than {size}; a line holds one request"


class _Report:
    """The report, written as the results come: each block's text to ``out`` as it is (but for
    SARIF's start and end), each unreadable line on ``err``; only SARIF's notifications are
    kept to the end, in a file once they are many."""

    def __init__(self, settings: Settings, out: TextIO, err: TextIO, bar: _Bar | None) -> None:
        self.settings = settings
        self.out = out
        self.err = err
        self.bar = bar
        self.closed = False
        self.results = 0  # SARIF results written, which a comma separates
        self.notifications: IO[str] | None = None

    def begin(self) -> None:
        if self.settings.format == "sarif":
            self._out(_lint_formats.sarif_head())
            self.notifications = tempfile.SpooledTemporaryFile(  # noqa: SIM115
                1024 * 1024, "w+", encoding="utf-8"
            )

    def write(self, done: Done) -> None:
        for source, line, message in done.unread:
            if self.bar is not None:
                self.bar.clear()
            self.err.write(ERROR_PREFIX + " ".join(message.split()) + "\n")
            if self.notifications is not None:
                if self.notifications.tell():
                    self.notifications.write(",\n")
                notification = _lint_formats.sarif_line_notification(source, line, message)
                self.notifications.write(json.dumps(notification))
        if not done.out:
            return
        if self.settings.format == "sarif" and self.results:
            self._out(",\n")
        self.results += 1
        if self.bar is not None and self.bar.shown and _isatty(self.out):
            self.bar.clear()
        self._out(done.out)
        if self.bar is not None:
            self._flush()

    def end(self, tally: Tally, code: int) -> None:
        if self.settings.format == "text" and self.settings.verbosity > QUIET:
            self._out(tally.summary(Style(self.settings.color)) + "\n")
        if self.notifications is not None:
            before, after = _lint_formats.sarif_tail(code, not tally.total.unreadable)
            self._out(before)
            self.notifications.seek(0)
            if not self.closed:
                try:
                    shutil.copyfileobj(self.notifications, self.out)
                except BrokenPipeError:
                    self._left()
            self.notifications.close()
            self._out(after)
        self._flush()

    def _out(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.out.write(text)
        except BrokenPipeError:
            self._left()

    def _flush(self) -> None:
        if self.closed:
            return
        try:
            self.out.flush()
        except BrokenPipeError:
            self._left()

    def _left(self) -> None:
        """The reader left early (``| head``): the run goes on, for its verdict."""
        self.closed = True
        if self.out is sys.stdout:
            # Point stdout at /dev/null so that Python's final flush does not fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


class _Bar:
    """One line on a terminal: the lines done, their rate, and their bytes (of how many, when
    known); redrawn a few times a second, and erased before anything else is written."""

    INTERVAL = 0.2
    WIDTH = 20

    def __init__(self, stream: TextIO, total: int | None) -> None:
        self.stream = stream
        self.total = total
        self.started = time.monotonic()
        self.drawn = -1.0
        self.shown = 0
        """The width of the bar on the terminal; 0 when none is."""

    def update(self, lines: int, size: int) -> None:
        now = time.monotonic()
        if now - self.drawn < self.INTERVAL:
            return
        self.drawn = now
        rate = lines / max(now - self.started, 1e-6)
        text = f"lint: {lines:,} lines, {rate:,.0f}/s, {_megabytes(size)}"
        if self.total:
            done = min(size / self.total, 1.0)
            filled = round(done * self.WIDTH)
            text += (
                f" of {_megabytes(self.total)} "
                f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done:.0%}"
            )
        self.stream.write("\r" + text.ljust(self.shown))
        self.stream.flush()
        self.shown = len(text)

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


# ---------------------------------------------------------------- the workers (and --jobs 1)

_settings = Settings()
"""This worker's settings (``_start_worker``)."""


def _start_worker(settings: Settings) -> None:
    global _settings
    _settings = settings
    # Ctrl-C is the main process's to handle: it stops handing out work, and the workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def lint_block(task: Task, settings: Settings | None = None) -> Done:
    """Lint each line of ``task`` (blank lines are skipped): the report's text and counts."""
    settings = settings or _settings
    source, line, data = task
    report = _Lines.of(settings, source)
    placeholders = settings.placeholders
    max_line = settings.max_line
    unread: list[tuple[str, int | None, str]] = []
    lines = invalid = errors = warnings = dynamic = 0
    for raw in data.split(b"\n"):
        if raw.strip(b" \t\r"):
            lines += 1
            problem = None
            if len(raw) > max_line:
                problem = _too_long(source, line, settings)
            else:
                try:
                    violations = _lint_line(raw, placeholders)
                except _Unreadable as why:
                    problem = f"{source}:{line}: {why}"
            if problem is None:
                found = [v.severity for v in violations]
                broken = found.count("error")
                errors += broken
                warnings += found.count("warning")
                dynamic += found.count("info")
                invalid += broken > 0
                report.checked(line, violations, broken == 0)
            else:
                unread.append((source, line, problem))
                report.unreadable(line, problem)
        line += 1
    return Done(
        report.text(),
        tuple(unread),
        lines,
        invalid,
        len(unread),
        errors,
        warnings,
        dynamic,
        len(data),
    )


class _Unreadable(Error):
    """A line that is no request: not JSON, or JSON of no request form."""


def _lint_line(raw: bytes, placeholders: re.Pattern[str] | None) -> list[Violation]:
    try:
        request = json.loads(raw)
    except UnicodeDecodeError as problem:
        raise _Unreadable(f"not UTF-8 text (byte {problem.start})") from None
    except json.JSONDecodeError as problem:
        raise _Unreadable(f"not valid JSON ({problem.msg}, column {problem.colno})") from None
    except RecursionError:
        raise _Unreadable("JSON nested too deeply") from None
    except ValueError as problem:  # a number past Python's 4300-digit limit, say
        raise _Unreadable(f"not valid JSON ({str(problem)[:80]})") from None
    form: InputForm
    if isinstance(request, dict):
        form = "auto"  # parameters, or an HTTP request: the validator tells them apart
    elif isinstance(request, str):
        form = "form"
    else:
        kind = _KINDS.get(type(request), "null")
        raise _Unreadable(_NOT_A_REQUEST.format(kind=kind))
    try:
        return validate(request, input=form, placeholders=placeholders)
    except FormatError as problem:
        raise _Unreadable(str(problem)) from None
    except RecursionError:
        raise _Unreadable("nested too deeply to be a request") from None


class _Lines:
    """The report of some lines of one input, in one of the formats."""

    def __init__(self, settings: Settings, source: str) -> None:
        self.settings = settings
        self.source = source
        self.parts: list[str] = []

    @staticmethod
    def of(settings: Settings, source: str) -> _Lines:
        formats: dict[str, type[_Lines]] = {
            "json": _JsonLines,
            "github": _GithubLines,
            "sarif": _SarifLines,
        }
        return formats.get(settings.format, _TextLines)(settings, source)

    def checked(self, line: int, violations: list[Violation], valid: bool) -> None:
        """A request read, and what it breaks."""

    def unreadable(self, line: int | None, message: str) -> None:
        """A line (``None``: the input) that is no request; ``message`` names it."""

    def text(self) -> str:
        return "".join(self.parts)


class _TextLines(_Lines):
    """``FILE:LINE:PATH: SEVERITY CODE rule-id message``; an unreadable line is only on
    standard error, as an unreadable input is."""

    def __init__(self, settings: Settings, source: str) -> None:
        super().__init__(settings, source)
        self.style = Style(settings.color)
        self.name = self.style.bold(source)
        self.quiet = settings.verbosity <= QUIET
        self.verbose = settings.verbosity >= VERBOSE

    def checked(self, line: int, violations: list[Violation], valid: bool) -> None:
        for v in violations:
            if v.severity == "info" and self.quiet:
                continue
            self.parts.append(f"{self.name}:{line}:{v.path}: {said(v, self.style)} {v.message}\n")
        if self.verbose and valid:
            warnings = sum(v.severity == "warning" for v in violations)
            verdict = f"valid, {counted(warnings, 'warning')}" if warnings else "valid"
            self.parts.append(f"{self.name}:{line}: {self.style.green(verdict)}\n")


class _JsonLines(_Lines):
    """JSON Lines: an object per line that breaks a rule or cannot be read, with its ``line``
    (``null`` for a whole input)."""

    def checked(self, line: int, violations: list[Violation], valid: bool) -> None:
        if violations:
            entry = {
                "source": self.source,
                "line": line,
                "valid": valid,
                "violations": [v.as_dict() for v in violations],
            }
            self.parts.append(json.dumps(entry) + "\n")

    def unreadable(self, line: int | None, message: str) -> None:
        entry: dict[str, Any] = {
            "source": self.source,
            "line": line,
            "valid": False,
            "violations": [],
            "error": message,
        }
        self.parts.append(json.dumps(entry) + "\n")


class _GithubLines(_Lines):
    def checked(self, line: int, violations: list[Violation], valid: bool) -> None:
        for v in violations:
            self.parts.append(_lint_formats.github_line(self.source, line, v, ""))

    def unreadable(self, line: int | None, message: str) -> None:
        self.parts.append(_lint_formats.github_line(self.source, line, None, message))


class _SarifLines(_Lines):
    """SARIF results, separated by commas; an unreadable line is a notification, which
    ``_Report`` keeps for the end of the log."""

    def checked(self, line: int, violations: list[Violation], valid: bool) -> None:
        indexes = _rule_indexes()
        for v in violations:
            result = _lint_formats.sarif_line_result(self.source, line, v, indexes[v.rule])
            self.parts.append(json.dumps(result))

    def text(self) -> str:
        return ",\n".join(self.parts)


@cache
def _rule_indexes() -> dict[str, int]:
    return _lint_formats.sarif_rule_indexes()
