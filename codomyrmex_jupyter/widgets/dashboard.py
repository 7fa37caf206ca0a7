"""The dashboard: runs, workflows, resources and sessions of one kernel.

A custom widget drawn by the lab extension's dashboard component: a runs
table (status colours, start, duration, first error; a click opens that
run's view below it, live while it runs, with Cancel), the workflows (a
click shows the graph), the resource gauges and the sessions. It follows the
engine's run events and the resource manager's changes, coalesced to a few
refreshes per second, and re-sends its output now and then, so a saved
notebook shows the dashboard as it last was (with the run that was open).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..display.dag_json import dag_document
from ..display.dashboard_doc import (
    resource_rows,
    run_rows,
    session_rows,
    workflow_rows,
)
from ..engine.events import run_events
from .coalesce import Coalescer
from .frontend import DashboardDocWidget
from .gauges import resource_names
from .run_view import RunView

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution

__all__ = ["RECENT_RUNS", "TAB_TITLES", "Dashboard", "dashboard"]

log = logging.getLogger(__name__)

TAB_TITLES = ("Runs", "Workflows", "Resources", "Sessions")
RECENT_RUNS = 50


class Dashboard(DashboardDocWidget):
    """Runs, workflows, resources and sessions of one manager/engine.

    Parameters
    ----------
    manager:
        The workflow manager to show.
    engine:
        An ``OrchestrationEngine`` for the sessions (optional).
    resources:
        A ``ResourceManager`` for the gauges (optional).
    max_rate:
        Upper bound on automatic refreshes per second.
    """

    def __init__(
        self,
        manager: WorkflowManager,
        *,
        engine: Any = None,
        resources: Any = None,
        max_rate: float = 2.0,
        **kwargs: Any,
    ) -> None:
        self.manager, self.engine, self.resources = manager, engine, resources
        self._lock = threading.RLock()
        self.run_view: RunView | None = None
        self.selected_workflow: str | None = None
        self._sections: dict[str, Any] = {"runs": [], "workflows": [], "resources": [], "sessions": []}
        super().__init__(**kwargs)
        self._coalescer = Coalescer(self.refresh_live, max_rate)
        self._unsubscribe: list[Callable[[], Any]] = [run_events.subscribe(self._coalescer.mark)]
        subscribe = getattr(resources, "subscribe", None)
        if callable(subscribe):
            self._unsubscribe.append(subscribe(self._coalescer.mark))
        self.refresh()

    # -- reading ------------------------------------------------------------------------------
    def runs(self) -> list[WorkflowExecution]:
        """Active runs first, then recent recorded ones (newest first)."""
        active = self.manager.active_runs()
        seen = {e.execution_id for e in active}
        recent = [e for e in self.manager.history(limit=RECENT_RUNS) if e.execution_id not in seen]
        return [*active, *recent][:RECENT_RUNS]

    def refresh(self) -> None:
        """Re-read everything and redraw."""
        with self._lock:
            self._sections["workflows"] = workflow_rows(self.manager.list_workflows())
            self._sections["sessions"] = self._session_rows()
        self.refresh_live()

    def refresh_live(self) -> None:
        """Re-read what moves (runs, resources) and redraw (any thread)."""
        with self._lock:
            self._sections["runs"] = run_rows(self.runs())
            self._sections["resources"] = self._resource_rows()
            self.doc = self.current_document(live=False)
        self.update_displays_soon()

    def _session_rows(self) -> list[dict[str, Any]]:
        if self.engine is None:
            return []
        return session_rows(self.engine.list_sessions())

    def _resource_rows(self) -> list[dict[str, Any]]:
        if self.resources is None:
            return []
        snap = dict(self.resources.snapshot())
        return resource_rows(snap, resource_names(self.resources, snap))

    # -- selections -----------------------------------------------------------------------------
    def on_event(self, event: str, content: Mapping[str, Any]) -> None:
        """Clicks in the browser: open a run or a workflow, refresh."""
        close = bool(content.get("close"))
        if event == "select_run":
            self.show_run(None if close else str(content.get("run_id") or "") or None)
        elif event == "select_workflow":
            self.show_workflow(None if close else str(content.get("name") or "") or None)
        elif event == "refresh":
            self.refresh()

    def show_run(self, run_id: str | None) -> RunView | None:
        """Open run ``run_id`` under the runs table (None closes it); a live run stays live."""
        old, view = self.run_view, None
        ex = self.manager.get_execution(run_id) if run_id else None
        if ex is not None:
            view = RunView.for_execution(ex, manager=self.manager)
        with self._lock:
            self.run_view = view
            self.doc = self.current_document(live=False)
        if old is not None:
            old.listener.close()
            old.close()
        self.update_displays()
        return view

    def show_workflow(self, name: str | None) -> None:
        """Show the graph of workflow ``name`` under the workflows table (None closes it)."""
        with self._lock:
            self.selected_workflow = name
            self.doc = self.current_document(live=False)
        self.update_displays()

    # -- documents ------------------------------------------------------------------------------
    def current_document(self, *, live: bool) -> dict[str, Any]:
        """The dashboard document now."""
        doc: dict[str, Any] = {
            "version": 1, "kind": "dashboard", "title": "codomyrmex dashboard",
            "updated": datetime.now(timezone.utc).isoformat(), "tab": "runs",
            **{k: list(v) for k, v in self._sections.items()},
            "selected": None, "workflow": None,
        }
        view = self.run_view
        if view is not None:
            run_doc = view.current_document(live=True)
            doc["selected"] = {"run_id": run_doc.get("run_id"), "doc": run_doc}
        if self.selected_workflow is not None:
            try:
                graph = self.manager.get_graph(self.selected_workflow)
            except KeyError:
                self.selected_workflow = None
            else:
                steps = self.manager.get_workflow(self.selected_workflow)
                # the document alone: its HTML twin and SVG would be built only to be dropped
                graph_doc = dag_document(graph, workflow=self.selected_workflow, steps=steps)
                doc["workflow"] = {"name": self.selected_workflow, "doc": graph_doc}
                doc["tab"] = "workflows"
        return self.with_live(doc, live=live)

    # -- lifecycle ------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop live refreshes and close the widget (and the open run's)."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._coalescer.close()
        if self.run_view is not None:
            self.run_view.listener.close()
            self.run_view.close()
        super().close()


def _default_engine(manager: WorkflowManager | None) -> Any:
    """The process-wide engine when it serves ``manager`` (or no manager is given), else None."""
    from ..api import accessors

    if manager is not None and accessors.current_workflow_manager() is not manager:
        return None  # the process-wide engine's sessions belong to another manager
    try:
        return accessors.get_orchestration_engine()
    except ImportError:  # sessions are an optional part of the API
        log.warning("sessions are unavailable: codomyrmex_jupyter.api.sessions cannot be imported")
        return None


def dashboard(manager: WorkflowManager | None = None, engine: Any = None, resources: Any = None) -> Dashboard:
    """The orchestration dashboard (``%orchestrate dashboard``).

    Parameters
    ----------
    manager:
        The workflow manager to show; the engine's, else the process-wide one.
    engine:
        An ``OrchestrationEngine`` (sessions, and resources when ``resources``
        is omitted); the process-wide one when it serves ``manager``.
    resources:
        A ``ResourceManager`` for the gauges; the engine's by default.
    """
    if engine is None:
        engine = _default_engine(manager)
    if manager is None:
        if engine is not None:
            manager = engine.workflow_manager
        else:
            from ..api.accessors import get_workflow_manager

            manager = get_workflow_manager()
    if resources is None:
        resources = getattr(engine, "resource_manager", None)
    return Dashboard(manager, engine=engine, resources=resources)
