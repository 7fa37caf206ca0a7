"""RunPanel and RunView: what a run is doing, step by step, and how it ended.

:class:`RunPanel` shows an overall progress bar with counts, a step table
(state, attempts, duration, result preview, error), one collapsible
traceback per failed step, and a Gantt timeline drawn once the run ends.
:class:`RunView` puts a :class:`~.dag_view.DagView` and a panel together with
a Cancel button; it is what ``%orchestrate run`` displays.
"""

from __future__ import annotations

import base64
import io
import threading
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..display.bundles import document_bundle
from ..display.dag_json import LiveDocument, status_color
from ..display.svg import dag_svg, format_duration
from ..engine.state import STEP_STATES, TERMINAL_STATES
from .closing import close_tree
from .coalesce import LiveListener, TwinDisplay, defer
from .dag_view import DagView, model_for_execution, model_for_run, preview, widget_bundle

if TYPE_CHECKING:
    from ..api.run_handle import RunHandle
    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution
    from ..engine.runner import Run

__all__ = ["RunPanel", "RunView"]

TABLE_ROWS = 100
TIMELINE_AUTO = 200  # above this many steps the timeline is drawn on request
_ACTIVE = ("running", "retrying", "failed")


def _bar_style(status: str | None, counts: Mapping[str, int]) -> str:
    if counts.get("failed") or status in ("failed", "cancelled"):
        return "danger"
    if status == "completed":
        return "success"
    return "info"


def _counts_text(counts: Mapping[str, int], total: int) -> str:
    done = sum(v for k, v in counts.items() if k in TERMINAL_STATES)
    parts = ", ".join(f"{counts[s]} {s}" for s in STEP_STATES if counts.get(s))
    return f"{done}/{total} done ({parts})" if parts else f"{done}/{total} done"


class RunPanel(TwinDisplay, widgets.VBox):  # type: ignore[misc]
    """Progress, step table, tracebacks and timeline of one run.

    Parameters
    ----------
    model:
        The run's live document (see :func:`.dag_view.model_for_run`).
    max_rate:
        Upper bound on redraws per second while the run goes on.
    draw:
        Draw at once (``False``: the caller refreshes or paints later).
    """

    def __init__(
        self, model: LiveDocument, *, max_rate: float = 4.0, draw: bool = True, **kwargs: Any
    ) -> None:
        self.progress = widgets.IntProgress(min=0, max=1, value=0, description="steps")
        self.counts = widgets.HTML()
        self.table = widgets.HTML(layout=widgets.Layout(overflow="auto", max_height="360px"))
        self.errors = widgets.Accordion(children=[])
        self.timeline = widgets.Output()
        self.timeline_button = widgets.Button(
            description="Draw timeline", icon="bar-chart", layout=widgets.Layout(display="none")
        )
        self.timeline_button.on_click(lambda _b: self.draw_timeline())
        super().__init__(
            children=[
                widgets.HBox([self.progress, self.counts]), self.table, self.errors,
                self.timeline_button, self.timeline,
            ],
            **kwargs,
        )
        self.max_rate = max_rate
        self.model = model
        self._failed: tuple[str, ...] = ()
        self._row_cache: dict[int, tuple[Any, str]] = {}
        self._listener: LiveListener | None = None
        self._draw_lock = threading.RLock()
        if draw:
            self.refresh()

    @classmethod
    def for_execution(cls, execution: WorkflowExecution, **kwargs: Any) -> RunPanel:
        """The panel of an execution (live or recorded)."""
        panel = cls(model_for_execution(execution), **kwargs)
        if execution.done:
            panel.finish()
        return panel

    @classmethod
    def for_run(cls, run: Run, **kwargs: Any) -> RunPanel:
        """The panel of an engine run."""
        return cls(model_for_run(run), **kwargs)

    @property
    def listener(self) -> LiveListener:
        """The run listener that keeps this panel live (pass it in ``listeners=``)."""
        if self._listener is None:
            self._listener = LiveListener([self], self.max_rate)
        return self._listener

    # -- renderer protocol ------------------------------------------------------------
    def bind_run(self, run: Run) -> None:
        """Show ``run``'s live records."""
        if self.model.run is not run:
            with self._draw_lock:
                self.model = model_for_run(run, self.model)
                self._forget_run()

    def _forget_run(self) -> None:
        """Drop what is shown of a previous run (the failed-step list is redrawn on change)."""
        self._failed = ()
        self._row_cache.clear()
        if self.errors.children:
            self.errors.children = []
            self.errors.titles = ()

    def refresh(self) -> None:
        """Redraw progress, table and tracebacks (thread-safe)."""
        with self._draw_lock:
            self.paint(self.model.update(stamps=False))

    def paint(self, doc: Mapping[str, Any]) -> None:
        """Redraw from ``doc``, the model's document just updated (thread-safe)."""
        with self._draw_lock:
            counts, total = doc["counts"], doc["total_nodes"]
            done = sum(v for k, v in counts.items() if k in TERMINAL_STATES)
            table = self._table_html(counts)
            with self.hold_sync():
                self.progress.max = max(total, 1)
                self.progress.value = done
                self.progress.bar_style = _bar_style(doc.get("status"), counts)
                self.counts.value = escape(_counts_text(counts, total))
                self.table.value = table
                self._refresh_errors(counts.get("failed", 0))

    def finish(self) -> None:
        """The run ended: display update; the timeline is drawn just after.

        Called after the final :meth:`refresh`, so it does not redraw.
        """
        self.update_displays()
        self.schedule_timeline()

    def schedule_timeline(self) -> None:
        """Draw the timeline just after the run returns, or offer a button for big runs."""
        if len(self.model.records) <= TIMELINE_AUTO:
            defer(self.draw_timeline)
        else:
            self.timeline_button.layout.display = None

    # -- pieces -----------------------------------------------------------------------------
    def _rows(self, counts: Mapping[str, int]) -> list[int]:
        graph = self.model.graph
        if graph is None:
            return []
        order = graph.order
        if len(order) <= TABLE_ROWS:
            return list(order)
        # Past the row limit, what is running or failed matters more than order;
        # the counts say how many such steps to look for, so the scan stops early.
        hot = self._hot_rows(min(TABLE_ROWS, sum(counts.get(s, 0) for s in _ACTIVE)))
        hot_set = set(hot)
        rest = [i for i in order[: TABLE_ROWS + len(hot)] if i not in hot_set]
        return (hot + rest)[:TABLE_ROWS]

    def _hot_rows(self, want: int) -> list[int]:
        """The first ``want`` running, retrying or failed steps in topological order."""
        assert self.model.graph is not None
        hot: list[int] = []
        if not want:
            return hot
        recs = self.model.records
        for i in self.model.graph.order:
            r = recs[i]
            if r is not None and r.status in _ACTIVE:
                hot.append(i)
                if len(hot) >= want:
                    break
        return hot

    def _table_html(self, counts: Mapping[str, int]) -> str:
        graph = self.model.graph
        if graph is None:
            return "<i>no steps</i>"
        body = [self._row_html(i) for i in self._rows(counts)]
        hidden = len(graph) - len(body)
        more = f"<tr><td colspan='6'><i>… {hidden} more steps</i></td></tr>" if hidden > 0 else ""
        return (
            "<table class='codomyrmex-steps'><thead><tr><th>step</th><th>state</th>"
            "<th>attempts</th><th>duration</th><th>result</th><th>error</th></tr></thead>"
            f"<tbody>{''.join(body)}{more}</tbody></table>"
        )

    def _row_html(self, i: int) -> str:
        cached = self._row_cache.get(i)
        if cached is not None and cached[0] is self.model.records[i]:
            return cached[1]
        html = self._render_row(i)
        rec = self.model.records[i]
        if rec is not None and rec.status in TERMINAL_STATES:
            self._row_cache[i] = (rec, html)  # a finished step's row never changes
        return html

    def _render_row(self, i: int) -> str:
        assert self.model.graph is not None
        name, rec = self.model.graph.names[i], self.model.records[i]
        state = "pending" if rec is None else rec.status
        attempts = 0 if rec is None else rec.attempts
        duration = "" if rec is None else format_duration(rec.duration)
        result = preview(rec.result) if rec is not None and state == "succeeded" else ""
        error = (rec.error or rec.reason or "") if rec is not None else ""
        return (
            f"<tr><td>{escape(name)}</td><td style='color:{status_color(state)};font-weight:600'>"
            f"{escape(state)}</td><td>{attempts}</td><td>{duration}</td>"
            f"<td><code>{escape(result)}</code></td><td>{escape(error)}</td></tr>"
        )

    def _refresh_errors(self, n_failed: int) -> None:
        graph = self.model.graph
        # A failed step stays failed: the same number means the same steps.
        if graph is None or n_failed == len(self._failed):
            return
        recs = self.model.records
        failed = tuple(
            n for n, r in zip(graph.names, recs, strict=True) if r is not None and r.status == "failed"
        )
        if failed == self._failed:
            return
        self._failed = failed
        children, titles = [], []
        for name in failed:
            rec = recs[graph.index[name]]
            assert rec is not None
            text = rec.traceback or rec.error or "failed"
            children.append(widgets.HTML(f"<pre style='white-space:pre-wrap'>{escape(text)}</pre>"))
            titles.append(f"{name}: {rec.error or 'failed'}")
        self.errors.children = children
        self.errors.titles = tuple(titles)

    def draw_timeline(self) -> None:
        """Draw the Gantt chart of the run into the timeline area (PNG)."""
        from ..display.plots import plot_gantt, theme_neutral

        recs = [r for r in self.model.records if r is not None]
        title = str(self.model.doc.get("workflow") or "")
        fig = theme_neutral(plot_gantt(recs, title=title))
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=72, transparent=True)
        self.timeline_button.layout.display = "none"
        png = base64.b64encode(buf.getvalue()).decode("ascii")
        self.timeline.outputs = (
            {
                "output_type": "display_data",
                "data": {"image/png": png, "text/plain": f"<timeline of {title}>"},
                "metadata": {},
            },
        )

    # -- static twin ----------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        """The current DAG document (a copy)."""
        with self._draw_lock:
            doc = self.model.update()
            return {**doc, "nodes": [dict(n) for n in doc["nodes"]], "counts": dict(doc["counts"])}

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        doc = self.document()
        return widget_bundle(self, document_bundle(doc, svg=dag_svg(doc)), **kwargs)


class RunView(TwinDisplay, widgets.VBox):  # type: ignore[misc]
    """One run: its live DAG, its panel and a Cancel button.

    Parameters
    ----------
    model:
        The run's live document.
    manager:
        Used by Cancel (``manager.cancel_execution(run_id)``).
    handle:
        A background run's handle; Cancel calls ``handle.cancel()``.
    max_rate:
        Upper bound on redraws per second while the run goes on.
    """

    def __init__(
        self,
        model: LiveDocument,
        *,
        manager: WorkflowManager | None = None,
        handle: RunHandle | None = None,
        max_rate: float = 4.0,
        **kwargs: Any,
    ) -> None:
        # Set by the magics: replace the live outputs by the static twin at the end.
        self.settle = False
        self.dag = DagView(model=model, max_rate=max_rate, draw=False)
        # The status line above names the workflow, run and state: once is enough.
        self.dag.header.layout.display = "none"
        self.panel = RunPanel(model, max_rate=max_rate, draw=False)
        self.cancel_button = widgets.Button(description="Cancel", icon="stop", button_style="warning")
        self.cancel_button.on_click(self._on_cancel)
        self.status = widgets.HTML()
        top = widgets.HBox([self.status, self.cancel_button])
        super().__init__(children=[top, self.dag, self.panel], **kwargs)
        self.manager = manager
        self.handle = handle
        self.max_rate = max_rate
        self._listener: LiveListener | None = None
        self.refresh()

    # -- construction ----------------------------------------------------------------------
    @classmethod
    def for_workflow(cls, manager: WorkflowManager, name: str, **kwargs: Any) -> RunView:
        """A view for a run of ``name`` about to start: pass ``view.listener`` to the run."""
        doc = LiveDocument(manager.get_graph(name), workflow=name, steps=manager.get_workflow(name))
        return cls(doc, manager=manager, **kwargs)

    @classmethod
    def for_execution(
        cls, execution: WorkflowExecution, manager: WorkflowManager | None = None, **kwargs: Any
    ) -> RunView:
        """A view of an execution; a live one is followed until it ends."""
        view = cls(model_for_execution(execution), manager=manager, **kwargs)
        run = execution._run
        if run is not None and not run.done:
            view.listener.watch(run)
        else:
            view.finish()
        return view

    @classmethod
    def start(
        cls,
        manager: WorkflowManager,
        name: str,
        parameters: dict[str, Any] | None = None,
        timeout: int | None = None,
        *,
        background: bool = False,
        **kwargs: Any,
    ) -> RunView:
        """Run workflow ``name`` watched by a new view (background: return at once)."""
        view = cls.for_workflow(manager, name)
        listeners = [*kwargs.pop("listeners", ()), view.listener]
        if background:
            view.handle = manager.start_workflow(name, parameters, timeout, listeners=listeners, **kwargs)
        else:
            manager.run_workflow(name, parameters, timeout, listeners=listeners, **kwargs)
        return view

    @property
    def listener(self) -> LiveListener:
        """The run listener that keeps the whole view live."""
        if self._listener is None:
            self._listener = LiveListener([self], self.max_rate)
        return self._listener

    # -- renderer protocol --------------------------------------------------------------------
    def bind_run(self, run: Run) -> None:
        """Show ``run`` in the DAG and the panel (one shared document)."""
        if self.dag.model.run is run:
            return
        model = model_for_run(run, self.dag.model)
        new_graph = model is not self.dag.model
        if new_graph:
            self.dag.set_model(model, draw=False)
        with self.panel._draw_lock:
            self.panel.model = model
            self.panel._forget_run()
        if new_graph:  # the same graph keeps its drawing until the first timed redraw
            self.refresh()

    def refresh(self) -> None:
        """Redraw the DAG, the panel and the status line (one document update for all)."""
        doc = self.dag.model.update(stamps=False)
        self.dag.paint(doc)
        self.panel.paint(doc)
        status = doc.get("status") or "pending"
        run_id = str(doc.get("run_id") or "")[:8]
        self.status.value = (
            f"<b>{escape(str(doc.get('workflow') or ''))}</b> {escape(run_id)} "
            f"<span style='color:{status_color(status)};font-weight:600'>{escape(status)}</span>"
        )
        self.cancel_button.disabled = status in ("completed", "failed", "cancelled")

    def finish(self) -> None:
        """The run ended: display update; the timeline is drawn just after.

        Called after the final :meth:`refresh`, so it does not redraw. With
        ``settle`` set, the view's outputs become its static twin: the live
        widget has done its job, and the final DAG then renders the same in
        a live session, a saved notebook without a kernel, and nbconvert.
        Its widgets are then closed (see :meth:`close_widgets`).
        """
        if self.settle:
            self.update_displays(static=True)
            self.close_widgets()
            return
        self.update_displays()
        self.panel.schedule_timeline()

    def close_widgets(self) -> int:
        """Close every widget of this view (kernel and browser side); return how many.

        The view is not drawn again: its outputs must already show the static
        twin. The run no longer reaches the view through its listener, so a
        finished run kept in the manager's recent executions keeps no widget
        alive either.
        """
        if self._listener is not None:
            self._listener.renderers = []
        self.handle = None
        return close_tree(self)

    def _on_cancel(self, _button: Any = None) -> None:
        self.cancel()

    def cancel(self) -> bool:
        """Cancel the run shown; True if a cancellation was requested."""
        run_id = self.dag.model.doc.get("run_id")
        if self.handle is not None:
            asked = self.handle.cancel()
        elif self.manager is not None and run_id:
            asked = self.manager.cancel_execution(str(run_id))
        elif self.dag.model.run is not None:
            self.dag.model.run.cancel()
            asked = True
        else:
            asked = False
        if asked:
            self.cancel_button.disabled = True
            self.cancel_button.description = "Cancelling…"
        return asked

    # -- static twin --------------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        """The current DAG document (a copy)."""
        return self.dag.document()

    def plot(self, kind: str = "dag") -> Any:
        """A matplotlib figure: ``"dag"`` or ``"gantt"``."""
        from ..display.plots import plot_dag, plot_gantt

        if kind == "gantt":
            return plot_gantt([r for r in self.dag.model.records if r is not None])
        return plot_dag(self.document())

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        doc = self.document()
        return widget_bundle(self, document_bundle(doc, svg=self.dag.static_svg(doc)), **kwargs)

