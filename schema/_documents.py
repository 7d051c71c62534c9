"""The contract's JSON documents, read once from the package data."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

REQUEST = "request.schema.json"
RESPONSES = "responses.schema.json"
RULES = "rules.json"
RULES_FORMAT = "rules.schema.json"
ALL = (REQUEST, RESPONSES, RULES, RULES_FORMAT)


@cache
def load(name: str) -> Any:
    """The parsed document ``name``; callers must not mutate it (it is shared)."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def resolve(document: Any, ref: str) -> Any:
    """The schema a local ``$ref`` such as ``#/$defs/Tag`` points at."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local references are used in the contract, not {ref!r}")
    node = document
    for token in ref[2:].split("/"):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node
