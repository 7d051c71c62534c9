"""createimage-contract: the EC2 CreateImage API as a machine-readable contract.

The public API is what this module exports; everything in a ``_module`` is private.
"""

from typing import TYPE_CHECKING

from .schema import (
    Error,
    Expectation,
    FormatError,
    Rule,
    Violation,
    expect,
    from_form,
    is_valid,
    rule,
    rules,
    to_form,
    validate,
)

if TYPE_CHECKING:
    __version__: str


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed package's metadata when it is first asked for:
    ``importlib.metadata`` takes longer to import than ``lint`` takes to check a file."""
    if name == "__version__":
        from importlib.metadata import version

        globals()["__version__"] = value = version("createimage-contract")
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "__version__"})


__all__ = [
    "Error",
    "Expectation",
    "FormatError",
    "Rule",
    "Violation",
    "__version__",
    "expect",
    "from_form",
    "is_valid",
    "rule",
    "rules",
    "to_form",
    "validate",
]
