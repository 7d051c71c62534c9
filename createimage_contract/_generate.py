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
from .schema import curl_command, rules, validate

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from .strategies import Example

ALL_RULES = "all"
MAX_COUNT = 100_000
FORMATS = ("jsonl", "form", "curl", "conductor-task", "asl-state")
ASL_RESOURCE = "arn:aws:states:::aws-sdk:ec2:createImage"
TASK_NAME = "create_image"
FORM = "application/x-www-form-urlencoded"

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
  conductor-task
         a Conductor/Orkes HTTP task per example: {"name": "create_image",
          "taskReferenceName": "create_image_N", "type": "HTTP",
          "description": "expect 400 InvalidAMIName.Malformed: breaks name.charset",
          "inputParameters": {"http_request": {"uri": URL, "method": "POST",
          "contentType": "application/x-www-form-urlencoded", "accept": "text/xml",
          "body": "Action=CreateImage&..."}}}
         URL is --endpoint, or https://ec2.REGION.amazonaws.com/ for --region
  asl-state
         a Step Functions Task state per example: {"Type": "Task",
          "Resource": "arn:aws:states:::aws-sdk:ec2:createImage",
          "Parameters": {"InstanceId": ..., "Name": ...}, "Comment": "expect 200", "End": true}
         only requests that parameters can say: a rule broken on the wire only
         (action.*, version.*, parameter.unknown, ...) is refused
  Non-ASCII is escaped in the JSON formats: a line is a line.

The same --seed gives the same output; without one, a random seed is used and printed on
stderr. The rules --invalid can break are in the README's table (all request rules;
instance-id.not-found needs --instance-id, name.duplicate --taken-name;
header rules are lint's).

exit codes: 0 written, 2 bad options or an --invalid RULE asl-state cannot say (one line on
stderr)

examples:
  createimage-contract generate --invalid name.charset --count 5
  createimage-contract generate --valid --format curl --endpoint http://localhost:5000/
  createimage-contract generate --invalid tag.key --format asl-state --count 3
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
    params_only: bool = False  # only requests that boto3-style parameters can say


def strategy(request: Request) -> st.SearchStrategy[Example]:
    """The strategy for ``request``; ``ValueError`` names what is wrong with it."""
    from .strategies import dry_run_requests, invalid_requests, requests, valid_requests

    service: dict[str, Any] = {
        "instance_id": request.instance_id,
        "taken_names": request.taken_names,
        "unique_names": request.unique_names,
    }
    drawn: st.SearchStrategy[Example]
    if request.kind == "valid":
        drawn = valid_requests(**service)
    elif request.kind == "dry-run":
        drawn = dry_run_requests(**service)
    elif request.kind == "invalid":
        drawn = invalid_requests(request.rule, **service)
    else:
        drawn = requests(**service)
    # Hypothesis bounds the attempts: it stops after about ten draws per example asked for.
    return drawn.filter(said_as_params) if request.params_only else drawn


def said_as_params(example: Example) -> bool:
    return example.params is not None


def examples(request: Request) -> list[Example]:
    """``request.count`` examples; the same seed gives the same examples. With
    ``request.params_only``, fewer when too few of the attempts could be said as parameters."""
    from hypothesis.errors import Unsatisfiable

    from .strategies import drawn, private_home

    with private_home():
        try:
            return drawn(strategy(request), request.count, request.seed)
        except Unsatisfiable:  # not one attempt could be said as parameters
            return []


def expectation(example: Example) -> str:
    """What a conforming service answers, in words: ``expect 400 InvalidAMIName.Malformed:
    breaks name.charset``, ``expect 200``."""
    expect = example.expect
    answer = " ".join(
        ["expect", "4xx" if expect.status is None else str(expect.status)]
        + ([expect.code] if expect.code else [])
    )
    if expect.rule is None:
        return answer
    if rules()[expect.rule].kind == "outcome":  # dry-run: no rule broken
        return f"{answer}: {expect.rule}"
    return f"{answer}: breaks {expect.rule}"


def conductor_task(example: Example, number: int, endpoint: str) -> dict[str, Any]:
    """A Conductor/Orkes HTTP task sending ``example`` to ``endpoint``."""
    return {
        "name": TASK_NAME,
        "taskReferenceName": f"{TASK_NAME}_{number}",
        "type": "HTTP",
        "description": expectation(example),
        "inputParameters": {
            "http_request": {
                "uri": endpoint,
                "method": "POST",
                "contentType": FORM,
                "accept": "text/xml",
                "body": example.form,
            }
        },
    }


def asl_state(example: Example) -> dict[str, Any]:
    """A Step Functions Task state calling CreateImage with ``example``'s parameters."""
    return {
        "Type": "Task",
        "Resource": ASL_RESOURCE,
        "Parameters": example.params,
        "Comment": expectation(example),
        "End": True,
    }


def writer(fmt: str, endpoint: str, region: str) -> Callable[[int, Example], str]:
    """The line for the ``number``-th example (from 1)."""
    # The JSON formats are ASCII only: U+2028 and friends would split a line for many readers.
    if fmt == "form":
        return lambda number, example: example.form
    if fmt == "curl":
        return lambda number, example: curl_command(example.form, endpoint, region)
    if fmt == "conductor-task":
        return lambda number, example: json.dumps(conductor_task(example, number, endpoint))
    if fmt == "asl-state":
        return lambda number, example: json.dumps(asl_state(example))
    return lambda number, example: json.dumps(example.as_json())


def write(drawn: list[Example], line: Callable[[int, Example], str], out: TextIO) -> None:
    for number, example in enumerate(drawn, start=1):
        out.write(line(number, example) + "\n")


def coverage_table(drawn: list[Example]) -> str:
    """Rule x times produced, most produced first."""
    produced = Counter(example.expect.rule or "valid" for example in drawn)
    width = max([len("rule"), *map(len, produced)])
    rows = [f"{'rule':<{width}}  {'count':>5}"]
    rows += [f"{rule:<{width}}  {count:>5}" for rule, count in produced.most_common()]
    return "\n".join(rows)


def unsayable(rule: str | None) -> str:
    """Why ``--format asl-state`` wrote nothing: the requests are broken on the wire only."""
    what = f"{rule} is broken on the wire only" if rule else "the requests are wire-only"
    return (
        f"--format asl-state: {what}: no request drawn can be said as Step Functions "
        "Parameters; use --format conductor-task or jsonl"
    )


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
    generate.add_argument(
        "--format",
        choices=FORMATS,
        default="jsonl",
        help="how each example is written (jsonl): see formats below",
    )
    generate.add_argument(
        "--endpoint",
        metavar="URL",
        help="for --format curl and conductor-task (https://ec2.REGION.amazonaws.com/)",
    )
    generate.add_argument(
        "--region", default="us-east-1", help="for --format curl and conductor-task (us-east-1)"
    )
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
    params_only = args.format == "asl-state"
    request = Request(
        kind,
        rule,
        args.instance_id,
        tuple(args.taken_names),
        args.unique_names,
        args.count,
        seed,
        params_only,
    )
    try:
        drawn = examples(request)
    except ValueError as problem:
        return error("generate", str(problem))
    if params_only and not drawn:
        return error("generate", unsayable(rule))
    if args.seed is None:  # only once the options held: a usage error stays one line
        print(f"createimage-contract generate: seed {seed}", file=sys.stderr)
    if len(drawn) < args.count:
        print(
            f"createimage-contract generate: only {len(drawn)} of {args.count} requests drawn "
            "could be said as Step Functions Parameters",
            file=sys.stderr,
        )
    endpoint = args.endpoint or f"https://ec2.{args.region}.amazonaws.com/"
    line = writer(args.format, endpoint, args.region)
    write_out(lambda: write(drawn, line, sys.stdout))
    if args.stats:
        print(coverage_table(drawn), file=sys.stderr)
    return 0
