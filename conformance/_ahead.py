"""Examples drawn ahead of the sending, in forked processes of their own.

Drawing an example (Hypothesis and the strategies) costs more than signing it, sending it and
checking its answer together: on 2 cores, against a server that answers at once, a run spent
about 60% of its time drawing. Exploring a category never depends on the answers (nothing is
raised into Hypothesis then), so its examples can be drawn before any of them is sent: the
same ones, in the same order, as drawn in the run's own process. Children draw the coming
categories while this process sends, checks and reports the current one.

Forked, not spawned: a forked child starts in milliseconds with every module and table this
process built (a spawned one would import Hypothesis and the strategies again: half a second,
longer than many runs), and Hypothesis draws there from the same constants it collected here.
Only where fork is safe and the default (Linux): elsewhere, and with ``generators=0``, the
run draws in its own process, as it did before.

Child ``k`` of ``n`` draws the categories ``k``, ``k + n``, ... in order, each on its own
pipe: which process draws which category never depends on timing, so a seed still gives the
same requests. A child that is ahead waits on its pipe (what a category's examples take is
bounded by the pipe's buffer and one category in hand), so memory stays bounded however long
the run.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess

from createimage_contract.schema import Error
from createimage_contract.strategies import Example

from ._runtime import internal_error_line

AUTOMATIC_MAX = 2
"""Processes drawing ahead when the options leave it open. Measured on 2 cores with
``benchmarks/run_throughput.py`` (run / loop, against the reference and against wsgiref):
1 process 0.84 and 0.63, 2 processes 0.92 and 0.69, 3 processes 0.87 and 0.64. Not measured
on more cores."""
POLL_S = 0.2
"""How often a wait for a child's category looks whether the child is still there."""


@dataclass(frozen=True)
class Drawn:
    """A category's examples, as drawn by a child."""

    planned: tuple[Example, ...]
    generated: tuple[Example, ...]
    names_issued: int
    """Names the drawing took: more drawing (shrinking) starts that much further on."""


class DrawFailed(Error):
    """A child could not draw a category: ``line`` says why, as ``internal_error_line`` does."""

    def __init__(self, line: str) -> None:
        super().__init__(line)
        self.line = line


def can_fork() -> bool:
    """Whether children can be forked safely here: on Linux, from a process that may have
    children (a ``multiprocessing.Pool``'s workers may not)."""
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def automatic_generators() -> int:
    """How many children draw when the options leave it open: on a machine of one core, none
    (they would take turns with the run); where fork is not safe, none."""
    cores = os.cpu_count() or 1
    return min(AUTOMATIC_MAX, cores) if cores > 1 and can_fork() else 0


class Ahead:
    """Children drawing categories ``0 .. count - 1``; ``drawn(index)`` waits for one. Ask in
    order: each child's categories come in order on its pipe."""

    def __init__(self, children: list[tuple[ForkProcess, Connection]]) -> None:
        self._children = children

    def drawn(self, index: int) -> Drawn:
        process, pipe = self._children[index % len(self._children)]
        while not pipe.poll(POLL_S):
            if not process.is_alive():
                break  # what it sent before it ended is still read below
        try:
            got_index, got = pipe.recv()
        except EOFError:
            process.join(POLL_S)
            raise DrawFailed(
                f"the process drawing examples ended ({_exit(process.exitcode)}) before "
                f"category {index + 1}"
            ) from None
        if got_index != index:
            raise DrawFailed(f"category {index + 1} was asked for, {got_index + 1} came")
        if isinstance(got, str):
            raise DrawFailed(got)
        assert isinstance(got, Drawn)
        return got


def _exit(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by signal {-code}"
    return f"exit code {code}"


@contextmanager
def drawing_ahead(
    draw: Callable[[int], Drawn], count: int, processes: int
) -> Iterator[Ahead | None]:
    """``processes`` children drawing the ``count`` categories (``None``: draw here). They
    end with this block, whatever state they are in."""
    processes = min(processes, count)
    if processes <= 0:
        yield None
        return
    context = multiprocessing.get_context("fork")
    children: list[tuple[ForkProcess, Connection]] = []
    try:
        for first in range(processes):
            indexes = range(first, count, processes)
            children.append(_fork(context, draw, indexes))
        yield Ahead(children)
    finally:
        for process, pipe in children:
            if process.is_alive():
                process.kill()
            process.join()
            pipe.close()


def _fork(
    context: multiprocessing.context.ForkContext,
    draw: Callable[[int], Drawn],
    indexes: range,
) -> tuple[ForkProcess, Connection]:
    receiving, sending = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(draw, indexes, sending), daemon=True)
    # What this process has buffered would be written twice, once by the child at its exit.
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):
            stream.flush()
    # Ctrl-C is the run's to handle (it reports, and removes what it created): the child must
    # never see it, not even before it could ignore it, so it is held back across the fork.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        with warnings.catch_warnings():
            # Python 3.12 warns of any fork while other threads run (here: the transport's
            # deadline watcher; a test runner's). The child takes no lock they may hold: it
            # draws examples, sends them on its pipe, and leaves by os._exit.
            warnings.filterwarnings("ignore", r".*use of fork\(\) may lead to deadlocks")
            process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
    sending.close()
    return process, receiving


def _child(draw: Callable[[int], Drawn], indexes: range, pipe: Connection) -> None:
    """Draw each category and send it, or the one line of what went wrong, then stop; a pipe
    closed by the run (it ended) ends the child too."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    try:
        for index in indexes:
            try:
                pipe.send((index, draw(index)))
            except (BrokenPipeError, ConnectionResetError):
                break
            except Exception as error:
                pipe.send((index, internal_error_line(error)))
                break
        pipe.close()
    finally:
        # Nothing of the run's process (its atexit handlers, a test runner's) runs here.
        os._exit(0)
