"""DagView: the live DAG of a workflow or run, as an SVG inside an ipywidgets HTML.

The view model is a :class:`~codomyrmex_jupyter.display.dag_json.LiveDocument`
(the same document its static twin carries). A refresh updates the
document's unsettled nodes and redraws the SVG with cached edges: only node
colours, timings, markers and the legend are rebuilt. Above
``summary_above`` nodes the live drawing switches to one stacked bar per layer
(at most 200 bars; the static twin still draws every node, as dots). The
node-by-node drawing (geometry and edges) is built the first time it is
drawn, so a view that only ever shows the summary never builds it.
"""

from __future__ import annotations

import logging
import reprlib
import threading
from collections.abc import Mapping, Sequence
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..display.bundles import document_bundle
from ..display.dag_json import LiveDocument, graph_for_execution, status_color
from ..display.svg import SvgRenderer, format_duration, summary_svg
from ..engine.graph import Graph
from ..engine.state import StepRecord
from .coalesce import LiveListener, TwinDisplay

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution
    from ..engine.runner import Run

__all__ = ["DagView", "model_for_execution", "model_for_run", "preview", "widget_bundle"]

log = logging.getLogger(__name__)
SELECTOR_LIMIT = 2000
_preview_repr = reprlib.Repr()
_preview_repr.maxstring = 60
_preview_repr.maxother = 60


def preview(value: Any, limit: int = 80) -> str:
    """A short ``repr`` of a step result (never more than ``limit`` characters)."""
    try:
        text = _preview_repr.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ in user code is shown, not raised
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def model_for_run(run: Run, previous: LiveDocument | None = None) -> LiveDocument:
    """The live document of a run; ``previous`` is reused when it shows the same graph.

    "Same" is structural (see :func:`~..display.dag_json.same_graph`): a view
    built from one compilation of a workflow keeps its layout for a run of
    another compilation of it.
    """
    if previous is not None:
        try:
            previous.rebind(run)  # compares the graphs first
        except ValueError:
            log.debug("run %s shows another graph: new document", run.run_id)
        else:
            return previous
    return LiveDocument(run.graph, workflow=run.workflow, run=run)


def model_for_execution(execution: WorkflowExecution) -> LiveDocument:
    """The live document of an execution (live or recorded)."""
    return LiveDocument(
        graph_for_execution(execution), workflow=execution.workflow_name,
        execution=execution, run_id=execution.execution_id,
    )


def widget_bundle(widget: widgets.Widget, twin: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
    """The widget's own view bundle merged with its static twin.

    ``text/plain`` and ``text/html`` come from the twin, so a viewer without
    a widget manager shows the outcome; the widget-view key is kept so live
    frontends render the widget.
    """
    base = widgets.Widget._repr_mimebundle_(widget, **kwargs) or {}
    return {**base, **twin}


class DagView(TwinDisplay, widgets.VBox):  # type: ignore[misc]
    """The DAG of a workflow or run, nodes coloured by state, with a step inspector.

    Parameters
    ----------
    graph:
        The compiled workflow graph.
    workflow:
        The workflow's name.
    steps:
        Step definitions (for module/action in tooltips).
    records:
        Step records by name, or aligned with ``graph.names``.
    max_rate:
        Upper bound on redraws per second while a run goes on.
    summary_above:
        Above this many nodes the live view shows one bar per layer.
    draw:
        Draw at once (``False``: the caller refreshes or paints later).
    """

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        workflow: str = "",
        steps: Sequence[Any] | None = None,
        records: Sequence[StepRecord] | Mapping[str, StepRecord] | None = None,
        max_rate: float = 4.0,
        summary_above: int = 500,
        model: LiveDocument | None = None,
        draw: bool = True,
        **kwargs: Any,
    ) -> None:
        self.header = widgets.HTML()
        self.canvas = widgets.HTML(layout=widgets.Layout(overflow="auto", max_height="640px"))
        self.selector = widgets.Dropdown(description="step", options=[], value=None)
        self.details = widgets.HTML()
        super().__init__(children=[self.header, self.canvas, self.selector, self.details], **kwargs)
        self.max_rate = max_rate
        self.summary_above = summary_above
        self._draw_lock = threading.RLock()
        self._listener: LiveListener | None = None
        self._renderer: SvgRenderer | None = None
        self.selector.observe(self._on_select, names="value")
        model = model or LiveDocument(graph, workflow=workflow, steps=steps, records=records)
        self.set_model(model, draw=draw)

    # -- construction ----------------------------------------------------------------
    @classmethod
    def for_workflow(cls, manager: WorkflowManager, name: str, **kwargs: Any) -> DagView:
        """The DAG of a defined workflow, every step pending."""
        return cls(manager.get_graph(name), workflow=name, steps=manager.get_workflow(name), **kwargs)

    @classmethod
    def for_execution(cls, execution: WorkflowExecution, **kwargs: Any) -> DagView:
        """The DAG of a run (live or recorded) in its current states."""
        return cls(model=model_for_execution(execution), **kwargs)

    @classmethod
    def for_run(cls, run: Run, **kwargs: Any) -> DagView:
        """The DAG of an engine run."""
        return cls(model=model_for_run(run), **kwargs)

    def set_model(self, model: LiveDocument, *, draw: bool = True) -> None:
        """Show ``model``; ``draw=False`` leaves the redraw to the caller."""
        with self._draw_lock:
            self.model = model
            self._renderer = None  # built when first drawn node by node
            names = [n["id"] for n in model.doc["nodes"][:SELECTOR_LIMIT]]
            with self.hold_sync():
                self.selector.options = names
                self.selector.value = None
            if draw:
                self.refresh()

    # -- live updates -------------------------------------------------------------------
    @property
    def listener(self) -> LiveListener:
        """The run listener that keeps this view live (pass it in ``listeners=``)."""
        if self._listener is None:
            self._listener = LiveListener([self], self.max_rate)
        return self._listener

    def attach(self, run: Run) -> LiveListener:
        """Follow ``run``: before it starts, during it, or after it ended.

        Returns the listener. A run that has not started gets it appended to
        its listeners; a running one is polled until it ends.
        """
        lst = self.listener
        if run.status == "pending":
            lst.poll = True  # appended late: step_changed is not wired, so poll
            if lst not in run.listeners:
                run.listeners.append(lst)
            lst._bind(run)
            self.refresh()
            return lst
        return lst.watch(run)

    def bind_run(self, run: Run) -> None:
        """Show ``run``'s live records (the graph is reused when it is the same)."""
        if self.model.run is run:
            return
        model = model_for_run(run, self.model)
        if model is self.model:
            return  # same graph: layout, edges and selector stay
        self.set_model(model)

    def refresh(self) -> None:
        """Redraw from the current records (thread-safe)."""
        with self._draw_lock:
            self.paint(self.model.update(stamps=False))

    def paint(self, doc: Mapping[str, Any]) -> None:
        """Redraw from ``doc``, the model's document just updated (thread-safe)."""
        with self._draw_lock:
            svg = self._svg(doc)
            head = self._header_html(doc)
            with self.hold_sync():
                self.canvas.value = svg
                self.header.value = head
                if self.selector.value is not None:
                    self.details.value = self._details_html(self.selector.value)

    def finish(self) -> None:
        """The run ended: re-send displayed outputs with the final twin.

        Called after the final :meth:`refresh`, so it does not redraw.
        """
        self.update_displays()

    def _svg(self, doc: Mapping[str, Any]) -> str:
        if len(doc["nodes"]) <= self.summary_above:
            return self._full_renderer().render(doc)
        layout = self.model.layout
        layers = layout.n_layers if layout is not None else 0
        return summary_svg(self.model.column_counts(), doc, layers=layers)

    def _full_renderer(self) -> SvgRenderer:
        """The node-by-node drawing of the model's graph (edges built once, on first use)."""
        with self._draw_lock:
            if self._renderer is None:
                self._renderer = SvgRenderer(self.model.doc)
            return self._renderer

    @staticmethod
    def _header_html(doc: Mapping[str, Any]) -> str:
        status = doc.get("status")
        badge = (
            f" <span style='color:{status_color(status)};font-weight:600'>{escape(status)}</span>"
            if status else ""
        )
        return f"<b>{escape(str(doc.get('workflow') or ''))}</b>{badge}"

    # -- inspector ------------------------------------------------------------------------
    def _on_select(self, change: Mapping[str, Any]) -> None:
        name = change.get("new")
        self.details.value = self._details_html(name) if name else ""

    def _details_html(self, name: str) -> str:
        graph = self.model.graph
        if graph is None or name not in graph.index:
            return ""
        rec = self.model.records[graph.index[name]]
        if rec is None:
            return f"<b>{escape(name)}</b>: pending"
        rows = [
            ("state", rec.status), ("attempts", str(rec.attempts)),
            ("duration", format_duration(rec.duration)), ("reason", rec.reason or ""),
            ("error", rec.error or ""), ("cache", rec.cache or ""),
            ("result", preview(rec.result) if rec.status in ("succeeded", "cached") else ""),
        ]
        cells = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td>{escape(v)}</td></tr>" for k, v in rows if v
        )
        return f"<b>{escape(name)}</b><table>{cells}</table>"

    # -- static twin ----------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        """The current DAG document (a copy)."""
        with self._draw_lock:
            doc = self.model.update()
            return {**doc, "nodes": [dict(n) for n in doc["nodes"]], "counts": dict(doc["counts"])}

    def plot(self, **kwargs: Any) -> Figure:
        """A matplotlib figure of the DAG in its current states."""
        from ..display.plots import plot_dag

        return plot_dag(self.document(), **kwargs)

    def static_svg(self, doc: Mapping[str, Any]) -> str:
        """The static twin's SVG of ``doc`` (a document of this view's model)."""
        return self._full_renderer().render(doc)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        doc = self.document()
        return widget_bundle(self, document_bundle(doc, svg=self.static_svg(doc)), **kwargs)
