"""The conformance suite's settings: its ``--createimage-*`` options, or else
``[tool.createimage-contract]`` in the nearest ``pyproject.toml`` from pytest's rootdir, each
parsed as ``run`` parses it and checked when the session starts: a bad one is one usage error
(exit code 4) that names the option or the key it came from."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ._config import SETTINGS as CONFIG_KEYS
from ._config import ConfigError, load_config
from ._values import check_ids, credentials, instance_id, max_examples, rule_ids

if TYPE_CHECKING:
    from createimage_contract.conformance import Options

Key = tuple[str, str]
"""A check x rule."""

FILE_KEYS = {key.replace("-", "_"): key for key in CONFIG_KEYS}
"""What ``[tool.createimage-contract]`` in ``pyproject.toml`` may set, by the option's dest
(``instance_id``: ``instance-id``)."""
SETTINGS = (*FILE_KEYS, "seed", "credentials", "exclude_rules")


@dataclass(frozen=True)
class SuiteSettings:
    """The suite's settings, from the options and ``pyproject.toml``, checked."""

    endpoint: str | None
    instance_id: str | None
    options: Options
    known: frozenset[Key]
    """The baseline's deviations."""


def checked(config: pytest.Config, *, reach: bool) -> SuiteSettings:
    """The settings, each checked: a bad one is one usage error naming the option (or the
    key of ``pyproject.toml``) it came from. With ``reach``, the endpoint must answer too."""
    from createimage_contract.conformance import Options

    given = _given(config)
    values: dict[str, Any] = {}
    for name, (value, where) in given.items():
        parse = _PARSERS.get(name)
        try:
            values[name] = value if parse is None else parse(value)
        except argparse.ArgumentTypeError as problem:
            raise usage(f"{where}: {problem}") from None
    known = _known(values.pop("baseline", None), given)
    endpoint, instance_id = values.pop("endpoint", None), values.pop("instance_id", None)
    suite = SuiteSettings(endpoint, instance_id, Options(**values), known)
    _check_target(suite, given, reach)
    return suite


def _known(baseline: Path | None, given: dict[str, tuple[Any, str]]) -> frozenset[Key]:
    from createimage_contract.conformance import BaselineError, load_baseline

    try:
        return frozenset(load_baseline(baseline)) if baseline is not None else frozenset()
    except BaselineError as problem:
        raise usage(f"{given['baseline'][1]}: {problem}") from None


def _given(config: pytest.Config) -> dict[str, tuple[Any, str]]:
    """Each setting given, and where: its option, or else its key in ``pyproject.toml``."""
    try:
        # From pytest's rootdir: the project whose tests run (its pytest settings are found
        # from there too), wherever in it pytest was started, the same in every xdist worker.
        from_file = load_config(config.rootpath)
    except ConfigError as problem:
        raise usage(str(problem)) from None
    given: dict[str, tuple[Any, str]] = {}
    for name in SETTINGS:
        value = config.getoption(f"createimage_{name}")
        if value is not None:
            given[name] = (value, "--createimage-" + name.replace("_", "-"))
        elif name in FILE_KEYS and (value := from_file.get(FILE_KEYS[name])) is not None:
            given[name] = (value, f"{FILE_KEYS[name]} in {from_file.path}")
    return given


def _check_target(suite: SuiteSettings, given: dict[str, tuple[Any, str]], reach: bool) -> None:
    """A bad endpoint, or one without credentials, is one usage error, not an error per item."""
    from createimage_contract.conformance import NoCredentials, TargetError, check_target, probe

    endpoint = suite.endpoint
    where = given["endpoint"][1] if "endpoint" in given else "--createimage-endpoint"
    if endpoint is not None and suite.instance_id is None:
        needed = "--createimage-instance-id" if where.startswith("--") else "instance-id"
        raise usage(f"{where} needs {needed}: an instance the service holds")
    try:
        check_target(endpoint, suite.options.credentials)
        if endpoint is not None and reach:
            probe(endpoint, suite.options.timeout)
    except TargetError as problem:
        # The runner's messages name run's option: this one is the plugin's.
        raise usage(f"{where}: {str(problem).removeprefix('--endpoint ')}") from None
    except NoCredentials as problem:
        raise usage(str(problem)) from None


def usage(message: str) -> pytest.UsageError:
    return pytest.UsageError(f"createimage-contract: {message}")


def _check_ids(value: str | list[str]) -> tuple[str, ...]:
    # pyproject.toml gives a list; the option, a comma-separated string.
    return check_ids(value if isinstance(value, str) else ",".join(value))


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "instance_id": instance_id,
    "max_examples": lambda value: max_examples(str(value)),  # pyproject.toml gives a number
    "credentials": credentials,
    "checks": _check_ids,
    "exclude_rules": rule_ids,
}
