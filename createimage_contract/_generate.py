"""``createimage-contract generate``: example requests from the strategies, without sending.

Hypothesis and the strategies are imported when examples are drawn, not when the command line
is built: ``lint`` and ``--help`` do without them."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from ._console import SEED, error, new_seed, whole_number, write_out
from .schema import curl_command, validate

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from .strategies import Example

ALL_RULES = "all"
MAX_COUNT = 100_000
FORMATS = ("jsonl", "form", "curl")

GENERATE_EPILOG = """\
what is generated (one of; without any, a mix of all three):
  --valid          requests that break no rule: a conforming service answers 200
  --invalid [RULE] requests that break exactly one rule (RULE, or any), otherwise valid
  --dry-run        valid requests with DryRun=true: the answer is 412 DryRunOperation

formats:
  jsonl  {"params": {...} or null, "form": "Action=CreateImage&...",
          "expect": {"status": 200 or 4xx, "code": null or "...", "rule": null or "..."}}
         params is null where boto3-style parameters cannot say the request
  form   the form body, one per line
  curl   a curl command per example, signed by curl from $AWS_ACCESS_KEY_ID and
         $AWS_SECRET_ACCESS_KEY (nothing is sent by generate itself)

The same --seed gives the same output; without one, a random seed is used and printed on
stderr. The rules --invalid can break are in the README's table (all request rules;
instance-id.not-found needs --instance-id, name.duplicate --taken-name;
header rules are lint's).

exit codes: 0 written, 2 bad options (one line on stderr)

examples:
  createimage-contract generate --invalid name.charset --count 5
  createimage-contract generate --valid --format curl --endpoint http://localhost:5000/
"""


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
    from .strategies import dry_run_requests, invalid_requests, requests, valid_requests

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
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    from .strategies import private_home

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

    with private_home():
        collect()
    return drawn[: request.count]


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


def register(commands: Any) -> None:
    generate = commands.add_parser(
        "generate",
        help="print example CreateImage requests and the answers they must get",
        description="Generate CreateImage requests from the contract, each with the answer a "
        "conforming service must give, without sending anything.",
        epilog=GENERATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument(
        "--count", type=whole_number(1, MAX_COUNT), default=10, help="how many (10)"
    )
    generate.add_argument("--seed", type=SEED, help="random seed; the same seed, the same output")
    kind = generate.add_mutually_exclusive_group()
    kind.add_argument("--valid", action="store_const", dest="kind", const="valid")
    kind.add_argument(
        "--invalid", nargs="?", const=ALL_RULES, metavar="RULE", help="break RULE (any)"
    )
    kind.add_argument("--dry-run", action="store_const", dest="kind", const="dry-run")
    generate.add_argument("--instance-id", help="the instance the requests name")
    generate.add_argument(
        "--taken-name",
        action="append",
        default=[],
        dest="taken_names",
        metavar="NAME",
        help="an image name the service already holds (repeatable; for name.duplicate)",
    )
    generate.add_argument(
        "--unique-names", action="store_true", help="no two requests share a Name"
    )
    generate.add_argument("--format", choices=FORMATS, default="jsonl")
    generate.add_argument(
        "--endpoint", default="https://ec2.us-east-1.amazonaws.com/", help="for --format curl"
    )
    generate.add_argument("--region", default="us-east-1", help="for --format curl")
    generate.add_argument(
        "--stats", action="store_true", help="print how often each rule was produced, on stderr"
    )
    generate.set_defaults(handler=command, kind=None)


def command(args: argparse.Namespace) -> int:
    if args.instance_id is not None and validate({"InstanceId": args.instance_id, "Name": "probe"}):
        return error(
            "generate", f"--instance-id {args.instance_id!r} is not a well-formed instance id"
        )
    for name in args.taken_names:
        if validate({"InstanceId": "i-00000000", "Name": name}):
            return error("generate", f"--taken-name {name!r} is not a valid image name")
    kind = "invalid" if args.invalid else args.kind or "mixed"
    rule = None if args.invalid in (None, ALL_RULES) else args.invalid
    seed = new_seed() if args.seed is None else args.seed
    request = Request(
        kind, rule, args.instance_id, tuple(args.taken_names), args.unique_names, args.count, seed
    )
    try:
        drawn = examples(request)
    except ValueError as problem:
        return error("generate", str(problem))
    if args.seed is None:  # only once the options held: a usage error stays one line
        print(f"createimage-contract generate: seed {seed}", file=sys.stderr)
    line = writer(args.format, args.endpoint, args.region)
    write_out(lambda: write(drawn, line, sys.stdout))
    if args.stats:
        print(coverage_table(drawn), file=sys.stderr)
    return 0
