"""The engine: generated requests, through one transport, then through the checks.

For every category (valid requests, DryRun requests, each rule the strategies can break, and
the stateful cases: an unknown instance, a name used twice) the engine runs a Hypothesis test
that sends each example and runs every check on the answer. A failing check raises an
exception of its own type, so that Hypothesis shrinks each distinct failure (check x rule) on
its own and reports them all; the engine keeps, for each, the smallest request that showed it.
It tells its listeners as it goes; the reporters listen.

Exploring never raises into Hypothesis, so what it draws does not depend on the answers: the
coming categories' examples are drawn ahead, by forked generator processes (``_ahead``), while
this process signs, sends and checks the current one's; without them (``generators=0``, or no
safe fork) each example is drawn here, between sending one and reading an answer. Shrinking
always draws here: it depends on the answers.

Only a ``Deviation`` is a finding about the target. Any other exception (in a check, parsing,
signing, sending, the strategies, Hypothesis itself) is a bug of ours: an internal error. It
stops the sending at once, is never handed to Hypothesis (which would replay and shrink it,
sending more), and ends up in ``RunResult.internal_error`` as one line naming it and where it
was raised, so that no report can mistake the run for a pass.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from createimage_contract.schema import Error, Expectation, rule
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
    simplest_request,
    valid_requests,
)

from . import _xml
from ._ahead import Ahead, DrawFailed, Drawn, automatic_generators, can_fork, drawing_ahead
from ._checks import CHECKS, DRY_RUN, VALID, Check, Exchange, Skipped
from ._deviation import Deviation
from ._images import TargetImages
from ._options import Options
from ._probes import Forgery, forgeries_of, probed_rules
from ._results import (
    CleanedUp,
    Event,
    Finding,
    Listener,
    RuleStats,
    RunFinished,
    RunResult,
    RunStarted,
    Target,
)
from ._runtime import (
    frozen_heap,
    internal_error_line,
    interrupt_held,
    interrupts_kept,
    raise_if_interrupted,
    shrink_budget,
)
from ._transport import Pending, Transport, is_loopback

DUPLICATE = "name.duplicate"
UNKNOWN_INSTANCE = "InvalidInstanceID.NotFound"
SILENT_LIMIT = 10
"""Requests in a row without an answer after which the run stops: the target is gone."""
_ANY_INSTANCE = "i-00000000"


@dataclass(frozen=True)
class Category:
    rule: str
    strategy: st.SearchStrategy[Example]
    planned: tuple[Example, ...] = ()
    """Sent first, whatever the seed: the near misses of the rule, or the requests at every
    limit (``valid``, ``dry-run``)."""
    twice: bool = False
    """Send each example twice: the second time, its name is already taken."""
    forgeries: Mapping[str, Forgery] = field(default_factory=dict)
    """A probe's forgery by the kind its examples are labelled with."""


def category_names() -> list[str]:
    """What a run sends, category by category, in order. A run always names an instance, so
    ``instance-id.not-found`` is among them."""
    rule_ids = breakable_rules(instance_id=_ANY_INSTANCE)
    return [VALID, DRY_RUN, *probed_rules(), *rule_ids, DUPLICATE]


def _category(rule_id: str, target: Target, names: UniqueNames, planned: bool = True) -> Category:
    """What a category sends: its planned requests (none unless ``planned``: they take time
    to make, and shrinking does not send them), then its strategy's, with the run's instance
    and names."""
    service: dict[str, Any] = {"instance_id": target.instance_id, "unique_names": names}
    if rule_id == VALID:
        at_limits = boundary_requests(**service) if planned else []
        return Category(VALID, valid_requests(**service), tuple(at_limits))
    if rule_id == DRY_RUN:
        at_limits = boundary_requests(**service, dry_run=True) if planned else []
        return Category(DRY_RUN, dry_run_requests(**service), tuple(at_limits))
    if rule_id == DUPLICATE:
        return Category(DUPLICATE, valid_requests(**service), twice=True)
    if rule(rule_id).sent_as_probe:
        return _probes(rule_id, service, planned)
    near = planned and rule(rule_id).kind == "request"
    misses = near_misses(rule_id, **service) if near else []
    return Category(rule_id, invalid_requests(rule_id, **service), tuple(misses))


def _probes(rule_id: str, service: dict[str, Any], planned: bool) -> Category:
    """Valid DryRun requests, each forged in one of the rule's ways: each way once on the
    simplest, then drawn requests in drawn ways."""
    probed = rule(rule_id)
    expected = Expectation(probed.status, probed.code, rule_id)
    ways = forgeries_of(rule_id)

    def forged(example: Example, way: Forgery) -> Example:
        label = NearMiss(rule_id, way.site, way.kind)
        return Example(example.params, example.form, expected, label)

    drawn = st.tuples(dry_run_requests(**service), st.sampled_from(ways))
    simplest = [simplest_request(**service, dry_run=True)] if planned else []
    each_way = tuple(forged(example, way) for example in simplest for way in ways)
    kinds = {way.kind: way for way in ways}
    return Category(rule_id, drawn.map(lambda pair: forged(*pair)), each_way, forgeries=kinds)


def _settings(options: Options, *phases: Phase) -> settings:
    return settings(
        max_examples=options.max_examples,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=True,
    )


@dataclass(frozen=True)
class _Plan:
    """The categories of a run, each with its range of names; what a child needs to draw."""

    target: Target
    options: Options
    rule_ids: list[str]
    name_starts: list[int]

    def draw(self, index: int) -> Drawn:
        """Category ``index``'s examples, as its exploration would draw them."""
        names = name_source(self.name_starts[index])
        category = _category(self.rule_ids[index], self.target, names)
        generated: list[Example] = []
        _exploring(self.options, category.strategy, generated.append)()
        return Drawn(category.planned, tuple(generated), names.issued)


def _exploring(
    options: Options, strategy: st.SearchStrategy[Example], each: Callable[[Example], None]
) -> Callable[[], None]:
    """The Hypothesis test that explores a category: ``each`` of its examples, drawn from
    ``strategy``, is handed to ``each``. One test whether drawn here or ahead: the same seed
    draws the same examples."""

    @_settings(options, Phase.generate)
    @hypothesis_seed(options.seed)
    @given(strategy)
    def explore(example: Example) -> None:
        each(example)

    return explore


class Engine:
    """Runs the categories one after the other, merges what each found into one
    ``RunResult``, and tells the listeners as it goes."""

    def __init__(
        self, target: Target, transport: Transport, options: Options, listeners: list[Listener]
    ) -> None:
        self.target = target
        self.options = options
        self.listeners = listeners
        self.images = TargetImages(transport)
        self._transport = transport
        self.result = RunResult(target, options.seed)
        self.result.signed_with_token = transport.uses_session_token

    def run(self) -> RunResult:
        """The run; off loopback, whatever it created is deregistered at the end, also when
        it ends early (a failure of ours, Ctrl-C)."""
        chosen = [rule_id for rule_id in self._categories() if self.options.selects(rule_id)]
        self._emit(RunStarted(self.target, tuple(chosen)))
        started = time.perf_counter()
        session = _Session(self.target, self.options, self._transport, self.images)
        try:
            with (
                private_home(),
                shrink_budget(self.options.shrink_seconds),
                frozen_heap(),
                interrupts_kept(),
            ):
                self._run_categories(chosen, session)
        except Exception as error:  # ours, between the categories' Hypothesis tests
            session.stop_on(error)
        finally:
            self.result.created = list(session.created)
            if not is_loopback(self.target.endpoint) and session.created:
                self._clean_up(session)
                result = self.result
                self._emit(
                    CleanedUp(
                        tuple(result.deregistered),
                        dict(result.left_behind),
                        tuple(result.deleted_snapshots),
                    )
                )
            self._hint(session)
            self.result.requests += self.images.requests
            self.result.internal_error = session.internal_error
            self.result.duration_s = time.perf_counter() - started
        self._emit(RunFinished(self.result))
        return self.result

    def _run_categories(self, chosen: list[str], session: _Session) -> None:
        plan = _Plan(self.target, self.options, chosen, _name_starts(len(chosen)))
        processes = self.options.generators
        if processes is None:
            processes = automatic_generators()
        elif processes and not can_fork():
            self.result.note(
                f"--generators {processes}: no process can be forked safely here (only on Linux, "
                "and not from a pool's worker); the examples were drawn in the run's own process"
            )
            processes = 0
        with drawing_ahead(plan.draw, len(chosen), processes) as ahead:
            self._run_each(plan, session, ahead)

    def _run_each(self, plan: _Plan, session: _Session, ahead: Ahead | None) -> None:
        starts = zip(plan.rule_ids, plan.name_starts, strict=True)
        for index, (rule_id, names) in enumerate(starts):
            try:
                drawn = ahead.drawn(index) if ahead else None
            except DrawFailed as failed:
                session.stop_with(failed.line)
                return
            finished = self.result.merge(rule_id, session.run(rule_id, names, drawn))
            if session.internal_error is not None:
                return  # the category did not finish: no progress mark (maybe green) for it
            self._emit(finished)
            if session.gone:
                self.result.note(
                    f"the run stopped after {rule_id}: the target did not answer "
                    f"{SILENT_LIMIT} requests in a row"
                )
                return

    @property
    def creates_images(self) -> bool:
        """Valid requests without DryRun go to loopback targets only, unless allowed."""
        return is_loopback(self.target.endpoint) or self.options.allow_resource_creation

    def _categories(self) -> list[str]:
        names = category_names()
        if self.creates_images:
            return names
        self.result.note(
            f"{VALID}, {DUPLICATE}: not sent, they would create images on a target off "
            "loopback (only DryRun requests are; --allow-resource-creation sends them)"
        )
        return [name for name in names if name not in (VALID, DUPLICATE)]

    def _clean_up(self, session: _Session) -> None:
        """Remove every image the run was answered with, and its snapshots; say what could not
        be removed. A bug of ours while removing one image is the run's internal error (if it
        has none yet), and the next images are still tried."""
        for image_id in session.created:
            try:
                removed = self.images.remove(image_id)
            except Exception as error:
                session.stop_on(error)
                self.result.left_behind[image_id] = f"internal error: {internal_error_line(error)}"
                continue
            if removed.image is None:
                self.result.deregistered.append(image_id)
            else:
                self.result.left_behind[image_id] = removed.image
            for snapshot_id, why_not in removed.snapshots.items():
                if why_not is None:
                    self.result.deleted_snapshots.append(snapshot_id)
                else:
                    self.result.left_behind[snapshot_id] = why_not

    def _hint(self, session: _Session) -> None:
        """The commonest mistake: an instance the target does not hold. Every valid request
        then gets the same error, and every rule that needs a known instance fails with it."""
        valid, unknown = session.valid_answers, session.unknown_instance_answers
        if valid and unknown == valid:
            self.result.hints.append(
                f"every valid request ({valid}) was answered {UNKNOWN_INSTANCE}: the target "
                f"does not hold {self.target.instance_id}, so --instance-id is probably wrong"
            )

    def _emit(self, event: Event) -> None:
        for listener in self.listeners:
            listener(event)


def _name_starts(count: int) -> list[int]:
    """A range of names for each category, within the names ``UniqueNames`` makes.

    The first is random: a rerun against a service that remembers names (the examples repeat
    with the seed; the names need not) does not meet the names of the last run.
    """
    names = _name_count()
    span = names // max(count, 1)
    base = random.SystemRandom().randrange(names)
    return [(base + index * span) % names for index in range(count)]


def _name_count() -> int:
    """How many names ``UniqueNames`` makes before it repeats."""
    return name_source().capacity


class _Session:
    """Runs one category at a time: its Hypothesis test, the exchanges, the checks."""

    def __init__(
        self, target: Target, options: Options, transport: Transport, images: TargetImages
    ) -> None:
        self.target = target
        self.options = options
        self.transport = transport
        self.images = images
        self.checks = [check for check in CHECKS if check.id in options.checks]
        self.created: dict[str, None] = {}
        """Image ids answered, in order, over every category of the run."""
        self._silent = 0
        self.gone = False
        """The target stopped answering: nothing more is sent."""
        self.internal_error: str | None = None
        """The first bug of ours, as one line: nothing more is sent."""
        self.result = RunResult(target, options.seed)
        self.valid_answers = 0
        """Answers to valid requests (DryRun or not, probes aside), over the run."""
        self.unknown_instance_answers = 0
        """Those of them that said the instance is unknown."""

    @property
    def stopped(self) -> bool:
        """Nothing more is sent: the target stopped answering, or a bug of ours stopped the run."""
        return self.gone or self.internal_error is not None

    def stop_on(self, error: BaseException) -> None:
        """Record a bug of ours (the first one is the run's) and stop sending."""
        self.stop_with(internal_error_line(error))

    def stop_with(self, line: str) -> None:
        """``stop_on`` for a bug already told in one line (by a child drawing examples)."""
        if self.internal_error is None:
            self.internal_error = line

    @contextmanager
    def _internal_errors_caught(self) -> Iterator[None]:
        """What raises in here is not a finding (``_judge`` keeps those): it is a bug of ours,
        recorded by ``stop_on``, and never raised into Hypothesis, which would replay and
        shrink it, sending more requests. Ctrl-C (not an ``Exception``) goes through."""
        try:
            yield
        except Exception as error:
            self.stop_on(error)

    def run(self, rule_id: str, name_start: int, drawn: Drawn | None = None) -> RunResult:
        """What one category found; the session starts a new result for each.

        First the examples are explored with up to ``options.workers`` requests in flight: an
        answer is read and judged when the next example has been generated (or taken from
        ``drawn``, drawn ahead by a child) and one more request would be too many. A category
        where something failed is then run again, one request at a time, so that Hypothesis
        can shrink each failure.
        """
        self.result = RunResult(self.target, self.options.seed)
        self.result.rules[rule_id] = RuleStats()
        if drawn is None:
            category = _category(rule_id, self.target, name_source(name_start))
            planned = category.planned
        else:  # shrinking takes names after those the child took
            names = name_source(name_start + drawn.names_issued)
            category = _category(rule_id, self.target, names, planned=False)
            planned = drawn.planned
        self.result.coverage = {e.near_miss: 0 for e in planned if e.near_miss}
        self._explore(category, planned, drawn)
        # A missing answer does not depend on the request: shrinking it only waits longer.
        if any(f.check != "response" for f in self.result.findings.values()) and not self.stopped:
            self._shrink(category)
        return self.result

    def _explore(
        self, category: Category, planned: tuple[Example, ...], drawn: Drawn | None
    ) -> None:
        """The planned requests, then the generated ones (drawn here, or ahead)."""
        # One thread: the target works on the requests in flight while Hypothesis generates.
        waiting: deque[tuple[Example, Pending]] = deque()

        def send(example: Example) -> None:
            if len(waiting) == self.options.workers:
                self._judge_all(category, *waiting.popleft())
            if not self.stopped:
                waiting.append((example, self._start(example, category)))

        def explore(example: Example) -> None:
            if self.internal_error is not None:
                return  # Hypothesis runs out its examples; nothing more is sent
            # An answer is judged during the test case of a later example: nothing may be
            # raised from here, or Hypothesis would blame that example (and call it flaky).
            with self._internal_errors_caught():
                send(example)

        with self._internal_errors_caught():
            for example in planned + (drawn.generated if drawn else ()):
                if self.stopped:
                    break
                send(example)
            if drawn is None:
                # What escapes it is Hypothesis's or the strategy's, not a check's.
                _exploring(self.options, category.strategy, explore)()
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
        @_settings(self.options, Phase.generate, Phase.shrink)
        @hypothesis_seed(self.options.seed)
        @given(category.strategy)
        def exercise(example: Example) -> None:
            if self.stopped:
                return  # nothing more is sent to a target that stopped answering, or after a bug
            failures: list[_CheckFailure] = []
            with self._internal_errors_caught():
                failures = self._judge_all(category, example, self._start(example, category))
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
            self.result.note(f"{category.rule}: the run stopped early: {error!r}")
        else:
            self.stop_on(_first_internal(error))

    def _start(self, example: Example, category: Category) -> Pending:
        """Send ``example``: signed, or forged as its category's probes are."""
        raise_if_interrupted()  # a Ctrl-C that a gc callback swallowed
        label = example.near_miss
        forgery = category.forgeries.get(label.kind) if label is not None else None
        return self.transport.start(example.form, forgery)

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
        return [first, self._exchange(DUPLICATE, again, self._start(again, category))]

    def _exchange(self, rule_id: str, example: Example, pending: Pending) -> Exchange:
        with interrupt_held():  # the image an answer creates is always known, to be removed
            response = pending.answer()
            exchange = Exchange(rule_id, example, pending.sent, response, self.images.describe)
            ok = response.status == 200
            image_id = _xml.path_text(exchange.root, "imageId") if ok else None
            if image_id:
                self.created[image_id] = None
        self._silent = self._silent + 1 if response.status is None else 0
        self.gone = self.gone or self._silent >= SILENT_LIMIT
        if example.expect.rule in (None, DRY_RUN) and response.status is not None:
            self.valid_answers += 1
            self.unknown_instance_answers += _xml.error_code(exchange.root) == UNKNOWN_INSTANCE
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
                self.result.note(f"{check.id}: skipped, {skipped}")
                continue
            self.result.exercised.add((check.id, exchange.rule))
        stats = self.result.rules[category.rule]
        stats.sent += 1
        stats.failed += bool(failures)
        self.result.requests += 1
        near_miss = exchange.example.near_miss
        if near_miss is not None and near_miss in self.result.coverage:
            self.result.coverage[near_miss] += 1
        return failures

    def _record(self, check: Check, exchange: Exchange, deviation: Deviation) -> None:
        self.result.keep(
            Finding(
                check.id,
                exchange.rule,
                deviation.severity,
                deviation.message,
                exchange.sent,
                exchange.response,
            )
        )


class _CheckFailure(Error):
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
