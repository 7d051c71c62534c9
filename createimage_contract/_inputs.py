"""Reading request files for ``lint``: bytes from a path or stdin, to one of the input forms or
a workflow definition (JSON, or YAML); and the request files a directory holds."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._workflows import is_workflow
from .schema import INPUT_FORMS, Error, InputForm

if TYPE_CHECKING:
    import yaml

MAX_INPUT_BYTES = 10 * 1024 * 1024
STDIN = "-"
REQUEST_SUFFIXES = (".json", ".form")
"""What a directory given to ``lint`` is searched for."""
WORKFLOW_SUFFIXES = (".asl.yaml", ".asl.yml")
"""Searched for too: AWS's naming for state machines in YAML (not every YAML file of a repo is
one; a ``.asl.json`` is a ``.json``)."""
YAML_SUFFIXES = (".yaml", ".yml")
ReadForm = InputForm | Literal["workflow"]
"""How ``lint`` reads an input: one of the request forms, or a workflow definition that holds
requests."""
READ_FORMS: tuple[ReadForm, ...] = (*INPUT_FORMS, "workflow")
MAX_YAML_ALIASED = 100_000
"""How many more values than its text could hold a YAML file's aliases may make: a few
anchors reused are fine, a "billion laughs" is refused."""


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
    form: ReadForm
    """The form to validate it as: ``auto`` for a JSON object or array, which the validator
    tells apart (an HTTP request, or parameters) as it does for any request; ``workflow`` for
    a workflow definition, whose calls are the requests."""
    text: str
    """The text as read, for the line numbers of the reports that give them."""
    yaml: bool = False
    """The text is YAML, not JSON: its lines are found from YAML's own marks."""


def expand(sources: Iterable[str]) -> list[str]:
    """``sources`` with each directory replaced by the request files under it (``*.json``,
    ``*.form``, ``*.asl.yaml``, ``*.asl.yml``), in sorted order; a directory holding none
    stays, for ``read`` to refuse."""
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
        found += (str(Path(top) / n) for n in sorted(names) if n.endswith(_SEARCHED))
    return found


_SEARCHED = REQUEST_SUFFIXES + WORKFLOW_SUFFIXES


def read(source: str, form: ReadForm = "auto") -> Input:
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
    # Standard input is YAML only when it must hold a workflow and is no JSON.
    is_yaml = source.endswith(YAML_SUFFIXES) or (
        form == "workflow" and not _looks_like_json(source, text)
    )
    if form == "form" or (form == "auto" and not is_yaml and not _looks_like_json(source, text)):
        return Input(name, text, "form", text)
    document = _parse_yaml(name, text) if is_yaml else _parse_json(name, text)
    if form == "auto":
        form = _detected(document)
    if form == "workflow" and not is_workflow(document):
        raise InputError(
            f"{name}: not a workflow definition (a Conductor workflow or task, or a Step "
            "Functions state machine or state)"
        )
    return Input(name, document, form, text, is_yaml)


def _detected(document: Any) -> ReadForm:
    if is_workflow(document):
        return "workflow"
    # JSON text holds parameters or an HTTP request, never a form body.
    return "json" if isinstance(document, str) else "auto"


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


def _parse_yaml(name: str, text: str) -> Any:
    """The YAML document, or a one-line ``InputError`` saying what is wrong and where."""
    import yaml  # only here: most inputs are JSON or form bodies, and lint starts fast

    try:
        return _load_yaml(name, text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = error.problem or error.context or "bad syntax"
        if problem.startswith("but ") and error.context:  # "expected a single document..."
            problem = f"{error.context}, {problem}"
        raise InputError(f"{name}: not valid YAML ({problem}{where})") from None
    except yaml.YAMLError as error:  # a character YAML does not allow, say: no mark
        raise InputError(f"{name}: not valid YAML ({str(error).splitlines()[0]})") from None
    except RecursionError:
        raise InputError(f"{name}: YAML nested too deeply") from None


def _load_yaml(name: str, text: str) -> Any:
    """Refused when its aliases repeat more than its text could hold: each repetition would be
    linted (a "billion laughs" is a few lines)."""
    loader = _yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded(node, len(text) + MAX_YAML_ALIASED, {}) is None:
            raise InputError(f"{name}: YAML aliases repeat too much (or refer to themselves)")
        return None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()


@cache
def _yaml_loader() -> type[yaml.SafeLoader]:
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe; and a timestamp stays the text it is: JSON has no dates, and to the API a
        date-looking value (a Version of 2016-11-15, a Name) is a string."""

    def as_text(loader: yaml.SafeLoader, node: yaml.Node) -> str:
        return loader.construct_yaml_str(node)

    Loader.add_constructor("tag:yaml.org,2002:timestamp", as_text)
    return Loader


def _expanded(node: yaml.Node, budget: int, seen: dict[int, int | None]) -> int | None:
    """How many values ``node`` stands for, aliases expanded; ``None`` past ``budget``, or for
    an alias inside the value it names (``seen`` holds ``None`` for a node being counted)."""
    import yaml

    if id(node) in seen:
        return seen[id(node)]
    seen[id(node)] = None
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = node.value
    total = 1
    for child in children:
        size = _expanded(child, budget, seen)
        if size is None or total + size > budget:
            return None
        total += size
    seen[id(node)] = total
    return total
