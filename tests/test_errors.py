"""One base for every exception of the package: ``createimage_contract.Error`` catches them all."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from createimage_contract import Error

PACKAGES = (
    "createimage_contract",
    "createimage_contract.schema",
    "createimage_contract.strategies",
    "createimage_contract.conformance",
)
"""The package and its subpackages (mapped from folders of their own, so walked one by one)."""


def modules() -> list[str]:
    """Every module of the package (``__main__`` aside: importing it runs the command)."""
    found = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found.append(name)
        found += [
            f"{name}.{module.name}"
            for module in pkgutil.iter_modules(package.__path__)
            if module.name != "__main__"
        ]
    return found


def exception_classes() -> dict[str, type[BaseException]]:
    """Every exception (and warning) class a module of the package defines, by its path."""
    classes = {}
    for name in modules():
        for value in vars(importlib.import_module(name)).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                classes[f"{name}.{value.__qualname__}"] = value
    return classes


CLASSES = exception_classes()


def test_the_walk_finds_the_exceptions_of_every_layer() -> None:
    names = {path.rpartition(".")[2] for path in CLASSES}
    assert {"FormatError", "Deviation", "TargetError", "InternalError", "InputError"} <= names


@pytest.mark.parametrize("path", sorted(CLASSES))
def test_each_exception_class_derives_from_error(path: str) -> None:
    assert issubclass(CLASSES[path], Error), CLASSES[path].__mro__


def test_error_is_the_top_level_name() -> None:
    import createimage_contract

    assert (
        createimage_contract.Error is importlib.import_module("createimage_contract.schema").Error
    )
