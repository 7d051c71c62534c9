"""The CreateImage calls in a workflow definition, for ``lint``: a Conductor (Orkes) workflow's
HTTP tasks, or an AWS Step Functions state machine's ``aws-sdk:ec2:createImage`` Task states.

Workflow authors hold their requests inside such definitions, so each call is brought to a
request the validator reads (an HTTP request, or parameters), and keeps the way back from a
violation's path in that request to the member of the file the author has to change."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from .schema import Placeholder, counted

Engine = Literal["conductor", "step-functions"]
CREATE_IMAGE_RESOURCE = "arn:aws:states:::aws-sdk:ec2:createImage"
_EC2_SDK_RESOURCE = re.compile(r"arn:aws(?:-[a-z]+)*:states:::aws-sdk:ec2:(?P<action>\w+)")
"""An aws-sdk ec2 integration in any partition (``arn:aws-cn:``, ``arn:aws-us-gov:``)."""
DEFAULT_CONTENT_TYPE = "application/json"
"""What Conductor's HTTP task sends when the task names no content type."""

_REGION = r"(?:[a-z0-9-]|\$\{[^}]*\})+"  # a region, or a ${...} that stands for one
_EC2_HOST = re.compile(
    rf"ec2\.amazonaws\.com|ec2\.{_REGION}\.amazonaws\.com(?:\.cn)?"
    rf"|ec2-fips\.{_REGION}\.amazonaws\.com|ec2\.{_REGION}\.api\.aws"
)
_PORT = re.compile(r":[^:\]]*$")


@dataclass(frozen=True)
class Call:
    """One CreateImage call found in a workflow definition."""

    task: str
    """The Conductor task's ``taskReferenceName`` (else its ``name``), or the Step Functions
    state's name; empty for a lone state, which has none."""
    pointer: str
    """Where the request object is in the file (RFC 6901)."""
    request: Any
    """What the validator gets: an HTTP request dict, or parameters in boto3's shape."""
    form: Literal["http", "json"]
    written: Any = field(default=None, repr=False, compare=False)
    """The request object as the file has it (``Key.$`` and all), for ``locate``."""
    headers: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    """Where each header of ``request`` came from: its lowercase name -> the pointer below
    ``pointer`` (``""`` for the default content type, which the file does not write)."""

    def locate(self, path: str) -> str:
        """The pointer into the file for a violation's ``path`` (a pointer into the request as
        the schema describes it): the member that holds it, where a missing member would be,
        or else its nearest ancestor that the file has."""
        segments = [_unescape(s) for s in path.split("/")[1:]]
        if self.form == "json":
            below = segments[1:] if segments[:1] == ["body"] else []
            return self.pointer + _follow(self.written, below)
        return self.pointer + self._locate_http(segments)

    def _locate_http(self, segments: list[str]) -> str:
        part, rest = (segments[0], segments[1:]) if segments else ("", [])
        written = self.written if isinstance(self.written, dict) else {}
        body = written.get("body")
        if part == "headers" and rest:
            return self.headers.get(rest[0].lower(), "/headers/" + _escape(rest[0]))
        if part == "query" and rest:  # EC2 reads the URL's query and the body together
            if isinstance(body, dict) and rest[0] in body:
                return "/body/" + _escape(rest[0])
            return "/body" if isinstance(body, str) and rest[0] in _names(body) else "/uri"
        if part == "body":
            return "/body" + (_follow(body, rest) if isinstance(body, dict | list) else "")
        return {"method": "/method", "headers": "/headers", "url": "/uri"}.get(part, "")


@dataclass(frozen=True)
class Found:
    """The CreateImage calls of one workflow definition."""

    calls: list[Call]
    http_tasks: int
    """The HTTP tasks (Conductor) or aws-sdk ec2 Task states (Step Functions) seen."""
    engine: Engine = "conductor"

    def describe_none(self) -> str:
        """Why ``calls`` is empty, in one short sentence."""
        if self.engine == "step-functions":
            if not self.http_tasks:
                return "no CreateImage call: no aws-sdk:ec2 Task state"
            states = counted(self.http_tasks, "aws-sdk:ec2 Task state")
            return f"no CreateImage call: {states}, none with Resource {CREATE_IMAGE_RESOURCE}"
        if not self.http_tasks:
            return "no CreateImage call: no HTTP task"
        tasks = counted(self.http_tasks, "HTTP task")
        return (
            f"no CreateImage call: {tasks}, none to an EC2 host with Action CreateImage "
            "(--ec2-host adds hosts)"
        )


# ------------------------------------------------------------------------------- detection


def is_workflow(document: Any) -> bool:
    """A Conductor workflow, task or array of them, or a Step Functions state machine or
    state: never a request in one of the three request forms."""
    if isinstance(document, list):
        return bool(document) and all(_is_conductor(item) for item in document)
    return _is_conductor(document) or _is_step_functions(document)


def _is_conductor(document: Any) -> bool:
    return _is_conductor_workflow(document) or _is_conductor_task(document)


def _is_conductor_workflow(document: Any) -> bool:
    return _is_definition(document) and isinstance(document.get("tasks"), list)


def _is_conductor_task(document: Any) -> bool:
    if not _is_definition(document):
        return False
    return "taskReferenceName" in document or {"type", "inputParameters"} <= document.keys()


def _is_step_functions(document: Any) -> bool:
    if not _is_definition(document):
        return False
    machine = isinstance(document.get("States"), dict) and "StartAt" in document
    return machine or {"Type", "Resource"} <= document.keys()


def _is_definition(document: Any) -> bool:
    """An object that may be a definition: CreateImage parameters (``InstanceId``) are none."""
    return isinstance(document, dict) and "InstanceId" not in document


def calls(document: Any, ec2_hosts: Sequence[str] = ()) -> Found:
    """The CreateImage calls in ``document``. ``ec2_hosts`` are more hosts (``host`` or
    ``host:port``, globs allowed) that a Conductor HTTP task may call EC2 at."""
    if _is_step_functions(document):
        return _step_functions(document)
    return _conductor(document, tuple(h.lower() for h in ec2_hosts))


# ------------------------------------------------------------------------------- conductor


def _conductor(document: Any, ec2_hosts: tuple[str, ...]) -> Found:
    found: list[Call] = []
    http_tasks = 0
    for task, pointer in _conductor_tasks(document, ""):
        if task.get("type") != "HTTP":
            continue
        http_tasks += 1
        call = _http_call(task, pointer, ec2_hosts)
        if call is not None:
            found.append(call)
    return Found(found, http_tasks, "conductor")


def _conductor_tasks(document: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    """Every task with its pointer, nested ones after the task that holds them."""
    if isinstance(document, list):  # bulk registration: an array of definitions
        for i, item in enumerate(document):
            yield from _conductor_tasks(item, f"{pointer}/{i}")
    elif _is_conductor_workflow(document):
        yield from _task_list(document["tasks"], f"{pointer}/tasks")
    elif isinstance(document, dict):
        yield from _task(document, pointer)


def _task_list(tasks: Any, pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    for i, task in enumerate(tasks if isinstance(tasks, list) else []):
        if isinstance(task, dict):
            yield from _task(task, f"{pointer}/{i}")


def _task(task: dict[str, Any], pointer: str) -> Iterator[tuple[dict[str, Any], str]]:
    yield task, pointer
    forks = task.get("forkTasks")
    for i, branch in enumerate(forks if isinstance(forks, list) else []):
        yield from _task_list(branch, f"{pointer}/forkTasks/{i}")
    cases = task.get("decisionCases")  # DECISION and SWITCH
    for case, branch in cases.items() if isinstance(cases, dict) else []:
        yield from _task_list(branch, f"{pointer}/decisionCases/{_escape(str(case))}")
    yield from _task_list(task.get("defaultCase"), f"{pointer}/defaultCase")
    yield from _task_list(task.get("loopOver"), f"{pointer}/loopOver")  # DO_WHILE
    sub = task.get("subWorkflowParam")
    inline = sub.get("workflowDefinition") if isinstance(sub, dict) else None
    if isinstance(inline, dict):
        tasks = f"{pointer}/subWorkflowParam/workflowDefinition/tasks"
        yield from _task_list(inline.get("tasks"), tasks)


def _http_call(task: dict[str, Any], pointer: str, ec2_hosts: tuple[str, ...]) -> Call | None:
    """The task's request, if it is a CreateImage call: ``inputParameters.http_request``, or
    ``inputParameters`` itself as Orkes writes it."""
    given = task.get("inputParameters")
    if not isinstance(given, dict):
        return None
    if isinstance(given.get("http_request"), dict):
        written, pointer = given["http_request"], f"{pointer}/inputParameters/http_request"
    elif "uri" in given:
        written, pointer = given, f"{pointer}/inputParameters"
    else:
        return None
    uri, body = written.get("uri"), written.get("body")
    if not isinstance(uri, str) or not _is_ec2(uri, ec2_hosts) or not _creates_image(uri, body):
        return None
    request, headers = _http_request(written)
    name = task.get("taskReferenceName")
    name = name if isinstance(name, str) else task.get("name")
    return Call(name if isinstance(name, str) else "", pointer, request, "http", written, headers)


def _http_request(written: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The request the engine sends, and where each of its headers came from."""
    request: dict[str, Any] = {"url": written["uri"]}
    if "method" in written:
        request["method"] = written["method"]
    given = written.get("headers")
    if given is not None and not isinstance(given, dict):
        request["headers"] = given  # for the validator to refuse, as the engine would
        return _with_body(request, written), {}
    headers = {str(k): v for k, v in (given or {}).items()}
    sources = {k.lower(): "/headers/" + _escape(k) for k in headers}  # the last spelling wins
    content_type = written.get("contentType")
    if "content-type" not in sources:
        headers["Content-Type"] = DEFAULT_CONTENT_TYPE if content_type is None else content_type
        sources["content-type"] = "" if content_type is None else "/contentType"
    if "accept" not in sources and written.get("accept") is not None:
        headers["Accept"], sources["accept"] = written["accept"], "/accept"
    request["headers"] = headers
    return _with_body(request, written), sources


def _with_body(request: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    if "body" in written:
        request["body"] = written["body"]
    return request


def _is_ec2(uri: str, ec2_hosts: tuple[str, ...]) -> bool:
    """The URI's host is EC2's (or one of ``ec2_hosts``); a URI that is wholly a placeholder
    (``${workflow.input.url}``) has no host, and is not known to be EC2."""
    try:
        authority = urlsplit(uri).netloc.rpartition("@")[2].lower()
    except ValueError:
        return False
    host = _PORT.sub("", authority)
    if not host:
        return False
    if _EC2_HOST.fullmatch(host):
        return True
    return any(fnmatchcase(authority if ":" in p else host, p) for p in ec2_hosts)


def _creates_image(uri: str, body: Any) -> bool:
    """The Action is CreateImage in any case (the validator reports a wrong one); with no
    Action at all, a body with InstanceId and Name is one that forgot it."""
    split = urlsplit(uri)
    actions = [v for k, v in _pairs(split.query) if k == "Action"]
    if isinstance(body, dict) and "Action" in body:
        actions.append(body["Action"])
    elif isinstance(body, str):
        actions += [v for k, v in _pairs(body) if k == "Action"]
    # The fragment is never sent, but the catalogue writes the operation there.
    actions = actions or [v for k, v in _pairs(split.fragment) if k == "Action"]
    if actions:
        return any(isinstance(a, str) and a.lower() == "createimage" for a in actions)
    names = _names(body) if isinstance(body, str) else body if isinstance(body, dict) else {}
    return {"InstanceId", "Name"} <= set(names)


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def _names(form: str) -> set[str]:
    return {name for name, _ in _pairs(form)}


# -------------------------------------------------------------------------- step functions


def _step_functions(document: dict[str, Any]) -> Found:
    found: list[Call] = []
    tasks = 0
    for name, state, pointer, jsonata in _states(document):
        resource = state.get("Resource")
        if state.get("Type") != "Task" or not isinstance(resource, str):
            continue
        sdk = _EC2_SDK_RESOURCE.fullmatch(resource)
        tasks += sdk is not None
        if sdk is not None and sdk["action"] == "createImage":
            found.append(_sdk_call(name, state, pointer, jsonata))
    return Found(found, tasks, "step-functions")


State = tuple[str, dict[str, Any], str, bool]
"""A state: its name, its definition, its pointer and whether it uses JSONata."""


def _states(document: dict[str, Any]) -> Iterator[State]:
    jsonata = _jsonata(document, False)
    if "States" in document:
        yield from _machine(document, "", jsonata)
    else:  # a lone state, which has no name
        yield from _state("", document, "", jsonata)


def _jsonata(definition: dict[str, Any], inherited: bool) -> bool:
    """Whether ``definition`` uses JSONata: its own QueryLanguage, else the enclosing one."""
    language = definition.get("QueryLanguage")
    return language == "JSONata" if language in ("JSONata", "JSONPath") else inherited


def _machine(machine: dict[str, Any], pointer: str, jsonata: bool) -> Iterator[State]:
    jsonata = _jsonata(machine, jsonata)
    states = machine.get("States")
    for name, state in states.items() if isinstance(states, dict) else []:
        if isinstance(state, dict):
            yield from _state(str(name), state, f"{pointer}/States/{_escape(str(name))}", jsonata)


def _state(name: str, state: dict[str, Any], pointer: str, jsonata: bool) -> Iterator[State]:
    jsonata = _jsonata(state, jsonata)
    yield name, state, pointer, jsonata
    branches = state.get("Branches")  # Parallel
    for i, branch in enumerate(branches if isinstance(branches, list) else []):
        if isinstance(branch, dict):
            yield from _machine(branch, f"{pointer}/Branches/{i}", jsonata)
    for key in ("ItemProcessor", "Iterator"):  # Map, and its older spelling
        inner = state.get(key)
        if isinstance(inner, dict):
            yield from _machine(inner, f"{pointer}/{key}", jsonata)


def _sdk_call(name: str, state: dict[str, Any], pointer: str, jsonata: bool) -> Call:
    """The state's ``Arguments`` (JSONata) or ``Parameters`` (JSONPath), as parameters."""
    if jsonata or "Arguments" in state:
        key = "Arguments"
    elif isinstance(state.get("Parameters.$"), str):
        key = "Parameters.$"
    else:
        key = "Parameters"
    written = state.get(key, {})  # none: a request missing everything, where it would be
    if isinstance(written, str) and key != "Parameters":  # "{% $states.input.args %}"
        request: Any = Placeholder(written)
    else:  # JSONata's {% ... %} inside a value is a placeholder to the validator as written
        request = _placeholders(written) if key == "Parameters" else written
    return Call(name, f"{pointer}/{_escape(key)}", request, "json", written)


def _placeholders(value: Any) -> Any:
    """``value`` with each ``"Key.$": "$.path"`` member, which the engine fills in at run time,
    as ``"Key": Placeholder("$.path")``."""
    if isinstance(value, list):
        return [_placeholders(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted: dict[Any, Any] = {}
    for key, member in value.items():
        if isinstance(key, str) and key.endswith(".$") and isinstance(member, str):
            converted[key[:-2]] = Placeholder(member)
        else:
            converted[key] = _placeholders(member)
    return converted


# -------------------------------------------------------------------------------- pointers


def _follow(written: Any, segments: list[str]) -> str:
    """The pointer, below ``written``, of the deepest member on the way down ``segments`` that
    the file has; with the last segment added when only that one is missing from an object
    (a missing member: where it would be)."""
    found = ""
    for i, segment in enumerate(segments):
        key = _member(written, segment)
        if key is None:
            missing = i == len(segments) - 1 and isinstance(written, dict)
            return found + "/" + _escape(segment) if missing else found
        written = written[key]
        found += "/" + _escape(str(key))
    return found


def _member(written: Any, segment: str) -> str | int | None:
    """The key or index of ``written`` that ``segment`` names: ``Name``, else ``Name.$``."""
    if isinstance(written, dict):
        return next((k for k in (segment, segment + ".$") if k in written), None)
    if isinstance(written, list) and segment.isascii() and segment.isdigit():
        return int(segment) if int(segment) < len(written) else None
    return None


def _escape(name: str) -> str:
    """A member's name as a JSON pointer segment (RFC 6901)."""
    return name.replace("~", "~0").replace("/", "~1")


def _unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")
