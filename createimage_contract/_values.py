"""The values that ``run``, ``selftest``, the pytest plugin and ``[tool.createimage-contract]``
take, each parsed in one place: argparse types, whose ``ArgumentTypeError`` is one line.

What they check against (the checks, the rules, the ways to sign) is the runner's, imported
when a value is parsed, not when a parser is built: ``lint`` and every pytest session that does
not run the suite stay light."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ._console import id_list, whole_number
from .schema import validate

MOST_EXAMPLES = 10_000
"""The most examples per rule a run is asked for."""
max_examples = whole_number(1, MOST_EXAMPLES)


def instance_id(text: str) -> str:
    """An instance id as the contract's InstanceId takes it."""
    if validate({"InstanceId": text, "Name": "probe"}):
        raise argparse.ArgumentTypeError(f"{text!r} is not a well-formed instance id")
    return text


def credentials(text: str) -> str:
    """What requests are signed with: one of the runner's choices."""
    from .conformance import CREDENTIALS_CHOICES

    if text not in CREDENTIALS_CHOICES:
        raise argparse.ArgumentTypeError(
            f"invalid choice: {text!r} (choose from {', '.join(CREDENTIALS_CHOICES)})"
        )
    return text


def _known_checks() -> Sequence[str]:
    from .conformance import CHECK_IDS

    return CHECK_IDS


def _known_rules() -> Sequence[str]:
    from .conformance import category_names

    return category_names()


check_ids = id_list("check", _known_checks)
"""Comma-separated check ids."""
rule_ids = id_list("rule", _known_rules, globs=True)
"""Comma-separated rule ids (or ``valid``, ``dry-run``), globs too."""


def add_rule_choice(parser: argparse.ArgumentParser) -> None:
    """``--rules`` and ``--exclude-rules``, as ``run`` and ``matrix`` take them."""
    parser.add_argument(
        "--rules",
        type=rule_ids,
        metavar="IDS",
        help="only these rules (or valid, dry-run), comma-separated; globs: 'auth.*'",
    )
    parser.add_argument(
        "--exclude-rules",
        type=rule_ids,
        default=(),
        metavar="IDS",
        help="not these rules, even if --rules names them; globs too",
    )
