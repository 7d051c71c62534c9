"""Settings from ``pyproject.toml`` (``[tool.createimage-contract]``): what ``run`` takes from
there, what the command line overrides, and what is refused, in one line.

Each case writes its own ``pyproject.toml`` in a temporary folder and runs from there (the
repository's own has no such section, and must not get one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_cli_run import ERROR_PREFIX, FAST, assert_one_line_error, cli, free_port

from createimage_contract._config import SETTINGS, ConfigError, load_config
from createimage_contract.conformance import ReferenceService, serve

ROOT = Path(__file__).resolve().parent.parent


def pyproject(folder: Path, section: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n[tool.createimage-contract]\n{section}\n')
    return path


@pytest.fixture(scope="module")
def reference() -> Iterator[tuple[str, str]]:
    with serve(ReferenceService()) as running:
        yield running.url, running.instance_id


def test_the_repositorys_own_pyproject_has_no_settings() -> None:
    config = load_config(ROOT)
    assert config.path == ROOT / "pyproject.toml" and dict(config.values) == {}


def test_no_file_or_no_section_means_no_settings(tmp_path: Path) -> None:
    assert dict(load_config(tmp_path).values) == {}
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    config = load_config(tmp_path)
    assert config.path == tmp_path / "pyproject.toml" and dict(config.values) == {}
    assert all(config.get(key) is None for key in SETTINGS)


def test_the_nearest_file_is_read_and_a_relative_baseline_is_from_it(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        'endpoint = "http://127.0.0.1:8080/"\ninstance-id = "i-0123456789abcdef0"\n'
        'region = "eu-west-1"\nmax-examples = 5\nchecks = ["status", "xml"]\n'
        'baseline = "ci/known.json"',
    )
    below = tmp_path / "src" / "deep"
    below.mkdir(parents=True)
    config = load_config(below)
    assert config.path == tmp_path / "pyproject.toml"
    assert config.get("endpoint") == "http://127.0.0.1:8080/"
    assert config.get("instance-id") == "i-0123456789abcdef0"
    assert config.get("region") == "eu-west-1"
    assert config.get("max-examples") == 5
    assert config.get("checks") == ["status", "xml"]
    assert config.get("baseline") == tmp_path / "ci" / "known.json"


@pytest.mark.parametrize(
    ("section", "mentions"),
    [
        ('endpont = "http://127.0.0.1:8080/"', "unknown key 'endpont'"),
        ('max-examples = "20"', "max-examples must be a whole number"),
        ("max-examples = 0", "max-examples must be a whole number from 1 to 10000"),
        ("max-examples = true", "max-examples must be"),
        ('checks = "status"', "checks must be a list of check ids"),
        ('checks = ["status", "no-such-check"]', "checks must be a list of check ids"),
        ("checks = []", "checks must be a list of check ids"),
        ('instance-id = "i-0abc12345"', "instance-id must be a well-formed instance id"),
        ('endpoint = "localhost:8080"', "endpoint must be an http(s) URL"),
        ("region = 1", "region must be a region name"),
        ('baseline = ""', "baseline must be a file path"),
        ("[tool.createimage-contract.nested]", "unknown key 'nested'"),
    ],
)
def test_an_unusable_setting_is_a_config_error_and_one_line_from_run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    section: str,
    mentions: str,
) -> None:
    path = pyproject(tmp_path, section)
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert str(path) in str(raised.value) and mentions in str(raised.value)
    monkeypatch.chdir(tmp_path)
    run = cli(capsys, "run", *FAST, "--rules", "valid")
    line = assert_one_line_error(run)
    assert (
        line.startswith(ERROR_PREFIX) and mentions in line and "[tool.createimage-contract]" in line
    )
    assert run.out == ""


def test_a_file_that_is_not_toml_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.createimage-contract\n")
    monkeypatch.chdir(tmp_path)
    line = assert_one_line_error(cli(capsys, "run", *FAST))
    assert "pyproject.toml: cannot be read" in line


def test_run_takes_the_settings_and_says_so(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    reference: tuple[str, str],
) -> None:
    url, held = reference
    pyproject(
        tmp_path,
        f'endpoint = "{url}"\ninstance-id = "{held}"\nmax-examples = 2\nchecks = ["status"]',
    )
    monkeypatch.chdir(tmp_path)
    run = cli(capsys, "run", "--rules", "dry-run", "-v")
    assert run.code == 0, run
    header, settings, options = run.out.splitlines()[:3]
    assert f"against {url} (endpoint, instance {held})" in header
    assert settings == "settings from pyproject.toml: endpoint, instance-id, max-examples, checks"
    assert "max-examples 2," in options and options.endswith("checks status")


def test_the_command_line_overrides_the_settings(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    reference: tuple[str, str],
) -> None:
    url, held = reference
    nowhere = f"http://127.0.0.1:{free_port()}/"
    pyproject(
        tmp_path,
        f'endpoint = "{nowhere}"\ninstance-id = "i-0123456789abcdef0"\nmax-examples = 50\n'
        'checks = ["status"]\nbaseline = "missing.json"',
    )
    monkeypatch.chdir(tmp_path)
    where = ("--endpoint", url, "--instance-id", held)
    given = (
        "--max-examples",
        "2",
        "--checks",
        "status,xml",
        "--baseline",
        str(tmp_path / "given.json"),
    )
    run = cli(capsys, "run", *where, *given, "--rules", "dry-run", "-v")
    line = assert_one_line_error(run)  # the baseline given, not the file's, is read
    assert "given.json" in line and "missing.json" not in line
    (tmp_path / "given.json").write_text('{"known": []}')
    run = cli(capsys, "run", *where, *given, "--rules", "dry-run", "-v")
    assert run.code == 0, run
    header, options = run.out.splitlines()[:2]
    assert f"against {url} (endpoint, instance {held})" in header
    assert "max-examples 2," in options and options.endswith("checks status, xml")
    assert "settings from" not in run.out, "nothing was taken from the file"


def test_a_relative_baseline_is_read_from_the_files_folder(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pyproject(tmp_path, 'baseline = "ci/known.json"')
    below = tmp_path / "src"
    below.mkdir()
    monkeypatch.chdir(below)
    line = assert_one_line_error(cli(capsys, "run", *FAST, "--rules", "valid"))
    assert str(tmp_path / "ci" / "known.json") in line and "cannot read" in line


def test_target_overrides_the_files_endpoint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/"
    pyproject(tmp_path, f'endpoint = "{nowhere}"\ninstance-id = "i-0123456789abcdef0"')
    monkeypatch.chdir(tmp_path)
    taken = cli(capsys, "run", *FAST, "--rules", "valid")
    assert f"cannot reach {nowhere}" in assert_one_line_error(taken), "the file's endpoint"
    run = cli(capsys, "run", "--target", "reference", "--max-examples", "1", "--rules", "dry-run")
    assert run.code == 0, run
    header, settings = run.out.splitlines()[:2]
    # The file's instance still counts: the embedded reference then holds it.
    assert header.endswith("(reference, instance i-0123456789abcdef0)")
    assert settings == "settings from pyproject.toml: instance-id"
