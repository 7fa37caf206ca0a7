"""Per-step overhead of the engine on the full path, against the floor and Dask.

The full path: ``create_workflow`` (validation, the definition saved to the
SQLite file) then ``await execute_workflow`` (scheduling, state events,
listeners, the run and every step record written to SQLite). The clock runs
from before ``create_workflow`` to the returned execution. Building the
manager and its database file is set-up and is not timed.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import baselines
from .measure import Sample, interleave
from .report import Row, Section
from .shapes import SHAPES, Node, workflow_steps

__all__ = ["MODULE", "engine_run", "make_manager", "run_section", "sizes"]

MODULE = "bench"
DEFAULT_CONCURRENCY = 64  # WorkflowManager's default
_names = itertools.count()


async def _noop_async() -> None:
    return None


def _noop_sync() -> None:
    return None


def make_registry() -> Any:
    """A registry holding only the two no-op actions."""
    from codomyrmex_jupyter.engine.actions import ActionRegistry

    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    reg.register(MODULE, "noop_async", _noop_async)
    reg.register(MODULE, "noop_sync", _noop_sync)
    return reg


def make_manager(config_dir: str, max_concurrency: int | None = None) -> Any:
    """A file-backed manager with the no-op actions (``None``: default concurrency)."""
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager

    manager = WorkflowManager(config_dir=Path(config_dir), registry=make_registry())
    if max_concurrency is not None:
        manager.max_concurrency = max_concurrency
    return manager


# watch(manager, steps, workflow_name) -> listeners for the run (live views)
Watch = Callable[[Any, list[Any], str], list[Any]]


async def _create_and_run(
    manager: Any, steps: list[Any], watch: Watch | None, watch_timed: bool
) -> float:
    name = f"wf{next(_names)}"
    listeners = watch(manager, steps, name) if watch is not None and not watch_timed else []
    t0 = time.perf_counter()
    if not manager.create_workflow(name, steps):
        raise RuntimeError(f"workflow {name} was not created")
    if watch is not None and watch_timed:
        listeners = watch(manager, steps, name)
    execution = await manager.execute_workflow(name, listeners=listeners)
    elapsed = time.perf_counter() - t0
    if execution.status.value != "completed":
        raise RuntimeError(f"benchmark run ended {execution.status}: {execution.errors[:3]}")
    return elapsed


def engine_run(
    nodes: Sequence[Node],
    action: str,
    *,
    max_concurrency: int | None = None,
    watch: Watch | None = None,
    watch_timed: bool = False,
) -> float:
    """Seconds for one full-path run of ``nodes`` on a fresh manager.

    ``watch(manager, steps, workflow_name)`` returns extra listeners for the
    run (live views); it is called before the clock starts, or on the clock
    once the workflow is defined when ``watch_timed``.
    """
    steps = workflow_steps(nodes, MODULE, action)
    with tempfile.TemporaryDirectory(prefix="codo-bench-") as tmp:
        manager = make_manager(tmp, max_concurrency)
        try:
            return asyncio.run(_create_and_run(manager, steps, watch, watch_timed))
        finally:
            manager.close()


def sizes(quick: bool) -> dict[str, int]:
    """Steps per shape."""
    if quick:
        return {"independent": 1000, "chain": 300, "layered": 1000}
    return {"independent": 10_000, "chain": 2_000, "layered": 10_000}


def _per_step(samples: dict[str, Sample], n: int) -> dict[str, Sample]:
    return {k: v.scaled(1 / n) for k, v in samples.items()}


def _shape_rows(shape: str, n: int, repeats: int) -> list[Row]:
    nodes = SHAPES[shape](n)
    cases: dict[str, Callable[[], float]] = {
        "floor": lambda: baselines.floor(nodes),
        "async": lambda: engine_run(nodes, "noop_async"),
        "dask_threaded": lambda: baselines.dask_threaded_get(nodes),
        "sync": lambda: engine_run(nodes, "noop_sync"),
        "dask": lambda: baselines.dask_get(nodes),
        "async_256": lambda: engine_run(nodes, "noop_async", max_concurrency=256),
        "async_unbounded": lambda: engine_run(nodes, "noop_async", max_concurrency=100_000),
    }
    s = _per_step(interleave(cases, repeats), n)
    label = f"{shape} ({n:,} steps)"

    def row(what: str, key: str, base: str, base_key: str, limit: float | None) -> Row:
        return Row(what, s[key], "us/step", 1e6, base, s[base_key], limit)

    return [
        row(f"{label}: async steps", "async", "floor", "floor", 2.0),
        row(f"{label}: async steps", "async", "dask threaded", "dask_threaded", 0.25),
        row(f"{label}: sync steps (threads)", "sync", "dask threaded", "dask_threaded", 1.0),
        row(f"{label}: dask.get", "dask", "floor", "floor", None),
        row(f"{label}: dask.threaded.get", "dask_threaded", "floor", "floor", None),
        row(f"{label}: async, max_concurrency=256", "async_256", "floor", "floor", None),
        row(f"{label}: async, max_concurrency=100000", "async_unbounded", "floor", "floor", None),
    ]


def _stage_rows(n: int, repeats: int) -> list[Row]:
    """Where the time goes on the layered shape (see ``bench.profile_engine``)."""
    from .profile_engine import stages

    got = stages(SHAPES["layered"](n), repeats, samples=True)
    floor = got.pop("floor")
    return [
        Row(f"layered ({n:,} steps), stage: {stage}", sample, "us/step", 1e6 / n, "floor", floor)
        for stage, sample in got.items()
    ]


def _explain(sec: Section) -> list[str]:
    stage = {r.what.split("stage: ")[1]: r for r in sec.rows if "stage: " in r.what}
    if not sec.misses or not stage:
        return []

    def us(key: str) -> float:
        row = stage[key]
        return row.sample.median * row.scale if row.sample else 0.0

    floor = stage["Run"].baseline_sample
    floor_us = floor.median * stage["Run"].scale if floor else 0.0
    return [
        "Where the time goes (layered shape, stage rows above, us/step): floor "
        f"{floor_us:.1f}; the scheduler alone (`Run`, no listeners) {us('Run'):.1f}; "
        f"with the run recorder writing every step row to SQLite {us('Run + recorder'):.1f}; "
        f"`create_workflow` (validation + definition saved as JSON) {us('create_workflow'):.1f}; "
        f"full path {us('full path'):.1f}. Recording and saving the definition are SQLite "
        "work the floor does not do: a 10,000-row `executemany` alone costs about 2.5-3 "
        "us/row (section 6). `python -m bench.profile_engine` lists the hot spots."
    ]


def run_section(quick: bool) -> Section:
    """Measure this section."""
    repeats = 3 if quick else 7
    sec = Section(
        "engine",
        "Engine overhead per step",
        "No-op steps through `WorkflowManager` on a SQLite file: validation, scheduling, "
        f"state events, listeners and recording. `max_concurrency={DEFAULT_CONCURRENCY}` "
        "(the default a user gets) unless the row says otherwise. The floor is "
        "`graphlib.TopologicalSorter` + one asyncio task per step. "
        f"{repeats} interleaved repeats per figure.",
    )
    for shape, n in sizes(quick).items():
        sec.rows += _shape_rows(shape, n, repeats)
    sec.rows += _stage_rows(sizes(quick)["layered"], repeats)
    sec.notes += _explain(sec)
    sec.notes.append(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; sync steps run on the "
        "runtime's worker threads (default pool size)."
    )
    return sec
