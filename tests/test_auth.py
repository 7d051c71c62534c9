"""Who gets in: the auth rules and the header rules a service must enforce, as probes.

Each rule fires at the reference (over HTTP, with the documented code and status), and its
boundary gets in; a run with ``--credentials env`` passes against a service that knows only
the environment's key; every probe carries DryRun, so a service that lets forged requests in
creates nothing, and is reported under each rule; ``--exclude-rules`` leaves them out.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from test_cli_run import assert_one_line_error, cli, read_line

from createimage_contract import rule, rules
from createimage_contract.conformance import (
    FIXED_CREDENTIALS,
    Answer,
    Options,
    ReferenceService,
    Running,
    Verdict,
    category_names,
    finding_lines,
    json_report,
    run,
    serve,
)
from createimage_contract.conformance._probes import (
    Forge,
    Forgery,
    Signing,
    forgeries,
    forgeries_of,
    probed_rules,
)
from createimage_contract.conformance._signing import Scope, sign
from createimage_contract.conformance._transport import (
    Response,
    Transport,
    credentials_for,
    redact,
)
from createimage_contract.schema import CurlAuth, curl_command
from createimage_contract.strategies import simplest_request

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
WINDOW = timedelta(seconds=rule("auth.expired").window_s or 0)
MINUTE = timedelta(minutes=1)
FORM_WITH_CHARSET = "application/x-www-form-urlencoded; charset=utf-8"
ENV_KEY, ENV_SECRET = "AKIDFROMTHEENVIRONMENT", "environment-secret"
OWN_KEY = ("--access-key-id", ENV_KEY, "--secret-access-key", ENV_SECRET)


@pytest.fixture(scope="module")
def reference() -> Iterator[Running]:
    with serve(ReferenceService()) as running:
        yield running


def knock(running: Running, forge: Forge | None) -> Response:
    """A DryRun request to ``running``, signed with the test credentials as a run signs it, or
    forged by ``forge``, over HTTP."""
    form = simplest_request(instance_id=running.instance_id, dry_run=True).form
    forgery = None if forge is None else Forgery("a test's", "", "a test's", forge, as_usual)
    with closing(Transport(running.url, REGION, credentials_for(running.url))) as transport:
        return transport.start(form, forgery).answer()


def as_usual(sent: Mapping[str, str], region: str) -> CurlAuth:
    return CurlAuth()


def code_of(response: Response) -> str | None:
    found = re.search(rb"<Code>([^<]*)</Code>", response.body)
    return found[1].decode() if found else None


def signed(
    scope: Scope | None = None,
    offset: timedelta | None = None,
    headers: dict[str, str] | None = None,
) -> Forge:
    """A forge that signs consistently: for ``scope`` (the target's), ``offset`` from the
    moment it signs (none), with ``headers`` instead of the usual Content-Type."""

    def forge(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
        at = None if offset is None else datetime.now(UTC).replace(tzinfo=None) + offset
        chosen = scope or Scope(signing.region)
        return sign(
            signing.endpoint, body, signing.credentials, chosen, at=at, headers=headers
        ), body

    return forge


def rewritten(pattern: str, replacement: str) -> Forge:
    """Signed as usual, then the Authorization rewritten."""

    def forge(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
        headers = sign(signing.endpoint, body, signing.credentials, Scope(signing.region))
        headers["Authorization"] = re.sub(pattern, replacement, headers["Authorization"])
        return headers, body

    return forge


def test_every_probed_rule_has_forgeries_and_every_forgery_a_probed_rule() -> None:
    probed = probed_rules()
    assert {f.rule for f in forgeries()} == set(probed)
    assert all(len(forgeries_of(rule_id)) >= 1 for rule_id in probed)
    assert set(probed) >= {r for r in rules() if r.startswith("auth.")}
    assert category_names()[2 : 2 + len(probed)] == probed
    assert all(rule(r).severity == "error" for r in probed)


# --- each rule fires, with the documented code, and its boundary gets in ---------------------


@pytest.mark.parametrize("forgery", forgeries(), ids=lambda f: f"{f.rule}: {f.kind}")
def test_each_forgery_is_refused_with_the_documented_answer(
    reference: Running, forgery: Forgery
) -> None:
    answered = knock(reference, forgery.forge)
    broken = rule(forgery.rule)
    assert answered.status == (broken.answer_status or 400), answered.body
    assert code_of(answered) == (broken.documented_codes or ("InvalidParameterValue",))[0]
    assert reference.service.images == {}


GETS_IN: dict[str, list[tuple[str, Forge]]] = {
    "auth.missing": [("signed", signed())],
    "auth.malformed": [
        ("no space after the commas", rewritten(r", ", ",")),
        ("two spaces after the commas", rewritten(r", ", ",  ")),
    ],
    "auth.signature": [("the signature as computed", signed())],
    "auth.expired": [
        ("signed a minute short of the window ago", signed(offset=-WINDOW + MINUTE)),
        ("signed a minute short of the window ahead", signed(offset=WINDOW - MINUTE)),
    ],
    "auth.unknown-key": [("the key it holds", signed())],
    "auth.scope": [("its own region and service", signed(scope=Scope(REGION, "ec2")))],
    "header.content-type.missing": [
        ("a Content-Type with a charset", signed(headers={"Content-Type": FORM_WITH_CHARSET})),
    ],
    "header.x-amz-date": [("a basic-format timestamp", signed())],
}


@pytest.mark.parametrize(
    ("rule_id", "what", "forge"),
    [(rule_id, what, forge) for rule_id, cases in GETS_IN.items() for what, forge in cases],
    ids=[f"{rule_id}: {what}" for rule_id, cases in GETS_IN.items() for what, _ in cases],
)
def test_the_boundary_of_each_rule_gets_in(
    reference: Running, rule_id: str, what: str, forge: Forge
) -> None:
    answered = knock(reference, forge)
    assert (answered.status, code_of(answered)) == (412, "DryRunOperation"), answered.body


def test_a_minute_past_the_window_on_either_side_is_refused(reference: Running) -> None:
    for offset in (-WINDOW - MINUTE, WINDOW + MINUTE):
        answered = knock(reference, signed(offset=offset))
        assert (answered.status, code_of(answered)) == (400, "RequestExpired")


def test_a_session_token_beside_a_known_key_gets_in(reference: Running) -> None:
    """Temporary credentials sign with a token the reference does not hold: the key decides."""
    key, secret = FIXED_CREDENTIALS

    def with_token(signing: Signing, body: bytes) -> tuple[dict[str, str], bytes]:
        credentials = Credentials(key, secret, "a-session-token")
        return sign(signing.endpoint, body, credentials, Scope(signing.region)), body

    answered = knock(reference, with_token)
    assert (answered.status, code_of(answered)) == (412, "DryRunOperation")


# --- runs: signing with the environment's key, a service that lets anyone in ----------------


@pytest.fixture
def environment_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ENV_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", ENV_SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def served_with_own_key() -> Iterator[tuple[str, str]]:
    """``serve --access-key-id ENV_KEY --secret-access-key ENV_SECRET``, as a user runs it:
    its URL and instance, read from what it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "createimage_contract", "serve", *OWN_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        lines = [read_line(process.stdout) for _ in range(3)]
        assert lines[2] == f"lets in requests signed by {ENV_KEY} for {REGION}/ec2\n"
        yield lines[0].split()[-1], lines[1].split()[-1]
    finally:
        process.kill()
        process.communicate()


def test_credentials_env_passes_against_a_service_that_knows_only_that_key(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    environment_keys: None,
    served_with_own_key: tuple[str, str],
) -> None:
    url, instance = served_with_own_key
    report = tmp_path / "report.json"
    where = ("--endpoint", url, "--instance-id", instance, "--seed", "3")
    done = cli(capsys, "run", *where, "--credentials", "env", "--report-json", str(report))
    assert done.code == 0, done.out
    found = json.loads(report.read_text())
    rows = {row["rule"]: row for row in found["rules"]}
    for rule_id in probed_rules():  # every fault sent, and every one rejected
        assert rows[rule_id]["sent"] >= len(forgeries_of(rule_id))
        assert rows[rule_id]["failed"] == 0
    probes = [c for c in found["coverage"]["near_misses"] if c["rule"] in probed_rules()]
    assert len(probes) == len(forgeries()) and all(c["sent"] for c in probes)

    fixed = cli(capsys, "run", *where, "--credentials", "fixed", "--rules", "valid")
    assert fixed.code == 1 and "InvalidClientTokenId" in fixed.out  # the test key is not its key


def test_the_embedded_reference_holds_the_environments_key_with_credentials_env(
    capsys: pytest.CaptureFixture[str], environment_keys: None
) -> None:
    done = cli(capsys, "run", "--credentials", "env", "--rules", "valid,auth.unknown-key")
    assert done.code == 0, done.out


def test_the_plugins_credentials_env_signs_with_the_environments_key(
    pytester: pytest.Pytester,
    environment_keys: None,
    served_with_own_key: tuple[str, str],
) -> None:
    url, instance = served_with_own_key
    where = ("--createimage-endpoint", url, "--createimage-instance-id", instance)
    chosen = ("--createimage-credentials", "env", "-k", "auth or valid")
    result = pytester.runpytest(
        "--pyargs",
        "createimage_contract.conformance.suite",
        "--createimage-seed",
        "1",
        *where,
        *chosen,
    )
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 30 and "failed" not in outcomes, result.stdout.str()


class OpenDoor(ReferenceService):
    """A service that checks no signature, remembering every request it was sent."""

    def __init__(self) -> None:
        super().__init__(credentials=None)
        self.forms: list[dict[str, str]] = []

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        self.forms.append(dict(parse_qsl(body.decode("utf-8", "replace"))))
        return super().answer(method, url, headers, body)


def test_a_service_that_lets_forged_requests_in_is_caught_and_creates_nothing() -> None:
    service = OpenDoor()
    with serve(service) as running:
        options = Options(max_examples=5, seed=1, rules=tuple(probed_rules()))
        result = run(endpoint=running.url, instance_id=running.instance_id, options=options)
    creating = [form for form in service.forms if form.get("Action") == "CreateImage"]
    assert creating and all(form.get("DryRun") == "true" for form in creating)
    assert service.images == {} and result.created == []
    for rule_id in probed_rules():
        finding = result.findings[("error-code", rule_id)]
        assert finding.severity == "error"
        assert finding.message.startswith("DryRunOperation: the service let in a forged request")
        assert finding.response.status == 412


def test_exclude_rules_leaves_the_probes_out_with_globs(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(OpenDoor()) as running:
        where = ("--endpoint", running.url, "--instance-id", running.instance_id)
        only = ("--rules", "auth.*,header.*,dry-run", "--max-examples", "3")
        done = cli(capsys, "run", *where, *only, "--exclude-rules", "auth.*,header.*")
    assert done.code == 0, done.out
    assert re.search(r"^dry-run +\d+", done.out, re.MULTILINE)
    assert not re.search(r"^(auth|header)\.", done.out, re.MULTILINE)


class UndocumentedCodes(ReferenceService):
    """Refuses forged requests, with a code EC2 does not document for them."""

    def refusal(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer | None:
        refused = super().refusal(method, url, headers, body)
        if refused is None or b"RequestExpired" not in refused.body:
            return refused
        return Answer(refused.status, re.sub(rb"<Code>[^<]*", b"<Code>AccessDenied", refused.body))


def test_a_refusal_with_an_undocumented_code_is_a_warning() -> None:
    with serve(UndocumentedCodes()) as running:
        options = Options(max_examples=3, seed=1, rules=("auth.expired",))
        result = run(endpoint=running.url, instance_id=running.instance_id, options=options)
    (finding,) = result.findings.values()
    assert finding.key == ("error-code", "auth.expired") and finding.severity == "warning"
    assert "AccessDenied" in finding.message and "RequestExpired" in finding.message


# --- the command line --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (("--credentials", "nope"), "argument --credentials: invalid choice: 'nope'"),
        (("--rules", "auth.nothing*"), "unknown rule 'auth.nothing*'"),
        (("--exclude-rules", "*"), "no rule is left to run after --exclude-rules"),
        (("--credentials", "env"), "--credentials env needs AWS_ACCESS_KEY_ID"),
    ],
)
def test_bad_rule_and_credential_options_are_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    arguments: tuple[str, ...],
    says: str,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    assert says in assert_one_line_error(cli(capsys, "run", *arguments))


def test_serve_takes_a_key_and_its_secret_together(capsys: pytest.CaptureFixture[str]) -> None:
    line = assert_one_line_error(cli(capsys, "serve", "--access-key-id", ENV_KEY))
    assert line == (
        "createimage-contract serve: error: --access-key-id and --secret-access-key go together"
    )


def test_the_window_in_words_is_the_window_in_seconds() -> None:
    """``window_s`` is what the reference enforces; the catalogue's words must say the same."""
    assert f"more than {WINDOW // MINUTE} minutes" in rule("auth.expired").breaks_when


def test_the_readme_names_the_test_credentials() -> None:
    words = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    key, secret = FIXED_CREDENTIALS
    assert f"access key id `{key}` and secret `{secret}`" in words


# --- every probe finding comes with a curl command that sends the forgery again ---------------


@pytest.mark.parametrize("forgery", forgeries(), ids=lambda f: f"{f.rule}: {f.kind}")
def test_the_curl_reproduction_of_each_forgery_is_refused_for_the_same_rule(
    reference: Running, forgery: Forgery
) -> None:
    assert shutil.which("curl"), "curl is needed (.ci/run installs it)"
    form = simplest_request(instance_id=reference.instance_id, dry_run=True).form
    signing = Signing(reference.url, REGION, Credentials(*FIXED_CREDENTIALS))
    headers, _ = forgery.forge(signing, form.encode())
    auth = forgery.reenact(redact(headers), REGION)
    command = curl_command(form, reference.url, REGION, auth=auth)
    key, secret = FIXED_CREDENTIALS
    environment = {"PATH": os.environ["PATH"], "AWS_ACCESS_KEY_ID": key}
    sent = subprocess.run(
        ["bash", "-c", command],
        env=environment | {"AWS_SECRET_ACCESS_KEY": secret},
        capture_output=True,
        check=True,
        timeout=30,
    )
    broken = rule(forgery.rule)
    assert (
        code_of(Response(None, body=sent.stdout))
        == (broken.documented_codes or ("InvalidParameterValue",))[0]
    ), command
    assert secret not in command


def test_a_probe_finding_says_how_it_was_forged_and_how_to_send_it_again() -> None:
    with serve(OpenDoor()) as running:
        options = Options(max_examples=2, seed=1, rules=("auth.missing",))
        result = run(endpoint=running.url, instance_id=running.instance_id, options=options)
    finding = result.findings[("error-code", "auth.missing")]
    lines = finding_lines(finding, result, "--seed")
    assert "  forged:    no Authorization header" in lines
    (reproduce,) = [line for line in lines if line.startswith("  reproduce: ")]
    assert "--aws-sigv4" not in reproduce and "--user" not in reproduce
    assert (
        json_report(result, Verdict.of(result, set(), False))["failures"][0]["request"]["forged"]
        == "no Authorization header"
    )


def test_a_signed_get_needs_no_content_type(reference: Running) -> None:
    """A GET carries its parameters in the URL: no body, so no Content-Type to require."""
    form = simplest_request(instance_id=reference.instance_id, dry_run=True).form
    url = f"{reference.url}?{form}"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(Credentials(*FIXED_CREDENTIALS), "ec2", REGION).add_auth(request)
    answered = requests.get(url, headers=dict(request.headers.items()), timeout=10)
    assert "Content-Type" not in request.headers
    assert answered.status_code == 412 and "<Code>DryRunOperation</Code>" in answered.text
