"""The runner against services that deviate in one way each: every deviation is caught, and
named by the right check and rule, and nothing else is reported."""

from __future__ import annotations

import gc
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from createimage_contract.conformance import (
    CHECK_IDS,
    Answer,
    Options,
    ReferenceService,
    category_names,
    run,
    serve,
)
from createimage_contract.conformance._reference import error_answer, new_image_id
from createimage_contract.strategies import near_misses

INSTANCE = "i-0123456789abcdef0"
SUCCESS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<CreateImageResponse xmlns="{ns}">'
    "<requestId>{request_id}</requestId><imageId>{image_id}</imageId></CreateImageResponse>"
)
NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
UUID = "59dbff89-35bd-4eac-99ed-be5870000000"

Fault = Callable[[dict[str, str], Answer, ReferenceService], Answer]


def success(ns: str = NS, request_id: str = UUID, image_id: str | None = None) -> Answer:
    body = SUCCESS.format(ns=ns, request_id=request_id, image_id=image_id or new_image_id())
    return Answer(200, body.encode())


def code_of(answer: Answer) -> str | None:
    found = re.search(rb"<Code>([^<]*)</Code>", answer.body)
    return found.group(1).decode() if found else None


class Faulty(ReferenceService):
    """The reference implementation, with one deviation applied to its answers."""

    def __init__(self, deviation: Fault, **gate: Any) -> None:
        """``gate``: the reference's ``credentials`` and ``region``, when not its own."""
        super().__init__([INSTANCE], **gate)
        self.deviation = deviation

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return self.deviation(fields, super().answer(method, url, headers, body), self)


def on_code(code: str, then: Callable[[Answer], Answer]) -> Fault:
    return lambda _, answer, __: then(answer) if code_of(answer) == code else answer


def on_success(then: Callable[[Answer], Answer]) -> Fault:
    return lambda f, answer, __: (
        then(answer) if f.get("Action") == "CreateImage" and answer.status == 200 else answer
    )


def substitute(pattern: bytes, replacement: bytes) -> Callable[[Answer], Answer]:
    return lambda answer: replace(answer, body=re.sub(pattern, replacement, answer.body))


def ignores_dry_run(fields: dict[str, str], answer: Answer, service: ReferenceService) -> Answer:
    if fields.get("DryRun") != "true":
        return answer
    without = urlencode({k: v for k, v in fields.items() if k != "DryRun"}).encode()
    return service.admitted(
        "POST", "/", {"Content-Type": "application/x-www-form-urlencoded"}, without
    )


def creates_on_dry_run(fields: dict[str, str], answer: Answer, service: ReferenceService) -> Answer:
    ignores_dry_run(fields, answer, service)
    return answer


def describe_renames(fields: dict[str, str], answer: Answer, _: ReferenceService) -> Answer:
    if fields.get("Action") != "DescribeImages":
        return answer
    return replace(
        answer, body=re.sub(rb"<name>[^<]*</name>", b"<name>renamed</name>", answer.body)
    )


def no_describe(fields: dict[str, str], answer: Answer, _: ReferenceService) -> Answer:
    if fields.get("Action") != "DescribeImages":
        return answer
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
        b"<Code>InvalidAction</Code><Message>no</Message></Error></Errors>"
        b"<RequestID>x</RequestID></Response>"
    )
    return Answer(400, body)


def describe_drops_tags(fields: dict[str, str], answer: Answer, _: ReferenceService) -> Answer:
    if fields.get("Action") != "DescribeImages":
        return answer
    return replace(answer, body=re.sub(rb"<tagSet>.*?</tagSet>", b"", answer.body, flags=re.S))


def describe_ignores_filters(
    fields: dict[str, str], answer: Answer, service: ReferenceService
) -> Answer:
    if fields.get("Action") != "DescribeImages":
        return answer
    plain = urlencode({"Action": "DescribeImages", "Version": fields.get("Version", "")})
    return service.admitted("POST", "/", {}, plain.encode())


def dry_run_wins(fields: dict[str, str], answer: Answer, _: ReferenceService) -> Answer:
    """A DryRun request is answered DryRunOperation before it is validated."""
    if fields.get("DryRun") != "true":
        return answer
    return error_answer(412, "DryRunOperation", "Request would have succeeded")


def html_errors(_: dict[str, str], answer: Answer, __: ReferenceService) -> Answer:
    if answer.status < 400:
        return answer
    return Answer(
        answer.status, b"<!DOCTYPE html><html><body>Bad request</body></html>", "text/html"
    )


CASES: list[tuple[str, Fault, tuple[str, ...], set[tuple[str, str, str]]]] = [
    (
        "DescribeImages drops the tags (caught by the full list of image tags, whatever the seed)",
        describe_drops_tags,
        ("valid",),
        {("describe-images", "valid", "error")},
    ),
    (
        "DescribeImages ignores its filters (a finding, not a reason to skip)",
        describe_ignores_filters,
        ("valid",),
        {("describe-images", "valid", "error")},
    ),
    (
        "DryRun answered before the validation (any code would do, but not DryRunOperation)",
        dry_run_wins,
        ("name.charset", "description.length"),
        {
            ("error-code", "description.length", "error"),
            ("error-code", "name.charset", "error"),
            ("status", "name.charset", "error"),
        },
    ),
    (
        "wrong code for bad names",
        on_code(
            "InvalidAMIName.Malformed",
            substitute(rb"InvalidAMIName\.Malformed", b"InvalidParameterValue"),
        ),
        ("name.length", "name.charset"),
        {("error-code", "name.length", "error"), ("error-code", "name.charset", "error")},
    ),
    (
        "a 500 for too many tags",
        on_code("TagLimitExceeded", lambda a: replace(a, status=500)),
        ("tag.limit",),
        {("status", "tag.limit", "error")},
    ),
    (
        "a 200 for a bad name",
        on_code("InvalidAMIName.Malformed", lambda _: success()),
        ("name.charset",),
        {("status", "name.charset", "error")},
    ),
    (
        "no requestId",
        on_success(substitute(rb"<requestId>[^<]*</requestId>", b"")),
        ("valid",),
        {("request-id", "valid", "error"), ("request-id-uuid", "valid", "warning")},
    ),
    (
        "a foreign namespace",
        on_success(substitute(rb'xmlns="[^"]*"', b'xmlns="http://example.com/ec2/"')),
        ("valid",),
        {("success-namespace", "valid", "error")},
    ),
    (
        "the namespace without its slash",
        on_success(substitute(rb"2016-11-15/", b"2016-11-15")),
        ("valid",),
        {("success-namespace", "valid", "warning")},
    ),
    (
        "a requestId that is no UUID",
        on_success(substitute(rb"<requestId>[^<]*<", b"<requestId>request-id<")),
        ("valid",),
        {("request-id-uuid", "valid", "warning")},
    ),
    (
        "a malformed imageId",
        on_success(substitute(rb"<imageId>[^<]*<", b"<imageId>ami-XYZ<")),
        ("valid",),
        {("image-id", "valid", "error"), ("describe-images", "valid", "error")},
    ),
    (
        "DryRun ignored",
        ignores_dry_run,
        ("dry-run",),
        {("status", "dry-run", "error"), ("dry-run-creates-nothing", "dry-run", "error")},
    ),
    (
        "DryRun answered but obeyed not",
        creates_on_dry_run,
        ("dry-run",),
        {("dry-run-creates-nothing", "dry-run", "error")},
    ),
    (
        "an HTML error page",
        html_errors,
        ("version.missing",),
        {("content-type", "version.missing", "error"), ("xml", "version.missing", "error")},
    ),
    (
        "errors without RequestID",
        on_code("InvalidAction", substitute(rb"<RequestID>[^<]*</RequestID>", b"")),
        ("action.unknown",),
        {("error-body", "action.unknown", "error")},
    ),
    (
        "errors in a namespace",
        on_code("MissingAction", substitute(b"<Response>", f'<Response xmlns="{NS}">'.encode())),
        ("action.missing",),
        {("error-body", "action.missing", "error")},
    ),
    (
        "duplicate names accepted",
        on_code("InvalidAMIName.Duplicate", lambda _: success()),
        ("name.duplicate",),
        {("status", "name.duplicate", "error")},
    ),
    (
        "unknown instances accepted",
        on_code("InvalidInstanceID.NotFound", lambda _: success()),
        ("instance-id.not-found",),
        {("status", "instance-id.not-found", "error")},
    ),
    (
        "XML sent as text/plain",
        lambda _, a, __: replace(a, content_type="text/plain"),
        ("valid",),
        {("content-type", "valid", "error")},
    ),
    (
        "a DTD in the answer",
        on_success(substitute(rb"\n<Create", b'\n<!DOCTYPE x [<!ENTITY e "e">]>\n<Create')),
        ("valid",),
        {("xml", "valid", "error")},
    ),
    (
        "a body cut short",
        on_success(lambda a: replace(a, body=a.body[:60])),
        ("valid",),
        {("xml", "valid", "error")},
    ),
    (
        "DescribeImages renames",
        describe_renames,
        ("valid",),
        {("describe-images", "valid", "error")},
    ),
    (
        "a wrong status for a warning rule",
        on_code("InvalidParameterValue", lambda _: success()),
        ("ebs.volume-size-range",),
        {("status", "ebs.volume-size-range", "error")},
    ),
]


@pytest.mark.parametrize(
    ("name", "deviation", "rules", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_each_deviation_is_caught_and_named(
    name: str, deviation: Fault, rules: tuple[str, ...], expected: set[tuple[str, str, str]]
) -> None:
    with serve(Faulty(deviation)) as running:
        outcome = run(
            endpoint=running.url,
            instance_id=INSTANCE,
            options=Options(max_examples=8, seed=2, rules=rules),
        )
    found = {(f.check, f.rule, f.severity) for f in outcome.findings.values()}
    assert found == expected, name
    for finding in outcome.findings.values():
        assert finding.sent.body and finding.message
        assert finding.sent.headers["Authorization"] == "<redacted>"


def test_a_target_without_describe_images_skips_those_checks() -> None:
    with serve(Faulty(no_describe)) as running:
        outcome = run(
            endpoint=running.url,
            instance_id=INSTANCE,
            options=Options(max_examples=5, seed=1, rules=("valid", "dry-run")),
        )
    assert outcome.findings == {}
    assert any("describe-images: skipped" in note for note in outcome.notes)
    assert ("describe-images", "valid") not in outcome.exercised


def test_the_reference_passes_every_check_and_every_rule_is_exercised() -> None:
    outcome = run(options=Options(max_examples=10, seed=5))
    assert outcome.findings == {} and outcome.notes == []
    assert list(outcome.rules) == [
        "valid",
        *[r for r in category_names() if r != "valid"],
    ]
    assert all(stats.sent >= 10 for stats in outcome.rules.values())
    assert {check for check, _ in outcome.exercised} == set(CHECK_IDS)


class Slow(ReferenceService):
    """The reference, a little slow, counting how many requests it holds at once."""

    def __init__(self) -> None:
        super().__init__([INSTANCE])
        self.busy = 0
        self.most_at_once = 0
        self._count = threading.Lock()

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._count:
            self.busy += 1
            self.most_at_once = max(self.most_at_once, self.busy)
        time.sleep(0.05)  # long next to generating an example: the overlap must show
        try:
            return super().answer(method, url, headers, body)
        finally:
            with self._count:
                self.busy -= 1


@pytest.mark.parametrize(("workers", "at_once"), [(1, {1}), (4, {3, 4}), (None, {3, 4})])
def test_workers_are_requests_in_flight_while_exploring(
    workers: int | None, at_once: set[int]
) -> None:
    """``None``: the default, four."""
    service = Slow()
    options = Options(max_examples=20, seed=3, rules=("name.length",))
    with serve(service) as running:
        outcome = run(
            endpoint=running.url,
            instance_id=INSTANCE,
            options=options if workers is None else replace(options, workers=workers),
        )
    planned = len(near_misses("name.length"))  # sent first, then the 20 generated
    assert outcome.findings == {} and outcome.rules["name.length"].sent == planned + 20
    assert service.most_at_once in at_once


def test_an_exchange_that_raises_is_an_internal_error_and_the_run_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While exploring, an answer is judged during the test case of a later example: what
    raises there is not that example's failure (Hypothesis would call it flaky), nor a note
    the run goes on after, but a bug of ours that stops the run (tests/test_internal_errors.py
    has the rest)."""
    from createimage_contract.conformance import InternalError, _engine

    def broken(*_: object) -> object:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(_engine._Session, "_exchanges", broken)
    with serve(ReferenceService([INSTANCE])) as running, pytest.raises(InternalError) as stopped:
        run(
            endpoint=running.url,
            instance_id=INSTANCE,
            options=Options(max_examples=5, seed=3, rules=("valid", "name.length")),
        )
    assert str(stopped.value).startswith("RuntimeError('a bug of ours') raised at ")
    outcome = stopped.value.result
    assert outcome.findings == {} and outcome.notes == []
    assert list(outcome.rules) == ["valid"], "name.length is not run after the bug"


def test_a_run_leaves_the_collector_as_it_found_it() -> None:
    def small_run() -> None:
        with serve() as running:
            run(
                endpoint=running.url,
                instance_id=running.instance_id,
                options=Options(max_examples=2, seed=1, rules=("valid",)),
            )

    assert gc.get_freeze_count() == 0
    small_run()
    assert gc.get_freeze_count() == 0  # what the run froze, it thawed
    gc.freeze()  # a host that froze its own heap (a server about to fork) keeps it frozen
    try:
        small_run()
        assert gc.get_freeze_count() > 0  # a thaw empties the permanent generation
    finally:
        gc.unfreeze()
