"""HTML of run comparisons (``RunDiff``) and cache explanations (``CacheExplanation``).

Text colour is inherited, so both read on light and dark themes; states use
the shared state colours, added and removed diff lines translucent green and
red backgrounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from .dag_json import status_color
from .svg import format_duration

if TYPE_CHECKING:
    from ..api.explanation import CacheExplanation
    from ..api.run_diff import RunDiff, StepDiff
    from ..engine.cache.explain import StepExplanation

__all__ = ["code_diff_html", "explanation_html", "run_diff_html"]

_TABLE = "class='codomyrmex-table' style='border-collapse:collapse'"
_CELL = "style='text-align:left;padding:2px 8px;vertical-align:top'"
_LINE_BACKGROUNDS = {"+": "rgba(26,127,55,0.18)", "-": "rgba(207,34,46,0.18)", "@": "rgba(130,80,223,0.14)"}


def _state(state: str | None) -> str:
    if not state:
        return "–"
    return f"<span style='color:{status_color(state)};font-weight:600'>{escape(state)}</span>"


def code_diff_html(diff: str | None) -> str:
    """A unified diff as a ``<pre>`` with added/removed lines tinted."""
    if not diff:
        return ""
    rows = []
    for line in diff.rstrip("\n").splitlines():
        background = _LINE_BACKGROUNDS.get(line[:1]) if not line.startswith(("+++", "---")) else None
        style = f" style='background:{background}'" if background else ""
        rows.append(f"<span{style}>{escape(line)}</span>")
    return ("<pre style='margin:4px 0;padding:4px 6px;font-size:12px;border:1px solid rgba(128,128,128,.35);"
            "border-radius:3px;overflow-x:auto'>" + "\n".join(rows) + "</pre>")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f"<th {_CELL}>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td {_CELL}>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table {_TABLE}><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _pairs_html(pairs: Sequence[tuple[str, Any, Any]], what: str) -> str:
    if not pairs:
        return ""
    rows = [[escape(f"{what} {k}"), escape(str(a) if a is not None else "–"),
             escape(str(b) if b is not None else "–")] for k, a, b in pairs]
    return _table(["", "before", "after"], rows)


def _step_details(s: StepDiff) -> str:
    parts = []
    if s.dependencies is not None:
        parts.append(escape(f"dependencies {s.dependencies[0]} → {s.dependencies[1]}"))
    parts += [escape(f"{n} = {a} → {b}") for n, a, b in s.parameters]
    if s.result:
        parts.append("result " + escape(s.result))
    if s.code_changed and not s.code_diff:
        parts.append("code changed (source not stored)")
    details = "<br>".join(parts)
    if s.code_diff:
        details += f"<details><summary>code changed</summary>{code_diff_html(s.code_diff)}</details>"
    return details


def run_diff_html(diff: RunDiff) -> str:
    """The HTML of a :class:`~codomyrmex_jupyter.api.run_diff.RunDiff`."""
    head = (f"<div style='font-weight:600;margin-bottom:4px'>{escape(diff.a.label)} {_state(diff.a.status)}"
            f" → {escape(diff.b.label)} {_state(diff.b.status)}</div>")
    rows = [
        [escape(s.step), escape(s.change), f"{_state(s.state[0])} → {_state(s.state[1])}",
         escape(f"{format_duration(s.duration[0]) or '–'} → {format_duration(s.duration[1]) or '–'}"),
         _step_details(s)]
        for s in diff.steps
    ]
    steps = _table(["step", "change", "state", "duration", "what changed"], rows)
    same = len(diff.steps) - len(diff.changed)
    foot = (f"<div style='opacity:.75;margin-top:4px'>{len(diff.changed)} step(s) changed, "
            f"{same} unchanged</div>")
    return (f"<div class='codomyrmex-run-diff'>{head}{_pairs_html(diff.parameters, 'run parameter')}"
            f"{_pairs_html(diff.environment, 'environment')}{steps}{foot}</div>")


def _explanation_row(s: StepExplanation) -> list[str]:
    # cached colour for a hit, amber (as a retry) for a step that will compute, grey otherwise
    state = "cached" if s.hit else ("retrying" if s.outcome.startswith("miss") else "skipped")
    details = [escape(f"{n} = {b} → {a}") for n, b, a in s.parameters]
    details += [escape(f"upstream {u!r} changed") for u in s.upstream]
    if s.version is not None:
        details.append(escape(f"version {s.version[0]!r} → {s.version[1]!r}"))
    if len(details) == 1 and not s.code_diff:
        details = []  # the outcome already says it
    body = "<br>".join(details) + code_diff_html(s.code_diff)
    outcome = f"<span style='color:{status_color(state)};font-weight:600'>{escape(s.outcome)}</span>"
    return [escape(s.step), outcome, body]


def explanation_html(explanation: CacheExplanation) -> str:
    """The HTML of a :class:`~codomyrmex_jupyter.api.explanation.CacheExplanation`."""
    head = escape(explanation.text().splitlines()[0])
    rows = [_explanation_row(s) for s in explanation.steps]
    return (f"<div class='codomyrmex-why'><div style='font-weight:600;margin-bottom:4px'>{head}</div>"
            f"{_table(['step', 'next run', 'what changed'], rows)}</div>")
