"""Every default run sends every planned near miss (rule x site x kind), whatever its seed, and
says so: in the JSON report, and with ``run --stats``."""

from __future__ import annotations

import pytest

from createimage_contract import _cli
from createimage_contract.conformance import Options, run
from createimage_contract.conformance._probes import forgeries, probed_rules
from createimage_contract.schema import contract
from createimage_contract.strategies import (
    NearMiss,
    boundary_requests,
    breakable_rules,
    near_misses,
)
from createimage_contract.strategies._plan import plannable, site_label


def planned_near_misses() -> set[object]:
    examples = [*near_misses(), *boundary_requests(), *boundary_requests(dry_run=True)]
    probes = {NearMiss(forgery.rule, forgery.site, forgery.kind) for forgery in forgeries()}
    return {example.near_miss for example in examples} | probes


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_default_run_sends_every_near_miss_whatever_the_seed(seed: int) -> None:
    outcome = run(options=Options(seed=seed))
    assert outcome.findings == {} and outcome.internal_error is None
    assert set(outcome.coverage) == planned_near_misses()
    assert outcome.coverage_complete, [n for n, sent in outcome.coverage.items() if not sent]
    every_site = {
        (rule_id, site_label(site))
        for rule_id in breakable_rules()
        for site in contract().constraints_of(rule_id)
        if site.part in ("query", "body") and plannable(site)
    }
    probed = set(probed_rules())
    sent = {(n.rule, n.site) for n in outcome.coverage if not n.passes and n.rule not in probed}
    assert every_site == sent


def test_run_stats_lists_each_near_miss_and_how_often_it_was_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _cli.main(["run", "--seed", "4", "--rules", "instance-id.malformed", "--stats"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = [line.split() for line in out.splitlines() if line.startswith("  /InstanceId pattern")]
    kinds = {" ".join(row[2:-1]): int(row[-1]) for row in rows}
    assert kinds["length around the allowed"] == 5  # 7, 9, 12, 16, 18 hex digits
    assert kinds["case flip"] == kinds["trailing newline"] == 1
    assert "near misses: 10 of 10 planned (rule x site x kind) sent" in out
