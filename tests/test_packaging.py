"""The wheel installs one package, ``createimage_contract``, with its documents and its command.

The wheel is built once per session from a copy of the project, so that the build neither writes
``build/`` into the working tree nor packs stale files an earlier build left there.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "createimage_contract"
NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".typecheck",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
)


@dataclass(frozen=True)
class Wheel:
    name: str
    files: list[str]
    entry_points: str
    top_level: str | None


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    source = tmp_path_factory.mktemp("project") / "createimage-contract"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("*.whl")
    with zipfile.ZipFile(path) as archive:
        files = archive.namelist()
        info = next(f.split("/")[0] for f in files if f.split("/")[0].endswith(".dist-info"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode("utf-8")
        top_level = (
            archive.read(f"{info}/top_level.txt").decode("utf-8")
            if f"{info}/top_level.txt" in files
            else None
        )
    return Wheel(path.name, files, entry_points, top_level)


def test_every_module_is_inside_the_package(wheel: Wheel) -> None:
    modules = [f for f in wheel.files if f.endswith((".py", ".pyi", ".so", ".pyd"))]
    assert modules
    outside = [m for m in modules if not m.startswith(f"{PACKAGE}/")]
    assert outside == []


@pytest.mark.parametrize("name", ["schema", "strategies", "conformance"])
def test_no_top_level_module_but_a_subpackage(wheel: Wheel, name: str) -> None:
    assert not [f for f in wheel.files if f == f"{name}.py" or f.startswith(f"{name}/")]
    assert f"{PACKAGE}/{name}/__init__.py" in wheel.files


def test_only_the_package_and_its_metadata_are_top_level(wheel: Wheel) -> None:
    top = {f.split("/")[0] for f in wheel.files}
    assert {t for t in top if not t.endswith(".dist-info")} == {PACKAGE}
    if wheel.top_level is not None:
        assert wheel.top_level.split() == [PACKAGE]


@pytest.mark.parametrize(
    "data",
    [
        "schema/request.schema.json",
        "schema/responses.schema.json",
        "schema/rules.json",
        "schema/rules.schema.json",
        "py.typed",
    ],
)
def test_data_file_is_included(wheel: Wheel, data: str) -> None:
    assert f"{PACKAGE}/{data}" in wheel.files


def test_console_script_is_declared(wheel: Wheel) -> None:
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.entry_points)
    assert entry_points.has_section("console_scripts")
    scripts = dict(entry_points["console_scripts"])
    assert scripts.get("createimage-contract") == f"{PACKAGE}._cli:main"
