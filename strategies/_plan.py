"""The planned requests of a run: each near miss and each value at a limit of the contract,
placed in the simplest valid request, deterministically, so that every run sends all of them
whatever its seed. What each constraint kind plans is ``_kinds``'s table."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from createimage_contract.schema import ANY_ITEM, Constraint, Path

from ._examples import Draft, Example, NearMiss, Service, UniqueNames, finish, outcome_member
from ._kinds import boundaries, misses
from ._near import DRY_RUN_KIND, Miss, text_like
from ._simple import items_of, list_size, simplest
from ._spec import Spec, field_at, flatten, sites_of, trigger

Position = dict[int, tuple[int, int]]
"""For the list steps of a path (by their place in it): how many items, and which one."""


def site_label(site: Constraint) -> str:
    """The site as the coverage table names it: ``/TagSpecifications/*/Tags/*/Key maxLength``."""
    where = "/".join(site.path)
    text = f"{'' if site.part == 'body' else site.part + ':'}/{where} {site.keyword}"
    if site.keyword == "if":
        name, value = trigger(site.value)
        text += f" {name}={value}"
    return text


def _place(body: dict[str, Any], path: Path, position: Position) -> Any:
    """The container at ``path`` in ``body``, created valid where missing; each list on the
    way gets the items ``position`` asks for (one, by default), and the path goes on from the
    chosen one."""
    node: Any = body
    for depth, step in enumerate(path):
        if step == ANY_ITEM:
            count, chosen = position.get(depth, (1, 0))
            if len(node) < count:
                node[:] = items_of(path[: depth + 1], count)
            node = node[chosen]
        else:
            if step not in node or not isinstance(node[step], dict | list):
                value = simplest(path[: depth + 1])
                node[step] = copy.deepcopy(value) if isinstance(value, dict | list) else {}
            node = node[step]
    return node


def positions(path: Path) -> Iterator[tuple[str, Position]]:
    """The first, a middle and the last item of a full list, for each list on ``path``."""
    for depth, step in enumerate(path):
        if step != ANY_ITEM:
            continue
        count = list_size(path[:depth])
        name = path[depth - 1]
        for chosen in dict.fromkeys((0, count // 2, count - 1)):
            yield f"at item {chosen + 1} of {count} {name}", {depth: (count, chosen)}


def _target(site: Constraint) -> tuple[Path, Any]:
    """Where an edit of ``site`` applies: the container's path, and the key in it."""
    if site.keyword in ("required", "additionalProperties", "if") or site.part == "query":
        return site.path, None
    return site.path[:-1], site.path[-1]


def _apply(
    draft: Draft, site: Constraint, choose: Callable[[Any], Miss], position: Position
) -> str:
    """Apply the miss ``choose`` picks for the value now at ``site``; its kind."""
    path, key = _target(site)
    if site.part == "query":
        miss = choose(draft.query.get(site.path[-1]) if site.keyword == "const" else None)
        miss.edit(draft.query, site.path[-1] if site.keyword == "const" else None)
        return miss.kind
    container = _place(draft.body, path, position)
    if key == ANY_ITEM:  # the item itself: the list needs its items first
        count, key = position.get(len(path), (1, 0))
        if len(container) < count:
            container[:] = items_of((*path, ANY_ITEM), count)
    current = container[key] if isinstance(container, dict) and key in container else None
    miss = choose(current)
    miss.edit(container, key)
    return miss.kind


def plannable(site: Constraint) -> bool:
    """Sites a planned request can break on the wire (not a JSON type the wire cannot carry)."""
    wire_type = site.keyword == "type" and bool(site.path) and site.value != ("string",)
    return bool(site.rule) and (site.keyword != "type" or wire_type)


@dataclass(frozen=True)
class Planner:
    """Builds the planned requests: each from the simplest valid request, with the service's
    instance and the run's unique names, changed in one planned way."""

    service: Service
    names: UniqueNames | None = None

    def draft(self) -> Draft:
        body = {"InstanceId": self.service.instance_id or simplest(("InstanceId",))}
        name = simplest(("Name",))
        if self.names is not None:
            name = self.names(text_like(_name_spec(), UniqueNames.WIDTH + 5, name))
        body["Name"] = _untaken(name, self.service.taken_names)
        return Draft(body)

    def simplest(self, *, dry_run: bool = False) -> Example:
        draft = self.draft()
        if dry_run:
            (member,), value = outcome_member("dry-run")
            draft.body[member] = value
        return finish(draft, self.service)

    def near_misses(self, rule_id: str) -> list[Example]:
        """Every near miss at every site of ``rule_id``, the first one also at each list
        position and once with DryRun=true; each breaks exactly ``rule_id``."""
        planned: list[Example] = []
        sites = [site for site in sites_of(rule_id) if plannable(site)]
        for site in sites:
            count = len(self._misses(site, {}, misses))
            for index in range(count):
                planned.append(self._planned(site, {}, misses, index, rule_id))
            for kind, position in positions(site.path) if count else ():
                planned.append(self._planned(site, position, misses, 0, rule_id, kind))
        dry_run = next(
            (s for s in sites if not _about_dry_run(s) and self._misses(s, {}, misses)), None
        )
        if dry_run is not None:
            planned.append(self._planned(dry_run, {}, misses, 0, rule_id, "with DryRun=true"))
        return [_checked(example, rule_id) for example in planned]

    def boundaries(self, rule_ids: list[str], *, dry_run: bool = False) -> list[Example]:
        """Valid requests exactly at every limit of the rules' sites (with DryRun=true, when
        ``dry_run``)."""
        planned: list[Example] = []
        extra = DRY_RUN_KIND if dry_run else None
        for rule_id in rule_ids:
            for site in sites_of(rule_id):
                if not plannable(site) or site.part != "body":
                    continue
                for index in range(len(self._misses(site, {}, boundaries))):
                    planned.append(self._planned(site, {}, boundaries, index, rule_id, extra))
        outcome = "dry-run" if dry_run else None
        return [_checked(example, outcome) for example in planned]

    def _misses(
        self, site: Constraint, position: Position, kinds: Callable[[Constraint, Any], list[Miss]]
    ) -> list[Miss]:
        found: list[Miss] = []
        _apply(self.draft(), site, lambda current: _first(found, kinds(site, current)), position)
        return found

    def _planned(
        self,
        site: Constraint,
        position: Position,
        kinds: Callable[[Constraint, Any], list[Miss]],
        index: int,
        rule_id: str,
        kind: str | None = None,
    ) -> Example:
        draft = self.draft()
        done = _apply(draft, site, lambda current: kinds(site, current)[index], position)
        if kind == DRY_RUN_KIND:
            (member,), value = outcome_member("dry-run")
            draft.body[member] = value
            kind = f"{done} {DRY_RUN_KIND}" if kinds is boundaries else kind
        label = NearMiss(rule_id, site_label(site), kind or done, passes=kinds is boundaries)
        return finish(draft, self.service, label)


def _first(found: list[Miss], candidates: list[Miss]) -> Miss:
    """Keeps every candidate in ``found`` and applies none of them (for counting)."""
    found += candidates
    return Miss("", lambda _, __: None)


def _about_dry_run(site: Constraint) -> bool:
    (member,), _ = outcome_member("dry-run")
    return site.path[:1] == (member,)


def _checked(example: Example, rule_id: str | None) -> Example:
    """A planned request must be what it says: answered for its rule (``dry-run`` included),
    or, with no rule, valid."""
    expected = example.expect
    if expected.rule != rule_id or (rule_id is None and expected.status != 200):
        raise ValueError(
            f"the planned request {example.near_miss} is answered as {example.expect}: "
            + example.form
        )
    return example


@cache
def _name_spec() -> Spec:
    return flatten(field_at(("Name",)))


def _untaken(name: str, taken: Any) -> str:
    while name in taken:
        name = name[:-1] + ("0" if name[-1] != "0" else "1")
    return name
