"""Reading request files for ``lint``: bytes from a path or stdin, to one of the input forms;
and the request files a directory holds."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import Error, InputForm

MAX_INPUT_BYTES = 10 * 1024 * 1024
STDIN = "-"
REQUEST_SUFFIXES = (".json", ".form")
"""What a directory given to ``lint`` is searched for."""


class InputError(Error):
    """An input that cannot be read or parsed; the message names the input and the reason."""


class NoInput(InputError):
    """Standard input is empty or blank: nothing was piped in (an empty ``$FILES`` in CI, say).
    An empty file is another matter: it is read, as an empty form body."""


@dataclass(frozen=True)
class Input:
    source: str
    """The path as given, or ``<stdin>``."""
    request: Any
    form: InputForm
    """The form to validate it as: ``auto`` for a JSON object or array, which the validator
    tells apart (an HTTP request, or parameters) as it does for any request."""
    text: str
    """The text as read, for the line numbers of the reports that give them."""


def expand(sources: Iterable[str]) -> list[str]:
    """``sources`` with each directory replaced by the request files under it (``*.json``,
    ``*.form``), in sorted order; a directory holding none stays, for ``read`` to refuse."""
    expanded: list[str] = []
    for source in sources:
        found = _request_files(source) if source != STDIN and Path(source).is_dir() else []
        expanded += found or [source]
    return expanded


def _request_files(folder: str) -> list[str]:
    found: list[str] = []
    for top, folders, names in os.walk(folder):
        # Sorted, so that reports and exit codes do not depend on the file system's order;
        # hidden folders (.git, .venv) hold no requests of the user's.
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        found += (str(Path(top) / n) for n in sorted(names) if n.endswith(REQUEST_SUFFIXES))
    return found


def read(source: str, form: InputForm = "auto") -> Input:
    """The request in ``source`` (a path, or ``-`` for stdin), read as ``form``."""
    name = "<stdin>" if source == STDIN else source
    data = _read_bytes(source, name)
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is not content
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: not UTF-8 text (byte {error.start})") from None
    if "\x00" in text:
        raise InputError(f"{name}: binary data, not a request")
    if source == STDIN and not text.strip():
        raise NoInput(f"{name}: no input (standard input is empty)")
    if form == "form" or (form == "auto" and not _looks_like_json(source, text)):
        return Input(name, text, "form", text)
    document = _parse_json(name, text)
    if form == "auto" and isinstance(document, str):
        form = "json"  # JSON text holds parameters or an HTTP request, never a form body
    return Input(name, document, form, text)


def _looks_like_json(source: str, text: str) -> bool:
    """A ``.json`` file, or text that starts the way JSON does and no form body can."""
    return source.endswith(".json") or text.lstrip()[:1] in ("{", "[", '"')


def _read_bytes(source: str, name: str) -> bytes:
    try:
        if source == STDIN:
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with Path(source).open("rb") as stream:
                data = stream.read(MAX_INPUT_BYTES + 1)
    except IsADirectoryError:  # one holding request files was expanded (``expand``)
        raise InputError(
            f"{name}: is a directory with no {' or '.join(REQUEST_SUFFIXES)} file in it"
        ) from None
    except OSError as error:
        raise InputError(f"{name}: cannot read ({error.strerror or error})") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"{name}: larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB")
    return data


def _parse_json(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(
            f"{name}: not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
        ) from None
    except RecursionError:
        raise InputError(f"{name}: JSON nested too deeply") from None
    except ValueError as error:  # a number past Python's 4300-digit limit, say
        raise InputError(f"{name}: not valid JSON ({str(error)[:80]})") from None
