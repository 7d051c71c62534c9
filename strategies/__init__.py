"""Hypothesis strategies for CreateImage requests, compiled from the contract in ``schema/``.

Every strategy yields ``Example`` objects: the request as boto3-style ``params`` (``None`` where
those cannot say it), as the ``form`` body sent on the wire, and the ``expect``-ed answer of a
conforming service (status, EC2 error code, rule id)::

    from hypothesis import given
    from createimage_contract.strategies import invalid_requests

    @given(invalid_requests("name.charset"))
    def test_my_service_rejects_bad_names(example):
        response = my_service.post(example.form)
        assert response.status_code == example.expect.status

Options for a run against a live service: ``instance_id`` (the instance the requests name; the
expectations assume the service holds it and no other), ``unknown_instance_id`` (a well-formed
id it does not hold, for ``instance-id.not-found``), ``taken_names`` (names it already holds,
for ``name.duplicate``), and ``unique_names`` (no two requests of a run share a name).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from functools import cache
from typing import Any

from hypothesis import strategies as st

from createimage_contract.schema import rules

from ._examples import Draft, Example, NearMiss, Service, UniqueNames, finish, outcome_member
from ._home import drawn, private_home
from ._kinds import breaker
from ._plan import Planner
from ._spec import field_at, flatten, sites_of
from ._values import objects, valid

__all__ = [
    "Example",
    "NearMiss",
    "UniqueNames",
    "boundary_requests",
    "breakable_rules",
    "drawn",
    "dry_run_requests",
    "invalid_requests",
    "name_source",
    "near_misses",
    "private_home",
    "requests",
    "simplest_request",
    "valid_requests",
]

# The service rules, and the option (and command-line flag) that holds the state they need.
SERVICE_RULES = {
    "instance-id.not-found": ("instance_id", "--instance-id"),
    "name.duplicate": ("taken_names", "--taken-name"),
}


def valid_requests(
    *,
    instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
) -> st.SearchStrategy[Example]:
    """Requests that break no rule of the catalogue; the expected answer is 200."""
    service = Service(instance_id, taken_names)
    return _drafts(service, unique_names, dry_run=False).map(lambda d: finish(d, service))


def dry_run_requests(
    *,
    instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
) -> st.SearchStrategy[Example]:
    """Valid requests with ``DryRun=true``; the expected answer is 412 ``DryRunOperation``."""
    service = Service(instance_id, taken_names)
    return _drafts(service, unique_names, dry_run=True).map(lambda d: finish(d, service))


def invalid_requests(
    rule: str | None = None,
    *,
    instance_id: str | None = None,
    unknown_instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
) -> st.SearchStrategy[Example]:
    """Requests that break exactly one rule (``rule``, or any of ``breakable_rules()``) and are
    otherwise valid; ``example.expect`` is the answer a conforming service gives."""
    service = Service(instance_id, taken_names)
    chosen = [_check_rule(rule, service)] if rule else _breakable(service)
    strategies = [_broken(r, service, unknown_instance_id, unique_names) for r in chosen]
    return st.one_of(strategies)


def requests(
    *,
    instance_id: str | None = None,
    unknown_instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
) -> st.SearchStrategy[Example]:
    """Valid, invalid and DryRun requests, mixed."""
    shared = _unique(unique_names)  # one counter: the three kinds must not share names either
    state: dict[str, Any] = {"instance_id": instance_id, "taken_names": taken_names}
    return st.one_of(
        valid_requests(**state, unique_names=shared or False),
        invalid_requests(
            **state, unknown_instance_id=unknown_instance_id, unique_names=shared or False
        ),
        dry_run_requests(**state, unique_names=shared or False),
    )


def near_misses(
    rule: str | None = None,
    *,
    instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
) -> list[Example]:
    """The near misses of ``rule`` (or of every breakable rule), in a fixed order: for each
    assertion of the schema that the rule makes, each way of breaking it that real
    implementations get wrong (a case flip, a Unicode digit, a trailing newline, a length
    between two allowed ones, another value of the same enum in EC2, ...), the first of them
    also at the first, a middle and the last item of each list on its path, and one with
    ``DryRun=true``. Each breaks exactly its rule; ``example.near_miss`` says how. Service rules
    have none (they are about the service's state, not a value)."""
    service = Service(instance_id, taken_names)
    planner = Planner(service, _unique(unique_names))
    chosen = [_check_rule(rule, service)] if rule else _breakable(service)
    return [e for r in chosen if rules()[r].kind == "request" for e in planner.near_misses(r)]


def simplest_request(
    *,
    instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
    dry_run: bool = False,
) -> Example:
    """The simplest valid request (InstanceId and Name), with ``DryRun=true`` when
    ``dry_run``: the base that planned requests change in one way each."""
    service = Service(instance_id, taken_names)
    return Planner(service, _unique(unique_names)).simplest(dry_run=dry_run)


def boundary_requests(
    *,
    instance_id: str | None = None,
    taken_names: Collection[str] = (),
    unique_names: bool | UniqueNames = False,
    dry_run: bool = False,
) -> list[Example]:
    """Valid requests exactly at every limit of the schema, in a fixed order: the shortest and
    the longest values (the longest also in multi-byte characters: limits count characters),
    a full list, every allowed value of an enum, every character of an alphabet. With
    ``dry_run``, each carries ``DryRun=true`` and expects 412 ``DryRunOperation``."""
    service = Service(instance_id, taken_names)
    return Planner(service, _unique(unique_names)).boundaries(_breakable(service), dry_run=dry_run)


def breakable_rules(
    *, instance_id: str | None = None, taken_names: Collection[str] = ()
) -> list[str]:
    """The rules ``invalid_requests`` produces, in catalogue order. Rules about the HTTP request
    (headers) are left to ``lint``; the service rules need the service's state."""
    return _breakable(Service(instance_id, taken_names))


def _breakable(service: Service) -> list[str]:
    return [
        rule.id
        for rule in rules().values()
        if (rule.kind == "request" and any(breaker(s) for s in sites_of(rule.id)))
        or (rule.kind == "service" and _has_state(rule.id, service))
    ]


def _has_state(rule_id: str, service: Service) -> bool:
    return bool(getattr(service, SERVICE_RULES[rule_id][0]))


def _check_rule(rule_id: str, service: Service) -> str:
    if rule_id not in rules():
        raise ValueError(f"no rule {rule_id!r}; the rules are {', '.join(breakable_rules())}")
    kind = rules()[rule_id].kind
    if kind == "service" and not _has_state(rule_id, service):
        option, flag = SERVICE_RULES[rule_id]
        raise ValueError(f"{rule_id} needs the service's state: {option}= ({flag})")
    if rule_id not in _breakable(service):
        reason = {
            "http": "it is about HTTP headers; lint checks it",
            "outcome": "use dry_run_requests()",
        }
        raise ValueError(f"{rule_id} cannot be generated: {reason.get(kind, 'it has no breaker')}")
    return rule_id


@cache
def _parameters(fixed: frozenset[str] = frozenset()) -> st.SearchStrategy[dict[str, Any]]:
    """Valid parameters; members in ``fixed`` are not drawn (the caller sets them)."""
    body = field_at(())
    if not fixed:
        return valid(body)
    spec = flatten(body)
    kept = {name: member for name, member in spec.properties.items() if name not in fixed}
    return objects(dataclasses.replace(spec, properties=kept))


@cache
def _name_alphabet() -> str:
    return flatten(field_at(("Name",))).alphabet or ""


def _drafts(
    service: Service, unique_names: bool | UniqueNames, *, dry_run: bool
) -> st.SearchStrategy[Draft]:
    unique = _unique(unique_names)
    (member,), value = outcome_member("dry-run")

    def draft(body: dict[str, Any]) -> Draft:
        if service.instance_id is not None:
            body["InstanceId"] = service.instance_id
        if unique is not None:
            body["Name"] = unique(body["Name"])
        body["Name"] = _untaken(body["Name"], service.taken_names)
        if dry_run:
            body[member] = value
        elif body.get(member) == value:
            body[member] = not value
        return Draft(body)

    fixed = frozenset({"InstanceId"} if service.instance_id else ())
    return _parameters(fixed).map(lambda body: draft(_copy(body)))


def name_source(start: int = 0) -> UniqueNames:
    """Run-unique names to share between strategies (``unique_names=name_source()``), so that
    no two of them give the same name either; a random ``start`` keeps runs apart."""
    return UniqueNames(_name_alphabet(), start)


def _unique(option: bool | UniqueNames) -> UniqueNames | None:
    if isinstance(option, UniqueNames):
        return option
    return name_source() if option else None


def _untaken(name: str, taken: Collection[str]) -> str:
    """``name``, with its last character changed while a service already holds it."""
    for replacement in _name_alphabet():
        if name not in taken:
            break
        name = name[:-1] + replacement
    return name


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _broken(
    rule_id: str, service: Service, unknown_instance_id: str | None, unique: bool | UniqueNames
) -> st.SearchStrategy[Example]:
    drafts = _drafts(service, unique, dry_run=False)
    if rule_id == "instance-id.not-found":
        return _unknown_instance(drafts, service, unknown_instance_id)
    if rule_id == "name.duplicate":
        return st.tuples(drafts, st.sampled_from(sorted(service.taken_names))).map(
            lambda pair: finish(_with(pair[0], "Name", pair[1]), service)
        )
    breaks = st.sampled_from([b for site in sites_of(rule_id) if (b := breaker(site)) is not None])

    @st.composite
    def build(draw: st.DrawFn) -> Example:
        draft = draw(drafts)
        draw(breaks)(draw, draft)
        return finish(draft, service)

    return build()


def _unknown_instance(
    drafts: st.SearchStrategy[Draft], service: Service, unknown: str | None
) -> st.SearchStrategy[Example]:
    ids = st.just(unknown) if unknown else valid(field_at(("InstanceId",)))

    def absent(instance_id: str) -> str:
        if instance_id != service.instance_id:
            return instance_id
        last = "0" if instance_id[-1] != "0" else "1"
        return instance_id[:-1] + last

    return st.tuples(drafts, ids.map(absent)).map(
        lambda pair: finish(_with(pair[0], "InstanceId", pair[1]), service)
    )


def _with(draft: Draft, member: str, value: Any) -> Draft:
    draft.body[member] = value
    return draft
