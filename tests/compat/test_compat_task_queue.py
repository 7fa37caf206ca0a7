"""TaskQueue: the original package's priority queue of tasks.

Written from ../shared/compat/original-api.md ("TaskQueue (to:269-338)").
"""

from __future__ import annotations

import queue
import threading
from datetime import datetime, timedelta, timezone

import pytest

from codomyrmex_jupyter import Task, TaskOrchestrator, TaskPriority, TaskQueue, TaskStatus

T0 = datetime(2025, 1, 1, tzinfo=timezone.utc)


def _task(name: str, priority: TaskPriority = TaskPriority.NORMAL, age: int = 0,
          deps: list[str] | None = None) -> Task:
    return Task(name=name, module="m", action="a", priority=priority,
                created_at=T0 - timedelta(seconds=age), dependencies=deps or [])


def test_attributes() -> None:
    q = TaskQueue()
    assert isinstance(q.queue, queue.PriorityQueue)
    assert q.tasks == {}
    assert q.lock is not None
    with q.lock:  # re-entrant, usable by callers
        q.add_task(_task("x"))
    assert len(q) == 1


def test_higher_priority_first_then_older() -> None:
    q = TaskQueue()
    tasks = [_task("normal_new"), _task("normal_old", age=10), _task("high", TaskPriority.HIGH),
             _task("low_oldest", TaskPriority.LOW, age=100), _task("critical", TaskPriority.CRITICAL)]
    for t in tasks:
        q.add_task(t)
    order = [q.get_next_ready_task(set()).name for _ in tasks]  # type: ignore[union-attr]
    assert order == ["critical", "high", "normal_old", "normal_new", "low_oldest"]
    assert q.get_next_ready_task(set()) is None
    assert set(q.tasks) == {t.id for t in tasks}  # handed-out tasks stay in tasks


def test_not_ready_tasks_go_back_in_order() -> None:
    q = TaskQueue()
    blocked = _task("blocked", TaskPriority.CRITICAL, deps=["setup"])
    later = _task("later", TaskPriority.HIGH, deps=["setup"])
    free = _task("free", TaskPriority.LOW)
    for t in (blocked, later, free):
        q.add_task(t)
    assert q.get_next_ready_task(set()) is free
    assert q.get_next_ready_task(set()) is None
    assert q.queue.qsize() == 2
    assert q.get_next_ready_task({"setup"}) is blocked
    assert q.get_next_ready_task({"setup"}) is later


def test_only_pending_tasks_are_handed_out() -> None:
    q = TaskQueue()
    t = _task("t")
    q.add_task(t)
    t.status = TaskStatus.RUNNING
    assert q.get_next_ready_task(set()) is None
    t.status = TaskStatus.PENDING
    assert q.get_next_ready_task(set()) is t


def test_removed_ids_are_dropped() -> None:
    q = TaskQueue()
    a, b = _task("a", TaskPriority.HIGH), _task("b")
    q.add_task(a)
    q.add_task(b)
    assert q.remove_task(a.id) is True
    assert q.remove_task(a.id) is False
    assert q.get_task(a.id) is None
    assert q.get_next_ready_task(set()) is b
    assert q.queue.empty()  # a's entry was dropped, not put back
    assert q.list_tasks() == [b]


def test_threads_never_get_the_same_task() -> None:
    q = TaskQueue()
    for i in range(200):
        q.add_task(_task(f"t{i}"))
    got: list[str] = []
    lock = threading.Lock()

    def drain() -> None:
        while (t := q.get_next_ready_task(set())) is not None:
            with lock:
                got.append(t.id)

    threads = [threading.Thread(target=drain) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert sorted(got) == sorted(q.tasks)


def test_the_orchestrators_queue_is_a_view_of_its_tasks(registry) -> None:
    o = TaskOrchestrator(registry=registry)
    t = Task(name="t", module="m", action="a")
    o.task_queue.add_task(t)  # goes through the orchestrator
    assert o.get_task(t.id) is t
    assert o.task_queue.get_task(t.id) is t
    assert o.task_queue.get_next_ready_task(set()) is t
    with pytest.raises(TypeError):
        o.task_queue.tasks["x"] = t  # type: ignore[index]
    assert o.task_queue.remove_task(t.id) is True  # cancels it there
    assert t.status is TaskStatus.CANCELLED
    assert t.id in o.task_queue.tasks
