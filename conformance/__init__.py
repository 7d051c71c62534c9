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
"""

from __future__ import annotations

from ._checks import CHECK_IDS, CHECK_SUMMARIES, checks_for
from ._child import Child, ChildError
from ._engine import category_names
from ._mock import CreateImageMock
from ._options import Options
from ._reference import Answer, ReferenceService, Running, serve
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
    "BaselineError",
    "CategoryFinished",
    "Cause",
    "Child",
    "ChildError",
    "CleanedUp",
    "Conformance",
    "CreateImageMock",
    "CreateImageWarning",
    "Event",
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
    "catches_label",
    "category_names",
    "cause_lines",
    "causes",
    "check_target",
    "checks_for",
    "describe_internal_error",
    "finding_lines",
    "json_report",
    "junit_xml",
    "load_baseline",
    "probe",
    "run",
    "serve",
    "variant",
    "write_baseline",
]
