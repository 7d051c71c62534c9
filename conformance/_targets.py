"""What a run runs against: the embedded reference implementation, moto, or any endpoint."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import botocore.session

from createimage_contract.schema import Error

from ._child import ChildError, Serving, serving
from ._options import Options
from ._results import Target
from ._signing import FIXED_CREDENTIALS
from ._transport import CredentialsChoice, credentials_for, is_loopback

EMBEDDED_KINDS = ("reference", "moto")
"""The targets ``run`` starts itself, the default first; any other is an ``endpoint``."""


LOOPBACK_URL = "http://127.0.0.1/"
"""Where the embedded targets listen, for the credentials they take."""


class TargetError(Error):
    """The run cannot be made: the message says why, in one line."""


def check_target(endpoint: str | None, credentials: CredentialsChoice = "auto") -> None:
    """Raise what would stop a run against ``endpoint`` (the embedded target when ``None``)
    before it starts, without connecting: ``TargetError`` for a URL that is not an http(s)
    one, ``NoCredentials`` for credentials to be taken from an environment without them."""
    if endpoint is not None:
        check_url(endpoint)
    credentials_for(endpoint or LOOPBACK_URL, credentials)


@contextmanager
def open_target(
    kind: str, endpoint: str | None, instance_id: str | None, options: Options
) -> Iterator[Target]:
    region = options.region
    if endpoint is not None:
        if not instance_id:
            raise TargetError("--endpoint needs --instance-id: an instance the service holds")
        probe(endpoint, options.timeout)
        yield Target(endpoint, "endpoint", instance_id, region)
    elif kind == "moto":
        with moto_server() as url:
            yield Target(url, "moto", launch_instance(url, region), region)
    else:
        serving = Serving(None, region, options.credentials == "env", instance_id)
        with reference_process(serving) as (url, held):
            yield Target(url, "reference", held, region)


@contextmanager
def reference_process(what: Serving | None = None) -> Iterator[tuple[str, str]]:
    """The reference implementation in a child process, on a free loopback port: its URL and
    the instance it holds (``what.instance_id``, or a new one).

    A process of its own, so that the target's work runs beside the run's on a second core
    instead of taking turns with it for one interpreter lock (measured on 2 cores: a default
    run in 2.5 s instead of 2.8 s). It stops when its stdin closes: at the end of the run, or
    when this process dies.
    """
    try:
        with serving(what or Serving()) as (url, held):
            yield url, held
    except ChildError as problem:
        raise TargetError(f"the reference implementation did not start: {problem}") from None


def check_url(endpoint: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; ``TargetError`` when it is not one."""
    try:
        parts = urlsplit(endpoint)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetError(f"--endpoint {endpoint!r} is not a URL with a valid port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(f"--endpoint {endpoint!r} is not an http(s) URL")
    return parts.hostname, port


def probe(endpoint: str, timeout: float) -> None:
    """Fail fast and in one line when nothing listens at ``endpoint``."""
    host, port = check_url(endpoint)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as error:
        raise TargetError(f"cannot reach {endpoint}: {error.strerror or error}") from None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's own server (server mode, as users run it), on a free loopback port, its request
    log silenced."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        # Not the extra's name: createimage-contract is on no package index to fetch it from.
        raise TargetError("moto is not installed: pip install 'moto[server]'") from None
    logging.getLogger("werkzeug").disabled = True  # moto's tracebacks are findings, not output
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(url)
        yield url
    finally:
        server.stop()


def _wait_for(url: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            probe(url, 1.0)
            return
        except TargetError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def launch_instance(endpoint: str, region: str) -> str:
    """Start an instance on a loopback EC2 (moto) from one of its own images."""
    if not is_loopback(endpoint):
        raise TargetError("instances are launched on loopback targets only")
    key, secret = FIXED_CREDENTIALS
    client: Any = botocore.session.get_session().create_client(
        "ec2",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    images = client.describe_images(Owners=["amazon"])["Images"]
    if not images:
        raise TargetError(f"{endpoint} has no image to launch an instance from")
    reservation = client.run_instances(ImageId=images[0]["ImageId"], MinCount=1, MaxCount=1)
    instance_id: str = reservation["Instances"][0]["InstanceId"]
    return instance_id
