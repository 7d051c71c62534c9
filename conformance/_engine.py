"""The engine: generated requests, through one transport, then through the checks.

For every category (valid requests, DryRun requests, each rule the strategies can break, and
the stateful cases: an unknown instance, a name used twice) the engine runs a Hypothesis test
that sends each example and runs every check on the answer. A failing check raises an
exception of its own type, so that Hypothesis shrinks each distinct failure (check x rule) on
its own and reports them all; the engine keeps, for each, the smallest request that showed it.
It emits events as it goes; the reporters consume them.

Only a ``Deviation`` is a finding about the target. Any other exception (in a check, parsing,
signing, sending, the strategies, Hypothesis itself) is a bug of ours: an internal error. It
stops the sending at once, is never handed to Hypothesis (which would replay and shrink it,
sending more), and ends up in ``Outcome.internal_error`` as one line naming it and where it
was raised, so that no report can mistake the run for a pass.
"""

from __future__ import annotations

import gc
import os
import random
import signal
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from types import FrameType
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine as hypothesis_engine

from createimage_contract.schema import Expectation, protocol_parameters, rule
from createimage_contract.strategies import (
    Example,
    NearMiss,
    UniqueNames,
    boundary_requests,
    breakable_rules,
    dry_run_requests,
    invalid_requests,
    name_source,
    near_misses,
    private_home,
    valid_requests,
)

from . import _xml
from ._checks import CHECKS, Check, Exchange, Image, Skipped
from ._deviation import Deviation
from ._transport import REDACTED, Pending, Response, Sent, Transport, is_loopback

VALID = "valid"
DRY_RUN = "dry-run"
DUPLICATE = "name.duplicate"
SILENT_LIMIT = 10
"""Requests in a row without an answer after which the run stops: the target is gone."""


EMBEDDED_KINDS = ("reference", "moto")
"""The targets ``run`` starts itself; any other is an ``endpoint``."""


@dataclass(frozen=True)
class Target:
    endpoint: str
    kind: str
    """One of ``EMBEDDED_KINDS``, or ``endpoint``."""
    instance_id: str
    region: str = "us-east-1"


@dataclass(frozen=True)
class Options:
    max_examples: int = 20
    """Examples per category (the shrinking of a failure sends more)."""
    seed: int = 0
    checks: tuple[str, ...] = tuple(check.id for check in CHECKS)
    workers: int = 4
    """Requests in flight while exploring: the target answers them while the next examples
    are generated. Shrinking a failure sends one request at a time."""
    shrink_seconds: float = 5.0
    """How long Hypothesis may shrink one category's failures."""
    rules: tuple[str, ...] | None = None
    """Only these categories (rule ids, ``valid``, ``dry-run``); all when ``None``."""
    allow_resource_creation: bool = False
    """Off loopback, send valid requests without DryRun (they create images, which the run
    deregisters at the end)."""


@dataclass(frozen=True)
class Category:
    rule: str
    strategy: st.SearchStrategy[Example]
    planned: tuple[Example, ...] = ()
    """Sent first, whatever the seed: the near misses of the rule, or the requests at every
    limit (``valid``, ``dry-run``)."""
    twice: bool = False
    """Send each example twice: the second time, its name is already taken."""


@dataclass(frozen=True)
class Finding:
    """One distinct failure (check x rule), with the smallest request that showed it."""

    check: str
    rule: str
    severity: str
    message: str
    sent: Sent
    response: Response

    @property
    def key(self) -> tuple[str, str]:
        return self.check, self.rule


@dataclass
class RuleStats:
    sent: int = 0
    failed: int = 0


@dataclass
class Outcome:
    target: Target
    seed: int
    requests: int = 0
    duration_s: float = 0.0
    rules: dict[str, RuleStats] = field(default_factory=dict)
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    exercised: set[tuple[str, str]] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    """Every image id the target answered with, in order (a faulty service creates too)."""
    deregistered: list[str] = field(default_factory=list)
    """Images deregistered and their snapshots deleted, off loopback, at the end."""
    left_behind: dict[str, str] = field(default_factory=dict)
    """Images (and snapshots) the run could not remove, and why."""
    signed_with_token: bool = False
    """The requests carried a session token (the curl reproductions need it too)."""
    internal_error: str | None = None
    """A bug of ours stopped the run: the exception and where it was raised, in one line
    (``internal_error_line``). The findings are then only those made before it."""
    coverage: dict[NearMiss, int] = field(default_factory=dict)
    """Every planned request (rule x site x kind of near miss) of the categories run, and how
    many were sent: a complete run sent each at least once."""

    @property
    def coverage_complete(self) -> bool:
        return all(self.coverage.values())

    @property
    def sent_nothing(self) -> bool:
        """No category sent a CreateImage request (DescribeImages and cleanup aside): there is
        nothing to judge, which must not read as a pass."""
        return not any(stats.sent for stats in self.rules.values())


class InternalError(Exception):
    """A run stopped by a bug of createimage-contract, not by anything the target did. The
    message is the one line of ``Outcome.internal_error``; ``outcome`` holds what the run had
    found until then."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.internal_error)
        self.outcome = outcome


@dataclass(frozen=True)
class RunStarted:
    target: Target
    categories: tuple[str, ...]


@dataclass(frozen=True)
class CategoryFinished:
    rule: str
    stats: RuleStats
    findings: int


@dataclass(frozen=True)
class RunFinished:
    outcome: Outcome


@dataclass(frozen=True)
class CleanedUp:
    """Off loopback: the images the run deregistered, and those it could not (and why)."""

    deregistered: tuple[str, ...]
    left_behind: dict[str, str]


Event = RunStarted | CategoryFinished | RunFinished | CleanedUp
Listener = Callable[[Event], None]


def category_names(instance_id: str) -> list[str]:
    """What a run sends, category by category, in order."""
    return [VALID, DRY_RUN, *breakable_rules(instance_id=instance_id), DUPLICATE]


def _category(rule_id: str, target: Target, names: UniqueNames) -> Category:
    """What a category sends: its planned requests, then its strategy's, with the run's
    instance and names."""
    service: dict[str, Any] = {"instance_id": target.instance_id, "unique_names": names}
    if rule_id == VALID:
        return Category(VALID, valid_requests(**service), tuple(boundary_requests(**service)))
    if rule_id == DRY_RUN:
        at_limits = boundary_requests(**service, dry_run=True)
        return Category(DRY_RUN, dry_run_requests(**service), tuple(at_limits))
    if rule_id == DUPLICATE:
        return Category(DUPLICATE, valid_requests(**service), twice=True)
    planned = near_misses(rule_id, **service) if rule(rule_id).kind == "request" else []
    return Category(rule_id, invalid_requests(rule_id, **service), tuple(planned))


class Engine:
    """Runs the categories one after the other, merges what each found into one ``Outcome``,
    and tells the listeners as it goes."""

    def __init__(
        self, target: Target, transport: Transport, options: Options, listeners: list[Listener]
    ) -> None:
        self.target = target
        self.transport = transport
        self.options = options
        self.listeners = listeners
        self.outcome = Outcome(target, options.seed)
        self.outcome.signed_with_token = transport.uses_session_token

    def run(self) -> Outcome:
        """The run; off loopback, whatever it created is deregistered at the end, also when
        it ends early (a failure of ours, Ctrl-C)."""
        chosen = [rule_id for rule_id in self._categories() if self._selected(rule_id)]
        self._emit(RunStarted(self.target, tuple(chosen)))
        started = time.perf_counter()
        session = _Session(self.target, self.options, self.transport)
        try:
            with (
                private_home(),
                _shrink_budget(self.options.shrink_seconds),
                _frozen_heap(),
                _interrupts_kept(),
            ):
                self._run_categories(chosen, session)
        except Exception as error:  # ours, between the categories' Hypothesis tests
            session.stop_on(error)
        finally:
            self.outcome.created = list(session.created)
            if not is_loopback(self.target.endpoint) and session.created:
                self._clean_up(session)
                outcome = self.outcome
                self._emit(CleanedUp(tuple(outcome.deregistered), dict(outcome.left_behind)))
            self.outcome.internal_error = session.internal_error
            self.outcome.duration_s = time.perf_counter() - started
        self._emit(RunFinished(self.outcome))
        return self.outcome

    def _run_categories(self, chosen: list[str], session: _Session) -> None:
        for rule_id, names in zip(chosen, _name_starts(len(chosen)), strict=True):
            finished = self._merge(rule_id, session.run(rule_id, names))
            if session.internal_error is not None:
                return  # the category did not finish: no progress mark (maybe green) for it
            self._emit(finished)
            if session.gone:
                self.outcome.notes.append(
                    f"the run stopped after {rule_id}: the target did not answer "
                    f"{SILENT_LIMIT} requests in a row"
                )
                return

    @property
    def creates_images(self) -> bool:
        """Valid requests without DryRun go to loopback targets only, unless allowed."""
        return is_loopback(self.target.endpoint) or self.options.allow_resource_creation

    def _categories(self) -> list[str]:
        names = category_names(self.target.instance_id)
        if self.creates_images:
            return names
        self.outcome.notes.append(
            f"{VALID}, {DUPLICATE}: not sent, they would create images on a target off "
            "loopback (only DryRun requests are; --allow-resource-creation sends them)"
        )
        return [name for name in names if name not in (VALID, DUPLICATE)]

    def _selected(self, rule_id: str) -> bool:
        return self.options.rules is None or rule_id in self.options.rules

    def _clean_up(self, session: _Session) -> None:
        """Deregister every image the run was answered with, then delete the snapshots
        DescribeImages said they had (EC2 keeps those, and bills them); say what could not
        be removed. A bug of ours while removing one image is the run's internal error (if it
        has none yet), and the next images are still tried."""
        for image_id in session.created:
            try:
                self._remove_image(image_id)
            except Exception as error:
                session.stop_on(error)
                self.outcome.left_behind[image_id] = f"internal error: {internal_error_line(error)}"

    def _remove_image(self, image_id: str) -> None:
        snapshots = self._snapshots_of(image_id)
        if self._remove("DeregisterImage", "ImageId", image_id):
            for snapshot_id in snapshots:
                self._remove("DeleteSnapshot", "SnapshotId", snapshot_id)

    def _snapshots_of(self, image_id: str) -> list[str]:
        form = urlencode([("Action", "DescribeImages"), *_version(), ("ImageId.1", image_id)])
        _, response = self.transport.send(form)
        self.outcome.requests += 1
        try:
            root = _xml.parse(response.body) if response.status == 200 else None
        except _xml.XmlProblem:
            return []
        return [
            snapshot.text
            for snapshot in (root.iter() if root is not None else [])
            if isinstance(snapshot.tag, str)
            and _xml.local_name(snapshot) == "snapshotId"
            and snapshot.text
        ]

    def _remove(self, action: str, member: str, resource_id: str) -> bool:
        form = urlencode([("Action", action), *_version(), (member, resource_id)])
        _, response = self.transport.send(form)
        self.outcome.requests += 1
        if response.status == 200:
            self.outcome.deregistered.append(resource_id)
            return True
        got = response.error or f"{response.status} {_error_code_of(response)}"
        self.outcome.left_behind[resource_id] = got
        return False

    def _merge(self, rule_id: str, found: Outcome) -> CategoryFinished:
        """Add what one category found to the run's outcome; the event that says so."""
        outcome = self.outcome
        outcome.requests += found.requests
        outcome.rules[rule_id] = found.rules.get(rule_id, RuleStats())
        outcome.exercised |= found.exercised
        outcome.coverage.update(found.coverage)
        outcome.notes += [note for note in found.notes if note not in outcome.notes]
        for key, finding in found.findings.items():
            known = outcome.findings.get(key)
            if known is None or len(finding.sent.body) < len(known.sent.body):
                outcome.findings[key] = finding
        count = sum(1 for f in found.findings.values() if f.rule == rule_id)
        return CategoryFinished(rule_id, outcome.rules[rule_id], count)

    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)


def _name_starts(count: int) -> list[int]:
    """A range of names for each category, within the 70**3 names of ``UniqueNames``.

    The first is random: a rerun against a service that remembers names (the examples repeat
    with the seed; the names need not) does not meet the names of the last run.
    """
    span = NAMES // max(count, 1)
    base = random.SystemRandom().randrange(NAMES)
    return [(base + index * span) % NAMES for index in range(count)]


NAMES = 70**3


class _Session:
    """Runs one category at a time: its Hypothesis test, the exchanges, the checks."""

    def __init__(self, target: Target, options: Options, transport: Transport) -> None:
        self.target = target
        self.options = options
        self.transport = transport
        self.checks = [check for check in CHECKS if check.id in options.checks]
        self._describes: _Describes | None = None
        self.created: dict[str, None] = {}
        """Image ids answered, in order, over every category of the run."""
        self._silent = 0
        self.gone = False
        """The target stopped answering: nothing more is sent."""
        self.internal_error: str | None = None
        """The first bug of ours, as one line: nothing more is sent."""
        self.outcome = Outcome(target, options.seed)

    @property
    def stopped(self) -> bool:
        """Nothing more is sent: the target stopped answering, or a bug of ours stopped the run."""
        return self.gone or self.internal_error is not None

    def stop_on(self, error: BaseException) -> None:
        """Record a bug of ours (the first one is the run's) and stop sending."""
        if self.internal_error is None:
            self.internal_error = internal_error_line(error)

    @contextmanager
    def _internal_errors_caught(self) -> Iterator[None]:
        """What raises in here is not a finding (``_judge`` keeps those): it is a bug of ours,
        recorded by ``stop_on``, and never raised into Hypothesis, which would replay and
        shrink it, sending more requests. Ctrl-C (not an ``Exception``) goes through."""
        try:
            yield
        except Exception as error:
            self.stop_on(error)

    def run(self, rule_id: str, name_start: int) -> Outcome:
        """What one category found; the session starts a new outcome for each.

        First the examples are explored with up to ``options.workers`` requests in flight: an
        answer is read and judged when the next example has been generated and one more request
        would be too many. A category where something failed is then run again, one request at
        a time, so that Hypothesis can shrink each failure.
        """
        self.outcome = Outcome(self.target, self.options.seed)
        self.outcome.rules[rule_id] = RuleStats()
        category = _category(rule_id, self.target, name_source(name_start))
        self.outcome.coverage = {e.near_miss: 0 for e in category.planned if e.near_miss}
        self._explore(category)
        # A missing answer does not depend on the request: shrinking it only waits longer.
        if any(f.check != "response" for f in self.outcome.findings.values()) and not self.stopped:
            self._shrink(category)
        return self.outcome

    def _settings(self, *phases: Phase) -> settings:
        return settings(
            max_examples=self.options.max_examples,
            database=None,
            deadline=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            report_multiple_bugs=True,
        )

    def _explore(self, category: Category) -> None:
        """The planned requests, then the generated ones."""
        # One thread: the target works on the requests in flight while Hypothesis generates.
        waiting: deque[tuple[Example, Pending]] = deque()

        def send(example: Example) -> None:
            if len(waiting) == self.options.workers:
                self._judge_all(category, *waiting.popleft())
            if not self.stopped:
                waiting.append((example, self._start(example.form)))

        @self._settings(Phase.generate)
        @hypothesis_seed(self.options.seed)
        @given(category.strategy)
        def explore(example: Example) -> None:
            if self.internal_error is not None:
                return  # Hypothesis runs out its examples; nothing more is sent
            # An answer is judged during the test case of a later example: nothing may be
            # raised from here, or Hypothesis would blame that example (and call it flaky).
            with self._internal_errors_caught():
                send(example)

        with self._internal_errors_caught():
            for example in category.planned:
                if self.stopped:
                    break
                send(example)
            explore()  # what escapes it is Hypothesis's or the strategy's, not a check's
            while waiting and self.internal_error is None:
                self._judge_all(category, *waiting.popleft())
        self._drain(category, waiting)

    def _drain(self, category: Category, waiting: deque[tuple[Example, Pending]]) -> None:
        """After an internal error: the answers already on their way are read, for the images
        they created (off loopback, those are removed at the end), and judged no more."""
        while waiting:
            example, pending = waiting.popleft()
            with self._internal_errors_caught():
                self._exchange(category.rule, example, pending)

    def _shrink(self, category: Category) -> None:
        @self._settings(Phase.generate, Phase.shrink)
        @hypothesis_seed(self.options.seed)
        @given(category.strategy)
        def exercise(example: Example) -> None:
            if self.stopped:
                return  # nothing more is sent to a target that stopped answering, or after a bug
            failures: list[_CheckFailure] = []
            with self._internal_errors_caught():
                failures = self._judge_all(category, example, self._start(example.form))
            # Hypothesis tells failures apart by exception type, and a group by its members:
            # each combination of failed checks is shrunk on its own, keeping all of them.
            if len(failures) == 1:
                raise failures[0]
            if failures:
                raise ExceptionGroup("checks failed", failures)

        try:
            exercise()
        except Exception as error:  # the failures were recorded as they happened
            self._after_shrinking(category, error)

    def _after_shrinking(self, category: Category, error: Exception) -> None:
        """What shrinking raised besides the checks' failures: Hypothesis's word that a failure
        no longer shows once the run stopped sending (expected), or a bug of ours."""
        if _only_check_failures(error) or self.internal_error is not None:
            return
        if self.gone:
            self._note(f"{category.rule}: the run stopped early: {error!r}")
        else:
            self.stop_on(_first_internal(error))

    def _start(self, form: str) -> Pending:
        if _INTERRUPTED.is_set():  # a Ctrl-C that a gc callback swallowed: see _interrupts_kept
            raise KeyboardInterrupt
        return self.transport.start(form)

    def _judge_all(
        self, category: Category, example: Example, pending: Pending
    ) -> list[_CheckFailure]:
        """The checks' failures on the answer to ``example``, sent as ``pending``."""
        exchanges = self._exchanges(category, example, pending)
        return [failure for x in exchanges for failure in self._judge(category, x)]

    def _exchanges(self, category: Category, example: Example, pending: Pending) -> list[Exchange]:
        if not category.twice:
            return [self._exchange(category.rule, example, pending)]
        first = self._exchange(VALID, example, pending)
        if first.response.status != 200:
            return [first]  # nothing was created, so the name is not taken
        taken = rule(DUPLICATE)
        again = Example(
            example.params, example.form, Expectation(taken.status, taken.code, taken.id)
        )
        return [first, self._exchange(DUPLICATE, again, self._start(again.form))]

    def _exchange(self, rule_id: str, example: Example, pending: Pending) -> Exchange:
        response = pending.answer()
        self._silent = self._silent + 1 if response.status is None else 0
        self.gone = self.gone or self._silent >= SILENT_LIMIT
        exchange = Exchange(rule_id, example, pending.sent, response, self._describe)
        image_id = _xml.path_text(exchange.root, "imageId") if response.status == 200 else None
        if image_id:
            self.created[image_id] = None
        return exchange

    def _judge(self, category: Category, exchange: Exchange) -> list[_CheckFailure]:
        """Run the checks on one exchange; the request counts in ``category``'s row."""
        failures: list[_CheckFailure] = []
        for check in self.checks:
            if not check.applies(exchange):
                continue
            try:
                check.run(exchange)
            except Deviation as deviation:
                failures.append(_failure_type(check.id)(deviation.message))
                self._record(check, exchange, deviation)
            except Skipped as skipped:
                self._note(f"{check.id}: skipped, {skipped}")
                continue
            self.outcome.exercised.add((check.id, exchange.rule))
        stats = self.outcome.rules[category.rule]
        stats.sent += 1
        stats.failed += bool(failures)
        self.outcome.requests += 1
        near_miss = exchange.example.near_miss
        if near_miss is not None and near_miss in self.outcome.coverage:
            self.outcome.coverage[near_miss] += 1
        return failures

    def _record(self, check: Check, exchange: Exchange, deviation: Deviation) -> None:
        finding = Finding(
            check.id,
            exchange.rule,
            deviation.severity,
            deviation.message,
            exchange.sent,
            exchange.response,
        )
        known = self.outcome.findings.get(finding.key)
        if known is None or len(finding.sent.body) < len(known.sent.body):
            self.outcome.findings[finding.key] = finding

    def _note(self, note: str) -> None:
        if note not in self.outcome.notes:
            self.outcome.notes.append(note)

    def _describe(self, filters: dict[str, str]) -> list[Image] | None:
        """DescribeImages by ``image-id`` or ``name``; ``None`` when the target does not answer
        DescribeImages at all, ``Deviation`` when it answers it with something else than images,
        or ignores its filters."""
        describes = self._answers_describe()
        if not describes.answers:
            return None
        if describes.ignores_filters:
            raise Deviation(describes.ignores_filters)
        pairs = []
        if "image-id" in filters:
            pairs.append(("ImageId.1", filters["image-id"]))
        if "name" in filters:
            pairs += [("Filter.1.Name", "name"), ("Filter.1.Value.1", filters["name"])]
        try:
            return _images(self._send_describe(pairs))
        except Deviation as problem:
            raise Deviation(f"DescribeImages did not answer with images: {problem}") from None

    def _answers_describe(self) -> _Describes:
        """Asked once per run."""
        if self._describes is None:
            self._describes = self._probe_describe()
        return self._describes

    def _probe_describe(self) -> _Describes:
        """A name no image has: a target that answers DescribeImages lists no image for it. One
        that lists some ignores its filters, which is a finding, not a reason to skip."""
        probe = "createimage-contract-probe-" + str(uuid.uuid4())
        answer = self._send_describe([("Filter.1.Name", "name"), ("Filter.1.Value.1", probe)])
        try:
            listed = _images(answer)
        except Deviation:
            return _Describes(answers=False)
        if not listed:
            return _Describes(answers=True)
        return _Describes(
            True, f"DescribeImages ignores its filters: name={probe} listed {len(listed)} images"
        )

    def _send_describe(self, pairs: list[tuple[str, str]]) -> Response:
        protocol = [("Action", "DescribeImages"), *_version()]
        _, response = self.transport.send(urlencode(protocol + pairs))
        self.outcome.requests += 1
        return response


@dataclass(frozen=True)
class _Describes:
    """What the probe learned of the target's DescribeImages."""

    answers: bool
    ignores_filters: str | None = None
    """Why its answers cannot be trusted, when a filter was ignored."""


def _version() -> list[tuple[str, str]]:
    return [("Version", protocol_parameters()["Version"])]


def _error_code_of(response: Response) -> str:
    try:
        return _xml.path_text(_xml.parse(response.body), "Errors", "Error", "Code") or ""
    except _xml.XmlProblem:
        return ""


def _images(response: Response) -> list[Image]:
    """The images of a DescribeImages answer; ``Deviation`` says why it is not one."""
    shape = _xml.shape("DescribeImagesResponse")
    if response.status != 200:
        raise Deviation(f"status {response.status or response.error}")
    try:
        root = _xml.parse(response.body)
    except _xml.XmlProblem as problem:
        raise Deviation(f"the body {problem}") from None
    if _xml.local_name(root) != shape.root:
        raise Deviation(f"the root element is {_xml.local_name(root)}, not {shape.root}")
    return [
        Image(
            _xml.path_text(item, "imageId") or "",
            _xml.path_text(item, "name"),
            _xml.path_text(item, "description"),
            {
                _xml.path_text(tag, "key") or "": _xml.path_text(tag, "value") or ""
                for tag in _xml.children(_xml.child(item, "tagSet"), "item")
            },
        )
        for item in _xml.children(_xml.child(root, "imagesSet"), "item")
    ]


class _CheckFailure(Exception):
    """A failed check, as Hypothesis sees it: one subclass per check, one failure each."""


_FAILURE_TYPES: dict[str, type[_CheckFailure]] = {}


def _failure_type(check_id: str) -> type[_CheckFailure]:
    if check_id not in _FAILURE_TYPES:
        name = "Check_" + check_id.replace("-", "_")
        _FAILURE_TYPES[check_id] = type(name, (_CheckFailure,), {})
    return _FAILURE_TYPES[check_id]


def _only_check_failures(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return all(_only_check_failures(e) for e in error.exceptions)
    return isinstance(error, _CheckFailure)


def _first_internal(error: BaseException) -> BaseException:
    """The first exception in ``error`` (a group, maybe) that is not a check's failure."""
    if isinstance(error, BaseExceptionGroup):
        for member in error.exceptions:
            if not _only_check_failures(member):
                return _first_internal(member)
    return error


# --- internal errors, in one line ----------------------------------------------------------------

PACKAGE = "createimage_contract"
SECRET_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
MAX_REPR = 300


def internal_error_line(error: BaseException) -> str:
    """``error`` and where it was raised, in one line, for a bug report:
    ``RuntimeError('boom') raised at conformance/_checks.py:57 in image_id``. Paths are
    within their package, never of this machine; when the raise is outside createimage-contract
    (a library, a callback), the last place of ours it went through follows."""
    what = " ".join(repr(error).split())
    if len(what) > MAX_REPR:
        what = what[: MAX_REPR - 3] + "..."
    frames = _frames(error)
    if not frames:
        return _without_secrets(f"{what} raised at an unknown place")
    line = f"{what} raised at {frames[-1][1]}"
    ours = [place for is_ours, place in frames if is_ours]
    if not frames[-1][0] and ours:
        line += f", via {ours[-1]}"
    return _without_secrets(line)


def _frames(error: BaseException) -> list[tuple[bool, str]]:
    """Each frame of ``error``'s traceback, outermost first: whether it is ours, and
    ``path:line in function``."""
    frames: list[tuple[bool, str]] = []
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        module = str(frame.f_globals.get("__name__", ""))
        is_ours = module == PACKAGE or module.startswith(PACKAGE + ".")
        frames.append(
            (is_ours, f"{_source_path(frame)}:{trace.tb_lineno} in {frame.f_code.co_name}")
        )
        trace = trace.tb_next
    return frames


def _source_path(frame: FrameType) -> str:
    """The frame's file as a path within its package, from the module's name (so the same
    wherever it is installed): ``conformance/_checks.py``, ``botocore/auth.py``."""
    module = str(frame.f_globals.get("__name__", ""))
    package = module if "__path__" in frame.f_globals else module.rpartition(".")[0]
    parts = package.split(".") if package else []
    if parts[:1] == [PACKAGE]:
        parts = parts[1:]
    return "/".join([*parts, PurePath(frame.f_code.co_filename).name])


def _without_secrets(text: str) -> str:
    """An exception's text may quote credentials; they never reach the output."""
    for name in SECRET_VARIABLES:
        secret = os.environ.get(name)
        if secret:
            text = text.replace(secret, REDACTED)
    return text


@contextmanager
def _shrink_budget(seconds: float) -> Iterator[None]:
    """Hypothesis shrinks for up to five minutes; a conformance run cannot wait that long.

    This sets Hypothesis's own limit (an internal, read each time shrinking starts) for the
    run, and puts it back after.
    """
    before = getattr(hypothesis_engine, "MAX_SHRINKING_SECONDS", None)
    if before is None:
        yield
        return
    hypothesis_engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        hypothesis_engine.MAX_SHRINKING_SECONDS = before


_INTERRUPTED = threading.Event()


@contextmanager
def _interrupts_kept() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt wherever it lands, as usual; but Hypothesis watches the
    collector with a gc callback, and what a gc callback raises is printed and dropped, so a
    Ctrl-C that lands there would be lost and the run would go on (seen: a run interrupted in
    CI that did not stop). The handler also notes it, and the session raises it again before
    its next request. A host with a handler of its own (or a thread) keeps it."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return

    def interrupted(signum: int, frame: FrameType | None) -> None:
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    _INTERRUPTED.clear()
    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _INTERRUPTED.clear()


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """The objects alive when the run starts are left out of the collector's passes while it
    goes: they are many (botocore's models, Hypothesis, the compiled contract) and outlive the
    run, yet each full collection walked them all again (measured against the reference: a
    run was about 5% slower without this). A host that froze its heap itself (a server that
    forks) keeps it as it was: the run then leaves the collector alone."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
