"""The conformance runner, and the reference implementation of CreateImage.

``run`` sends generated requests to a target and checks every answer; ``serve`` starts the
reference implementation (``ReferenceService``) on loopback.
"""

from __future__ import annotations

from ._checks import CHECK_IDS
from ._engine import Engine, Finding, Options, Outcome, Target
from ._reference import ReferenceService, Running, serve
from ._targets import TargetError, open_target
from ._transport import NoCredentials, Transport, credentials_for

__all__ = [
    "CHECK_IDS",
    "Finding",
    "NoCredentials",
    "Options",
    "Outcome",
    "ReferenceService",
    "Running",
    "Target",
    "TargetError",
    "run",
    "serve",
]


def run(
    *,
    endpoint: str | None = None,
    target: str = "reference",
    instance_id: str | None = None,
    region: str = "us-east-1",
    options: Options | None = None,
    timeout: float = 10.0,
) -> Outcome:
    """A conformance run against ``endpoint`` (or the embedded ``target``); its outcome.

    Raises ``TargetError`` or ``NoCredentials`` when the run cannot be made; credentials are
    looked for before anything is sent.
    """
    if endpoint is not None:
        credentials_for(endpoint)
    with open_target(target, endpoint, instance_id, region, timeout) as opened:
        transport = Transport(
            opened.endpoint, opened.region, credentials_for(opened.endpoint), timeout
        )
        try:
            return Engine(opened, transport, options or Options(), []).run()
        finally:
            transport.close()
