"""The same requests to several targets: a fixed corpus drawn from a seed, sent to each, and
each answer told by its status, EC2 error code and XML shape (the differential view of
``createimage-contract matrix``).

The corpus is what a run sends, in small: for every rule the strategies can break, its near
misses and drawn requests that break it; and valid requests, at every limit of the schema and
drawn. Every request of it carries ``DryRun=true`` (a request whose DryRun is itself the broken
value is left out), so that replaying it creates nothing on any target: a conforming target
answers each invalid one with its error, each valid one with ``DryRunOperation``. The same seed
and the same instance id give the same corpus, byte for byte; ``with_instance`` puts another
target's instance in its place, and nothing else differs. ``describe_requests`` are the
DescribeImages requests that look up, by name, the image each valid request would have created:
a target lists none.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from createimage_contract.schema import protocol_parameters
from createimage_contract.strategies import (
    Example,
    boundary_requests,
    breakable_rules,
    drawn,
    dry_run_requests,
    invalid_requests,
    name_source,
    near_misses,
    private_home,
)

from . import _xml
from ._options import Options
from ._results import Target
from ._targets import open_target
from ._transport import Pending, Response, Sent, Transport, credentials_for

DRY_RUN = "dry-run"
"""The label of a valid request (sent with ``DryRun=true``)."""
VALID_CATEGORIES = ("valid", DRY_RUN)
"""The run's categories whose requests are the corpus's valid ones."""
DESCRIBE_IMAGES = "DescribeImages"
BODY_EXCERPT = 2000
"""The characters of an answer's body an ``AnswerSummary`` keeps."""


@dataclass(frozen=True)
class CorpusRequest:
    """One request of the corpus: the rule it breaks (``dry-run`` for a valid one) and its form
    body, as sent to the first target."""

    rule: str
    form: str
    action: str = "CreateImage"


def corpus(instance_id: str, options: Options) -> list[CorpusRequest]:
    """The corpus for ``options.seed``, naming ``instance_id``: the categories
    ``options.selects``, each with its planned requests (near misses, or the requests at every
    limit) and ``options.max_examples`` drawn ones; each request once, with ``DryRun=true``."""
    service: dict[str, Any] = {
        "instance_id": instance_id,
        "unique_names": name_source(options.seed % name_source().capacity),
    }
    categories: list[tuple[str, list[Example]]] = []
    with private_home():
        if any(options.selects(category) for category in VALID_CATEGORIES):
            planned = boundary_requests(**service, dry_run=True)
            more = drawn(dry_run_requests(**service), options.max_examples, options.seed)
            categories.append((DRY_RUN, planned + more))
        for rule_id in breakable_rules(instance_id=instance_id):
            if options.selects(rule_id):
                planned = near_misses(rule_id, **service)  # none for a service rule
                strategy = invalid_requests(rule_id, **service)
                more = drawn(strategy, options.max_examples, options.seed)
                categories.append((rule_id, planned + more))
    requests: dict[str, CorpusRequest] = {}
    for rule_id, examples in categories:
        for example in examples:
            form = as_dry_run(example.form)
            if form is not None and form not in requests:
                requests[form] = CorpusRequest(rule_id, form)
    return list(requests.values())


def as_dry_run(form: str) -> str | None:
    """``form`` with ``DryRun=true``; ``None`` when it carries another DryRun value (the one
    it breaks): replayed, it might create an image."""
    values = [
        pair.partition("=")[2] for pair in form.split("&") if pair.partition("=")[0] == "DryRun"
    ]
    if not values:
        return f"{form}&DryRun=true" if form else "DryRun=true"
    return form if values == ["true"] else None


def describe_requests(requests: Sequence[CorpusRequest]) -> list[CorpusRequest]:
    """DescribeImages by the name of each valid request of ``requests``: the image it would
    have created, had it not been a DryRun. A target lists none."""
    version = protocol_parameters()["Version"]
    described: dict[str, CorpusRequest] = {}
    for request in requests:
        if request.rule != DRY_RUN:
            continue
        name = dict(parse_qsl(request.form, keep_blank_values=True)).get("Name")
        if name is None:
            continue
        pairs = [("Action", DESCRIBE_IMAGES), ("Version", version)]
        pairs += [("Filter.1.Name", "name"), ("Filter.1.Value.1", name)]
        form = urlencode(pairs, quote_via=quote)
        described.setdefault(form, CorpusRequest(DRY_RUN, form, DESCRIBE_IMAGES))
    return list(described.values())


def with_instance(form: str, instance_id: str, replacement: str) -> str:
    """``form`` with ``InstanceId=replacement`` where it says ``InstanceId=instance_id``; every
    other byte as it was (a malformed or unknown instance id stays what it is)."""
    pairs = form.split("&")
    return "&".join(
        f"InstanceId={replacement}" if pair == f"InstanceId={instance_id}" else pair
        for pair in pairs
    )


@dataclass(frozen=True)
class AnswerSummary:
    """An answer as targets are compared by it: status (``None``: no answer), EC2 error code,
    XML shape, and the start of its body."""

    status: int | None
    code: str | None
    shape: str
    body: str

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "code": self.code, "shape": self.shape, "body": self.body}


def summarize(response: Response) -> AnswerSummary:
    """``response`` as targets are compared by it."""
    body = response.excerpt(BODY_EXCERPT) if response.body else ""
    return AnswerSummary(
        response.status, _xml.error_code(response.body), answer_shape(response), body
    )


def answer_shape(response: Response) -> str:
    """The element paths of the answer's leaves, by local name, each once, sorted and
    comma-separated (``Response/Errors/Error/Code, Response/Errors/Error/Message,
    Response/RequestID``); what it is instead, in parentheses, when it is no XML."""
    if response.error is not None:
        return f"(no answer: {response.error})"
    if not response.body.strip():
        return "(empty body)"
    try:
        root = _xml.parse(response.body)
    except _xml.XmlProblem as problem:
        return f"(the body {problem.message})"
    return ", ".join(sorted(set(_leaf_paths(root, ""))))


def _leaf_paths(element: _xml.Element, above: str) -> Iterator[str]:
    path = f"{above}/{_xml.local_name(element)}" if above else _xml.local_name(element)
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        yield path
    for child in children:
        yield from _leaf_paths(child, path)


@dataclass(frozen=True)
class Exchange:
    """One request of a replay as it was sent (secrets redacted), and its answer."""

    sent: Sent
    response: Response

    @property
    def answer(self) -> AnswerSummary:
        return summarize(self.response)


def replay(endpoint: str, forms: Sequence[str], options: Options) -> list[Exchange]:
    """Send each of ``forms`` to ``endpoint``, signed as a run signs (``options.credentials``,
    ``region``, ``timeout``, ``max_response_size``), up to ``options.workers`` in flight; the
    exchanges, in the order of ``forms``. A request that got no answer has a ``Response`` that
    says why, as in a run: nothing raises."""
    transport = Transport(
        endpoint,
        options.region,
        credentials_for(endpoint, options.credentials),
        options.timeout,
        options.max_response_size,
    )
    exchanges: list[Exchange] = []
    in_flight: list[Pending] = []
    try:
        for form in forms:
            if len(in_flight) >= options.workers:
                _receive(in_flight.pop(0), exchanges)
            in_flight.append(transport.start(form))
        while in_flight:
            _receive(in_flight.pop(0), exchanges)
    finally:
        transport.close()
    return exchanges


def _receive(pending: Pending, exchanges: list[Exchange]) -> None:
    exchanges.append(Exchange(pending.sent, pending.answer()))


def start_target(kind: str, options: Options) -> AbstractContextManager[Target]:
    """The embedded target ``kind`` (one of ``EMBEDDED_KINDS``) started as a run starts it, for
    as long as the context lasts: several runs and replays can then share it."""
    return open_target(kind, None, None, options)
