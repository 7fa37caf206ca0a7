"""MIME bundles: what a workflow or run display leaves in a saved notebook.

Every bundle has three keys, so any viewer shows something useful:

* ``text/plain``: one summary line, plus one line per failed step;
* ``text/html``: the static twin of the run view (:mod:`.twin`): header,
  inline SVG of the DAG, legend, step table, timeline, failure cards;
* ``application/vnd.codomyrmex.dag+json``: the version-1 DAG document that
  the JupyterLab extension renders interactively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..engine.graph import Graph
from .dag_json import MIME_TYPE, dag_document, graph_for_execution
from .svg import dag_svg
from .twin import run_html, step_table

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


def step_table_html(doc: Mapping[str, Any]) -> str:
    """An HTML table of steps: state, attempts, duration, start, result, cache, error (the twin's)."""
    return step_table(doc)


def _html(doc: Mapping[str, Any], svg: str | None = None) -> str:
    return run_html(doc, svg)


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

    def svg(self, width: int | None = None, *, frame: bool = True) -> str:
        """The static SVG (``frame``: with a title and a legend inside)."""
        return dag_svg(self.doc, width=width, frame=frame)

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
