"""Reading request files for ``lint``: bytes from a path or stdin, to one of the input forms."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import Error, InputForm

MAX_INPUT_BYTES = 10 * 1024 * 1024
STDIN = "-"


class InputError(Error):
    """An input that cannot be read or parsed; the message names the input and the reason."""


@dataclass(frozen=True)
class Input:
    source: str
    """The path as given, or ``<stdin>``."""
    request: Any
    form: InputForm
    """The form to validate it as: ``auto`` for a JSON object or array, which the validator
    tells apart (an HTTP request, or parameters) as it does for any request."""


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
    if form == "form" or (form == "auto" and not _looks_like_json(source, text)):
        return Input(name, text, "form")
    document = _parse_json(name, text)
    if form == "auto" and isinstance(document, str):
        form = "json"  # JSON text holds parameters or an HTTP request, never a form body
    return Input(name, document, form)


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
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a request file") from None
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
