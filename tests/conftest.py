"""Shared fixtures: botocore's own serialization, for byte-for-byte comparisons."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from hypothesis import settings

# Hypothesis deadlines measure the machine, not the code: CI machines are slow and shared.
settings.register_profile("default", deadline=None)
settings.load_profile("default")


class _Sent(Exception):
    """Carries the body botocore was about to send, so that nothing goes on the network."""

    def __init__(self, body: str) -> None:
        super().__init__(body)
        self.body = body


@pytest.fixture(scope="session")
def botocore_form() -> Any:
    """A function: the form body a real botocore EC2 client sends for some parameters."""
    client: Any = botocore.session.get_session().create_client(
        "ec2", region_name="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="secret"
    )

    def capture(request: Any, **_: Any) -> None:
        body = request.body
        raise _Sent(body.decode() if isinstance(body, bytes) else body)

    client.meta.events.register("before-send.ec2.CreateImage", capture)

    def sent(params: dict[str, Any]) -> str:
        with pytest.raises(_Sent) as caught:
            client.create_image(**params)
        return caught.value.body

    return sent


pytest_plugins = ["pytester"]
