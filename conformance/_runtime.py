"""The run's dealings with its process and with Hypothesis: a bug of ours as one line, the
shrinking budget, Ctrl-C kept from Hypothesis's gc callback, and the heap left out of the
collector's passes while the run goes."""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from types import FrameType

from hypothesis.internal.conjecture import engine as hypothesis_engine

from ._transport import REDACTED

# --- internal errors, in one line ----------------------------------------------------------------

PACKAGE = "createimage_contract"
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
MAX_REPR = 300
INTERNAL_ERROR_HINT = (
    "a bug in createimage-contract, not a finding about the target; please report it"
)


def describe_internal_error(error: BaseException) -> str:
    """A bug of ours as the one line a command prints for it (after its own name):
    ``internal error: ... raised at ... (a bug in createimage-contract, ...)``."""
    return as_internal_error(internal_error_line(error))


def as_internal_error(line: str) -> str:
    """An ``internal_error_line`` as a command prints it."""
    return f"internal error: {line} ({INTERNAL_ERROR_HINT})"


def internal_error_line(error: BaseException) -> str:
    """``error`` and where it was raised, in one line, for a bug report:
    ``RuntimeError('boom') raised at conformance/_checks.py:57 in image_id``. Paths are
    within their package, never of this machine; when the raise is outside createimage-contract
    (a library, a callback), the last place of ours it went through follows."""
    what = " ".join(repr(error).split())
    if len(what) > MAX_REPR:
        what = what[: MAX_REPR - 3] + "..."
    frames = _frames(error)
    if not frames:
        return _without_secrets(f"{what} raised at an unknown place")
    line = f"{what} raised at {frames[-1][1]}"
    ours = [place for is_ours, place in frames if is_ours]
    if not frames[-1][0] and ours:
        line += f", via {ours[-1]}"
    return _without_secrets(line)


def _frames(error: BaseException) -> list[tuple[bool, str]]:
    """Each frame of ``error``'s traceback, outermost first: whether it is ours, and
    ``path:line in function``."""
    frames: list[tuple[bool, str]] = []
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        module = str(frame.f_globals.get("__name__", ""))
        is_ours = module == PACKAGE or module.startswith(PACKAGE + ".")
        frames.append(
            (is_ours, f"{_source_path(frame)}:{trace.tb_lineno} in {frame.f_code.co_name}")
        )
        trace = trace.tb_next
    return frames


def _source_path(frame: FrameType) -> str:
    """The frame's file as a path within its package, from the module's name (so the same
    wherever it is installed): ``conformance/_checks.py``, ``botocore/auth.py``."""
    module = str(frame.f_globals.get("__name__", ""))
    package = module if "__path__" in frame.f_globals else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if parts[:1] == [PACKAGE]:
        parts = parts[1:]
    return "/".join([*parts, PurePath(frame.f_code.co_filename).name])


def _without_secrets(text: str) -> str:
    """An exception's text may quote credentials; they never reach the output."""
    for name in SECRET_VARIABLES:
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, REDACTED)
    return text


@contextmanager
def shrink_budget(seconds: float) -> Iterator[None]:
    """Hypothesis shrinks for up to five minutes; a conformance run cannot wait that long.

    This sets Hypothesis's own limit (an internal, read each time shrinking starts) for the
    run, and puts it back after.
    """
    before = getattr(hypothesis_engine, "MAX_SHRINKING_SECONDS", None)
    if before is None:
        yield
        return
    hypothesis_engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        hypothesis_engine.MAX_SHRINKING_SECONDS = before


_INTERRUPTED = threading.Event()
_HELD = threading.Event()
"""Set while an answer is read and what it created is noted (``interrupt_held``)."""


@contextmanager
def interrupts_kept() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt wherever it lands, as usual; but Hypothesis watches the
    collector with a gc callback, and what a gc callback raises is printed and dropped, so a
    Ctrl-C that lands there would be lost and the run would go on (seen: a run interrupted in
    CI that did not stop). The handler also notes it, and the session raises it again before
    its next request (``raise_if_interrupted``). A host with a handler of its own (or a
    thread) keeps it."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def interrupted(signum: int, frame: FrameType | None) -> None:
        _INTERRUPTED.set()
        if not _HELD.is_set():
            raise KeyboardInterrupt

    _INTERRUPTED.clear()
    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _INTERRUPTED.clear()


@contextmanager
def interrupt_held() -> Iterator[None]:
    """A Ctrl-C waits for the block (reading an answer, and noting the image it created: a
    Ctrl-C between the two would leave the image unknown, and never removed), then is raised.
    The wait is at most the request's timeout. Where ``interrupts_kept`` is not in force, the
    block is as any other."""
    _HELD.set()
    try:
        yield
    finally:
        _HELD.clear()
    raise_if_interrupted()


def raise_if_interrupted() -> None:
    """Raise the Ctrl-C that a gc callback swallowed (see ``interrupts_kept``)."""
    if _INTERRUPTED.is_set():
        raise KeyboardInterrupt


@contextmanager
def frozen_heap() -> Iterator[None]:
    """The objects alive when the run starts are left out of the collector's passes while it
    goes: they are many (botocore's models, Hypothesis, the compiled contract) and outlive the
    run, yet each full collection walked them all again (measured against the reference: a
    run was about 5% slower without this). A host that froze its heap itself (a server that
    forks) keeps it as it was: the run then leaves the collector alone."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
