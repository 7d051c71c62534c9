"""For the tests that stop a child with Ctrl-C (SIGINT): the child must not inherit an ignored
SIGINT. A shell starts a background job with SIGINT ignored, the test run's processes pass that
on, and Python then installs no KeyboardInterrupt handler: the child would never stop."""

from __future__ import annotations

import signal


def sigint_as_usual() -> None:
    """A ``preexec_fn``: SIGINT back to its default in the child, before Python starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
