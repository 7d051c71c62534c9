"""Running Hypothesis inside a command without leaving anything behind."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis.configuration import set_hypothesis_home_dir


@contextmanager
def private_home() -> Iterator[None]:
    """Hypothesis keeps a cache in ./.hypothesis; a command line must not litter the user's
    folder, so the run gets a home of its own that goes away with it."""
    with tempfile.TemporaryDirectory(prefix="createimage-contract-") as home:
        set_hypothesis_home_dir(home)
        try:
            yield
        finally:
            set_hypothesis_home_dir(None)
