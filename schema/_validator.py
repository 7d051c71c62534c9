"""``validate`` and ``expect``: the contract applied to one request."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal

from . import _catalogue, _compiler, _dynamic, _requests
from ._catalogue import Rule, Severity
from ._compiler import Failure, Location
from ._model import contract
from ._requests import InputForm


@dataclass(frozen=True)
class Violation:
    """One rule a request breaks, where, and the answer a conforming service gives for it."""

    rule: str
    path: str
    """JSON pointer into the request as the schema describes it, e.g. ``/body/Name``."""
    message: str
    code: str | None
    """EC2 error code; ``None`` when EC2 has no fixed code (any 4xx)."""
    status: int | None
    """HTTP status; ``None`` when any 4xx will do."""
    severity: Severity | Literal["info"]
    """``info`` only for rule ``dynamic``: a value known only at run time, never a failure."""

    def as_dict(self) -> dict[str, Any]:
        """The violation as the ``lint --format json`` report writes it."""
        return {
            "rule": self.rule,
            "path": self.path,
            "message": self.message,
            "code": self.code,
            "status": self.status,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Expectation:
    """What a conforming service answers to a request."""

    status: int | None
    """200, 412 for DryRun, the rule's status, or ``None`` for any 4xx."""
    code: str | None
    """The EC2 error code, ``None`` for a success or when any code will do."""
    rule: str | None
    """The rule the answer is about; ``None`` for a plain success."""
    violation: Violation | None = field(default=None, compare=False)
    """The violation the answer is about, for its message; ``None`` when there is none."""


@cache
def _request_check() -> _compiler.Compiled:
    return _compiler.compiled(contract().root)


@cache
def _outcomes() -> tuple[tuple[Rule, Callable[[Any], bool]], ...]:
    return tuple(
        (rule, _compiler.predicate(contract().node(rule.matches)))
        for rule in _catalogue.rules().values()
        if rule.kind == "outcome"
    )


def validate(
    request: Any,
    *,
    input: InputForm = "auto",
    placeholders: re.Pattern[str] | None = None,
    known_instances: Collection[str] | None = None,
    used_names: Collection[str] | None = None,
) -> list[Violation]:
    """Every rule ``request`` breaks, in document order; an empty list when it breaks none.

    ``request`` is boto3-style parameters (a dict), an EC2 Query form body (str or bytes), or an
    HTTP request dict with ``url``, ``method``, ``headers`` and ``body``; ``input`` forces one
    reading. The service rules (an unknown instance, a name already used) are checked only when
    the service's state is given. A request is valid when no violation has severity ``error``.
    Raises ``FormatError`` when the input cannot be read as a request at all.

    ``placeholders`` matches the placeholders of a template (``${...}``, say): with it, a value
    holding one, or given as a ``Placeholder``, is checked on what is known, its literal part,
    and is reported once with rule ``dynamic`` and severity ``info``.
    """
    form = _requests.detect(request) if input == "auto" else input
    given, marks = request, None
    if placeholders is not None:
        request, marks = _dynamic.marked(request, placeholders, http=form == "http")
        if isinstance(request, str) and marks.texts and not marks.literal(request).strip():
            whole = _dynamic.whole(("body",) if form == "json" else (), marks.written(request))
            return [_violation(whole)]
    # A request with its placeholders marked is read afresh: whole fields may have gone.
    document = _requests.to_document(request, form if request is given else input)
    failures = _failures(document, known_instances, used_names)
    if marks is not None and marks.texts:
        failures = _dynamic.checked(document, failures, marks)
    violations = [_violation(failure) for failure in failures]
    if form != "http":  # only an HTTP request has a URL, whose fragment may name a field
        return violations
    unsent = _requests.unsent_fields(request, input)
    return [_where_it_went(v, unsent) for v in violations] if unsent else violations


def _where_it_went(violation: Violation, unsent: dict[str, str]) -> Violation:
    """A missing query field that the URL's fragment holds: the message says why it is missing."""
    name = violation.path.removeprefix("/query/")
    if not violation.rule.endswith(".missing") or name == violation.path or name not in unsent:
        return violation
    hint = (
        f"the URL fragment `#{name}={unsent[name]}` is never sent; put {name} in the query or "
        "the body"
    )
    return replace(violation, message=f"{violation.message}: {hint}")


def _failures(
    document: dict[str, Any],
    known_instances: Collection[str] | None,
    used_names: Collection[str] | None,
) -> list[Failure]:
    failures: list[Failure] = []
    _request_check().collect(document, (), failures)
    body = document.get("body")
    if isinstance(body, dict) and (known_instances is not None or used_names is not None):
        failed = {failure.location for failure in failures}
        if known_instances is not None:
            failures += _service_failure(
                "instance-id.not-found",
                body,
                failed,
                lambda v: v not in known_instances,
                "names no instance the service holds",
            )
        if used_names is not None:
            failures += _service_failure(
                "name.duplicate",
                body,
                failed,
                lambda v: v in used_names,
                "is already the name of an image the service holds",
            )
    return failures


def _service_failure(
    rule_id: str,
    body: dict[str, Any],
    failed: set[Location],
    breaks: Callable[[str], bool],
    detail: str,
) -> list[Failure]:
    """The service rule's failure, if its (otherwise well-formed) field breaks it."""
    field = _catalogue.rule(rule_id).field or ""
    location: Location = tuple(field.strip("/").split("/"))
    value = body.get(str(location[-1]))
    if not isinstance(value, str) or location in failed or not breaks(value):
        return []
    return [Failure(rule_id, location, f"{detail}: {_compiler.excerpt(value)}")]


def expect(
    request: Any,
    *,
    input: InputForm = "auto",
    known_instances: Collection[str] | None = None,
    used_names: Collection[str] | None = None,
) -> Expectation:
    """The answer a conforming service gives ``request``: its first broken rule, else success.

    Rules about the HTTP request itself (headers, method) are left out: they are lint rules,
    and EC2 has no fixed answer for them.
    """
    document = _requests.to_document(request, input)
    broken = [
        (_catalogue.rule(f.rule), _violation(f))
        for f in _failures(document, known_instances, used_names)
        if _catalogue.rule(f.rule).kind != "http"
    ]
    if broken:
        first, violation = min(broken, key=lambda pair: pair[0].precedence)
        return Expectation(first.status, first.code, first.id, violation)
    for rule, matches in _outcomes():
        if matches(document):
            return Expectation(rule.status, rule.code, rule.id)
    return Expectation(200, None, None)


def is_valid(violations: list[Violation]) -> bool:
    """True when none of ``violations`` has severity error."""
    return all(violation.severity != "error" for violation in violations)


def _violation(failure: Failure) -> Violation:
    message = f"{label(failure.location)} {failure.detail}"
    path = pointer(failure.location)
    if failure.rule == _dynamic.DYNAMIC:
        return Violation(_dynamic.DYNAMIC, path, message, None, None, "info")
    rule = _catalogue.rule(failure.rule)
    return Violation(rule.id, path, message, rule.code, rule.status, rule.severity)


def pointer(location: Location) -> str:
    """The JSON pointer of a location, e.g. ``/body/TagSpecifications/0/Tags``."""
    text = "/".join(map(str, location))
    if "~" in text or text.count("/") >= len(location):  # a segment holds ~ or /: escaped
        return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in location)
    return "/" + text if location else ""


def label(location: Location) -> str:
    """A location as a person names it, e.g. ``TagSpecifications[0].Tags[3].Key``."""
    text = ""
    for segment in location[1:] or location:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}" if text else segment
    return text or "request"
