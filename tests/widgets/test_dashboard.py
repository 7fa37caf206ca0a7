"""Dashboard: tabs, workflow DAGs, runs with their view, resources, sessions."""

from __future__ import annotations

import importlib.util

import pytest
from waiting import wait_until

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.display.dashboard_doc import DASHBOARD_MIME_TYPE
from codomyrmex_jupyter.engine.state import STATE_COLORS
from codomyrmex_jupyter.widgets.dashboard import TAB_TITLES, Dashboard, dashboard
from codomyrmex_jupyter.widgets.run_view import RunView


def _define(manager: WorkflowManager) -> None:
    steps = [WorkflowStep("a", "notebook.d", "a"), WorkflowStep("b", "notebook.d", "b", dependencies=["a"])]
    assert manager.create_workflow("d", steps, callables={"a": lambda: 1, "b": lambda a: a + 1})


def test_workflows_and_a_workflows_graph(manager: WorkflowManager) -> None:
    _define(manager)
    board = Dashboard(manager)
    try:
        state = board.get_state()
        assert (state["_model_name"], state["_view_name"]) == ("DashboardModel", "DashboardWidgetView")
        assert [w["name"] for w in board.doc["workflows"]] == ["d"]
        assert board.doc["sessions"] == [] and board.doc["resources"] == []
        board.on_event("select_workflow", {"name": "d"})
        assert board.doc["tab"] == "workflows"
        graph = board.doc["workflow"]["doc"]
        assert graph["kind"] == "workflow" and [n["id"] for n in graph["nodes"]] == ["a", "b"]
        board.on_event("select_workflow", {"name": "d", "close": True})
        assert board.doc["workflow"] is None
    finally:
        board.close()


def test_a_click_on_a_run_opens_its_view(manager: WorkflowManager) -> None:
    _define(manager)
    board = Dashboard(manager)
    try:
        ex = manager.run_workflow("d")
        wait_until(lambda: len(board.doc["runs"]) == 1)  # followed through run events
        row = board.doc["runs"][0]
        assert (row["run_id"], row["status"], row["counts"]) == (ex.execution_id, "completed", {"succeeded": 2})
        assert row["started"] and row["duration"] >= 0
        board._on_frontend_msg(board, {"event": "select_run", "run_id": ex.execution_id}, [])
        view = board.run_view
        assert isinstance(view, RunView)
        selected = board.doc["selected"]
        assert selected["run_id"] == ex.execution_id
        assert {n["id"]: n["state"] for n in selected["doc"]["nodes"]} == {"a": "succeeded", "b": "succeeded"}
        assert selected["doc"]["live"]["model_id"] == view.model_id  # the browser follows it
        bundle = board._repr_mimebundle_()
        assert set(bundle) == {DASHBOARD_MIME_TYPE, "text/html", "text/plain"}
        assert ex.execution_id[:8] in bundle["text/plain"] and ex.execution_id[:8] in bundle["text/html"]
        assert f"background:{STATE_COLORS['succeeded']}" in bundle["text/html"]
        board.on_event("refresh", {})
        assert board.doc["selected"]["run_id"] == ex.execution_id  # the open run survives a refresh
        board.on_event("select_run", {"run_id": ex.execution_id, "close": True})
        assert board.doc["selected"] is None and board.run_view is None
        assert view.comm is None  # the closed run view's widget went with it
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
        assert [s["name"] for s in board.doc["sessions"]] == ["analysis"]
        assert [r["id"] for r in board.doc["resources"]] == ["gpu"]
    finally:
        board.close()


def test_the_magics_dashboard_has_the_kernels_resources_and_sessions() -> None:
    from codomyrmex_jupyter import get_orchestration_engine, get_resource_manager, get_workflow_manager
    from codomyrmex_jupyter.api.resources import Resource, ResourceType
    from codomyrmex_jupyter.magics import commands

    get_resource_manager().add_resource(Resource("gpu", "GPU", ResourceType.GPU, 2.0))
    get_orchestration_engine().create_session("work")
    board = commands.dashboard(manager=get_workflow_manager())
    try:
        assert board.engine is get_orchestration_engine()
        assert board.resources is get_resource_manager()
        assert [r["id"] for r in board.doc["resources"]] == ["gpu"]
        assert [s["name"] for s in board.doc["sessions"]] == ["work"]
    finally:
        board.close()


def test_dashboard_function_defaults_to_the_process_wide_manager() -> None:
    from codomyrmex_jupyter import dashboard as exported

    board = exported()
    try:
        assert isinstance(board, Dashboard)
        assert board.doc["kind"] == "dashboard" and TAB_TITLES == ("Runs", "Workflows", "Resources", "Sessions")
    finally:
        board.close()
