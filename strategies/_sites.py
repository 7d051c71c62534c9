"""Where in a request each rule of the catalogue can be broken, read off the request schema.

A site is one assertion: the rule it belongs to, the part of the request (``query`` or
``body``), the path of the value it is about (member names, ``*`` for any item of a list), the
keyword and its value, and the schema object it sits in. ``members`` maps each path to the
schema of the value there, which the breakers need to keep every other constraint satisfied.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from createimage_contract.schema._documents import resolve

from ._spec import request_schema

Path = tuple[str, ...]
ANY_ITEM = "*"
ASSERTIONS = frozenset(
    {
        "type",
        "enum",
        "const",
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "maxItems",
        "required",
        "not",
        "if",
    }
)


@dataclass(frozen=True, eq=False)  # one object per assertion: identity is its hash
class Site:
    rule: str
    part: str
    path: Path
    keyword: str
    value: Any
    schema: Any

    def __repr__(self) -> str:
        return f"Site({self.rule} {self.part}/{'/'.join(self.path)} {self.keyword})"


@dataclass(frozen=True)
class Index:
    sites: tuple[Site, ...]
    members: dict[tuple[str, Path], Any]


@cache
def index() -> Index:
    """Every assertion of the request schema's ``query`` and ``body``, with its rule."""
    root = request_schema()
    sites: list[Site] = []
    members: dict[tuple[str, Path], Any] = {}
    for part in ("query", "body"):
        _walk(root["properties"][part], "", part, (), sites, members)
    return Index(tuple(sites), members)


def _walk(
    schema: Any, rule: str, part: str, path: Path, sites: list[Site], members: dict[Any, Any]
) -> None:
    if not isinstance(schema, dict):
        return
    members.setdefault((part, path), schema)
    rule = schema.get("x-rule", rule)
    for keyword, value in schema.items():
        if keyword == "$ref":
            _walk(resolve(request_schema(), value), rule, part, path, sites, members)
        elif keyword == "allOf":
            for sub in value:
                _walk(sub, rule, part, path, sites, members)
        elif keyword == "properties":
            for name, sub in value.items():
                _walk(sub, rule, part, (*path, name), sites, members)
        elif keyword == "items":
            _walk(value, rule, part, (*path, ANY_ITEM), sites, members)
        elif keyword == "additionalProperties":
            target = resolve(request_schema(), value["$ref"]) if "$ref" in value else value
            sites.append(Site(target.get("x-rule", rule), part, path, keyword, value, schema))
        elif keyword in ASSERTIONS:
            sites.append(Site(rule, part, path, keyword, value, schema))


def sites_of(rule: str) -> list[Site]:
    return [site for site in index().sites if site.rule == rule]


def member_schema(part: str, path: Path) -> Any:
    return index().members[(part, path)]
