"""RunView and DagView: a run (or a workflow) drawn by the lab extension, live.

The view model is a :class:`~codomyrmex_jupyter.display.dag_json.LiveDocument`,
the run document a saved output carries too. The browser draws it with the
lab extension's run view (graph, legend, step table, timeline, failure
cards, the selected step's result); while the run goes on, each refresh
sends the steps that changed since the last one (a patch), at most
``max_rate`` times per second. When the run ends the widget's outputs are
re-sent with the final document, which renders into the same element.

:class:`RunView` is what ``%orchestrate run`` shows (with Cancel); with
``settle`` set, its outputs become the final document alone and the widget
closes, so the notebook keeps nothing that needs a kernel.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from traitlets import Unicode

from ..display.bundles import document_bundle
from ..display.dag_json import LiveDocument, graph_for_execution
from ..display.svg import SvgRenderer
from .coalesce import LiveListener
from .frontend import FrontendWidget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..api.run_handle import RunHandle
    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution
    from ..engine.graph import Graph
    from ..engine.runner import Run
    from ..engine.state import StepRecord

__all__ = ["RUN_KEYS", "DagView", "RunView", "model_for_execution", "model_for_run"]

log = logging.getLogger(__name__)

RUN_KEYS = ("kind", "run_id", "status", "counts", "parameters", "started", "ended", "duration", "errors")
_ACTIVE = ("pending", "running")


def model_for_run(run: Run, previous: LiveDocument | None = None) -> LiveDocument:
    """The live document of a run; ``previous`` is reused when it shows the same graph."""
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
    if execution._run is not None:
        execution.sync_from_run()
    return LiveDocument(
        graph_for_execution(execution), workflow=execution.workflow_name,
        execution=execution, run_id=execution.execution_id,
    )


def _node_key(node: Mapping[str, Any]) -> tuple[Any, ...]:
    return (node["state"], node["duration"], node["attempts"], node["error"], node["offset"])


class DagView(FrontendWidget):
    """The DAG of a workflow or run, drawn by the lab extension, following a run live.

    Parameters
    ----------
    graph, workflow, steps, records:
        What to draw (see :class:`~codomyrmex_jupyter.display.dag_json.LiveDocument`);
        or give ``model``.
    model:
        A live document to show.
    max_rate:
        Upper bound on refreshes per second while a run goes on.
    """

    _model_name = Unicode("RunDocModel").tag(sync=True)
    _view_name = Unicode("RunDocWidgetView").tag(sync=True)
    cancellable = False

    def __init__(
        self,
        graph: Graph | None = None,
        *,
        workflow: str = "",
        steps: Sequence[Any] | None = None,
        records: Sequence[StepRecord] | Mapping[str, StepRecord] | None = None,
        model: LiveDocument | None = None,
        max_rate: float = 4.0,
        **kwargs: Any,
    ) -> None:
        self._lock = threading.RLock()
        self.model = model or LiveDocument(graph, workflow=workflow, steps=steps, records=records)
        self.max_rate = max_rate
        self._listener: LiveListener | None = None
        self._keys: list[tuple[Any, ...] | None] = []
        self._renderer: SvgRenderer | None = None
        super().__init__(**kwargs)
        self._reset()

    # -- construction -------------------------------------------------------------------
    @classmethod
    def for_workflow(cls, workflows: WorkflowManager, name: str, **kwargs: Any) -> Any:
        """The view of a defined workflow (every step pending) or of its next run."""
        model = LiveDocument(workflows.get_graph(name), workflow=name, steps=workflows.get_workflow(name))
        return cls(model=model, **kwargs)

    @classmethod
    def for_execution(cls, execution: WorkflowExecution, **kwargs: Any) -> Any:
        """The view of a run (live or recorded); a live one is followed until it ends."""
        view = cls(model=model_for_execution(execution), **kwargs)
        run = execution._run
        if run is not None and not run.done:
            view.listener.watch(run)
        else:
            view.finish()
        return view

    @classmethod
    def for_run(cls, run: Run, **kwargs: Any) -> Any:
        """The view of an engine run (pass ``view.listener`` to it, or call ``attach``)."""
        return cls(model=model_for_run(run), **kwargs)

    # -- live updates (the LiveListener's renderer protocol) -------------------------------
    @property
    def listener(self) -> LiveListener:
        """The run listener that keeps this view live (pass it in ``listeners=``)."""
        if self._listener is None:
            self._listener = LiveListener([self], self.max_rate)
        return self._listener

    def attach(self, run: Run) -> LiveListener:
        """Follow ``run``: before it starts, during it, or after it ended."""
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
        """Show ``run``'s live records (the drawing is kept when the graph is the same)."""
        with self._lock:
            if self.model.run is run:
                return
            model = model_for_run(run, self.model)
            if model is not self.model:
                self.model = model
                self._renderer = None
                self._reset()  # another graph: the browser needs the whole document
            # Same graph: the browser has its nodes; the next refresh sends those
            # whose state differs from what it shows (all pending for a new view).

    def refresh(self) -> None:
        """Send the steps that changed since the last refresh (thread-safe)."""
        with self._lock:
            doc = self.model.update(stamps=False)
            keys, changed = self._keys, []
            for i, node in enumerate(doc["nodes"]):
                key = _node_key(node)
                if key != keys[i]:
                    keys[i] = key
                    changed.append([i, node])
            run = {k: doc[k] for k in RUN_KEYS}
            live = self.live_reference(cancellable=self._can_cancel(doc))
            if live:
                run["live"] = live
            self.send_patch({"run": run, "nodes": changed})
        if doc["status"] in _ACTIVE:
            self.update_displays_soon()

    def finish(self) -> None:
        """The run ended: every output gets the final document.

        The widget itself already has the final states (the last refresh sent
        them); a browser that connects later asks for the whole document.
        """
        self._stop_display_updates()
        self.update_displays()

    def _reset(self) -> None:
        """Send the whole document (a new view, or another graph)."""
        with self._lock:
            self.doc = self.current_document(live=True)
            self._keys = [_node_key(n) for n in self.doc["nodes"]]

    def _can_cancel(self, doc: Mapping[str, Any]) -> bool:
        return self.cancellable and doc.get("kind") == "run" and doc.get("status") in _ACTIVE

    # -- documents ------------------------------------------------------------------------
    def current_document(self, *, live: bool) -> dict[str, Any]:
        """The run document now (a copy); ``live`` adds the widget reference."""
        with self._lock:
            doc = self.model.update()
            out = {**doc, "nodes": [dict(n) for n in doc["nodes"]], "counts": dict(doc["counts"])}
        if live:
            ref = self.live_reference(cancellable=self._can_cancel(out))
            if ref:
                out["live"] = ref
        return out

    def document(self) -> dict[str, Any]:
        """The current run document (a copy, without the widget reference)."""
        return self.current_document(live=False)

    def twin(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The output bundle: the run document, its HTML twin and a text summary."""
        with self._lock:
            if self._renderer is None:
                self._renderer = SvgRenderer(doc, frame=False)
            svg = self._renderer.render(doc)
        return document_bundle(doc, svg=svg)

    def plot(self, kind: str = "dag", **kwargs: Any) -> Figure:
        """A matplotlib figure of the run: ``"dag"`` or ``"gantt"``."""
        from ..display.plots import plot_dag, plot_gantt

        if kind == "gantt":
            return plot_gantt([r for r in self.model.records if r is not None], **kwargs)
        return plot_dag(self.document(), **kwargs)


class RunView(DagView):
    """One run: its live view with a Cancel button; what ``%orchestrate run`` displays.

    Parameters
    ----------
    model:
        The run's live document.
    manager:
        Used by Cancel (``manager.cancel_execution(run_id)``).
    handle:
        A background run's handle; Cancel calls ``handle.cancel()``.
    max_rate:
        Upper bound on refreshes per second while the run goes on.
    """

    cancellable = True

    def __init__(
        self,
        model: LiveDocument | None = None,
        *,
        manager: WorkflowManager | None = None,
        handle: RunHandle | None = None,
        max_rate: float = 4.0,
        **kwargs: Any,
    ) -> None:
        # Set by the magics: the outputs become the final document alone, and the widget closes.
        self.settle = False
        self.manager = manager
        self.handle = handle
        super().__init__(model=model, max_rate=max_rate, **kwargs)

    @classmethod
    def for_execution(
        cls, execution: WorkflowExecution, manager: WorkflowManager | None = None, **kwargs: Any
    ) -> RunView:
        """The view of an execution; a live one is followed until it ends."""
        view: RunView = super().for_execution(execution, manager=manager, **kwargs)
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
        view: RunView = cls.for_workflow(manager, name, manager=manager)
        listeners = [*kwargs.pop("listeners", ()), view.listener]
        if background:
            view.handle = manager.start_workflow(name, parameters, timeout, listeners=listeners, **kwargs)
        else:
            manager.run_workflow(name, parameters, timeout, listeners=listeners, **kwargs)
        return view

    def finish(self) -> None:
        """The run ended: final document everywhere; a settled view then closes."""
        if not self.settle:
            super().finish()
            return
        self._stop_display_updates()
        self.update_displays(static=True)
        self.close()

    def on_event(self, event: str, content: Mapping[str, Any]) -> None:
        """Cancel from the browser."""
        if event == "cancel":
            self.cancel()

    def cancel(self) -> bool:
        """Cancel the run shown; True if a cancellation was requested."""
        run_id = self.model.doc.get("run_id")
        if self.handle is not None:
            return self.handle.cancel()
        if self.manager is not None and run_id:
            return self.manager.cancel_execution(str(run_id))
        if self.model.run is not None:
            self.model.run.cancel()
            return True
        return False
