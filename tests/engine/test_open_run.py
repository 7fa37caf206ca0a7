"""OpenRun: the runner's shell over a graph that grows while it runs and ends when stopped."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.events import BaseListener
from codomyrmex_jupyter.engine.open_run import OpenRun
from codomyrmex_jupyter.engine.resources import ResourcePool
from codomyrmex_jupyter.engine.state import TRANSITIONS


@dataclass
class N:
    name: str
    module: str = "o"
    action: str = "add"
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    timeout: float | None = None
    max_retries: int = 0
    retry_delay: float | None = None
    priority: int = 0
    resources: dict[str, float] | None = None


class Seen(BaseListener):
    def __init__(self) -> None:
        self.states: dict[str, list[str]] = {}

    def step_changed(self, run: Any, index: int, state: str) -> None:
        self.states.setdefault(run.graph.names[index], ["pending"]).append(state)


def add(x: int = 0, **upstream: int) -> int:
    return x + sum(upstream.values())


def fail() -> None:
    raise ValueError("expected failure")


@pytest.fixture
def reg() -> ActionRegistry:
    r = ActionRegistry(load_builtins=False, load_entry_points=False)
    r.register("o", "add", add)
    r.register("o", "fail", fail)
    return r


def open_run(reg: ActionRegistry, **kw: Any) -> tuple[OpenRun, Seen]:
    seen = Seen()
    return OpenRun(workflow="open", registry=reg, listeners=[seen], check_transitions=True, **kw), seen


async def until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.005)


async def serve_until_done(run: OpenRun) -> None:
    serving = asyncio.create_task(run.execute())
    await until(lambda: run.unfinished() == 0)
    run.stop("done")
    await serving


def test_nodes_added_before_and_while_serving_run_and_stop_ends_it(reg) -> None:
    run, seen = open_run(reg)
    a = run.add(N("a", parameters={"x": 1}))

    async def main() -> None:
        serving = asyncio.create_task(run.execute())
        await until(lambda: run.records[a].status == "succeeded")
        b = run.add(N("b", parameters={"x": 2}), [a])  # from the loop, after its parent ended
        added: list[int] = []
        thread = threading.Thread(target=lambda: added.append(run.add(N("c"), [a])))
        thread.start()
        thread.join()
        await until(lambda: run.unfinished() == 0)
        assert not serving.done()  # an open run ends only when stopped
        assert (run.records[b].result, run.records[added[0]].result) == (3, 1)
        run.stop("done")
        await serving

    asyncio.run(main())
    assert seen.states["b"] == ["pending", "ready", "running", "succeeded"]
    assert run.graph.parents[1] == (0,)
    assert run.graph.children[0] == [1, 2]
    assert run.graph.layers == [0, 1, 1]
    assert run.executing is False


def test_a_node_added_under_a_failure_is_skipped_naming_its_dependency(reg) -> None:
    run, _seen = open_run(reg)
    bad = run.add(N("bad", action="fail"))
    mid = run.add(N("mid"), [bad])
    leaf = run.add(N("leaf"), [mid])

    async def main() -> None:
        serving = asyncio.create_task(run.execute())
        await until(lambda: run.unfinished() == 0)
        late = run.add(N("late"), [leaf])
        assert run.records[late].status == "skipped"
        run.stop("done")
        await serving

    asyncio.run(main())
    assert [r.status for r in run.records] == ["failed", "skipped", "skipped", "skipped"]
    assert [r.reason for r in run.records[1:]] == [
        "dependency 'bad' failed", "dependency 'mid' skipped", "dependency 'leaf' skipped",
    ]
    assert run.causes == {1: 0, 2: 1, 3: 2}
    assert isinstance(run.node_errors[bad], ValueError)


def test_cancel_a_waiting_node_and_a_running_one_from_another_thread(reg) -> None:
    started = asyncio.Event()
    cleaned: list[str] = []

    async def long() -> None:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cleaned.append("cancelled")
            raise

    reg.register("o", "long", long)
    run, seen = open_run(reg)
    waiting = run.add(N("waiting"))
    after = run.add(N("after"), [waiting])
    assert run.cancel_node(waiting, "not wanted") is True
    assert run.cancel_node(waiting, "again") is False
    assert [r.status for r in run.records] == ["cancelled", "skipped"]
    assert run.records[after].reason == "dependency 'waiting' cancelled"

    async def main() -> None:
        serving = asyncio.create_task(run.execute())
        node = run.add(N("long", action="long"))
        child = run.add(N("child"), [node])
        await started.wait()
        result: list[bool] = []
        thread = threading.Thread(target=lambda: result.append(run.cancel_node(node, "by hand")))
        thread.start()
        thread.join()
        assert result == [True]
        assert run.records[child].status == "skipped"
        await until(lambda: cleaned == ["cancelled"])
        run.stop("done")
        await serving

    asyncio.run(main())
    assert seen.states["long"] == ["pending", "ready", "running", "cancelled"]
    assert run.records[2].reason == "by hand"


def test_stop_cancels_running_keeps_waiting_nodes_and_serving_again_goes_on(reg) -> None:
    gate = threading.Event()
    reg.register("o", "block", lambda: gate.wait(10))
    run, _ = open_run(reg, max_concurrency=1)
    blocking = run.add(N("block", action="block"))
    later = run.add(N("later"))

    async def first() -> None:
        serving = asyncio.create_task(run.execute())
        await until(lambda: run.records[blocking].status == "running")
        run.stop("stopped")
        await serving

    asyncio.run(first())
    assert (run.records[blocking].status, run.records[later].status) == ("cancelled", "ready")
    assert run.records[blocking].reason == "stopped"
    gate.set()

    async def second() -> None:
        serving = asyncio.create_task(run.execute())  # a new loop: the executor follows it
        await until(lambda: run.unfinished() == 0)
        run.stop("done")
        await serving

    asyncio.run(second())
    assert run.records[later].status == "succeeded"


def test_stop_before_serving_ends_the_next_serve_at_once(reg) -> None:
    run, _ = open_run(reg)
    run.add(N("a"))
    run.stop("early")

    async def main() -> None:
        await asyncio.wait_for(run.execute(), 5)

    asyncio.run(main())
    assert run.records[0].status == "ready"  # not started, not lost


def test_a_fixed_retry_delay_and_a_timeout_that_is_not_retried(reg) -> None:
    calls: list[float] = []

    def flaky() -> str:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise ConnectionError("again")
        return "ok"

    async def slow() -> None:
        await asyncio.sleep(30)

    reg.register("o", "flaky", flaky)
    reg.register("o", "slow", slow)
    run, _ = open_run(reg, retry_backoff=5.0)  # the nodes' own delay wins over the backoff
    run.add(N("flaky", action="flaky", max_retries=3, retry_delay=0.05))
    run.add(N("slow", action="slow", timeout=0.05, max_retries=3, retry_delay=0.0))

    asyncio.run(serve_until_done(run))
    assert [r.status for r in run.records] == ["succeeded", "failed"]
    assert (run.records[0].attempts, run.records[1].attempts) == (3, 1)
    assert all(0.04 < b - a < 2.0 for a, b in itertools.pairwise(calls))
    assert "timed out after 0.05s" in (run.records[1].error or "")


def test_resources_wait_aside_and_holders_use_the_prefix(reg) -> None:
    pool = ResourcePool()
    pool.add("gpu", 1.0)
    seen_holders: list[list[str]] = []

    def hold() -> None:
        seen_holders.append([h.holder for h in pool.holdings()])

    reg.register("o", "hold", hold)
    run, _ = open_run(reg, resources=pool, holder_prefix="job:")
    run.add(N("one", action="hold", resources={"gpu": 1.0}), key="k1")
    run.add(N("two", action="hold", resources={"gpu": 1.0}), key="k2")
    run.add(N("free"), key="k3")
    with pytest.raises(KeyError, match="already a node"):
        run.add(N("dup"), key="k1")

    asyncio.run(serve_until_done(run))
    assert [r.status for r in run.records] == ["succeeded"] * 3
    assert sorted(seen_holders) == [["job:k1"], ["job:k2"]]
    assert pool.holdings() == []
    bare = OpenRun(workflow="bare", registry=reg)
    with pytest.raises(ValueError, match="no resource pool"):
        bare.add(N("needs", resources={"gpu": 1.0}))
    assert len(bare.records) == 0  # refused before it was added


# -- properties ----------------------------------------------------------------------------
@st.composite
def growing_dags(draw: Any) -> list[tuple[tuple[int, ...], bool, int]]:
    """(parents, fails, pause) per node: nodes are added in order, pausing where ``pause`` changes."""
    n = draw(st.integers(1, 15))
    nodes = []
    for i in range(n):
        parents = tuple(sorted(draw(st.sets(st.integers(0, i - 1), max_size=min(i, 3))))) if i else ()
        nodes.append((parents, draw(st.booleans()) and draw(st.booleans()), draw(st.integers(0, 2))))
    return nodes


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nodes=growing_dags(), concurrency=st.sampled_from([1, 3]), from_thread=st.booleans())
def test_a_graph_grown_while_it_runs_keeps_the_promises_of_a_whole_one(
    nodes: list[tuple[tuple[int, ...], bool, int]], concurrency: int, from_thread: bool
) -> None:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}

    async def step(me: str, bad: bool) -> None:
        starts[me] = time.monotonic()
        await asyncio.sleep(0.001)
        ends[me] = time.monotonic()
        if bad:
            raise RuntimeError(me)

    reg.register("o", "step", step)
    run, seen = open_run(reg, max_concurrency=concurrency)
    names = [f"n{i}" for i in range(len(nodes))]

    def add(i: int) -> None:
        parents, bad, _ = nodes[i]
        run.add(N(names[i], action="step", parameters={"me": names[i], "bad": bad}), parents)

    async def main() -> None:
        serving = asyncio.create_task(run.execute())
        for i in range(len(nodes)):
            if i and nodes[i][2] != nodes[i - 1][2]:
                await asyncio.sleep(0.002)  # let some run before the graph grows again
            if from_thread:
                t = threading.Thread(target=add, args=(i,))
                t.start()
                t.join()
            else:
                add(i)
        await until(lambda: run.unfinished() == 0)
        run.stop("done")
        await serving

    asyncio.run(main())
    assert len(run.records) == len(nodes)
    assert run.illegal_transitions == []
    for states in seen.states.values():
        for old, new in itertools.pairwise(states):
            assert new in TRANSITIONS[old]
    failed = {i for i, (_, bad, _) in enumerate(nodes) if bad}
    for i, (parents, _bad, _) in enumerate(nodes):
        status = run.records[i].status
        parent_ok = all(run.records[p].status == "succeeded" for p in parents)
        if not parent_ok:
            assert status == "skipped"
            cause = run.causes[i]
            assert cause in parents and run.records[cause].status in ("failed", "skipped")
        else:
            assert status == ("failed" if i in failed else "succeeded")
            for p in parents:  # never before its parents ended
                assert ends[names[p]] <= starts[names[i]]
