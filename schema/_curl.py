"""A ``curl`` command that sends a form body as CreateImage, signed by curl itself: the request
as a person can send it again.

curl (7.75 and later) signs with SigV4 given ``--aws-sigv4``; the credentials stay in the
environment variables the command names, so a printed command never holds a secret. A
``CurlAuth`` says how a request is signed when it is not the usual way: unsigned, by another
user, for another scope, with an ``X-Amz-Date`` of its own (curl signs for the date it is
given), without a Content-Type.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
ENVIRONMENT_USER = '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"'
"""curl's ``--user`` for SigV4: the environment's keys, expanded by the shell."""


@dataclass(frozen=True)
class CurlAuth:
    """How curl signs the request: by default with SigV4, the environment's keys, for ec2 in
    the target's region, with the form's Content-Type."""

    user: str | None = ENVIRONMENT_USER
    """``--user`` as written on the command line (quoted); ``None``: not signed."""
    region: str | None = None
    """The region signed for, when not the target's."""
    service: str = "ec2"
    headers: tuple[tuple[str, str], ...] = ()
    """More headers, sent as they are (an ``Authorization`` of its own, an ``X-Amz-Date``)."""
    content_type: bool = True
    """``False``: no Content-Type at all (curl would add its own)."""


def curl_command(
    form: str,
    endpoint: str,
    region: str,
    session_token: bool = False,
    auth: CurlAuth = CurlAuth(),
) -> str:
    """The command; with ``session_token``, it sends ``$AWS_SESSION_TOKEN`` too."""
    signed = []
    if auth.user is not None:
        scope = f"aws:amz:{auth.region or region}:{auth.service}"
        signed = ["--aws-sigv4", shlex.quote(scope), "--user", auth.user]
    token = ['-H "X-Amz-Security-Token: $AWS_SESSION_TOKEN"'] if session_token else []
    content_type = f"Content-Type: {FORM_CONTENT_TYPE}" if auth.content_type else "Content-Type:"
    headers = [f"{name}: {value}" for name, value in auth.headers] + [content_type]
    return " ".join(
        [
            "curl -sS -X POST",
            shlex.quote(endpoint),
            *signed,
            *token,
            *[f"-H {shlex.quote(header)}" for header in headers],
            "--data-binary",
            shlex.quote(form),
        ]
    )
