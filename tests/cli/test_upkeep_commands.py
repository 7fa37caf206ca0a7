"""codomyrmex_jupyter.cli.upkeep_commands: prune and gc on a store of 10,000 runs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from cli_helpers import Cli
from store_builders import big_store

from codomyrmex_jupyter.engine.store import Store

N_RUNS = 10_000


@pytest.fixture
def big(_isolated_home: Path) -> Path:
    """10,000 runs of two workflows, one a minute, the newest 30 s ago; the database file."""
    big_store(_isolated_home, N_RUNS, start=time.time() - (N_RUNS - 0.5) * 60.0)
    return _isolated_home / "codomyrmex.sqlite3"


def _file_size(db: Path) -> int:
    return sum(p.stat().st_size for p in (db, Path(f"{db}-wal")) if p.exists())


def test_prune_dry_run_then_for_real(cli: Cli, big: Path) -> None:
    before = _file_size(big)
    dry = cli("prune", "--keep", "100", "--dry-run")
    assert dry.code == 0, dry.err
    assert dry.out.splitlines()[0] == (
        "would remove 9800 run(s) and 9800 step record(s): 4900 of 'etl', 4900 of 'report'"
    )
    assert dry.out.splitlines()[1].endswith("(dry run: nothing removed)")
    assert _file_size(big) == before
    assert cli("history", "-n", "100000", "--json").json().__len__() == N_RUNS

    real = cli("prune", "--keep", "100", "--json")
    assert real.code == 0, real.err
    report = real.json()
    assert (report["runs"], report["step_rows"], report["dry_run"]) == (9800, 9800, False)
    assert abs(report["bytes_before"] - before) <= 16384  # opening the store writes a page or two
    after = _file_size(big)
    assert report["bytes_after"] == after
    assert report["reclaimed"] == report["bytes_before"] - after
    assert after < before / 10  # 10,000 runs down to 200
    remaining = cli("history", "-n", "100000", "--json").json()
    assert len(remaining) == 200
    assert {r["workflow"] for r in remaining} == {"etl", "report"}
    # the newest 100 of each workflow stayed
    store = Store(big.parent)
    newest = {r["run_id"] for w in ("etl", "report") for r in store.list_runs(w, limit=100)}
    store.close()
    assert {r["run_id"] for r in remaining} == newest


def test_prune_older_than_and_keep_together(cli: Cli, big: Path) -> None:
    # runs are a minute apart: 5 days is 7200 runs, so 2800 runs are older than 5 days
    result = cli("prune", "--older-than", "5", "--keep", "2000")
    assert result.code == 0, result.err
    # each workflow has 5000 runs, 1400 of them older than 5 days and all outside its newest 2000
    assert result.out.splitlines()[0].startswith("removed 2800 run(s)")
    match = re.fullmatch(r"file: (.+) -> (.+) \((.+) reclaimed\)", result.out.splitlines()[1])
    assert match is not None
    assert len(cli("history", "-n", "100000", "--json").json()) == N_RUNS - 2800


def test_prune_keeps_running_runs(cli: Cli, big: Path) -> None:
    store = Store(big.parent)
    store.start_run("live" + "0" * 28, "etl", version=1, start=time.time() - 10 * 86400, parameters={})
    with store._write() as conn:  # a process on another machine, alive: it beat a moment ago
        conn.execute("UPDATE runs SET host='elsewhere', heartbeat=? WHERE run_id=?",
                     (time.time(), "live" + "0" * 28))
    store.close()
    assert cli("prune", "--keep", "0", "--json").json()["runs"] == N_RUNS
    (left,) = cli("history", "--json").json()
    assert left["status"] == "running"


def test_gc_removes_orphans_and_unused_versions(cli: Cli, big: Path) -> None:
    store = Store(big.parent)
    store.save_workflow("etl", [{"name": "only", "module": "m", "action": "a"}])  # version 2, current
    with store._write() as conn:
        conn.execute("DELETE FROM runs WHERE run_id IN (SELECT run_id FROM runs LIMIT 10)")
    store.close()
    dry = cli("gc", "--dry-run", "--json").json()
    # version 1 of etl is still used by its runs; the 10 runs' step rows are orphans
    assert (dry["orphan_step_rows"], dry["unused_versions"]) == (10, 0)
    cli("prune", "--keep", "0", "--workflow", "etl")
    report = cli("gc", "--json").json()
    assert (report["orphan_step_rows"], report["unused_versions"]) == (10, 1)
    assert report["bytes_after"] is not None and report["bytes_after"] <= report["bytes_before"]
    text = cli("gc")
    assert text.out.splitlines()[0] == "removed 0 orphan step record(s) and 0 unused definition version(s)"


def test_prune_removes_the_cache_entries_only_pruned_runs_used(cli: Cli, _isolated_home: Path) -> None:
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep

    m = WorkflowManager(config_dir=_isolated_home)
    m.register_action("pc", "double", lambda n=1: n * 2)
    m.create_workflow("w", [WorkflowStep("a", "pc", "double", max_retries=0, cache=True)])
    first = m.run_workflow("w", {"n": 1})  # makes the n=1 entry
    m.run_workflow("w", {"n": 2})  # makes the n=2 entry
    last = m.run_workflow("w", {"n": 2})  # uses it
    assert last.step_records["a"].cache == "hit"
    keys = {r["key"]: r for r in m.store._read("SELECT key FROM cache_entries")}
    files = sorted(p for p in (_isolated_home / "cache").rglob("*") if p.is_file())
    assert len(keys) == 2 and len(files) == 2
    m.close()
    dry = cli("prune", "--keep", "1", "--dry-run", "--json").json()
    assert (dry["runs"], dry["cache_entries"]) == (2, 1)
    assert len([p for p in (_isolated_home / "cache").rglob("*") if p.is_file()]) == 2
    text = cli("prune", "--keep", "1")
    assert text.code == 0
    assert text.out.startswith("removed 2 run(s) and 2 step record(s), 1 cache entry (")
    left = [p for p in (_isolated_home / "cache").rglob("*") if p.is_file()]
    assert len(left) == 1  # the entry the newest run still uses
    store = Store(_isolated_home)
    assert len(store._read("SELECT key FROM cache_entries")) == 1
    assert store.get_run(first.execution_id) is None
    store.close()
