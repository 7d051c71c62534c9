"""Each variant of the reference deviates exactly where it says, and nowhere else.

A variant that deviated in a second way (or not at all) would make the selftest's verdict about
it meaningless: a faulty one could be caught for the wrong reason, a conformant one could hide
a real fault. So every variant is tested on its own, as a service: the request where it
deviates gets the deviating answer, and an ordinary request gets the reference's answer.
Asked in process, the services check no signature (``credentials=None``): these tests are
about what a variant reads and answers; the variants that let forged requests in are tested
with signed requests, at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from botocore.credentials import Credentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from createimage_contract.conformance import _xml
from createimage_contract.conformance._child import Child, ChildError, Serving, serving
from createimage_contract.conformance._engine import category_names
from createimage_contract.conformance._probes import Forgery, Signing, forgeries, probed_rules
from createimage_contract.conformance._reference import Answer, ReferenceService
from createimage_contract.conformance._signing import FIXED_CREDENTIALS, Scope, sign
from createimage_contract.conformance._transport import Transport, credentials_for
from createimage_contract.conformance._variants import (
    NAMES,
    THROTTLE_EVERY,
    VARIANTS,
    Variant,
    VariantService,
    catches_label,
    unchanged,
    variant,
)
from createimage_contract.schema import parse_form, rules
from createimage_contract.strategies import (
    Example,
    dry_run_requests,
    simplest_request,
    valid_requests,
)

INSTANCE = "i-0abc1234"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
README = Path(__file__).resolve().parent.parent / "README.md"

Pairs = list[tuple[str, str]]


def request(*pairs: tuple[str, str], drop: tuple[str, ...] = ()) -> Pairs:
    """A valid CreateImage request, with ``pairs`` set (a member given again is replaced)."""
    base = {"Action": "CreateImage", "Version": "2016-11-15", "InstanceId": INSTANCE, "Name": "ami"}
    given_names = {name for name, _ in pairs}
    kept = [(k, v) for k, v in base.items() if k not in given_names and k not in drop]
    return kept + list(pairs)


def tags(
    count: int, overrides: dict[str, str] | None = None, spec: int = 1, resource_type: str = "image"
) -> Pairs:
    """A tag specification with ``count`` tags; ``overrides`` by wire name after the spec's."""
    pairs = [(f"TagSpecification.{spec}.ResourceType", resource_type)]
    for index in range(1, count + 1):
        pairs.append((f"TagSpecification.{spec}.Tag.{index}.Key", f"key{index}"))
        pairs.append((f"TagSpecification.{spec}.Tag.{index}.Value", "value"))
    replaced = {f"TagSpecification.{spec}.{k}": v for k, v in (overrides or {}).items()}
    pairs = [(k, replaced.pop(k, v)) for k, v in pairs]
    return pairs + list(replaced.items())


def mapping(index: int = 1, **ebs: str) -> Pairs:
    prefix = f"BlockDeviceMapping.{index}"
    members = {"VolumeType": "gp3", "VolumeSize": "8", **ebs}
    return [(f"{prefix}.DeviceName", "/dev/sdb")] + [
        (f"{prefix}.Ebs.{name}", value) for name, value in members.items()
    ]


def ask(service: ReferenceService, pairs: Pairs) -> Answer:
    return service.answer("POST", "/", dict(FORM), urlencode(pairs).encode())


def both(name: str, pairs: Pairs) -> tuple[Answer, Answer]:
    """The answers of the variant ``name`` and of the reference, each a fresh service."""
    return ask(VariantService(variant(name), [INSTANCE], credentials=None), pairs), ask(
        ReferenceService([INSTANCE], credentials=None), pairs
    )


def code_of(answer: Answer) -> str | None:
    return _xml.path_text(_xml.parse(answer.body), "Errors", "Error", "Code")


def outcome(answer: Answer) -> tuple[int, str | None]:
    return answer.status, code_of(answer) if answer.status >= 400 else None


_IDS = re.compile(rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_IMAGES = re.compile(rb"ami-[0-9a-f]+")


def normalized(answer: Answer) -> tuple[int, str, bytes]:
    """The answer with its request id and image id (new in every answer) blanked out."""
    body = _IMAGES.sub(b"ami-X", _IDS.sub(b"REQUEST-ID", answer.body))
    return answer.status, answer.content_type, body


def leaves(answer: Answer) -> list[tuple[str, str]]:
    """The answer's XML as a reader sees it: each text element's path of local names, and its
    text, without the ids that are new in every answer."""
    root = _xml.parse(answer.body)
    found = []
    for element in root.iter():
        if isinstance(element.tag, str) and not len(element):
            path = "/".join(_xml.local_name(e) for e in [*element.iterancestors()][::-1])
            text = element.text or ""
            if _xml.local_name(element) in ("requestId", "RequestID", "imageId"):
                text = "ID"
            found.append((f"{path}/{_xml.local_name(element)}", text))
    return found


# --- the data ------------------------------------------------------------------------------------


def test_there_are_enough_variants_of_each_kind_and_names_are_unique() -> None:
    kinds = [v.kind for v in VARIANTS]
    assert kinds.count("faulty") >= 40 and kinds.count("conformant") >= 6
    assert len(set(NAMES)) == len(NAMES)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) for name in NAMES)


@pytest.mark.parametrize("chosen", VARIANTS, ids=NAMES)
def test_each_faulty_variant_names_rules_a_run_has_and_no_conformant_one_does(
    chosen: Variant,
) -> None:
    categories = set(category_names())
    if chosen.kind == "faulty":
        assert chosen.catches and set(chosen.catches) <= categories | set(rules())
    else:
        assert chosen.catches == ()
    assert chosen.deviation and "\n" not in chosen.deviation


def test_an_unknown_variant_is_a_key_error_naming_the_variants() -> None:
    with pytest.raises(KeyError, match="no variant 'nope'; the variants are instance-id"):
        variant("nope")


# --- loose validation: the near miss passes, a valid request is left alone -----------------------

EBS = "BlockDeviceMapping.1.Ebs"
ACCEPTED: list[tuple[str, Pairs]] = [
    ("instance-id-uppercase-hex", request(("InstanceId", "i-0ABC1234"))),
    ("instance-id-trailing-newline", request(("InstanceId", INSTANCE + "\n"))),
    ("instance-id-unicode-digits", request(("InstanceId", "i-0abc123\u0664"))),
    ("instance-id-unicode-digits", request(("InstanceId", "i-\uff10abc1234"))),
    ("instance-id-stripped", request(("InstanceId", f" {INSTANCE} "))),
    ("name-trailing-newline", request(("Name", "nightly\n"))),
    ("name-unicode-letters", request(("Name", "caf\u00e9 \u0663"))),
    ("name-length-129", request(("Name", "n" * 129))),
    ("name-length-2", request(("Name", "ab"))),
    ("description-length-256", request(("Description", "d" * 256))),
    ("tag-key-129", request(*tags(1, {"Tag.1.Key": "k" * 129}))),
    ("tag-key-aws-prefix-case", request(*tags(1, {"Tag.1.Key": "AWS:x"}))),
    ("tag-key-aws-prefix-case", request(*tags(1, {"Tag.1.Key": "Aws:x"}))),
    ("tag-value-257", request(*tags(1, {"Tag.1.Value": "v" * 257}))),
    ("tag-limit-51", request(*tags(51))),
    ("tag-specification-first-only", request(*tags(1), *tags(1, spec=2, resource_type="volume"))),
    ("tag-specification-first-only", request(*tags(1), *tags(51, spec=2))),
    ("tag-first-only", request(*tags(50, {"Tag.50.Key": "aws:reserved"}))),
    ("tag-first-only", request(*tags(2, {"Tag.2.Value": "v" * 257}))),
    ("block-device-mapping-first-only", request(*mapping(1), *mapping(2, VolumeType="gp9"))),
    ("block-device-mapping-first-only", request(*mapping(1), *mapping(2, Encrypted="yes"))),
    ("resource-type-any-ec2-type", request(*tags(1, resource_type="volume"))),
    ("resource-type-any-ec2-type", request(*tags(1, resource_type="instance"))),
    ("resource-type-case-insensitive", request(*tags(1, resource_type="Image"))),
    ("volume-type-case-insensitive", request(*mapping(VolumeType="GP3"))),
    ("boot-mode-any-ec2-value", request(("BootModeOverride", "legacy-bios"))),
    ("boot-mode-any-ec2-value", request(("BootModeOverride", "uefi-preferred"))),
    *[("booleans-lenient", request(("NoReboot", word))) for word in ("True", "TRUE", "1", "yes")],
    ("booleans-lenient", request(*mapping(DeleteOnTermination="FALSE"))),
    ("boolean-empty-is-false", request(("NoReboot", ""))),
    *[
        ("integers-through-float", request(*mapping(VolumeSize=size)))
        for size in ("+5", "1.0", "1e3")
    ],
    ("integers-through-float", request(*mapping(VolumeSize="\u0663"))),
    ("integers-through-float", request(*mapping(VolumeSize="\uff11\uff10"))),
    ("integers-unbounded", request(*mapping(Iops=str(2**31)))),
    ("ebs-unknown-members-ignored", request(*mapping(Size="8"))),
    ("nested-unknown-members-ignored", request(*tags(1, {"Tag.1.Colour": "red"}))),
    ("nested-unknown-members-ignored", request(*tags(1, {"Colour": "red"}))),
    (
        "nested-unknown-members-ignored",
        request(*mapping(), ("BlockDeviceMapping.1.Colour", "red")),
    ),
    ("member-names-case-insensitive", request(("name", "ami"), drop=("Name",))),
    ("member-names-case-insensitive", request(("instanceId", INSTANCE), drop=("InstanceId",))),
    ("version-not-checked", request(("Version", "2014-10-01"))),
    ("version-not-checked", request(drop=("Version",))),
    ("action-case-insensitive", request(("Action", "createimage"))),
]


@pytest.mark.parametrize(("name", "pairs"), ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_a_loose_variant_accepts_the_near_miss_the_reference_refuses(
    name: str, pairs: Pairs
) -> None:
    deviant, reference = both(name, pairs)
    assert reference.status == 400
    assert outcome(deviant) == (200, None), deviant.body


def test_an_instance_id_of_another_length_is_looked_up() -> None:
    deviant, reference = both("instance-id-any-length", request(("InstanceId", "i-0abc12345678")))
    assert outcome(reference) == (400, "InvalidInstanceID.Malformed")
    assert outcome(deviant) == (400, "InvalidInstanceID.NotFound")


@pytest.mark.parametrize(
    ("name", "pairs"),
    [
        ("description-utf8-bytes", request(("Description", "\u00e9" * 255))),
        ("tag-limit-50-refused", request(*tags(50))),
    ],
    ids=["description-utf8-bytes", "tag-limit-50-refused"],
)
def test_a_strict_variant_refuses_a_valid_request(name: str, pairs: Pairs) -> None:
    deviant, reference = both(name, pairs)
    assert reference.status == 200
    assert deviant.status == 400


STILL_REFUSED: list[tuple[str, Pairs]] = [
    ("instance-id-uppercase-hex", request(("InstanceId", "i-0ABC123"))),
    ("instance-id-trailing-newline", request(("InstanceId", INSTANCE + "\n\n"))),
    ("name-trailing-newline", request(("Name", "nightly#\n"))),
    ("name-length-129", request(("Name", "n" * 130))),
    ("name-length-2", request(("Name", "a"))),
    ("tag-key-aws-prefix-case", request(*tags(1, {"Tag.1.Key": "aws:x"}))),
    ("tag-limit-51", request(*tags(52))),
    ("tag-specification-first-only", request(*tags(1, resource_type="volume"), *tags(1, spec=2))),
    ("tag-first-only", request(*tags(2, {"Tag.1.Key": "aws:x"}))),
    ("block-device-mapping-first-only", request(*mapping(1, VolumeType="gp9"), *mapping(2))),
    ("booleans-lenient", request(("NoReboot", "maybe"))),
    ("integers-unbounded", request(*mapping(Iops="12abc"))),
    ("member-names-case-insensitive", request(("Colour", "red"))),
    ("action-case-insensitive", request(("Action", "CreateImages"))),
]


@pytest.mark.parametrize(("name", "pairs"), STILL_REFUSED, ids=[c[0] for c in STILL_REFUSED])
def test_a_loose_variant_is_loose_in_its_one_way_only(name: str, pairs: Pairs) -> None:
    deviant, reference = both(name, pairs)
    assert reference.status == 400
    assert outcome(deviant) == outcome(reference)


STRICT = ("description-utf8-bytes", "tag-limit-50-refused")
"""The two variants whose request rewrite refuses valid requests (tested above)."""
LOOSE = [v for v in VARIANTS if v.request is not unchanged and v.name not in STRICT]


@settings(max_examples=300, suppress_health_check=list(HealthCheck), deadline=None)
@given(
    st.sampled_from(LOOSE),
    st.one_of(valid_requests(instance_id=INSTANCE), dry_run_requests(instance_id=INSTANCE)),
)
def test_a_loosening_rewrite_leaves_every_valid_request_as_it_is(
    chosen: Variant, example: Example
) -> None:
    pairs = parse_form(example.form)
    assert chosen.request(pairs) == pairs


# --- answers -------------------------------------------------------------------------------------

VALID = request()
REFUSED = request(("Name", "a&<b#"))


@dataclass(frozen=True)
class Differs:
    """Where a variant differs from the reference, and how its answer shows it."""

    name: str
    where: Pairs
    shows: Callable[[Answer], bool]
    control: Pairs | None
    """A request it answers as the reference does; ``None``: it differs in every answer."""


def _root(answer: Answer) -> tuple[str, str | None]:
    root = _xml.parse(answer.body)
    return _xml.local_name(root), _xml.namespace(root)


def has_code(code: str) -> Callable[[Answer], bool]:
    return lambda answer: code_of(answer) == code


def _not_xml(answer: Answer) -> bool:
    try:
        _xml.parse(answer.body)
    except _xml.XmlProblem:
        return True
    return False


ANSWERS = [
    Differs(
        "success-root-create-image-result",
        VALID,
        lambda a: _root(a) == ("CreateImageResult", NS),
        REFUSED,
    ),
    Differs("error-in-namespace", REFUSED, lambda a: _root(a) == ("Response", NS), VALID),
    Differs("error-without-request-id", REFUSED, lambda a: b"RequestID" not in a.body, VALID),
    Differs("error-echoes-input-unescaped", REFUSED, _not_xml, VALID),
    Differs("content-type-text-plain", VALID, lambda a: a.content_type == "text/plain", None),
    Differs(
        "image-id-16-hex",
        VALID,
        lambda a: re.search(rb"<imageId>ami-[0-9a-f]{16}</imageId>", a.body) is not None,
        REFUSED,
    ),
    Differs("success-without-request-id", VALID, lambda a: b"requestId" not in a.body, REFUSED),
    *[
        Differs(name, where, has_code(code), VALID)
        for name, where, code in (
            ("malformed-instance-id-code", request(("InstanceId", "i-0")), "InvalidParameterValue"),
            ("tag-limit-code", request(*tags(51)), "InvalidParameterValue"),
            ("unknown-parameter-code", request(("Colour", "red")), "InvalidParameterValue"),
            ("missing-action-code", request(drop=("Action",)), "MissingParameter"),
        )
    ],
    Differs(
        "namespace-prefix", VALID, lambda a: b"<ec2:CreateImageResponse xmlns:ec2=" in a.body, None
    ),
    Differs("pretty-printed", REFUSED, lambda a: b">\n  <Errors>" in a.body, None),
    Differs("extra-elements", VALID, lambda a: b"newMember" in a.body, None),
    Differs("cdata-text", VALID, lambda a: b"<![CDATA[" in a.body, None),
    Differs(
        "other-id-forms",
        REFUSED,
        lambda a: re.search(rb"<RequestID>[0-9A-F-]{36}</RequestID>", a.body) is not None,
        None,
    ),
    Differs(
        "other-id-forms",
        VALID,
        lambda a: (
            re.search(rb"<requestId>[0-9A-F-]{36}</requestId><imageId>ami-[0-9a-f]{8}<", a.body)
            is not None
        ),
        None,
    ),
    Differs(
        "code-invalid-parameter-or-validation-error",
        request(("Description", "d" * 256)),
        lambda a: code_of(a) in ("InvalidParameter", "ValidationError"),
        request(("Name", "a")),
    ),
    Differs(
        "code-invalid-parameter-or-validation-error",
        request(("SnapshotLocation", "moon")),
        lambda a: code_of(a) in ("InvalidParameter", "ValidationError"),
        request(*tags(51)),
    ),
    Differs(
        "code-missing-action",
        request(drop=("InstanceId",)),
        lambda a: code_of(a) == "MissingAction",
        request(drop=("Action",)),
    ),
    Differs(
        "code-invalid-block-device-mapping",
        request(*mapping(VolumeType="gp9")),
        lambda a: code_of(a) == "InvalidBlockDeviceMapping",
        request(("Description", "d" * 256)),
    ),
]


def test_dry_run_before_validation_answers_dry_run_operation() -> None:
    deviant, reference = both(
        "dry-run-before-validation", request(("Name", "a#"), ("DryRun", "true"))
    )
    assert outcome(reference) == (400, "InvalidAMIName.Malformed")
    assert outcome(deviant) == (412, "DryRunOperation")


@pytest.mark.parametrize("case", ANSWERS, ids=[c.name for c in ANSWERS])
def test_an_answer_variant_differs_where_it_says(case: Differs) -> None:
    deviant, reference = both(case.name, case.where)
    assert not case.shows(reference)
    assert case.shows(deviant), deviant.body
    if case.control is not None:
        deviant, reference = both(case.name, case.control)
        assert normalized(deviant) == normalized(reference)


@pytest.mark.parametrize("name", ["namespace-prefix", "pretty-printed", "cdata-text"])
@pytest.mark.parametrize("pairs", [VALID, REFUSED], ids=["valid", "refused"])
def test_a_conformant_rewrite_of_the_xml_reads_as_the_reference(name: str, pairs: Pairs) -> None:
    deviant, reference = both(name, pairs)
    assert deviant.body != reference.body or name == "namespace-prefix"
    assert leaves(deviant) == leaves(reference)
    assert _root(deviant) == _root(reference)


def test_extra_elements_are_extra_and_the_rest_is_the_reference() -> None:
    for pairs in (VALID, REFUSED):
        deviant, reference = both("extra-elements", pairs)
        added = [leaf for leaf in leaves(deviant) if leaf[0].endswith("newMember")]
        assert added and [leaf for leaf in leaves(deviant) if leaf not in added] == leaves(
            reference
        )


def test_the_other_documented_codes_take_turns() -> None:
    service = VariantService(
        variant("code-invalid-parameter-or-validation-error"), [INSTANCE], credentials=None
    )
    seen = {code_of(ask(service, request(("Description", "d" * 256)))) for _ in range(4)}
    assert seen == {"InvalidParameter", "ValidationError"}
    assert {code_of(ask(service, request(("Name", "a")))) for _ in range(2)} == {
        "InvalidAMIName.Malformed"  # an exact code stays exact
    }


def test_content_types_keep_the_xml_media_type_with_parameters() -> None:
    service = VariantService(variant("content-type-parameters"), [INSTANCE], credentials=None)
    seen = {ask(service, VALID).content_type for _ in range(8)}
    assert len(seen) > 2
    assert all(t.split(";")[0].strip() in ("text/xml", "application/xml") for t in seen)


def test_throttling_comes_before_the_reference_and_the_retry_passes() -> None:
    service = VariantService(variant("throttles-now-and-then"), [INSTANCE], credentials=None)
    for count in range(1, THROTTLE_EVERY):
        assert ask(service, request(("Name", f"image-{count}"))).status == 200
    throttled = ask(service, request(("Name", "throttled")))
    assert outcome(throttled) == (503, "RequestLimitExceeded")
    assert "throttled" not in {image.name for image in service.images.values()}
    assert ask(service, request(("Name", "throttled"))).status == 200


# --- state ---------------------------------------------------------------------------------------


def describe(service: ReferenceService, *pairs: tuple[str, str]) -> list[dict[str, str]]:
    answer = ask(service, [("Action", "DescribeImages"), ("Version", "2016-11-15"), *pairs])
    root = _xml.parse(answer.body)
    return [
        {_xml.local_name(e): e.text or "" for e in item if not len(e)}
        | {"tags": str(len(_xml.children(_xml.child(item, "tagSet"), "item")))}
        for item in _xml.children(_xml.child(root, "imagesSet"), "item")
    ]


def by_name(name: str) -> tuple[tuple[str, str], ...]:
    return (("Filter.1.Name", "name"), ("Filter.1.Value.1", name))


def test_dry_run_creates_the_image_all_the_same() -> None:
    service = VariantService(variant("dry-run-creates-image"), [INSTANCE], credentials=None)
    answer = ask(service, request(("Name", "dry"), ("DryRun", "true")))
    assert outcome(answer) == (412, "DryRunOperation")
    assert [image["name"] for image in describe(service, *by_name("dry"))] == ["dry"]


def test_a_taken_name_is_taken_again() -> None:
    service = VariantService(variant("duplicate-names-allowed"), [INSTANCE], credentials=None)
    assert ask(service, request(("Name", "twice"))).status == 200
    assert ask(service, request(("Name", "twice"))).status == 200
    assert len(describe(service, *by_name("twice"))) == 2
    assert outcome(ask(service, request(("Name", "a")))) == (400, "InvalidAMIName.Malformed")


def test_an_unknown_instance_is_imaged() -> None:
    service = VariantService(variant("unknown-instances-accepted"), [INSTANCE], credentials=None)
    assert ask(service, request(("InstanceId", "i-0abc9999"), ("Name", "other"))).status == 200
    assert [image["name"] for image in describe(service, *by_name("other"))] == ["other"]
    assert outcome(ask(service, request(("InstanceId", "i-0")))) == (
        400,
        "InvalidInstanceID.Malformed",
    )


@pytest.mark.parametrize(
    ("name", "differs"),
    [
        ("describe-drops-tags", lambda image: image["tags"] == "0"),
        ("describe-drops-description", lambda image: "description" not in image),
        ("describe-renames", lambda image: image["name"] == "renamed"),
    ],
)
def test_describe_images_loses_one_thing(
    name: str, differs: Callable[[dict[str, str]], bool]
) -> None:
    pairs = request(("Name", "described"), ("Description", "about"), *tags(2))
    deviant, reference = (
        VariantService(variant(name), [INSTANCE], credentials=None),
        ReferenceService([INSTANCE], credentials=None),
    )
    assert ask(deviant, pairs).status == ask(reference, pairs).status == 200
    (seen,) = describe(deviant, *by_name("described"))
    (expected,) = describe(reference, *by_name("described"))
    assert differs(seen) and not differs(expected)
    assert {k: v for k, v in seen.items() if k != "imageId"} != {
        k: v for k, v in expected.items() if k != "imageId"
    }


def test_describe_images_ignores_its_filter() -> None:
    service = VariantService(variant("describe-ignores-filter"), [INSTANCE], credentials=None)
    for name in ("first", "second"):
        assert ask(service, request(("Name", name))).status == 200
    assert len(describe(service, *by_name("first"))) == 2
    assert len(describe(service, *by_name("no-such-image"))) == 2


@pytest.mark.parametrize(("name", "digits"), [("image-id-16-hex", 16), ("other-id-forms", 8)])
def test_image_ids_of_another_length_are_the_ids_the_images_are_held_under(
    name: str, digits: int
) -> None:
    service = VariantService(variant(name), [INSTANCE], credentials=None)
    answer = ask(service, request(("Name", "held")))
    image_id = _xml.path_text(_xml.parse(answer.body), "imageId") or ""
    assert re.fullmatch(f"ami-[0-9a-f]{{{digits}}}", image_id)
    (image,) = describe(service, ("ImageId.1", image_id))
    assert image["name"] == "held"


# --- the child process ---------------------------------------------------------------------------


def post(url: str, pairs: Pairs) -> bytes:
    """The body of the answer to the request, signed as a run signs it."""
    with closing(Transport(url, "us-east-1", credentials_for(url))) as transport:
        _, answer = transport.send(urlencode(pairs))
    return answer.body


def test_the_child_serves_a_named_variant_and_still_the_reference() -> None:
    with serving(Serving("cdata-text", instance_id=INSTANCE)) as (url, held):
        assert held == INSTANCE
        assert b"<![CDATA[" in post(url, request())
    with serving(Serving(instance_id=INSTANCE)) as (url, held):
        assert held == INSTANCE
        assert post(url, request()).startswith(_xml.DECLARATION)


def test_one_child_serves_variants_one_after_the_other_each_anew() -> None:
    child = Child(Serving(instance_id=INSTANCE))
    try:
        url, held = child.serve("duplicate-names-allowed")
        assert held == INSTANCE
        for _ in range(2):
            assert b"<imageId>" in post(url, request(("Name", "twice")))
        url, held = child.serve("tag-limit-code")
        assert held == INSTANCE
        assert b"<Code>InvalidParameterValue</Code>" in post(url, request(*tags(51)))
        described = post(url, [("Action", "DescribeImages"), ("Version", "2016-11-15")])
        assert b"<imagesSet/>" in described  # a new service: the first one's images are gone
        with pytest.raises(ChildError, match=r"^no variant 'nope'; the variants are [^\n]*$"):
            child.serve("nope")
    finally:
        child.close()


def test_the_child_refuses_an_unknown_variant_in_one_line() -> None:
    with pytest.raises(ChildError) as error, serving(Serving("no-such-variant")):
        pass
    assert str(error.value).startswith("no variant 'no-such-variant'; the variants are")
    assert "\n" not in str(error.value)


# --- the doors: variants that let forged requests in ----------------------------------------------

DOOR = "http://127.0.0.1:8000/"
SIGNING = Signing(DOOR, "us-east-1", Credentials(*FIXED_CREDENTIALS))
DOORS = {v.name: v for v in VARIANTS if v.skips}


def knock(service: ReferenceService, forgery: Forgery | None) -> Answer:
    """A DryRun request to ``service``, signed as a run signs it, or forged."""
    body = simplest_request(instance_id=INSTANCE, dry_run=True).form.encode()
    if forgery is None:
        headers, sent = sign(DOOR, body, SIGNING.credentials, Scope("us-east-1")), body
    else:
        headers, sent = forgery.forge(SIGNING, body)
    return service.answer("POST", DOOR, headers | {"Host": "127.0.0.1:8000"}, sent)


def test_there_is_a_door_variant_for_every_rule_probed() -> None:
    assert sorted(r for v in DOORS.values() for r in v.skips) == sorted(probed_rules())


@pytest.mark.parametrize("name", DOORS)
def test_a_door_variant_lets_its_forgeries_in_and_no_other(name: str) -> None:
    deviant = VariantService(variant(name), [INSTANCE])
    reference = ReferenceService([INSTANCE])
    (skipped,) = deviant.variant.skips
    for forgery in forgeries():
        let_in, refused = knock(deviant, forgery), knock(reference, forgery)
        assert 400 <= refused.status < 500 and code_of(refused) != "DryRunOperation"
        if forgery.rule == skipped:
            assert outcome(let_in) == (412, "DryRunOperation"), forgery.kind
        else:
            assert outcome(let_in) == outcome(refused), forgery.kind
    signed = outcome(knock(deviant, None)), outcome(knock(reference, None))
    assert signed == ((412, "DryRunOperation"),) * 2


# --- the README ----------------------------------------------------------------------------------


def variants_table() -> list[str]:
    rows = [
        "| variant | kind | how it differs from the reference | caught by |",
        "|---|---|---|---|",
    ]
    for chosen in VARIANTS:
        deviation = chosen.deviation.replace("|", "\\|")
        rows.append(f"| `{chosen.name}` | {chosen.kind} | {deviation} | {catches_label(chosen)} |")
    return rows


def test_readme_variants_table_is_the_variants() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- variants-table")
    end = text.index("<!-- end variants-table -->")
    printed = text[start:end].splitlines()[1:]
    assert printed == variants_table(), "regenerate the table: python tests/test_variants.py"


if __name__ == "__main__":
    print("\n".join(variants_table()))


# --- every variant is tested, and answers an ordinary request as the reference does -------------

DEDICATED = {
    **dict.fromkeys(DOORS, test_a_door_variant_lets_its_forgeries_in_and_no_other),
    "instance-id-any-length": test_an_instance_id_of_another_length_is_looked_up,
    "dry-run-before-validation": test_dry_run_before_validation_answers_dry_run_operation,
    "content-type-parameters": test_content_types_keep_the_xml_media_type_with_parameters,
    "throttles-now-and-then": test_throttling_comes_before_the_reference_and_the_retry_passes,
    "dry-run-creates-image": test_dry_run_creates_the_image_all_the_same,
    "duplicate-names-allowed": test_a_taken_name_is_taken_again,
    "unknown-instances-accepted": test_an_unknown_instance_is_imaged,
    "describe-drops-tags": test_describe_images_loses_one_thing,
    "describe-drops-description": test_describe_images_loses_one_thing,
    "describe-renames": test_describe_images_loses_one_thing,
    "describe-ignores-filter": test_describe_images_ignores_its_filter,
}
"""Variants whose deviation a test of its own shows, beside the tables above."""
DIFFERS_ON_SUCCESS = {
    "success-root-create-image-result",
    "content-type-text-plain",
    "image-id-16-hex",
    "success-without-request-id",
    "namespace-prefix",
    "pretty-printed",
    "extra-elements",
    "content-type-parameters",
    "other-id-forms",
    "cdata-text",
}


def test_every_variant_has_its_deviation_tested() -> None:
    tested = (
        {name for name, _ in ACCEPTED}
        | set(STRICT)
        | {case.name for case in ANSWERS}
        | set(DEDICATED)
    )
    assert tested == set(NAMES)


@pytest.mark.parametrize("name", [n for n in NAMES if n not in DIFFERS_ON_SUCCESS])
def test_a_variant_answers_an_ordinary_valid_request_as_the_reference(name: str) -> None:
    pairs = request(("Description", "an ordinary image"), *tags(2), *mapping())
    deviant, reference = both(name, pairs)
    assert reference.status == 200
    assert normalized(deviant) == normalized(reference)
