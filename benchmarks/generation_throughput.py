"""Valid examples per second from ``valid_requests()``, next to two baselines in the same run.

Run it by hand from the project root; it is not a test::

    .venv/bin/python benchmarks/generation_throughput.py [--examples N] [--repeat R]

Baselines:

- hand-written: the tests' ``st.fixed_dictionaries`` strategy for the same shape
  (``tests/params_by_hand.py``), which knows the limits by heart and builds plain dicts;
- hypothesis-jsonschema's ``from_schema`` on the same request schema, when it is installed.
  It needs ``hypothesis<6.170.10``, so measure it from a throwaway venv::

      python3 -m venv /tmp/hjs && /tmp/hjs/bin/pip install -q 'hypothesis<6.170.10' \\
          hypothesis-jsonschema . && /tmp/hjs/bin/python benchmarks/generation_throughput.py

Goals: at least half the hand-written rate, and at least five times ``from_schema``'s.
Each strategy runs as a Hypothesis test with only the generate phase, best of R rounds;
``from_schema`` draws about two examples a second here (it filters for the patterns and
lengths), so it gets one round of ``--jsonschema-examples`` after a short warm-up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from createimage_contract.schema import document
from createimage_contract.strategies import valid_requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from params_by_hand import valid_params


def rate(strategy: st.SearchStrategy[Any], examples: int, repeat: int) -> float:
    """Examples per second: the best of ``repeat`` runs of ``examples`` examples."""
    best = float("inf")
    for round_number in range(repeat):

        @settings(
            max_examples=examples,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        @hypothesis.seed(round_number)
        @given(strategy)
        def draw(_: Any) -> None:
            pass

        start = time.perf_counter()
        draw()
        best = min(best, time.perf_counter() - start)
    return examples / best


def jsonschema_baseline() -> st.SearchStrategy[Any] | None:
    try:
        from hypothesis_jsonschema import from_schema  # type: ignore[import-not-found]
    except ImportError:
        return None
    schema = dict(document("request.schema.json"))
    body: st.SearchStrategy[Any] = from_schema(
        {"$defs": schema["$defs"], "$ref": "#/$defs/CreateImageParameters"}
    )
    return body


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--jsonschema-examples",
        type=int,
        default=60,
        help="examples for from_schema, which draws about two a second on this schema",
    )
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, Hypothesis {hypothesis.__version__}")
    print(f"{args.examples} examples per round, best of {args.repeat}")
    ours = rate(valid_requests(), args.examples, args.repeat)
    by_hand = rate(valid_params(), args.examples, args.repeat)
    print(f"  valid_requests()                  {ours:10,.0f} examples/s")
    print(f"  hand-written fixed_dictionaries   {by_hand:10,.0f} examples/s")
    print(f"ratio valid_requests / hand-written: {ours / by_hand:.2f} (goal >= 0.5)")
    baseline = jsonschema_baseline()
    if baseline is None:
        print("hypothesis-jsonschema is not installed here: see the docstring for its venv")
        return 0
    rate(baseline, 5, 1)  # its schema canonicalisation happens on the first draws
    theirs = rate(baseline, args.jsonschema_examples, 1)
    print(f"  hypothesis-jsonschema from_schema {theirs:10,.0f} examples/s")
    print(f"ratio valid_requests / from_schema: {ours / theirs:.2f} (goal >= 5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
