"""The conformance suite as ordinary pytest items, one per check x rule::

    pytest --pyargs createimage_contract.conformance.suite [--createimage-endpoint URL ...]

One conformance run is made for the session (shared by pytest-xdist workers); each item then
reports on its check x rule: it fails with the smallest request that showed the deviation,
the answer, and a ``curl`` command that reproduces it. Deviations of a check that should not
even apply to a rule (a success body for a bad request) come with the rule's ``status`` item,
which fails with them. Without ``--createimage-endpoint`` the run is against the embedded
reference implementation.

The plugin (``createimage_contract.pytest_plugin``) makes the items (``pytest_generate_tests``)
and gives each its verdict (the ``createimage_verdicts`` fixture), in builtins: this file
imports nothing of the runner, so that a pytest-xdist worker, which reads the verdicts the
controller wrote, does not load it (nor hypothesis, botocore, lxml) just to report them.
"""

from __future__ import annotations

import warnings

import pytest

Verdicts = dict[tuple[str, str], tuple[str, str, list[tuple[str, str]]]]
"""By check x rule: the outcome, its reason or failure text, the warnings (label, message)."""


def test_conformance(createimage_verdicts: Verdicts, check: str, rule: str) -> None:
    outcome, text, warned = createimage_verdicts[(check, rule)]
    if warned:
        # The package's class, not a copy: it is public (``-W``, ``filterwarnings``), and a
        # warning crosses to pytest-xdist's controller by its module's name. Imported only when
        # an item has a warning to give.
        from createimage_contract.conformance import CreateImageWarning

        for label, message in warned:
            warnings.warn(CreateImageWarning(f"{label}: {message}"), stacklevel=1)
    if outcome == "skip":
        pytest.skip(text)
    if outcome == "xfail":
        pytest.xfail(text)
    if outcome == "fail":
        pytest.fail(text, pytrace=False)
