"""The sans-I/O task queue: exact ready lists for exact event sequences."""

from __future__ import annotations

import pytest

from codomyrmex_jupyter.engine.task_queue import TaskQueue


def make(*specs: tuple[str, int, tuple[str, ...]]) -> TaskQueue:
    q = TaskQueue()
    for key, priority, deps in specs:
        assert q.add(key, priority=priority, dependencies=deps) is None
    return q


def test_priority_then_fifo() -> None:
    q = make(("a", 1, ()), ("b", 3, ()), ("c", 2, ()), ("d", 3, ()), ("e", 1, ()))
    assert q.get_ready() == ["b", "d", "c", "a", "e"]
    assert q.count("running") == 5


def test_limit_hands_out_the_best_first() -> None:
    q = make(("a", 1, ()), ("b", 4, ()), ("c", 2, ()))
    assert q.get_ready(2) == ["b", "c"]
    assert q.get_ready(2) == ["a"]
    assert q.get_ready(2) == []


def test_dependencies_release_in_order() -> None:
    q = make(("a", 2, ()), ("b", 2, ("a",)), ("c", 4, ("a",)), ("d", 2, ("b", "c")))
    assert q.get_ready() == ["a"]
    assert q.state("b") == "waiting"
    assert q.done("a", ok=True) == []
    assert q.get_ready() == ["c", "b"]
    q.done("c", ok=True)
    assert q.get_ready() == []
    q.done("b", ok=True)
    assert q.get_ready() == ["d"]
    q.done("d", ok=True)
    assert not q.is_active()


def test_failure_skips_transitive_dependents_with_their_cause() -> None:
    q = make(("a", 2, ()), ("b", 2, ("a",)), ("c", 2, ("b",)), ("x", 2, ()))
    assert q.get_ready() == ["a", "x"]
    assert q.done("a", ok=False) == [("b", "a"), ("c", "b")]
    assert [q.state(k) for k in "abc"] == ["failed", "skipped", "skipped"]
    assert q.is_active()  # x still running
    q.done("x", ok=True)
    assert not q.is_active()


def test_cancel_pending_and_running() -> None:
    q = make(("a", 2, ()), ("b", 2, ("a",)), ("c", 2, ()))
    assert q.cancel("c") == []
    assert q.get_ready() == ["a"]  # c's stale heap entry is dropped
    assert q.cancel("a") == [("b", "a")]
    assert q.cancel("a") is None  # already ended
    assert [q.state(k) for k in "abc"] == ["cancelled", "skipped", "cancelled"]


def test_add_after_dependency_ended() -> None:
    q = make(("a", 2, ()), ("f", 2, ()))
    q.get_ready()
    q.done("a", ok=True)
    q.done("f", ok=False)
    assert q.add("b", dependencies=["a"]) is None
    assert q.get_ready() == ["b"]
    assert q.add("c", dependencies=["a", "f"]) == "f"
    assert q.state("c") == "skipped"


def test_defer_and_unblock_keep_order_and_do_not_hold_others() -> None:
    q = make(("big1", 3, ()), ("big2", 3, ()), ("small", 1, ()))
    assert q.get_ready(1) == ["big1"]
    q.defer("big1")
    assert q.get_ready(1) == ["big2"]
    q.defer("big2")
    assert q.get_ready() == ["small"]
    assert q.state("big1") == "blocked"
    assert q.unblock() == 2
    assert q.get_ready() == ["big1", "big2"]


def test_cancel_blocked_key() -> None:
    q = make(("a", 2, ()))
    q.get_ready()
    q.defer("a")
    assert q.cancel("a") == []
    assert q.unblock() == 0
    assert q.get_ready() == []


def test_requeue_running_key() -> None:
    q = make(("a", 2, ()), ("b", 1, ()))
    assert q.get_ready(1) == ["a"]
    q.requeue("a")
    assert q.get_ready() == ["a", "b"]


def test_add_finished_history() -> None:
    q = TaskQueue()
    q.add_finished("old_ok", ok=True)
    q.add_finished("old_bad", ok=False)
    assert q.add("n1", dependencies=["old_ok"]) is None
    assert q.add("n2", dependencies=["old_bad"]) == "old_bad"
    assert q.get_ready() == ["n1"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda q: q.add("a"), "already in the queue"),
        (lambda q: q.add("z", dependencies=["nope"]), "unknown dependency nope"),
        (lambda q: q.done("a", ok=True), "is not running"),
        (lambda q: q.defer("a"), "is not running"),
        (lambda q: q.cancel("nope"), "not in the queue"),
    ],
)
def test_bad_events(action, message) -> None:
    q = make(("a", 2, ()))
    with pytest.raises((KeyError, ValueError), match=message):
        action(q)


def test_duplicate_dependencies_count_once() -> None:
    q = make(("a", 2, ()), ("b", 2, ("a", "a")))
    q.get_ready()
    q.done("a", ok=True)
    assert q.get_ready() == ["b"]


def test_len_contains_has_ready() -> None:
    q = make(("a", 2, ()), ("b", 2, ("a",)))
    assert len(q) == 2
    assert "b" in q
    assert "z" not in q
    assert q.has_ready()
    q.get_ready()
    assert not q.has_ready()
