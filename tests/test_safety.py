"""Safety off loopback (DryRun only, images cleaned up) and secrets never shown."""

from __future__ import annotations

import json
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from interrupts import sigint_as_usual
from test_faulty_services import INSTANCE, Fault, Faulty, on_code, success

from createimage_contract import expect
from createimage_contract.conformance import (
    FIXED_CREDENTIALS,
    Answer,
    Options,
    ReferenceService,
    Running,
    RunResult,
    run,
    serve,
)
from createimage_contract.conformance._reference import HeldImage
from createimage_contract.conformance._transport import Response, Transport, credentials_for

ROOT = Path(__file__).resolve().parent.parent
# 0.0.0.0 reaches this machine, yet is not a loopback address: the runner treats it as remote.
OFF_LOOPBACK = "0.0.0.0"
ACCESS_KEY = "AKIAFAKEMARKER77777"
SECRET_KEY = "fake/Secret+Key/Marker99999"
SESSION_TOKEN = "FakeSessionTokenMarker88888"
KEYS = {ACCESS_KEY: SECRET_KEY} | dict([FIXED_CREDENTIALS])
"""What the services here let in: the keys of the environment (off loopback) and the test
credentials (on loopback)."""


class Recording(ReferenceService):
    """The reference, remembering every request and every Authorization header."""

    def __init__(self, slow: float = 0.0) -> None:
        super().__init__([INSTANCE], credentials=KEYS)
        self.forms: list[str] = []
        self.authorizations: list[str] = []
        self.slow = slow

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        self.forms.append(body.decode("utf-8", "replace"))
        self.authorizations.append(headers.get("Authorization", ""))
        time.sleep(self.slow)
        return super().answer(method, url, headers, body)

    @property
    def signatures(self) -> set[str]:
        return {m for a in self.authorizations for m in re.findall(r"Signature=([0-9a-f]+)", a)}


def command(*argv: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a child process, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "createimage_contract", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def served_off_loopback(service: ReferenceService) -> Iterator[Running]:
    with serve(service, host=OFF_LOOPBACK) as running:
        yield running


def run_against(url: str, options: Options) -> RunResult:
    return run(endpoint=url, instance_id=INSTANCE, options=replace(options, timeout=5))


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)


def test_off_loopback_valid_requests_go_with_dry_run_only(secrets: None) -> None:
    service = Recording()
    for running in served_off_loopback(service):
        outcome = run_against(running.url, Options(max_examples=5, seed=1))
    assert "valid" not in outcome.rules and "name.duplicate" not in outcome.rules
    assert any("--allow-resource-creation" in note for note in outcome.notes)
    creating = [f for f in service.forms if "Action=CreateImage" in f]
    assert creating
    for form in creating:  # what a conforming service would create, it may not be asked to
        if expect(form, known_instances={INSTANCE}).status == 200:
            raise AssertionError(f"sent without DryRun, would create an image: {form}")
    assert service.images == {} and outcome.created == []


def test_with_resource_creation_allowed_every_image_is_deregistered(secrets: None) -> None:
    service = Recording()
    for running in served_off_loopback(service):
        options = Options(max_examples=4, seed=1, allow_resource_creation=True)
        outcome = run_against(running.url, options)
    assert outcome.created and outcome.deregistered == outcome.created
    assert service.images == {} and outcome.left_behind == {}


def test_images_a_faulty_service_creates_for_bad_requests_are_removed(secrets: None) -> None:
    faulty = Faulty(on_code("InvalidAMIName.Malformed", lambda _: success()), credentials=KEYS)
    accepted: list[str] = []

    def create_for_real(
        fields: dict[str, str], answer: Answer, service: ReferenceService
    ) -> Answer:
        answer = faulty.deviation(fields, answer, service)
        found = re.search(rb"<imageId>([^<]+)</imageId>", answer.body)
        if found and fields.get("Action") == "CreateImage":
            image = found.group(1).decode()
            service.images.setdefault(image, HeldImage(image, "accepted", None, (), INSTANCE))
            accepted.append(image)
        return answer

    service = Faulty(create_for_real, credentials=KEYS)
    for running in served_off_loopback(service):
        outcome = run_against(running.url, Options(max_examples=4, seed=1, rules=("name.charset",)))
    assert accepted and set(outcome.created) == set(accepted)
    assert outcome.deregistered == outcome.created and service.images == {}


def with_snapshots(deleted: list[str]) -> Fault:
    """The reference, with a snapshot for each image it lists by id, and DeleteSnapshot, whose
    snapshots go to ``deleted``."""

    def change(fields: dict[str, str], answer: Answer, _: ReferenceService) -> Answer:
        if fields.get("Action") == "DeleteSnapshot":
            deleted.append(fields["SnapshotId"])
            return Answer(
                200, b"<DeleteSnapshotResponse><return>true</return></DeleteSnapshotResponse>"
            )
        if fields.get("Action") == "DescribeImages" and "ImageId.1" in fields:
            snapshot = f"snap-{fields['ImageId.1'][4:]}"
            ebs = f"<ebs><snapshotId>{snapshot}</snapshotId></ebs>"
            mapping = f"<blockDeviceMapping><item>{ebs}</item></blockDeviceMapping>"
            return Answer(
                200, answer.body.replace(b"<imageState>", mapping.encode() + b"<imageState>")
            )
        return answer

    return change


def test_the_snapshots_of_created_images_are_deleted_too(secrets: None) -> None:
    deleted: list[str] = []

    service = Faulty(with_snapshots(deleted), credentials=KEYS)
    for running in served_off_loopback(service):
        options = Options(max_examples=3, seed=1, rules=("valid",), allow_resource_creation=True)
        outcome = run_against(running.url, options)
    assert len(outcome.created) == outcome.rules["valid"].sent and service.images == {}
    assert sorted(deleted) == sorted(f"snap-{image[4:]}" for image in outcome.created)
    assert outcome.deregistered == outcome.created and outcome.deleted_snapshots == deleted


def test_images_that_cannot_be_removed_are_reported(secrets: None, tmp_path: Path) -> None:
    def refuse_deregistration(
        fields: dict[str, str], answer: Answer, _: ReferenceService
    ) -> Answer:
        if fields.get("Action") == "DeregisterImage":
            return Answer(
                403,
                b"<Response><Errors><Error><Code>UnauthorizedOperation</Code>"
                b"<Message>no</Message></Error></Errors><RequestID>r</RequestID></Response>",
            )
        return answer

    service = Faulty(refuse_deregistration, credentials=KEYS)
    for running in served_off_loopback(service):
        report = tmp_path / "report.json"
        run = command(
            "run",
            "--endpoint",
            running.url,
            "--instance-id",
            INSTANCE,
            "--rules",
            "valid",
            "--max-examples",
            "2",
            "--allow-resource-creation",
            "--report-json",
            str(report),
        )
    written = json.loads(report.read_text())
    images = written["images"]
    (valid,) = written["rules"]
    assert images["created"] == valid["sent"] and images["deregistered"] == 0
    assert len(images["left_behind"]) == images["created"]
    for image_id in images["left_behind"]:
        assert f"cleanup: could not remove {image_id} (403 UnauthorizedOperation)" in run.stdout


def interruptible_run(url: str, *options: str) -> subprocess.Popen[str]:
    """``run`` against ``url``, allowed to create images, one request at a time, in a child
    process that a SIGINT interrupts as Ctrl-C does."""
    command = [sys.executable, "-m", "createimage_contract", "run", "--endpoint", url]
    command += ["--instance-id", INSTANCE, "--allow-resource-creation", "--workers", "1"]
    return subprocess.Popen(
        [*command, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        preexec_fn=sigint_as_usual,
    )


def test_ctrl_c_still_cleans_up(secrets: None) -> None:
    service = Recording(slow=0.05)
    for running in served_off_loopback(service):
        process = interruptible_run(running.url, "--max-examples", "50")
        deadline = time.monotonic() + 20
        while len(service.images) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(service.images) >= 3, "the run should have created images by now"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
        left = dict(service.images)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert left == {}, f"left behind: {sorted(left)}"
    assert "cleanup: removed" in out


SWALLOWED_INTERRUPT = """
import gc, os, signal
from dataclasses import replace
from createimage_contract.conformance import Options, ReferenceService, _engine, run, serve

def interrupt_in_a_gc_callback(phase, info):
    gc.callbacks.remove(interrupt_in_a_gc_callback)
    os.kill(os.getpid(), signal.SIGINT)  # raised in the callback, where Python drops it

first, *rest = _engine.CHECKS
def arming(exchange):
    if not getattr(arming, "armed", False):
        arming.armed = True
        gc.callbacks.append(interrupt_in_a_gc_callback)
        gc.collect()
    first.run(exchange)

_engine.CHECKS = (replace(first, run=arming), *rest)
service = ReferenceService()
with serve(service) as running:
    try:
        run(endpoint=running.url, instance_id=running.instance_id, options=Options(seed=1))
    except KeyboardInterrupt:
        print("interrupted after", len(service.images), "images")
    else:
        print("the run went on to the end:", len(service.images), "images")
"""


def test_a_ctrl_c_that_a_gc_callback_swallows_still_stops_the_run() -> None:
    """Hypothesis watches the collector with a gc callback, and Python drops what a gc
    callback raises: a Ctrl-C landing there must still stop the run (it once did not, in CI)."""
    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED_INTERRUPT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
        preexec_fn=sigint_as_usual,
    )
    assert done.stdout.startswith("interrupted after"), done.stdout + done.stderr
    assert int(done.stdout.split()[2]) <= Options().workers + 1  # only those already on their way


def test_secrets_never_appear_in_any_output(secrets: None, tmp_path: Path) -> None:
    wrong_code = on_code(
        "InvalidAMIName.Malformed",
        lambda a: Answer(
            a.status, a.body.replace(b"InvalidAMIName.Malformed", b"InvalidParameterValue")
        ),
    )
    service = Recording()
    service_with_fault = Faulty(lambda f, a, s: wrong_code(f, a, s), credentials=KEYS)
    outputs: list[str] = []
    for faulty_service in (service, service_with_fault):
        for running in served_off_loopback(faulty_service):
            files = {
                name: tmp_path / f"{id(faulty_service)}-{name}"
                for name in ("r.json", "r.xml", "b.json")
            }
            run = command(
                "run",
                "--endpoint",
                running.url,
                "--instance-id",
                INSTANCE,
                "--rules",
                "valid,name.charset,dry-run",
                "--max-examples",
                "3",
                "--allow-resource-creation",
                "--report-json",
                str(files["r.json"]),
                "--junit-xml",
                str(files["r.xml"]),
                "--write-baseline",
                str(files["b.json"]),
                "--color",
                "always",
            )
            outputs += [run.stdout, run.stderr, *(f.read_text() for f in files.values())]
    lint_file = tmp_path / "request.json"
    lint_file.write_text(
        json.dumps(
            {
                "url": "https://ec2.us-east-1.amazonaws.com/",
                "method": "POST",
                "headers": {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Amz-Credential": f"{ACCESS_KEY}/20261127/us-east-1/s3/aws4_request",
                    "X-Amz-Security-Token": SESSION_TOKEN,
                    "X-Amz-Signature": SECRET_KEY,
                    "Authorization": f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/x",
                },
                "body": "Action=CreateImage&Version=2016-11-15&InstanceId=i-12345678&Name=abc",
            }
        )
    )
    for fmt in ("text", "json"):
        lint = command("lint", str(lint_file), "--format", fmt)
        assert lint.returncode == 1
        outputs += [lint.stdout, lint.stderr]
    signatures = service.signatures
    assert signatures, "the service saw signed requests"
    everything = "\n".join(outputs)
    assert "ERROR: error-code x name.charset" in everything, "a failure with its request was shown"
    assert "X-Amz-Security-Token: $AWS_SESSION_TOKEN" in everything
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, *signatures):
        assert secret not in everything, f"{secret[:6]}... leaked"


# --- TLS ---------------------------------------------------------------------------------------


def self_signed_localhost(folder: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` that signs itself, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return None


@contextmanager
def tls_reference(cert_file: Path, key_file: Path) -> Iterator[tuple[str, Recording]]:
    """The reference behind TLS on localhost, with the given certificate."""
    service = Recording()
    server = make_server("127.0.0.1", 0, service.wsgi, handler_class=Quiet)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_port}/", service
    finally:
        server.shutdown()
        server.server_close()


def test_https_answers_are_read_and_certificates_are_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS, as a real endpoint is reached; a certificate nobody vouches for is refused
    before a request (and its signature) goes out."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    form = f"Action=CreateImage&Version=2016-11-15&InstanceId={INSTANCE}&Name=tls&DryRun=true"
    cert_file, key_file = self_signed_localhost(tmp_path)

    def send_once(url: str) -> Response:
        with closing(Transport(url, "us-east-1", credentials_for(url), timeout=5)) as transport:
            return transport.send(form)[1]

    with tls_reference(cert_file, key_file) as (url, service):
        refused = send_once(url)
        assert service.forms == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # now the certificate is trusted
        answered = send_once(url)
    assert refused.status is None and "CERTIFICATE_VERIFY_FAILED" in (refused.error or "")
    assert answered.status == 412 and b"DryRunOperation" in answered.body
    assert service.forms == [form]


class InterruptingMidAnswer(Recording):
    """The reference, which sends the run Ctrl-C while the run waits for an answer that creates
    an image: the answer comes after the interrupt (the window where an image could be created
    and never known to the run, so never removed)."""

    def __init__(self) -> None:
        super().__init__()
        self.process: subprocess.Popen[str] | None = None
        self.interrupted = False

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        answer = super().answer(method, url, headers, body)
        if self.process is not None and not self.interrupted and b"<imageId>" in answer.body:
            self.interrupted = True
            self.process.send_signal(signal.SIGINT)
            time.sleep(0.3)  # the run is inside its read of this answer when Ctrl-C lands
        return answer


def test_ctrl_c_while_an_answer_is_read_still_removes_its_image(secrets: None) -> None:
    service = InterruptingMidAnswer()
    for running in served_off_loopback(service):
        process = interruptible_run(running.url)
        service.process = process
        out, err = process.communicate(timeout=60)
        left = dict(service.images)
    assert service.interrupted, "no answer created an image"
    assert process.returncode == 130, err
    assert left == {}, f"left behind: {sorted(left)}"
    assert "cleanup: removed 1 image" in out
