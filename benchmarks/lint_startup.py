"""Start-up of ``createimage-contract lint`` on one small file, next to a bare interpreter's.

Run it by hand from the project root; it is not a test and pytest never collects it::

    .venv/bin/python benchmarks/lint_startup.py [--rounds N] [--as-is]

In a pre-commit hook or an editor, ``lint`` runs on every save and its start-up is most of its
time. The script times whole processes, in the same run and interleaved over N rounds (N=15
unless ``--rounds`` says otherwise; one warm-up round first, not counted), so that a busy
machine slows every command alike:

- ``python -c pass``: the baseline, a bare interpreter of the same venv (``python -S -c pass``,
  without ``site``, for information);
- ``python -m createimage_contract lint FILE`` on a small valid JSON parameter file, and on a
  small Step Functions state machine in YAML (which imports PyYAML);
- the installed console script, ``createimage-contract lint FILE``, when the venv has one;
- ``python -c "from createimage_contract import validate"``: the library alone.

The files are written to a temporary folder. Each process starts with bytecode caching on and
its cache in a temporary folder (``PYTHONPYCACHEPREFIX``), so the warm-up round compiles every
module once and the timed rounds load bytecode, as an installed package does; the project's
tree gets no ``__pycache__``. ``--as-is`` keeps the caller's environment instead (with
``PYTHONDONTWRITEBYTECODE`` set, every run compiles the project's sources again).

It prints the median and the minimum wall time of each command and the ratio of its median to
the bare interpreter's. The goal, for each lint: at most 0.12 s, or at most 5x a bare start in
the same run. The script reports whether the goal is met and exits 0 either way.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 0.12
GOAL_RATIO = 5.0

SMALL_JSON = '{ "InstanceId": "i-0a1b2c3d", "Name": "nightly-backup" }\n'
SMALL_YAML = """\
Comment: Nightly AMI backup
StartAt: ImageWebTier
States:
  ImageWebTier:
    Type: Task
    Resource: arn:aws:states:::aws-sdk:ec2:createImage
    Parameters:
      InstanceId: i-0a1b2c3d
      Name: nightly-web
      NoReboot: true
    End: true
"""


def _console_script() -> Path | None:
    """The venv's ``createimage-contract``, beside its interpreter; none if not installed."""
    folder = Path(sys.prefix) / ("Scripts" if os.name == "nt" else "bin")
    for name in ("createimage-contract", "createimage-contract.exe"):
        if (folder / name).is_file():
            return folder / name
    return None


def _commands(folder: Path) -> dict[str, tuple[list[str], bool]]:
    """Each command by label: its argv, and whether the goal applies to it."""
    python = sys.executable
    small_json = str(folder / "small.json")
    small_yaml = str(folder / "state-machine.asl.yaml")
    commands: dict[str, tuple[list[str], bool]] = {
        "python -c pass": ([python, "-c", "pass"], False),
        "python -S -c pass": ([python, "-S", "-c", "pass"], False),
        "python -m createimage_contract lint small.json": (
            [python, "-m", "createimage_contract", "lint", small_json],
            True,
        ),
        "python -m createimage_contract lint state-machine.asl.yaml": (
            [python, "-m", "createimage_contract", "lint", small_yaml],
            True,
        ),
    }
    script = _console_script()
    if script is not None:
        commands["createimage-contract lint small.json"] = ([str(script), "lint", small_json], True)
    commands['python -c "from createimage_contract import validate"'] = (
        [python, "-c", "from createimage_contract import validate"],
        False,
    )
    return commands


def _time(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr.decode()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (15)")
    parser.add_argument(
        "--as-is", action="store_true", help="keep the environment's bytecode settings"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="lint-startup-") as name:
        folder = Path(name)
        (folder / "small.json").write_text(SMALL_JSON, encoding="utf-8")
        (folder / "state-machine.asl.yaml").write_text(SMALL_YAML, encoding="utf-8")
        env = dict(os.environ)
        if not args.as_is:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        commands = _commands(folder)
        times: dict[str, list[float]] = {label: [] for label in commands}
        for round_ in range(args.rounds + 1):  # round 0 warms up (and fills the cache)
            for label, (argv, _) in commands.items():
                elapsed = _time(argv, env, folder)
                if round_:
                    times[label].append(elapsed)

    print(f"Python {sys.version.split()[0]} on {platform.machine()}, {os.cpu_count()} CPUs")
    cache = "caller's environment" if args.as_is else "cached bytecode (temporary prefix)"
    print(f"{args.rounds} interleaved rounds after one warm-up; {cache}\n")
    bare = statistics.median(times["python -c pass"])
    width = max(map(len, commands))
    print(f"{'command':<{width}}  {'median':>8}  {'min':>8}  {'x bare':>7}  goal")
    all_met = True
    for label, (_, goal) in commands.items():
        median, least = statistics.median(times[label]), min(times[label])
        ratio = median / bare
        verdict = ""
        if goal:
            met = median <= GOAL_SECONDS or ratio <= GOAL_RATIO
            all_met &= met
            verdict = "met" if met else "NOT met"
        print(f"{label:<{width}}  {median:>7.3f}s  {least:>7.3f}s  {ratio:>6.1f}x  {verdict}")
    print(
        f"\nGoal: each lint at most {GOAL_SECONDS} s, or at most {GOAL_RATIO:g}x a bare start "
        f"(median): {'met' if all_met else 'NOT met'}."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
