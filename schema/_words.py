"""Words for the messages every layer writes, so that they read alike: ``1 rule``, ``2 rules``."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 rule``, ``2 rules``: a count and its noun, singular for one."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
