"""The probes: who gets in. For each rule a service must enforce at its door (every auth rule,
and the header rules the catalogue marks probed), requests forged in one way each.

A probe is an ordinary valid request with ``DryRun=true``, signed and then forged: left
unsigned, signed for another time, scope or key (consistently, so that only that is wrong),
or changed after signing. A service that lets it in answers ``DryRunOperation``, which is the
finding, and creates nothing, on any target: the probes are safe against real AWS too.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from botocore.credentials import Credentials

from createimage_contract.schema import CurlAuth, rule, rules

from ._signing import ALGORITHM, Scope, sign, sign_at_timestamp

EXPIRED_BY = timedelta(minutes=5)
"""How far past the window a stale or early date is: clearly out, never on the edge."""


@dataclass(frozen=True)
class Signing:
    """What a request is signed for, and with: the target's URL and region, the run's keys."""

    endpoint: str
    region: str
    credentials: Credentials


Forge = Callable[[Signing, bytes], tuple[dict[str, str], bytes]]
"""A request's headers and body, from the body of a valid one: forged in one way."""
Reenact = Callable[[Mapping[str, str], str], CurlAuth]
"""How curl sends a forged request again, from the headers it was sent with (secrets
redacted) and the target's region."""


@dataclass(frozen=True)
class Forgery:
    rule: str
    site: str
    """What the forgery is about, for the coverage table: ``header Authorization``."""
    kind: str
    forge: Forge
    reenact: Reenact


def _signed(signing: Signing, body: bytes, scope: Scope | None = None) -> dict[str, str]:
    return sign(signing.endpoint, body, signing.credentials, scope or Scope(signing.region))


def _curl(auth: CurlAuth) -> Reenact:
    return lambda sent, region: auth


def _curl_dated(shift_years: int = 0) -> Reenact:
    """curl signing for the X-Amz-Date the probe was sent with (``shift_years`` later: a date
    ahead stays ahead however late the command is run)."""

    def reenact(sent: Mapping[str, str], region: str) -> CurlAuth:
        date = _header(sent, "X-Amz-Date")
        shifted = f"{int(date[:4]) + shift_years:04d}{date[4:]}" if date[:4].isdigit() else date
        return CurlAuth(headers=(("X-Amz-Date", shifted),))

    return reenact


def _header(headers: Mapping[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), "")


def unsigned(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    headers = _signed(signing, body)
    return {k: v for k, v in headers.items() if k.lower() != "authorization"}, body


def _with_authorization(value: str) -> Forge:
    def forge(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
        return _signed(signing, body) | {"Authorization": value}, body

    return forge


MADE_UP_KEY = "AKIDNEVERISSUEDBYANY"
"""The access key id of the probe of an unknown key: no service issues it (AKID, not AKIA)."""
WRONG_SECRET = CurlAuth(user='"$AWS_ACCESS_KEY_ID:not-the-secret-key"')


def _unsigned_with(authorization: str) -> CurlAuth:
    return CurlAuth(user=None, headers=(("Authorization", authorization),))


def _basic() -> str:
    return "Basic " + base64.b64encode(b"createimage-contract:probe").decode("ascii")


def flipped_signature(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    headers = _signed(signing, body)
    last = headers["Authorization"][-1]
    headers["Authorization"] = headers["Authorization"][:-1] + ("0" if last != "0" else "1")
    return headers, body


def body_changed(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    """Signed for the body, then sent with one more (valid) parameter."""
    return _signed(signing, body), body + b"&Description=changed+after+signing"


def _signed_at(offset: timedelta) -> Forge:
    def forge(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
        moment = datetime.now(UTC).replace(tzinfo=None) + offset
        scope = Scope(signing.region)
        return sign(signing.endpoint, body, signing.credentials, scope, at=moment), body

    return forge


def unknown_key(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    """Signed consistently by a key made up for the probe."""
    made_up = Credentials(MADE_UP_KEY, secrets.token_urlsafe(30))
    return sign(signing.endpoint, body, made_up, Scope(signing.region)), body


def _other_region(region: str) -> str:
    return "eu-west-1" if region != "eu-west-1" else "us-east-1"


OTHER_SERVICE = "s3"


def other_region(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    return _signed(signing, body, Scope(_other_region(signing.region))), body


def other_service(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    return _signed(signing, body, Scope(signing.region, OTHER_SERVICE)), body


def no_content_type(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    """Signed consistently, without a Content-Type."""
    scope = Scope(signing.region)
    return sign(signing.endpoint, body, signing.credentials, scope, headers={}), body


def malformed_date(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
    """Signed consistently for an X-Amz-Date of today in month 13."""
    timestamp = datetime.now(UTC).strftime("%Y13%dT%H%M%SZ")
    scope = Scope(signing.region)
    return sign_at_timestamp(signing.endpoint, body, signing.credentials, scope, timestamp), body


@cache
def forgeries() -> tuple[Forgery, ...]:
    """Every probe, by rule, in the catalogue's order."""
    window = timedelta(seconds=rule("auth.expired").window_s or 0)
    late = window + EXPIRED_BY
    authorization, date = "header Authorization", "header X-Amz-Date"
    table = [
        Forgery("header.content-type.missing", "header Content-Type", "no Content-Type",
                no_content_type, _curl(CurlAuth(content_type=False))),
        Forgery("header.x-amz-date", date, "a date that is no date", malformed_date,
                _curl_dated()),
        Forgery("auth.missing", authorization, "no Authorization header", unsigned,
                _curl(CurlAuth(user=None))),
        Forgery("auth.malformed", authorization, "a Basic Authorization",
                _with_authorization(_basic()), _curl(_unsigned_with(_basic()))),
        Forgery("auth.malformed", authorization, "AWS4-HMAC-SHA256 and nothing else",
                _with_authorization(ALGORITHM), _curl(_unsigned_with(ALGORITHM))),
        # curl cannot send a signature it did not compute: one by a wrong secret mismatches
        # the request as surely.
        Forgery("auth.signature", authorization, "a character of the signature changed",
                flipped_signature, _curl(WRONG_SECRET)),
        Forgery("auth.signature", authorization, "the body changed after signing",
                body_changed, _curl(WRONG_SECRET)),
        Forgery("auth.expired", date, f"signed {_minutes(late)} minutes ago", _signed_at(-late),
                _curl_dated()),
        Forgery("auth.expired", date, f"signed {_minutes(late)} minutes ahead", _signed_at(late),
                _curl_dated(shift_years=1)),
        Forgery("auth.unknown-key", authorization, "an access key id made up", unknown_key,
                _curl(CurlAuth(user=f"{MADE_UP_KEY}:made-up-secret"))),
        Forgery("auth.scope", authorization, "scoped to another region", other_region,
                lambda sent, region: CurlAuth(region=_other_region(region))),
        Forgery("auth.scope", authorization, "scoped to another service", other_service,
                _curl(CurlAuth(service=OTHER_SERVICE))),
    ]  # fmt: skip
    order = list(rules())
    return tuple(sorted(table, key=lambda forgery: order.index(forgery.rule)))


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def forgeries_of(rule_id: str) -> tuple[Forgery, ...]:
    return tuple(f for f in forgeries() if f.rule == rule_id)


def probed_rules() -> list[str]:
    """The rules run probes, in the catalogue's order."""
    return [rule_id for rule_id, found in rules().items() if found.sent_as_probe]


def forgery(rule_id: str, kind: str) -> Forgery:
    """The forgery of ``rule_id`` named ``kind``."""
    return next(f for f in forgeries_of(rule_id) if f.kind == kind)
