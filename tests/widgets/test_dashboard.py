"""Dashboard: tabs, workflow DAGs, runs with their view, resources, sessions."""

from __future__ import annotations

import importlib.util

import pytest
from waiting import wait_until

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.engine.state import STATE_COLORS
from codomyrmex_jupyter.widgets.dashboard import TAB_TITLES, Dashboard, dashboard
from codomyrmex_jupyter.widgets.run_panel import RunView


def _define(manager: WorkflowManager) -> None:
    steps = [WorkflowStep("a", "notebook.d", "a"), WorkflowStep("b", "notebook.d", "b", dependencies=["a"])]
    assert manager.create_workflow("d", steps, callables={"a": lambda: 1, "b": lambda a: a + 1})


def test_tabs_and_workflows(manager: WorkflowManager) -> None:
    _define(manager)
    board = Dashboard(manager)
    try:
        assert board.tabs.titles == TAB_TITLES
        assert board.workflow_select.options == ("d",)
        assert "<td>d</td>" in board.workflow_table.value
        board.workflow_select.value = "d"
        assert board.workflow_dag.value.count('class="node"') == 2
        assert "no orchestration engine" in board.sessions.value
    finally:
        board.close()


def test_runs_tab_shows_the_selected_run(manager: WorkflowManager) -> None:
    _define(manager)
    board = Dashboard(manager)
    try:
        ex = manager.run_workflow("d")
        wait_until(lambda: len(board.run_select.options) == 1)  # followed through run events
        label, run_id = board.run_select.options[0]
        assert run_id == ex.execution_id and "completed" in label
        board.run_select.value = run_id
        view = board.run_view
        assert isinstance(view, RunView) and board.run_box.children == (view,)
        assert view.cancel_button.disabled
        assert f'fill="{STATE_COLORS["succeeded"]}"' in view.dag.canvas.value
        bundle = board._repr_mimebundle_()
        assert ex.execution_id[:8] in bundle["text/plain"] and "<table" in bundle["text/html"]
        board.refresh_button.click()
        assert board.run_select.value == run_id  # the selection survives a refresh
    finally:
        board.close()


def test_dashboard_function_with_an_engine(manager: WorkflowManager) -> None:
    if importlib.util.find_spec("codomyrmex_jupyter.api.sessions") is None:
        pytest.skip("codomyrmex_jupyter.api.sessions is not available")
    from codomyrmex_jupyter.api.resources import Resource, ResourceManager, ResourceType
    from codomyrmex_jupyter.api.sessions import OrchestrationEngine

    resources = ResourceManager(store=manager.store)
    resources.add_resource(Resource("gpu", "GPU", ResourceType.GPU, 2.0))
    engine = OrchestrationEngine(workflow_manager=manager, resource_manager=resources)
    engine.create_session("analysis")
    board = dashboard(engine=engine)
    try:
        assert board.manager is manager
        assert "analysis" in board.sessions.value
        assert board.gauges is not None and list(board.gauges.gauges) == ["gpu"]
    finally:
        board.close()


def test_dashboard_function_defaults_to_the_process_wide_manager() -> None:
    from codomyrmex_jupyter import dashboard as exported

    board = exported()
    try:
        assert isinstance(board, Dashboard)
        assert board.tabs.titles == TAB_TITLES
    finally:
        board.close()
