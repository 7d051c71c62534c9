"""The contract's JSON documents, read once from the package data."""

from __future__ import annotations

import json
import pkgutil
from functools import cache
from typing import Any

REQUEST = "request.schema.json"
RESPONSES = "responses.schema.json"
RULES = "rules.json"
RULES_FORMAT = "rules.schema.json"
MATRIX_REPORT = "matrix-report.schema.json"
ALL = (REQUEST, RESPONSES, RULES, RULES_FORMAT, MATRIX_REPORT)


@cache
def load(name: str) -> Any:
    """The parsed document ``name``; callers must not mutate it (it is shared)."""
    # pkgutil asks the package's loader, as importlib.resources does, without importing what
    # importlib.resources imports (zipfile, tempfile, ...): a lint takes less time than that.
    data = pkgutil.get_data(__package__, name)
    if data is None:
        raise FileNotFoundError(f"{__package__} has no document {name!r}")
    return json.loads(data.decode("utf-8"))


def resolve(document: Any, ref: str) -> Any:
    """The schema a local ``$ref`` such as ``#/$defs/Tag`` points at."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are used in the contract, not {ref!r}")
    node = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node
