"""The conformance runner, the reference implementation of CreateImage, and its variants.

``run`` sends generated requests to a target and checks every answer; what it finds about the
target is in its ``RunResult``. A bug of createimage-contract's own (an exception in a check,
in parsing, signing or sending, in the strategies) is never a finding and never a pass: the run
stops sending at once and ``run`` raises ``InternalError``. ``Verdict`` sets a result against a
baseline of known deviations; ``json_report``, ``junit_xml`` and ``finding_lines`` report it.

``serve`` starts the reference implementation (``ReferenceService``, whose ``answer`` gives an
``Answer``) on loopback; ``CreateImageMock`` is the same service without a network, for unit
tests; ``Child`` serves it (or one of its ``VARIANTS``, which ``selftest`` checks the run
against) in a process of its own.

``corpus`` draws one fixed corpus of DryRun requests from a seed, ``replay`` sends it to a
target and ``summarize`` tells answers apart by status, error code and XML shape, so that
several targets can be compared with each other (``createimage-contract matrix``);
``start_target`` keeps an embedded target up for as long as they need it.
"""

from __future__ import annotations

from ._ahead import automatic_generators
from ._checks import CHECK_IDS, CHECK_SUMMARIES, checks_for
from ._child import Child, ChildError
from ._engine import category_names
from ._mock import CreateImageMock
from ._options import Options
from ._reference import Answer, ReferenceService, Running, serve
from ._replay import (
    AnswerSummary,
    CorpusRequest,
    Exchange,
    answer_shape,
    as_dry_run,
    corpus,
    describe_requests,
    replay,
    start_target,
    summarize,
    with_instance,
)
from ._report import (
    BaselineError,
    Cause,
    Conformance,
    CreateImageWarning,
    Verdict,
    cause_lines,
    causes,
    finding_lines,
    json_report,
    junit_xml,
    load_baseline,
    write_baseline,
)
from ._results import (
    CategoryFinished,
    CleanedUp,
    Event,
    Finding,
    InternalError,
    Listener,
    RuleStats,
    RunFinished,
    RunResult,
    RunStarted,
    Target,
)
from ._runner import run
from ._runtime import describe_internal_error
from ._signing import FIXED_CREDENTIALS
from ._targets import EMBEDDED_KINDS, TargetError, check_target, probe
from ._transport import CREDENTIALS_CHOICES, NoCredentials
from ._variants import VARIANTS, Variant, catches_label, variant

__all__ = [
    "CHECK_IDS",
    "CHECK_SUMMARIES",
    "CREDENTIALS_CHOICES",
    "EMBEDDED_KINDS",
    "FIXED_CREDENTIALS",
    "VARIANTS",
    "Answer",
    "AnswerSummary",
    "BaselineError",
    "CategoryFinished",
    "Cause",
    "Child",
    "ChildError",
    "CleanedUp",
    "Conformance",
    "CorpusRequest",
    "CreateImageMock",
    "CreateImageWarning",
    "Event",
    "Exchange",
    "Finding",
    "InternalError",
    "Listener",
    "NoCredentials",
    "Options",
    "ReferenceService",
    "RuleStats",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "Running",
    "Target",
    "TargetError",
    "Variant",
    "Verdict",
    "answer_shape",
    "as_dry_run",
    "automatic_generators",
    "catches_label",
    "category_names",
    "cause_lines",
    "causes",
    "check_target",
    "checks_for",
    "corpus",
    "describe_internal_error",
    "describe_requests",
    "finding_lines",
    "json_report",
    "junit_xml",
    "load_baseline",
    "probe",
    "replay",
    "run",
    "serve",
    "start_target",
    "summarize",
    "variant",
    "with_instance",
    "write_baseline",
]
