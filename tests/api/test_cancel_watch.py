"""The owning process honours cancel requests recorded by another process, and watches only while it runs."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from waiting import wait_until

from codomyrmex_jupyter.api.cancel_watch import CancelWatch, cancel_watch
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, WorkflowStep
from codomyrmex_jupyter.engine.cancel_requests import pending_cancel_requests, request_cancel
from codomyrmex_jupyter.engine.store import Store


def _slow_manager(tmp_path: Path, registry) -> WorkflowManager:
    async def wait() -> int:
        await asyncio.sleep(60)
        return 1

    registry.register("t", "wait", wait)
    manager = WorkflowManager(config_dir=tmp_path / "home", registry=registry)
    manager.create_workflow("slow", [WorkflowStep(name="wait", module="t", action="wait")])
    return manager


def test_a_request_from_another_connection_cancels_the_run(tmp_path: Path, registry) -> None:
    manager = _slow_manager(tmp_path, registry)
    handle = manager.start_workflow("slow")
    wait_until(lambda: manager.store.get_run(handle.run_id) is not None)
    wait_until(lambda: cancel_watch.active)  # watched right after the run's row is written
    outsider = Store(tmp_path / "home")  # what the Jupyter server opens
    request_cancel(outsider, handle.run_id, by="cancelled from the Runs panel by tester")
    asked = time.monotonic()
    execution = handle.result(timeout=10)
    latency = time.monotonic() - asked
    assert execution.status == WorkflowStatus.CANCELLED
    assert outsider.get_run(handle.run_id)["status"] == "cancelled"
    assert latency < 5.0  # polled every 0.25 s; generous for a loaded machine
    assert pending_cancel_requests(outsider, [handle.run_id]) == {}  # the owner removed it
    wait_until(lambda: not cancel_watch.active)
    manager.close()


def test_no_ticker_without_runs_and_none_for_memory_stores(tmp_path: Path, registry) -> None:
    watch = CancelWatch(interval=0.05)
    assert not watch.active
    memory = Store(":memory:")

    class _Run:
        run_id = "r"

        def __init__(self) -> None:
            self.cancelled: list[str] = []

        def cancel(self, reason: str = "") -> None:
            self.cancelled.append(reason)

    watch.watch(memory, _Run())  # type: ignore[arg-type]
    assert not watch.active  # nobody else can write a request into a memory store
    store = Store(tmp_path / "s")
    store.start_run("r", "w", version=1, start=time.time(), parameters={})
    run = _Run()
    watch.watch(store, run)  # type: ignore[arg-type]
    assert watch.active
    assert watch.poll() == []
    request_cancel(Store(tmp_path / "s"), "r", by="why")
    wait_until(lambda: run.cancelled == ["why"])
    watch.unwatch("r")
    assert not watch.active
    store.close()


def test_a_failing_store_is_reported_once(tmp_path: Path, caplog) -> None:
    watch = CancelWatch(interval=60)
    store = Store(tmp_path / "s")

    class _Run:
        run_id = "r"

        def cancel(self, reason: str = "") -> None:
            raise AssertionError("must not be cancelled")

    watch.watch(store, _Run())  # type: ignore[arg-type]
    store.close()  # every read now fails
    assert watch.poll() == [] and watch.poll() == []
    assert sum("cannot read cancel requests" in r.message for r in caplog.records) == 1
    watch.unwatch("r")
