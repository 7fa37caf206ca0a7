"""codomyrmex_jupyter.api.history_limit: ``WorkflowManager(history_limit=N)``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.errors import StoreError


def _manager(tmp_path: Path, **kwargs: object) -> WorkflowManager:
    m = WorkflowManager(config_dir=tmp_path / "h", **kwargs)  # type: ignore[arg-type]
    m.register_action("hl", "one", lambda: 1)
    for name in ("a", "b"):
        m.create_workflow(name, [WorkflowStep("s", "hl", "one", max_retries=0)])
    return m


def test_default_keeps_every_run(tmp_path: Path) -> None:
    m = _manager(tmp_path)
    assert m.history_limit is None
    for _ in range(5):
        m.run_workflow("a")
    assert m.store.count_runs("a") == 5
    m.close()


def test_newest_n_per_workflow_are_kept(tmp_path: Path) -> None:
    m = _manager(tmp_path, history_limit=2)
    ids = [m.run_workflow("a").execution_id for _ in range(4)]
    m.run_workflow("b")
    assert [r["run_id"] for r in m.store.list_runs("a")] == ids[:1:-1]
    assert m.store.count_runs("b") == 1
    steps = m.store._read("SELECT DISTINCT run_id FROM steps")
    assert {r["run_id"] for r in steps} <= set(ids[2:]) | {r["run_id"] for r in m.store.list_runs("b")}
    m.history_limit = None  # changed later (as %orchestrate config does)
    m.run_workflow("a")
    assert m.store.count_runs("a") == 3
    m.close()


@pytest.mark.parametrize(
    ("bad", "error"), [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError), ("3", TypeError)]
)
def test_bad_limits_are_refused(tmp_path: Path, bad: object, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"history_limit .* give an int >= 1"):
        WorkflowManager(config_dir=tmp_path / "h", history_limit=bad)  # type: ignore[arg-type]


def test_a_store_error_while_pruning_does_not_break_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from codomyrmex_jupyter.api import history_limit

    def broken(*args: object, **kwargs: object) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(history_limit, "prune_runs", broken)
    m = _manager(tmp_path, history_limit=1)
    with caplog.at_level(logging.ERROR):
        ex = m.run_workflow("a")
    assert ex.status.value == "completed"
    assert "could not apply history_limit=1 to 'a': disk full" in caplog.text
    m.close()


def test_the_cache_entries_of_pruned_runs_go_with_them(tmp_path: Path) -> None:
    m = WorkflowManager(config_dir=tmp_path / "h", history_limit=1)
    m.register_action("hl", "double", lambda n=1: n * 2)
    m.create_workflow("c", [WorkflowStep("s", "hl", "double", max_retries=0, cache=True)])
    for n in (1, 2, 3):
        m.run_workflow("c", {"n": n})
    # only the newest run is kept, and only the entry it used
    assert m.store.count_runs("c") == 1
    assert len(m.store._read("SELECT key FROM cache_entries")) == 1
    assert m.run_workflow("c", {"n": 3}).step_records["s"].cache == "hit"
    assert m.run_workflow("c", {"n": 1}).step_records["s"].cache.startswith("miss")  # its entry is gone
    m.close()
