"""The pytest suite with its default settings, as implementers run it, against the variants of
the reference: green for each conformant one, failing items that name the rule for a faulty one."""

from __future__ import annotations

import re

import pytest

from createimage_contract.conformance import CHECK_IDS, VARIANTS, serve, variant
from createimage_contract.conformance._variants import VariantService

SUITE = ("--pyargs", "createimage_contract.conformance.suite", "-p", "no:cacheprovider")
CONFORMANT = [v.name for v in VARIANTS if v.kind == "conformant"]
FAULTY = ["tag-limit-code", "resource-type-any-ec2-type", "dry-run-before-validation"]


def suite_against(pytester: pytest.Pytester, name: str) -> pytest.RunResult:
    with serve(VariantService(variant(name))) as running:
        return pytester.runpytest(
            *SUITE,
            "--createimage-endpoint",
            running.url,
            "--createimage-instance-id",
            running.instance_id,
            "--createimage-seed",
            "3",
            "-rf",
        )


@pytest.mark.parametrize("name", CONFORMANT)
def test_the_suite_is_green_against_each_conformant_variant(
    pytester: pytest.Pytester, name: str
) -> None:
    result = suite_against(pytester, name)
    outcomes = result.parseoutcomes()
    assert "failed" not in outcomes and outcomes["passed"] >= 150, result.stdout.str()
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("name", FAULTY)
def test_the_suite_fails_against_a_faulty_variant_on_its_rule(
    pytester: pytest.Pytester, name: str
) -> None:
    result = suite_against(pytester, name)
    items = re.findall(r"^FAILED .*?test_conformance\[([^\]]+)\]", result.stdout.str(), re.M)
    rules = {rule_of(item) for item in items}
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert rules & set(variant(name).catches), (items, variant(name).catches)


def rule_of(item: str) -> str:
    """The rule of an item id ``check-rule`` (check ids have dashes too)."""
    check = max((c for c in CHECK_IDS if item.startswith(c + "-")), key=len)
    return item[len(check) + 1 :]
