"""Every rule of the catalogue: a request that makes it fire, and its boundary value passing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from createimage_contract import Expectation, expect, rule, rules, validate

INSTANCE = "i-0123456789abcdef0"
KNOWN_INSTANCES = {INSTANCE, "i-01234567"}
USED_NAMES = {"taken-name"}


def params(**members: Any) -> dict[str, Any]:
    """Valid parameters with ``members`` changed; a member set to None is left out."""
    merged = {"InstanceId": INSTANCE, "Name": "nightly", **members}
    return {name: value for name, value in merged.items() if value is not None}


def form(**members: Any) -> str:
    """A valid form body with ``members`` (wire names) changed; None leaves a member out."""
    fields = {"Action": "CreateImage", "Version": "2016-11-15", "InstanceId": INSTANCE}
    fields |= {"Name": "nightly", **members}
    return urlencode({name: value for name, value in fields.items() if value is not None})


def ebs(**members: Any) -> dict[str, Any]:
    return params(BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": members}])


def tags(*pairs: tuple[str, str], resource_type: str | None = "image") -> dict[str, Any]:
    specification: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in pairs]}
    if resource_type is not None:
        specification["ResourceType"] = resource_type
    return params(TagSpecifications=[specification])


def http(method: str = "POST", **headers: str) -> dict[str, Any]:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    named.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    return {
        "url": "https://ec2.us-east-1.amazonaws.com/",
        "method": method,
        "headers": {k: v for k, v in named.items() if v},
        "body": form(),
    }


HEX64 = "0123456789abcdef" * 4

# (rule, request that breaks it and nothing else, requests at its boundary that pass)
CASES: list[tuple[str, list[Any], list[Any]]] = [
    ("http.method", [http("PUT"), http("post")], [http("GET"), http("POST")]),
    (
        "header.content-type.missing",
        [http(Content_Type="")],
        [http(**{"content-type": "application/x-www-form-urlencoded"})],
    ),
    (
        "header.content-type.media-type",
        [http(Content_Type="text/xml")],
        [http(Content_Type="application/x-www-form-urlencoded")],
    ),
    (
        "header.x-amz-content-sha256",
        [http(X_Amz_Content_Sha256=HEX64[:63])],
        [http(X_Amz_Content_Sha256=HEX64), http(X_Amz_Content_Sha256="UNSIGNED-PAYLOAD")],
    ),
    (
        "header.x-amz-credential",
        [http(X_Amz_Credential="AKID/20261127/us-east-1/s3/aws4_request")],
        [http(X_Amz_Credential="AKID/20261127/us-east-1/ec2/aws4_request")],
    ),
    (
        "header.x-amz-date",
        [http(X_Amz_Date="20261327T120000Z"), http(X_Amz_Date="20261127T120000Z\n")],
        [http(X_Amz_Date="20261231T235959Z"), http(X_Amz_Date="20260101T000000Z")],
    ),
    (
        "header.x-amz-algorithm",
        [http(X_Amz_Algorithm="AWS4-HMAC-SHA1")],
        [http(X_Amz_Algorithm="AWS4-HMAC-SHA256")],
    ),
    (
        "header.x-amz-signedheaders",
        [http(X_Amz_SignedHeaders="Host;X-Amz-Date")],
        [http(X_Amz_SignedHeaders="content-type;host;x-amz-date")],
    ),
    (
        "header.x-amz-security-token",
        [{**http(), "headers": {**http()["headers"], "X-Amz-Security-Token": ""}}],
        [http(X_Amz_Security_Token="t")],
    ),
    (
        "header.x-amz-signature",
        [http(X_Amz_Signature=HEX64.upper()), http(X_Amz_Signature=HEX64 + "0")],
        [http(X_Amz_Signature=HEX64)],
    ),
    ("action.missing", [form(Action=None)], [form()]),
    (
        "action.unknown",
        [form(Action="createimage"), form(Action="CopyImage")],
        [form(Action="CreateImage")],
    ),
    ("version.missing", [form(Version=None)], [form()]),
    ("version.unsupported", [form(Version="2016-11-16")], [form(Version="2016-11-15")]),
    (
        "parameter.unknown",
        [
            form(Reboot="true"),
            params(Foo=1),
            ebs(Size=1),
            form(**{"TagSpecifications.1.ResourceType": "image"}),
        ],
        [params(SnapshotLocation="regional"), form(**{"TagSpecification.1.ResourceType": "image"})],
    ),
    (
        "parameter.type",
        [
            params(Name=123),
            params(TagSpecifications="image"),
            form(TagSpecification="x"),
            params(Description=None) | {"Description": None},
        ],
        [params(Name="123")],
    ),
    ("instance-id.missing", [params(InstanceId=None), form(InstanceId=None)], [params()]),
    ("name.missing", [params(Name=None)], [params()]),
    (
        "instance-id.malformed",
        [
            params(InstanceId="i-1234567"),
            params(InstanceId="i-0123456789ABCDEF0"),
            params(InstanceId="i-012345678"),
            params(InstanceId="i-01234567\n"),
        ],
        [params(InstanceId="i-01234567"), params(InstanceId="i-0123456789abcdef0")],
    ),
    (
        "name.length",
        [params(Name="ab"), params(Name="a" * 129)],
        [params(Name="abc"), params(Name="a" * 128)],
    ),
    (
        "name.charset",
        [params(Name="nightly#1"), params(Name="nightly\n"), params(Name="n\u00e4me")],
        [params(Name="az AZ 09 ()[] ./-'@_")],
    ),
    (
        "description.length",
        [params(Description="d" * 256)],
        [params(Description="d" * 255), params(Description="")],
    ),
    (
        "boolean.invalid",
        [
            form(NoReboot="maybe"),
            form(DryRun="True"),
            params(NoReboot="true"),
            ebs(DeleteOnTermination=1),
            ebs(Encrypted="yes"),
        ],
        [
            form(NoReboot="false"),
            form(DryRun="false"),
            ebs(Encrypted=False, DeleteOnTermination=True),
        ],
    ),
    (
        "integer.invalid",
        [
            form(**{"BlockDeviceMapping.1.Ebs.VolumeSize": "x"}),
            ebs(Iops=1.5),
            ebs(Iops=1.0),
            ebs(Throughput=2**31),
            ebs(EbsCardIndex=True),
        ],
        [
            ebs(Iops=2**31 - 1, Throughput=-(2**31)),
            form(**{"BlockDeviceMapping.1.Ebs.Iops": "3000"}),
        ],
    ),
    (
        "snapshot-location.invalid",
        [params(SnapshotLocation="Regional")],
        [params(SnapshotLocation="local"), params(SnapshotLocation="regional")],
    ),
    (
        "boot-mode-override.invalid",
        [params(BootModeOverride="bios"), params(BootModeOverride="UEFI")],
        [params(BootModeOverride="uefi")],
    ),
    (
        "tag-specification.resource-type",
        [tags(("k", "v"), resource_type="instance"), tags(("k", "v"), resource_type=None)],
        [tags(("k", "v"), resource_type="snapshot"), tags(("k", "v"), resource_type="image")],
    ),
    (
        "tag.key",
        [
            tags(("", "v")),
            tags(("k" * 129, "v")),
            tags(("aws:name", "v")),
            tags(("AWS:name", "v")),
            params(TagSpecifications=[{"ResourceType": "image", "Tags": [{"Value": "v"}]}]),
        ],
        [tags(("k" * 128, "v")), tags(("k", "v")), tags(("awsx:", "v")), tags(("my-aws:key", "v"))],
    ),
    ("tag.value", [tags(("k", "v" * 257))], [tags(("k", "v" * 256)), tags(("k", ""))]),
    (
        "tag.limit",
        [tags(*[(f"k{i}", "v") for i in range(51)])],
        [tags(*[(f"k{i}", "v") for i in range(50)])],
    ),
    (
        "ebs.volume-type",
        [ebs(VolumeType="gp4"), ebs(VolumeType="GP2")],
        [ebs(VolumeType=t) for t in ("standard", "io1", "io2", "gp2", "sc1", "st1", "gp3")],
    ),
    (
        "ebs.unsupported-member",
        [ebs(OutpostArn="arn:aws:outposts:x"), ebs(AvailabilityZone="us-east-1a")],
        [ebs(KmsKeyId="alias/x", SnapshotId="snap-0123456789abcdef0")],
    ),
    (
        "ebs.volume-size-range",
        [
            ebs(VolumeType="gp2", VolumeSize=16385),
            ebs(VolumeType="st1", VolumeSize=124),
            ebs(VolumeType="standard", VolumeSize=0),
        ],
        [
            ebs(VolumeType="gp2", VolumeSize=16384),
            ebs(VolumeType="st1", VolumeSize=125),
            ebs(VolumeType="io2", VolumeSize=65536),
            ebs(VolumeSize=0),
        ],
    ),
    (
        "instance-id.not-found",
        [params(InstanceId="i-0123456789abcdef1")],
        [params(InstanceId=INSTANCE)],
    ),
    ("name.duplicate", [params(Name="taken-name")], [params(Name="taken-names")]),
    ("dry-run", [params(DryRun=True), form(DryRun="true")], [params(DryRun=False)]),
]


def _cases(which: int) -> list[Any]:
    return [
        pytest.param(rule_id, request, id=f"{rule_id}-{n}")
        for rule_id, *requests in CASES
        for n, request in enumerate(requests[which - 1])
    ]


def test_every_rule_of_the_catalogue_has_cases() -> None:
    # The auth rules are about signatures, which only a service holding the keys can check:
    # tests/test_auth.py makes each fire, and shows its boundary passing, at the reference.
    checkable = [rule_id for rule_id, rule in rules().items() if rule.kind != "auth"]
    assert [rule_id for rule_id, *_ in CASES] == checkable


@pytest.mark.parametrize(("rule_id", "request_"), _cases(1))
def test_rule_fires(rule_id: str, request_: Any) -> None:
    broken = rule(rule_id)
    violations = validate(request_, known_instances=KNOWN_INSTANCES, used_names=USED_NAMES)
    if broken.kind == "outcome":
        assert violations == []
    else:
        assert [v.rule for v in violations] == [rule_id], violations
        (violation,) = violations
        assert (violation.code, violation.status, violation.severity) == (
            broken.code,
            broken.status,
            broken.severity,
        )
    if broken.kind != "http":
        assert expect(
            request_, known_instances=KNOWN_INSTANCES, used_names=USED_NAMES
        ) == Expectation(broken.status, broken.code, rule_id)


@pytest.mark.parametrize(("rule_id", "request_"), _cases(2))
def test_boundary_value_passes(rule_id: str, request_: Any) -> None:
    assert validate(request_, known_instances=KNOWN_INSTANCES, used_names=USED_NAMES) == []
    assert expect(request_, known_instances=KNOWN_INSTANCES, used_names=USED_NAMES) == Expectation(
        200, None, None
    )
