"""The pytest plugin as a CI job runs it: no AWS credentials, one line for a mistake, node ids
that name a file, settings from ``pyproject.toml``."""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_faulty_services import INSTANCE, NS, Faulty, success

from createimage_contract.conformance import Answer, CreateImageMock, ReferenceService, serve

SUITE = ("--pyargs", "createimage_contract.conformance.suite", "-p", "no:cacheprovider")
README = Path(__file__).resolve().parent.parent / "README.md"
SUITE_FILE = "createimage_contract/conformance/suite.py"


# --- the mock without credentials --------------------------------------------------------------


def readme_mock_example() -> str:
    """The README's strict-mock example: the first Python block after its heading."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index("### Client authors: a strict mock for unit tests") :]
    found = re.search(r"^```python\n(.*?)^```", after, flags=re.MULTILINE | re.DOTALL)
    assert found is not None
    return found.group(1)


BEFORE_THE_EXAMPLE = '''
import os

import boto3

# boto3's default session, made before any mock: the mock must not use it.
boto3.client("ec2", region_name="eu-west-1")
SESSION_BEFORE = boto3.DEFAULT_SESSION


def my_backup_job(ec2, instance_id):
    """The code under test, which the README leaves to the reader."""
    ec2.create_image(InstanceId=instance_id, Name="backup-nightly")
'''

AFTER_THE_EXAMPLE = """

def test_after_the_mock_the_environment_is_as_it_was():
    assert sorted(name for name in os.environ if name.startswith("AWS_")) == []
    assert boto3.DEFAULT_SESSION is SESSION_BEFORE
"""


def test_the_readme_mock_example_passes_without_any_credentials(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An ordinary CI job: no ``AWS_*`` variable, no ``~/.aws``, no instance metadata."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    example = BEFORE_THE_EXAMPLE + readme_mock_example() + AFTER_THE_EXAMPLE
    pytester.makepyfile(test_readme_mock=example)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=4)


def test_the_mock_puts_the_environment_back_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDREAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")  # set, and empty: kept so
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-real-token")
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    before = dict(os.environ)
    outer, inner = CreateImageMock(), CreateImageMock()
    with outer:
        fake = os.environ["AWS_ACCESS_KEY_ID"]
        assert fake != "AKIDREAL" and os.environ["AWS_SECRET_ACCESS_KEY"]
        assert "AWS_SESSION_TOKEN" not in os.environ, "a real token must not sign fake keys"
        assert os.environ["AWS_DEFAULT_REGION"] == "eu-north-1", "the region is the code's"
        with inner:
            assert os.environ["AWS_ACCESS_KEY_ID"] == fake
        assert os.environ["AWS_ACCESS_KEY_ID"] == fake, "the outer mock is still active"
    assert dict(os.environ) == before


# --- one line for a mistake --------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("given", "option", "says"),
    [
        (
            ("--createimage-endpoint", "http://127.0.0.1:8080/"),
            "--createimage-endpoint",
            "needs --createimage-instance-id",
        ),
        (
            ("--createimage-endpoint", "http://127.0.0.1:{port}/"),
            "--createimage-endpoint",
            "cannot reach http://127.0.0.1:",
        ),
        (("--createimage-max-examples", "0"), "--createimage-max-examples", "not '0'"),
    ],
    ids=["endpoint-without-instance", "unreachable-endpoint", "max-examples-0"],
)
def test_a_mistake_is_one_usage_error_naming_the_option(
    pytester: pytest.Pytester, given: tuple[str, ...], option: str, says: str
) -> None:
    args = [arg.format(port=closed_port()) for arg in given]
    if "{port}" in given[1]:
        args += ["--createimage-instance-id", INSTANCE]
    result = pytester.runpytest_subprocess(*SUITE, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and option in errors[0] and says in errors[0], errors
    assert errors[0].startswith("ERROR: createimage-contract: ")
    assert "--endpoint " not in errors[0], "the runner's option is not the plugin's"
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and len(output.splitlines()) < 5, output


# --- a service whose status item carries another check's warning ------------------------------


def creates_without_version(fields: dict[str, str], answer: Answer, _: ReferenceService) -> Answer:
    """A CreateImage request without Version succeeds, with the namespace lacking its slash
    (a warning of success-namespace, which should not apply to the rule at all)."""
    if fields.get("Action") == "CreateImage" and "Version" not in fields:
        return success(ns=NS.rstrip("/"))
    return answer


@pytest.fixture(scope="module")
def versionless() -> Iterator[str]:
    with serve(Faulty(creates_without_version)) as running:
        yield running.url


def test_settings_from_pyproject_and_a_service_run_as_ci_sees_it(
    pytester: pytest.Pytester, versionless: str
) -> None:
    """One session proves several things, for speed:

    - ``[tool.createimage-contract]`` is read (the instance, the checks) and an option
      overrides it (the file's endpoint would not answer);
    - a warning carries its own check's name, not that of the item it comes with;
    - the items have a file part, on the progress line and in JUnit's classname."""
    pytester.makefile(
        ".toml",
        pyproject=f"""
            [tool.createimage-contract]
            endpoint = "http://127.0.0.1:{closed_port()}/"
            instance-id = "{INSTANCE}"
            max-examples = 3
            checks = ["status", "success-namespace"]
            """,
    )
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        *SUITE,
        "--createimage-endpoint",
        versionless,
        "--createimage-seed",
        "1",
        "--junit-xml",
        str(junit),
    )
    out = result.stdout.str()
    assert f"createimage-contract: {versionless}, seed 1" in out
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["deselected"] > 100, out
    assert f"FAILED {SUITE_FILE}::test_conformance[status-version.missing]" in out
    assert "CreateImageWarning: success-namespace x version.missing: the namespace" in out
    assert "CreateImageWarning: status x" not in out
    assert re.search(rf"^{re.escape(SUITE_FILE)} \.+F", out, re.MULTILINE), out
    cases = ElementTree.parse(junit).getroot().iter("testcase")
    names = {(case.get("classname"), case.get("name", "").split("[")[0]) for case in cases}
    assert names == {("createimage_contract.conformance.suite", "test_conformance")}


def test_collected_items_have_a_file_part(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(*SUITE, "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if "test_conformance[" in line]
    assert len(ids) > 150
    assert all(line.startswith(f"{SUITE_FILE}::test_conformance[") for line in ids), ids[:3]


@pytest.mark.parametrize(
    ("section", "says"),
    [
        ('instance = "i-0123456789abcdef0"', "unknown key 'instance'"),
        ('checks = ["status", "nope"]', "'nope'"),
    ],
    ids=["unknown-key", "unknown-check"],
)
def test_a_bad_setting_in_pyproject_is_one_usage_error(
    pytester: pytest.Pytester, section: str, says: str
) -> None:
    pytester.makefile(".toml", pyproject=f"[tool.createimage-contract]\n{section}\n")
    result = pytester.runpytest_subprocess(*SUITE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert len(errors) == 1 and says in errors[0] and "pyproject.toml" in errors[0], errors
