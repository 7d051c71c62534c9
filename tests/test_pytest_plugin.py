"""The pytest plugin, as users run it: options, the suite, the fixtures, the marker."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_faulty_services import INSTANCE, Faulty, on_code, on_success, substitute

from createimage_contract.conformance import Running, serve

SUITE = ("--pyargs", "createimage_contract.conformance.suite", "-p", "no:cacheprovider")
FAST = ("--createimage-max-examples", "3", "--createimage-seed", "1")


def failed_items(output: str) -> set[str]:
    return set(re.findall(r"^FAILED .*?test_conformance\[([^\]]+)\]", output, re.MULTILINE))


@pytest.fixture(scope="module")
def faulty() -> Iterator[Running]:
    """Wrong codes for bad names, and the namespace without its slash (a warning)."""
    wrong_code = on_code(
        "InvalidAMIName.Malformed",
        substitute(rb"InvalidAMIName\.Malformed", b"InvalidParameterValue"),
    )
    slashless = on_success(substitute(rb"2016-11-15/", b"2016-11-15"))
    with serve(Faulty(lambda f, a, s: slashless(f, wrong_code(f, a, s), s))) as running:
        yield running


def at(running: Running) -> tuple[str, ...]:
    return ("--createimage-endpoint", running.url, "--createimage-instance-id", INSTANCE)


def test_the_options_are_in_their_own_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    text = result.stdout.str()
    section = text[text.index("createimage-contract conformance suite:") :]
    for option in (
        "--createimage-endpoint",
        "--createimage-instance-id",
        "--createimage-region",
        "--createimage-max-examples",
        "--createimage-seed",
        "--createimage-strict",
        "--createimage-baseline",
        "--createimage-credentials",
        "--createimage-exclude-rules",
        "--createimage-checks",
    ):
        assert option in section


def test_importing_the_package_loads_no_pytest_hooks() -> None:
    code = (
        "import sys, createimage_contract; "
        "print('pytest' in sys.modules, 'createimage_contract.pytest_plugin' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    code = (
        "import sys, createimage_contract.pytest_plugin; "
        "print(sorted(m for m in ('hypothesis', 'botocore', 'lxml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", "the plugin loads for every pytest run: it must stay light"


def test_the_suite_passes_against_the_reference(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*SUITE, *FAST)
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 150 and "failed" not in outcomes, result.stdout.str()
    assert "createimage-contract: the embedded reference, seed 1" in result.stdout.str()


def test_k_selects_check_x_rule_items(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*SUITE, *FAST, "-k", "name.charset", "-v")
    items = re.findall(r"test_conformance\[([^\]]+)\] PASSED", result.stdout.str())
    assert sorted(items) == sorted(
        f"{c}-name.charset"
        for c in ("response", "status", "content-type", "xml", "error-code", "error-body")
    )


def test_a_faulty_service_fails_with_readable_items(
    pytester: pytest.Pytester, faulty: Running
) -> None:
    result = pytester.runpytest(*SUITE, *FAST, *at(faulty), "-rfEw")
    out = result.stdout.str()
    assert failed_items(out) == {"error-code-name.charset", "error-code-name.length"}
    assert (
        "ERROR: error-code x name.charset: expected error code InvalidAMIName.Malformed, "
        "got InvalidParameterValue" in out
    )
    assert "reproduce: curl -sS -X POST " + faulty.url in out and "request:   POST" in out
    assert "--createimage-seed 1" in out
    assert "CreateImageWarning" in out and "lacks the trailing slash" in out
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_strict_makes_warnings_fail(pytester: pytest.Pytester, faulty: Running) -> None:
    result = pytester.runpytest(*SUITE, *FAST, *at(faulty), "--createimage-strict")
    assert "success-namespace-valid" in failed_items(result.stdout.str())


def test_a_baseline_turns_known_deviations_into_xfails(
    pytester: pytest.Pytester, faulty: Running
) -> None:
    baseline = pytester.path / "known.json"
    baseline.write_text(
        json.dumps(
            {
                "known": [
                    {"check": "error-code", "rule": "name.charset"},
                    {"check": "error-code", "rule": "name.length"},
                ]
            }
        )
    )
    result = pytester.runpytest(*SUITE, *FAST, *at(faulty), "--createimage-baseline", str(baseline))
    outcomes = result.parseoutcomes()
    assert outcomes.get("xfailed") == 2 and "failed" not in outcomes, result.stdout.str()


COUNT_RUNS = """
import os

import createimage_contract.conformance as conformance


def pytest_configure(config):
    role = "worker" if hasattr(config, "workerinput") else "controller"
    with open({log!r}, "a") as log:
        log.write(f"{{role}} {{os.getpid()}}\\n")
    run = conformance.run

    def counted(**kwargs):
        with open({log!r}, "a") as log:
            log.write(f"run {{os.getpid()}}\\n")
        return run(**kwargs)

    conformance.run = counted
"""


def test_the_same_results_under_xdist(pytester: pytest.Pytester, faulty: Running) -> None:
    """Under xdist the controller makes the run, once, while the workers start."""
    log = pytester.path / "runs.log"
    pytester.makepyfile(count_runs=COUNT_RUNS.format(log=str(log)))
    alone = pytester.runpytest_subprocess(*SUITE, *FAST, *at(faulty))
    parallel = pytester.runpytest_subprocess(
        "-p", "count_runs", *SUITE, *FAST, *at(faulty), "-n", "2"
    )
    assert "gw1" in parallel.stdout.str() or "2 workers" in parallel.stdout.str()
    lines = log.read_text().splitlines()
    controller = [line.split()[1] for line in lines if line.startswith("controller")]
    assert sorted(line.split()[0] for line in lines) == ["controller", "run", "worker", "worker"]
    assert [line.split()[1] for line in lines if line.startswith("run")] == controller
    assert (
        failed_items(parallel.stdout.str())
        == failed_items(alone.stdout.str())
        == {"error-code-name.charset", "error-code-name.length"}
    )
    assert parallel.parseoutcomes()["passed"] == alone.parseoutcomes()["passed"]


SEES_MODULES = """
import os
import sys


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        heavy = ("createimage_contract.conformance", "hypothesis", "botocore", "lxml")
        loaded = [name for name in heavy if name in sys.modules]
        with open({log!r}, "a") as log:
            log.write(f"{{os.getpid()}} {{','.join(loaded) or '-'}}\\n")
"""


def test_xdist_workers_do_not_import_the_runner(pytester: pytest.Pytester) -> None:
    """The controller tells the workers the items, the checks chosen, and each item's verdict
    in builtins: a worker starts without the runner (nor hypothesis, botocore, lxml), whose
    import took CPU from the run it waits for."""
    log = pytester.path / "modules.log"
    pytester.makepyfile(sees_modules=SEES_MODULES.format(log=str(log)))
    chosen = ("--createimage-checks", "status,xml")
    alone = pytester.runpytest_subprocess(*SUITE, *FAST, *chosen)
    parallel = pytester.runpytest_subprocess(
        "-p", "sees_modules", *SUITE, *FAST, *chosen, "-n", "2"
    )
    assert parallel.ret == pytest.ExitCode.OK, parallel.stdout.str()
    # xdist does not count the items its workers deselect.
    assert alone.parseoutcomes()["deselected"] > 100
    assert parallel.parseoutcomes()["passed"] == alone.parseoutcomes()["passed"] > 50
    assert [line.split()[1] for line in log.read_text().splitlines()] == ["-", "-"]


def test_a_remote_endpoint_without_credentials_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    result = pytester.runpytest(
        *SUITE,
        "--createimage-endpoint",
        "https://ec2.us-east-1.amazonaws.com/",
        "--createimage-instance-id",
        INSTANCE,
    )
    assert "AWS_ACCESS_KEY_ID" in result.stdout.str() + result.stderr.str()
    assert result.ret != pytest.ExitCode.OK


def test_exclude_rules_skips_their_items(pytester: pytest.Pytester) -> None:
    excluded = ("--createimage-exclude-rules", "auth.*,name.*", "-k", "auth or name or valid")
    result = pytester.runpytest(*SUITE, *FAST, *excluded, "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] >= 5 and "failed" not in outcomes
    assert "auth.scope was not run" in result.stdout.str()


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        (
            "--createimage-credentials",
            "nope",
            "invalid choice: 'nope' (choose from auto, fixed, env)",
        ),
        ("--createimage-exclude-rules", "nothing*", "unknown rule 'nothing*'"),
    ],
)
def test_a_bad_credentials_or_rules_option_is_one_usage_error(
    pytester: pytest.Pytester, option: str, value: str, says: str
) -> None:
    result = pytester.runpytest(*SUITE, option, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert errors == [f"ERROR: createimage-contract: {option}: {says}"] or (
        len(errors) == 1 and option in errors[0] and says in errors[0]
    ), result.stderr.lines


MOCK_TESTS = """
import boto3
import pytest
import requests
from botocore.exceptions import ClientError

INSTANCE = "i-0123456789abcdef0"


def client():
    return boto3.client(
        "ec2", region_name="eu-west-1", aws_access_key_id="AKID", aws_secret_access_key="secret"
    )


def test_boto3_valid_bad_name_dry_run_and_a_forced_error(createimage_mock):
    ec2 = client()
    image_id = ec2.create_image(InstanceId=INSTANCE, Name="nightly")["ImageId"]
    assert image_id.startswith("ami-")
    with pytest.raises(ClientError) as bad:
        ec2.create_image(InstanceId=INSTANCE, Name="nightly#1")
    assert bad.value.response["Error"]["Code"] == "InvalidAMIName.Malformed"
    assert bad.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as dry:
        ec2.create_image(InstanceId=INSTANCE, Name="other", DryRun=True)
    assert dry.value.response["Error"]["Code"] == "DryRunOperation"
    assert dry.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    createimage_mock.fail_next("InvalidInstanceID.NotFound")
    with pytest.raises(ClientError) as forced:
        ec2.create_image(InstanceId=INSTANCE, Name="third")
    assert forced.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    assert [(c.via, c.status, c.code) for c in createimage_mock.calls] == [
        ("botocore", 200, None), ("botocore", 400, "InvalidAMIName.Malformed"),
        ("botocore", 412, "DryRunOperation"), ("botocore", 400, "InvalidInstanceID.NotFound"),
    ]
    assert [v.rule for v in createimage_mock.calls[1].violations] == ["name.charset"]
    assert createimage_mock.calls[0].params == {"InstanceId": INSTANCE, "Name": "nightly"}
    assert [image.name for image in createimage_mock.created] == ["nightly"]


def test_requests_valid_bad_name_dry_run_and_a_forced_error(createimage_mock):
    url = "https://ec2.us-east-1.amazonaws.com/"
    base = {"Action": "CreateImage", "Version": "2016-11-15", "InstanceId": INSTANCE}
    ok = requests.post(url, data={**base, "Name": "from-requests"})
    assert ok.status_code == 200 and "<imageId>ami-" in ok.text
    assert requests.post(url, data={**base, "Name": "ab"}).status_code == 400
    assert requests.post(url, data={**base, "Name": "dry", "DryRun": "true"}).status_code == 412
    createimage_mock.fail_next("RequestLimitExceeded", status=503)
    limited = requests.post(url, data={**base, "Name": "later"})
    assert limited.status_code == 503 and "<Code>RequestLimitExceeded</Code>" in limited.text
    assert [c.code for c in createimage_mock.calls] == [
        None, "InvalidAMIName.Malformed", "DryRunOperation", "RequestLimitExceeded"
    ]
    assert all(c.via == "requests" for c in createimage_mock.calls)


@pytest.mark.createimage(instances=[INSTANCE], taken_names=["taken"])
def test_the_marker_sets_what_exists(createimage_mock):
    ec2 = client()
    with pytest.raises(ClientError) as missing:
        ec2.create_image(InstanceId="i-0123456789abcdef1", Name="fine")
    assert missing.value.response["Error"]["Code"] == "InvalidInstanceID.NotFound"
    with pytest.raises(ClientError) as taken:
        ec2.create_image(InstanceId=INSTANCE, Name="taken")
    assert taken.value.response["Error"]["Code"] == "InvalidAMIName.Duplicate"


@pytest.mark.createimage(endpoints=["http://localhost:4566"])
def test_the_marker_adds_endpoints(createimage_mock):
    fields = {"Action": "CreateImage", "Version": "2016-11-15", "InstanceId": INSTANCE}
    answer = requests.post("http://localhost:4566/", data={**fields, "Name": "local"})
    assert answer.status_code == 200
    assert createimage_mock.calls[0].url.startswith("http://localhost:4566")


@pytest.mark.createimage(instance=INSTANCE)
def test_a_misspelt_marker_option_is_an_error(createimage_mock):
    pass
"""


def test_the_mock_and_its_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_client=MOCK_TESTS)
    # In a subprocess: requests does not survive pytester's in-process module juggling.
    result = pytester.runpytest_subprocess("--strict-markers", "-p", "no:cacheprovider", "-rE")
    result.assert_outcomes(passed=4, errors=1)
    assert "takes instances, taken_names, endpoints by name, not instance" in result.stdout.str()


def test_the_reference_fixture(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import boto3
        import requests

        def test_it_serves_what_is_signed_with_its_key(createimage_reference):
            assert createimage_reference.url.startswith("http://127.0.0.1:")
            instance = createimage_reference.instance_id
            ec2 = boto3.client(
                "ec2",
                endpoint_url=createimage_reference.url,
                region_name=createimage_reference.region,
                aws_access_key_id=createimage_reference.access_key_id,
                aws_secret_access_key=createimage_reference.secret_access_key,
            )
            image = ec2.create_image(InstanceId=instance, Name="from-a-test")["ImageId"]
            assert ec2.describe_images(ImageIds=[image])["Images"][0]["Name"] == "from-a-test"

        def test_an_unsigned_request_does_not_get_in(createimage_reference):
            fields = {"Action": "DescribeImages", "Version": "2016-11-15"}
            answer = requests.post(createimage_reference.url, data=fields)
            assert answer.status_code == 403 and "MissingAuthenticationToken" in answer.text
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_strategies_work_in_users_given_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        from hypothesis import given, settings
        from createimage_contract import validate
        from createimage_contract.strategies import invalid_requests

        @settings(max_examples=20)
        @given(invalid_requests("tag.limit"))
        def test_bad_tags(example):
            assert example.expect.code == "TagLimitExceeded"
            assert {v.rule for v in validate(example.form)} == {"tag.limit"}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_readme_documents_the_plugin() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert (
        "## pytest" in readme
        and "createimage_mock" in readme
        and "--pyargs createimage_contract.conformance.suite" in readme
    )
