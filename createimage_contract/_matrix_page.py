"""The page ``createimage-contract matrix --html`` writes: one self-contained HTML file.

It reads the ``--report-json`` report (a dict) and nothing else: no network, no font, no image,
no script or style from elsewhere; one inline style sheet and one small inline script, both
allowed by their hash in the page's Content-Security-Policy (so nothing a hostile answer body
could smuggle in would run, were it ever left unescaped; it is not: every value of the report
is escaped). The page reads without JavaScript: the details are ``<details>``.

It holds, in order:

* the header: the tool and its version, seed, date, the targets (name, kind, endpoint as text,
  instance id, their cells counted), the substitutions, and the legend of the cell states
  (a colour AND a symbol and word each, never colour alone);
* the conformance view (``section#conformance``): a row per rule and check, a column per target;
  each cell (``td`` with ``data-rule``, ``data-check``, ``data-target``, ``data-status``) says
  its state and how many requests were sent (and failed). A failing or warning cell with a
  finding opens (``details.detail``) onto the smallest failing request, each target's answer to
  it that the report holds, and the ``curl`` that sends it again. The script adds a filter:
  only the rows where the targets differ;
* the differential view (``section#differential``): the disagreements by kind
  (``section.kind[data-kind]``, its count in the heading), each an ``article.disagreement``
  with the request, every target's answer side by side, and the ``curl``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from .schema import counted

STATES: dict[str, tuple[str, str, str]] = {
    "pass": ("&#x2713;", "pass", "conforms: every request got the answer the contract says"),
    "fail": ("&#x2717;", "fail", "an answer the contract forbids (an error)"),
    "warning": ("!", "warning", "an answer the contract advises against"),
    "skipped": ("&#x2013;", "skipped", "not checked on this target"),
}
"""Each cell state: its symbol (an HTML entity: the page is ASCII), word and meaning."""
_UNKNOWN_STATE = ("?", "", "")
_DETAILED = ("fail", "warning")
"""The states whose finding a cell opens onto."""

KINDS: dict[str, str] = {
    "status": "The targets answered the same request with different HTTP status codes.",
    "code": "The same status, but different error codes.",
    "xml-shape": "The same status and code, but answers of a different XML structure.",
    "describe-images": "DescribeImages, asked afterwards, described the image differently.",
}
"""The kinds of disagreement, in the order the differential view shows them."""

EXCERPT = 2000
"""The characters of an answer body shown in a cell's detail; the rest is counted."""
BODY = 20000
"""The characters of an answer body shown in the differential view."""
SHOWN = 3
"""The disagreements shown of each way of answering; the others are folded."""

_CSS = """\
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1a1a1a; --muted: #555555; --line: #c8c8c8; --head: #f1f3f5;
  --code: #f6f8fa; --link: #0645ad; --differs: #fff1c2;
  --pass-bg: #e3f4e8; --pass-fg: #0b4f22;
  --fail-bg: #fde4e7; --fail-fg: #8a0f1f;
  --warning-bg: #fff2cc; --warning-fg: #5c4000;
  --skipped-bg: #ececec; --skipped-fg: #404040;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181c; --fg: #e8e8e8; --muted: #b0b0b0; --line: #454a52; --head: #22262c;
    --code: #1f2329; --link: #8cb4ff; --differs: #3d3212;
    --pass-bg: #12351f; --pass-fg: #a6eab9;
    --fail-bg: #4a1119; --fail-fg: #ffc0c8;
    --warning-bg: #3d3000; --warning-fg: #ffdc73;
    --skipped-bg: #2b2e33; --skipped-fg: #d0d0d0;
  }
}
* { box-sizing: border-box; }
body {
  margin: 0 auto; padding: 1rem; max-width: 110rem; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
a { color: var(--link); }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
h4 { font-size: 1rem; margin: 1rem 0 .5rem; }
h5 { font-size: .95rem; margin: 0 0 .5rem; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre {
  background: var(--code); border: 1px solid var(--line); padding: .4rem .5rem; margin: .25rem 0;
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 24rem; overflow: auto;
}
.muted { color: var(--muted); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: .5rem 0; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.substitutions code { overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .25rem 0; }
th, td {
  border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top;
}
thead th { background: var(--head); position: sticky; top: 0; z-index: 1; }
th[scope=row] { background: var(--head); font-weight: normal; white-space: nowrap; }
.legend { display: flex; flex-wrap: wrap; gap: .5rem; padding: 0; list-style: none; }
.legend li { padding: .15rem .5rem; border: 1px solid var(--line); border-radius: .25rem; }
.state { font-weight: 600; white-space: nowrap; }
.status-pass { background: var(--pass-bg); color: var(--pass-fg); }
.status-fail { background: var(--fail-bg); color: var(--fail-fg); }
.status-warning { background: var(--warning-bg); color: var(--warning-fg); }
.status-skipped, .status-other { background: var(--skipped-bg); color: var(--skipped-fg); }
.counts { display: block; font-size: .85em; white-space: nowrap; }
td.cell { min-width: 8rem; }
details.detail > summary { cursor: pointer; }
details.detail[open] { min-width: min(40rem, 85vw); }
.detail-body, .answer-body { background: var(--bg); color: var(--fg); padding: .5rem;
  border: 1px solid var(--line); margin-top: .3rem; }
.label { font-weight: 600; margin: .5rem 0 0; }
tr.differs > * { background: var(--differs); }
.differs-mark { font-weight: 700; }
details.more > summary { cursor: pointer; margin: .5rem 0; }
article.disagreement { border: 1px solid var(--line); padding: .75rem; margin: .75rem 0; }
.filter { margin: .5rem 0; }
tr[hidden] { display: none; }
"""

_SCRIPT = """\
(function () {
  "use strict";
  var filter = document.getElementById("filter");
  var box = document.getElementById("only-differences");
  var shown = document.getElementById("rows-shown");
  var rows = document.querySelectorAll("table.matrix > tbody > tr");
  function apply() {
    var count = 0;
    rows.forEach(function (row) {
      var hide = box.checked && row.getAttribute("data-differs") !== "true";
      row.hidden = hide;
      if (!hide) { count += 1; }
    });
    shown.textContent = count + " of " + rows.length + " rows shown";
  }
  if (filter && box && shown) {
    box.addEventListener("change", apply);
    filter.hidden = false;
    apply();
  }
  function reveal(target) {  // a link into folded details: unfold them first
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link) { reveal(document.getElementById(link.getAttribute("href").slice(1))); }
  });
  if (location.hash) {
    var target = document.getElementById(location.hash.slice(1));
    reveal(target);
    if (target) { target.scrollIntoView(); }
  }
})();
"""


def render(report: dict[str, Any]) -> str:
    """The page, as text (ASCII: anything else in the report is written as a character
    reference, so the file reads the same whatever encoding it is opened with)."""
    targets = [str(target.get("name", "")) for target in report.get("targets") or ()]
    cells: list[dict[str, Any]] = list(report.get("cells") or ())
    disagreements: list[dict[str, Any]] = list(report.get("disagreements") or ())
    tool = report.get("tool") or {}
    title = f"{tool.get('name', 'createimage-contract')} matrix"
    page = "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_policy()}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="light dark">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{_e(title)}, seed {_e(report.get('seed'))}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            _header(report, title, cells),
            '<nav aria-label="Views"><a href="#conformance">Conformance</a> &middot; '
            f'<a href="#differential">Differences ({len(disagreements)})</a></nav>',
            "<main>",
            _conformance(targets, cells, disagreements),
            _differential(targets, disagreements),
            "</main>",
            f"<script>{_SCRIPT}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )
    return page.encode("ascii", "xmlcharrefreplace").decode("ascii")


# ---------------------------------------------------------------------------------- header


def _header(report: Mapping[str, Any], title: str, cells: list[dict[str, Any]]) -> str:
    tool = report.get("tool") or {}
    facts = [
        ("Tool", f"{_e(tool.get('name'))} {_e(tool.get('version'))}"),
        ("Seed", _e(report.get("seed"))),
        ("Examples per rule", _e(report.get("max_examples"))),
        ("Date", f"<time>{_e(report.get('date'))}</time>"),
    ]
    rows = []
    for target in report.get("targets") or ():
        name = str(target.get("name", ""))
        conformant = target.get("conformant")
        verdict = "yes" if conformant is True else "no" if conformant is False else "unknown"
        rows.append(
            "<tr>"
            f'<th scope="row">{_e(name)}</th>'
            f"<td>{_e(target.get('kind'))}</td>"
            f"<td><code>{_e(target.get('endpoint'))}</code></td>"
            f"<td><code>{_e(target.get('instance_id'))}</code></td>"
            f'<td class="conformant-{verdict}">{verdict}</td>'
            f"<td>{_tally(cell.get('results', {}).get(name) for cell in cells)}</td>"
            "</tr>"
        )
    substitutions = [
        f"<li><strong>{_e(s.get('target'))}</strong>: <code>{_e(s.get('field'))}</code> = "
        f"<code>{_e(s.get('value'))}</code></li>"
        for s in report.get("substitutions") or ()
    ]
    substituted = (
        "<p>Every target was sent the same requests, except for these fields, which carry "
        f'each target\'s own value:</p><ul class="substitutions">{"".join(substitutions)}</ul>'
        if substitutions
        else '<p class="substitutions">No substitutions: every target was sent the very same '
        "requests.</p>"
    )
    legend = "".join(
        f'<li class="status-{state}"><span class="state">{symbol} {word}</span>: {meaning}</li>'
        for state, (symbol, word, meaning) in STATES.items()
    )
    return (
        "<header>"
        f"<h1>{_e(title)}</h1>"
        '<p class="muted">The same CreateImage requests, sent to each target; what each '
        "answered, checked against the contract and compared.</p>"
        f'<dl class="facts">{"".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)}</dl>'
        '<h2 id="targets">Targets</h2>'
        '<div class="scroll"><table class="targets"><thead><tr>'
        '<th scope="col">Target</th><th scope="col">Kind</th><th scope="col">Endpoint</th>'
        '<th scope="col">Instance</th><th scope="col">Conformant</th>'
        '<th scope="col">Cells</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        f"{substituted}"
        f'<h2 id="legend">Legend</h2><ul class="legend">{legend}</ul>'
        "</header>"
    )


def _tally(results: Iterable[Mapping[str, Any] | None]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        if result is not None:
            status = str(result.get("status"))
            counts[status] = counts.get(status, 0) + 1
    order = [*STATES, *sorted(set(counts) - set(STATES))]
    return ", ".join(f"{counts[s]} {_e(s)}" for s in order if s in counts) or "none"


# ------------------------------------------------------------------------------ conformance


def _conformance(
    targets: list[str], cells: list[dict[str, Any]], disagreements: list[dict[str, Any]]
) -> str:
    by_request: dict[tuple[str, str], int] = {}  # the first disagreement on each request
    for index, d in enumerate(disagreements):
        by_request.setdefault(
            (str(d.get("rule")), str((d.get("request") or {}).get("form"))), index
        )
    head = "".join(f'<th scope="col">{_e(target)}</th>' for target in targets)
    rows = []
    for cell in cells:
        rule, check = str(cell.get("rule")), str(cell.get("check"))
        results: Mapping[str, Any] = cell.get("results") or {}
        statuses = {str((results.get(t) or {}).get("status")) for t in targets}
        differs = "true" if len(statuses) > 1 else "false"
        tds = "".join(
            _cell(rule, check, target, results.get(target), disagreements, by_request)
            for target in targets
        )
        rows.append(
            f'<tr data-rule="{_e(rule)}" data-check="{_e(check)}" data-differs="{differs}">'
            f'<th scope="row"><code>{_e(rule)}</code></th>'
            f'<th scope="row"><code>{_e(check)}</code></th>{tds}</tr>'
        )
    table = (
        '<div class="scroll" role="region" aria-label="Conformance table" tabindex="0">'
        '<table class="matrix"><thead><tr><th scope="col">Rule</th><th scope="col">Check</th>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        if rows
        else "<p>The report holds no cells.</p>"
    )
    return (
        '<section id="conformance" aria-labelledby="conformance-title">'
        '<h2 id="conformance-title">Conformance</h2>'
        "<p>A row per rule and check, a column per target: the state, and the requests sent "
        "(and failed). Open a failing or warning cell for its smallest failing request, the "
        "answers to it and the <code>curl</code> that sends it again.</p>"
        '<p id="filter" class="filter" hidden><label><input type="checkbox" '
        'id="only-differences"> Show only the rows where the targets differ</label> '
        '<span id="rows-shown" class="muted" aria-live="polite"></span></p>'
        f"{table}</section>"
    )


def _cell(
    rule: str,
    check: str,
    target: str,
    result: Mapping[str, Any] | None,
    disagreements: list[dict[str, Any]],
    by_request: Mapping[tuple[str, str], int],
) -> str:
    data = f'data-rule="{_e(rule)}" data-check="{_e(check)}" data-target="{_e(target)}"'
    if result is None:
        return (
            f'<td class="cell status-other" {data} data-status="none">'
            '<span class="state">? no result</span></td>'
        )
    status = str(result.get("status"))
    symbol, word, _ = STATES.get(status, _UNKNOWN_STATE)
    kind = status if status in STATES else "other"
    state = f'<span class="state">{symbol} {_e(word or status)}</span>'
    sent, failed = result.get("sent") or 0, result.get("failed") or 0
    shows_failed = failed and status in _DETAILED  # a skipped check failed nothing
    counts = f"{_e(sent)} sent" + (f", {_e(failed)} failed" if shows_failed else "")
    shown = f'{state}<span class="counts">{counts}</span>'
    td = f'<td class="cell status-{kind}" {data} data-status="{_e(status)}">'
    finding = result.get("finding")
    if status not in _DETAILED or not finding:
        return f"{td}{shown}</td>"
    request = finding.get("request") or {}
    index = by_request.get((rule, str(request.get("form"))))
    elsewhere = finding.get("elsewhere") or {}
    if elsewhere:
        answers = {target: finding.get("answer") or {}, **elsewhere}
        known = _answers_table(answers, excerpt=EXCERPT, shape=True)
        known += (
            '<p class="muted">The other targets\' answers are to the same request with '
            "<code>DryRun=true</code>, sent to them after the runs.</p>"
        )
    elif index is not None:
        answers = disagreements[index].get("answers") or {}
        known = _answers_table(answers, excerpt=EXCERPT, shape=True)
        known += f'<p><a href="#disagreement-{index}">The disagreement on this request</a></p>'
    else:
        own = finding.get("answer") or {}
        known = _answers_table({target: own}, excerpt=EXCERPT, shape=False)
        known += '<p class="muted">Only this target\'s answer is in the report.</p>'
    return (
        f'{td}<details class="detail"><summary>{shown}</summary><div class="detail-body">'
        f'<p class="message"><strong>{_e(finding.get("severity"))}</strong>: '
        f"{_e(finding.get('message'))}</p>"
        '<p class="label">The smallest failing request</p>'
        f'<pre class="form">{_e(request.get("form"))}</pre>'
        f'<p class="label">The answers</p>{known}'
        '<p class="label">Send it again</p>'
        f'<pre class="curl">{_e(request.get("curl"))}</pre>'
        "</div></details></td>"
    )


def _answers_table(answers: Mapping[str, Any], excerpt: int, shape: bool) -> str:
    """Each target's answer in a column: status, code, (shape,) body."""
    names = list(answers)
    facts = [("Status", "status"), ("Error code", "code")]
    if shape:
        facts.append(("Shape", "shape"))
    rows = []
    for label, key in facts:
        values = [(answers[name] or {}).get(key) for name in names]
        differs = len({repr(value) for value in values}) > 1
        mark = ' <span class="differs-mark" title="the targets differ">&ne;</span>'
        tds = "".join(f"<td>{_value(value)}</td>" for value in values)
        marked = ' class="differs"' if differs else ""
        rows.append(
            f'<tr{marked} data-fact="{key}">'
            f'<th scope="row">{label}{mark if differs else ""}</th>{tds}</tr>'
        )
    bodies = "".join(
        f"<td>{_body((answers[name] or {}).get('body'), excerpt)}</td>" for name in names
    )
    head = "".join(f'<th scope="col">{_e(name)}</th>' for name in names)
    return (
        '<div class="scroll"><table class="answers"><thead><tr><td></td>'
        f"{head}</tr></thead><tbody>{''.join(rows)}"
        f'<tr data-fact="body"><th scope="row">Body</th>{bodies}</tr></tbody></table></div>'
    )


def _value(value: Any) -> str:
    if value is None:
        return '<span class="muted">none</span>'
    return f"<code>{_e(value)}</code>"


def _body(body: Any, limit: int) -> str:
    if body is None:
        return '<span class="muted">no body</span>'
    text = str(body)
    if not text:
        return '<span class="muted">empty</span>'
    more = len(text) - limit
    cut = f'<p class="muted">and {more} more characters</p>' if more > 0 else ""
    return (
        f'<details class="answer"><summary>{len(text)} characters</summary>'
        f'<pre class="body">{_e(text[:limit])}</pre>{cut}</details>'
    )


# ----------------------------------------------------------------------------- differential


def _differential(targets: list[str], disagreements: list[dict[str, Any]]) -> str:
    intro = (
        '<section id="differential" aria-labelledby="differential-title">'
        '<h2 id="differential-title">Differences</h2>'
    )
    if not disagreements:
        return (
            f'{intro}<p class="agreed">The targets agreed: every request got the same status, '
            "error code and XML shape from each, and DescribeImages described the same.</p>"
            "</section>"
        )
    kinds = list(KINDS) + sorted({str(d.get("kind")) for d in disagreements} - set(KINDS))
    numbered: dict[str, list[tuple[int, dict[str, Any]]]] = {kind: [] for kind in kinds}
    for index, disagreement in enumerate(disagreements):
        numbered[str(disagreement.get("kind"))].append((index, disagreement))
    summary = ", ".join(
        (f'<a href="#kind-{_e(kind)}">{len(group)} {_e(kind)}</a>' if group else f"0 {kind}")
        for kind, group in numbered.items()
    )
    sections = []
    for kind, group in numbered.items():
        if not group:
            continue
        ways = _ways(kind, group, targets)
        sections.append(
            f'<section class="kind" id="kind-{_e(kind)}" data-kind="{_e(kind)}">'
            f"<h3>{_e(kind)} ({len(group)})</h3>"
            f"<p>{_e(KINDS.get(kind, ''))} {counted(len(ways), 'way')}:</p>"
            f"{''.join(_way(way, targets) for way in ways)}</section>"
        )
    return (
        f"{intro}<p>Where the targets answered one request differently, "
        f"{len(disagreements)} in all: {summary}.</p>{''.join(sections)}</section>"
    )


Numbered = list[tuple[int, dict[str, Any]]]
"""Disagreements, each with its place in the report (its id on the page)."""


def _ways(kind: str, group: Numbered, targets: list[str]) -> list[Numbered]:
    """The disagreements of a kind by how the targets answered (status and code; and the
    shape, but for a status or code disagreement): the commonest way first."""
    facts = ("status", "code") if kind in ("status", "code") else ("status", "code", "shape")
    ways: dict[str, Numbered] = {}
    for index, disagreement in group:
        answers = disagreement.get("answers") or {}
        way = repr([[(answers.get(t) or {}).get(fact) for fact in facts] for t in targets])
        ways.setdefault(way, []).append((index, disagreement))
    return sorted(ways.values(), key=len, reverse=True)


def _way(way: Numbered, targets: list[str]) -> str:
    """A way of answering: its count and the answers in a heading, its first disagreements,
    and the others folded."""
    first = way[0][1]
    kind = str(first.get("kind"))
    answers = first.get("answers") or {}
    described = []
    for name in [t for t in targets if t in answers] or list(answers):
        answer = answers[name] or {}
        said = " ".join(_e(answer.get(fact)) for fact in ("status", "code") if answer.get(fact))
        if kind not in ("status", "code") and answer.get("shape"):
            said += f": {_e(answer.get('shape'))}"
        described.append(f"{_e(name)} <code>{said or 'no answer'}</code>")
    shown = "".join(_disagreement(index, d, targets) for index, d in way[:SHOWN])
    folded = "".join(_disagreement(index, d, targets) for index, d in way[SHOWN:])
    more = (
        f'<details class="more"><summary>{counted(len(way) - SHOWN, "more request")} '
        f"answered this way</summary>{folded}</details>"
        if folded
        else ""
    )
    return (
        f'<section class="way"><h4>{len(way)} &times; {" | ".join(described)}</h4>'
        f"{shown}{more}</section>"
    )


def _disagreement(index: int, disagreement: Mapping[str, Any], targets: list[str]) -> str:
    request = disagreement.get("request") or {}
    answers: Mapping[str, Any] = disagreement.get("answers") or {}
    ordered = {name: answers[name] for name in targets if name in answers}
    ordered |= {name: answers[name] for name in answers if name not in ordered}
    kind, rule = _e(disagreement.get("kind")), _e(disagreement.get("rule"))
    return (
        f'<article class="disagreement" id="disagreement-{index}" data-kind="{kind}" '
        f'data-rule="{rule}"><h5><code>{rule}</code> <span class="muted">({kind})</span></h5>'
        '<p class="label">The request</p>'
        f'<pre class="form">{_e(request.get("form"))}</pre>'
        f'<p class="label">The answers</p>{_answers_table(ordered, excerpt=BODY, shape=True)}'
        '<p class="label">Send it again</p>'
        f'<pre class="curl">{_e(request.get("curl"))}</pre></article>'
    )


# ------------------------------------------------------------------------------------ text


def _e(value: Any) -> str:
    """A value of the report as HTML text (and attribute value): escaped, quotes included."""
    return escape("" if value is None else str(value), quote=True)


def _policy() -> str:
    """Nothing from elsewhere, and only this page's own style sheet and script (by hash)."""
    style, script = _hash(_CSS), _hash(_SCRIPT)
    return (
        f"default-src 'none'; style-src '{style}'; script-src '{script}'; "
        "img-src 'none'; base-uri 'none'; form-action 'none'"
    )


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")
