"""MIME bundles: what a workflow or run display leaves in a saved notebook.

Every bundle has three keys, so any viewer shows something useful:

* ``text/plain``: one summary line, plus one line per failed step;
* ``text/html``: the summary, an inline SVG of the DAG and a step table;
* ``application/vnd.codomyrmex.dag+json``: the version-1 DAG document that
  the JupyterLab extension renders interactively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

from ..engine.graph import Graph
from .dag_json import MIME_TYPE, dag_document, graph_for_execution, status_color
from .svg import dag_svg, format_duration

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution

__all__ = [
    "DagDisplay",
    "dag_display",
    "document_bundle",
    "execution_bundle",
    "step_table_html",
    "summary_text",
    "workflow_bundle",
]

TABLE_ROWS = 100


def summary_text(doc: Mapping[str, Any]) -> str:
    """Plain text of a document: a summary line, then one line per failed step."""
    counts = ", ".join(f"{v} {k}" for k, v in (doc.get("counts") or {}).items())
    head = str(doc.get("workflow") or "")
    if doc.get("run_id"):
        head += f" [{str(doc['run_id'])[:8]}]"
    if doc.get("status"):
        head += f" {doc['status']}"
    head += f": {doc.get('total_nodes', 0)} steps"
    if counts and doc.get("kind") == "run":
        head += f" ({counts})"
    failed = [
        f"  {n['id']}: {n['error']}" for n in doc["nodes"] if n["state"] == "failed" and n.get("error")
    ]
    return "\n".join([head, *failed])


def _table_nodes(nodes: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], int]:
    if len(nodes) <= TABLE_ROWS:
        return list(nodes), 0
    shown = list(nodes[:TABLE_ROWS])
    # Failures matter most: keep them visible even past the row limit.
    shown += [n for n in nodes[TABLE_ROWS:] if n["state"] == "failed"][:TABLE_ROWS]
    return shown, len(nodes) - len(shown)


def step_table_html(doc: Mapping[str, Any]) -> str:
    """An HTML table of steps: state, attempts, duration, error (and cache, when used)."""
    rows, hidden = _table_nodes(doc["nodes"])
    cached = any(n.get("cache") for n in doc["nodes"])
    body = []
    for n in rows:
        colour = status_color(n["state"])
        cache = f"<td>{escape(n.get('cache') or '')}</td>" if cached else ""
        body.append(
            f"<tr><td>{escape(n['id'])}</td>"
            f"<td style='color:{colour};font-weight:600'>{escape(n['state'])}</td>"
            f"<td>{n.get('attempts') or 0}</td><td>{format_duration(n.get('duration'))}</td>"
            f"{cache}<td>{escape(n.get('error') or '')}</td></tr>"
        )
    span = 6 if cached else 5
    more = f"<tr><td colspan='{span}'><i>… {hidden} more steps</i></td></tr>" if hidden else ""
    cache_head = "<th>cache</th>" if cached else ""
    return (
        "<table class='codomyrmex-steps'><thead><tr><th>step</th><th>state</th>"
        f"<th>attempts</th><th>duration</th>{cache_head}<th>error</th></tr></thead>"
        f"<tbody>{''.join(body)}{more}</tbody></table>"
    )


def _html(doc: Mapping[str, Any], svg: str | None = None) -> str:
    colour = status_color(doc.get("status"))
    head = escape(summary_text(doc).splitlines()[0])
    table = ""
    if doc.get("kind") == "run":
        table = f"<details><summary>steps</summary>{step_table_html(doc)}</details>"
    return (
        f"<div class='codomyrmex-dag-output' style='border-left:4px solid {colour};"
        f"padding-left:8px'><div style='font-weight:600'>{head}</div>"
        f"{svg if svg is not None else dag_svg(doc)}{table}</div>"
    )


def document_bundle(doc: Mapping[str, Any], *, svg: str | None = None) -> dict[str, Any]:
    """The three-key MIME bundle of a DAG document (``svg`` reuses a drawn SVG)."""
    return {"text/plain": summary_text(doc), "text/html": _html(doc, svg), MIME_TYPE: dict(doc)}


def workflow_bundle(name: str, graph: Graph, steps: Sequence[Any] | None = None) -> dict[str, Any]:
    """Bundle of a workflow definition (every step pending)."""
    return document_bundle(dag_document(graph, workflow=name, steps=steps))


def _execution_document(execution: WorkflowExecution) -> dict[str, Any]:
    if execution._run is not None:
        execution.sync_from_run()
    graph = graph_for_execution(execution)
    return dag_document(
        graph, workflow=execution.workflow_name, execution=execution,
        run_id=execution.execution_id, status=None,
    )


def execution_bundle(execution: WorkflowExecution) -> dict[str, Any]:
    """Bundle of a run (live or finished): its DAG in its current states."""
    doc = _execution_document(execution)
    bundle = document_bundle(doc)
    bundle["text/plain"] = "\n".join([execution.summary(), *summary_text(doc).splitlines()[1:]])
    return bundle


class DagDisplay:
    """A displayable DAG document: rich output in a notebook, ``.plot()`` for reports.

    Parameters
    ----------
    doc:
        A version-1 DAG document (see :func:`.dag_json.dag_document`).
    """

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = dict(doc)

    @classmethod
    def for_execution(cls, execution: WorkflowExecution) -> DagDisplay:
        """The DAG of a run in its current states."""
        return cls(_execution_document(execution))

    def svg(self, width: int | None = None) -> str:
        """The static SVG."""
        return dag_svg(self.doc, width=width)

    def plot(self, **kwargs: Any) -> Figure:
        """A matplotlib figure of the DAG (see :func:`.plots.plot_dag`)."""
        from .plots import plot_dag

        return plot_dag(self.doc, **kwargs)

    def __repr__(self) -> str:
        return summary_text(self.doc)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return document_bundle(self.doc)


def dag_display(manager: WorkflowManager, name: str) -> DagDisplay:
    """The DAG of workflow ``name`` as defined in ``manager``."""
    return DagDisplay(dag_document(manager.get_graph(name), workflow=name, steps=manager.get_workflow(name)))
