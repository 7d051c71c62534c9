"""No silent pass: a bug of ours is an internal error, never a finding and never a green run.

Faults are injected with monkeypatch into this process, which is the one that runs the checks:
the command and the pytest suite run in-process, against a service served in-process on
loopback. A check that raises, the XML parser raising something that is not a syntax error,
and the signer raising must each stop the run at once and end it with exit code 2 and one
line naming the exception and where it was raised.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from hypothesis import strategies as st
from lxml import etree
from test_faulty_services import INSTANCE, Fault, Faulty, on_code, on_success, substitute

from createimage_contract import _cli
from createimage_contract.conformance import (
    InternalError,
    Options,
    ReferenceService,
    Running,
    _checks,
    _engine,
    _signing,
    _xml,
    run,
    serve,
)
from createimage_contract.conformance._checks import Exchange
from createimage_contract.conformance._reference import Answer

ROOT = Path(__file__).resolve().parent.parent
HINT = "a bug in createimage-contract, not a finding about the target; please report it"
PLACE = r"[^\s,]+:\d+ in [^\s,]+"
LINE = re.compile(
    rf"^createimage-contract run: internal error: (?P<error>.+) raised at (?P<where>{PLACE})"
    rf"(?:, via (?P<via>{PLACE}))? \({re.escape(HINT)}\)\n$"
)
TOTALS = re.compile(r"^\d+ requests? in \d+\.\d s: \d+ errors?, \d+ warnings?")
WORKERS = 2
SMALL_RUN = ("--max-examples", "5", "--workers", str(WORKERS), "--rules", "valid,name.length")
SECRET_KEY = "fake/Secret+Key/Marker4242"
NOTHING_SENT = "the run sent no CreateImage request, so it checked nothing"


def as_is(_: dict[str, str], answer: Answer, __: ReferenceService) -> Answer:
    return answer


class Counting(Faulty):
    """The reference (with a fault, if given), remembering every request it was sent."""

    def __init__(self, fault: Fault = as_is, **gate: Any) -> None:
        super().__init__(fault, **gate)
        self.forms: list[str] = []
        self._lock = threading.Lock()

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            self.forms.append(body.decode("utf-8", "replace"))
        return super().answer(method, url, headers, body)


@pytest.fixture
def counting() -> Iterator[Running]:
    with serve(Counting()) as running:
        yield running


def sent_to(running: Running) -> list[str]:
    service = running.service
    assert isinstance(service, Counting)
    return list(service.forms)


def line_of(function: Callable[..., Any], text: str) -> int:
    """The line of ``function``'s source that holds ``text`` (so that the tests follow edits)."""
    lines, first = inspect.getsourcelines(function)
    (index,) = [i for i, line in enumerate(lines) if text in line]
    return first + index


# --- the faults --------------------------------------------------------------------------------


def broken_check(_: Exchange) -> None:
    raise RuntimeError("a check of ours is broken")


def broken_parser(*_: object, **__: object) -> Any:
    raise etree.ParserError("the parser's state is corrupted")


def broken_signer(*_: object) -> None:
    raise RuntimeError("the signer is broken")


def replace_check(
    monkeypatch: pytest.MonkeyPatch, check_id: str, run_it: Callable[..., None]
) -> None:
    """One entry of ``CHECKS`` replaced, where the checks and the engine read it."""
    checks = tuple(
        dataclasses.replace(check, run=run_it) if check.id == check_id else check
        for check in _checks.CHECKS
    )
    monkeypatch.setattr(_checks, "CHECKS", checks)
    monkeypatch.setattr(_engine, "CHECKS", checks)


@dataclass(frozen=True)
class Injected:
    """What the one line must say about an injected fault."""

    error: str
    raised_at: str
    via: str
    """The last place of ours the exception went through."""

    @property
    def line(self) -> str:
        return f"{self.error} raised at {self.raised_at}, via {self.via}"


def place(path: str, function: Callable[..., Any], text: str) -> str:
    return f"{path}:{line_of(function, text)} in {function.__name__}"


def raised_at(function: Callable[..., Any]) -> str:
    return place("test_internal_errors.py", function, "raise ")


def inject_check(monkeypatch: pytest.MonkeyPatch) -> Injected:
    replace_check(monkeypatch, "image-id", broken_check)
    return Injected(
        "RuntimeError('a check of ours is broken')",
        raised_at(broken_check),
        place("conformance/_engine.py", _engine._Session._judge, "check.run("),
    )


def inject_parser(monkeypatch: pytest.MonkeyPatch) -> Injected:
    monkeypatch.setattr(etree, "fromstring", broken_parser)  # the one _xml.parse uses
    return Injected(
        'ParserError("the parser\'s state is corrupted")',
        raised_at(broken_parser),
        place("conformance/_xml.py", _xml.parse, "etree.fromstring("),
    )


def inject_signer(monkeypatch: pytest.MonkeyPatch) -> Injected:
    monkeypatch.setattr(SigV4Auth, "add_auth", broken_signer)
    return Injected(
        "RuntimeError('the signer is broken')",
        raised_at(broken_signer),
        place("conformance/_signing.py", _signing.sign, "add_auth("),
    )


FAULTS = {"a check": inject_check, "the XML parser": inject_parser, "the signer": inject_signer}


# --- createimage-contract run -----------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = _cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("fault", list(FAULTS))
def test_run_stops_at_a_bug_of_ours_with_exit_2_and_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    counting: Running,
    fault: str,
) -> None:
    injected = FAULTS[fault](monkeypatch)
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    code, out, err = cli(
        capsys,
        "run",
        "--endpoint",
        counting.url,
        "--instance-id",
        INSTANCE,
        *SMALL_RUN,
        "--report-json",
        str(report),
        "--junit-xml",
        str(junit),
    )
    assert code == 2, (out, err)
    line = LINE.match(err)
    assert line, err
    assert (line["error"], line["where"], line["via"]) == (
        injected.error,
        injected.raised_at,
        injected.via,
    )
    assert "Traceback" not in err + out and str(ROOT) not in err
    assert not any(TOTALS.match(text) for text in out.splitlines()), "a summary after a bug"
    # Nothing more was sent once it happened: at most the requests already in flight.
    assert len(sent_to(counting)) <= WORKERS
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["internal_error"] == injected.line
    suite = etree.parse(str(junit)).getroot()
    errors = suite.findall("testcase/error")
    assert suite.get("errors") == "1" and len(errors) == 1
    assert "internal error: " + written["internal_error"] in (errors[0].get("message") or "")


def test_a_genuinely_broken_answer_is_still_a_finding(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Not well-formed XML is the target's deviation (exit 1), not a bug of ours."""
    cut_short = Faulty(
        on_success(lambda answer: dataclasses.replace(answer, body=answer.body[:60]))
    )
    report = tmp_path / "report.json"
    with serve(cut_short) as running:
        code, out, err = cli(
            capsys,
            "run",
            "--endpoint",
            running.url,
            "--instance-id",
            INSTANCE,
            *SMALL_RUN,
            "--report-json",
            str(report),
        )
    assert code == 1, (out, err)
    assert err == ""
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["internal_error"] is None
    assert ("xml", "valid") in {(f["check"], f["rule"]) for f in written["failures"]}


def test_a_run_that_sends_nothing_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Off loopback, ``valid`` is not sent (it would create images): with only it chosen, the
    run sends nothing, which must not read as a pass."""
    key = "AKIAFAKEMARKER42424"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    report = tmp_path / "report.json"
    service = Counting()
    # 0.0.0.0 reaches this machine, yet is not a loopback address: the runner treats it as remote.
    with serve(service, host="0.0.0.0") as running:
        code, out, err = cli(
            capsys,
            "run",
            "--endpoint",
            running.url,
            "--instance-id",
            INSTANCE,
            "--rules",
            "valid",
            "--report-json",
            str(report),
        )
    assert code == 2, (out, err)
    assert err == f"createimage-contract run: error: {NOTHING_SENT}\n"
    assert "--allow-resource-creation" in out, "the note saying why is printed"
    assert not any(TOTALS.match(text) for text in out.splitlines())
    assert service.forms == []
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["requests"] == 0 and written["internal_error"] is None


# --- the pytest suite --------------------------------------------------------------------------

SUITE = ("--pyargs", "createimage_contract.conformance.suite", "-p", "no:cacheprovider")
FAST = ("--createimage-max-examples", "3", "--createimage-seed", "1")


def at(running: Running) -> tuple[str, ...]:
    return ("--createimage-endpoint", running.url, "--createimage-instance-id", INSTANCE)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_the_suite_ends_with_exit_2_and_the_line_never_with_passing_items(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, counting: Running, fault: str
) -> None:
    injected = FAULTS[fault](monkeypatch)
    result = pytester.runpytest(*SUITE, *FAST, *at(counting), "-v")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == 2, out
    assert f"createimage-contract: internal error: {injected.line} ({HINT})" in out
    assert "PASSED" not in out and "passed" not in result.parseoutcomes()
    assert "Traceback" not in out
    assert len(sent_to(counting)) <= Options().workers


def test_the_suite_ends_with_exit_2_when_nothing_was_sent(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, counting: Running
) -> None:
    monkeypatch.setattr(_engine.Engine, "_categories", lambda _: [])
    result = pytester.runpytest(*SUITE, *FAST, *at(counting), "-v")
    out = result.stdout.str()
    assert result.ret == 2, out
    assert f"createimage-contract: error: {NOTHING_SENT}" in out
    assert "PASSED" not in out and "passed" not in result.parseoutcomes()


FAULT_PLUGIN = """
from botocore.auth import SigV4Auth


def pytest_configure(config):
    def broken_signer(self, request):
        raise RuntimeError("the signer is broken")

    SigV4Auth.add_auth = broken_signer
"""


def test_under_xdist_the_session_is_not_green_either(
    pytester: pytest.Pytester, counting: Running
) -> None:
    """xdist reports a worker that stops its session as crashed, and drops its line: the
    controller prints it, and the session still exits 2 with no item passed."""
    pytester.makepyfile(fault_plugin=FAULT_PLUGIN)  # loaded by every worker, as -p says
    result = pytester.runpytest_subprocess(
        "-p", "fault_plugin", *SUITE, *FAST, *at(counting), "-n", "2"
    )
    out = result.stdout.str()
    assert result.ret == 2, out
    assert (
        "createimage-contract: internal error: RuntimeError('the signer is broken') raised at"
        in out
    )
    assert "passed" not in result.parseoutcomes()
    assert sent_to(counting) == []


# --- the Python API ----------------------------------------------------------------------------


def test_run_raises_internal_error_naming_a_bug_inside_our_code(
    monkeypatch: pytest.MonkeyPatch, counting: Running
) -> None:
    """Where the raise is ours, the line names it alone, as a path within the package."""
    monkeypatch.setattr(_checks, "XML_MEDIA_TYPES", None)  # `in None` raises in content_type
    with pytest.raises(InternalError) as stopped:
        run(
            endpoint=counting.url,
            instance_id=INSTANCE,
            options=Options(max_examples=5, seed=1, rules=("valid",), workers=WORKERS),
        )
    where = line_of(_checks.content_type, " not in XML_MEDIA_TYPES")
    assert str(stopped.value) == (
        "TypeError(\"argument of type 'NoneType' is not iterable\") raised at "
        f"conformance/_checks.py:{where} in content_type"
    )
    assert stopped.value.result.internal_error == str(stopped.value)
    assert stopped.value.result.findings == {}


def test_a_bug_while_shrinking_stops_the_run_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shrinking replays examples; a bug there must stop it, not be shrunk or called flaky."""
    service = Counting(on_code("InvalidAMIName.Malformed", substitute(rb"Malformed", b"Wrong")))
    shrinking: list[bool] = []
    shrink = _engine._Session._shrink

    def shrink_and_say_so(session: Any, category: Any) -> None:
        shrinking.append(True)
        shrink(session, category)

    sent_at_raise: list[int] = []

    def broken_while_shrinking(exchange: Exchange) -> None:
        if shrinking:
            sent_at_raise.append(len(service.forms))
            raise RuntimeError("broken while shrinking")
        _checks.error_body(exchange)

    monkeypatch.setattr(_engine._Session, "_shrink", shrink_and_say_so)
    replace_check(monkeypatch, "error-body", broken_while_shrinking)
    with serve(service) as running, pytest.raises(InternalError) as stopped:
        run(
            endpoint=running.url,
            instance_id=INSTANCE,
            options=Options(max_examples=5, seed=1, rules=("name.length", "name.charset")),
        )
    assert shrinking and sent_at_raise == [len(service.forms)], "nothing sent after the bug"
    assert str(stopped.value).startswith("RuntimeError('broken while shrinking') raised at ")
    outcome = stopped.value.result
    assert list(outcome.rules) == ["name.length"], "the next category is not run"
    assert ("error-code", "name.length") in outcome.findings, "what was found is kept"


@pytest.mark.parametrize("generators", [0, 2], ids=["drawn here", "drawn ahead"])
def test_a_strategy_that_raises_is_an_internal_error_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch, counting: Running, generators: int
) -> None:
    def boom() -> Any:
        raise LookupError("a strategy of ours is broken")

    def category(rule_id: str, *_: object) -> _engine.Category:
        return _engine.Category(rule_id, st.builds(boom))

    monkeypatch.setattr(_engine, "_category", category)
    with pytest.raises(InternalError) as stopped:
        options = Options(max_examples=5, seed=1, generators=generators)
        run(endpoint=counting.url, instance_id=INSTANCE, options=options)
    assert str(stopped.value).startswith("LookupError('a strategy of ours is broken') raised at ")
    assert "in boom, via conformance/_engine.py:" in str(stopped.value)
    assert sent_to(counting) == []


def test_ctrl_c_in_a_check_still_goes_through(
    monkeypatch: pytest.MonkeyPatch, counting: Running
) -> None:
    def interrupted(_: Exchange) -> None:
        raise KeyboardInterrupt

    replace_check(monkeypatch, "status", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(endpoint=counting.url, instance_id=INSTANCE, options=Options(max_examples=3, seed=1))


def test_images_are_still_removed_off_loopback_after_a_bug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answers already on their way are read for the images they created, and the
    cleanup runs; the line keeps the secrets out."""
    key = "AKIAFAKEMARKER42424"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)

    def leaks(_: Exchange) -> None:
        raise RuntimeError(f"broken, with the key {SECRET_KEY}")

    replace_check(monkeypatch, "image-id", leaks)
    service = Counting(credentials={key: SECRET_KEY})
    with serve(service, host="0.0.0.0") as running, pytest.raises(InternalError) as stopped:
        run(
            endpoint=running.url,
            instance_id=INSTANCE,
            options=Options(
                max_examples=5,
                seed=1,
                rules=("valid",),
                workers=WORKERS,
                allow_resource_creation=True,
            ),
        )
    outcome = stopped.value.result
    assert len(outcome.created) == WORKERS, "the answer in flight was read too"
    assert outcome.deregistered == outcome.created and service.images == {}
    assert SECRET_KEY not in str(stopped.value) and "<redacted>" in str(stopped.value)
