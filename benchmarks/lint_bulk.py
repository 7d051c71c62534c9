"""Throughput and memory of ``createimage-contract lint --input jsonl``, against a goal of one
million requests a minute.

Run it by hand from the project root; it is not a test and pytest never collects it::

    .venv/bin/python benchmarks/lint_bulk.py [--lines N] [--size-mb MB] [--jobs 1,2] [--repeat R]

It writes a deterministic JSON Lines corpus of typical CreateImage requests into a temporary
folder (200,000 lines unless told otherwise; ``--size-mb`` writes that many megabytes
instead, to show that memory stays bounded on a big input): a pool of 10,000 distinct
requests drawn from a fixed seed, about 80% boto3-style parameter sets (a tenth of them
breaking a rule: a bad Name, a short InstanceId, an unknown volume type, an unknown parameter,
a long Description), 10% HTTP requests as a workflow engine holds them (a form string body or
an object of wire names) and 10% JSON strings holding a form body, repeated in a fixed
shuffled order up to the size asked for.

For each ``--jobs`` value it runs, in a child process, exactly what a user runs::

    python -m createimage_contract lint --input jsonl --format text -q --jobs N FILE

with its report going to a file, and prints the wall time (the best of ``--repeat`` runs),
lines per minute and the ratio to the goal, and the peak resident memory: of the lint process
itself (``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process that runs only it) and, on
Linux, of any process of its tree (each one's ``VmHWM`` in ``/proc``, sampled while it runs).
It exits 0 either way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import string
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from createimage_contract import to_form

SEED = 20251130
POOL_SIZE = 10_000
DEFAULT_LINES = 200_000
GOAL_PER_MINUTE = 1_000_000
NAME_CHARS = string.ascii_letters + string.digits + "-_."
HEX = "0123456789abcdef"
WRAPPER = """\
import resource, subprocess, sys
with open(sys.argv[1], "wb") as report:
    code = subprocess.run(sys.argv[2:], stdout=report, check=False).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""
"""Runs the lint alone, so that its peak RSS is the only child's there is."""

Params = dict[str, Any]


# --- the corpus --------------------------------------------------------------------------------


def _name(rng: random.Random) -> str:
    return "".join(rng.choices(NAME_CHARS, k=rng.randint(3, 40)))


def _params(rng: random.Random) -> Params:
    params: Params = {
        "InstanceId": "i-" + "".join(rng.choices(HEX, k=rng.choice((8, 17)))),
        "Name": f"{rng.choice(('nightly', 'web', 'db', 'build'))}-{_name(rng)}",
    }
    if rng.random() < 0.5:
        params["Description"] = " ".join(_name(rng) for _ in range(rng.randint(1, 5)))
    if rng.random() < 0.4:
        params["NoReboot"] = rng.random() < 0.7
    if rng.random() < 0.6:
        tags = [{"Key": k, "Value": _name(rng)} for k in rng.sample(("team", "env", "app"), 2)]
        params["TagSpecifications"] = [{"ResourceType": "image", "Tags": tags}]
    if rng.random() < 0.3:
        ebs = {"VolumeSize": rng.randint(8, 500), "VolumeType": rng.choice(("gp3", "gp2"))}
        params["BlockDeviceMappings"] = [{"DeviceName": "/dev/xvda", "Ebs": ebs}]
    return params


def _break(rng: random.Random, params: Params) -> None:
    how = rng.randrange(5)
    if how == 0:
        params["Name"] += rng.choice("#!*?")
    elif how == 1:
        params["InstanceId"] = "i-" + "".join(rng.choices(HEX, k=5))
    elif how == 2:
        ebs = {"VolumeSize": 8, "VolumeType": "gp4"}
        params["BlockDeviceMappings"] = [{"DeviceName": "/dev/xvda", "Ebs": ebs}]
    elif how == 3:
        params["ImageName"] = _name(rng)
    else:
        params["Description"] = "x" * 300


def _line(rng: random.Random) -> str:
    params = _params(rng)
    roll = rng.random()
    if roll < 0.8:
        if rng.random() < 0.1:
            _break(rng, params)
        return json.dumps(params)
    if roll < 0.9:
        region = rng.choice(("us-east-1", "eu-west-1", "ap-southeast-2"))
        request: Params = {
            "url": f"https://ec2.{region}.amazonaws.com/",
            "method": "POST",
            "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        }
        if rng.random() < 0.5:
            request["body"] = to_form(params)
        else:
            request["url"] += "?Action=CreateImage&Version=2016-11-15"
            request["body"] = {"InstanceId": params["InstanceId"], "Name": params["Name"]}
        return json.dumps(request)
    return json.dumps(to_form(params))


def write_corpus(path: Path, lines: int | None, size: int | None) -> tuple[int, int]:
    """Write the corpus: ``lines`` lines, or else ``size`` bytes' worth. (lines, bytes)."""
    rng = random.Random(SEED)
    pool = [(_line(rng) + "\n").encode() for _ in range(POOL_SIZE)]
    order = list(range(POOL_SIZE))
    written = count = 0
    with path.open("wb") as corpus:
        while (lines is not None and count < lines) or (size is not None and written < size):
            rng.shuffle(order)
            block = order if lines is None else order[: lines - count]
            data = b"".join(pool[i] for i in block)
            corpus.write(data)
            written += len(data)
            count += len(block)
    return count, written


# --- running it ---------------------------------------------------------------------------------


@dataclass
class Timed:
    seconds: float
    exit_code: int
    rss_lint: int
    """Peak RSS of the lint process, bytes."""
    rss_tree: int | None
    """Peak RSS of any process of the lint's tree (Linux), bytes."""


def _children(pid: int) -> set[int]:
    """``pid`` and every process below it, from ``/proc``."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, grown = {pid}, True
    while grown:
        found = {child for child, parent in parents.items() if parent in tree}
        grown = not found <= tree
        tree |= found
    return tree


def _high_water(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def run_lint(corpus: Path, jobs: int, report: Path) -> Timed:
    command = [
        *(sys.executable, "-m", "createimage_contract", "lint", "--input", "jsonl"),
        *("--format", "text", "-q", "--jobs", str(jobs), str(corpus)),
    ]
    sampling = Path("/proc/self/status").exists()
    peaks: dict[int, int] = {}
    start = time.perf_counter()
    wrapper = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, str(report), *command], stdout=subprocess.PIPE, text=True
    )
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            for pid in _children(wrapper.pid) - {wrapper.pid}:
                peak = _high_water(pid)
                if peak is not None:
                    peaks[pid] = max(peak, peaks.get(pid, 0))

    sampler = threading.Thread(target=sample, daemon=True)
    if sampling:
        sampler.start()
    out, _ = wrapper.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    if sampling:
        sampler.join()
    rss_kib, code = (int(word) for word in out.split())
    rss_lint = rss_kib * (1 if sys.platform == "darwin" else 1024)
    return Timed(seconds, code, rss_lint, max(peaks.values(), default=0) if sampling else None)


def _mb(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 1_000_000:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--lines", type=int, default=DEFAULT_LINES, help="corpus lines (200000)")
    parser.add_argument(
        "--size-mb", type=int, help="write this many megabytes instead (e.g. 1024 for memory)"
    )
    parser.add_argument("--jobs", default="1,2", help="--jobs values to run (1,2)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per --jobs, best kept (1)")
    args = parser.parse_args(argv)
    jobs = [int(j) for j in args.jobs.split(",")]

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory(prefix="lint-bulk-") as folder:
        corpus = Path(folder) / "corpus.jsonl"
        size = None if args.size_mb is None else args.size_mb * 1_000_000
        started = time.perf_counter()
        lines, written = write_corpus(corpus, None if size else args.lines, size)
        print(
            f"corpus: {lines:,} lines, {_mb(written)}, seed {SEED}, "
            f"written in {time.perf_counter() - started:.1f} s"
        )
        report = Path(folder) / "report.txt"
        for n in jobs:
            runs = [run_lint(corpus, n, report) for _ in range(max(1, args.repeat))]
            best = min(runs, key=lambda r: r.seconds)
            per_minute = lines / best.seconds * 60
            reported = sum(1 for _ in report.open("rb"))
            print(
                f"--jobs {n}: {best.seconds:6.2f} s  {per_minute:>12,.0f} lines/min  "
                f"{per_minute / GOAL_PER_MINUTE:.2f}x the goal of {GOAL_PER_MINUTE:,}/min  "
                f"exit {best.exit_code}, {reported:,} report lines  "
                f"peak RSS: lint {_mb(best.rss_lint)}, any process of its tree "
                f"{_mb(best.rss_tree)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
