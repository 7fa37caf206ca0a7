"""TaskOrchestrator: ordering, bounds, dependencies, timeouts, retries, resources, storage."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterator

import pytest
from waiting import wait_until

from codomyrmex_jupyter.api.resources import Resource, ResourceManager, ResourceType
from codomyrmex_jupyter.api.tasks import (
    Task,
    TaskOrchestrator,
    TaskPriority,
    TaskResource,
    TaskResult,
    TaskStatus,
)
from codomyrmex_jupyter.engine.store import Store
from codomyrmex_jupyter.errors import TaskError


@pytest.fixture
def resources() -> ResourceManager:
    rm = ResourceManager()
    rm.add_resource(Resource("cpu_1", "CPU Core 1", ResourceType.CPU, 100.0))
    rm.add_resource(Resource("mem_1", "Memory 1", ResourceType.MEMORY, 1024.0))
    return rm


@pytest.fixture
def orch(registry, resources) -> Iterator[TaskOrchestrator]:
    o = TaskOrchestrator(4, registry=registry, resource_manager=resources)
    yield o
    o.stop_execution()


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    ev = threading.Event()
    yield ev
    ev.set()  # never leave a worker thread blocked


def statuses(o: TaskOrchestrator) -> dict[str, str]:
    return {t.name: t.status.value for t in o.list_tasks()}


# -- models ---------------------------------------------------------------------------
def test_enums_and_defaults() -> None:
    assert TaskPriority.LOW < TaskPriority.NORMAL < TaskPriority.HIGH < TaskPriority.CRITICAL
    assert [s.value for s in TaskStatus] == [
        "pending", "running", "completed", "failed", "cancelled", "skipped", "ready"
    ]  # "ready" is the original package's status (docs/compatibility.md); never assigned here
    t = Task(name="x")
    assert (t.priority, t.status, t.max_retries, t.retry_delay, t.timeout) == (
        TaskPriority.NORMAL, TaskStatus.PENDING, 3, 1.0, None
    )
    assert len(t.id) == 36
    assert t.created_at.tzinfo is not None
    r = TaskResource(type=ResourceType.CPU, identifier="cpu_1", mode="exclusive")
    assert (r.mode, r.amount) == ("exclusive", None)
    assert TaskResult(True) == TaskResult(True, None, None, None, 0.0, 1)


# -- adding -----------------------------------------------------------------------------
def test_add_validation_errors(orch, registry) -> None:
    a = orch.create_task("a", "m", "f")
    with pytest.raises(TaskError, match="already added"):
        orch.add_task(Task(id=a.id, name="dup"))
    with pytest.raises(TaskError, match="unknown dependency 'setup_task'; add that task first"):
        orch.create_task("b", "m", "f", dependencies=["setup_task"])
    with pytest.raises(TaskError, match="depends on itself"):
        orch.create_task("c", "m", "f", dependencies=["c"])
    with pytest.raises(TaskError, match="'priorty' is not a Task field"):
        orch.create_task("d", "m", "f", priorty=TaskPriority.HIGH)
    with pytest.raises(TaskError, match="mode must be 'shared' or 'exclusive'"):
        orch.add_task(Task(name="e", resources=[TaskResource(ResourceType.CPU, "cpu_1", "mine")]))
    with pytest.raises(TaskError, match="timeout 0 is not positive"):
        orch.create_task("f", "m", "f", timeout=0)
    with pytest.raises(TaskError, match="add_task takes a Task"):
        orch.add_task({"name": "g"})
    assert [t.name for t in orch.list_tasks()] == ["a"]


def test_seed_create_task_example(orch) -> None:
    orch.create_task("setup_task", "module", "action")
    task = orch.create_task(
        name="test_task",
        module="module",
        action="action",
        priority=TaskPriority.NORMAL,
        timeout=300,
        dependencies=["setup_task"],
    )
    assert orch.get_task(task.id) is task
    assert [t.name for t in orch.list_tasks(TaskStatus.PENDING)] == ["setup_task", "test_task"]


# -- running ------------------------------------------------------------------------------
def test_results_flow_and_timestamps(orch, registry) -> None:
    registry.register("m", "one", lambda: 1)
    registry.register("m", "add", lambda one, n: one + n)
    a = orch.create_task("one", "m", "one")
    b = orch.create_task("total", "m", "add", parameters={"n": 41}, dependencies=[a.id])
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert b.status is TaskStatus.COMPLETED
    assert (b.result.success, b.result.value, b.result.attempts) == (True, 42, 1)
    assert a.started_at <= a.completed_at <= b.started_at <= b.completed_at


def test_priority_order_fifo_within_priority(registry, resources) -> None:
    order: list[str] = []

    def log(tag: str) -> None:
        order.append(tag)

    registry.register("m", "log", log)
    o = TaskOrchestrator(1, registry=registry)
    for tag, prio in [("n1", 2), ("l1", 1), ("c1", 4), ("n2", 2), ("h1", 3), ("c2", 4)]:
        o.create_task(tag, "m", "log", parameters={"tag": tag}, priority=TaskPriority(prio))
    o.start_execution()
    try:
        assert o.wait_for_completion(10)
    finally:
        o.stop_execution()
    assert order == ["c1", "c2", "h1", "n1", "n2", "l1"]


def test_max_workers_is_a_hard_bound(registry, gate) -> None:
    lock = threading.Lock()
    active = [0]
    peak = [0]

    def probe() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        gate.wait(10)
        with lock:
            active[0] -= 1

    registry.register("m", "probe", probe)
    o = TaskOrchestrator(3, registry=registry)
    for i in range(8):
        o.create_task(f"p{i}", "m", "probe")
    o.start_execution()
    try:
        wait_until(lambda: active[0] == 3)
        stats = o.get_stats()
        assert (stats["running"], stats["pending"], stats["active_workers"]) == (3, 5, 3)
        gate.set()
        assert o.wait_for_completion(10)
    finally:
        o.stop_execution()
    assert peak[0] == 3
    assert o.get_stats()["completed"] == 8


def test_failed_dependency_skips_dependents_by_name(orch, registry) -> None:
    def boom() -> None:
        raise ValueError("disk on fire")

    registry.register("m", "boom", boom)
    registry.register("m", "ok", lambda: "ok")
    orch.create_task("root", "m", "boom", max_retries=0)
    mid = orch.create_task("mid", "m", "ok", dependencies=["root"])
    leaf = orch.create_task("leaf", "m", "ok", dependencies=["mid"])
    orch.create_task("other", "m", "ok")
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert statuses(orch) == {
        "root": "failed", "mid": "skipped", "leaf": "skipped", "other": "completed"
    }
    root = orch.list_tasks(TaskStatus.FAILED)[0]
    assert root.result.error == "ValueError: disk on fire"
    assert "disk on fire" in root.result.traceback
    assert mid.result.error == "dependency 'root' failed"
    assert leaf.result.error == "dependency 'mid' skipped"
    assert leaf.metadata["skipped_because"] == mid.id


def test_dependency_on_already_failed_task_is_skipped_at_once(orch, registry) -> None:
    registry.register("m", "boom", lambda: 1 / 0)
    orch.create_task("bad", "m", "boom", max_retries=0)
    orch.start_execution()
    assert orch.wait_for_completion(10)
    late = orch.create_task("late", "m", "boom", dependencies=["bad"])
    assert late.status is TaskStatus.SKIPPED
    assert late.result.error == "dependency 'bad' failed"


def test_async_timeout_fails_without_retry(orch, registry) -> None:
    async def slow() -> None:
        await asyncio.sleep(30)

    registry.register("m", "slow", slow)
    t = orch.create_task("slow", "m", "slow", timeout=0.05, max_retries=3)
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert t.status is TaskStatus.FAILED
    assert t.result.error == (
        "StepTimeout: step slow timed out after 0.05s; raise its timeout or make it faster"
    )
    assert (t.result.attempts, t.retry_count) == (1, 0)


def test_sync_timeout_frees_the_slot(orch, registry, gate) -> None:
    registry.register("m", "block", lambda: gate.wait(10))
    t = orch.create_task("block", "m", "block", timeout=0.05)
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert t.status is TaskStatus.FAILED
    assert "timed out after 0.05s" in t.result.error
    assert orch.get_stats()["active_workers"] == 0


def test_retries_then_success(orch, registry) -> None:
    calls = [0]

    def flaky() -> str:
        calls[0] += 1
        if calls[0] < 3:
            raise ConnectionError("try again")
        return "done"

    registry.register("m", "flaky", flaky)
    t = orch.create_task("flaky", "m", "flaky", max_retries=3, retry_delay=0.01)
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert (t.status, t.result.value, t.retry_count, t.result.attempts) == (
        TaskStatus.COMPLETED, "done", 2, 3
    )


def test_retries_exhausted(orch, registry) -> None:
    registry.register("m", "never", lambda: int("x"))
    t = orch.create_task("never", "m", "never", max_retries=2, retry_delay=0)
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert (t.status, t.retry_count, t.result.attempts) == (TaskStatus.FAILED, 2, 3)
    assert t.result.error.startswith("ValueError: invalid literal")


def test_unknown_action_names_close_matches(orch, registry) -> None:
    registry.register("static_analysis", "analyze_code", lambda: None)
    t = orch.create_task("x", "static_analysis", "analyze_cod")
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert t.status is TaskStatus.FAILED
    assert t.result.error == (
        "UnknownActionError: unknown action static_analysis.analyze_cod; "
        "did you mean static_analysis.analyze_code?"
    )


def test_bad_parameter_fails_clearly(orch, registry) -> None:
    registry.register("m", "f", lambda a: a)
    t = orch.create_task("f", "m", "f", parameters={"b": 1})
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert "has no parameter 'b'" in t.result.error


def test_tasks_added_after_start_are_picked_up(orch, registry) -> None:
    registry.register("m", "sq", lambda x: x * x)
    orch.start_execution()
    tasks = [orch.create_task(f"t{i}", "m", "sq", parameters={"x": i}) for i in range(5)]
    assert orch.wait_for_completion(10)
    assert [t.result.value for t in tasks] == [0, 1, 4, 9, 16]


def test_wait_for_completion_without_start_is_false(orch, registry) -> None:
    orch.create_task("t", "m", "f")
    assert orch.wait_for_completion(0.01) is False
    assert TaskOrchestrator(registry=registry).wait_for_completion() is True


# -- cancelling -------------------------------------------------------------------------------
def test_cancel_pending_task(orch, registry) -> None:
    a = orch.create_task("a", "m", "f")
    b = orch.create_task("b", "m", "f", dependencies=["a"])
    assert orch.cancel_task(a.id) is True
    assert (a.status, b.status) == (TaskStatus.CANCELLED, TaskStatus.SKIPPED)
    assert a.result.error == "cancelled before it started"
    assert orch.cancel_task(a.id) is False
    assert orch.cancel_task("nope") is False


def test_cancel_running_async_task(orch, registry) -> None:
    seen: list[str] = []

    async def long() -> None:
        seen.append("started")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    registry.register("m", "long", long)
    t = orch.create_task("long", "m", "long")
    orch.start_execution()
    wait_until(lambda: seen == ["started"])
    assert orch.cancel_task(t.id)
    assert orch.wait_for_completion(10)
    wait_until(lambda: seen == ["started", "cancelled"])
    assert t.status is TaskStatus.CANCELLED
    assert t.result.error == "cancelled while running; its result was ignored"


def test_cancel_running_sync_task_ignores_result(orch, registry, gate) -> None:
    started = threading.Event()

    def blocking() -> str:
        started.set()
        gate.wait(10)
        return "late"

    registry.register("m", "blocking", blocking)
    t = orch.create_task("blocking", "m", "blocking")
    orch.start_execution()
    assert started.wait(10)
    assert orch.cancel_task(t.id)
    assert t.status is TaskStatus.CANCELLED
    gate.set()
    assert orch.wait_for_completion(10)
    assert (t.status, t.result.value, t.result.success) == (TaskStatus.CANCELLED, None, False)


# -- stopping -----------------------------------------------------------------------------------
def _our_threads() -> set[str]:
    return {
        t.name
        for t in threading.enumerate()
        if t.is_alive() and not t.name.startswith(("codomyrmex-worker-", "codomyrmex-loop"))
    }


def test_stop_execution_cancels_running_keeps_pending_and_leaves_no_thread(
    registry, resources
) -> None:
    before = _our_threads()
    started = threading.Event()

    async def long() -> None:
        started.set()
        await asyncio.sleep(30)

    registry.register("m", "long", long)
    registry.register("m", "ok", lambda: "ok")
    o = TaskOrchestrator(1, registry=registry, resource_manager=resources)
    running = o.create_task(
        "long", "m", "long", resources=[TaskResource(ResourceType.CPU, "cpu_1", "exclusive")]
    )
    waiting = o.create_task("later", "m", "ok", priority=TaskPriority.LOW)
    o.start_execution()
    assert started.wait(10)
    o.stop_execution()
    assert (running.status, waiting.status) == (TaskStatus.CANCELLED, TaskStatus.PENDING)
    assert running.result.error == "cancelled by stop_execution while running"
    assert resources.get_available_capacity("cpu_1") == 100.0
    assert o.get_stats()["active_workers"] == 0
    assert _our_threads() == before
    o.stop_execution()  # idempotent
    o.start_execution()  # restartable: the pending task runs
    assert o.wait_for_completion(10)
    o.shutdown()
    assert waiting.status is TaskStatus.COMPLETED


# -- resources ----------------------------------------------------------------------------------
def test_resource_wait_does_not_block_others(orch, registry, resources, gate) -> None:
    registry.register("m", "ok", lambda: "ok")
    assert resources.allocate_resource("cpu_1", "someone", 10.0) is not None
    needy = orch.create_task(
        "needy", "m", "ok", priority=TaskPriority.CRITICAL,
        resources=[TaskResource(ResourceType.CPU, "cpu_1", "exclusive")],
    )
    free = orch.create_task("free", "m", "ok", priority=TaskPriority.LOW)
    orch.start_execution()
    wait_until(lambda: free.status is TaskStatus.COMPLETED)
    assert needy.status is TaskStatus.PENDING
    assert orch.get_stats()["active_workers"] == 0
    assert resources.release_resource("someone", "cpu_1")
    assert orch.wait_for_completion(10)
    assert needy.status is TaskStatus.COMPLETED
    assert resources.get_available_capacity("cpu_1") == 100.0


def test_shared_and_exclusive_amounts_are_held_while_running(orch, registry, resources, gate) -> None:
    seen: dict[str, float] = {}

    def look() -> None:
        seen["cpu"] = resources.get_available_capacity("cpu_1")
        seen["mem"] = resources.get_available_capacity("mem_1")

    registry.register("m", "look", look)
    orch.create_task(
        "look", "m", "look",
        resources=[
            TaskResource(ResourceType.CPU, "cpu_1", "shared", amount=30.0),
            TaskResource(ResourceType.MEMORY, "mem_1", "exclusive"),
        ],
    )
    orch.create_task(
        "unit", "m", "look", dependencies=["look"],
        resources=[TaskResource(ResourceType.CPU, "cpu_1")],
    )
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert seen == {"cpu": 99.0, "mem": 1024.0}  # the last call: one shared unit of cpu
    assert statuses(orch) == {"look": "completed", "unit": "completed"}
    assert resources.get_resource_summary()["active_allocations"] == 0


@pytest.mark.parametrize("outcome", ["fail", "timeout", "cancel"])
def test_resources_released_on_every_exit(orch, registry, resources, outcome) -> None:
    started = threading.Event()

    async def act() -> None:
        started.set()
        if outcome == "fail":
            raise RuntimeError("nope")
        await asyncio.sleep(30)

    registry.register("m", "act", act)
    t = orch.create_task(
        "t", "m", "act", max_retries=0, timeout=0.05 if outcome == "timeout" else None,
        resources=[TaskResource(ResourceType.CPU, "cpu_1", "exclusive")],
    )
    orch.start_execution()
    assert started.wait(10)
    if outcome == "cancel":
        orch.cancel_task(t.id)
    assert orch.wait_for_completion(10)
    expected = TaskStatus.CANCELLED if outcome == "cancel" else TaskStatus.FAILED
    assert t.status is expected
    assert resources.get_available_capacity("cpu_1") == 100.0


def test_unknown_resource_fails_and_the_default_manager_books_keys(registry, resources) -> None:
    registry.register("m", "ok", lambda: "ok")
    o = TaskOrchestrator(registry=registry, resource_manager=resources)
    bad = o.create_task("bad", "m", "ok", resources=[TaskResource(ResourceType.GPU, "gpu_9")])
    huge = o.create_task(
        "huge", "m", "ok", resources=[TaskResource(ResourceType.CPU, "cpu_1", amount=500.0)]
    )
    # Without a resource manager, the original package's task-level one books keys
    # (no capacities): the task runs and gives its key back (docs/compatibility.md).
    bare = TaskOrchestrator(registry=registry)
    booked = bare.create_task("booked", "m", "ok", resources=[TaskResource(ResourceType.GPU, "g")])
    for orchestrator in (o, bare):
        orchestrator.start_execution()
        assert orchestrator.wait_for_completion(10)
        orchestrator.stop_execution()
    assert bad.status is huge.status is TaskStatus.FAILED
    assert bad.result.error.startswith("ResourceUnavailable: unknown resource 'gpu_9'")
    assert "can never be granted" in huge.result.error
    assert booked.status is TaskStatus.COMPLETED
    assert bare.resource_manager.resource_users == {"gpu:g": set()}


def test_stress_two_resources_no_overallocation_no_deadlock_no_leak(registry, resources) -> None:
    over: list[str] = []
    capacities = {"cpu_1": 100.0, "mem_1": 1024.0}

    def check(change) -> None:
        st = resources.statistics(change.resource_id)
        if st.allocated > capacities[change.resource_id] + 1e-6:
            over.append(f"{change.resource_id}: {st.allocated}")

    unsubscribe = resources.subscribe(check)

    async def work() -> int:
        await asyncio.sleep(random.random() / 500)
        return 1

    registry.register("m", "work", work)
    registry.register("m", "sync_work", lambda: time.sleep(random.random() / 500) or 1)
    o = TaskOrchestrator(6, registry=registry, resource_manager=resources)
    o.start_execution()
    rng = random.Random(7)

    def producer(k: int) -> None:
        for i in range(25):
            res = []
            if rng.random() < 0.7:
                mode = "exclusive" if rng.random() < 0.3 else "shared"
                res.append(TaskResource(ResourceType.CPU, "cpu_1", mode, rng.choice([None, 40.0])))
            if rng.random() < 0.7:
                mode = "exclusive" if rng.random() < 0.3 else "shared"
                res.append(TaskResource(ResourceType.MEMORY, "mem_1", mode, rng.choice([None, 600.0])))
            action = "work" if i % 2 else "sync_work"
            o.create_task(f"p{k}-{i}", "m", action, resources=res)

    threads = [threading.Thread(target=producer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert o.wait_for_completion(timeout=60)
    finally:
        o.stop_execution()
        unsubscribe()
    assert o.get_stats()["completed"] == 200
    assert over == []
    assert resources.get_resource_summary()["active_allocations"] == 0
    assert resources.get_available_capacity("cpu_1") == 100.0
    assert resources.get_available_capacity("mem_1") == 1024.0


# -- storage and stats ----------------------------------------------------------------------------
def test_tasks_are_stored_and_listed_as_history(registry, tmp_path) -> None:
    store = Store(tmp_path / "db")
    def make_object() -> object:
        return object()

    registry.register("m", "obj", make_object)
    registry.register("m", "val", lambda: {"n": 1})
    o = TaskOrchestrator(registry=registry, store=store)
    a = o.create_task("obj", "m", "obj", tags=["x"], metadata={"k": "v"})
    b = o.create_task("val", "m", "val", priority=TaskPriority.HIGH)
    o.start_execution()
    assert o.wait_for_completion(10)
    o.stop_execution()

    later = TaskOrchestrator(registry=registry, store=Store(tmp_path / "db"))
    old_a, old_b = later.get_task(a.id), later.get_task(b.id)
    assert [t.name for t in later.list_tasks()] == ["obj", "val"]
    assert (old_b.status, old_b.result.value, old_b.priority) == (
        TaskStatus.COMPLETED, {"n": 1}, TaskPriority.HIGH
    )
    assert (old_a.status, old_a.result.value, old_a.tags, old_a.metadata) == (
        TaskStatus.COMPLETED, None, ["x"], {"k": "v"}
    )
    assert "cannot be stored as JSON" in store.get_doc("task", a.id)["result"]["value_note"]
    assert old_a.started_at == a.started_at
    later.start_execution()
    assert later.wait_for_completion(1)  # history is never re-run
    later.stop_execution()
    assert later.get_stats()["history"] == 2
    with pytest.raises(TaskError, match="already added"):
        later.add_task(Task(id=a.id, name="again"))


def test_stats_shape(orch, registry) -> None:
    registry.register("m", "ok", lambda: 1)
    orch.create_task("a", "m", "ok")
    orch.start_execution()
    assert orch.wait_for_completion(10)
    stats = orch.stats()
    assert stats["by_status"] == {
        "pending": 0, "running": 0, "completed": 1, "failed": 0, "cancelled": 0, "skipped": 0
    }
    assert (stats["total_tasks"], stats["max_workers"], stats["executing"]) == (1, 4, True)
    assert stats["throughput"] > 0


def test_wait_for_completion_refuses_the_loop_thread(orch, registry) -> None:
    errors: list[str] = []

    async def inside() -> None:
        try:
            orch.wait_for_completion(0)
        except RuntimeError as exc:
            errors.append(str(exc))

    registry.register("m", "inside", inside)
    orch.create_task("inside", "m", "inside")
    orch.start_execution()
    assert orch.wait_for_completion(10)
    assert errors == ["wait_for_completion blocks; do not call it from a running task"]


# -- the run the tasks are nodes of -------------------------------------------------------------
def test_a_running_task_adds_tasks_that_depend_on_finished_ones(orch, registry) -> None:
    def spawn(n: int) -> int:
        for i in range(n):
            orch.create_task(f"child{i}", "m", "double", parameters={"x": i}, dependencies=["root"])
        return n

    registry.register("m", "spawn", spawn)
    registry.register("m", "double", lambda x, root: 2 * x + root)
    orch.create_task("root", "m", "spawn", parameters={"n": 3})
    orch.start_execution()
    wait_until(lambda: len(orch.list_tasks()) == 4)
    assert orch.wait_for_completion(10)
    children = [t for t in orch.list_tasks() if t.name.startswith("child")]
    assert [t.result.value for t in children] == [3, 5, 7]  # the root's value flowed in by name
    assert orch._run.graph.layers == [0, 1, 1, 1]


def test_cancelling_a_running_tasks_handle_cancels_the_task(orch, registry) -> None:
    started = threading.Event()

    async def long() -> None:
        started.set()
        await asyncio.sleep(30)

    registry.register("m", "long", long)
    t = orch.create_task("long", "m", "long")
    after = orch.create_task("after", "m", "long", dependencies=["long"])
    orch.start_execution()
    assert started.wait(10)
    handle = orch.running_tasks[t.id]
    orch.loop.call_soon_threadsafe(handle.cancel)
    assert orch.wait_for_completion(10)
    assert (t.status, after.status) == (TaskStatus.CANCELLED, TaskStatus.SKIPPED)
    assert after.result.error == "dependency 'long' cancelled"
    assert orch.running_tasks == {}


def test_max_workers_can_be_changed(registry) -> None:
    o = TaskOrchestrator(2, registry=registry)
    o.max_workers = 5
    assert (o.max_workers, o.get_stats()["max_workers"]) == (5, 5)
    with pytest.raises(ValueError, match="max_workers"):
        o.max_workers = 0
