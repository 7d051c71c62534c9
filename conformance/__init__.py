"""The conformance runner, and the reference implementation of CreateImage.

``run`` sends generated requests to a target and checks every answer; ``serve`` starts the
reference implementation (``ReferenceService``) on loopback.

What ``run`` finds about the target is in its ``Outcome``. A bug of createimage-contract's own
(an exception in a check, in parsing, signing or sending, in the strategies) is never a
finding and never a pass: the run stops sending at once and ``run`` raises ``InternalError``.
"""

from __future__ import annotations

from ._checks import CHECK_IDS
from ._engine import Engine, Finding, InternalError, Options, Outcome, Target
from ._reference import ReferenceService, Running, serve
from ._targets import TargetError, open_target
from ._transport import NoCredentials, Transport, credentials_for

__all__ = [
    "CHECK_IDS",
    "Finding",
    "InternalError",
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
    looked for before anything is sent. Raises ``InternalError`` when a bug of ours stopped
    the run (images it created off loopback are still removed first): its message is one line
    naming the exception and where it was raised, its ``outcome`` what was found until then.
    An outcome whose ``sent_nothing`` is true sent no CreateImage request (every category was
    left out) and proves nothing.
    """
    if endpoint is not None:
        credentials_for(endpoint)
    with open_target(target, endpoint, instance_id, region, timeout) as opened:
        transport = Transport(
            opened.endpoint, opened.region, credentials_for(opened.endpoint), timeout
        )
        try:
            outcome = Engine(opened, transport, options or Options(), []).run()
        finally:
            transport.close()
    if outcome.internal_error is not None:
        raise InternalError(outcome)
    return outcome
