"""What the schema says about one value, gathered from a schema object and its allOf and $ref.

The strategies need the constraints on a value in one place (its lengths, its alphabet, its
bounds, its members), not spread over the ``allOf`` entries where the schema puts each with its
rule. ``flatten`` gathers them; it does not follow ``properties`` or ``items``, which stay
schemas for the member and item values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from createimage_contract.schema import document
from createimage_contract.schema._documents import REQUEST, resolve

# A pattern that is one character class repeated: its characters are the value's alphabet.
_CLASS_STAR = re.compile(r"\^\[((?:[^\]\\]|\\.)*)\]\*\$")


@dataclass
class Spec:
    types: set[str] = field(default_factory=set)
    options: list[Any] | None = None
    """The allowed values, from ``enum`` or ``const``."""
    min_length: int = 0
    max_length: int | None = None
    alphabet: str | None = None
    """Every character a string may have, from a character-class pattern."""
    regexes: list[str] = field(default_factory=list)
    """Other patterns the string must match (ECMA-262)."""
    forbidden: list[str] = field(default_factory=list)
    """Patterns the string must not match (``not`` of a pattern)."""
    never: bool = False
    """No value satisfies the schema (``not: {}``): the member must be absent."""
    minimum: int | None = None
    maximum: int | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    conditionals: list[tuple[Any, Any]] = field(default_factory=list)
    """``(if, then)`` pairs of the object."""
    items: Any = None
    max_items: int | None = None


def request_schema() -> Any:
    return document(REQUEST)


def flatten(schema: Any) -> Spec:
    """Everything ``schema`` asserts about one value, through ``allOf`` and ``$ref``."""
    spec = Spec()
    _gather(schema, spec)
    return spec


def _gather(schema: Any, spec: Spec) -> None:
    if schema is True:
        return
    if schema is False:
        spec.never = True
        return
    for keyword, value in schema.items():
        if keyword == "$ref":
            _gather(resolve(request_schema(), value), spec)
        elif keyword == "allOf":
            for sub in value:
                _gather(sub, spec)
        elif keyword == "type":
            spec.types |= {value} if isinstance(value, str) else set(value)
        elif keyword in ("enum", "const"):
            options = value if keyword == "enum" else [value]
            spec.options = (
                options if spec.options is None else [o for o in spec.options if o in options]
            )
        elif keyword == "minLength":
            spec.min_length = max(spec.min_length, value)
        elif keyword == "maxLength":
            spec.max_length = value if spec.max_length is None else min(spec.max_length, value)
        elif keyword == "pattern":
            _pattern(value, spec)
        elif keyword == "not":
            _negation(value, spec)
        elif keyword == "minimum":
            spec.minimum = value if spec.minimum is None else max(spec.minimum, value)
        elif keyword == "maximum":
            spec.maximum = value if spec.maximum is None else min(spec.maximum, value)
        elif keyword == "properties":
            spec.properties.update(value)
        elif keyword == "required":
            spec.required += [name for name in value if name not in spec.required]
        elif keyword == "if":
            spec.conditionals.append((value, schema.get("then", True)))
        elif keyword == "items":
            spec.items = value
        elif keyword == "maxItems":
            spec.max_items = value if spec.max_items is None else min(spec.max_items, value)


def _pattern(pattern: str, spec: Spec) -> None:
    match = _CLASS_STAR.fullmatch(pattern)
    if match is None:
        spec.regexes.append(pattern)
        return
    characters = class_characters(match.group(1))
    spec.alphabet = (
        characters
        if spec.alphabet is None
        else "".join(c for c in spec.alphabet if c in characters)
    )


def _negation(schema: Any, spec: Spec) -> None:
    if schema == {} or schema is True:
        spec.never = True
    elif set(schema) <= {"pattern", "description", "type"} and "pattern" in schema:
        spec.forbidden.append(schema["pattern"])
    else:
        raise ValueError(f"the strategies cannot negate {schema!r}")


def class_characters(content: str) -> str:
    """The characters of an ECMA-262 character class body such as ``A-Za-z0-9()\\[\\] ./-``."""
    literals: list[str] = []
    chars = iter(content)
    for char in chars:
        literals.append(next(chars, "") if char == "\\" else "\x00-" if char == "-" else char)
    characters: list[str] = []
    index = 0
    while index < len(literals):
        is_range = index + 2 < len(literals) and literals[index + 1] == "\x00-"
        if is_range:
            start, end = ord(literals[index]), ord(literals[index + 2])
            characters += [chr(code) for code in range(start, end + 1)]
            index += 3
        else:
            characters.append("-" if literals[index] == "\x00-" else literals[index])
            index += 1
    return "".join(dict.fromkeys(characters))
