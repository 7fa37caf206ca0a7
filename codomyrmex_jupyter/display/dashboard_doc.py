"""The ``application/vnd.codomyrmex.dashboard+json`` document and its static twin.

The dashboard shows one kernel's runs, workflows, resources and sessions; a
document of kind ``"resources"`` shows the resource gauges alone. The lab
extension draws it (``labextension/src/dashboard.ts``); the twin below is
the same content as HTML for every other viewer. Schema in
``docs/dashboard-mime-schema.md``. Pure module: nothing here needs IPython.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from html import escape
from typing import TYPE_CHECKING, Any

from .svg import format_duration
from .twin import _RUN_STATUS, _SANS, _swatch

if TYPE_CHECKING:
    from ..api.workflow_models import WorkflowExecution

__all__ = [
    "DASHBOARD_MIME_TYPE",
    "bar_style",
    "dashboard_bundle",
    "dashboard_html",
    "dashboard_text",
    "execution_first_error",
    "holder_label",
    "holders_text",
    "resource_rows",
    "run_rows",
    "session_rows",
    "workflow_rows",
]

DASHBOARD_MIME_TYPE = "application/vnd.codomyrmex.dashboard+json"
_INK2 = "#57606a"
_LINE = "#d0d7de"


def _iso(value: datetime | float | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    return datetime.fromtimestamp(float(value), tz=timezone.utc).isoformat()


def execution_first_error(ex: WorkflowExecution) -> str | None:
    """``step: ErrorType: message`` of the step that failed first, else the run's first error."""
    failed = [r for r in ex.step_records.values() if r.status == "failed" and r.error]
    if failed:
        rec = min(failed, key=lambda r: r.end if r.end is not None else float("inf"))
        return f"{rec.name}: {rec.error}"
    return str(ex.errors[0]) if ex.errors else None


def run_rows(executions: Iterable[WorkflowExecution]) -> list[dict[str, Any]]:
    """One row per run: id, workflow, status, start, duration, steps per state, first error."""
    rows = []
    for ex in executions:
        counts: dict[str, int] = {}
        for rec in ex.step_records.values():
            counts[rec.status] = counts.get(rec.status, 0) + 1
        if not counts:
            counts = dict(ex.performance_metrics.get("counts") or {})
        rows.append({
            "run_id": ex.execution_id, "workflow": ex.workflow_name, "status": ex.status.value,
            "started": _iso(ex.start_time), "duration": ex.duration, "counts": dict(sorted(counts.items())),
            "error": execution_first_error(ex),
        })
    return rows


def workflow_rows(workflows: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per workflow (from ``WorkflowManager.list_workflows()``)."""
    return [
        {
            "name": name, "steps": info.get("steps"), "version": info.get("version"),
            "runs": info.get("runs"), "last_status": info.get("last_status"),
            "estimated_duration": info.get("estimated_duration") or None,
        }
        for name, info in workflows.items()
    ]


def holder_label(holder: str) -> str:
    """A readable holder: a workflow step ``<run id>:<step>`` becomes ``step (run 1a2b3c4d)``."""
    run_id, sep, step = holder.partition(":")
    if sep and len(run_id) == 32 and all(c in "0123456789abcdef" for c in run_id):
        return f"{step} (run {run_id[:8]})"
    return holder


def holders_text(holders: Any, limit: int = 5) -> str:
    """``"load (run 1a2b3c4d) 2, task:7 1 (+3 more)"`` from ``(holder, amount, mode)`` tuples."""
    items = []
    for h in holders or ():
        mode = f" {h[2]}" if len(h) > 2 and h[2] not in ("", "shared", None) else ""
        items.append(f"{holder_label(str(h[0]))} {h[1]:g}{mode}")
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _stat(stats: Any, name: str, default: Any = 0.0) -> Any:
    return stats.get(name, default) if isinstance(stats, Mapping) else getattr(stats, name, default)


def resource_rows(
    snapshot: Mapping[str, Any], names: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per resource from ``ResourceManager.snapshot()``: capacity, allocation, holders."""
    rows = []
    for rid, stats in snapshot.items():
        capacity = float(_stat(stats, "capacity") or 0.0)
        allocated = float(_stat(stats, "allocated") or 0.0)
        rows.append({
            "id": rid, "name": (names or {}).get(rid) or rid, "capacity": capacity, "allocated": allocated,
            "unit": str(_stat(stats, "unit", "") or ""), "waiting": int(_stat(stats, "waiting", 0) or 0),
            "utilisation": allocated / capacity if capacity else 0.0,
            "holders": holders_text(_stat(stats, "holders", ())),
        })
    return rows


def session_rows(sessions: Iterable[Any]) -> list[dict[str, Any]]:
    """One row per orchestration session."""
    return [
        {
            "session_id": s.session_id, "name": s.name, "status": str(getattr(s, "status", "")),
            "created_at": _iso(getattr(s, "created_at", None)),
            "workflows": len(getattr(s, "workflows", None) or []),
        }
        for s in sessions
    ]


# -- the twin ---------------------------------------------------------------------------------
def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cell = f"padding:2px 10px 2px 0;border-bottom:1px solid {_LINE};text-align:left;vertical-align:top"
    head = "".join(f"<th style='{cell};color:{_INK2}'>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td style='{cell}'>{v}</td>" for v in r) + "</tr>" for r in rows)
    if not rows:
        body = f"<tr><td colspan='{len(columns)}' style='{cell};color:{_INK2}'><i>none</i></td></tr>"
    return (
        f"<div style='font-weight:600;margin-top:8px'>{escape(title)}</div>"
        "<table style='border-collapse:collapse;width:100%'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _status(status: Any) -> str:
    text = str(status or "")
    if not text:
        return ""
    return f"<span style='white-space:nowrap'>{_swatch(_RUN_STATUS.get(text, _LINE))} {escape(text)}</span>"


def _when(iso: Any) -> str:
    return escape(str(iso)[:19].replace("T", " ")) if iso else ""


_BAR_COLOURS = {"success": "#1a7f37", "warning": "#bf8700", "danger": "#cf222e"}


def bar_style(utilisation: float) -> str:
    """``success`` below 70 %, ``warning`` below 90 %, ``danger`` from there."""
    if utilisation < 0.7:
        return "success"
    if utilisation < 0.9:
        return "warning"
    return "danger"


def _gauges_html(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return f"<div style='color:{_INK2}'><i>No resource is defined.</i></div>"
    out = []
    for r in rows:
        frac = min(1.0, float(r["utilisation"]))
        colour = _BAR_COLOURS[bar_style(frac)]
        name = str(r["name"])
        label = f"{name} ({r['id']})" if name != r["id"] else str(r["id"])
        unit = f" {r['unit']}" if r["unit"] else ""
        parts = [f"{r['allocated']:g}/{r['capacity']:g}{unit} ({frac:.0%})"]
        if r.get("waiting"):
            parts.append(f"{r['waiting']} waiting")
        if r.get("holders"):
            parts.append(f"held by {r['holders']}")
        out.append(
            "<div class='codomyrmex-gauge' style='display:grid;grid-template-columns:minmax(100px,180px) "
            "minmax(120px,320px) minmax(0,1fr);gap:10px;align-items:center'>"
            f"<span>{escape(label)}</span><span style='position:relative;height:14px;border-radius:3px;"
            f"background:#eaeef2;overflow:hidden'><span style='position:absolute;left:0;top:0;bottom:0;"
            f"width:{frac * 100:.1f}%;background:{colour}'></span></span>"
            f"<span style='color:{_INK2}'>{escape(' · '.join(parts))}</span></div>"
        )
    return "<div style='display:flex;flex-direction:column;gap:4px'>" + "".join(out) + "</div>"


def dashboard_html(doc: Mapping[str, Any]) -> str:
    """The HTML twin of a dashboard (or resources) document."""
    resources = _gauges_html(doc.get("resources") or [])
    if doc.get("kind") == "resources":
        return f"<div class='codomyrmex-dashboard' style='font-size:13px'>{resources}</div>"
    runs = [
        [
            escape(str(r["run_id"])[:8]), escape(str(r["workflow"])), _status(r["status"]),
            _when(r.get("started")), escape(format_duration(r.get("duration"))),
            escape(", ".join(f"{v} {k}" for k, v in (r.get("counts") or {}).items())),
            escape(r.get("error") or ""),
        ]
        for r in doc.get("runs") or []
    ]
    workflows = [
        [escape(str(w["name"])), escape(str(w.get("steps") or "")), escape(str(w.get("version") or "")),
         escape(str(w.get("runs") or 0)), _status(w.get("last_status")),
         escape(format_duration(w.get("estimated_duration")))]
        for w in doc.get("workflows") or []
    ]
    sessions = [
        [escape(str(s["session_id"])[:8]), escape(str(s.get("name") or "")), _status(s.get("status")),
         _when(s.get("created_at")), escape(str(s.get("workflows") or 0))]
        for s in doc.get("sessions") or []
    ]
    updated = ""
    if doc.get("updated"):
        updated = f" <span style='color:{_INK2}'>as of {_when(doc.get('updated'))} UTC</span>"
    return (
        f"<div class='codomyrmex-dashboard' style='{_SANS};font-size:13px;line-height:1.4'>"
        f"<b>{escape(str(doc.get('title') or 'codomyrmex'))}</b>{updated}"
        + _table("Runs", ["run", "workflow", "status", "started", "duration", "steps", "error"], runs)
        + _table("Workflows", ["workflow", "steps", "version", "runs", "last status", "typical duration"],
                 workflows)
        + "<div style='font-weight:600;margin-top:8px'>Resources</div>" + resources
        + _table("Sessions", ["session", "name", "status", "created", "workflows"], sessions)
        + "</div>"
    )


def dashboard_text(doc: Mapping[str, Any]) -> str:
    """Plain text of a dashboard document."""
    lines = []
    if doc.get("kind") != "resources":
        runs = doc.get("runs") or []
        n_workflows, n_sessions = len(doc.get("workflows") or []), len(doc.get("sessions") or [])
        lines.append(f"{doc.get('title') or 'codomyrmex'}: {len(runs)} runs, "
                     f"{n_workflows} workflows, {n_sessions} sessions")
        lines += [f"  {str(r['run_id'])[:8]} {r['workflow']} {r['status']}"
                  + (f" {format_duration(r['duration'])}" if r.get("duration") is not None else "")
                  + (f": {r['error']}" if r.get("error") else "") for r in runs[:10]]
    for r in doc.get("resources") or []:
        lines.append(f"  {r['id']}: {r['allocated']:g}/{r['capacity']:g} {r['unit']}".rstrip())
    return "\n".join(lines) or "no resources"


def dashboard_bundle(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The three-key MIME bundle of a dashboard document."""
    return {
        "text/plain": dashboard_text(doc), "text/html": dashboard_html(doc), DASHBOARD_MIME_TYPE: dict(doc),
    }
