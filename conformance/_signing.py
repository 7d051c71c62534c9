"""SigV4, by botocore's signer: signing a request (also at another time, scope or key, for the
authentication probes), and checking one (for the reference implementation).

The canonical request, the string to sign and the signature are botocore's own computations;
what is ours is only which time, scope and key they are computed for. Checking a request
computes its signature again for the key and the scope its Credential claims, then checks
that the key is known, the scope is the service's own, the date within the window, and the
signatures equal, in that order.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from createimage_contract.schema import FORM_CONTENT_TYPE, rule

SERVICE = "ec2"
DEFAULT_REGION = "us-east-1"
FIXED_CREDENTIALS = ("AKIDLOOPBACKTESTING", "loopback-test-secret-key")
"""The test credentials: what run signs with on loopback (real keys never go to a local
server), and what the reference implementation holds unless told other keys."""
ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM} Credential=(?P<credential>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
_TIMESTAMP = re.compile(r"^[0-9]{8}T[0-9]{6}Z$")


@dataclass(frozen=True)
class Scope:
    """What a signature is for: the key, the day, the region and the service."""

    region: str
    service: str = SERVICE


def sign(
    endpoint: str,
    body: bytes,
    credentials: Credentials,
    scope: Scope,
    *,
    at: datetime | None = None,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers of a POST of ``body`` to ``endpoint``, signed for ``scope`` at ``at`` (now
    by default); ``headers`` replaces the usual Content-Type."""
    request = AWSRequest(
        method="POST",
        url=endpoint,
        data=body,
        headers=dict(headers) if headers is not None else {"Content-Type": FORM_CONTENT_TYPE},
    )
    signer = SigV4Auth(credentials, scope.service, scope.region)
    if at is None:
        signer.add_auth(request)
    else:
        _sign_at(signer, request, at.strftime(SIGV4_TIMESTAMP), credentials)
    return dict(request.headers.items())


def sign_at_timestamp(
    endpoint: str, body: bytes, credentials: Credentials, scope: Scope, timestamp: str
) -> dict[str, str]:
    """Signed consistently for a timestamp as written, well-formed or not."""
    request = AWSRequest(
        method="POST", url=endpoint, data=body, headers={"Content-Type": FORM_CONTENT_TYPE}
    )
    _sign_at(SigV4Auth(credentials, scope.service, scope.region), request, timestamp, credentials)
    return dict(request.headers.items())


def _sign_at(
    signer: SigV4Auth, request: AWSRequest, timestamp: str, credentials: Credentials
) -> None:
    """What ``add_auth`` does, for a time other than its clock's."""
    request.context["timestamp"] = timestamp
    request.headers["X-Amz-Date"] = timestamp
    if credentials.token:
        request.headers["X-Amz-Security-Token"] = credentials.token
    request.headers["Authorization"] = authorization(signer, request)


def authorization(signer: SigV4Auth, request: AWSRequest) -> str:
    """The Authorization header botocore writes for ``request``, signed by ``signer``."""
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    signed = signer.signed_headers(signer.headers_to_sign(request))
    return (
        f"{ALGORITHM} Credential={signer.scope(request)}, SignedHeaders={signed}, "
        f"Signature={signature}"
    )


# --- checking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a request does not get in: the rule it breaks, and how, for the answer's message."""

    rule: str
    detail: str


@dataclass(frozen=True)
class Gate:
    """Who gets in: a request (with a Content-Type, when it has a body) signed by a key the
    service holds (access key id -> secret), for its own scope, within the time window, in an
    ``Authorization`` header (a presigned URL is not let in). ``skipping``: the rules it does
    not check (each faulty variant of the selftest skips one)."""

    keys: Mapping[str, str]
    region: str
    skipping: frozenset[str] = frozenset()

    def refusal(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes,
        now: datetime | None = None,
    ) -> Refusal | None:
        """Why the request (``url`` whole, with the host it was sent to) does not get in, or
        ``None`` when it does."""
        found = self._refusals(method, url, _lowered(headers), body, now or datetime.now(UTC))
        return next((r for r in found if r.rule not in self.skipping), None)

    def _refusals(
        self, method: str, url: str, headers: dict[str, str], body: bytes, now: datetime
    ) -> list[Refusal]:
        """Every check of the request, in the order they are made; the first that fails (and
        is not skipped) refuses it. A check that cannot be made is not reached."""
        if "content-type" not in headers and body:  # a GET's parameters are in its URL
            return [Refusal("header.content-type.missing", "the request has no Content-Type")]
        given = headers.get("authorization")
        if given is None:
            return [Refusal("auth.missing", "the request is not signed")]
        parsed = _AUTHORIZATION.match(given)
        if parsed is None or len(parsed["credential"].split("/")) != 5:
            return [Refusal("auth.malformed", f"the Authorization is not {ALGORITHM}")]
        key, day, region, service, terminator = parsed["credential"].split("/")
        timestamp = headers.get("x-amz-date", "")
        found: list[Refusal] = []
        if not _TIMESTAMP.match(timestamp) or _moment(timestamp) is None:
            return [Refusal("header.x-amz-date", f"X-Amz-Date {timestamp!r} is not a timestamp")]
        secret = self.keys.get(key)
        if secret is None:
            found.append(Refusal("auth.unknown-key", f"the access key id {key} is not known"))
        if (region, service, terminator, day) != (self.region, SERVICE, TERMINATOR, timestamp[:8]):
            found.append(Refusal("auth.scope", f"the credential is scoped to {region}/{service}"))
        moment = _moment(timestamp)
        if moment is not None and abs(now - moment) > _window():
            found.append(Refusal("auth.expired", f"X-Amz-Date {timestamp} is out of the window"))
        if secret is not None:
            expected = _signature(method, url, headers, body, secret, parsed, timestamp)
            if not hmac.compare_digest(expected, parsed["signature"]):
                found.append(Refusal("auth.signature", "the signature does not match"))
        return found


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _moment(timestamp: str) -> datetime | None:
    try:
        return datetime.strptime(timestamp, SIGV4_TIMESTAMP).replace(tzinfo=UTC)
    except ValueError:
        return None


def _window() -> timedelta:
    return timedelta(seconds=rule("auth.expired").window_s or 0)


def _signature(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    secret: str,
    parsed: re.Match[str],
    timestamp: str,
) -> str:
    """The signature of the request as botocore computes it, for the scope its Credential
    claims and the headers it says it signed."""
    key, _, region, service, _ = parsed["credential"].split("/")
    names = parsed["signed"].split(";")
    request = AWSRequest(
        method=method, url=url, data=body, headers={n: headers.get(n, "") for n in names}
    )
    request.context["timestamp"] = timestamp
    signer = SigV4Auth(Credentials(key, secret), service, region)
    canonical = signer.canonical_request(request)
    return str(signer.signature(signer.string_to_sign(request, canonical), request))
