"""The checks: each a small function that looks at one exchange and raises ``Deviation``.

An exchange is one request (the generated example, as sent) and its answer, with the answer's
XML parsed once. Each check says when it applies: to which answers (any, a whole one, a
success, an error) and for which expected answers. One that does not apply was not exercised
(which matters for the report's check x rule table), and one that cannot be made (the target
does not answer DescribeImages) is skipped with a note, never failed. A check raises nothing
else: any other exception is a bug of ours, and stops the run as one.

``checks_for`` reads the same table for a rule: the checks a conforming answer exercises.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from createimage_contract.schema import (
    Error,
    Expectation,
    Requirement,
    compile_pattern,
    counted,
    from_form,
    responses,
    rule,
    rules,
)
from createimage_contract.strategies import Example

from . import _xml
from ._deviation import Deviation as Deviation  # what every check raises, named here too
from ._images import Describe, DescribedImage, image_tags
from ._transport import Response, Sent

XML_MEDIA_TYPES = ("text/xml", "application/xml")
VALID = "valid"
"""The rule id of valid requests (they break none)."""
DRY_RUN = "dry-run"


class Skipped(Error):
    """A check that could not be made against this target; the message says why."""


@dataclass
class Exchange:
    rule: str
    """The rule the request is about, or ``valid``."""
    example: Example
    sent: Sent
    response: Response
    describe: Describe
    root: _xml.Element | None = None
    xml_problem: str | None = None

    def __post_init__(self) -> None:
        if self.response.status is not None and self.response.body and not self.response.truncated:
            try:
                self.root = _xml.parse(self.response.body)
            except _xml.XmlProblem as problem:
                self.xml_problem = str(problem)

    @property
    def answered(self) -> bool:
        """A whole answer came: a status, and a body read to its end or to the cap."""
        return self.response.status is not None and self.response.error is None


Answers = Literal["any", "answered", "success", "created", "error"]
"""The answers a check looks at: any (even none), a whole answer, a success (200 and XML), a
success that names an image id, an error (4xx or 5xx, and XML)."""
_ANSWERS: dict[Answers, Callable[[Exchange], bool]] = {
    "any": lambda x: True,
    "answered": lambda x: x.answered,
    "success": lambda x: x.response.status == 200 and x.root is not None,
    "created": lambda x: x.response.status == 200 and bool(_xml.path_text(x.root, "imageId")),
    "error": lambda x: x.answered and (x.response.status or 0) >= 400 and x.root is not None,
}


def _always(_: Expectation) -> bool:
    return True


@dataclass(frozen=True)
class Check:
    id: str
    summary: str
    answers: Answers
    run: Callable[[Exchange], None]
    expects: Callable[[Expectation], bool] = _always
    """For which expected answers it applies (every one, unless it says)."""

    def applies(self, x: Exchange) -> bool:
        return self.expects(x.example.expect) and _ANSWERS[self.answers](x)


# --- the checks --------------------------------------------------------------------------------


def response(x: Exchange) -> None:
    if x.response.error:
        raise Deviation(f"no answer: {x.response.error}")
    if x.response.throttled:
        retries = counted(x.response.retries, "retry", "retries")
        raise Deviation(f"still throttled after {retries} ({x.response.status})")
    length = x.response.headers.get("content-length")
    if length is not None and not length.strip().isdigit():
        raise Deviation(f"Content-Length {length[:40]!r} is not a number of bytes")
    if x.response.truncated:
        raise Deviation(f"the answer is larger than the cap of {len(x.response.body)} bytes")


def status(x: Exchange) -> None:
    got, wanted = x.response.status or 0, x.example.expect.status
    what = x.example.expect.rule or "a valid request"
    if wanted is None:
        if not 400 <= got < 500:
            raise Deviation(f"expected a 4xx for {what}, got {got}")
    elif got != wanted:
        raise Deviation(f"expected {wanted} for {what}, got {got}")


def error_code(x: Exchange) -> None:
    code = _xml.error_code(x.root)
    expected = x.example.expect
    if expected.code is not None:
        if code != expected.code:
            raise Deviation(f"expected error code {expected.code}, got {code}")
    elif code in _outcome_codes():
        raise Deviation(_let_in(code, expected.rule or ""))
    elif expected.rule is not None and _undocumented_for(expected.rule, code):
        documented = ", ".join(rule(expected.rule).documented_codes)
        raise Deviation(
            f"error code {code} is none EC2 documents for this fault ({documented})", "warning"
        )


def _let_in(code: str, rule_id: str) -> str:
    broken = rule(rule_id)
    if broken.sent_as_probe:
        return f"{code}: the service let in a forged request ({rule_id}: {broken.breaks_when})"
    return (
        f"{code} says the request would have succeeded, but it breaks {rule_id}: its error "
        "must win (any code will do, not this one)"
    )


def _undocumented_for(rule_id: str, code: str | None) -> bool:
    """Whether ``code`` is outside what EC2 documents for an authentication fault (a warning:
    which code a fault gets is not documented, but the set is)."""
    broken = rule(rule_id)
    return broken.kind == "auth" and code not in broken.documented_codes


@cache
def _outcome_codes() -> frozenset[str]:
    """The codes that mean "this would have succeeded" (DryRunOperation): never the answer to a
    request that breaks a rule, DryRun or not."""
    return frozenset(r.code for r in rules().values() if r.kind == "outcome" and r.code)


def content_type(x: Exchange) -> None:
    media_type = x.response.content_type.split(";")[0].strip().lower()
    if media_type not in XML_MEDIA_TYPES:
        raise Deviation(f"content type is {x.response.content_type or 'missing'!r}, not XML")


def xml(x: Exchange) -> None:
    if x.xml_problem:
        raise Deviation(f"the body {x.xml_problem}")
    if not x.response.body:
        raise Deviation("the body is empty, not XML")


def success_namespace(x: Exchange) -> None:
    shape = responses().shapes["CreateImageResponse"]
    assert x.root is not None
    root, namespace = _xml.local_name(x.root), _xml.namespace(x.root)
    if root != shape.root:
        raise Deviation(f"the root element is {root}, not {shape.root}")
    if namespace == shape.tolerated_namespace:
        raise Deviation(f"the namespace {namespace} lacks the trailing slash", "warning")
    if namespace != shape.namespace:
        raise Deviation(f"the namespace is {namespace!r}, not {shape.namespace}")


def image_id(x: Exchange) -> None:
    value = _xml.path_text(x.root, "imageId")
    if value is None or not _matches(responses().image_id_pattern, value):
        raise Deviation(f"imageId is {value!r}, not ami- and 8 or 17 hex digits")


def request_id(x: Exchange) -> None:
    if not _xml.path_text(x.root, "requestId"):
        raise Deviation("the success body has no requestId")


def request_id_uuid(x: Exchange) -> None:
    value = _xml.path_text(x.root, "requestId") or ""
    if not _matches(responses().request_id_pattern, value):
        raise Deviation(f"requestId {value!r} is not a UUID", "warning")


def error_body(x: Exchange) -> None:
    shape = responses().shapes["ErrorResponse"]
    assert x.root is not None
    if _xml.local_name(x.root) != shape.root or _xml.namespace(x.root) != shape.namespace:
        raise Deviation(f"the error root is {x.root.tag}, not {shape.root} without a namespace")
    missing = ["/".join(r.path) for r in shape.requirements if not _has(x.root, r)]
    if missing:
        raise Deviation(f"the error body has no {', '.join(missing)}")


def _has(root: _xml.Element, requirement: Requirement) -> bool:
    """Whether ``root`` has the member; a filled one needs some text too."""
    text = _xml.path_text(root, *requirement.path)
    return bool(text) if requirement.filled else text is not None


def describe_images(x: Exchange) -> None:
    created = _xml.path_text(x.root, "imageId") or ""
    images = x.describe({"image-id": created})
    if images is None:
        raise Skipped("the target does not answer DescribeImages")
    wanted = _wanted(x.example)
    listed = [image for image in images if image.image_id == created]
    if len(listed) != len(images):
        others = counted(len(images) - len(listed), "other image")
        raise Deviation(f"DescribeImages ImageId.1={created} listed {others} too")
    if not listed:
        raise Deviation(f"DescribeImages does not list the image {created} that was created")
    image = listed[0]
    differences = [
        f"{what} is {got!r}, not {expected!r}"
        for what, got, expected in (
            ("name", image.name, wanted.name),
            ("description", image.description, wanted.description),
        )
        if expected is not None and got != expected
    ]
    missing_tags = {k: v for k, v in wanted.tags.items() if image.tags.get(k) != v}
    if missing_tags:
        differences.append(f"tags {missing_tags} are missing or different")
    if differences:
        raise Deviation(f"DescribeImages of {created}: " + "; ".join(differences))


def dry_run_creates_nothing(x: Exchange) -> None:
    name = _wanted(x.example).name or ""
    images = x.describe({"name": name})
    if images is None:
        raise Skipped("the target does not answer DescribeImages")
    named = [image for image in images if image.name == name]
    if len(named) != len(images):
        raise Deviation(f"DescribeImages by name {name!r} listed images with other names too")
    if named:
        raise Deviation(f"a DryRun request created {named[0].image_id} named {name!r}")


def _wanted(example: Example) -> DescribedImage:
    """The image ``example`` asks for, as DescribeImages would list it."""
    params = example.params if example.params is not None else from_form(example.form)
    # What XML can carry of it: a service cannot send back a character XML forbids.
    return DescribedImage(
        "",
        _safe(params.get("Name")),
        _safe(params.get("Description")),
        {_xml.xml_safe(k): _xml.xml_safe(v) for k, v in image_tags(params)},
    )


def _safe(text: str | None) -> str | None:
    return None if text is None else _xml.xml_safe(text)


def _matches(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).search(value) is not None


CHECKS: tuple[Check, ...] = (
    Check(
        "response",
        "the request gets a whole answer, within the size cap and the time limit, not throttled",
        "any",
        response,
    ),
    Check(
        "status",
        "the status is the catalogue's (200, 412, the rule's, any 4xx)",
        "answered",
        status,
    ),
    Check(
        "error-code",
        "the error code is the catalogue's for the broken rule; where any will do, not "
        + " or ".join(sorted(_outcome_codes())),
        "error",
        error_code,
        expects=lambda expected: expected.rule is not None,
    ),
    Check(
        "content-type", "the answer is XML (text/xml or application/xml)", "answered", content_type
    ),
    Check("xml", "the body is well-formed XML without a DTD", "answered", xml),
    Check(
        "success-namespace",
        "CreateImageResponse in the 2016-11-15 namespace (no trailing slash: warning)",
        "success",
        success_namespace,
    ),
    Check("image-id", "imageId is ami- and 8 or 17 hex digits", "success", image_id),
    Check("request-id", "the success body has a requestId", "success", request_id),
    Check("request-id-uuid", "the requestId is a UUID (warning)", "success", request_id_uuid),
    Check(
        "error-body",
        "Response/Errors/Error with Code and Message, and RequestID",
        "error",
        error_body,
    ),
    Check(
        "describe-images",
        "DescribeImages lists a created image with its name, description and tags",
        "created",
        describe_images,
        expects=lambda expected: expected.status == 200,
    ),
    Check(
        "dry-run-creates-nothing",
        "a DryRun request creates no image",
        "answered",
        dry_run_creates_nothing,
        expects=lambda expected: expected.rule == DRY_RUN,
    ),
)
CHECK_IDS = tuple(check.id for check in CHECKS)
CHECK_SUMMARIES = {check.id: check.summary for check in CHECKS}


def checks_for(rule_id: str) -> tuple[str, ...]:
    """The checks a conforming answer exercises, for a request that breaks ``rule_id`` (or for
    a valid one, ``valid``): those that apply to what it expects and to such an answer."""
    expected = _expected(rule_id)
    conforming = _conforming_answers(expected)
    return tuple(
        check.id for check in CHECKS if check.answers in conforming and check.expects(expected)
    )


def _expected(rule_id: str) -> Expectation:
    if rule_id == VALID:
        return Expectation(200, None, None)
    broken = rule(rule_id)
    return Expectation(broken.status, broken.code, broken.id)


def _conforming_answers(expected: Expectation) -> frozenset[Answers]:
    """What a conforming answer to ``expected`` is: a success that names its image, or an
    error; whole, and XML."""
    if expected.status == 200:
        return frozenset({"any", "answered", "success", "created"})
    return frozenset({"any", "answered", "error"})
