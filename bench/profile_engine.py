"""Where the engine's per-step time goes: staged timings and a cProfile table.

Usage::

    python -m bench.profile_engine [--shape layered] [--n 10000] [--repeats 5] [--top 25]

Stages, each timed on its own (interleaved, medians, us per step):

1. ``floor``: graphlib + one asyncio task per step;
2. ``Run``: the engine's scheduler alone (no listeners, no store);
3. ``Run + recorder``: plus the run recorder writing to SQLite;
4. ``execute_workflow``: the manager's run path (workflow already defined);
5. ``create_workflow``: validation and the saved definition;
6. ``full path``: 5 then 4, as section 1 of the report measures it.

Then a cProfile of the full path, by internal time, in us per step.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import baselines
from .engine_overhead import MODULE, make_manager, make_registry
from .measure import interleave
from .shapes import SHAPES, Node, workflow_steps

__all__ = ["main", "stages"]


def _run_only(steps: list[Any], store: Any | None) -> float:
    from codomyrmex_jupyter.api.recorder import RunRecorder
    from codomyrmex_jupyter.api.workflow_models import WorkflowExecution
    from codomyrmex_jupyter.engine.runner import Run

    reg = make_registry()

    async def go() -> float:
        t0 = time.perf_counter()
        listeners = []
        if store is not None:
            listeners.append(RunRecorder(WorkflowExecution(workflow_name="p"), store))
        await Run(steps, workflow="p", registry=reg, listeners=listeners,
                  max_concurrency=64).execute()
        return time.perf_counter() - t0

    return asyncio.run(go())


async def _execute(manager: Any, name: str) -> None:
    # Return nothing: asyncio.run() on the main thread reprs the main task's
    # result while restoring its SIGINT handler (CPython 3.11), and the repr
    # of a big WorkflowExecution costs more than the run itself.
    await manager.execute_workflow(name)


def _manager_stage(steps: list[Any], tmp: str, which: str) -> float:
    manager = make_manager(tmp)
    name = f"p{time.monotonic_ns()}"
    try:
        t0 = time.perf_counter()
        manager.create_workflow(name, steps)
        t1 = time.perf_counter()
        asyncio.run(_execute(manager, name))
        t2 = time.perf_counter()
    finally:
        manager.close()
    return {"create": t1 - t0, "execute": t2 - t1, "full": t2 - t0}[which]


def stages(nodes: list[Node], repeats: int, *, samples: bool = False) -> dict[str, Any]:
    """Median us per step of each stage (or the raw samples, in seconds per run)."""
    from codomyrmex_jupyter.engine.store import Store

    steps = workflow_steps(nodes, MODULE, "noop_async")
    with tempfile.TemporaryDirectory(prefix="codo-prof-") as tmp:
        store = Store(Path(tmp) / "rec")
        cases: dict[str, Callable[[], float]] = {
            "floor": lambda: baselines.floor(nodes),
            "Run": lambda: _run_only(steps, None),
            "Run + recorder": lambda: _run_only(steps, store),
            "execute_workflow": lambda: _manager_stage(steps, tmp, "execute"),
            "create_workflow": lambda: _manager_stage(steps, tmp, "create"),
            "full path": lambda: _manager_stage(steps, tmp, "full"),
        }
        got = interleave(cases, repeats)
        store.close()
    if samples:
        return dict(got)
    return {k: v.median / len(nodes) * 1e6 for k, v in got.items()}


def _profile(nodes: list[Node], top: int) -> None:
    steps = workflow_steps(nodes, MODULE, "noop_async")
    with tempfile.TemporaryDirectory(prefix="codo-prof-") as tmp:
        prof = cProfile.Profile()
        prof.enable()
        _manager_stage(steps, tmp, "full")
        prof.disable()
    stats = pstats.Stats(prof)
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    n = len(nodes)
    print(f"\ncProfile of the full path (profiler overhead included), us per step, n={n}")
    print(f"{'tottime':>9} {'cumtime':>9} {'calls/step':>10}  function")
    for (path, line, func), (_cc, calls, tot, cum, _callers) in rows:
        where = f"{Path(path).name}:{line}({func})"
        print(f"{tot / n * 1e6:9.2f} {cum / n * 1e6:9.2f} {calls / n:10.2f}  {where}")


def main(argv: list[str] | None = None) -> None:
    """Print the stage table and the profile."""
    p = argparse.ArgumentParser(prog="python -m bench.profile_engine")
    p.add_argument("--shape", choices=sorted(SHAPES), default="layered")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args(argv)
    nodes = SHAPES[args.shape](args.n)
    print(f"{args.shape}, {args.n} steps, async no-op, max_concurrency=64, medians of "
          f"{args.repeats}")
    for stage, us in stages(nodes, args.repeats).items():
        print(f"  {stage:<18} {us:7.2f} us/step")
    _profile(nodes, args.top)


if __name__ == "__main__":
    main()
