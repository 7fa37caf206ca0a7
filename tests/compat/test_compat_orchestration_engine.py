"""OrchestrationEngine: the original package's session fields, attributes and status keys.

Written from ../shared/compat/original-api.md ("OrchestrationEngine (oe)").
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from codomyrmex_jupyter import (
    OrchestrationContext,
    OrchestrationEngine,
    OrchestrationMode,
    OrchestrationSession,
    Project,
    Resource,
    ResourceType,
    SessionStatus,
    Task,
    WorkflowStep,
)


@pytest.fixture
def engine(tmp_path: Path):
    e = OrchestrationEngine(config_dir=tmp_path / "cfg", enable_performance_monitoring=False)
    e.resource_manager.add_resource(Resource("cpu_1", "CPU", ResourceType.CPU, 100.0))
    yield e
    e.shutdown()


def test_session_defaults_and_fields() -> None:
    s = OrchestrationSession(session_id="s")
    assert s.status is SessionStatus.PENDING
    assert (s.user_id, s.mode, s.max_parallel_tasks, s.max_parallel_workflows) == (
        "system", OrchestrationMode.RESOURCE_AWARE, 4, 2
    )
    assert (s.timeout_seconds, s.resource_requirements, s.started_at, s.completed_at) == (
        None, {}, None, None
    )
    assert [m.value for m in OrchestrationMode] == ["sequential", "parallel", "priority",
                                                     "resource_aware"]
    custom = OrchestrationContext(mode="parallel", timeout_seconds=60)  # type: ignore[arg-type]
    assert custom.mode is OrchestrationMode.PARALLEL
    d = custom.to_dict()
    assert (d["mode"], d["status"], d["started_at"]) == ("parallel", "pending", None)
    assert OrchestrationSession.from_dict(d) == custom


def test_create_session_makes_it_active(engine: OrchestrationEngine) -> None:
    s = engine.create_session("s")
    assert s.status is SessionStatus.ACTIVE
    assert s.started_at is not None


def test_sessions_view_holds_this_engines_open_sessions(engine: OrchestrationEngine,
                                                        tmp_path: Path) -> None:
    assert engine.sessions == {}
    a = engine.create_session("a")
    b = engine.create_session("b")
    assert list(engine.sessions) == [a.session_id, b.session_id]
    assert engine.sessions[a.session_id] is a
    assert engine.active_sessions == engine.sessions
    assert engine.cleanup_session(a.session_id) is True
    assert a.session_id not in engine.sessions
    assert a.completed_at is not None
    assert engine.delete_session(b.session_id) is True
    assert engine.sessions == {}
    with pytest.raises(TypeError, match="read-only; use create_session"):
        engine.sessions["x"] = a  # type: ignore[index]
    later = OrchestrationEngine(config_dir=tmp_path / "cfg")  # the same store
    assert later.sessions == {}  # another engine's sessions are not its open sessions
    assert later.get_session(a.session_id) is not None  # though it can read them
    later.shutdown()


def test_attributes(engine: OrchestrationEngine, tmp_path: Path) -> None:
    assert engine.config_dir == tmp_path / "cfg"
    assert isinstance(engine.logger, logging.Logger)
    assert engine.enable_performance_monitoring is False
    assert engine.shutdown_requested is False
    engine.shutdown()
    assert engine.shutdown_requested is True


def test_session_resources(engine: OrchestrationEngine) -> None:
    s = engine.create_session("s")
    assert engine.get_session_resources("nope") == {}
    assert engine.get_session_resources(s.session_id) == {}
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", 30.0)
    assert engine.allocate_resources_for_session(s.session_id, "cpu_1", 20.0)
    assert engine.get_session_resources(s.session_id) == {
        "cpu_1": {"allocated_amount": 50.0, "mode": "shared"}
    }
    assert engine.release_resources_for_session(s.session_id, "cpu_1") is True
    assert engine.get_session_resources(s.session_id) == {}
    assert s.resource_allocations == []
    assert engine.resource_manager.get_available_capacity("cpu_1") == 100.0
    assert engine.release_resources_for_session(s.session_id, "cpu_1") is False
    assert engine.release_resources_for_session("nope", "cpu_1") is False


def test_system_status_flat_keys(engine: OrchestrationEngine, registry) -> None:
    s = engine.create_session("s")
    engine.workflow_manager.create_workflow(
        "w", [WorkflowStep("env", "environment_setup", "check_environment")]
    )
    engine.task_orchestrator.add_task(Task(name="t", module="m", action="a"))
    engine.project_manager.projects["p"] = Project(name="p")
    engine.allocate_resources_for_session(s.session_id, "cpu_1", 10.0)
    status = engine.get_system_status()
    assert {k: status[k] for k in (
        "active_sessions", "total_workflows", "running_workflows", "total_tasks",
        "completed_tasks", "failed_tasks", "total_projects", "total_resources",
        "active_allocations",
    )} == {
        "active_sessions": 1, "total_workflows": 1, "running_workflows": 0, "total_tasks": 1,
        "completed_tasks": 0, "failed_tasks": 0, "total_projects": 1, "total_resources": 1,
        "active_allocations": 1,
    }
    assert "sessions" in status and "tasks" in status  # ours stay


def test_by_status_lists_pending_only_when_a_session_has_it(engine: OrchestrationEngine) -> None:
    engine.create_session("s")
    assert "pending" not in engine.get_system_status()["sessions"]["by_status"]
    engine.update_session(engine.list_sessions()[0].session_id, status="pending")
    assert engine.get_system_status()["sessions"]["by_status"]["pending"] == 1


def test_health_status_flat_keys(engine: OrchestrationEngine, monkeypatch) -> None:
    health = engine.get_health_status()
    assert health["overall_status"] == health["status"] == "healthy"
    for name in ("workflow_manager", "task_orchestrator", "project_manager", "resource_manager"):
        assert health[name] == "healthy"
    from codomyrmex_jupyter import ResourceStatus

    engine.resource_manager.get_resource("cpu_1").status = ResourceStatus.MAINTENANCE  # type: ignore[union-attr]
    health = engine.get_health_status()
    assert (health["overall_status"], health["resource_manager"]) == ("degraded", "degraded")
    assert health["workflow_manager"] == "healthy"
    engine.store.close()
    health = engine.get_health_status()
    assert health["workflow_manager"] == health["project_manager"] == "unhealthy"
