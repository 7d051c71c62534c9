"""ECMA-262 regular expressions, as JSON Schema's ``pattern`` means them, on Python's ``re``.

The two dialects differ where it matters for a contract: Python's ``$`` also matches before a
final newline (so ``"abc\\n"`` would pass ``^[a-z]+$``), its ``.`` matches ``\\r``, and its
``\\d``, ``\\w`` and ``\\s`` are Unicode-aware. The translation below makes each construct mean
what ECMA-262 says; constructs it does not know are refused rather than guessed.
"""

from __future__ import annotations

import re
from functools import cache

# ECMA-262 WhiteSpace and LineTerminator code points, which is what \s matches there.
_ECMA_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_OUTSIDE_CLASS = {
    "$": r"\Z",
    ".": "[^\\n\\r\\u2028\\u2029]",
}
_ESCAPES_OUTSIDE_CLASS = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_ECMA_SPACE}]",
    "S": f"[^{_ECMA_SPACE}]",
}
_ESCAPES_INSIDE_CLASS = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_SPACE, "S": r"\S"}
_UNSUPPORTED = ("(?<", "\\k<", "\\p{", "\\P{", "\\u{", "\\c")


def translate(pattern: str) -> str:
    """The Python ``re`` source that means what ``pattern`` means in ECMA-262."""
    for construct in _UNSUPPORTED:
        if construct in pattern:
            raise ValueError(f"pattern {pattern!r}: {construct!r} is not supported")
    out: list[str] = []
    in_class = False
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            table = _ESCAPES_INSIDE_CLASS if in_class else _ESCAPES_OUTSIDE_CLASS
            out.append(table.get(escaped, "\\" + escaped))
        elif in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
        else:
            out.append(_OUTSIDE_CLASS.get(char, char))
    return "".join(out)


@cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled with ECMA-262 semantics; use ``.search`` as JSON Schema does."""
    return re.compile(translate(pattern), re.ASCII)
