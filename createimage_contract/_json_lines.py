"""Line numbers for ``lint --format github`` and ``sarif``: where a violation's member is in the
file the user wrote, so that an annotation lands on the line to fix.

``json.loads`` forgets positions, so a small scanner walks the (already parsed, hence valid)
JSON text again and notes the line of every member's key and every item's start. YAML keeps
them: its composed nodes carry their marks."""

from __future__ import annotations

import json
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from ._inputs import Input

if TYPE_CHECKING:
    import yaml

Key = tuple[str | int, ...]
HTTP_FIELDS = frozenset({"url", "method", "headers", "body"})
"""The fields by which ``--input auto`` takes a JSON object for an HTTP request, as the
validator tells them apart."""
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()


def line_of(read: Input, pointer: str, lines: dict[Key, int]) -> int:
    """The line of ``pointer`` (into the request as the schema describes it: ``/body/Name``)
    in the file ``read`` came from: its member's line, or its nearest parent's when the member
    is missing. ``lines`` is ``member_lines(read)``. A form body is one line: line 1. For a
    workflow definition, ``pointer`` is one into the file already (``Call.locate``)."""
    if read.form == "form" or not lines:
        return 1
    if read.form == "workflow":
        return _nearest(lines, [_unescape(s) for s in pointer.split("/")[1:]])
    part, *rest = [_unescape(s) for s in pointer.split("/")[1:]] or [""]
    if not _is_http(read):  # parameters are the body; botocore adds the rest
        return _nearest(lines, rest if part == "body" else [])
    if part == "headers" and rest:
        rest[0] = _header(read.request, rest[0])
    if part == "query":  # Action and Version: in the URL's query, or else in a form body
        part, rest = ("url" if "url" in read.request else "body"), []
    return _nearest(lines, [part, *rest])


def member_lines(read: Input) -> dict[Key, int]:
    """The line of each member and item of a JSON input, by its key path; ``()`` is the whole
    document. Empty for a form body, or where the scanner gives up (nesting too deep for it)."""
    if read.form == "form":
        return {}
    if read.yaml:
        return _yaml_lines(read.text)
    scanner = _Scanner(read.text)
    try:
        scanner.value(scanner.skip(0), ())
    except (RecursionError, ValueError, IndexError):
        return {}
    return scanner.lines


def _yaml_lines(text: str) -> dict[Key, int]:
    import yaml  # only for a YAML input, as ``_inputs`` does

    lines: dict[Key, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _node_lines(node, (), lines)
    except (yaml.YAMLError, RecursionError):  # an alias inside the value it names, say
        return {}
    return lines


def _node_lines(node: yaml.Node, key: Key, lines: dict[Key, int]) -> None:
    """As the JSON scanner notes them: a member at its key's line, an item where it starts."""
    import yaml

    lines.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _node_lines(item, (*key, index), lines)
    elif isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode):  # a key that is a list or a mapping: no name
                lines[(*key, name.value)] = name.start_mark.line + 1
                _node_lines(value, (*key, name.value), lines)


def _is_http(read: Input) -> bool:
    if read.form != "auto":
        return read.form == "http"
    return isinstance(read.request, dict) and bool(HTTP_FIELDS.intersection(read.request))


def _header(request: dict[str, Any], name: str) -> str:
    """The header's name as the file spells it: header names are case-insensitive."""
    headers = request.get("headers")
    spelled = [k for k in headers if k.lower() == name.lower()] if isinstance(headers, dict) else []
    return spelled[-1] if spelled else name


def _nearest(lines: dict[Key, int], segments: list[str]) -> int:
    """The line of the deepest member on the way down ``segments`` that the file has."""
    found: Key = ()
    for segment in segments:
        candidates = [(*found, segment)]
        if segment.isdigit():
            candidates.append((*found, int(segment)))
        present = [c for c in candidates if c in lines]
        if not present:
            break
        found = present[0]
    return lines[found]


def _unescape(segment: str) -> str:
    """A JSON pointer segment as the member's name (RFC 6901: ``~1`` is ``/``, ``~0`` ``~``)."""
    return segment.replace("~1", "/").replace("~0", "~")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: dict[Key, int] = {}
        self._breaks = [i for i, c in enumerate(text) if c == "\n"]

    def line(self, offset: int) -> int:
        return bisect_right(self._breaks, offset - 1) + 1

    def skip(self, at: int) -> int:
        while at < len(self.text) and self.text[at] in _WHITESPACE:
            at += 1
        return at

    def value(self, at: int, key: Key) -> int:
        """Scan the value starting at ``at``; returns the offset after it."""
        self.lines.setdefault(key, self.line(at))
        if self.text[at] == "{":
            return self._object(at + 1, key)
        if self.text[at] == "[":
            return self._array(at + 1, key)
        return _DECODER.raw_decode(self.text, at)[1]

    def _object(self, at: int, key: Key) -> int:
        at = self.skip(at)
        while self.text[at] != "}":
            name, after = _DECODER.raw_decode(self.text, at)  # the member's name, a string
            # A repeated name: json.loads keeps the last value, and so does this.
            self.lines[(*key, name)] = self.line(at)
            colon = self.skip(after)
            at = self.skip(self.value(self.skip(colon + 1), (*key, name)))
            at = self.skip(at + 1) if self.text[at] == "," else at
        return at + 1

    def _array(self, at: int, key: Key) -> int:
        at, index = self.skip(at), 0
        while self.text[at] != "]":
            at = self.skip(self.value(at, (*key, index)))
            at, index = (self.skip(at + 1) if self.text[at] == "," else at), index + 1
        return at + 1
