"""The step cache: what a hit costs, and a fully cached rerun of a big workflow.

A hit is everything the runner's cache lookup does for one step: bind its
parameters, hash them, combine its code fingerprint and its dependencies'
keys into its key, read the entry file, check its HMAC signature and unpickle
the small result it holds. It is timed over every step of a warm cache, in
topological order, and compared with what running a no-op step costs on the
full path (the baseline: engine section 1's figure, measured again here).

The fully cached rerun is ``execute_workflow`` on a 1,000-step layered
workflow whose every step is in the cache: scheduling, lookups, state events,
the run's record and its index updates, all on the clock.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import Any

from .engine_overhead import make_manager
from .measure import interleave, timed
from .report import Row, Section
from .shapes import Node, layered

__all__ = ["run_section"]

MODULE = "bench"


def small_result(i: int = 0, **upstream: Any) -> dict[str, float]:
    """A step with a small result (a dict of two numbers)."""
    return {"i": float(i), "half": i * 0.5}


def _steps(nodes: list[Node], *, cache: bool) -> list[Any]:
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep

    return [
        WorkflowStep(n.name, MODULE, "small_result", parameters={"i": i}, dependencies=list(n.dependencies),
                     cache=cache)
        for i, n in enumerate(nodes)
    ]


def _manager(home: str) -> Any:
    manager = make_manager(home)
    manager.register_action(MODULE, "small_result", small_result)
    return manager


def _lookup_all(manager: Any, name: str) -> float:
    """Seconds for one cache lookup per step (all hits), in topological order."""
    from codomyrmex_jupyter.engine.runner import Run

    steps = manager.get_workflow(name)
    source = manager.cache.for_run(workflow=name, enabled=[True] * len(steps))
    run = Run(steps, workflow=name, graph=manager.get_graph(name), registry=manager.registry,
              results_from=source)
    specs = [manager.registry.find(s.module, s.action) for s in steps]
    order = run.graph.order

    def lookups() -> None:
        for i in order:
            found, _value = source.lookup(run, i, specs[i])
            if not found:
                raise AssertionError(f"step {run.graph.names[i]} missed: {run.records[i].cache}")

    return timed(lookups)


def _hit_rows(quick: bool, repeats: int) -> list[Row]:
    n = 200 if quick else 1000
    with tempfile.TemporaryDirectory(prefix="codo-bench-cache-") as home:
        manager = _manager(home)
        nodes = layered(n)
        manager.create_workflow("cached", _steps(nodes, cache=True))
        manager.create_workflow("plain", _steps(nodes, cache=False))
        manager.run_workflow("cached")  # warm: every step now has an entry

        def hit() -> float:
            return _lookup_all(manager, "cached") / n

        def noop() -> float:
            return timed(lambda: manager.run_workflow("plain")) / n

        def rerun() -> float:
            return timed(lambda: asyncio.run(manager.execute_workflow("cached")))

        def cold() -> float:
            manager.clear_cache("cached")
            return timed(lambda: manager.run_workflow("cached")) / n

        samples = interleave({"hit": hit, "noop": noop, "rerun": rerun}, repeats)
        cold_sample = interleave({"cold": cold}, max(2, repeats // 2))["cold"]
        manager.run_workflow("cached")
        entries = manager.cache_usage()
        manager.close()
    return [
        Row(f"one hit (key, lookup, signature check, load of a small result), {n}-step workflow",
            samples["hit"], unit="us", scale=1e6, baseline="a no-op step, full path",
            baseline_sample=samples["noop"], limit=100.0, on="value"),
        Row(f"fully cached rerun of a {n:,}-step layered workflow (execute_workflow)",
            samples["rerun"], unit="s", limit=0.5 if n >= 1000 else None, on="value"),
        Row(f"first run, computing and storing every entry ({n}-step workflow), per step",
            cold_sample, unit="us", scale=1e6, baseline="a no-op step, full path",
            baseline_sample=samples["noop"],
            note=f"{entries.entries} entries, {entries.bytes / max(entries.entries, 1):.0f} bytes each"),
    ]


def run_section(quick: bool) -> Section:
    """Measure this section."""
    repeats = 3 if quick else 7
    sec = Section(
        "cache",
        "Step cache",
        "Steps with a small result (a dict of two floats) and one parameter each, every step "
        "cached, on a SQLite file with entries on local disk. Targets: a hit costs at most "
        "100 us; a fully cached rerun of 1,000 steps takes under 0.5 s. The baseline of the "
        "per-step rows is a no-op step run through `WorkflowManager` without the cache. "
        f"{repeats} interleaved repeats per figure.",
    )
    sec.rows += _hit_rows(quick, repeats)
    sec.notes.append(
        "A run without cached steps makes no lookup and attaches no cache listener: its cost is "
        "section 1's. Eviction runs once per run, only when the cache is over its bound."
    )
    return sec

