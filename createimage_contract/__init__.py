"""createimage-contract: the EC2 CreateImage API as a machine-readable contract.

The public API is what this module exports; everything in a ``_module`` is private.
"""

from importlib.metadata import version as _version

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

__version__ = _version("createimage-contract")

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
