"""One conformance suite, run against every executor: local, Dask on a LocalCluster, and Dask on a
separate ``dask scheduler`` with two ``dask worker`` processes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.executors import LocalExecutor
from codomyrmex_jupyter.engine.runner import Run


@dataclass
class S:
    name: str
    module: str = "c"
    action: str = "add"
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    timeout: float | None = None
    max_retries: int = 0


def add(x: int = 0, **upstream: int) -> int:
    return x + sum(upstream.values())


async def aadd(x: int = 0, **upstream: int) -> int:
    await asyncio.sleep(0)
    return x + sum(upstream.values())


def fail() -> None:
    raise ValueError("expected failure")


def nap(seconds: float = 5.0) -> None:
    time.sleep(seconds)


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=2, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=40,
    )
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def cluster_client(dask_processes) -> Iterator[Any]:
    """A client of the separate scheduler + worker processes (see tests/dask_processes.py)."""
    import distributed

    client = distributed.Client(dask_processes.address, set_as_default=False, timeout=30)
    yield client
    client.close()


@pytest.fixture(params=[
    "local",
    pytest.param("dask", marks=pytest.mark.dask),
    pytest.param("dask-processes", marks=pytest.mark.dask),
])
def make_executor(request: pytest.FixtureRequest):
    if request.param == "local":
        return LocalExecutor
    from codomyrmex_jupyter.engine.executors.dask import DaskExecutor

    fixture = "dask_client" if request.param == "dask" else "cluster_client"
    client = request.getfixturevalue(fixture)
    return lambda: DaskExecutor(client)


@pytest.fixture
def reg() -> ActionRegistry:
    r = ActionRegistry(load_builtins=False, load_entry_points=False)
    r.register("c", "add", add)
    r.register("c", "aadd", aadd)
    r.register("c", "fail", fail)
    r.register("c", "nap", nap)
    return r


def execute(steps, reg, executor, **kw) -> Run:
    run = Run(steps, workflow="conf", registry=reg, executor=executor, **kw)
    asyncio.run(run.execute())
    return run


def test_results_flow_through_the_dag(make_executor, reg) -> None:
    steps = [
        S("a", parameters={"x": 1}), S("b", action="aadd", parameters={"x": 2}),
        S("c", dependencies=["a", "b"]), S("d", action="aadd", dependencies=["c"], parameters={"x": 10}),
    ]
    run = execute(steps, reg, make_executor())
    assert run.status == "completed"
    assert run.results == {"a": 1, "b": 2, "c": 3, "d": 13}


def test_failure_skips_descendants(make_executor, reg) -> None:
    steps = [S("bad", action="fail"), S("after", dependencies=["bad"]), S("other", parameters={"x": 5})]
    run = execute(steps, reg, make_executor())
    assert [r.status for r in run.records] == ["failed", "skipped", "succeeded"]
    assert run.errors == ["Step bad failed: ValueError: expected failure"]


def test_step_timeout(make_executor, reg) -> None:
    steps = [S("slow", action="nap", parameters={"seconds": 3.0}, timeout=0.2)]
    t0 = time.monotonic()
    run = execute(steps, reg, make_executor())
    assert time.monotonic() - t0 < 2.5
    assert run.record("slow").status == "failed"
    assert "timed out after 0.2s" in run.errors[0]


def test_cancel(make_executor, reg) -> None:
    run = Run([S("slow", action="nap", parameters={"seconds": 3.0}), S("next", dependencies=["slow"])],
              workflow="conf", registry=reg, executor=make_executor())

    async def main() -> None:
        task = asyncio.create_task(run.execute())
        await asyncio.sleep(0.3)
        run.cancel()
        await task

    asyncio.run(main())
    assert run.status == "cancelled"
    assert [r.status for r in run.records] == ["cancelled", "cancelled"]


def test_a_growing_run_of_tasks(make_executor, reg) -> None:
    """The shell the task orchestrator uses: nodes added while it runs, a node cancelled, a stop."""
    from codomyrmex_jupyter.engine.open_run import OpenRun
    from codomyrmex_jupyter.engine.remote import RemoteResult

    run = OpenRun(workflow="conf-open", registry=reg, executor=make_executor(), check_transitions=True)
    a = run.add(S("a", parameters={"x": 1}))

    async def main() -> None:
        serving = asyncio.create_task(run.execute())
        b = run.add(S("b", action="aadd", parameters={"x": 2}), [a])
        run.add(S("bad", action="fail"))
        after = run.add(S("after"), [b, 2])
        slow = run.add(S("slow", action="nap", parameters={"seconds": 3.0}))
        run.add(S("below", dependencies=[]), [slow])
        deadline = time.monotonic() + 30
        while [run.records[i].status for i in (b, 2, slow)] != ["succeeded", "failed", "running"]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        assert run.cancel_node(slow, "not needed")
        assert run.records[after].reason == "dependency 'bad' failed"
        run.stop("done")
        await serving

    t0 = time.monotonic()
    asyncio.run(main())
    assert time.monotonic() - t0 < 20
    values = [r.result.fetch() if isinstance(r.result, RemoteResult) else r.result for r in run.records]
    assert values[:2] == [1, 3]
    assert [r.status for r in run.records] == [
        "succeeded", "succeeded", "failed", "skipped", "cancelled", "skipped",
    ]


def test_parse_dask_address() -> None:
    from codomyrmex_jupyter.engine.executors.dask import parse_dask_address

    assert parse_dask_address("dask://127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    with pytest.raises(ValueError, match="use dask://HOST:PORT"):
        parse_dask_address("127.0.0.1:8786")
    with pytest.raises(ValueError, match="needs a host and a port"):
        parse_dask_address("dask://localhost")


@pytest.mark.dask
def test_workflow_manager_runs_on_dask(dask_client, tmp_path) -> None:
    from codomyrmex_jupyter import WorkflowManager, WorkflowStatus, WorkflowStep

    m = WorkflowManager(config_dir=tmp_path)
    m.create_workflow("env", [
        WorkflowStep("setup", "environment_setup", "check_environment"),
        WorkflowStep("analyze", "static_analysis", "analyze_code",
                     parameters={"path": str(tmp_path)}, dependencies=["setup"]),
    ])
    (tmp_path / "mod.py").write_text("def f(x):\n    if x:\n        return 1\n    return 2\n")
    ex = m.run_workflow("env", executor=dask_client)
    assert ex.status == WorkflowStatus.COMPLETED, ex.errors
    assert ex.performance_metrics["executor"] == "dask"
    assert ex.results["analyze"]["functions"] == 1
    assert ex.results["setup"]["python"]["version"]
    m.close()
