"""The engine: generated requests, through one transport, then through the checks.

For every category (valid requests, DryRun requests, each rule the strategies can break, and
the stateful cases: an unknown instance, a name used twice) the engine runs a Hypothesis test
that sends each example and runs every check on the answer. A failing check raises an
exception of its own type, so that Hypothesis shrinks each distinct failure (check x rule) on
its own and reports them all; the engine keeps, for each, the smallest request that showed it.
It emits events as it goes; the reporters consume them.
"""

from __future__ import annotations

import gc
import random
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.internal.conjecture import engine as hypothesis_engine

from createimage_contract._hypothesis import private_home
from createimage_contract.schema import Expectation, rule
from createimage_contract.schema._shapes import protocol_parameters
from createimage_contract.strategies import (
    Example,
    breakable_rules,
    dry_run_requests,
    invalid_requests,
    name_source,
    valid_requests,
)
from createimage_contract.strategies._examples import UniqueNames

from . import _xml
from ._checks import CHECKS, Check, Exchange, Failed, Image, Skipped
from ._transport import Pending, Response, Sent, Transport, is_loopback

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
    """What a category sends: its strategy, with the run's instance and names."""
    service: dict[str, Any] = {"instance_id": target.instance_id, "unique_names": names}
    if rule_id == VALID:
        return Category(VALID, valid_requests(**service))
    if rule_id == DRY_RUN:
        return Category(DRY_RUN, dry_run_requests(**service))
    if rule_id == DUPLICATE:
        return Category(DUPLICATE, valid_requests(**service), twice=True)
    return Category(rule_id, invalid_requests(rule_id, **service))


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
            with private_home(), _shrink_budget(self.options.shrink_seconds), _frozen_heap():
                for rule_id, names in zip(chosen, _name_starts(len(chosen)), strict=True):
                    self._merge(rule_id, session.run(rule_id, names))
                    if session.gone:
                        self.outcome.notes.append(
                            f"the run stopped after {rule_id}: the target did not answer "
                            f"{SILENT_LIMIT} requests in a row"
                        )
                        break
        finally:
            self.outcome.created = list(session.created)
            if not is_loopback(self.target.endpoint) and session.created:
                self._clean_up(session.created)
                outcome = self.outcome
                self._emit(CleanedUp(tuple(outcome.deregistered), dict(outcome.left_behind)))
            self.outcome.duration_s = time.perf_counter() - started
        self._emit(RunFinished(self.outcome))
        return self.outcome

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

    def _clean_up(self, created: dict[str, None]) -> None:
        """Deregister every image the run was answered with, then delete the snapshots
        DescribeImages said they had (EC2 keeps those, and bills them); say what could not
        be removed."""
        for image_id in created:
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

    def _merge(self, rule_id: str, found: Outcome) -> None:
        outcome = self.outcome
        outcome.requests += found.requests
        outcome.rules[rule_id] = found.rules.get(rule_id, RuleStats())
        outcome.exercised |= found.exercised
        outcome.notes += [note for note in found.notes if note not in outcome.notes]
        for key, finding in found.findings.items():
            known = outcome.findings.get(key)
            if known is None or len(finding.sent.body) < len(known.sent.body):
                outcome.findings[key] = finding
        count = sum(1 for f in found.findings.values() if f.rule == rule_id)
        self._emit(CategoryFinished(rule_id, outcome.rules[rule_id], count))

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
        self._describes: bool | None = None
        self.created: dict[str, None] = {}
        """Image ids answered, in order, over every category of the run."""
        self._silent = 0
        self.gone = False
        """The target stopped answering: nothing more is sent."""
        self.outcome = Outcome(target, options.seed)

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
        self._explore(category)
        # A missing answer does not depend on the request: shrinking it only waits longer.
        if any(f.check != "response" for f in self.outcome.findings.values()) and not self.gone:
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
        # One thread: the target works on the requests in flight while Hypothesis generates.
        waiting: deque[tuple[Example, Pending]] = deque()

        @self._settings(Phase.generate)
        @hypothesis_seed(self.options.seed)
        @given(category.strategy)
        def explore(example: Example) -> None:
            if len(waiting) == self.options.workers:
                self._settle(category, *waiting.popleft())
            if not self.gone:
                waiting.append((example, self.transport.start(example.form)))

        explore()
        while waiting:
            self._settle(category, *waiting.popleft())

    def _settle(self, category: Category, example: Example, pending: Pending) -> None:
        """Read and judge an answer while exploring. Nothing is raised: a failure is recorded,
        and the test case running now is another example's anyway."""
        try:
            self._judge_all(category, example, pending)
        except Exception as error:
            self._note(f"{category.rule}: an exchange failed: {error!r}")

    def _shrink(self, category: Category) -> None:
        @self._settings(Phase.generate, Phase.shrink)
        @hypothesis_seed(self.options.seed)
        @given(category.strategy)
        def exercise(example: Example) -> None:
            if self.gone:
                return  # nothing more is sent to a target that stopped answering
            failures = self._judge_all(category, example, self.transport.start(example.form))
            # Hypothesis tells failures apart by exception type, and a group by its members:
            # each combination of failed checks is shrunk on its own, keeping all of them.
            if len(failures) == 1:
                raise failures[0]
            if failures:
                raise ExceptionGroup("checks failed", failures)

        try:
            exercise()
        except Exception as error:  # the failures were recorded as they happened
            if not _only_check_failures(error):
                self._note(f"{category.rule}: the run stopped early: {error!r}")

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
        return [first, self._exchange(DUPLICATE, again, self.transport.start(again.form))]

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
            except Failed as failed:
                failures.append(_failure_type(check.id)(failed.message))
                self._record(check, exchange, failed)
            except Skipped as skipped:
                self._note(f"{check.id}: skipped, {skipped}")
                continue
            self.outcome.exercised.add((check.id, exchange.rule))
        stats = self.outcome.rules[category.rule]
        stats.sent += 1
        stats.failed += bool(failures)
        self.outcome.requests += 1
        return failures

    def _record(self, check: Check, exchange: Exchange, failed: Failed) -> None:
        finding = Finding(
            check.id,
            exchange.rule,
            failed.severity,
            failed.message,
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
        DescribeImages at all, ``Failed`` when it answers it with something else than images."""
        if not self._answers_describe():
            return None
        pairs = []
        if "image-id" in filters:
            pairs.append(("ImageId.1", filters["image-id"]))
        if "name" in filters:
            pairs += [("Filter.1.Name", "name"), ("Filter.1.Value.1", filters["name"])]
        try:
            return _images(self._send_describe(pairs))
        except ValueError as problem:
            raise Failed(f"DescribeImages did not answer with images: {problem}") from None

    def _answers_describe(self) -> bool:
        """Asked once per run."""
        if self._describes is None:
            self._describes = self._probe_describe()
        return self._describes

    def _probe_describe(self) -> bool:
        """A name no image has must get an empty list of images."""
        probe = "createimage-contract-probe-" + str(uuid.uuid4())
        answer = self._send_describe([("Filter.1.Name", "name"), ("Filter.1.Value.1", probe)])
        try:
            return _images(answer) == []
        except ValueError:
            return False

    def _send_describe(self, pairs: list[tuple[str, str]]) -> Response:
        protocol = [("Action", "DescribeImages"), *_version()]
        _, response = self.transport.send(urlencode(protocol + pairs))
        self.outcome.requests += 1
        return response


def _version() -> list[tuple[str, str]]:
    return [("Version", protocol_parameters()["Version"])]


def _error_code_of(response: Response) -> str:
    try:
        return _xml.path_text(_xml.parse(response.body), "Errors", "Error", "Code") or ""
    except _xml.XmlProblem:
        return ""


def _images(response: Response) -> list[Image]:
    """The images of a DescribeImages answer; ``ValueError`` says why it is not one."""
    shape = _xml.shape("DescribeImagesResponse")
    if response.status != 200:
        raise ValueError(f"status {response.status or response.error}")
    try:
        root = _xml.parse(response.body)
    except _xml.XmlProblem as problem:
        raise ValueError(f"the body {problem}") from None
    if _xml.local_name(root) != shape.root:
        raise ValueError(f"the root element is {_xml.local_name(root)}, not {shape.root}")
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
