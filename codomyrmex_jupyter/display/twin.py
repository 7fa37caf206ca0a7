"""The static twin of a run view: HTML that draws what the JupyterLab renderer draws.

A saved notebook shows ``text/html`` wherever the lab extension is not there
(nbconvert HTML, GitHub, other front-ends). So it carries the same view as
``labextension/src/runview.ts``: a header line (workflow, status, run id,
steps, duration, parameters), the graph (:mod:`.svg`, same geometry), a
legend of the states present, and for a run the step table, the timeline and
a card per failed step (error, where, traceback). The row choices, bar
positions and ticks follow ``labextension/src/timeline.ts``.

Inline styles only (no ``<style>``, no script), every user text escaped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from ..engine.state import STATE_COLORS
from .dag_json import RUN_STATUS_COLORS
from .svg import dag_svg, format_duration, legend_states, state_colour

__all__ = [
    "MAX_FAILURES", "MAX_ROWS", "failed_nodes", "run_html", "run_span", "step_table", "table_nodes", "ticks",
    "timeline_bars",
]

MAX_ROWS = 100
MAX_FAILURES = 20
_INK2 = "#57606a"
_LINE = "#d0d7de"
_SANS = "font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif"
_MONO = "font-family:SFMono-Regular,Consolas,Menlo,monospace;font-size:12px"
_RUN_STATUS = {**RUN_STATUS_COLORS, "pending": STATE_COLORS["skipped"]}  # a pending run in grey


# -- what is listed (labextension/src/timeline.ts) ------------------------------------------
Node = Mapping[str, Any]


def table_nodes(nodes: Sequence[Node], limit: int = MAX_ROWS) -> tuple[list[Node], int]:
    """The step table's nodes (document order, failed kept past ``limit``) and how many are left out."""
    if len(nodes) <= limit:
        return list(nodes), 0
    shown = list(nodes[:limit])
    failed = [n for n in nodes[limit:] if n["state"] == "failed"][:limit]
    return shown + failed, len(nodes) - len(shown) - len(failed)


def run_span(doc: Mapping[str, Any], now: float | None = None) -> float:
    """The run's duration; while it runs, the time since it started or the latest step end seen."""
    span = float(doc.get("duration") or 0.0)
    if doc.get("status") in ("pending", "running") and doc.get("started") and doc.get("duration") is None:
        started = datetime.fromisoformat(str(doc["started"])).timestamp()
        span = max(span, (time.time() if now is None else now) - started)
    for n in doc["nodes"]:
        if n.get("offset") is not None:
            span = max(span, n["offset"] + (n.get("duration") or 0.0))
    return span if span > 0 else 0.001


def ticks(span: float, count: int = 5) -> list[float]:
    """0 and round steps up to ``span`` (at most ``count`` + 1 of them)."""
    if not span > 0:
        return [0.0]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next((f * power for f in (1, 2, 2.5, 5, 10) if f * power >= raw), raw)
    out, t = [], 0.0
    while t <= span * 1.0001:
        out.append(round(t / step) * step)
        t += step
    return out


def timeline_bars(doc: Node, limit: int = MAX_ROWS) -> tuple[list[tuple[Node, float, float]], float, int]:
    """The bars of the steps that started, the span, and how many are left out.

    A bar is ``(node, left, width)``, as fractions of the span.
    """
    started = [n for n in doc["nodes"] if n.get("offset") is not None]
    order = {id(n): i for i, n in enumerate(doc["nodes"])}
    started.sort(key=lambda n: (n["offset"], order[id(n)]))
    span = run_span(doc)
    bars = []
    for n in started[:limit]:
        left = min(1.0, max(0.0, n["offset"] / span))
        end = span if n.get("duration") is None else n["offset"] + n["duration"]
        bars.append((n, left, max(0.0, min(1.0, end / span) - left)))
    return bars, span, len(started) - len(bars)


def failed_nodes(doc: Mapping[str, Any], limit: int = MAX_FAILURES) -> tuple[list[Mapping[str, Any]], int]:
    """The failed steps in the order they failed, and how many more there are."""
    order = {id(n): i for i, n in enumerate(doc["nodes"])}
    failed = [n for n in doc["nodes"] if n["state"] == "failed"]
    failed.sort(key=lambda n: ((n.get("offset") or 0.0) + (n.get("duration") or 0.0), order[id(n)]))
    return failed[:limit], max(0, len(failed) - limit)


# -- drawing -----------------------------------------------------------------------------------
def _swatch(colour: str) -> str:
    return (
        f"<span style='display:inline-block;width:11px;height:11px;border-radius:2px;"
        f"background:{escape(colour)};border:1px solid rgba(0,0,0,.25);vertical-align:-1px'></span>"
    )


def _chip(doc: Mapping[str, Any], state: str) -> str:
    return f"<span style='white-space:nowrap'>{_swatch(state_colour(doc, state))} {escape(state)}</span>"


def _param(value: Any) -> str:
    return value if isinstance(value, str) else ("null" if value is None else str(value).lower()
                                                 if isinstance(value, bool) else str(value))


def _header(doc: Mapping[str, Any]) -> str:
    parts = [f"<b>{escape(str(doc.get('workflow') or 'workflow'))}</b>"]
    status = doc.get("status")
    if status:
        parts.append(
            f"<span style='padding:0 6px;border-radius:3px;color:#fff;font-weight:600;"
            f"background:{_RUN_STATUS.get(str(status), _INK2)}'>{escape(str(status))}</span>"
        )
    meta = []
    if doc.get("kind") == "run" and doc.get("run_id"):
        meta.append(f"run {str(doc['run_id'])[:8]}")
    total = doc.get("total_nodes", 0)
    meta.append(f"{total} step{'' if total == 1 else 's'}")
    if doc.get("duration") is not None:
        meta.append(format_duration(doc["duration"]))
    if doc.get("started"):
        meta.append(f"started {str(doc['started'])[:19].replace('T', ' ')} UTC")
    parts.append(f"<span style='color:{_INK2}'>{escape(' · '.join(meta))}</span>")
    link = doc.get("dashboard")
    if isinstance(link, str) and link.startswith(("http://", "https://")):
        parts.append(
            f"<a href='{escape(link, quote=True)}' target='_blank' rel='noopener noreferrer' "
            f"style='color:#0969da;text-decoration:none'>Dask dashboard</a>"
        )
    params = doc.get("parameters") or {}
    if params:
        text = ", ".join(f"{k}={_param(v)}" for k, v in params.items())
        parts.append(f"<span style='color:{_INK2};{_MONO}'>{escape(text)}</span>")
    return f"<div style='display:flex;flex-wrap:wrap;gap:4px 10px;align-items:center'>{''.join(parts)}</div>"


def _legend(doc: Mapping[str, Any]) -> str:
    items = "".join(
        f"<span style='white-space:nowrap'>{_swatch(c)} {escape(s)} {n}</span>"
        for s, c, n in legend_states(doc)
    )
    return f"<div style='display:flex;flex-wrap:wrap;gap:4px 14px;color:{_INK2}'>{items}</div>"


def _section(title: str, body: str, note: str = "") -> str:
    extra = f" <span style='font-weight:400;color:{_INK2}'>{escape(note)}</span>" if note else ""
    return (
        f"<details open style='margin-top:8px'><summary style='font-weight:600;cursor:pointer'>"
        f"{escape(title)}{extra}</summary>{body}</details>"
    )


def _has_cache(nodes: Sequence[Node]) -> bool:
    """True when a step asked the step cache: the table then has a cache column."""
    return any(n.get("cache") for n in nodes)


def step_table(doc: Mapping[str, Any]) -> str:
    """The step table (at most MAX_ROWS rows; failed steps kept past it).

    A run that used the step cache gets a ``cache`` column: ``hit``, or why
    the step ran (``miss: code changed``).
    """
    rows, hidden = table_nodes(doc["nodes"])
    cached = _has_cache(doc["nodes"])
    columns = ("step", "state", "attempts", "duration", "started", "result",
               *(("cache",) if cached else ()), "error")
    cell = f"padding:2px 10px 2px 0;border-bottom:1px solid {_LINE};vertical-align:top;text-align:left"
    head = "".join(f"<th style='{cell};color:{_INK2}'>{c}</th>" for c in columns)
    body = []
    for n in rows:
        result = (n.get("result") or {}).get("text") or ""
        error = n.get("error") or n.get("reason") or ""
        error_style = f"color:{STATE_COLORS['failed']}" if n["state"] == "failed" else f"color:{_INK2}"
        offset = n.get("offset")
        started = "" if offset is None else "+" + format_duration(offset)
        cache = f"<td style='{cell};color:{_INK2}'>{escape(n.get('cache') or '')}</td>" if cached else ""
        body.append(
            f"<tr data-id='{escape(n['id'])}'><td style='{cell}'>{escape(n['label'])}</td>"
            f"<td style='{cell}'>{_chip(doc, n['state'])}</td>"
            f"<td style='{cell}'>{n.get('attempts') or 0}</td>"
            f"<td style='{cell};white-space:nowrap'>{format_duration(n.get('duration'))}</td>"
            f"<td style='{cell};white-space:nowrap'>{started}</td>"
            f"<td style='{cell};{_MONO}'>{escape(result)}</td>{cache}"
            f"<td style='{cell};{error_style}'>{escape(error)}</td></tr>"
        )
    if hidden:
        more = f"<i>… {hidden} more steps</i>"
        body.append(f"<tr><td colspan='{len(columns)}' style='{cell};color:{_INK2}'>{more}</td></tr>")
    table = (
        "<table class='codomyrmex-steps' style='width:100%;border-collapse:collapse;margin-top:4px'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
    return _section("Steps", table)


def _timeline(doc: Mapping[str, Any]) -> str:
    bars, span, hidden = timeline_bars(doc)
    if not bars:
        return _section("Timeline", f"<div style='color:{_INK2}'><i>No step has started yet.</i></div>")
    grid = (
        "display:grid;grid-template-columns:minmax(80px,180px) minmax(0,1fr) 72px;"
        "gap:8px;align-items:center"
    )
    rows = []
    for n, left, width in bars:
        colour = state_colour(doc, n["state"])
        cached = n["state"] == "cached"
        time = "cached" if cached else format_duration(n.get("duration")) or n["state"]
        if cached:  # taken from the cache, it took no time: a diamond where it was taken
            mark = (f"<span style='position:absolute;top:2px;width:9px;height:9px;left:{left * 100:.3f}%;"
                    f"transform:translateX(-4px) rotate(45deg);background:{escape(colour)}'></span>")
        else:
            mark = (f"<span style='position:absolute;top:1px;bottom:1px;"
                    f"left:{left * 100:.3f}%;width:{width * 100:.3f}%;"
                    f"min-width:3px;border-radius:2px;background:{escape(colour)}'></span>")
        rows.append(
            f"<div class='codomyrmex-bar' data-id='{escape(n['id'])}' data-state='{escape(n['state'])}' "
            f"style='{grid};min-height:20px'>"
            f"<span style='overflow:hidden;text-overflow:ellipsis;white-space:nowrap'>"
            f"{escape(n['label'])}</span>"
            f"<span style='position:relative;height:14px;background:#eaeef2;border-left:1px solid {_LINE}'>"
            f"{mark}</span>"
            f"<span style='color:{_INK2};white-space:nowrap'>{escape(time)}</span></div>"
        )
    marks = "".join(
        f"<span style='position:absolute;top:1px;left:{t / span * 100:.3f}%;"
        f"{'' if i == 0 else 'transform:translateX(-50%);'}color:{_INK2};font-size:11px;white-space:nowrap'>"
        f"{format_duration(t)}</span>"
        for i, t in enumerate(ticks(span))
    )
    rows.append(
        f"<div style='{grid}'><span></span><span style='position:relative;height:16px;"
        f"border-top:1px solid {_LINE}'>{marks}</span><span></span></div>"
    )
    if hidden:
        rows.append(f"<div style='color:{_INK2}'><i>… {hidden} more steps</i></div>")
    body = (
        "<div class='codomyrmex-timeline' style='display:flex;flex-direction:column;gap:2px;"
        f"margin-top:4px'>{''.join(rows)}</div>"
    )
    return _section("Timeline", body, format_duration(span))


def _failure(doc: Mapping[str, Any], n: Mapping[str, Any]) -> str:
    attempts = n.get("attempts") or 0
    after = f" after {attempts} attempts" if attempts > 1 else ""
    took = f" · {format_duration(n['duration'])}" if n.get("duration") is not None else ""
    parts = [
        f"<div><b>{escape(n['label'])}</b> failed{after}{took}</div>",
        f"<div style='color:{STATE_COLORS['failed']};{_MONO};white-space:pre-wrap'>"
        f"{escape(n.get('error') or 'failed')}</div>",
    ]
    location = n.get("location")
    if location:
        code = ""
        if location.get("code"):
            code = f": <code style='{_MONO}'>{escape(str(location['code']))}</code>"
        parts.append(f"<div style='color:{_INK2}'>{escape(str(location['label']))}{code}</div>")
    if n.get("traceback"):
        parts.append(
            "<details open style='margin-top:4px'>"
            f"<summary style='cursor:pointer;color:{_INK2}'>Traceback</summary>"
            f"<pre style='margin:4px 0 0;padding:6px 8px;background:#f6f8fa;overflow:auto;{_MONO}'>"
            f"{escape(str(n['traceback']).rstrip())}</pre></details>"
        )
    return (
        f"<div class='codomyrmex-failure' data-id='{escape(n['id'])}' style='margin-top:8px;padding:6px 10px;"
        f"border:1px solid {_LINE};border-left:4px solid {state_colour(doc, 'failed')};border-radius:4px'>"
        f"{''.join(parts)}</div>"
    )


def run_html(doc: Mapping[str, Any], svg: str | None = None) -> str:
    """The HTML twin of a run (or workflow) document; ``svg`` reuses a drawn graph (unframed)."""
    graph = svg if svg is not None else dag_svg(doc, frame=False)
    parts = [
        _header(doc),
        f"<div style='margin:6px 0;border:1px solid {_LINE};border-radius:4px;padding:2px;"
        f"overflow:auto'>{graph}</div>",
        _legend(doc),
    ]
    if doc.get("kind") == "run" and doc["nodes"]:
        parts += [step_table(doc), _timeline(doc)]
        failed, more = failed_nodes(doc)
        parts += [_failure(doc, n) for n in failed]
        if more:
            parts.append(f"<div style='color:{_INK2}'><i>… {more} more failed steps</i></div>")
    colour = _RUN_STATUS.get(str(doc.get("status")), _LINE)
    return (
        f"<div class='codomyrmex-dag-output' style='{_SANS};font-size:13px;line-height:1.4;"
        f"border-left:4px solid {colour};padding-left:10px'>{''.join(parts)}</div>"
    )
