"""The CreateImage contract: the JSON Schema documents, the rule catalogue, the validator and the
EC2 Query wire format. The documents ship beside this module; ``document(name)`` reads one."""

from ._catalogue import Rule, rule, rules
from ._documents import ALL as DOCUMENT_NAMES
from ._documents import load as document
from ._requests import INPUT_FORMS, InputForm
from ._validator import Expectation, Violation, expect, is_valid, validate
from ._wire import FormatError, from_form, to_form

__all__ = [
    "DOCUMENT_NAMES",
    "INPUT_FORMS",
    "Expectation",
    "FormatError",
    "InputForm",
    "Rule",
    "Violation",
    "document",
    "expect",
    "from_form",
    "is_valid",
    "rule",
    "rules",
    "to_form",
    "validate",
]
