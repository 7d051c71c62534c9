"""moto in server mode, for real: the runner reports where it deviates from the contract."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from createimage_contract.conformance import (
    FIXED_CREDENTIALS,
    Options,
    RunResult,
    TargetError,
    run,
)
from createimage_contract.conformance._targets import launch_instance, moto_server


@pytest.fixture(scope="module")
def moto_outcome() -> RunResult:
    rules = ("valid", "dry-run", "name.length", "tag-specification.resource-type", "name.duplicate")
    return run(target="moto", options=Options(max_examples=8, seed=4, rules=rules))


def test_a_moto_instance_was_launched_and_images_are_described(moto_outcome: RunResult) -> None:
    assert moto_outcome.target.kind == "moto"
    assert moto_outcome.target.instance_id.startswith("i-")
    assert ("describe-images", "valid") in moto_outcome.exercised
    assert not any("skipped" in note for note in moto_outcome.notes)
    valid = moto_outcome.rules["valid"]
    assert valid.sent > 0


@pytest.mark.parametrize(
    ("check", "rule", "severity"),
    [
        ("success-namespace", "valid", "warning"),  # no trailing slash on the namespace
        ("request-id-uuid", "valid", "warning"),  # the literal request id "request-id"
        ("status", "name.length", "error"),  # moto creates an image with a bad name
        ("status", "name.duplicate", "error"),  # and with a name it already holds
    ],
)
def test_moto_deviations_are_reported(
    moto_outcome: RunResult, check: str, rule: str, severity: str
) -> None:
    finding = moto_outcome.findings[(check, rule)]
    assert finding.severity == severity
    assert finding.response.status is not None and finding.sent.body.startswith(
        "Action=CreateImage"
    )


def test_moto_answers_some_bad_requests_with_an_html_500(moto_outcome: RunResult) -> None:
    broken = [f for f in moto_outcome.findings.values() if f.check == "content-type"]
    assert broken, "moto 5 answers a tag specification without tags with a 500 HTML page"
    assert all(f.response.status == 500 and "text/html" in f.response.content_type for f in broken)


# --- what moto answers, as the README's "What run --target moto finds" says --------------------

README = Path(__file__).resolve().parent.parent / "README.md"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
FIFTY_ONE_TAGS = "&".join(f"TagSpecification.1.Tag.{n}.Key=k{n}" for n in range(1, 52))


@pytest.fixture(scope="module")
def moto_instance() -> Iterator[tuple[str, str]]:
    """moto's server and an instance launched in it."""
    with moto_server() as url:
        yield url, launch_instance(url, "us-east-1")


def moto_answer(moto_instance: tuple[str, str], body: str) -> tuple[int, str, bytes]:
    """moto's answer to ``body`` (``{valid}``: Version, the instance and a new Name), signed for
    ec2: moto takes an unsigned request for S3."""
    url, instance_id = moto_instance
    name = f"moto-{time.monotonic_ns()}"
    body = body.format(valid=f"Version=2016-11-15&InstanceId={instance_id}&Name={name}")
    request = AWSRequest("POST", url, data=body, headers={"Content-Type": FORM})
    SigV4Auth(Credentials(*FIXED_CREDENTIALS), "ec2", "us-east-1").add_auth(request)
    answer = urllib3.request("POST", url, body=body, headers=dict(request.headers), timeout=10)
    return answer.status, answer.headers.get("Content-Type", "").split(";")[0], answer.data


def test_moto_creates_an_image_for_a_valid_request(moto_instance: tuple[str, str]) -> None:
    status, content_type, body = moto_answer(moto_instance, "Action=CreateImage&{valid}")
    assert (status, content_type) == (200, "text/xml"), body[:200]


def test_moto_answers_a_missing_action_with_an_empty_404(moto_instance: tuple[str, str]) -> None:
    status, _, body = moto_answer(moto_instance, "{valid}")
    assert (status, body) == (404, b"")
    # The README's table (made by the matrix) says so too, for its own missing-Action request.
    readme = README.read_text(encoding="utf-8")
    assert "| status | 400 MissingAction | 404 (empty body) |" in readme


@pytest.mark.parametrize(
    "body",
    [
        "Action=Foo&{valid}",
        "Action=createimage&{valid}",
        "Action=CreateImage&Version=2016-11-15&Name=no-instance-id",
        "Action=CreateImage&{valid}&TagSpecification.1.ResourceType=image",  # no tags
        "Action=CreateImage&{valid}&BlockDeviceMapping.1.DeviceName=/dev/sda1"
        "&BlockDeviceMapping.1.Ebs.Iops=",
        "Action=CreateImage&{valid}&TagSpecification.1.Tag.1.Key=k",  # no ResourceType
        "Action=CreateImage&{valid}&TagSpecification.1.ResourceType=image"
        "&TagSpecification.1.Tag.1.Key=",
        "Action=CreateImage&{valid}&TagSpecification.1.ResourceType=image&" + FIFTY_ONE_TAGS,
    ],
    ids=[
        "unknown-action",
        "action-in-lower-case",
        "no-instance-id",
        "tag-specification-without-tags",
        "empty-iops",
        "tag-specification-without-resource-type",
        "empty-tag-key",
        "51-tags",
    ],
)
def test_moto_answers_these_with_an_html_500(moto_instance: tuple[str, str], body: str) -> None:
    status, content_type, text = moto_answer(moto_instance, body)
    assert (status, content_type) == (500, "text/html"), text[:200]


def test_without_moto_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    """createimage-contract is on no package index: the hint names moto itself, not our extra."""
    monkeypatch.setitem(sys.modules, "moto.server", None)  # import moto.server fails
    with pytest.raises(TargetError) as refused, moto_server():
        pass
    assert str(refused.value) == "moto is not installed: pip install 'moto[server]'"
