"""``Deviation``: the one type for "the target deviates from the contract".

A module of its own, at the bottom of the conformance modules, because both the XML reader
(an answer that is not acceptable XML) and the checks raise it. The engine records a
``Deviation`` as a finding and nothing else: any other exception is a bug of ours.
"""

from __future__ import annotations

from createimage_contract.schema import Error, Severity


class Deviation(Error):
    """The target deviates from the contract: a finding about the target, never about us."""

    def __init__(self, message: str, severity: Severity = "error") -> None:
        super().__init__(message)
        self.message = message
        self.severity = severity
