"""The scheduling core on its own: no loop, no threads, events in and ready nodes out."""

from __future__ import annotations

import graphlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codomyrmex_jupyter.engine import scheduling as sc
from codomyrmex_jupyter.engine.scheduling import Schedule


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 30) -> tuple[list[list[int]], list[int]]:
    """Random DAGs in definition order (a node's parents come before it) with priorities."""
    n = draw(st.integers(1, max_nodes))
    parents = [
        sorted(draw(st.sets(st.integers(0, i - 1), max_size=min(i, 3)))) if i else []
        for i in range(n)
    ]
    priorities = draw(st.lists(st.integers(-2, 2), min_size=n, max_size=n))
    return parents, priorities


def descendants(parents: list[list[int]], node: int) -> set[int]:
    out: set[int] = set()
    frontier = {node}
    while frontier:
        frontier = {c for c, ps in enumerate(parents) if set(ps) & frontier} - out
        out |= frontier
    return out


@settings(max_examples=200, deadline=None)
@given(dags(), st.data())
def test_random_runs_respect_dependencies_priorities_and_skips(graph, data) -> None:
    parents, priorities = graph
    n = len(parents)
    built_whole = data.draw(st.booleans(), label="built whole")
    if built_whole:
        core = Schedule(parents, None, priorities)
    else:  # the same graph grown node by node
        core = Schedule()
        for ps, prio in zip(parents, priorities, strict=True):
            assert core.add(ps, prio) == (len(core) - 1, None)
    succeeded: set[int] = set()
    failed: set[int] = set()
    skipped: set[int] = set()
    running: set[int] = set()
    started: list[int] = []
    front = -1
    while True:
        ready = [i for i in range(n) if core.state(i) == sc.READY]
        # a ready node is exactly one whose parents all succeeded and that has not started
        expect_ready = [
            i for i in range(n)
            if i not in running | succeeded | failed | skipped and set(parents[i]) <= succeeded
        ]
        assert ready == expect_ready
        if ready and (not running or data.draw(st.booleans(), label="start one")):
            node = core.pop()
            assert node in ready
            assert priorities[node] == max(priorities[i] for i in ready)  # higher first
            if front in ready and priorities[front] == priorities[node]:
                assert node == front  # a retry goes first within its priority
            front = -1
            running.add(node)
            started.append(node)
            continue
        if not running:
            assert core.pop() == -1
            break
        node = data.draw(st.sampled_from(sorted(running)), label="ends")
        running.discard(node)
        outcome = data.draw(st.sampled_from(["ok", "ok", "fail", "retry"]), label="outcome")
        if outcome == "retry":
            core.requeue(node)  # ready again, ahead of its priority's other ready nodes
            front = node
            continue
        if outcome == "ok":
            became = core.succeed(node)
            succeeded.add(node)
            assert set(became) == {
                c for c in range(n) if node in parents[c] and set(parents[c]) <= succeeded
                and c not in skipped
            }
        else:
            pairs = core.fail(node)
            failed.add(node)
            gone = {c for c, _ in pairs}
            assert gone == descendants(parents, node) - running - succeeded - failed - skipped
            for child, cause in pairs:
                assert cause in parents[child]
            skipped |= gone
    # every node ended, each exactly once, and none started before its parents succeeded
    assert succeeded | failed | skipped == set(range(n))
    assert not core.is_active()
    for position, node in enumerate(started):
        assert set(parents[node]) <= set(started[:position])


@settings(max_examples=100, deadline=None)
@given(dags())
def test_all_successes_give_a_topological_order_like_graphlib(graph) -> None:
    parents, _ = graph
    core = Schedule(parents)
    order: list[int] = []
    sorter = graphlib.TopologicalSorter(dict(enumerate(parents)))
    sorter.prepare()
    while True:
        batch = core.get_ready()
        assert sorted(batch) == sorted(sorter.get_ready())  # the same ready sets, step by step
        if not batch:
            break
        for node in batch:
            core.succeed(node)
            sorter.done(node)
        order += batch
    assert sorted(order) == list(range(len(parents)))
    assert not sorter.is_active()


def test_fifo_within_a_priority_and_retries_first() -> None:
    core = Schedule([[], [], [], []], priorities=[0, 1, 0, 1])
    assert core.get_ready() == [1, 3, 0, 2]
    core.requeue(2)
    core.requeue(0)
    assert core.get_ready() == [0, 2]


def test_one_priority_is_plain_fifo() -> None:
    core = Schedule([[], [], [0], [0]])
    assert core.pop() == 0
    assert core.pop() == 1
    assert core.succeed(0) == [2, 3]
    assert core.get_ready() == [2, 3]


def test_deferred_nodes_wait_aside_then_go_first_in_order() -> None:
    core = Schedule([[], [], []], priorities=[5, 5, 1])
    a, b = core.pop(), core.pop()
    core.defer(a)
    core.defer(b)
    assert core.pop() == 2
    assert core.unblock() == 2
    assert core.get_ready() == [0, 1]


def test_growing_graph_skips_a_node_added_under_a_failure() -> None:
    core = Schedule()
    a, _ = core.add()
    assert core.pop() == a
    core.fail(a)
    node, cause = core.add([a])
    assert cause == a
    assert core.state(node) == sc.SKIPPED
    done = core.add_finished(ok=True)
    later, cause = core.add([done])
    assert cause is None
    assert core.pop() == later


def test_cancel_close_and_bad_events() -> None:
    core = Schedule([[], [0], [1]])
    assert core.cancel(0) == [(1, 0), (2, 1)]
    assert core.cancel(0) is None
    assert core.pop() == -1
    core2 = Schedule([[], []])
    assert core2.close(1, sc.CANCELLED)
    assert not core2.close(1, sc.CANCELLED)
    assert core2.get_ready() == [0]  # the closed node's queue entry is dropped
    with pytest.raises(ValueError, match="not running"):
        core2.requeue(1)
    with pytest.raises(IndexError, match="unknown parent"):
        core2.add([7])


def test_limit_hands_out_the_best_first() -> None:
    core = Schedule([[], [], []], priorities=[1, 4, 2])
    assert core.get_ready(2) == [1, 2]
    assert core.get_ready(2) == [0]
    assert core.get_ready(2) == []


def test_dependencies_release_by_priority() -> None:
    core = Schedule([[], [0], [0], [1, 2]], priorities=[2, 2, 4, 2])
    assert core.get_ready() == [0]
    assert core.state(1) == sc.WAITING
    assert core.succeed(0) == [1, 2]
    assert core.get_ready() == [2, 1]
    assert core.succeed(2) == []
    assert core.succeed(1) == [3]


def test_failure_skips_transitive_dependents_with_their_cause() -> None:
    core = Schedule([[], [0], [1], []])
    assert core.get_ready() == [0, 3]
    assert core.fail(0) == [(1, 0), (2, 1)]
    assert [core.state(i) for i in range(3)] == [sc.FAILED, sc.SKIPPED, sc.SKIPPED]
    assert core.is_active()  # 3 still running
    core.succeed(3)
    assert not core.is_active()


def test_cancel_a_deferred_node() -> None:
    core = Schedule([[]])
    core.defer(core.pop())
    assert core.state(0) == sc.BLOCKED
    assert core.cancel(0) == []
    assert core.unblock() == 0
    assert core.get_ready() == []


def test_duplicate_parents_count_once_and_queries() -> None:
    core = Schedule()
    a, _ = core.add()
    b, _ = core.add([a, a])
    assert len(core) == 2
    assert core.has_ready()
    assert core.pop() == a
    assert not core.has_ready()
    assert core.succeed(a) == [b]
    assert (core.count(sc.READY), core.count(sc.SUCCEEDED)) == (1, 1)
    with pytest.raises(ValueError, match="not running"):
        core.defer(b)


def test_a_first_priority_added_to_a_running_fifo_keeps_the_fifo_order() -> None:
    core = Schedule()
    for _ in range(3):
        core.add()
    assert core.pop() == 0
    urgent, _ = core.add(priority=5)  # leaves the one-FIFO fast path
    late, _ = core.add()
    assert core.get_ready() == [urgent, 1, 2, late]
    assert (core.priority(urgent), core.priority(late)) == (5, 0)
