"""The reference implementation in a process of its own, as ``run`` starts it.

``python -m createimage_contract.conformance._child [INSTANCE_ID]`` serves on a free loopback
port, prints ``URL INSTANCE_ID`` as one line, and serves until its stdin closes: the runner
closes it at the end of the run, and the system closes it when the runner dies, so that no
server outlives its run. Ctrl-C goes to the runner, which decides when the run ends.
"""

from __future__ import annotations

import os
import signal
import sys

from ._reference import ReferenceService, serve


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with serve(ReferenceService(argv[:1])) as running:
        print(running.url, running.instance_id, flush=True)
        # From here on the runner reads nothing from us: a note of the server's (a traceback
        # of a request it could not answer) must not land in the runner's output.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())
        sys.stdin.buffer.read()


if __name__ == "__main__":
    main(sys.argv[1:])
