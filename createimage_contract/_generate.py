"""``createimage-contract generate``: example requests from the strategies, without sending."""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from ._curl import curl_command
from .strategies import (
    Example,
    dry_run_requests,
    invalid_requests,
    requests,
    valid_requests,
)

ALL_RULES = "all"
FORMATS = ("jsonl", "form", "curl")


@dataclass(frozen=True)
class Request:
    """What to generate: which kind, for which service, how many, from which seed."""

    kind: str  # "mixed", "valid", "invalid" or "dry-run"
    rule: str | None
    instance_id: str | None
    taken_names: tuple[str, ...]
    unique_names: bool
    count: int
    seed: int


def strategy(request: Request) -> st.SearchStrategy[Example]:
    """The strategy for ``request``; ``ValueError`` names what is wrong with it."""
    service: dict[str, Any] = {
        "instance_id": request.instance_id,
        "taken_names": request.taken_names,
        "unique_names": request.unique_names,
    }
    if request.kind == "valid":
        return valid_requests(**service)
    if request.kind == "dry-run":
        return dry_run_requests(**service)
    if request.kind == "invalid":
        return invalid_requests(request.rule, **service)
    return requests(**service)


def examples(request: Request) -> list[Example]:
    """``request.count`` examples; the same seed gives the same examples."""
    drawn: list[Example] = []

    @settings(
        max_examples=request.count,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @hypothesis_seed(request.seed)
    @given(strategy(request))
    def collect(example: Example) -> None:
        drawn.append(example)

    # Hypothesis keeps a cache in ./.hypothesis; a command line must not litter the user's
    # folder, so the run gets a home of its own that goes away with it.
    with tempfile.TemporaryDirectory(prefix="createimage-contract-") as home:
        set_hypothesis_home_dir(home)
        try:
            collect()
        finally:
            set_hypothesis_home_dir(None)
    return drawn[: request.count]


def new_seed() -> int:
    return random.SystemRandom().randrange(2**32)


def writer(fmt: str, endpoint: str, region: str) -> Callable[[Example], str]:
    if fmt == "form":
        return lambda example: example.form
    if fmt == "curl":
        return lambda example: curl_command(example.form, endpoint, region)
    # ASCII only: U+2028 and friends would split a JSONL line for many readers.
    return lambda example: json.dumps(example.as_json())


def write(drawn: list[Example], line: Callable[[Example], str], out: TextIO) -> None:
    for example in drawn:
        out.write(line(example) + "\n")


def coverage_table(drawn: list[Example]) -> str:
    """Rule x times produced, most produced first."""
    produced = Counter(example.expect.rule or "valid" for example in drawn)
    width = max([len("rule"), *map(len, produced)])
    rows = [f"{'rule':<{width}}  {'count':>5}"]
    rows += [f"{rule:<{width}}  {count:>5}" for rule, count in produced.most_common()]
    return "\n".join(rows)
