"""A ``curl`` command that sends a form body as CreateImage, signed by curl itself: the request
as a person can send it again.

curl (7.75 and later) signs with SigV4 given ``--aws-sigv4``; the credentials stay in the
environment variables the command names, so a printed command never holds a secret.
"""

from __future__ import annotations

import shlex

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def curl_command(form: str, endpoint: str, region: str, session_token: bool = False) -> str:
    """The command; with ``session_token``, it sends ``$AWS_SESSION_TOKEN`` too."""
    token = ['-H "X-Amz-Security-Token: $AWS_SESSION_TOKEN"'] if session_token else []
    return " ".join(
        [
            "curl -sS -X POST",
            shlex.quote(endpoint),
            "--aws-sigv4",
            shlex.quote(f"aws:amz:{region}:ec2"),
            '--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"',
            *token,
            "-H",
            shlex.quote(f"Content-Type: {FORM_CONTENT_TYPE}"),
            "--data-binary",
            shlex.quote(form),
        ]
    )
