"""Settings from ``pyproject.toml``, under ``[tool.createimage-contract]``: what ``run`` and the
pytest plugin take when their options do not say otherwise.

The file is the nearest ``pyproject.toml`` from the working folder up (as ruff and pytest find
theirs). Keys are the long options' names: ``endpoint``, ``instance-id``, ``region``,
``baseline``, ``max-examples``, ``checks``; a relative ``baseline`` is relative to the file.
An unknown key, or a value of the wrong type or out of range (a malformed instance id, an
unknown check, a URL that is not http(s)), is a ``ConfigError`` naming the file and the key, in
one line: a setting silently ignored would be a gate that checks less than it says.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._values import MOST_EXAMPLES, check_ids, instance_id, max_examples
from .schema import Error

SECTION = "createimage-contract"


class ConfigError(Error):
    """``[tool.createimage-contract]`` cannot be used; the message says where and why."""


def _fits(parse: Callable[[str], object]) -> Callable[[Any], bool]:
    """Whether a value is one that the option of the same name takes (a list as its items,
    comma-separated)."""

    def fits(value: Any) -> bool:
        try:
            parse(",".join(value) if isinstance(value, list) else str(value))
        except argparse.ArgumentTypeError:
            return False
        return True

    return fits


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Setting:
    """One key: the Python type its value must have, what else it must be, and what that reads
    as in a message."""

    kind: type
    says: str
    fits: Callable[[Any], bool]


SETTINGS: Mapping[str, Setting] = {
    "endpoint": Setting(str, "an http(s) URL", _http_url),
    "instance-id": Setting(
        str, "a well-formed instance id (i- and 8 or 17 hex digits)", _fits(instance_id)
    ),
    "region": Setting(str, "a region name", bool),
    "baseline": Setting(str, "a file path", bool),
    "max-examples": Setting(int, f"a whole number from 1 to {MOST_EXAMPLES}", _fits(max_examples)),
    "checks": Setting(list, "a list of check ids", _fits(check_ids)),
}


@dataclass(frozen=True)
class Config:
    """The settings found (by key, as written), and the file they came from (``None``: none)."""

    values: Mapping[str, Any]
    path: Path | None = None

    @property
    def source(self) -> str:
        """The file, as its user would name it: from the working folder when it is below it."""
        if self.path is None:
            return "no pyproject.toml"
        try:
            return str(self.path.relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(self.path)

    def get(self, key: str) -> Any:
        """The value of ``key``, ``None`` when not set; ``baseline`` as a path from the file."""
        value = self.values.get(key)
        if key == "baseline" and value is not None and self.path is not None:
            return self.path.parent / value
        return value


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` in ``start`` or a folder above it."""
    for folder in (start.resolve(), *start.resolve().parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path | None = None) -> Config:
    """The settings of the nearest ``pyproject.toml`` (from ``start``, the working folder by
    default); none when there is no such file or section."""
    import tomllib  # only here: lint and generate read no configuration

    path = find_pyproject(start or Path.cwd())
    if path is None:
        return Config({})
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as problem:
        raise ConfigError(f"{path}: cannot be read: {problem}") from None
    section = document.get("tool", {}).get(SECTION)
    if section is None:
        return Config({}, path)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.{SECTION}] must be a table")
    return Config(_checked(section, path), path)


def _checked(section: dict[str, Any], path: Path) -> dict[str, Any]:
    where = f"{path}: [tool.{SECTION}]"
    for key, value in section.items():
        setting = SETTINGS.get(key)
        if setting is None:
            known = ", ".join(SETTINGS)
            raise ConfigError(f"{where}: unknown key {key!r}; the keys are {known}")
        if not _is(value, setting.kind) or not setting.fits(value):
            raise ConfigError(f"{where}: {key} must be {setting.says}, not {value!r}")
    return dict(section)


def _is(value: object, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is list:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    return isinstance(value, kind)
