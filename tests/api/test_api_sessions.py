"""OrchestrationEngine and sessions: lifecycle, work in a session, status, health, storage."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from waiting import wait_until

from codomyrmex_jupyter.api.resources import Resource, ResourceStatus, ResourceType
from codomyrmex_jupyter.api.sessions import (
    OrchestrationEngine,
    OrchestrationSession,
    SessionStatus,
)
from codomyrmex_jupyter.api.tasks import Task, TaskStatus
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, WorkflowStep
from codomyrmex_jupyter.engine.store import Store
from codomyrmex_jupyter.errors import SessionError


@pytest.fixture
def engine(registry, tmp_path: Path) -> Iterator[OrchestrationEngine]:
    registry.register("m", "one", lambda: 1)
    registry.register("m", "boom", lambda: 1 / 0)
    wm = WorkflowManager(store=Store(tmp_path / "db"), registry=registry, retry_backoff=0.01)
    eng = OrchestrationEngine(workflow_manager=wm)
    eng.resource_manager.add_resource(Resource("cpu_1", "CPU Core 1", ResourceType.CPU, 100.0))
    wm.create_workflow("ok", [WorkflowStep("a", "m", "one")])
    wm.create_workflow("bad", [WorkflowStep("a", "m", "boom", max_retries=0)])
    yield eng
    eng.shutdown()
    wm.close()


def test_components_share_one_store(tmp_path: Path) -> None:
    eng = OrchestrationEngine(config_dir=tmp_path / "cfg", enable_performance_monitoring=False)
    store = eng.workflow_manager.store
    assert eng.task_orchestrator.store is store
    assert eng.resource_manager.store is store
    assert eng.project_manager.store is store
    assert eng.task_orchestrator.resource_manager is eng.resource_manager
    assert eng.task_orchestrator.registry is eng.workflow_manager.registry
    assert store.path == str(tmp_path / "cfg" / "codomyrmex.sqlite3")
    assert eng.workflow_manager.enable_performance_monitoring is False
    eng.shutdown()
    eng.shutdown()  # idempotent


def test_seed_create_session_example(engine) -> None:
    session = engine.create_session(
        name="My Session",
        description="A test orchestration session",
        metadata={"project": "test_project"},
    )
    assert isinstance(session, OrchestrationSession)
    assert (session.name, session.description, session.metadata, session.status) == (
        "My Session", "A test orchestration session", {"project": "test_project"},
        SessionStatus.ACTIVE,
    )
    assert len(session.session_id) == 36
    assert engine.get_session(session.session_id) is session
    assert engine.get_session("nope") is None


def test_list_update_delete(engine) -> None:
    a = engine.create_session("a")
    b = engine.create_session("b")
    assert engine.update_session(b.session_id, status=SessionStatus.PAUSED, name="b2") is b
    assert engine.update_session(a.session_id, status="completed").status is SessionStatus.COMPLETED
    assert [s.name for s in engine.list_sessions()] == ["a", "b2"]
    assert engine.list_sessions(SessionStatus.PAUSED) == [b]
    assert engine.update_session("nope", name="x") is None
    with pytest.raises(SessionError, match="'created_at' cannot be updated"):
        engine.update_session(a.session_id, created_at=None)
    with pytest.raises(SessionError, match="status must be a SessionStatus"):
        engine.update_session(a.session_id, status="sleeping")
    with pytest.raises(SessionError, match="non-empty name"):
        engine.create_session("  ")
    assert engine.delete_session(a.session_id) is True
    assert engine.delete_session(a.session_id) is False
    assert engine.store.get_doc("session", a.session_id) is None


def test_sessions_persist_for_a_new_engine(engine, registry, tmp_path) -> None:
    s = engine.create_session("kept", metadata={"k": 1})
    engine.execute_workflow_in_session(s.session_id, "ok")
    wm2 = WorkflowManager(store=Store(tmp_path / "db"), registry=registry)
    other = OrchestrationEngine(workflow_manager=wm2)
    try:
        again = other.get_session(s.session_id)
        assert again is not None
        assert again.to_dict() == s.to_dict()
        assert again.runs == s.runs
    finally:
        other.shutdown()
        wm2.close()


def test_execute_workflow_in_session(engine) -> None:
    s = engine.create_session("runs")
    assert engine.execute_workflow_in_session(s.session_id, "ok") is True
    assert engine.execute_workflow_in_session(s.session_id, "bad") is False
    assert s.workflows == ["ok", "bad"]
    recorded = [engine.workflow_manager.get_execution(r) for r in s.runs]
    assert [(e.status, e.session_id) for e in recorded] == [
        (WorkflowStatus.COMPLETED, s.session_id), (WorkflowStatus.FAILED, s.session_id)
    ]
    assert engine.store.get_run(s.runs[0])["session_id"] == s.session_id


def test_execute_refusals_are_false_and_logged(engine, caplog) -> None:
    s = engine.create_session("x")
    with caplog.at_level(logging.WARNING):
        assert engine.execute_workflow_in_session(s.session_id, "missing") is False
        assert engine.execute_workflow_in_session("no-such-session", "ok") is False
    assert "Workflow 'missing' not found" in caplog.text
    assert "no session 'no-such-session'" in caplog.text
    assert s.workflows == []


def test_execute_inside_a_running_event_loop(engine) -> None:
    s = engine.create_session("async")

    async def main() -> bool:
        return engine.execute_workflow_in_session(s.session_id, "ok")

    assert asyncio.run(main()) is True


def test_add_task_to_session(engine) -> None:
    s = engine.create_session("tasks")
    t1 = Task(name="t1", module="m", action="one")
    assert engine.add_task_to_session(s.session_id, t1) is True
    assert engine.add_task_to_session(s.session_id, Task(name="t2", dependencies=["zz"])) is False
    assert engine.add_task_to_session("nope", Task(name="t3")) is False
    assert s.tasks == [t1.id]
    assert engine.task_orchestrator.get_task(t1.id) is t1
    assert t1.metadata["session_id"] == s.session_id


def test_create_project_in_session(engine) -> None:
    s = engine.create_session("projects")
    project = engine.create_project_in_session(s.session_id, "example_project", "Example")
    assert project is not None
    assert (project.name, project.description) == ("example_project", "Example")
    assert s.projects == ["example_project"]
    assert engine.create_project_in_session(s.session_id, "example_project") is None  # exists
    assert engine.create_project_in_session("nope", "other") is None
    assert s.projects == ["example_project"]


def test_allocate_and_cleanup_release_everything(engine) -> None:
    rm = engine.resource_manager
    s = engine.create_session("res")
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", 50.0) is True
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", 20.0) is True
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", 40.0) is False  # 30 left
    assert engine.allocate_resources_for_session(s.session_id, "gpu_0", 1.0) is False
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", -1.0) is False
    assert rm.get_available_capacity("cpu_1") == 30.0
    assert s.resource_allocations == [
        {"resource_id": "cpu_1", "amount": 50.0, "holder": f"session:{s.session_id}"},
        {"resource_id": "cpu_1", "amount": 20.0, "holder": f"session:{s.session_id}"},
    ]
    pending = Task(name="p", module="m", action="one")
    engine.add_task_to_session(s.session_id, pending)
    assert engine.cleanup_session(s.session_id) is True
    assert rm.get_available_capacity("cpu_1") == 100.0
    assert (s.status, s.resource_allocations, pending.status) == (
        SessionStatus.CLOSED, [], TaskStatus.CANCELLED
    )
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", 1.0) is False  # closed
    assert engine.cleanup_session("nope") is False


def test_delete_session_releases_first(engine) -> None:
    s = engine.create_session("del")
    engine.allocate_resources_for_session(s.session_id, "cpu_1", 60.0)
    assert engine.delete_session(s.session_id)
    assert engine.resource_manager.get_available_capacity("cpu_1") == 100.0


def test_system_status(engine) -> None:
    s = engine.create_session("st")
    engine.execute_workflow_in_session(s.session_id, "ok")
    engine.allocate_resources_for_session(s.session_id, "cpu_1", 25.0)
    engine.create_project_in_session(s.session_id, "proj")
    engine.add_task_to_session(s.session_id, Task(name="t", module="m", action="one"))
    status = engine.get_system_status()
    assert status["sessions"] == {
        "total": 1,
        "by_status": {"active": 1, "paused": 0, "completed": 0, "failed": 0, "cancelled": 0,
                      "closed": 0},
    }
    assert status["workflows"] == {"defined": 2, "active_runs": 0, "runs_recorded": 1}
    assert (status["tasks"]["total_tasks"], status["tasks"]["pending"]) == (1, 1)
    assert status["resources"]["resources"]["cpu_1"]["allocated"] == 25.0
    assert status["projects"] == {"total": 1}
    assert status["uptime"] >= 0
    assert set(status["versions"]) == {"codomyrmex_jupyter", "python"}


def test_health_status(engine, monkeypatch) -> None:
    health = engine.get_health_status()
    assert health["status"] == "healthy"
    assert {k: v["status"] for k, v in health["components"].items()} == {
        "store": "healthy", "event_loop": "healthy", "task_orchestrator": "healthy",
        "resources": "healthy",
    }
    engine.task_orchestrator.start_execution()
    assert engine.get_health_status()["components"]["event_loop"]["details"] == "running"

    engine.resource_manager.get_resource("cpu_1").status = ResourceStatus.MAINTENANCE
    assert engine.get_health_status()["status"] == "degraded"

    fake = {"cpu_1": SimpleNamespace(allocated=120.0, capacity=100.0)}
    monkeypatch.setattr(engine.resource_manager, "snapshot", lambda: fake)
    health = engine.get_health_status()
    assert health["status"] == "unhealthy"
    assert health["components"]["resources"]["details"]["over_allocated"] == ["cpu_1: 120 of 100"]


def test_health_reports_an_unreachable_store(tmp_path) -> None:
    eng = OrchestrationEngine(config_dir=tmp_path / "cfg")
    eng.store.close()
    health = eng.get_health_status()
    assert health["status"] == "unhealthy"
    assert health["components"]["store"]["status"] == "unhealthy"
    eng.task_orchestrator.stop_execution()


def test_shutdown_stops_tasks_and_cancels_runs(engine, registry) -> None:
    started = threading.Event()

    async def long() -> None:
        started.set()
        await asyncio.sleep(30)

    registry.register("m", "long", long)
    wm = engine.workflow_manager
    wm.create_workflow("slow", [WorkflowStep("s", "m", "long")])
    handle = wm.start_workflow("slow")
    wait_until(lambda: len(wm.active_runs()) == 1)
    task = Task(name="t", module="m", action="long")
    engine.task_orchestrator.add_task(task)
    engine.task_orchestrator.start_execution()
    wait_until(lambda: task.status is TaskStatus.RUNNING)
    engine.shutdown()
    assert handle.result(10).status is WorkflowStatus.CANCELLED
    assert task.status is TaskStatus.CANCELLED
    assert engine.task_orchestrator.is_running is False
    engine.shutdown()  # idempotent
