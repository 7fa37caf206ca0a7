"""Tasks and TaskOrchestrator: the original package's fields, helpers and attributes.

Written from ../shared/compat/original-api.md ("Tasks (to)").
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from codomyrmex_jupyter import (
    ResourceType,
    Task,
    TaskError,
    TaskOrchestrator,
    TaskResource,
    TaskResult,
    TaskStatus,
)
from codomyrmex_jupyter.api.task_helpers import OrchestratorTaskQueue, TaskResourceManager
from codomyrmex_jupyter.runtime import WorkerPool


# -- data classes -------------------------------------------------------------------------
def test_task_status_ready_is_never_assigned_but_kept() -> None:
    assert TaskStatus("ready") is TaskStatus.READY
    assert not TaskStatus.READY.terminal


def test_task_resource_defaults_and_modes() -> None:
    r = TaskResource(ResourceType.CPU, "cpu_1")
    assert (r.type, r.identifier, r.mode, r.timeout, r.amount) == (
        ResourceType.CPU, "cpu_1", "read", None, None
    )
    assert TaskResource(type=ResourceType.FILE, identifier="f", mode="write", timeout=5).timeout == 5
    from codomyrmex_jupyter.api.task_models import POOL_MODE

    assert POOL_MODE == {"read": "shared", "shared": "shared", "write": "exclusive",
                         "exclusive": "exclusive"}


def test_task_result_fields_aliases_and_dicts() -> None:
    r = TaskResult(success=True, data={"x": 1}, execution_time=1.5, memory_usage=2.0,
                   metadata={"k": "v"})
    assert (r.value, r.duration, r.error, r.error_type) == ({"x": 1}, 1.5, None, None)
    assert (r.data, r.execution_time, r.error_message) == ({"x": 1}, 1.5, None)
    failed = TaskResult(success=False, error_message="boom", error_type="RuntimeError")
    assert (failed.error, failed.data, failed.execution_time) == ("boom", None, 0.0)
    failed.error_message = "changed"
    failed.execution_time = 3.0
    failed.data = 7
    assert (failed.error, failed.duration, failed.value) == ("changed", 3.0, 7)
    d = r.to_dict()
    assert d == {"success": True, "data": {"x": 1}, "error_message": None, "error_type": None,
                 "execution_time": 1.5, "memory_usage": 2.0, "metadata": {"k": "v"},
                 "traceback": None, "attempts": 1}
    assert TaskResult.from_dict(d) == r
    assert TaskResult.from_dict({"success": True, "value": 3, "duration": 2.0}).data == 3
    with pytest.raises(TypeError, match="unexpected keyword argument 'datum'"):
        TaskResult(True, datum=1)


def test_task_name_execution_time_can_retry_is_ready() -> None:
    assert Task(module="m", action="a").name == "m.a"
    assert Task(name="kept", module="m", action="a").name == "kept"
    assert Task().name == ""
    t = Task(name="t", module="m", action="a", dependencies=["d1", "d2"], max_retries=2)
    assert t.execution_time is None
    t.started_at = datetime(2025, 1, 1, tzinfo=timezone.utc)
    t.completed_at = t.started_at + timedelta(seconds=2.5)
    assert t.execution_time == 2.5
    assert t.can_retry() is False  # not failed
    t.status = TaskStatus.FAILED
    assert t.can_retry() is True
    t.retry_count = 2
    assert t.can_retry() is False
    t.status = TaskStatus.PENDING
    assert t.is_ready({"d1"}) is False
    assert t.is_ready({"d1", "d2", "other"}) is True
    t.status = TaskStatus.READY
    assert t.is_ready({"d1", "d2"}) is False  # only PENDING tasks are ready


# -- orchestrator attributes ------------------------------------------------------------------
@pytest.fixture
def orch(registry):
    o = TaskOrchestrator(max_workers=2, registry=registry)
    yield o
    o.stop_execution()


def test_fresh_orchestrator_attributes(orch: TaskOrchestrator) -> None:
    assert isinstance(orch.executor, WorkerPool)
    assert isinstance(orch.resource_manager, TaskResourceManager)
    assert isinstance(orch.task_queue, OrchestratorTaskQueue)
    assert orch.completed_tasks == set()
    assert orch.running_tasks == {}
    assert orch.task_results == {}
    assert orch.shutdown_requested is False
    assert orch.execution_thread is None


def test_views_follow_the_run(orch: TaskOrchestrator, registry) -> None:
    gate = threading.Event()
    registry.register("m", "ok", lambda: "done")
    registry.register("m", "boom", lambda: 1 / 0)
    registry.register("m", "wait", lambda: gate.wait(10))
    ok = orch.create_task("ok", "m", "ok")
    boom = orch.create_task("boom", "m", "boom", max_retries=0)
    after = orch.create_task("after", "m", "ok", dependencies=["boom"])
    slow = orch.create_task("slow", "m", "wait")
    assert ok.id in orch.task_queue.tasks  # filled by add_task
    assert orch.task_queue.tasks[slow.id] is slow
    orch.start_execution()
    deadline = time.monotonic() + 10
    while slow.id not in orch.running_tasks and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slow.id in orch.running_tasks
    assert isinstance(orch.running_tasks[slow.id], asyncio.Task)
    assert orch.execution_thread is not None and orch.execution_thread.is_alive()
    gate.set()
    assert orch.wait_for_completion(10)
    assert orch.completed_tasks == {ok.id, slow.id}
    assert boom.id not in orch.completed_tasks
    results = orch.task_results
    assert set(results) == {ok.id, boom.id, after.id, slow.id}  # failed and skipped too
    assert results[ok.id].data == "done"
    assert results[boom.id].error_type == "ZeroDivisionError"
    assert after.status is TaskStatus.SKIPPED
    assert orch.get_task_result(ok.id) is ok.result
    assert orch.get_task_result("nope") is None
    with pytest.raises(TypeError, match="read-only"):
        results["x"] = TaskResult(True)  # type: ignore[index]
    orch.stop_execution()
    assert orch.shutdown_requested is True
    assert not orch.execution_thread.is_alive()
    orch.execution_thread.join(1)
    orch.start_execution()
    assert orch.shutdown_requested is False


def test_execution_stats_have_the_original_keys(orch: TaskOrchestrator, registry) -> None:
    registry.register("m", "ok", lambda: time.sleep(0.01))
    registry.register("m", "boom", lambda: 1 / 0)
    orch.create_task("a", "m", "ok")
    orch.create_task("b", "m", "boom", max_retries=0)
    orch.add_task(Task(name="ready", module="m", action="ok", status=TaskStatus.READY))
    orch.start_execution()
    assert orch.wait_for_completion(10)
    stats = orch.get_execution_stats()
    assert set(stats) == {"total_tasks", "pending", "ready", "running", "completed", "failed",
                          "cancelled", "total_execution_time", "average_execution_time"}
    assert (stats["total_tasks"], stats["ready"], stats["completed"], stats["failed"]) == (3, 1, 1, 1)
    assert stats["total_execution_time"] >= 0.01
    assert stats["average_execution_time"] == pytest.approx(stats["total_execution_time"] / 2)


def test_add_task_keeps_a_status_the_caller_set(orch: TaskOrchestrator, registry) -> None:
    registry.register("m", "ok", lambda: 1)
    done = orch.add_task(Task(name="done", module="m", action="ok", status=TaskStatus.COMPLETED))
    running = Task(name="running", module="m", action="ok", status=TaskStatus.RUNNING)
    orch.add_task(running)
    child = orch.create_task("child", "m", "ok", dependencies=["done"])
    orphan = orch.create_task("orphan", "m", "ok", dependencies=["running"])
    assert [t.name for t in orch.list_tasks(TaskStatus.RUNNING)] == ["running"]
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert orch.get_task(done).status is TaskStatus.COMPLETED  # type: ignore[union-attr]
    assert running.status is TaskStatus.RUNNING and running.result is None  # never run here
    assert child.status is TaskStatus.COMPLETED
    assert orphan.status is TaskStatus.SKIPPED


def test_execute_task_runs_one_task_now(orch: TaskOrchestrator, registry) -> None:
    registry.register("m", "add", lambda a, b: a + b)

    async def slow() -> None:
        await asyncio.sleep(5)

    registry.register("m", "slow", slow)
    t = Task(name="sum", module="m", action="add", parameters={"a": 1, "b": 2})
    result = orch.execute_task(t)
    assert (result.success, result.data) == (True, 3)
    assert result.metadata == {"module": "m", "action": "add", "task_id": t.id}
    assert t.status is TaskStatus.COMPLETED and t.result is result
    assert t.execution_time is not None
    assert orch.get_task(t.id) is None  # not added
    unknown = orch.execute_task(Task(module="x", action="y"))
    assert (unknown.success, unknown.error_type) == (False, "UnknownActionError")
    timed = orch.execute_task(Task(module="m", action="slow", timeout=0.05))
    assert (timed.success, timed.error_type) == (False, "StepTimeout")
    added = orch.create_task("added", "m", "add", parameters={"a": 1, "b": 1})
    with pytest.raises(TaskError, match="runs there"):
        orch.execute_task(added)


def test_default_resource_manager_books_keys(orch: TaskOrchestrator, registry) -> None:
    active: list[str] = []
    peak: list[int] = []
    lock = threading.Lock()

    def work(name: str) -> None:
        with lock:
            active.append(name)
            peak.append(len(active))
        time.sleep(0.05)
        with lock:
            active.remove(name)

    registry.register("m", "work", work)
    for i in range(3):
        orch.create_task(f"w{i}", "m", "work", parameters={"name": f"w{i}"},
                         resources=[TaskResource(ResourceType.FILE, "out.csv", "write")])
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert max(peak) == 1  # writers take turns even with two workers
    assert orch.resource_manager.resource_users == {"file:out.csv": set()}  # type: ignore[union-attr]
    assert len(orch.completed_tasks) == 3
