"""Pages of runs: filters, paging, counts, and the index that keeps the first page cheap."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from codomyrmex_jupyter.engine.cancel_requests import request_cancel
from codomyrmex_jupyter.engine.run_query import RunFilter, page_runs, query_plan, resolve_run_id
from codomyrmex_jupyter.engine.store import Store
from codomyrmex_jupyter.errors import AmbiguousRunError, ArgumentError


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Four runs; ``r3`` still running (closing the store stops its heartbeat)."""
    store = Store(tmp_path)
    rows = [
        # run_id, workflow, status, start, notebook, kernel
        ("r1", "etl", "completed", 100.0, "/w/a.ipynb", "k-a"),
        ("r2", "etl", "failed", 200.0, "/w/a.ipynb", "k-a"),
        ("r3", "train", "running", 300.0, "/w/b.ipynb", "k-b"),
        ("r4", "etl", "cancelled", 400.0, None, None),
    ]
    for run_id, workflow, status, start, notebook, kernel in rows:
        store.start_run(run_id, workflow, version=1, start=start, parameters={"n": 1},
                        notebook=notebook, kernel=kernel)
        if status != "running":
            store.finish_run(run_id, status=status, end=start + 5, errors=["boom"] if status == "failed" else [],
                             metrics={"counts": {"succeeded": 2}},
                             steps=[(0, "a", "succeeded", start, start + 1, 1, None, None, None, None, None)])
    yield store
    store.close()


def test_newest_first_with_counts_and_origin(store: Store) -> None:
    page = page_runs(store)
    assert [r["run_id"] for r in page.runs] == ["r4", "r3", "r2", "r1"]
    assert (page.total, page.active, page.limit, page.offset) == (4, 1, 50, 0)
    r2 = page.runs[2]
    assert r2["errors"] == ["boom"] and r2["counts"] == {"succeeded": 2}
    assert (r2["notebook"], r2["kernel"], r2["cancel_requested"]) == ("/w/a.ipynb", "k-a", False)
    assert page.runs[1]["counts"] is None  # running: no metrics yet


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (RunFilter(workflow="etl"), ["r4", "r2", "r1"]),
        (RunFilter(statuses=("failed", "running")), ["r3", "r2"]),
        (RunFilter(notebooks=("/w/a.ipynb",)), ["r2", "r1"]),
        (RunFilter(kernel="k-b"), ["r3"]),
        (RunFilter(since=200.0, until=400.0), ["r3", "r2"]),
        (RunFilter(workflow="etl", statuses=("completed",)), ["r1"]),
        (RunFilter(workflow="nope"), []),
    ],
)
def test_filters(store: Store, filters: RunFilter, expected: list[str]) -> None:
    page = page_runs(store, filters)
    assert [r["run_id"] for r in page.runs] == expected
    assert page.total == len(expected)


def test_paging(store: Store) -> None:
    first = page_runs(store, limit=3)
    second = page_runs(store, limit=3, offset=3)
    assert [r["run_id"] for r in first.runs] == ["r4", "r3", "r2"]
    assert [r["run_id"] for r in second.runs] == ["r1"]
    assert first.total == second.total == 4


def test_a_cancel_request_shows(store: Store) -> None:
    request_cancel(store, "r3")
    assert [r["run_id"] for r in page_runs(store).runs if r["cancel_requested"]] == ["r3"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"limit": 0}, "limit must be a whole number from 1 to 500, not 0"),
        ({"limit": 501}, "limit must be"),
        ({"limit": True}, "limit must be"),
        ({"offset": -1}, "offset must be a whole number >= 0, not -1"),
    ],
)
def test_bad_page_is_a_value_error(store: Store, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        page_runs(store, **kwargs)


def test_bad_filter_values_are_named() -> None:
    with pytest.raises(ValueError, match="unknown status 'done': use one of pending, running"):
        RunFilter(statuses=("done",))
    with pytest.raises(ValueError, match="since must be a finite time"):
        RunFilter(since=math.nan)


def test_the_first_page_walks_the_start_index_and_sorts_nothing(store: Store) -> None:
    for filters in (RunFilter(), RunFilter(statuses=("running",)), RunFilter(workflow="etl")):
        plan = " | ".join(query_plan(store, filters))
        assert "TEMP B-TREE" not in plan, plan
        assert "runs_by_start" in plan or "runs_by_workflow" in plan, plan


def test_a_run_id_or_a_unique_prefix_names_one_run(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for i in range(12):
        store.start_run(f"abcd{i:04d}", "etl", version=1, start=float(i), parameters={})
    store.start_run("ffee0001", "etl", version=1, start=99.0, parameters={})
    assert resolve_run_id(store, "abcd0003") == "abcd0003"
    assert resolve_run_id(store, "ffee") == "ffee0001"
    assert resolve_run_id(store, "0123") is None
    with pytest.raises(AmbiguousRunError, match="'abcd000' matches 10 runs") as few:
        resolve_run_id(store, "abcd000")
    assert few.value.matches == [f"abcd{i:04d}" for i in range(10)]
    with pytest.raises(AmbiguousRunError, match=r"'abcd' matches 12 runs \(abcd0000, .*, \.\.\.\)") as many:
        resolve_run_id(store, "abcd")  # more than are listed: counted
    assert many.value.total == 12 and len(many.value.matches) == 10
    with pytest.raises(ArgumentError, match="'abc' is too short"):
        resolve_run_id(store, "abc")
    store.close()
