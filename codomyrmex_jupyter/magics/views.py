"""Objects the magics return: rich displays built by :mod:`codomyrmex_jupyter.display`.

The display modules are imported lazily. When one is missing (a trimmed
installation), a plain text/HTML table with the same rows is returned
instead, so every subcommand still gives back an object that renders.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api.workflow_models import WorkflowExecution, WorkflowStep
    from ..engine.graph import Graph

__all__ = ["MimeBundle", "Table", "dag_view", "history_view", "record_table", "workflow_table"]

log = logging.getLogger(__name__)


class MimeBundle:
    """A ready-made MIME bundle with ``text/plain`` as its ``repr``."""

    def __init__(self, bundle: Mapping[str, Any], value: Any = None) -> None:
        self.bundle = dict(bundle)
        self.value = value

    def __repr__(self) -> str:
        return str(self.bundle.get("text/plain", ""))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return dict(self.bundle)


class Table:
    """Rows of values shown as a text table and an HTML table.

    ``rows`` are kept as given (``table.rows``), so code can read them back.
    """

    def __init__(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> None:
        self.rows = [dict(r) for r in rows]
        self.columns = list(columns)
        self.title = title

    def __len__(self) -> int:
        return len(self.rows)

    def _cells(self) -> list[list[str]]:
        return [[_cell(r.get(c)) for c in self.columns] for r in self.rows]

    def __repr__(self) -> str:
        cells = self._cells()
        widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(self.columns)]

        def fmt(values: Sequence[str]) -> str:
            return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

        lines = [self.title, fmt(self.columns), *(fmt(row) for row in cells)]
        if not self.rows:
            lines.append("(none)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self._cells()
        )
        caption = f"<caption>{html.escape(self.title)}</caption>"
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(getattr(value, "value", value))


def record_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str) -> Any:
    """A ``RecordTable`` from the display package, or a :class:`Table`."""
    try:
        from ..display.tables import RecordTable
    except ImportError as exc:
        log.debug("display.tables unavailable (%s); using a plain table", exc)
        return Table(rows, columns, title)
    return RecordTable(list(rows), list(columns), title)


def workflow_table(workflows: Mapping[str, Mapping[str, Any]]) -> Any:
    """Display of :meth:`WorkflowManager.list_workflows`."""
    try:
        from ..display.tables import WorkflowTable
    except ImportError as exc:
        log.debug("display.tables unavailable (%s); using a plain table", exc)
        rows = [{"name": n, **info} for n, info in workflows.items()]
        cols = ["name", "steps", "version", "origin", "last_status", "runs"]
        return Table(rows, cols, f"{len(rows)} workflow(s)")
    return WorkflowTable(dict(workflows))


def history_view(executions: Sequence[WorkflowExecution]) -> Any:
    """Display of recorded executions, newest first."""
    try:
        from ..display.tables import HistoryTable
    except ImportError as exc:
        log.debug("display.tables unavailable (%s); using a plain table", exc)
        rows = [
            {
                "run_id": e.execution_id[:8], "workflow": e.workflow_name, "status": e.status,
                "version": e.version, "start": e.start_time, "duration": e.duration,
            }
            for e in executions
        ]
        cols = ["run_id", "workflow", "status", "version", "start", "duration"]
        return Table(rows, cols, f"{len(rows)} run(s)")
    return HistoryTable(list(executions))


def dag_view(name: str, graph: Graph, steps: Sequence[WorkflowStep] | None = None) -> Any:
    """The DAG of a workflow as a displayable object."""
    try:
        from ..display.bundles import workflow_bundle
    except ImportError as exc:
        log.debug("display.bundles unavailable (%s); showing the DAG as text", exc)
        return MimeBundle({"text/plain": text_dag(name, graph)}, graph)
    return MimeBundle(workflow_bundle(name, graph, steps=list(steps) if steps else None), graph)


def text_dag(name: str, graph: Graph) -> str:
    """``name: a -> b, c -> d`` by layer, plus the edges."""
    layers = " -> ".join(", ".join(layer) for layer in graph.generations())
    edges = ", ".join(f"{a}->{b}" for a, b in graph.edges) or "none"
    return f"workflow {name}: {len(graph)} step(s), layers {layers}; edges {edges}"
