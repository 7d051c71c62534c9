"""One conformance run, from its target to its result: the one entry point of the command
line, the pytest plugin and the selftest."""

from __future__ import annotations

from collections.abc import Sequence

from ._engine import Engine
from ._options import Options
from ._results import InternalError, Listener, RunResult
from ._targets import EMBEDDED_KINDS, check_target, open_target
from ._transport import Transport, credentials_for


def run(
    *,
    endpoint: str | None = None,
    target: str = EMBEDDED_KINDS[0],
    instance_id: str | None = None,
    options: Options | None = None,
    listeners: Sequence[Listener] = (),
) -> RunResult:
    """A conformance run against ``endpoint`` (or the embedded ``target``, one of
    ``EMBEDDED_KINDS``); its result. ``listeners`` hear of its progress as it goes.

    Raises ``TargetError`` or ``NoCredentials`` when the run cannot be made; credentials are
    looked for before anything is sent. Raises ``InternalError`` when a bug of ours stopped
    the run (images it created off loopback are still removed first): its message is one line
    naming the exception and where it was raised, its ``result`` what was found until then.
    A result whose ``sent_nothing`` is true sent no CreateImage request (every category was
    left out) and proves nothing.
    """
    options = options or Options()
    check_target(endpoint, options.credentials)
    with open_target(target, endpoint, instance_id, options) as opened:
        transport = Transport(
            opened.endpoint,
            opened.region,
            credentials_for(opened.endpoint, options.credentials),
            options.timeout,
            options.max_response_size,
        )
        try:
            result = Engine(opened, transport, options, list(listeners)).run()
        finally:
            transport.close()
    if result.internal_error is not None:
        raise InternalError(result)
    return result
