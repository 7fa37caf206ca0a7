"""Store throughput: runs and step records written per second, history queries.

Writes go through :class:`~codomyrmex_jupyter.engine.store.Store` exactly as
the run recorder issues them (one transaction when a run starts, one when it
ends with all its step rows). The baseline is the same transactions issued
with ``sqlite3`` directly on an equivalent file (same schema and pragmas), so
the ratio is the cost of our layer, not of SQLite.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from codomyrmex_jupyter.engine.step_table import pack_steps

from .measure import interleave
from .report import Row, Section

__all__ = ["run_section"]

_STEPS_PER_RUN = 10


def _metrics(steps: int) -> dict[str, Any]:
    return {
        "duration": 0.01, "steps": steps, "counts": {"succeeded": steps}, "retries": 0,
        "peak_concurrency": 4, "executor": "local", "cpu_time": 0.01, "max_rss_kb": 90000,
        "step_durations": {f"s{i}": 0.001 for i in range(steps)},
    }


def _step_rows(steps: int, t: float) -> list[tuple[Any, ...]]:
    return [
        (i, f"s{i}", "succeeded", t, t + 0.001, 1, None, None, None, str(i), None)
        for i in range(steps)
    ]


def _store(path: Path) -> Any:
    from codomyrmex_jupyter.engine.store import Store

    return Store(path)


def _write_runs_ours(store: Any, runs: int, steps: int, workflow: str = "wf") -> None:
    metrics = _metrics(steps)
    for _ in range(runs):
        run_id, t = uuid.uuid4().hex, time.time()
        store.start_run(run_id, workflow, version=1, start=t, parameters={"n": 1})
        store.finish_run(run_id, status="completed", end=t + 0.01, errors=[], metrics=metrics,
                         steps=_step_rows(steps, t))


def _raw_connection(path: Path) -> sqlite3.Connection:
    _store(path).close()  # the same schema and header, created by our code
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _write_runs_raw(conn: sqlite3.Connection, runs: int, steps: int) -> None:
    metrics = _metrics(steps)
    for _ in range(runs):
        run_id, t = uuid.uuid4().hex, time.time()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO runs(run_id, workflow, version, status, start, parameters) "
            "VALUES(?,?,?,?,?,?)", (run_id, "wf", 1, "running", t, json.dumps({"n": 1})))
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE runs SET status=?, end=?, errors=?, metrics=? WHERE run_id=?",
                     ("completed", t + 0.01, "[]", json.dumps(metrics), run_id))
        conn.executemany(
            "INSERT OR REPLACE INTO steps VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
            [(run_id, *r) for r in _step_rows(steps, t)])
        conn.execute("COMMIT")


def _timed_writes(ours: bool, runs: int, steps: int) -> float:
    with tempfile.TemporaryDirectory(prefix="codo-bench-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        target = _store(path) if ours else _raw_connection(path)
        t0 = time.perf_counter()
        if ours:
            _write_runs_ours(target, runs, steps)
        else:
            _write_runs_raw(target, runs, steps)
        elapsed = time.perf_counter() - t0
        target.close()
    return elapsed


def _throughput_rows(quick: bool, repeats: int) -> list[Row]:
    runs, big = (200, 2_000) if quick else (1_000, 10_000)
    s = interleave({
        "runs": lambda: _timed_writes(True, runs, _STEPS_PER_RUN),
        "runs_raw": lambda: _timed_writes(False, runs, _STEPS_PER_RUN),
        "steps": lambda: _timed_writes(True, 1, big),
        "steps_raw": lambda: _timed_writes(False, 1, big),
    }, repeats)
    per_run, per_step = s["runs"].scaled(1 / runs), s["steps"].scaled(1 / big)
    base_run, base_step = s["runs_raw"].scaled(1 / runs), s["steps_raw"].scaled(1 / big)
    return [
        Row(f"runs written ({_STEPS_PER_RUN} steps each, {runs:,} runs)", per_run, "us/run", 1e6,
            "raw sqlite3", base_run, note=f"{1 / per_run.median:,.0f} runs/s"),
        Row(f"step records written (one run of {big:,} steps)", per_step, "us/step", 1e6,
            "raw sqlite3", base_step, note=f"{1 / per_step.median:,.0f} step records/s"),
    ]


def _fill(path: Path, runs: int) -> None:
    """Write ``runs`` recorded runs (10 workflows) straight into the file: set-up, untimed."""
    store = _store(path)
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    metrics = json.dumps(_metrics(_STEPS_PER_RUN))
    t = time.time() - runs
    conn.execute("BEGIN")
    for k in range(runs):
        run_id = uuid.uuid4().hex
        packed, details = pack_steps(_step_rows(_STEPS_PER_RUN, t + k))
        conn.execute(
            "INSERT INTO runs(run_id, workflow, version, status, start, end, parameters, errors,"
            " metrics, session_id, host, pid, steps_packed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (run_id, f"wf{k % 10}", 1, "completed", t + k, t + k + 0.01, '{"n": 1}', "[]",
             metrics, None, "bench", 1, packed))
        conn.executemany(
            "INSERT INTO steps(run_id, idx, name, status, start, end, attempts, error, traceback,"
            " reason, result, result_note) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", [(run_id, *r) for r in details])
    conn.execute("COMMIT")
    conn.close()


def _history_rows(quick: bool, repeats: int) -> list[Row]:
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager

    runs = 1_000 if quick else 10_000
    with tempfile.TemporaryDirectory(prefix="codo-bench-") as tmp:
        path = Path(tmp) / "codomyrmex.sqlite3"
        _fill(path, runs)
        manager = WorkflowManager(config_dir=Path(tmp))
        raw = sqlite3.connect(path)

        def clock(fn: Any) -> float:
            t0 = time.perf_counter()
            fn()
            return time.perf_counter() - t0

        s = interleave({
            "latest": lambda: clock(manager.history),
            "latest_raw": lambda: clock(
                lambda: raw.execute("SELECT * FROM runs ORDER BY start DESC LIMIT 20").fetchall()),
            "workflow": lambda: clock(lambda: manager.history("wf3")),
            "all": lambda: clock(lambda: manager.history(limit=None)),
            "all_raw": lambda: clock(
                lambda: raw.execute("SELECT * FROM runs ORDER BY start DESC").fetchall()),
            "summary": lambda: clock(manager.get_performance_summary),
        }, repeats)
        count = len(manager.history(limit=None))
        raw.close()
        manager.close()
    if count != runs:
        raise RuntimeError(f"history returned {count} runs, expected {runs}")
    return [
        Row(f"history() (latest 20 of {runs:,} runs)", s["latest"], "ms", 1e3, "raw SELECT",
            s["latest_raw"]),
        Row(f"history('wf3') (latest 20 of {runs // 10:,})", s["workflow"], "ms", 1e3),
        Row(f"history(limit=None) ({runs:,} executions)", s["all"], "ms", 1e3, "raw SELECT",
            s["all_raw"]),
        Row(f"get_performance_summary() ({runs:,} runs, {runs * _STEPS_PER_RUN:,} steps)",
            s["summary"], "ms", 1e3),
    ]


def run_section(quick: bool) -> Section:
    """Measure this section."""
    repeats = 3 if quick else 5
    sec = Section(
        "store",
        "Store throughput (SQLite, WAL, file on local disk)",
        "Writes as the run recorder issues them: one transaction at run start, one at run "
        "end holding every step (packed into the run's row; a `steps` row for each step with "
        "a result, error or reason: here every step has a result). Baseline: one `sqlite3` "
        "row per step, so the ratio is the cost of our layer (packing, JSON, locking).",
    )
    sec.rows += _throughput_rows(quick, repeats)
    sec.rows += _history_rows(quick, repeats)
    return sec
