"""The runtime: sync calls inside running loops, background tasks, loop modes."""

from __future__ import annotations

import asyncio
import threading

import pytest

from codomyrmex_jupyter import runtime


async def answer(x: int = 42) -> int:
    await asyncio.sleep(0)
    return x


def test_run_sync_without_a_loop() -> None:
    assert runtime.run_sync(answer()) == 42


def test_run_sync_inside_a_running_loop() -> None:
    async def main() -> int:
        # what a notebook cell does when it calls a sync API
        return runtime.run_sync(answer(7))

    assert asyncio.run(main()) == 7


def test_run_sync_from_the_loop_thread_is_refused() -> None:
    async def inner() -> None:
        runtime.run_sync(answer())

    with pytest.raises(RuntimeError, match="use the async API"):
        runtime.run_sync(inner())


def test_spawn_result_await_and_cancel() -> None:
    task = runtime.spawn(answer(3))
    assert task.result(5) == 3 and task.done()

    async def waiter() -> int:
        return await runtime.spawn(answer(5))

    assert asyncio.run(waiter()) == 5
    cleaned = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.set()

    t = runtime.spawn(forever())
    t.cancel()
    with pytest.raises(Exception) as info:
        t.result(5)
    assert type(info.value).__name__ == "CancelledError"
    assert cleaned.is_set()


def test_worker_pool_batches_completions() -> None:
    async def main() -> list[int]:
        loop = asyncio.get_running_loop()
        inbox = runtime.Inbox(loop)
        done: list[int] = []
        finished = loop.create_future()

        def cb(ok: bool, value: int) -> None:
            assert ok
            done.append(value)
            if len(done) == 100:
                finished.set_result(None)

        pool = runtime.WorkerPool(3)
        for i in range(100):
            pool.submit(lambda i=i: i * 2, {}, inbox, cb)
        await finished
        pool.shutdown()
        assert pool.threads == 0
        return done

    assert sorted(asyncio.run(main())) == [i * 2 for i in range(100)]


def test_loop_modes() -> None:
    with pytest.raises(ValueError, match="unknown loop mode"):
        runtime.set_loop_mode("bogus")  # type: ignore[arg-type]
    assert runtime.get_loop_mode() == "thread"


def test_shutdown_is_idempotent_and_restartable() -> None:
    runtime.run_sync(answer())
    runtime.shutdown()
    runtime.shutdown()
    assert not [t for t in threading.enumerate() if t.name == "codomyrmex-loop"]
    assert runtime.run_sync(answer(1)) == 1


def test_a_job_knows_when_it_started_and_runs_hooks_after_it_returns() -> None:
    import time

    async def main() -> tuple[list[str], float | None, bool]:
        loop = asyncio.get_running_loop()
        inbox = runtime.Inbox(loop)
        gate, order = threading.Event(), []
        finished = loop.create_future()
        pool = runtime.WorkerPool(1)
        first = pool.submit(lambda: gate.wait(5) and order.append("first returned"), {}, inbox,
                            lambda ok, v: None)
        queued = pool.submit(lambda: order.append("queued ran"), {}, inbox,
                             lambda ok, v: loop.call_soon_threadsafe(finished.set_result, None))
        while first.started is None:
            await asyncio.sleep(0.001)
        assert queued.started is None and not queued.when_returned(lambda: order.append("never"))
        assert first.when_returned(lambda: order.append("hook"))
        gate.set()
        await finished
        while not first.returned:
            await asyncio.sleep(0.001)
        assert not first.when_returned(lambda: order.append("too late"))
        skipped = pool.submit(lambda: order.append("cancelled ran"), {}, inbox, lambda ok, v: None)
        skipped.cancel()
        pool.shutdown()
        return order, first.started, skipped.started is None

    order, started, skipped = asyncio.run(main())
    assert order == ["first returned", "hook", "queued ran"]
    assert started is not None and started <= time.monotonic() and skipped


def test_every_calls_until_stopped() -> None:
    import time

    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("logged, not fatal")

    stop = runtime.every(0.01, tick, name="test-ticker")
    deadline = time.monotonic() + 5
    while len(calls) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    stop()
    time.sleep(0.05)
    n = len(calls)
    time.sleep(0.05)
    assert len(calls) == n and not [t for t in threading.enumerate() if t.name == "test-ticker"]


NESTED = """
import asyncio, sys
import codomyrmex_jupyter
from codomyrmex_jupyter import WorkflowManager, WorkflowStep, runtime
from codomyrmex_jupyter.engine.store import Store
assert "nest_asyncio2" not in sys.modules and "nest_asyncio" not in sys.modules  # nothing at import
m = WorkflowManager(store=Store(":memory:"))
m.register_action("n", "one", lambda: 1)
m.create_workflow("w", [WorkflowStep("a", "n", "one")])

async def cell():  # a notebook cell: the loop is already running
    runtime.set_loop_mode("nested")
    return m.run_workflow("w").results  # a sync call that runs on this very loop

print(asyncio.run(cell()), "nest_asyncio2" in sys.modules, "nest_asyncio" in sys.modules)
"""


def test_nested_mode_applies_nest_asyncio2_only_when_asked() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", NESTED], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "{'a': 1} True False"
