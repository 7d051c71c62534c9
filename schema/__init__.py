"""The CreateImage contract: the JSON Schema documents, the rule catalogue, the validator and the
EC2 Query wire format. The documents ship beside this module; ``document(name)`` reads one.

This is the lowest layer: ``strategies``, ``conformance``, the command line and the pytest
plugin use its public names, and nothing here imports them."""

from ._catalogue import Citation, Rule, RuleKind, Severity, rule, rules
from ._compiler import predicate
from ._curl import FORM_CONTENT_TYPE, CurlAuth, curl_command
from ._documents import ALL as DOCUMENT_NAMES
from ._documents import load as document
from ._dynamic import DYNAMIC, Placeholder
from ._ecma import compile_pattern
from ._errors import Error
from ._model import (
    ANY_ITEM,
    Assertion,
    Conditional,
    Constraint,
    Contract,
    Field,
    Members,
    Node,
    Part,
    Path,
    WireKind,
    contract,
    through_refs,
)
from ._requests import INPUT_FORMS, InputForm, to_document
from ._responses import Requirement, ResponsePath, Responses, ResponseShape, responses
from ._validator import Expectation, Violation, expect, is_valid, validate
from ._wire import (
    FormatError,
    Pairs,
    decode_pairs,
    encode_pairs,
    from_form,
    parse_form,
    protocol_parameters,
    split_protocol,
    to_form,
)
from ._words import counted

__all__ = [
    "ANY_ITEM",
    "DOCUMENT_NAMES",
    "DYNAMIC",
    "FORM_CONTENT_TYPE",
    "INPUT_FORMS",
    "Assertion",
    "Citation",
    "Conditional",
    "Constraint",
    "Contract",
    "CurlAuth",
    "Error",
    "Expectation",
    "Field",
    "FormatError",
    "InputForm",
    "Members",
    "Node",
    "Pairs",
    "Part",
    "Path",
    "Placeholder",
    "Requirement",
    "ResponsePath",
    "ResponseShape",
    "Responses",
    "Rule",
    "RuleKind",
    "Severity",
    "Violation",
    "WireKind",
    "compile_pattern",
    "contract",
    "counted",
    "curl_command",
    "decode_pairs",
    "document",
    "encode_pairs",
    "expect",
    "from_form",
    "is_valid",
    "parse_form",
    "predicate",
    "protocol_parameters",
    "responses",
    "rule",
    "rules",
    "split_protocol",
    "through_refs",
    "to_document",
    "to_form",
    "validate",
]
