"""The reference implementation (or a variant of it) in a process of its own, as ``run`` and
``selftest`` start it.

``python -m createimage_contract.conformance._child [--variant NAME] [--region R] [--env-keys]
[INSTANCE_ID]`` serves on a free loopback port, prints ``URL INSTANCE_ID`` as one line, and
serves until its stdin closes: the runner closes it at the end of the run, and the system
closes it when the runner dies, so that no server outlives its run. Ctrl-C goes to the runner,
which decides when the run ends.

It lets in requests signed for ``--region`` (us-east-1) with the test credentials, or with
``--env-keys`` with the keys of its environment (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``:
read there, so that no secret is on a command line).

With ``--variant`` it serves that variant of ``_variants`` instead of the reference. A line on
stdin names the next variant to serve: the one served until then stops, and a new service (with
nothing created yet, holding the same instance) starts on a new port, announced by a new
``URL INSTANCE_ID`` line. That is how ``selftest`` checks many variants with one process,
instead of paying a process's start and imports for each. An unknown name is one line (on
stderr at the start, on stdout later, where the caller reads) and exit code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from typing import IO

from createimage_contract.schema import Error

from ._reference import ReferenceService, serve
from ._signing import DEFAULT_REGION, FIXED_CREDENTIALS

MODULE = "createimage_contract.conformance._child"
EXIT_UNKNOWN = 2


@dataclass(frozen=True)
class Serving:
    """What a child serves: a variant (or the reference), for which region and keys."""

    variant: str | None = None
    region: str = DEFAULT_REGION
    env_keys: bool = False
    instance_id: str | None = None

    def arguments(self) -> list[str]:
        arguments = ["--variant", self.variant] if self.variant else []
        arguments += ["--region", self.region] + (["--env-keys"] if self.env_keys else [])
        return arguments + ([self.instance_id] if self.instance_id else [])

    @classmethod
    def parsed(cls, argv: list[str]) -> Serving:
        parser = argparse.ArgumentParser(prog=MODULE)
        parser.add_argument("--variant")
        parser.add_argument("--region", default=DEFAULT_REGION)
        parser.add_argument("--env-keys", action="store_true")
        parser.add_argument("instance_id", nargs="?")
        args = parser.parse_args(argv)
        return cls(args.variant, args.region, args.env_keys, args.instance_id)

    def keys(self) -> dict[str, str]:
        if not self.env_keys:
            return dict([FIXED_CREDENTIALS])
        return {os.environ["AWS_ACCESS_KEY_ID"]: os.environ["AWS_SECRET_ACCESS_KEY"]}


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    serving = Serving.parsed(argv)
    name = serving.variant
    instance_ids = [serving.instance_id] if serving.instance_id else []
    complain: IO[str] = sys.stderr
    while True:
        try:
            service = _service(name, instance_ids, serving)
        except KeyError as unknown:
            print(unknown.args[0], file=complain, flush=True)
            return EXIT_UNKNOWN
        instance_ids = [service.instance_id]  # the next variant holds the same instance
        with serve(service) as running:
            print(running.url, running.instance_id, flush=True)
            if complain is sys.stderr:
                # From here on the runner reads nothing on stderr: a note of the server's (a
                # traceback of a request it could not answer) must not land in its output.
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stderr.fileno())
                complain = sys.stdout
            line = sys.stdin.readline()
        if not line:
            return 0
        name = line.strip()


def _service(
    variant_name: str | None, instance_ids: list[str], serving: Serving
) -> ReferenceService:
    keys, region = serving.keys(), serving.region
    if variant_name is None:
        return ReferenceService(instance_ids, credentials=keys, region=region)
    from ._variants import VariantService, variant  # only what a variant needs: lxml, botocore

    return VariantService(variant(variant_name), instance_ids, credentials=keys, region=region)


class ChildError(Error):
    """The child did not serve what it was asked to; the message says why, in one line."""


class Child:
    """A child process serving variants (or the reference), one after the other."""

    def __init__(self, serving: Serving | None = None) -> None:
        self.serving = serving or Serving()
        self._process: subprocess.Popen[bytes] | None = None

    def serve(self, variant_name: str | None) -> tuple[str, str]:
        """Serve ``variant_name`` (the reference when ``None``, only as the first): its URL,
        and the instance it holds. What was served before stops."""
        if self._process is None:
            arguments = replace(self.serving, variant=variant_name).arguments()
            command = [sys.executable, "-m", MODULE, *arguments]
            self._process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        else:
            if variant_name is None:
                raise ChildError("the reference is served only as the first")
            assert self._process.stdin
            self._process.stdin.write(variant_name.encode("utf-8") + b"\n")
            self._process.stdin.flush()
        return self._started()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _started(self) -> tuple[str, str]:
        process = self._process
        assert process and process.stdout and process.stderr
        said = process.stdout.readline().decode("utf-8", "replace").strip()
        if len(said.split()) == 2:
            url, held = said.split()
            return url, held
        if not said:
            lines = process.stderr.read().decode("utf-8", "replace").strip().splitlines()
            said = lines[-1] if lines else f"it exited with {process.wait()}"
        raise ChildError(said)

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin and process.stdout and process.stderr
        with suppress(BrokenPipeError):  # it is gone already
            process.stdin.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@contextmanager
def serving(what: Serving) -> Iterator[tuple[str, str]]:
    """A child serving ``what``: its URL, and the instance it holds. It stops when this ends,
    or when this process dies."""
    child = Child(what)
    try:
        yield child.serve(what.variant)
    finally:
        child.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
