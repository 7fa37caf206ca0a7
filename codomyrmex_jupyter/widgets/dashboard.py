"""The dashboard: workflows, runs, resources and sessions in tabs.

Selecting a workflow shows its DAG; selecting a run shows its
:class:`~.run_panel.RunView` (live, with a Cancel button, while it runs). The
run list follows the engine's process-wide run events, coalesced to a few
refreshes per second; the Refresh button re-reads everything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from ..display.bundles import dag_display
from ..display.tables import HistoryTable, RecordTable, WorkflowTable
from ..engine.events import run_events
from .coalesce import Coalescer, TwinDisplay
from .dag_view import widget_bundle
from .gauges import ResourceGauges
from .run_panel import RunView

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution

__all__ = ["TAB_TITLES", "Dashboard", "dashboard"]

log = logging.getLogger(__name__)

TAB_TITLES = ("Workflows", "Runs", "Resources", "Sessions")
RECENT_RUNS = 50


def _run_label(ex: WorkflowExecution) -> str:
    started = ex.start_time.strftime("%H:%M:%S") if ex.start_time else ""
    return f"{ex.workflow_name} · {ex.execution_id[:8]} · {ex.status.value} {started}".rstrip()


class Dashboard(TwinDisplay, widgets.VBox):  # type: ignore[misc]
    """Tabs of workflows, runs, resources and sessions of one manager/engine.

    Parameters
    ----------
    manager:
        The workflow manager to show.
    engine:
        An ``OrchestrationEngine`` for sessions (optional).
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
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.workflow_table = widgets.HTML()
        self.workflow_select = widgets.Dropdown(description="workflow", options=[], value=None)
        self.workflow_dag = widgets.HTML()
        self.run_select = widgets.Select(description="runs", options=[], value=None, rows=8)
        self.run_box = widgets.VBox()
        self.gauges: ResourceGauges | None = None
        self.sessions = widgets.HTML()
        self.run_view: RunView | None = None
        self.tabs = widgets.Tab(children=self._tab_children())
        self.tabs.titles = TAB_TITLES
        super().__init__(children=[self.refresh_button, self.tabs], **kwargs)
        self._lock = threading.RLock()
        self.workflow_select.observe(self._on_workflow, names="value")
        self.run_select.observe(self._on_run, names="value")
        self._coalescer = Coalescer(self.refresh_runs, max_rate)
        self._unsubscribe: Callable[[], None] | None = run_events.subscribe(self._coalescer.mark)
        self.refresh()

    def _tab_children(self) -> list[widgets.Widget]:
        resources: widgets.Widget
        if self.resources is not None:
            self.gauges = ResourceGauges(self.resources)
            resources = self.gauges
        else:
            resources = widgets.HTML("<i>no resource manager</i>")
        return [
            widgets.VBox([self.workflow_table, self.workflow_select, self.workflow_dag]),
            widgets.VBox([self.run_select, self.run_box]),
            resources,
            self.sessions,
        ]

    # -- refresh -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read workflows, runs, resources and sessions."""
        self.refresh_workflows()
        self.refresh_runs()
        if self.gauges is not None:
            self.gauges.refresh()
        self.refresh_sessions()

    def refresh_workflows(self) -> None:
        """Re-read the workflow list."""
        workflows = self.manager.list_workflows()
        with self._lock, self.hold_sync():
            self.workflow_table.value = WorkflowTable(workflows).to_html()
            keep = self.workflow_select.value
            self.workflow_select.options = list(workflows)
            self.workflow_select.value = keep if keep in workflows else None

    def runs(self) -> list[WorkflowExecution]:
        """Active runs first, then recent recorded ones (newest first)."""
        active = self.manager.active_runs()
        seen = {e.execution_id for e in active}
        recent = [e for e in self.manager.history(limit=RECENT_RUNS) if e.execution_id not in seen]
        return [*active, *recent]

    def refresh_runs(self) -> None:
        """Re-read the run list (keeps the selection)."""
        runs = self.runs()
        with self._lock, self.hold_sync():
            keep = self.run_select.value
            options = [(_run_label(e), e.execution_id) for e in runs]
            self.run_select.options = options
            ids = [v for _, v in options]
            self.run_select.value = keep if keep in ids else None

    def refresh_sessions(self) -> None:
        """Re-read the sessions of the engine."""
        if self.engine is None:
            self.sessions.value = "<i>no orchestration engine</i>"
            return
        rows = [
            {"session_id": s.session_id, "name": s.name, "status": s.status, "created_at": s.created_at}
            for s in self.engine.list_sessions()
        ]
        columns = ["session_id", "name", "status", "created_at"]
        self.sessions.value = RecordTable(rows, columns, "Sessions").to_html()

    # -- selections -----------------------------------------------------------------------
    def _on_workflow(self, change: Mapping[str, Any]) -> None:
        name = change.get("new")
        self.workflow_dag.value = dag_display(self.manager, name).svg() if name else ""

    def _on_run(self, change: Mapping[str, Any]) -> None:
        self.show_run(change.get("new"))

    def show_run(self, run_id: str | None) -> RunView | None:
        """Show the run ``run_id`` (its DAG and panel) in the Runs tab."""
        old, self.run_view = self.run_view, None
        if old is not None:
            old.listener.close()
        ex = self.manager.get_execution(run_id) if run_id else None
        if ex is None:
            self.run_box.children = []
            return None
        self.run_view = RunView.for_execution(ex, manager=self.manager)
        self.run_box.children = [self.run_view]
        return self.run_view

    # -- lifecycle --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop live refreshes and close the widgets."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._coalescer.close()
        if self.run_view is not None:
            self.run_view.listener.close()
        if self.gauges is not None:
            self.gauges.close()
        super().close()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        runs = HistoryTable(self.runs()[:RECENT_RUNS], title="Recent runs")
        workflows = WorkflowTable(self.manager.list_workflows())
        twin = {
            "text/plain": f"{workflows.to_text()}\n\n{runs.to_text()}",
            "text/html": workflows.to_html() + runs.to_html(),
        }
        return widget_bundle(self, twin, **kwargs)


def _default_engine(manager: WorkflowManager | None) -> Any:
    try:
        from ..api.accessors import get_orchestration_engine
    except ImportError:  # sessions are an optional part of the API
        log.warning("sessions are unavailable: codomyrmex_jupyter.api.sessions cannot be imported")
        return None
    engine = get_orchestration_engine()
    if manager is not None and engine.workflow_manager is not manager:
        return None  # the engine's sessions belong to another manager
    return engine


def dashboard(manager: WorkflowManager | None = None, engine: Any = None) -> Dashboard:
    """The orchestration dashboard (``%orchestrate dashboard``).

    Parameters
    ----------
    manager:
        The workflow manager to show; the engine's, else the process-wide one.
    engine:
        An ``OrchestrationEngine`` (sessions and resources); the process-wide
        one when ``manager`` is omitted too.
    """
    if engine is None and manager is None:
        engine = _default_engine(None)
    if manager is None:
        if engine is not None:
            manager = engine.workflow_manager
        else:
            from ..api.accessors import get_workflow_manager

            manager = get_workflow_manager()
    resources = getattr(engine, "resource_manager", None)
    return Dashboard(manager, engine=engine, resources=resources)
