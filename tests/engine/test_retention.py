"""codomyrmex_jupyter.engine.retention: which runs a prune removes, gc, reclaiming space."""

from __future__ import annotations

from pathlib import Path

import pytest
from store_builders import fill_runs

from codomyrmex_jupyter.engine import retention
from codomyrmex_jupyter.engine.store import Store

T0 = 1_000_000.0  # runs start here, one a minute


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "h")
    fill_runs(s, 12, workflows=("a", "b", "c"), start=T0)  # 4 runs each
    return s


def _ids(store: Store, **kwargs: object) -> list[str]:
    return [run_id for run_id, _ in retention.runs_to_prune(store, **kwargs)]  # type: ignore[arg-type]


def test_keep_counts_per_workflow(store: Store) -> None:
    removed = _ids(store, keep=3)
    assert removed == ["run000000" + "x" * 20, "run000001" + "x" * 20, "run000002" + "x" * 20]
    assert _ids(store, keep=0).__len__() == 12
    assert _ids(store, keep=3, workflow="b") == ["run000001" + "x" * 20]


def test_older_than_and_both(store: Store) -> None:
    now = T0 + 11 * 60 + 1
    assert len(_ids(store, older_than=6 * 60, now=now)) == 6  # runs 0..5
    assert len(_ids(store, older_than=6 * 60, keep=3, now=now)) == 3  # only runs 0, 1, 2


def test_active_runs_stay(store: Store) -> None:
    store.start_run("live" + "0" * 28, "a", version=1, start=T0 - 60, parameters={})
    assert "live" + "0" * 28 not in _ids(store, keep=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "say which runs to prune"), ({"keep": -1}, "keep must be an integer >= 0"),
     ({"keep": 1.5}, "keep must be an integer >= 0"), ({"older_than": -2}, "older_than must be")],
)
def test_bad_settings(store: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        retention.prune_runs(store, **kwargs)  # type: ignore[arg-type]


def test_dry_run_changes_nothing_and_real_run_reclaims(store: Store) -> None:
    dry = retention.prune_runs(store, keep=1, dry_run=True)
    assert (dry.runs, dry.step_rows, dry.by_workflow, dry.bytes_after) == (9, 9, {"a": 3, "b": 3, "c": 3}, None)
    assert dry.payload_bytes > 0
    assert store.count_runs() == 12
    real = retention.prune_runs(store, keep=1)
    assert store.count_runs() == 3
    assert real.bytes_after == retention.file_bytes(store)
    assert real.reclaimed == real.bytes_before - real.bytes_after
    assert store._read("SELECT COUNT(*) AS n FROM steps")[0]["n"] == 3


def test_in_memory_store(tmp_path: Path) -> None:
    s = Store(":memory:")
    fill_runs(s, 4)
    report = retention.prune_runs(s, keep=1)
    assert (report.runs, report.bytes_before, report.bytes_after) == (2, 0, 0)
    assert retention.days(2) == 172800.0
