"""The Dask executor on a real cluster: a ``dask scheduler`` and two ``dask worker`` processes.

Data stays on the workers, worker resources and priorities reach Dask, a
killed worker's step runs again elsewhere and says so, results are fetched
when read, and a 500-step workflow runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, WorkflowStep
from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.remote import RemoteResult, RemoteResults

pytestmark = pytest.mark.dask

BIG = 200_000_000


# -- step functions (imported by the workers from this module) --------------------------------
def big() -> bytes:
    return b"x" * BIG


def length(big: bytes) -> int:
    return len(big)


def where() -> str:
    from distributed import get_worker

    return str(get_worker().address)


def own_priority() -> Any:
    from distributed import get_worker
    from distributed.worker import thread_state

    return list(get_worker().state.tasks[thread_state.key].priority)


def slow_pid(marker: str, seconds: float = 3.0) -> int:
    from distributed import get_worker

    Path(marker).write_text(json.dumps({"pid": os.getpid(), "address": get_worker().address}))
    time.sleep(seconds)
    return os.getpid()


def add(x: int = 0, **upstream: int) -> int:
    return x + sum(upstream.values())


def document_from_execution(ex: Any) -> dict[str, Any]:
    from codomyrmex_jupyter.display.bundles import execution_bundle

    return execution_bundle(ex)["application/vnd.codomyrmex.dag+json"]


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(dask_processes) -> Iterator[Any]:
    import distributed

    c = distributed.Client(dask_processes.address, set_as_default=False, timeout=30)
    yield c
    c.close()


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[WorkflowManager]:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    for fn in (big, length, where, own_priority, slow_pid, add):
        reg.register("t", fn.__name__, fn)
    m = WorkflowManager(config_dir=tmp_path, registry=reg)
    yield m
    m.close()


def step(name: str, action: str, **kw: Any) -> WorkflowStep:
    kw.setdefault("max_retries", 0)
    return WorkflowStep(name, "t", action, **kw)


# -- data locality --------------------------------------------------------------------------------
_MEMORY_SCRIPT = textwrap.dedent('''
    import json, resource, sys
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep
    from codomyrmex_jupyter.engine.actions import ActionRegistry

    def big():
        return b"x" * 200_000_000

    def length(big):
        return len(big)

    if __name__ == "__main__":
        reg = ActionRegistry(load_builtins=False, load_entry_points=False)
        reg.register("t", "big", big)
        reg.register("t", "length", length)
        m = WorkflowManager(config_dir=sys.argv[2], registry=reg)
        m.create_workflow("w", [WorkflowStep("big", "t", "big", max_retries=0),
                                WorkflowStep("length", "t", "length", dependencies=["big"], max_retries=0)])
        m.run_workflow("w", executor=sys.argv[1])  # connect and warm up: imports, threads
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ex = m.run_workflow("w", executor=sys.argv[1])
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"status": ex.status.value, "length": ex.results["length"],
                          "on_cluster": ex.results.on_cluster(), "grew_kb": after - before}))
''')


def test_a_200_mb_result_feeds_the_next_step_without_reaching_the_kernel(dask_processes, tmp_path) -> None:
    script = tmp_path / "kernel.py"
    script.write_text(_MEMORY_SCRIPT)
    address = dask_processes.address.replace("tcp://", "dask://")
    out = subprocess.run(
        [sys.executable, str(script), address, str(tmp_path / "home")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["status"] == "completed"
    assert got["length"] == BIG
    assert got["on_cluster"] == ["big"]  # the intermediate was never fetched
    assert got["grew_kb"] < 50_000, got  # the kernel process did not hold the 200 MB


def test_results_are_fetched_when_read(manager, client) -> None:
    manager.create_workflow("w", [step("a", "add", parameters={"x": 1}),
                                  step("b", "add", dependencies=["a"]),
                                  step("c", "add", dependencies=["b"], parameters={"x": 10})])
    ex = manager.run_workflow("w", executor=client, fetch="none")
    assert ex.status is WorkflowStatus.COMPLETED, ex.errors
    results = ex.results
    assert isinstance(results, RemoteResults)
    assert results.on_cluster() == ["a", "b", "c"]
    handle = results.handle("b")
    assert isinstance(handle, RemoteResult) and handle.type_name == "int"
    assert results["b"] == 1  # fetched now, and kept
    assert results.on_cluster() == ["a", "c"]
    assert handle.fetched
    assert dict(results) == {"a": 1, "b": 1, "c": 11}  # plain reads fetch the rest
    assert results.on_cluster() == []
    leaves = manager.run_workflow("w", executor=client)  # fetch="leaves" by default
    assert leaves.results.on_cluster() == ["a", "b"]
    every = manager.run_workflow("w", executor=client, fetch="all")
    assert every.results.on_cluster() == []
    with pytest.raises(ValueError, match="fetch must be 'leaves', 'all' or 'none'"):
        manager.run_workflow("w", executor=client, fetch="some")


def test_summaries_and_the_store_describe_results_left_on_the_cluster(manager, client) -> None:
    manager.create_workflow("w", [step("a", "add", parameters={"x": 2}),
                                  step("b", "add", dependencies=["a"])])
    ex = manager.run_workflow("w", executor=client)
    doc = document_from_execution(ex)
    summaries = {n["id"]: n["result"] for n in doc["nodes"]}
    assert summaries["a"]["remote"] is True and "on the Dask cluster" in summaries["a"]["text"]
    assert summaries["b"]["text"] == "2"  # the leaf was fetched at the end
    assert ex.results.on_cluster() == ["a"]  # describing it did not fetch it
    stored = manager.store.get_run(ex.execution_id)
    rows = {s["name"]: s for s in stored["steps"]}
    assert rows["a"]["result"] is None and rows["a"]["result_note"].startswith("not fetched: int on")
    assert rows["b"]["result"] == 2


# -- resources, priorities ------------------------------------------------------------------------
def test_worker_resources_send_a_step_to_the_worker_that_declares_them(manager, client) -> None:
    manager.create_workflow("w", [step(f"gpu{i}", "where", resources={"GPU": 1}) for i in range(4)])
    ex = manager.run_workflow("w", executor=client)
    assert ex.status is WorkflowStatus.COMPLETED, ex.errors
    workers = client.scheduler_info(n_workers=-1)["workers"]
    gpu = [a for a, w in workers.items() if w.get("resources", {}).get("GPU")]
    assert set(ex.results.values()) == set(gpu) and len(gpu) == 1


def test_a_resource_no_worker_declares_fails_at_once_naming_the_declared_ones(manager, client) -> None:
    manager.create_workflow("w", [step("tpu", "add", resources={"TPU": 1}, max_retries=3),
                                  step("after", "add", dependencies=["tpu"])])
    t0 = time.monotonic()
    ex = manager.run_workflow("w", executor=client)
    assert time.monotonic() - t0 < 10
    assert ex.status is WorkflowStatus.FAILED
    assert ex.step_records["tpu"].attempts == 1  # refused at its first attempt, not retried
    assert ex.step_records["after"].status == "skipped"
    assert "'TPU', which no Dask worker declares (workers declare: GPU)" in ex.errors[0]


def test_step_priority_is_the_dask_priority(manager, client) -> None:
    from codomyrmex_jupyter.api.task_models import TaskPriority

    manager.create_workflow("w", [step("urgent", "own_priority", priority=7),
                                  step("plain", "own_priority"),
                                  step("high", "own_priority", priority=TaskPriority.HIGH)])
    ex = manager.run_workflow("w", executor=client)
    assert ex.status is WorkflowStatus.COMPLETED, ex.errors
    # Dask orders tasks by the tuple (-priority, ...), smallest first
    assert ex.results["urgent"][0] == -7
    assert ex.results["plain"][0] == 0
    assert ex.results["high"][0] == -3


# -- lost workers ---------------------------------------------------------------------------------
def test_a_killed_worker_s_step_runs_again_elsewhere_and_the_record_says_so(
    dask_processes, manager, client, tmp_path
) -> None:
    marker = tmp_path / "started.json"
    manager.create_workflow("w", [step("slow", "slow_pid", parameters={"marker": str(marker)})])
    handle = manager.start_workflow("w", executor=client)
    deadline = time.monotonic() + 30
    while not marker.exists() or not marker.read_text():
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.05)
    first = json.loads(marker.read_text())
    marker.unlink()
    name = dask_processes.kill_worker_with_pid(first["pid"])
    try:
        ex = handle.result(timeout=60)
        assert ex.status is WorkflowStatus.COMPLETED, ex.errors
        assert ex.results["slow"] != first["pid"]  # it ran again, in the other worker's process
        rec = ex.step_records["slow"]
        assert rec.attempts == 1  # Dask's re-run is not one of max_retries' attempts
        assert f"worker {first['address']} was lost while it ran attempt 1" in (rec.reason or "")
    finally:
        resources = {"GPU": 1} if name == "gpu-worker" else {}
        dask_processes.add_worker(name, resources)
        dask_processes.wait_for_workers(2)


# -- size ---------------------------------------------------------------------------------------------
def test_a_500_step_workflow(manager, client) -> None:
    steps = [step("root", "add", parameters={"x": 1})]
    for layer in range(1, 5):
        for j in range(125 if layer < 4 else 124):
            parent = "root" if layer == 1 else f"L{layer - 1}_{j}"
            steps.append(step(f"L{layer}_{j}", "add", dependencies=[parent]))
    assert len(steps) == 500
    t0 = time.monotonic()
    manager.create_workflow("w500", steps)
    ex = manager.run_workflow("w500", executor=client)
    elapsed = time.monotonic() - t0
    assert ex.status is WorkflowStatus.COMPLETED, ex.errors[:3]
    assert ex.performance_metrics["counts"] == {"succeeded": 500}
    assert ex.results["L4_0"] == 1
    assert len(ex.results.on_cluster()) == 500 - 125  # only the leaves (L4_*, L3_124) came back
    assert elapsed < 60


def test_dashboard_link_and_key_prefix(manager, client) -> None:
    from codomyrmex_jupyter.engine.executors.dask import DaskExecutor

    manager.create_workflow("prefixes", [step(f"s{i}", "add") for i in range(5)])
    ex = manager.run_workflow("prefixes", executor=client, fetch="none")
    keys = [ex.results.handle(f"s{i}").future.key for i in range(5)]
    from dask.utils import key_split

    assert {key_split(k) for k in keys} == {"prefixes"}  # one prefix for the whole run
    link = DaskExecutor(client).dashboard_link
    assert link is not None and link.startswith("http://127.0.0.1:")
    assert document_from_execution(ex)["dashboard"] == link
    stored = manager.store.get_run(ex.execution_id)
    from codomyrmex_jupyter.display.run_document import stored_run_document

    assert stored_run_document(stored)["dashboard"] == link


# -- tasks -------------------------------------------------------------------------------------------
_flaky_calls: list[int] = []


def flaky_once(marker: str) -> str:
    path = Path(marker)
    if not path.exists():
        path.write_text("failed once")
        raise RuntimeError("first attempt fails")
    return "second attempt"


def test_task_orchestrator_runs_its_tasks_on_the_cluster(client, tmp_path) -> None:
    from codomyrmex_jupyter.api.task_models import TaskPriority, TaskStatus
    from codomyrmex_jupyter.api.tasks import TaskOrchestrator

    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    for fn in (add, own_priority, where, flaky_once):
        reg.register("t", fn.__name__, fn)
    orch = TaskOrchestrator(max_workers=2, registry=reg, executor=client)
    a = orch.create_task("a", "t", "add", parameters={"x": 2})
    b = orch.create_task("b", "t", "add", dependencies=["a"], parameters={"x": 3})
    p = orch.create_task("p", "t", "own_priority", priority=TaskPriority.CRITICAL)
    w = orch.create_task("w", "t", "where")
    f = orch.create_task("f", "t", "flaky_once", parameters={"marker": str(tmp_path / "m")},
                         max_retries=1, retry_delay=0.01)
    orch.start_execution()
    try:
        assert orch.wait_for_completion(timeout=60)
    finally:
        orch.stop_execution()
    assert a.result.value == 2 and b.result.value == 5  # the dependency's value flowed in
    assert p.result.value[0] == -int(TaskPriority.CRITICAL)  # the Dask priority
    assert w.result.value in client.scheduler_info(n_workers=-1)["workers"]  # ran on a worker
    assert f.status is TaskStatus.COMPLETED and f.result.attempts == 2  # retried as locally
