"""Variants of the reference implementation: the proof that the conformance run works.

A conformance gate is worth its verdict. It must fail a service that deviates from the contract
and pass one that differs only where the contract allows; ``createimage-contract selftest``
runs the default suite against each variant below to show both. Each variant is the reference
with exactly one difference:

- a *faulty* one deviates from the contract in one way; ``catches`` names the rules under
  which a run must report it (an error-severity finding under one of them: caught);
- a *conformant* one differs in a way the contract allows; any error-severity finding about
  it is a false alarm.

A variant is data: ``request``, a rewrite of the request's parameters before the reference
reads them (how a loose validation is built: the near miss is turned into what the reference
accepts), and ``respond``, how the answer is made, usually a rewrite of the reference's own
answer (``call.answer()``). The loosening rewrites leave every valid request as it is; the
tests check that, and that each variant deviates where it says and nowhere else.
"""

from __future__ import annotations

import itertools
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal
from urllib.parse import urlencode

import botocore.session
from botocore.model import StringShape
from lxml import etree

from createimage_contract.schema import (
    ANY_ITEM,
    Field,
    FormatError,
    contract,
    decode_pairs,
    expect,
    parse_form,
    protocol_parameters,
    rule,
    rules,
    split_protocol,
    validate,
)

from . import _xml
from ._reference import DRY_RUN_MESSAGE, Answer, ReferenceService, _success, error_answer

VariantKind = Literal["faulty", "conformant"]
FAULTY: VariantKind = "faulty"
CONFORMANT: VariantKind = "conformant"

Form = list[tuple[str, str]]
"""A request's parameters, URL query and body together, in order, as on the wire."""
Rewrite = Callable[[Form], Form]
Change = Callable[[Answer], Answer]

CREATE = protocol_parameters()["Action"]
DESCRIBE = "DescribeImages"
VERSION = protocol_parameters()["Version"]


# --- a call to a variant ---------------------------------------------------------------------


@dataclass
class Call:
    """One request to a variant, after its request rewrite."""

    form: Form
    method: str
    headers: dict[str, str]
    service: VariantService
    number: int
    """The how-manieth request this service answers, from 1 (retries count too)."""
    _answer: Answer | None = None

    def answer(self) -> Answer:
        """The reference's answer to this request (asked once)."""
        if self._answer is None:
            self._answer = self.reference(self.form)
        return self._answer

    def reference(self, form: Form) -> Answer:
        """The reference's answer to other parameters, from the same service."""
        return self.service.reference_answer(self.method, self.headers, form)

    def value(self, name: str) -> str | None:
        """The value of a parameter (the last, when repeated, as the reference reads it)."""
        values = [value for key, value in self.form if key == name]
        return values[-1] if values else None

    @property
    def action(self) -> str | None:
        return self.value("Action")


Respond = Callable[[Call], Answer]


def as_reference(call: Call) -> Answer:
    return call.answer()


def unchanged(form: Form) -> Form:
    return form


@dataclass(frozen=True)
class Variant:
    """The reference, differing in one way: in the request it reads, or in how it answers."""

    name: str
    kind: VariantKind
    deviation: str
    """What it does differently, in one line."""
    catches: tuple[str, ...] = ()
    """The rules (or ``valid``) a finding must be under to prove a faulty variant was caught."""
    request: Rewrite = field(default=unchanged, repr=False)
    respond: Respond = field(default=as_reference, repr=False)
    skips: frozenset[str] = frozenset()
    """Authentication rules it does not check: it lets those forged requests in."""


class VariantService(ReferenceService):
    """The reference implementation, deviating as ``variant`` says."""

    def __init__(
        self,
        variant: Variant,
        instance_ids: Iterable[str] | None = (),
        **gate: Any,
    ) -> None:
        """``gate``: the reference's ``credentials``, ``region`` (and, for the variants that
        let some forged requests in, ``skipping``: ``variant.skips``)."""
        super().__init__(instance_ids, **({"skipping": variant.skips} | gate))
        self.variant = variant
        self._numbers = itertools.count(1)

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        refused = self.refusal(method, url, headers, body)  # the request as it came, signed
        if refused is not None:
            return refused
        try:
            form = parse_form(url.partition("?")[2]) + parse_form(body)
        except FormatError:  # unreadable: the variants differ in what they read, not here
            return self.admitted(method, url, headers, body)
        call = Call(self.variant.request(form), method, headers, self, next(self._numbers))
        return self.variant.respond(call)

    def reference_answer(self, method: str, headers: dict[str, str], form: Form) -> Answer:
        return self.admitted(method, "/", headers, urlencode(form).encode("utf-8"))

    def create_unchecked(self, form: Form) -> Answer:
        """What the reference does with a valid request, without checking this one."""
        params = decode_pairs(split_protocol(form)[1])
        with self._lock:
            image = self._remember(params)
        return _success(image.image_id)

    def rename_image(self, image_id: str, new_id: str) -> None:
        with self._lock:
            image = self.images.pop(image_id, None)
            if image is not None:
                self.images[new_id] = replace(image, image_id=new_id)


# --- what the contract says, read from the schema and the catalogue -------------------------------


def _field(*path: str) -> Field:
    return contract().field("body", path)


TAG = ("TagSpecifications", ANY_ITEM, "Tags", ANY_ITEM)
NAME_FIELD = _field("Name")
DESCRIPTION_FIELD = _field("Description")
TAG_KEY_FIELD = _field(*TAG, "Key")
TAG_VALUE_FIELD = _field(*TAG, "Value")
TAG_LIMIT = _field(*TAG[:-1]).limit("maxItems") or 0
INTEGER_FIELD = _field("BlockDeviceMappings", ANY_ITEM, "Ebs", "Iops")
RESOURCE_TYPES = _field(*TAG[:2], "ResourceType").options


def _rule_ids(kinds: tuple[str, ...], leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(
        r.id for r in rules().values() if r.kind in kinds and not r.id.startswith(leave_out)
    )


ANY_ERROR = _rule_ids(("request", "service", "outcome"))
"""Every rule whose requests get an error answer (DryRunOperation is one too)."""
ANY_ANSWER = ("valid", *ANY_ERROR)
VALIDATION = _rule_ids(("request",), leave_out=("action.", "version."))
"""The rules about the parameters, checked after the protocol (Action, Version)."""
IN_ANY_ITEM = ("parameter.unknown", "parameter.type")
"""The rules any item of a list can break, besides its own."""
GROUPS = {
    ANY_ANSWER: "any answer",
    ANY_ERROR: "any error answer",
    VALIDATION: "any validation rule",
}


def catches_label(variant: Variant) -> str:
    """The rules that catch ``variant``, as a person reads them."""
    if variant.catches in GROUPS:
        return GROUPS[variant.catches]
    return ", ".join(f"`{rule_id}`" for rule_id in variant.catches) or "-"


def _well_formed_instance_id(value: str) -> bool:
    return not validate({"InstanceId": value, "Name": "ami"})


@cache
def _ec2_enum(shape: str) -> tuple[str, ...]:
    """The values of one of botocore's EC2 enums (what real EC2 knows, beyond CreateImage)."""
    found = botocore.session.get_session().get_service_model("ec2").shape_for(shape)
    return tuple(found.enum) if isinstance(found, StringShape) else ()


# --- request rewrites --------------------------------------------------------------------------

INDEX = r"[1-9][0-9]*"
INSTANCE_ID = "InstanceId"
NAME = "Name"
DESCRIPTION = "Description"
SPECIFICATION = rf"TagSpecification\.{INDEX}"
TAG_KEY = rf"{SPECIFICATION}\.Tag\.{INDEX}\.Key"
TAG_VALUE = rf"{SPECIFICATION}\.Tag\.{INDEX}\.Value"
RESOURCE_TYPE = rf"{SPECIFICATION}\.ResourceType"
MAPPING = rf"BlockDeviceMapping\.{INDEX}"
VOLUME_TYPE = rf"{MAPPING}\.Ebs\.VolumeType"


def _wire_names(kind: str, shape: Field | None = None, prefix: str = "") -> list[str]:
    """Patterns of the wire names of every member of ``kind`` (boolean, integer)."""
    found = []
    for member in (shape or _field()).members.values():
        name, inner = prefix + re.escape(member.wire_name), member
        if inner.kind == "list" and inner.item is not None:
            name, inner = rf"{name}\.{INDEX}", inner.item
        if inner.kind == kind:
            found.append(name)
        elif inner.kind == "structure":
            found += _wire_names(kind, inner, name + r"\.")
    return found


BOOLEANS = "|".join(_wire_names("boolean"))
INTEGERS = "|".join(_wire_names("integer"))


def values(key: str, fix: Callable[[str], str]) -> Rewrite:
    """The value of every parameter whose wire name matches ``key`` goes through ``fix``."""
    pattern = re.compile(key)
    return lambda form: [(k, fix(v) if pattern.fullmatch(k) else v) for k, v in form]


def _instance_id_if_well_formed(fix: Callable[[str], str]) -> Callable[[str], str]:
    """An InstanceId ``fix`` turns into a well-formed one passes; others stay as sent."""

    def apply(value: str) -> str:
        fixed = fix(value)
        return fixed if _well_formed_instance_id(fixed) else value

    return apply


def _without_final_newline(value: str) -> str:
    return value[:-1] if value.endswith("\n") else value


def _ascii_digits(value: str) -> str:
    return "".join(str(unicodedata.digit(c)) if c.isdigit() else c for c in value)


def _padded_hex(value: str) -> str:
    """9 to 16 hex digits taken for an id: padded to 17, an id the service does not hold."""
    found = re.fullmatch(r"i-([0-9a-f]{9,16})", value)
    return f"i-{found.group(1):0<17}" if found else value


def _name_charset_with_python_dollar(value: str) -> str:
    """Python's ``$`` matches before a final newline: the character class never sees it."""
    return value[:-1] + "_" if value.endswith("\n") else value


def _isalnum_letters(value: str) -> str:
    return "".join("a" if c.isalnum() and not c.isascii() else c for c in value)


def _cut_at(length: int) -> Callable[[str], str]:
    """A value one character over ``length`` is cut back to it: the limit is off by one."""
    return lambda value: value[:length] if len(value) == length + 1 else value


def _padded_from(length: int) -> Callable[[str], str]:
    """A value one character short of ``length`` is padded to it: the limit is off by one."""
    return lambda value: value + "_" if len(value) == length - 1 else value


def _utf8_bytes_counted(value: str) -> str:
    """A description within the limit in characters but not in UTF-8 bytes is refused."""
    limit = DESCRIPTION_FIELD.limit("maxLength") or 0
    too_long = len(value.encode("utf-8", "surrogatepass")) > limit
    return "x" * (limit + 1) if too_long else value


def _aws_prefix_case_sensitive(key: str) -> str:
    """Only a lowercase ``aws:`` is refused; ``AWS:x`` is let through."""
    return "x" + key[1:] if key[:4].lower() == "aws:" and key[:4] != "aws:" else key


def _lowercase_if(options: Sequence[Any] | None) -> Callable[[str], str]:
    known = {str(option) for option in options or ()}
    return lambda value: value.lower() if value.lower() in known else value


def _any_of(ec2_enum: str, options: Sequence[Any] | None) -> Callable[[str], str]:
    """A value of one of EC2's enums (wider than the contract's ``options``) is taken as the
    first of the contract's."""
    allowed = [str(option) for option in options or ()]
    return lambda value: (
        allowed[0] if value in _ec2_enum(ec2_enum) and value not in allowed else value
    )


TRUE_WORDS = {"true", "1", "yes", "y", "on"}
FALSE_WORDS = {"false", "0", "no", "n", "off"}


def _lenient_boolean(value: str) -> str:
    word = value.strip().lower()
    return "true" if word in TRUE_WORDS else "false" if word in FALSE_WORDS else value


def _empty_is_false(value: str) -> str:
    return value or "false"


def _integer_through_float(value: str) -> str:
    if re.fullmatch(r"-?[0-9]+", value):
        return value  # an integer already: as sent
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() else value


def _integer_unbounded(value: str) -> str:
    """Any size is taken, and then held in 32 bits (the most it can be)."""
    if not re.fullmatch(r"-?[0-9]+", value):
        return value
    low, high = INTEGER_FIELD.limit("minimum") or 0, INTEGER_FIELD.limit("maximum") or 0
    return str(min(max(int(value), low), high))


def _tag_indexes(form: Form) -> dict[str, list[int]]:
    """Each tag specification's index and its tags' indexes, in order."""
    found: dict[str, set[int]] = {}
    for key, _ in form:
        match = re.match(rf"TagSpecification\.({INDEX})\.Tag\.({INDEX})\.", key)
        if match:
            found.setdefault(match.group(1), set()).add(int(match.group(2)))
    return {spec: sorted(tags) for spec, tags in found.items()}


def _one_tag_over_the_limit_dropped(form: Form) -> Form:
    dropped = tuple(
        f"TagSpecification.{spec}.Tag.{tags[-1]}."
        for spec, tags in _tag_indexes(form).items()
        if len(tags) == TAG_LIMIT + 1
    )
    return [(k, v) for k, v in form if not k.startswith(dropped)] if dropped else form


def _one_tag_added_at_the_limit(form: Form) -> Form:
    added = [
        (f"TagSpecification.{spec}.Tag.{tags[-1] + 1}.Key", "one-too-many")
        for spec, tags in _tag_indexes(form).items()
        if len(tags) == TAG_LIMIT
    ]
    return form + added


MINIMAL = [("Action", CREATE), ("Version", VERSION), ("InstanceId", "i-00000000"), ("Name", "ami")]


def _only_first_checked(items: str, alone: str, context: Form | None = None) -> Rewrite:
    """Items after the first of each list (``items``: the list's prefix, then the index)
    are not checked: one that would be refused on its own is left out.

    ``alone`` is the item's prefix in a request of its own, ``context`` what that request
    needs besides (a tag needs its specification's ResourceType).
    """
    pattern = re.compile(rf"({items}\.)({INDEX})\.")

    def rewrite(form: Form) -> Form:
        groups: dict[tuple[str, int], Form] = {}
        for key, value in form:
            match = pattern.match(key)
            if match:
                groups.setdefault((match.group(1), int(match.group(2))), []).append((key, value))
        firsts = {parent: min(i for p, i in groups if p == parent) for parent, _ in groups}
        unchecked = {
            f"{parent}{index}."
            for (parent, index), pairs in groups.items()
            if index != firsts[parent]
            and _refused_alone(pairs, f"{parent}{index}.", alone, context or [])
        }
        return (
            [(k, v) for k, v in form if not k.startswith(tuple(unchecked))] if unchecked else form
        )

    return rewrite


def _refused_alone(pairs: Form, prefix: str, alone: str, context: Form) -> bool:
    moved = [(alone + key.removeprefix(prefix), value) for key, value in pairs]
    return expect(urlencode(MINIMAL + list(context) + moved)).status != 200


def _unknown_members_dropped(container: str, shape: Field) -> Rewrite:
    """Members ``shape`` does not have, inside ``container``, are ignored (not refused)."""
    pattern = re.compile(rf"{container}\.([^.]*)")
    known = set(shape.by_wire_name)

    def rewrite(form: Form) -> Form:
        return [
            (k, v)
            for k, v in form
            if not ((match := pattern.match(k)) and match.group(1) not in known)
        ]

    return rewrite


def _in_turn(*rewrites: Rewrite) -> Rewrite:
    def rewrite(form: Form) -> Form:
        for each in rewrites:
            form = each(form)
        return form

    return rewrite


def _shape(*path: str) -> Field:
    shape = _field()
    for step in path:
        member = shape.members[step]
        shape = member.item if member.kind == "list" and member.item is not None else member
    return shape


def _member_names_case_insensitive(form: Form) -> Form:
    canonical = {name.lower(): name for name in _field().by_wire_name}

    def fixed(key: str) -> str:
        first, dot, rest = key.partition(".")
        return canonical.get(first.lower(), first) + dot + rest

    return [(fixed(k), v) for k, v in form]


def _version_taken_as_current(form: Form) -> Form:
    if not any(key == "Version" for key, _ in form):
        return [*form, ("Version", VERSION)]
    return [(k, VERSION if k == "Version" else v) for k, v in form]


def _action_case_insensitive(form: Form) -> Form:
    return [(k, CREATE if k == "Action" and v.lower() == CREATE.lower() else v) for k, v in form]


def _describe_unfiltered(form: Form) -> Form:
    if ("Action", DESCRIBE) not in form:
        return form
    return [(k, v) for k, v in form if not k.startswith(("ImageId.", "Filter."))]


# --- answer rewrites ---------------------------------------------------------------------------

When = Callable[[Call, Answer], bool]


def rewritten(change: Change, when: When) -> Respond:
    """The reference's answer, through ``change`` where ``when`` holds."""

    def respond(call: Call) -> Answer:
        answer = call.answer()
        return change(answer) if when(call, answer) else answer

    return respond


def created(call: Call, answer: Answer) -> bool:
    return call.action == CREATE and answer.status == 200


def refused(call: Call, answer: Answer) -> bool:
    return answer.status >= 400


def described(call: Call, answer: Answer) -> bool:
    return call.action == DESCRIBE and answer.status == 200


def in_namespace(call: Call, answer: Answer) -> bool:
    """A success of any action: CreateImage, DescribeImages, DeregisterImage."""
    return answer.status == 200


def always(call: Call, answer: Answer) -> bool:
    return True


def with_code(code: str) -> When:
    return lambda call, answer: code_of(answer) == code


def code_of(answer: Answer) -> str | None:
    return _xml.error_code(answer.body)


def substitute(pattern: bytes, replacement: bytes) -> Change:
    compiled = re.compile(pattern)
    return lambda answer: replace(answer, body=compiled.sub(replacement, answer.body))


def recode(code: str, instead: str) -> Respond:
    old, new = f"<Code>{code}</Code>".encode(), f"<Code>{instead}</Code>".encode()
    return rewritten(substitute(re.escape(old), new), with_code(code))


def content_type(value: str) -> Change:
    return lambda answer: replace(answer, content_type=value)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


def xml_edit(edit: Callable[[_xml.Element], None], pretty: bool = False) -> Change:
    """The answer's XML, edited in place and written again."""

    def change(answer: Answer) -> Answer:
        root = etree.fromstring(answer.body, _PARSER)
        edit(root)
        text = etree.tostring(root, encoding="UTF-8", pretty_print=pretty)
        return replace(answer, body=_xml.DECLARATION + text)

    return change


def _elements(root: _xml.Element) -> list[_xml.Element]:
    return [element for element in root.iter() if isinstance(element.tag, str)]


def _unescaped_message(answer: Answer) -> Answer:
    def raw(match: re.Match[bytes]) -> bytes:
        text = match.group(1)
        for entity, character in ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&amp;", b"&")):
            text = text.replace(entity, character)
        return b"<Message>" + text + b"</Message>"

    return replace(answer, body=re.sub(rb"<Message>(.*?)</Message>", raw, answer.body, flags=re.S))


def _image_ids_of(digits: int) -> Respond:
    """Image ids of ``digits`` hex digits: the image is held under that id too."""

    def respond(call: Call) -> Answer:
        answer = call.answer()
        found = re.search(rb"<imageId>(ami-[0-9a-f]+)</imageId>", answer.body)
        if not created(call, answer) or found is None:
            return answer
        new_id = "ami-" + secrets.token_hex(9)[:digits]
        call.service.rename_image(found.group(1).decode(), new_id)
        return replace(answer, body=answer.body.replace(found.group(1), new_id.encode()))

    return respond


def _dry_run_stores(call: Call) -> Answer:
    answer = call.answer()
    if call.action == CREATE and code_of(answer) == "DryRunOperation":
        call.reference([(k, v) for k, v in call.form if k != "DryRun"])
    return answer


def _created_anyway(code: str) -> Respond:
    """A request refused with ``code`` (a check of the service's state) creates its image."""

    def respond(call: Call) -> Answer:
        answer = call.answer()
        return call.service.create_unchecked(call.form) if code_of(answer) == code else answer

    return respond


def _dry_run_first(call: Call) -> Answer:
    """DryRun=true is answered before the parameters are validated."""
    if call.action == CREATE and call.value("DryRun") == "true":
        expectation = expect(urlencode(call.form))
        if expectation.rule in VALIDATION:
            return error_answer(412, "DryRunOperation", DRY_RUN_MESSAGE)
    return call.answer()


def _describe_without(element: str) -> Change:
    def edit(root: _xml.Element) -> None:
        for found in [e for e in _elements(root) if _xml.local_name(e) == element]:
            parent = found.getparent()
            if parent is not None and _xml.local_name(parent) == "item":
                parent.remove(found)

    return xml_edit(edit)


def _describe_tags_dropped(root: _xml.Element) -> None:
    for tag_set in [e for e in _elements(root) if _xml.local_name(e) == "tagSet"]:
        for item in list(tag_set):
            tag_set.remove(item)


# --- conformant differences --------------------------------------------------------------------


def _prefixed(answer: Answer) -> Answer:
    """``<ec2:CreateImageResponse xmlns:ec2="...">``: the same names, with a prefix."""
    body = answer.body.removeprefix(_xml.DECLARATION)
    if b' xmlns="' not in body:
        return answer
    body = re.sub(rb"<(/?)([A-Za-z][\w.-]*)", rb"<\1ec2:\2", body)
    return replace(answer, body=_xml.DECLARATION + body.replace(b' xmlns="', b' xmlns:ec2="', 1))


def _extra_elements(root: _xml.Element) -> None:
    """A member this contract does not know, first and last in every element with members."""
    for element in _elements(root):
        if len(element):
            namespace = _xml.namespace(element)
            name = f"{{{namespace}}}newMember" if namespace else "newMember"
            element.insert(0, _leaf(name, "added by a later version of EC2"))
            element.append(_leaf(name, "added by a later version of EC2"))


def _leaf(name: str, text: str) -> _xml.Element:
    element = etree.Element(name)
    element.text = text
    return element


def _cdata(root: _xml.Element) -> None:
    for element in _elements(root):
        if not len(element) and element.text and "]]>" not in element.text:
            element.text = etree.CDATA(element.text)


def _uppercase_request_ids(respond: Respond) -> Respond:
    """``respond``'s answers, with their request ids in uppercase."""

    def upper(match: re.Match[bytes]) -> bytes:
        return b"<" + match.group(1) + b">" + match.group(2).upper() + b"<"

    def uppercase(call: Call) -> Answer:
        answer = respond(call)
        return replace(answer, body=re.sub(rb"<(requestId|RequestID)>([^<]*)<", upper, answer.body))

    return uppercase


XML_CONTENT_TYPES = (
    "application/xml; charset=utf-8",
    'text/xml; charset="UTF-8"',
    "application/xml",
    "text/xml; charset=utf-8; format=ec2",
)


def _charset_content_types(call: Call) -> Answer:
    answer = call.answer()
    return replace(answer, content_type=XML_CONTENT_TYPES[call.number % len(XML_CONTENT_TYPES)])


THROTTLE_EVERY = 200


def _throttled_now_and_then(call: Call) -> Answer:
    """Every ``THROTTLE_EVERY``-th request is throttled, before the reference sees it."""
    if call.number % THROTTLE_EVERY == 0:
        return error_answer(503, "RequestLimitExceeded", "Request limit exceeded.")
    return call.answer()


def _documented_code(*codes: str, where: Callable[[str], bool] = lambda path: True) -> Respond:
    """One of ``codes`` (taking turns) for a refusal whose rule has no exact code and documents
    it (and, with ``where``, only for a fault at a path ``where`` accepts)."""

    def respond(call: Call) -> Answer:
        answer = call.answer()
        if answer.status < 400 or call.action != CREATE:
            return answer
        expectation = expect(urlencode(call.form))
        broken = rule(expectation.rule) if expectation.rule else None
        if broken is None or broken.code is not None or expectation.violation is None:
            return answer
        turn = call.number % len(codes)
        documented = [c for c in codes[turn:] + codes[:turn] if c in broken.documented_codes]
        if not documented or not where(expectation.violation.path):
            return answer
        return substitute(rb"<Code>[^<]*</Code>", f"<Code>{documented[0]}</Code>".encode())(answer)

    return respond


# --- the variants ------------------------------------------------------------------------------

_NEAR_MISSES = (
    Variant(
        "instance-id-uppercase-hex",
        FAULTY,
        "InstanceId's hex digits compared case-insensitively: i-0ABC1234 is taken",
        ("instance-id.malformed",),
        request=values(INSTANCE_ID, _instance_id_if_well_formed(str.lower)),
    ),
    Variant(
        "instance-id-trailing-newline",
        FAULTY,
        "InstanceId matched with Python's $, which lets a trailing newline through",
        ("instance-id.malformed",),
        request=values(INSTANCE_ID, _instance_id_if_well_formed(_without_final_newline)),
    ),
    Variant(
        "instance-id-any-length",
        FAULTY,
        "InstanceId may have 9 to 16 hex digits, not only 8 or 17 (looked up, not found)",
        ("instance-id.malformed",),
        request=values(INSTANCE_ID, _padded_hex),
    ),
    Variant(
        "instance-id-unicode-digits",
        FAULTY,
        "InstanceId's digits checked with str.isdigit: ٣ and full-width digits are taken",
        ("instance-id.malformed",),
        request=values(INSTANCE_ID, _instance_id_if_well_formed(_ascii_digits)),
    ),
    Variant(
        "instance-id-stripped",
        FAULTY,
        "InstanceId stripped of leading and trailing whitespace before it is validated",
        ("instance-id.malformed",),
        request=values(INSTANCE_ID, _instance_id_if_well_formed(str.strip)),
    ),
    Variant(
        "name-trailing-newline",
        FAULTY,
        "Name's characters matched with Python's $, which lets a trailing newline through",
        ("name.charset",),
        request=values(NAME, _name_charset_with_python_dollar),
    ),
    Variant(
        "name-unicode-letters",
        FAULTY,
        "Name's letters and digits checked with str.isalnum: é and ٣ are taken",
        ("name.charset",),
        request=values(NAME, _isalnum_letters),
    ),
    Variant(
        "name-length-129",
        FAULTY,
        f"a Name of {(NAME_FIELD.limit('maxLength') or 0) + 1} characters is taken (off by one)",
        ("name.length",),
        request=values(NAME, _cut_at(NAME_FIELD.limit("maxLength") or 0)),
    ),
    Variant(
        "name-length-2",
        FAULTY,
        f"a Name of {(NAME_FIELD.limit('minLength') or 0) - 1} characters is taken (off by one)",
        ("name.length",),
        request=values(NAME, _padded_from(NAME_FIELD.limit("minLength") or 0)),
    ),
    Variant(
        "description-length-256",
        FAULTY,
        f"a Description of {(DESCRIPTION_FIELD.limit('maxLength') or 0) + 1} characters is taken",
        ("description.length",),
        request=values(DESCRIPTION, _cut_at(DESCRIPTION_FIELD.limit("maxLength") or 0)),
    ),
    Variant(
        "description-utf8-bytes",
        FAULTY,
        "Description's limit counted in UTF-8 bytes: a long multi-byte description is refused",
        ("valid", "dry-run"),
        request=values(DESCRIPTION, _utf8_bytes_counted),
    ),
    Variant(
        "tag-key-129",
        FAULTY,
        f"a tag key of {(TAG_KEY_FIELD.limit('maxLength') or 0) + 1} characters is taken",
        ("tag.key",),
        request=values(TAG_KEY, _cut_at(TAG_KEY_FIELD.limit("maxLength") or 0)),
    ),
    Variant(
        "tag-key-aws-prefix-case",
        FAULTY,
        "the aws: prefix of tag keys checked case-sensitively: AWS:x is taken",
        ("tag.key",),
        request=values(TAG_KEY, _aws_prefix_case_sensitive),
    ),
    Variant(
        "tag-value-257",
        FAULTY,
        f"a tag value of {(TAG_VALUE_FIELD.limit('maxLength') or 0) + 1} characters is taken",
        ("tag.value",),
        request=values(TAG_VALUE, _cut_at(TAG_VALUE_FIELD.limit("maxLength") or 0)),
    ),
    Variant(
        "tag-limit-51",
        FAULTY,
        f"{TAG_LIMIT + 1} tags in a specification are taken (off by one)",
        ("tag.limit",),
        request=_one_tag_over_the_limit_dropped,
    ),
    Variant(
        "tag-limit-50-refused",
        FAULTY,
        f"exactly {TAG_LIMIT} tags in a specification are refused (off by one)",
        ("valid", "dry-run"),
        request=_one_tag_added_at_the_limit,
    ),
    Variant(
        "tag-specification-first-only",
        FAULTY,
        "only the first tag specification is validated: a fault in the second is taken",
        ("tag-specification.resource-type", "tag.key", "tag.value", "tag.limit", *IN_ANY_ITEM),
        request=_only_first_checked("TagSpecification", "TagSpecification.1."),
    ),
    Variant(
        "tag-first-only",
        FAULTY,
        "only the first tag of a specification is validated: a fault in a later one is taken",
        ("tag.key", "tag.value", *IN_ANY_ITEM),
        request=_only_first_checked(
            rf"{SPECIFICATION}\.Tag",
            "TagSpecification.1.Tag.1.",
            [("TagSpecification.1.ResourceType", "image")],
        ),
    ),
    Variant(
        "block-device-mapping-first-only",
        FAULTY,
        "only the first block device mapping is validated: a fault in a later one is taken",
        (
            "ebs.volume-type",
            "boolean.invalid",
            "integer.invalid",
            "ebs.volume-size-range",
            "ebs.unsupported-member",
            *IN_ANY_ITEM,
        ),
        request=_only_first_checked("BlockDeviceMapping", "BlockDeviceMapping.1."),
    ),
    Variant(
        "resource-type-any-ec2-type",
        FAULTY,
        "ResourceType may be any of EC2's resource types (volume, instance, ...)",
        ("tag-specification.resource-type",),
        request=values(RESOURCE_TYPE, _any_of("ResourceType", RESOURCE_TYPES)),
    ),
    Variant(
        "resource-type-case-insensitive",
        FAULTY,
        "ResourceType compared case-insensitively: Image is taken",
        ("tag-specification.resource-type",),
        request=values(RESOURCE_TYPE, _lowercase_if(RESOURCE_TYPES)),
    ),
    Variant(
        "volume-type-case-insensitive",
        FAULTY,
        "Ebs.VolumeType compared case-insensitively: GP3 is taken",
        ("ebs.volume-type",),
        request=values(
            VOLUME_TYPE,
            _lowercase_if(_field("BlockDeviceMappings", ANY_ITEM, "Ebs", "VolumeType").options),
        ),
    ),
    Variant(
        "boot-mode-any-ec2-value",
        FAULTY,
        "BootModeOverride may be any of EC2's boot modes (legacy-bios, uefi-preferred)",
        ("boot-mode-override.invalid",),
        request=values(
            "BootModeOverride", _any_of("BootModeValues", _field("BootModeOverride").options)
        ),
    ),
    Variant(
        "booleans-lenient",
        FAULTY,
        "booleans read leniently: True, TRUE, 1, yes (and their false forms) are taken",
        ("boolean.invalid",),
        request=values(BOOLEANS, _lenient_boolean),
    ),
    Variant(
        "boolean-empty-is-false",
        FAULTY,
        "an empty boolean is taken as false",
        ("boolean.invalid",),
        request=values(BOOLEANS, _empty_is_false),
    ),
    Variant(
        "integers-through-float",
        FAULTY,
        "integers parsed through float(): +5, 1.0, 1e3 and ٣ are taken",
        ("integer.invalid",),
        request=values(INTEGERS, _integer_through_float),
    ),
    Variant(
        "integers-unbounded",
        FAULTY,
        "integers not bounded to 32 bits: 2147483648 is taken",
        ("integer.invalid",),
        request=values(INTEGERS, _integer_unbounded),
    ),
    Variant(
        "ebs-unknown-members-ignored",
        FAULTY,
        "a member Ebs does not have is ignored, not refused",
        ("parameter.unknown",),
        request=_unknown_members_dropped(rf"{MAPPING}\.Ebs", _shape("BlockDeviceMappings", "Ebs")),
    ),
    Variant(
        "nested-unknown-members-ignored",
        FAULTY,
        "a member Tag, TagSpecification or BlockDeviceMapping does not have is ignored",
        ("parameter.unknown",),
        request=_in_turn(
            _unknown_members_dropped(
                rf"{SPECIFICATION}\.Tag\.{INDEX}", _shape("TagSpecifications", "Tags")
            ),
            _unknown_members_dropped(SPECIFICATION, _shape("TagSpecifications")),
            _unknown_members_dropped(MAPPING, _shape("BlockDeviceMappings")),
        ),
    ),
    Variant(
        "member-names-case-insensitive",
        FAULTY,
        "parameter names compared case-insensitively: name and instanceId are taken",
        ("parameter.unknown",),
        request=_member_names_case_insensitive,
    ),
    Variant(
        "dry-run-before-validation",
        FAULTY,
        "DryRun=true answered DryRunOperation before the parameters are validated",
        VALIDATION,
        respond=_dry_run_first,
    ),
    Variant(
        "version-not-checked",
        FAULTY,
        "Version is not checked: a missing or other Version is taken",
        ("version.missing", "version.unsupported"),
        request=_version_taken_as_current,
    ),
    Variant(
        "action-case-insensitive",
        FAULTY,
        "Action compared case-insensitively: createimage is taken",
        ("action.unknown",),
        request=_action_case_insensitive,
    ),
)

_ANSWER_FAULTS = (
    Variant(
        "success-root-create-image-result",
        FAULTY,
        "the success answer's root is CreateImageResult, not CreateImageResponse",
        ("valid",),
        respond=rewritten(substitute(rb"CreateImageResponse", b"CreateImageResult"), created),
    ),
    Variant(
        "error-in-namespace",
        FAULTY,
        "error answers are in the 2016-11-15 namespace, which EC2's are not",
        ANY_ERROR,
        respond=rewritten(
            substitute(
                rb"<Response>", b'<Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
            ),
            refused,
        ),
    ),
    Variant(
        "error-without-request-id",
        FAULTY,
        "error answers have no RequestID",
        ANY_ERROR,
        respond=rewritten(substitute(rb"<RequestID>[^<]*</RequestID>", b""), refused),
    ),
    Variant(
        "error-echoes-input-unescaped",
        FAULTY,
        "error messages quote the request unescaped: a < or & in it breaks the XML",
        ANY_ERROR,
        respond=rewritten(_unescaped_message, refused),
    ),
    Variant(
        "content-type-text-plain",
        FAULTY,
        "every answer is sent as text/plain",
        ANY_ANSWER,
        respond=rewritten(content_type("text/plain"), always),
    ),
    Variant(
        "image-id-16-hex",
        FAULTY,
        "image ids are ami- and 16 hex digits",
        ("valid",),
        respond=_image_ids_of(16),
    ),
    Variant(
        "success-without-request-id",
        FAULTY,
        "the success answer has no requestId",
        ("valid",),
        respond=rewritten(substitute(rb"<requestId>[^<]*</requestId>", b""), created),
    ),
)

_WRONG_CODES = (
    Variant(
        "malformed-instance-id-code",
        FAULTY,
        "a malformed InstanceId is answered InvalidParameterValue, not InvalidInstanceID.Malformed",
        ("instance-id.malformed",),
        respond=recode("InvalidInstanceID.Malformed", "InvalidParameterValue"),
    ),
    Variant(
        "tag-limit-code",
        FAULTY,
        "too many tags are answered InvalidParameterValue, not TagLimitExceeded",
        ("tag.limit",),
        respond=recode("TagLimitExceeded", "InvalidParameterValue"),
    ),
    Variant(
        "unknown-parameter-code",
        FAULTY,
        "an unknown parameter is answered InvalidParameterValue, not UnknownParameter",
        ("parameter.unknown",),
        respond=recode("UnknownParameter", "InvalidParameterValue"),
    ),
    Variant(
        "missing-action-code",
        FAULTY,
        "a missing Action is answered MissingParameter, not MissingAction",
        ("action.missing",),
        respond=recode("MissingAction", "MissingParameter"),
    ),
)

_STATE_FAULTS = (
    Variant(
        "dry-run-creates-image",
        FAULTY,
        "DryRun answers DryRunOperation but creates the image all the same",
        ("dry-run",),
        respond=_dry_run_stores,
    ),
    Variant(
        "duplicate-names-allowed",
        FAULTY,
        "a Name already taken is not refused: a second image of that name is created",
        ("name.duplicate",),
        respond=_created_anyway("InvalidAMIName.Duplicate"),
    ),
    Variant(
        "unknown-instances-accepted",
        FAULTY,
        "an InstanceId the service does not hold is not refused: the image is created",
        ("instance-id.not-found",),
        respond=_created_anyway("InvalidInstanceID.NotFound"),
    ),
    Variant(
        "describe-drops-tags",
        FAULTY,
        "DescribeImages lists images without their tags",
        ("valid",),
        respond=rewritten(xml_edit(_describe_tags_dropped), described),
    ),
    Variant(
        "describe-drops-description",
        FAULTY,
        "DescribeImages lists images without their description",
        ("valid",),
        respond=rewritten(_describe_without("description"), described),
    ),
    Variant(
        "describe-renames",
        FAULTY,
        "DescribeImages lists images under another name",
        ("valid",),
        respond=rewritten(substitute(rb"<name>[^<]*</name>", b"<name>renamed</name>"), described),
    ),
    Variant(
        "describe-ignores-filter",
        FAULTY,
        "DescribeImages lists every image, whatever ImageId.N or Filter.N asks for",
        ("valid", "dry-run"),
        request=_describe_unfiltered,
    ),
)

_CONFORMANT = (
    Variant(
        "namespace-prefix",
        CONFORMANT,
        "successes in the same namespace with a prefix: ec2:CreateImageResponse, xmlns:ec2",
        respond=rewritten(_prefixed, in_namespace),
    ),
    Variant(
        "pretty-printed",
        CONFORMANT,
        "every answer pretty-printed: whitespace between the elements",
        respond=rewritten(xml_edit(lambda root: None, pretty=True), always),
    ),
    Variant(
        "extra-elements",
        CONFORMANT,
        "members the contract does not know, first and last in every element of every answer",
        respond=rewritten(xml_edit(_extra_elements), always),
    ),
    Variant(
        "content-type-parameters",
        CONFORMANT,
        "application/xml or text/xml, with charset and other parameters",
        respond=_charset_content_types,
    ),
    Variant(
        "other-id-forms",
        CONFORMANT,
        "request ids are UUIDs in uppercase; image ids are ami- and 8 hex digits (the older form)",
        respond=_uppercase_request_ids(_image_ids_of(8)),
    ),
    Variant(
        "cdata-text",
        CONFORMANT,
        "every text in a CDATA section",
        respond=rewritten(xml_edit(_cdata), always),
    ),
    Variant(
        "throttles-now-and-then",
        CONFORMANT,
        f"one request in {THROTTLE_EVERY} answered 503 RequestLimitExceeded (retrying works)",
        respond=_throttled_now_and_then,
    ),
    Variant(
        "code-invalid-parameter-or-validation-error",
        CONFORMANT,
        "InvalidParameter or ValidationError (in turn) where the catalogue has no exact code "
        "and documents them",
        respond=_documented_code("InvalidParameter", "ValidationError"),
    ),
    Variant(
        "code-missing-action",
        CONFORMANT,
        "MissingAction where the catalogue has no exact code and documents it",
        respond=_documented_code("MissingAction"),
    ),
    Variant(
        "code-invalid-block-device-mapping",
        CONFORMANT,
        "InvalidBlockDeviceMapping for faults inside a block device mapping, where documented",
        respond=_documented_code(
            "InvalidBlockDeviceMapping",
            where=lambda path: path.startswith("/body/BlockDeviceMappings"),
        ),
    ),
)


def _lets_in(rule_id: str, name: str, deviation: str) -> Variant:
    """A door left open: the reference, not checking ``rule_id`` (the rest it checks)."""
    return Variant(name, FAULTY, deviation, (rule_id,), skips=frozenset({rule_id}))


_DOOR_FAULTS = (
    _lets_in("auth.missing", "accepts-unsigned", "an unsigned request gets in"),
    _lets_in(
        "auth.malformed",
        "accepts-any-authorization",
        "an Authorization that is not SigV4 (Basic, or the algorithm alone) lets the request in",
    ),
    _lets_in(
        "auth.signature",
        "ignores-signature",
        "the signature is not checked: a forged one, or a body changed after signing, gets in",
    ),
    _lets_in(
        "auth.expired",
        "ignores-time-window",
        "X-Amz-Date is not held to the time window: a request signed well outside it gets in",
    ),
    _lets_in("auth.unknown-key", "accepts-unknown-keys", "an access key never issued gets in"),
    _lets_in(
        "auth.scope",
        "ignores-scope",
        "a signature scoped to another region or service gets in",
    ),
    _lets_in(
        "header.content-type.missing",
        "accepts-no-content-type",
        "a request without a Content-Type is read as a form all the same",
    ),
    _lets_in(
        "header.x-amz-date",
        "accepts-malformed-date",
        "an X-Amz-Date that is no timestamp is let in",
    ),
)


VARIANTS: tuple[Variant, ...] = (
    *_NEAR_MISSES,
    *_ANSWER_FAULTS,
    *_WRONG_CODES,
    *_STATE_FAULTS,
    *_DOOR_FAULTS,
    *_CONFORMANT,
)
NAMES = tuple(variant.name for variant in VARIANTS)


def variant(name: str) -> Variant:
    """The variant ``name``; a ``KeyError`` names the variants that exist."""
    for candidate in VARIANTS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"no variant {name!r}; the variants are {', '.join(NAMES)}")


__all__ = ["NAMES", "VARIANTS", "Call", "Variant", "VariantService", "catches_label", "variant"]
