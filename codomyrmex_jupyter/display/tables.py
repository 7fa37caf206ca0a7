"""Tables with rich reprs for listings: run history, workflows, any records.

Each table shows as HTML in a notebook and as aligned text elsewhere. Cells
are escaped; a ``status`` column gets the colour of its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from ..engine.state import STATE_COLORS
from .dag_json import RUN_STATUS_COLORS
from .svg import format_duration

if TYPE_CHECKING:
    from ..api.workflow_models import WorkflowExecution

__all__ = ["HISTORY_COLUMNS", "HistoryTable", "RecordTable", "WorkflowTable", "cell_text", "history_row"]

_STATUS_KEYS = frozenset({"status", "state", "last_status"})

HISTORY_COLUMNS = ("run_id", "workflow", "status", "started", "duration", "steps", "errors")


def cell_text(value: Any) -> str:
    """Plain text of one cell: enums by value, datetimes to the second, floats short."""
    if value is None:
        return ""
    if hasattr(value, "value") and not isinstance(value, (int, float, str)):
        value = value.value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


class RecordTable:
    """A titled table of rows.

    Parameters
    ----------
    rows:
        Each row a mapping (values looked up by column) or a sequence (in column order).
    columns:
        Column names; by default the keys of the first mapping row.
    title:
        Caption shown above the table.
    """

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any] | Sequence[Any]],
        columns: Sequence[str] | None = None,
        title: str = "",
    ) -> None:
        self.rows = list(rows)
        if columns is None:
            first = self.rows[0] if self.rows else {}
            columns = list(first) if isinstance(first, Mapping) else []
        self.columns = list(columns)
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def cells(self) -> list[list[str]]:
        """Every row as a list of cell texts."""
        out = []
        for row in self.rows:
            if isinstance(row, Mapping):
                out.append([cell_text(row.get(c)) for c in self.columns])
            else:
                out.append([cell_text(v) for v in row])
        return out

    def to_text(self) -> str:
        """Aligned plain text."""
        cells = self.cells()
        widths = [len(c) for c in self.columns]
        for row in cells:
            widths = [max(w, len(v)) for w, v in zip(widths, row, strict=False)]
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(self.columns, widths, strict=True)))
        lines.extend("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)) for r in cells)
        if not cells:
            lines.append("(none)")
        return "\n".join(line.rstrip() for line in lines)

    def to_html(self) -> str:
        """An HTML table (escaped)."""
        head = "".join(f"<th style='text-align:left'>{escape(c)}</th>" for c in self.columns)
        body = "".join(self._html_row(r) for r in self.cells())
        if not self.rows:
            body = f"<tr><td colspan='{max(len(self.columns), 1)}'><i>none</i></td></tr>"
        caption = ""
        if self.title:
            caption = f"<caption style='text-align:left'><b>{escape(self.title)}</b></caption>"
        return (
            f"<table class='codomyrmex-table'>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )

    def _html_row(self, row: list[str]) -> str:
        tds = []
        for col, value in zip(self.columns, row, strict=False):
            colour = None
            if col in _STATUS_KEYS:
                colour = RUN_STATUS_COLORS.get(value) or STATE_COLORS.get(value)
            style = f" style='color:{colour};font-weight:600'" if colour else ""
            tds.append(f"<td{style}>{escape(value)}</td>")
        return "<tr>" + "".join(tds) + "</tr>"

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.to_text(), "text/html": self.to_html()}


class HistoryTable(RecordTable):
    """Recorded runs, newest first: id, workflow, status, start, duration, counts."""

    def __init__(self, executions: Iterable[WorkflowExecution], title: str = "Run history") -> None:
        self.executions = list(executions)
        super().__init__([_execution_row(e) for e in self.executions], HISTORY_COLUMNS, title)


def history_row(
    run_id: str,
    workflow: str,
    status: str,
    *,
    started: datetime | str | None,
    duration: float | None,
    counts: Mapping[str, int],
    errors: int,
) -> dict[str, Any]:
    """One row of a run history (:data:`HISTORY_COLUMNS`), from plain values.

    ``counts`` are the run's steps per state; ``errors`` the number of its
    error lines. A ``started`` datetime shows to the second (:func:`cell_text`).
    """
    return {
        "run_id": run_id[:8],
        "workflow": workflow,
        "status": status,
        "started": started,
        "duration": format_duration(duration),
        "steps": " ".join(f"{k}={v}" for k, v in sorted(counts.items())),
        "errors": errors,
    }


def _execution_row(ex: WorkflowExecution) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for rec in ex.step_records.values():
        counts[rec.status] = counts.get(rec.status, 0) + 1
    if not counts:
        counts = dict(ex.performance_metrics.get("counts") or {})
    return history_row(
        ex.execution_id, ex.workflow_name, ex.status.value, started=ex.start_time,
        duration=ex.duration, counts=counts, errors=len(ex.errors),
    )


class WorkflowTable(RecordTable):
    """Workflows from ``WorkflowManager.list_workflows()``."""

    def __init__(self, workflows: Mapping[str, Mapping[str, Any]], title: str = "Workflows") -> None:
        self.workflows = dict(workflows)
        rows = [
            {
                "name": name,
                "steps": info.get("steps"),
                "modules": info.get("modules") or [],
                "version": info.get("version"),
                "runs": info.get("runs"),
                "last_status": info.get("last_status"),
                "estimated_duration": format_duration(info.get("estimated_duration") or None),
            }
            for name, info in self.workflows.items()
        ]
        columns = ["name", "steps", "modules", "version", "runs", "last_status", "estimated_duration"]
        super().__init__(rows, columns, title)
