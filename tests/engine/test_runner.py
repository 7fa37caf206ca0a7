"""The runner: ordering, concurrency, retries, timeouts, skips and cancellation."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.events import BaseListener
from codomyrmex_jupyter.engine.runner import Run
from codomyrmex_jupyter.errors import StepTimeout, UnknownActionError


@dataclass
class S:
    name: str
    module: str = "t"
    action: str = "noop"
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    timeout: float | None = None
    max_retries: int = 0
    resources: dict[str, float] = field(default_factory=dict)


def run(steps, registry, **kw) -> Run:
    r = Run(steps, workflow="w", registry=registry, retry_backoff=0.001, **kw)
    asyncio.run(r.execute())
    return r


class Transitions(BaseListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.started = self.finished = 0

    def run_started(self, run):
        self.started += 1

    def step_changed(self, run, index, state):
        self.seen.append((run.graph.names[index], state))

    def run_finished(self, run):
        self.finished += 1


def random_dag(rng: random.Random, n: int) -> list[S]:
    steps = []
    for i in range(n):
        k = rng.randint(0, min(3, i))
        deps = rng.sample(range(i), k) if i else []
        steps.append(S(f"s{i}", dependencies=[f"s{d}" for d in deps]))
    rng.shuffle(steps)
    return steps


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), use_sync=st.booleans(), conc=st.sampled_from([1, 3, 64]))
def test_every_step_runs_once_after_its_dependencies(seed: int, use_sync: bool, conc: int) -> None:
    rng = random.Random(seed)
    steps = random_dag(rng, 200)
    log: list[str] = []
    lock = threading.Lock()
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)

    def record(name: str) -> None:
        with lock:
            log.append(name)

    async def arec(name: str) -> None:
        await asyncio.sleep(0)
        record(name)

    reg.register("t", "rec", record if use_sync else arec)
    for s in steps:
        s.action, s.parameters = "rec", {"name": s.name}
    r = run(steps, reg, max_concurrency=conc)
    assert r.status == "completed"
    assert sorted(log) == sorted(s.name for s in steps)
    position = {name: i for i, name in enumerate(log)}
    for s in steps:
        for d in s.dependencies:
            assert position[d] < position[s.name], (d, s.name)
    assert r.peak_concurrency <= conc


def test_results_flow_by_name_and_inputs(registry: ActionRegistry) -> None:
    registry.register("t", "load", lambda n=3: list(range(n)))
    registry.register("t", "double", lambda load: [2 * x for x in load])
    registry.register("t", "total", lambda inputs, scale=1: scale * sum(sum(v) for v in inputs.values()))
    steps = [
        S("load", action="load"),
        S("double", action="double", dependencies=["load"]),
        S("total", action="total", dependencies=["load", "double"]),
    ]
    r = run(steps, registry, parameters={"n": 4, "scale": 10, "unused": 1})
    assert r.results == {"load": [0, 1, 2, 3], "double": [0, 2, 4, 6], "total": 180}


def test_failure_skips_descendants_and_others_still_run(registry: ActionRegistry) -> None:
    def boom() -> None:
        raise ValueError("bad input")

    registry.register("t", "noop", lambda: 1)
    registry.register("t", "boom", boom)
    steps = [
        S("a", action="boom"),
        S("b", dependencies=["a"]),
        S("c", dependencies=["b"]),
        S("x"),
        S("y", dependencies=["x"]),
    ]
    r = run(steps, registry)
    assert r.status == "failed"
    assert {rec.name: rec.status for rec in r.records} == {
        "a": "failed", "b": "skipped", "c": "skipped", "x": "succeeded", "y": "succeeded",
    }
    assert r.errors == ["Step a failed: ValueError: bad input"]
    assert r.record("b").reason == "dependency 'a' failed"
    assert "Traceback" in (r.record("a").traceback or "")
    assert "boom" in (r.record("a").traceback or "")


def test_retries_with_backoff_then_success(registry: ActionRegistry) -> None:
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise RuntimeError(f"try {len(calls)}")
        return "ok"

    registry.register("t", "flaky", flaky)
    listener = Transitions()
    r = Run([S("f", action="flaky", max_retries=3)], workflow="w", registry=registry,
            retry_backoff=0.02, listeners=[listener])
    asyncio.run(r.execute())
    assert r.status == "completed"
    assert r.record("f").attempts == 3
    assert r.record("f").retries == 2
    # backoff doubles: 0.02 then 0.04
    assert calls[1] - calls[0] >= 0.02
    assert calls[2] - calls[1] >= 0.04
    assert [s for _, s in listener.seen] == [
        "ready", "running", "retrying", "running", "retrying", "running", "succeeded",
    ]


def test_retries_exhausted_fail(registry: ActionRegistry) -> None:
    async def always() -> None:
        raise KeyError("nope")

    registry.register("t", "always", always)
    r = run([S("f", action="always", max_retries=2)], registry)
    assert r.record("f").status == "failed"
    assert r.record("f").attempts == 3
    assert r.errors == ["Step f failed: KeyError: 'nope'"]


@pytest.mark.parametrize("sync", [False, True])
def test_step_timeout_cancels_and_fails(registry: ActionRegistry, sync: bool) -> None:
    async def slow() -> None:
        await asyncio.sleep(10)

    def slow_sync() -> None:
        time.sleep(0.5)

    registry.register("t", "slow", slow_sync if sync else slow)
    registry.register("t", "noop", lambda: None)
    t0 = time.monotonic()
    r = run([S("s", action="slow", timeout=0.05, max_retries=3), S("after", dependencies=["s"]), S("x")],
            registry)
    assert time.monotonic() - t0 < 0.45
    assert r.record("s").status == "failed"
    assert r.record("s").attempts == 1  # timeouts are not retried
    assert isinstance(r.exceptions["s"], StepTimeout)
    assert isinstance(r.exceptions["s"], TimeoutError)
    assert r.record("after").status == "skipped"
    assert r.record("x").status == "succeeded"
    assert r.errors == ["Step s failed: StepTimeout: step s timed out after 0.05s; raise its timeout or make it faster"]


def test_workflow_timeout(registry: ActionRegistry) -> None:
    async def slow() -> None:
        await asyncio.sleep(10)

    registry.register("t", "slow", slow)
    steps = [S("a", action="slow"), S("b", dependencies=["a"])]
    r = run(steps, registry, timeout=0.05)
    assert r.status == "failed"
    assert r.record("a").status == "failed"
    assert r.record("b").status == "skipped"
    assert r.record("b").reason == "workflow timed out after 0.05s"
    assert "Workflow timed out after 0.05s" in r.errors


def test_cancel_from_another_thread(registry: ActionRegistry) -> None:
    cleaned: list[str] = []

    async def slow(name: str) -> None:
        try:
            await asyncio.sleep(10)
        finally:
            cleaned.append(name)

    registry.register("t", "slow", slow)
    steps = [S("a", action="slow", parameters={"name": "a"}),
             S("b", action="slow", parameters={"name": "b"}), S("c", dependencies=["a"])]
    r = Run(steps, workflow="w", registry=registry)

    async def main() -> None:
        task = asyncio.create_task(r.execute())
        await asyncio.sleep(0.05)
        threading.Thread(target=r.cancel).start()
        await task

    asyncio.run(main())
    assert r.status == "cancelled"
    assert [rec.status for rec in r.records] == ["cancelled", "cancelled", "cancelled"]
    assert sorted(cleaned) == ["a", "b"]  # running steps were cancelled and cleaned up


def test_cancelling_the_awaiting_task_cancels_the_run(registry: ActionRegistry) -> None:
    async def slow() -> None:
        await asyncio.sleep(10)

    registry.register("t", "slow", slow)
    r = Run([S("a", action="slow")], workflow="w", registry=registry)

    async def main() -> None:
        task = asyncio.create_task(r.execute())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    asyncio.run(main())
    assert r.status == "cancelled"
    assert r.record("a").status == "cancelled"


def test_unknown_action_names_close_matches(registry: ActionRegistry) -> None:
    registry.register("static_analysis", "analyze_code", lambda: 1)
    r = run([S("a", module="static_analysis", action="analyse_code")], registry)
    exc = r.exceptions["a"]
    assert isinstance(exc, UnknownActionError)
    assert exc.close_matches == ["static_analysis.analyze_code"]
    assert "did you mean static_analysis.analyze_code" in r.errors[0]


def test_bad_parameter_is_a_clear_failure(registry: ActionRegistry) -> None:
    registry.register("t", "f", lambda x: x)
    r = run([S("a", action="f", parameters={"y": 1})], registry)
    assert r.errors == [
        "Step a failed: TypeError: step 'a': t.f has no parameter 'y' (it takes: x); "
        "remove it from the step's parameters"
    ]


def test_concurrency_bound_is_respected(registry: ActionRegistry) -> None:
    live = {"now": 0, "peak": 0}

    async def probe() -> None:
        live["now"] += 1
        live["peak"] = max(live["peak"], live["now"])
        await asyncio.sleep(0.005)
        live["now"] -= 1

    registry.register("t", "probe", probe)
    r = run([S(f"s{i}", action="probe") for i in range(30)], registry, max_concurrency=4)
    assert r.status == "completed"
    assert live["peak"] == 4
    assert r.peak_concurrency == 4


def test_listener_sees_each_transition_in_order(registry: ActionRegistry) -> None:
    registry.register("t", "noop", lambda: None)
    listener = Transitions()
    Run([S("a"), S("b", dependencies=["a"])], workflow="w", registry=registry, listeners=[listener])
    r = Run([S("a"), S("b", dependencies=["a"])], workflow="w", registry=registry, listeners=[listener])
    asyncio.run(r.execute())
    assert listener.seen == [
        ("a", "ready"), ("a", "running"), ("a", "succeeded"),
        ("b", "ready"), ("b", "running"), ("b", "succeeded"),
    ]
    assert (listener.started, listener.finished) == (1, 1)


class FakeGate:
    """A pool of one resource with a capacity, for the runner's gate protocol."""

    def __init__(self, capacity: float) -> None:
        self.capacity = capacity
        self.held: dict[str, float] = {}
        self.peak = 0.0
        self.callbacks: list[Any] = []
        self.lock = threading.Lock()

    def try_acquire(self, holder: str, request: dict[str, float]) -> bool:
        from codomyrmex_jupyter.errors import ResourceUnavailable

        amount = request["gpu"]
        if amount > self.capacity:
            raise ResourceUnavailable("more than capacity")
        with self.lock:
            if sum(self.held.values()) + amount > self.capacity:
                return False
            self.held[holder] = amount
            self.peak = max(self.peak, sum(self.held.values()))
        return True

    def release(self, holder: str) -> None:
        with self.lock:
            self.held.pop(holder, None)
        for cb in self.callbacks:
            cb(None)

    def subscribe(self, cb):
        self.callbacks.append(cb)
        return lambda: self.callbacks.remove(cb)


def test_resource_gated_steps_never_exceed_capacity(registry: ActionRegistry) -> None:
    async def work() -> None:
        await asyncio.sleep(0.002)

    registry.register("t", "work", work)
    gate = FakeGate(2.0)
    steps = [S(f"s{i}", action="work", resources={"gpu": 1.0}) for i in range(12)]
    steps.append(S("huge", action="work", resources={"gpu": 5.0}))
    r = run(steps, registry, resources=gate)
    assert r.counts() == {"succeeded": 12, "failed": 1}
    assert gate.peak == 2.0
    assert gate.held == {}
    assert "more than capacity" in r.errors[0]


# -- listeners that raise: logged once, detached, the run goes on --------------------------------
class Raising(BaseListener):
    """Raises at one event (``run_started``, ``run_finished`` or a step state)."""

    def __init__(self, at: str) -> None:
        self.at = at
        self.calls = 0

    def run_started(self, run):
        self.calls += 1
        if self.at == "run_started":
            raise RuntimeError("boom at run_started")

    def step_changed(self, run, index, state):
        self.calls += 1
        if state == self.at:
            raise RuntimeError(f"boom at {state}")

    def run_finished(self, run):
        self.calls += 1
        if self.at == "run_finished":
            raise RuntimeError("boom at run_finished")


EVENTS = ["run_started", "ready", "running", "retrying", "succeeded", "failed", "skipped",
          "cancelled", "run_finished"]


@pytest.mark.parametrize("at", EVENTS)
def test_a_listener_raising_at_any_event_is_detached_and_the_run_goes_on(
    registry: ActionRegistry, at: str, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first attempt fails")
        return 1

    async def slow() -> None:
        await asyncio.sleep(30)  # still running when the test cancels the run

    registry.register("t", "flaky", flaky)
    registry.register("t", "bad", lambda: 1 / 0)
    registry.register("t", "slow", slow)
    steps = [
        S("a", action="flaky", max_retries=1), S("b", dependencies=["a"]),
        S("c", action="bad"), S("d", dependencies=["c"]),
        S("e", action="slow"),
    ]
    registry.register("t", "noop", lambda: None)
    bad, good = Raising(at), Transitions()
    r = Run(steps, workflow="w", registry=registry, retry_backoff=0.001,
            listeners=[bad, good], check_transitions=True)

    async def main() -> None:
        task = asyncio.ensure_future(r.execute())
        # both short branches are done (b succeeded, c failed): cancel the slow one
        while r.record("b").status != "succeeded" or r.record("d").status != "skipped":
            await asyncio.sleep(0.005)
        r.cancel("enough")
        await asyncio.wait_for(task, 10)  # a hang here was the bug

    with caplog.at_level("ERROR", logger="codomyrmex_jupyter.engine.runner"):
        asyncio.run(main())
    assert r.status == "cancelled" and r.done
    assert good.finished == 1 and good.started == 1
    assert [x for x in good.seen if x[0] == "b"][-1] == ("b", "succeeded")
    assert r.record("c").status == "failed" and r.record("d").status == "skipped"
    assert r.record("e").status == "cancelled"
    detached = [rec for rec in caplog.records if "was detached" in rec.getMessage()]
    assert len(detached) == 1, [rec.getMessage() for rec in caplog.records]
    assert "listener Raising raised in" in detached[0].getMessage()
    assert bad not in r.listeners


def test_run_timeout_while_a_step_waits_to_retry_fails_it(registry: ActionRegistry) -> None:
    registry.register("t", "bad", lambda: 1 / 0)
    r = Run([S("a", action="bad", max_retries=5), S("b", dependencies=["a"])], workflow="w",
            registry=registry, retry_backoff=10, timeout=0.2, check_transitions=True)
    asyncio.run(asyncio.wait_for(r.execute(), 10))
    assert r.illegal_transitions == []
    assert r.record("a").status == "failed" and r.record("a").attempts == 1
    assert r.record("a").reason == "workflow timed out after 0.2s"
    assert r.record("b").status == "skipped" and r.status == "failed"
    assert "Step a failed: ZeroDivisionError: division by zero (no retry: workflow timed out" in r.errors[-1]


def test_debug_mode_asserts_every_transition(registry: ActionRegistry) -> None:
    registry.register("t", "noop", lambda: None)

    class Rewind(BaseListener):
        def step_changed(self, run, index, state):
            if state == "succeeded":
                run._set(index, run.records[index], "running")  # succeeded -> running is illegal

    r = Run([S("a")], workflow="w", registry=registry, listeners=[Rewind()], check_transitions=True)
    with pytest.raises(AssertionError, match="illegal step transitions: step 'a': illegal step transition succeeded -> running"):
        asyncio.run(r.execute())
    assert r.done  # it ended (and would have been recorded) before the assertion


# -- sync steps: time counts from the start; resources held until the thread returns ----------
def test_a_sync_step_queued_behind_busy_threads_times_out_from_its_start(registry: ActionRegistry) -> None:
    from codomyrmex_jupyter import runtime
    from codomyrmex_jupyter.engine.executors import LocalExecutor

    registry.register("t", "busy", lambda: time.sleep(0.6))
    registry.register("t", "short", lambda: time.sleep(0.1) or "done")
    pool = runtime.WorkerPool(max_workers=1)  # one thread: "short" waits 0.6 s in the queue
    try:
        r = run([S("busy", action="busy"), S("short", action="short", timeout=0.4)], registry,
                executor=LocalExecutor(pool=pool), check_transitions=True)
    finally:
        pool.shutdown()
    assert r.status == "completed", r.errors
    assert r.results["short"] == "done"


def test_a_timed_out_sync_step_keeps_its_resource_until_its_thread_returns(registry: ActionRegistry) -> None:
    from codomyrmex_jupyter.engine.resources import ResourcePool

    released = threading.Event()
    started: dict[str, float] = {}
    t0 = time.monotonic()

    def hog() -> None:
        started["hog"] = time.monotonic() - t0
        time.sleep(0.8)
        started["hog_returned"] = time.monotonic() - t0

    def user() -> None:
        started["user"] = time.monotonic() - t0

    registry.register("t", "hog", hog)
    registry.register("t", "user", user)
    pool = ResourcePool()
    pool.add("gpu", 1)
    seen_holders: list[list[str]] = []

    class Watch(BaseListener):
        def step_changed(self, run, index, state):
            if run.graph.names[index] == "hog" and state == "failed":
                seen_holders.append([h.holder for h in pool.holdings()])

    pool.subscribe(lambda change: released.set() if change.kind == "released" else None)
    steps = [S("hog", action="hog", timeout=0.2, resources={"gpu": 1}),
             S("user", action="user", resources={"gpu": 1})]
    r = run(steps, registry, resources=pool, listeners=[Watch()], check_transitions=True,
            max_concurrency=2)
    hog = r.record("hog")
    assert hog.status == "failed" and "timed out after 0.2s" in hog.error
    assert hog.reason == "its thread still runs and keeps the step's resources booked until it returns"
    assert seen_holders == [[f"{r.run_id}:hog"]]  # shown as held by the timed-out step
    # the GPU was granted to "user" only once hog's thread had really returned
    assert started["user"] >= started["hog_returned"] - 0.01, started
    assert r.record("user").status == "succeeded"
    assert pool.holdings() == []


def test_a_sync_step_cancelled_while_queued_never_counts_an_attempt(registry: ActionRegistry) -> None:
    from codomyrmex_jupyter import runtime
    from codomyrmex_jupyter.engine.executors import LocalExecutor

    ran: list[str] = []
    release = threading.Event()
    registry.register("t", "busy", lambda: release.wait(10))  # holds the only thread until released
    registry.register("t", "queued", lambda: ran.append("queued"))
    pool = runtime.WorkerPool(max_workers=1)

    async def main() -> Run:
        r = Run([S("busy", action="busy"), S("queued", action="queued")], workflow="w", registry=registry,
                executor=LocalExecutor(pool=pool), check_transitions=True)
        asyncio.get_running_loop().call_later(0.1, r.cancel, "stop")
        return await r.execute()

    try:
        r = asyncio.run(main())
    finally:
        release.set()
        pool.shutdown()
    queued = r.record("queued")
    assert (queued.status, queued.attempts, queued.start) == ("cancelled", 0, None)
    assert r.record("busy").attempts == 1 and ran == []
