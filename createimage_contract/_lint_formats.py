"""``lint --format github`` and ``--format sarif``: the reports CI systems read.

github: one workflow command per violation (docs.github.com, "Workflow commands for GitHub
Actions"), which GitHub shows as an annotation on the file's line. sarif: one SARIF 2.1.0 log
(OASIS), which code-scanning dashboards read; an input that cannot be read is a tool execution
notification, and makes the invocation unsuccessful."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from ._json_lines import line_of, member_lines
from .schema import DYNAMIC, Rule, Violation, rules

if TYPE_CHECKING:
    from ._lint import Result

TOOL = "createimage-contract"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
STDIN = "<stdin>"
_GITHUB_LEVELS = {"error": "error", "warning": "warning", "info": "notice"}
_SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


# ---------------------------------------------------------------------------------- github


def write_github(results: list[Result], out: TextIO) -> None:
    """``::error file=F,line=L,title=RULE::PATH: CODE message`` per violation (``::warning``
    for a warning, ``::notice`` for a dynamic value), ``::error`` for an input that cannot be
    read, and ``::notice`` for a workflow that holds no CreateImage call."""
    for result in results:
        if result.error is not None:
            out.write(_command("error", _where(result.source), "unreadable input", result.error))
        if result.note is not None:  # a workflow with no CreateImage call: say so, not nothing
            out.write(_command("notice", _where(result.source), "no CreateImage call", result.note))
        for violation, line in _located(result):
            where = _where(result.source, line)
            code = "" if violation.severity == "info" else f"{violation.code or '4xx'} "
            text = f"{violation.path}: {code}{violation.message}"
            out.write(_command(_GITHUB_LEVELS[violation.severity], where, violation.rule, text))


def _where(source: str, line: int | None = None) -> dict[str, str]:
    """The file and line properties; none for standard input, which is no file of the repo."""
    if source == STDIN:
        return {}
    return {"file": source} if line is None else {"file": source, "line": str(line)}


def _command(level: str, where: dict[str, str], title: str, message: str) -> str:
    properties = ",".join(
        f"{k}={_escape_property(v)}" for k, v in {**where, "title": title}.items()
    )
    return f"::{level} {properties}::{_escape_data(message)}\n"


def _escape_data(text: str) -> str:
    """As GitHub's toolkit escapes a command's message: a newline would end the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    """As GitHub's toolkit escapes a property: ``:`` and ``,`` would end it too."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _located(result: Result) -> list[tuple[Violation, int | None]]:
    """Each violation with its line in the input (``None`` for standard input)."""
    read = result.read
    if read is None or result.source == STDIN:
        return [(v, None) for v in result.violations]
    lines = member_lines(read)
    return [(v, line_of(read, v.path, lines)) for v in result.violations]


def github_line(source: str, line: int | None, violation: Violation | None, text: str) -> str:
    """For a JSON Lines input (``_bulk``): the command for ``violation`` of the request on
    ``line``, or, with no violation, ``::error`` for a line (``None``: an input) that cannot be
    read, ``text`` saying why. The line is given for standard input too: it is the request's
    only name there."""
    where = {} if source == STDIN else {"file": source}
    if line is not None:
        where["line"] = str(line)
    if violation is None:
        return _command("error", where, "unreadable input", text)
    code = "" if violation.severity == "info" else f"{violation.code or '4xx'} "
    message = f"{violation.path}: {code}{violation.message}"
    return _command(_GITHUB_LEVELS[violation.severity], where, violation.rule, message)


# ----------------------------------------------------------------------------------- sarif


def write_sarif(results: list[Result], out: TextIO, exit_code: int) -> None:
    """One SARIF 2.1.0 log with one run: the rules, a result per violation, and the
    invocation (unsuccessful, with a notification each, when an input could not be read)."""
    catalogue = list(rules().values())
    index = {rule.id: i for i, rule in enumerate(catalogue)}
    index[DYNAMIC] = len(catalogue)
    run = {
        "tool": {"driver": _driver(catalogue)},
        "invocations": [_invocation(results, exit_code)],
        "results": [
            _sarif_result(result.source, violation, line, index[violation.rule])
            for result in results
            for violation, line in _located(result)
        ],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    json.dump(log, out, indent=2)
    out.write("\n")


def _driver(catalogue: list[Rule]) -> dict[str, Any]:
    from . import __version__  # only here: reading metadata is no part of a plain lint

    driver: dict[str, Any] = {"name": TOOL, "version": __version__}
    uri = _information_uri()
    if uri is not None:
        driver["informationUri"] = uri
    driver["rules"] = [*(_sarif_rule(rule) for rule in catalogue), _DYNAMIC_RULE]
    return driver


_DYNAMIC_RULE = {
    "id": DYNAMIC,
    "shortDescription": {"text": "A value known only at run time (a placeholder)"},
    "fullDescription": {
        "text": "A value holds a placeholder of a workflow or template: its literal part is "
        "checked, and the rest is known only when the workflow runs."
    },
    "defaultConfiguration": {"level": "note"},
}


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    answer = f"{rule.status or '4xx'} {rule.code or '(any error code)'}"
    facts = {"kind": rule.kind, "code": rule.code, "status": rule.status}
    return {
        "id": rule.id,
        "shortDescription": {"text": rule.breaks_when[:1].upper() + rule.breaks_when[1:]},
        "fullDescription": {"text": f"A request breaks {rule.id} when {rule.breaks_when}."},
        "help": {"text": f"A conforming service answers {answer}."},
        "defaultConfiguration": {"level": rule.severity},
        "properties": {k: v for k, v in facts.items() if v is not None},
    }


def _information_uri() -> str | None:
    """The project's home page, as its package metadata names it; none if it names none."""
    from importlib import metadata  # only here: reading metadata is no part of a plain lint

    try:
        about = metadata.metadata(TOOL)
    except metadata.PackageNotFoundError:
        return None
    for entry in about.get_all("Project-URL") or []:
        label, _, url = str(entry).partition(",")
        if label.strip().lower() in {"homepage", "home", "repository", "source"}:
            return url.strip()
    homes = about.get_all("Home-page") or []
    return str(homes[0]) if homes else None


def _sarif_result(
    source: str, violation: Violation, line: int | None, rule_index: int
) -> dict[str, Any]:
    where: dict[str, Any] = {} if source == STDIN else {"physicalLocation": _physical(source, line)}
    where["logicalLocations"] = [{"fullyQualifiedName": violation.path}]  # the JSON pointer
    return {
        "ruleId": violation.rule,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVELS[violation.severity],
        "message": {"text": _sarif_message(violation)},
        "locations": [where],
    }


def _sarif_message(violation: Violation) -> str:
    if violation.severity == "info":
        return violation.message
    return f"{violation.message} ({violation.code or 'any 4xx'})"


def _physical(source: str, line: int | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": _uri(source)}}
    if line is not None:
        location["region"] = {"startLine": line}
    return location


def _uri(source: str) -> str:
    """A path as a URI: relative stays relative (to where lint ran), absolute is ``file:``."""
    path = PurePath(source)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def _invocation(results: list[Result], exit_code: int) -> dict[str, Any]:
    unreadable = [r for r in results if r.error is not None]
    notes = [_notification(r.source, r.note, "note") for r in results if r.note is not None]
    return {
        # Invalid inputs are results, not a failed run; an unreadable one is the tool's failure.
        "executionSuccessful": not unreadable,
        "exitCode": exit_code,
        "toolExecutionNotifications": [
            *(_notification(r.source, r.error or "") for r in unreadable),
            *notes,  # a workflow with no CreateImage call, which has no result to show
        ],
    }


def _notification(source: str, text: str, level: str = "error") -> dict[str, Any]:
    notification: dict[str, Any] = {"level": level, "message": {"text": text}}
    if source != STDIN:
        notification["locations"] = [{"physicalLocation": _physical(source, None)}]
    return notification


# --------------------------------------------------------------- sarif, streamed (JSON Lines)


def sarif_rule_indexes() -> dict[str, int]:
    """Each rule's index in the driver's rules (``_driver``), ``dynamic`` last."""
    index = {rule_id: i for i, rule_id in enumerate(rules())}
    index[DYNAMIC] = len(index)
    return index


def sarif_head() -> str:
    """A SARIF log written as it goes (``_bulk``), up to its first result; then come the
    results, separated by ``,``, and ``sarif_tail``."""
    driver = json.dumps(_driver(list(rules().values())))
    return (
        f'{{"$schema": {json.dumps(SARIF_SCHEMA)}, "version": "2.1.0", '
        f'"runs": [{{"tool": {{"driver": {driver}}}, "results": [\n'
    )


def sarif_line_result(
    source: str, line: int, violation: Violation, rule_index: int
) -> dict[str, Any]:
    """The result for ``violation`` of the request on ``line`` of a JSON Lines input: the line
    is the region; for standard input, which is no artifact, a ``line`` property."""
    result = _sarif_result(source, violation, line, rule_index)
    if source == STDIN:
        result["properties"] = {"line": line}
    return result


def sarif_line_notification(source: str, line: int | None, text: str) -> dict[str, Any]:
    """The notification for a line (``None``: an input) of a JSON Lines input that cannot be
    read."""
    notification: dict[str, Any] = {"level": "error", "message": {"text": text}}
    if source != STDIN:
        notification["locations"] = [{"physicalLocation": _physical(source, line)}]
    elif line is not None:
        notification["properties"] = {"line": line}
    return notification


def sarif_tail(exit_code: int, successful: bool) -> tuple[str, str]:
    """The end of a streamed log, around its notifications (JSON objects separated by
    ``,``): the invocation, unsuccessful when an input or line could not be read."""
    return (
        f'\n], "invocations": [{{"executionSuccessful": {json.dumps(successful)}, '
        f'"exitCode": {exit_code}, "toolExecutionNotifications": [',
        "]}]}]}\n",
    )
