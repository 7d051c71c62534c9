"""Running Hypothesis inside a command: without leaving anything in the user's folder, and
drawing examples outside any test."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

T = TypeVar("T")

CACHE_FOLDER = Path("createimage-contract") / "hypothesis"
"""Below the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``)."""


@contextmanager
def private_home() -> Iterator[None]:
    """Hypothesis keeps its files in ./.hypothesis; a command line must not litter the user's
    folder, so Hypothesis gets a home of its own: a folder of the user's cache. Every command
    runs without an example database, so all it holds is what Hypothesis would otherwise compute
    again at each start (its table of Unicode categories: 0.3 s). Where there is no cache folder
    to write to, a temporary one, gone with the command."""
    cache = _cache_folder()
    with tempfile.TemporaryDirectory(prefix="createimage-contract-") as spare:
        set_hypothesis_home_dir(str(cache) if cache is not None else spare)
        try:
            yield
        finally:
            set_hypothesis_home_dir(None)


def _cache_folder() -> Path | None:
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / CACHE_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError):  # RuntimeError: no home folder to find
        return None
    return folder if os.access(folder, os.W_OK | os.X_OK) else None


def drawn(strategy: st.SearchStrategy[T], count: int, seed: int) -> list[T]:
    """``count`` examples of ``strategy``, drawn outside any test; the same seed, the same
    examples. Generation only: no shrinking, no example database, no health checks, no
    deadline. Run it inside ``private_home``. Fewer when Hypothesis stops early (it found too
    few distinct ones); Hypothesis's ``Unsatisfiable`` when not one attempt passed a filter."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    found: list[T] = []

    @settings(
        max_examples=count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @hypothesis_seed(seed)
    @given(strategy)
    def collect(example: T) -> None:
        found.append(example)

    collect()
    return found[:count]
