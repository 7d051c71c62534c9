"""How a run goes: its options, and their defaults, written here once.

The command line and the pytest plugin pass only what their user gave; everything else is the
default below, which their help texts read from here too.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from ._checks import CHECK_IDS
from ._signing import DEFAULT_REGION
from ._transport import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, CredentialsChoice


@dataclass(frozen=True)
class Options:
    max_examples: int = 20
    """Examples per category (the shrinking of a failure sends more)."""
    seed: int = 0
    checks: tuple[str, ...] = CHECK_IDS
    workers: int = 4
    """Requests in flight while exploring: the target answers them while the next examples
    are generated. Shrinking a failure sends one request at a time."""
    generators: int | None = None
    """Processes that draw the coming categories' examples while the run sends the current
    one's (forked: Linux only); ``0`` draws them in the run's own process; ``None``, as many
    as ``automatic_generators()`` says for this machine."""
    shrink_seconds: float = 5.0
    """How long Hypothesis may shrink one category's failures."""
    rules: tuple[str, ...] | None = None
    """Only these categories (rule ids, ``valid``, ``dry-run``, or shell-style patterns of
    them: ``auth.*``); all when ``None``."""
    exclude_rules: tuple[str, ...] = ()
    """Not these categories (ids or patterns), even when ``rules`` names them."""
    allow_resource_creation: bool = False
    """Off loopback, send valid requests without DryRun (they create images, which the run
    deregisters at the end)."""
    region: str = DEFAULT_REGION
    """The region requests are signed for (SigV4)."""
    credentials: CredentialsChoice = "auto"
    """What requests are signed with: ``fixed`` (the test credentials), ``env`` (the ``AWS_*``
    variables), ``auto`` (the first on loopback, the second elsewhere). With ``env`` the
    embedded reference holds the environment's key."""
    timeout: float = DEFAULT_TIMEOUT_S
    """Seconds to wait for each read of an answer (and three of them for a whole answer)."""
    max_response_size: int = DEFAULT_MAX_BYTES
    """Bytes of an answer read at most; past them the answer is a finding."""

    def selects(self, category: str) -> bool:
        """Whether the run sends ``category``'s requests, as ``rules`` and ``exclude_rules``
        say."""
        chosen = self.rules is None or _matches(category, self.rules)
        return chosen and not _matches(category, self.exclude_rules)


def _matches(category: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(category, pattern) for pattern in patterns)
