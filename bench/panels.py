"""Engine overhead while watched, and under ``nest_asyncio``.

Watched: the same full-path runs as section 1 with a ``RunView`` (the live
run view widget, refreshes coalesced) passed as a run listener,
against the same runs unwatched, interleaved. The target row builds the view
before the clock starts (what watching costs the run); an extra row builds it
on the clock with ``RunView.for_workflow``, as ``%orchestrate run`` does.

``nest_asyncio``: ``apply()`` swaps asyncio's C tasks for pure-Python ones in
the whole process, so it is measured in child processes (one patched, one
not, alternating) and never leaks into the other figures. Each child times
the floor and the engine side by side.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from .engine_overhead import MODULE, engine_run, sizes
from .measure import Sample, interleave
from .report import Row, Section
from .shapes import SHAPES, Node, workflow_steps

__all__ = ["dag_view_refresh", "missing_widgets", "run_section"]

ROOT = Path(__file__).resolve().parent.parent
_WIDGETS = {
    "RunView": "codomyrmex_jupyter.widgets.run_view",
    "DagView": "codomyrmex_jupyter.widgets.run_view",
}


def missing_widgets() -> list[str]:
    """Widget modules that do not exist (yet)."""
    return [m for m in _WIDGETS.values() if importlib.util.find_spec(m) is None]


def _watch_prebuilt(manager: Any, steps: list[Any], name: str) -> list[Any]:
    """A ``RunView`` of the steps, built before the workflow is defined."""
    from codomyrmex_jupyter.display.dag_json import LiveDocument
    from codomyrmex_jupyter.engine.graph import compile_graph
    from codomyrmex_jupyter.widgets.run_view import RunView

    doc = LiveDocument(compile_graph(steps), workflow=name, steps=steps)
    return [RunView(doc, manager=manager).listener]


def _watch_defined(manager: Any, steps: list[Any], name: str) -> list[Any]:
    """What ``%orchestrate run`` does once the workflow is defined."""
    from codomyrmex_jupyter.widgets.run_view import RunView

    return [RunView.for_workflow(manager, name).listener]


def _serializing(view: Any) -> None:
    """Make the view's comm serialize what it sends, as a kernel's session does (no kernel here)."""

    def send(data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode()

    view.comm.send = send


def dag_view_refresh(nodes: list[Node], repeats: int, changed: float = 1.0) -> Sample | str:
    """Seconds for one live refresh of a run view (the patch serialized), or why not.

    ``changed`` is the fraction of steps that changed state since the last
    refresh (1.0: every step, the worst case; a coalesced refresh of a real
    run sees a few).
    """
    if importlib.util.find_spec(_WIDGETS["DagView"]) is None:
        return f"{_WIDGETS['DagView']} missing"
    from codomyrmex_jupyter.engine.runner import Run
    from codomyrmex_jupyter.widgets.run_view import DagView

    from .engine_overhead import make_registry

    sample = Sample()
    for _ in range(repeats):
        run = Run(workflow_steps(nodes, MODULE, "noop_async"), workflow="bench",
                  registry=make_registry(), run_id="bench")
        view = DagView.for_run(run)
        _serializing(view)
        view.refresh()
        n = int(len(run.records) * changed)
        for k, rec in enumerate(run.records[:n]):
            rec.status = "running" if k % 2 else "succeeded"
            rec.result = k
        t0 = time.perf_counter()
        view.refresh()
        sample.values.append(time.perf_counter() - t0)
        view.close()
    return sample


def _watched_rows(quick: bool, repeats: int) -> list[Row]:
    rows = []
    for shape, n in sizes(quick).items():
        nodes = SHAPES[shape](n)
        cases: dict[str, Callable[[], float]] = {
            "plain": partial(engine_run, nodes, "noop_async"),
            "watched": partial(engine_run, nodes, "noop_async", watch=_watch_prebuilt),
            "built": partial(engine_run, nodes, "noop_async", watch=_watch_defined,
                             watch_timed=True),
        }
        # Short runs (the chain lasts ~15 ms) need more repeats for a stable median.
        reps = repeats * 3 if shape == "chain" else repeats
        s = {k: v.scaled(1 / n) for k, v in interleave(cases, reps).items()}
        label = f"{shape} ({n:,} steps): async steps"
        rows += [
            Row(f"{label}, RunView watching", s["watched"], "us/step", 1e6, "unwatched",
                s["plain"], 1.1),
            Row(f"{label}, RunView built on the clock and watching", s["built"], "us/step", 1e6,
                "unwatched", s["plain"]),
        ]
    return rows


def _view_cost_rows(n: int, repeats: int) -> list[Row]:
    """Building a RunView and one refresh of it mid-run, on the layered shape."""
    import tempfile

    from codomyrmex_jupyter.engine.runner import Run
    from codomyrmex_jupyter.widgets.run_view import RunView

    from .engine_overhead import make_manager

    nodes = SHAPES["layered"](n)
    build, bind, refresh = Sample(), Sample(), Sample()
    with tempfile.TemporaryDirectory(prefix="codo-bench-") as tmp:
        manager = make_manager(tmp)
        steps = workflow_steps(nodes, MODULE, "noop_async")
        manager.create_workflow("w", steps, save=False)
        for _ in range(repeats):
            t0 = time.perf_counter()
            view = RunView.for_workflow(manager, "w")
            _serializing(view)
            run = Run(steps, workflow="w", graph=manager.get_graph("w"), registry=manager.registry)
            t1 = time.perf_counter()  # after building the Run: only the bind is the view's cost
            view.bind_run(run)
            t2 = time.perf_counter()
            for k, rec in enumerate(run.records):
                rec.status = "succeeded" if k < n // 2 else "running"
            view.refresh()
            refresh.values.append(time.perf_counter() - t2)
            build.values.append(t1 - t0)
            bind.values.append(t2 - t1)
            view.close()
        manager.close()
    label = f"layered ({n:,} steps)"
    return [
        Row(f"{label}: RunView.for_workflow (built before the run)", build, "ms", 1e3),
        Row(f"{label}: RunView.bind_run (at run start)", bind, "ms", 1e3),
        Row(f"{label}: RunView.refresh() mid-run (one coalesced update)", refresh, "ms", 1e3),
    ]


_CHILD = """
import asyncio, json, sys
nested = sys.argv[1] == "nested"
if nested:
    import nest_asyncio2
    nest_asyncio2.apply()
from bench import baselines
from bench.engine_overhead import engine_run
from bench.shapes import SHAPES
sizes = json.loads(sys.argv[2])
engine_run(SHAPES["layered"](200), "noop_async")  # warm-up: lazy imports, caches
out = {"leaked": "nest_asyncio2" in sys.modules}
for shape, n in sizes.items():
    nodes = SHAPES[shape](n)
    out[shape] = {"floor": baselines.floor(nodes) / n,
                  "engine": engine_run(nodes, "noop_async") / n}
out["patched"] = type(asyncio.get_event_loop_policy().new_event_loop().create_future).__module__
print(json.dumps(out))
"""


def _child(mode: str, shape_sizes: dict[str, int]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, json.dumps(shape_sizes)],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=600,
    )
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def _nested_rows(quick: bool, repeats: int) -> tuple[list[Row], bool]:
    shape_sizes = sizes(quick)
    got: dict[tuple[str, str, str], Sample] = {}
    leaked = False
    for _ in range(repeats):
        for mode in ("plain", "nested"):
            data = _child(mode, shape_sizes)
            leaked |= mode == "plain" and bool(data["leaked"])
            for shape in shape_sizes:
                for who in ("floor", "engine"):
                    got.setdefault((mode, shape, who), Sample()).values.append(data[shape][who])
    rows = []
    for shape, n in shape_sizes.items():
        label = f"{shape} ({n:,} steps), nest_asyncio applied"

        def g(mode: str, who: str, shape: str = shape) -> Sample:
            return got[(mode, shape, who)]

        rows += [
            Row(f"{label}: async steps", g("nested", "engine"), "us/step", 1e6,
                "floor, nest_asyncio applied", g("nested", "floor"), 2.0),
            Row(f"{label}: async steps", g("nested", "engine"), "us/step", 1e6,
                "async steps, not applied", g("plain", "engine")),
            Row(f"{label}: floor", g("nested", "floor"), "us/step", 1e6,
                "floor, not applied", g("plain", "floor")),
        ]
    return rows, leaked


def _explain_watched(sec: Section) -> list[str]:
    missed = [r for r in sec.misses if "watching" in r.what]
    if not missed:
        return []
    cost = {r.what.split(": ", 1)[1].split(" (")[0]: r for r in sec.rows if "RunView." in r.what}
    parts = [f"{k} {r.sample.median * 1e3:.1f} ms" for k, r in cost.items() if r.sample]
    return [
        "Watching costs a fixed amount per run, not per step: binding the view at run start "
        "and at most 4 coalesced redraws a second (the final drawing happens after the run "
        "returns, outside the timed window by design) "
        f"({'; '.join(parts)} on the layered shape). On a run that lasts only tens of "
        "milliseconds (the 2,000-step chain) that fixed cost is a large fraction of it. "
        f"Missed: {', '.join(r.what.split(':')[0] for r in missed)}."
    ]


def run_section(quick: bool) -> Section:
    """Measure this section."""
    sec = Section(
        "panels",
        "Watched runs and nest_asyncio",
        "Full-path runs of async no-op steps (as in section 1). Watched: a `RunView` "
        "(the live run view widget, updates coalesced, each one serialized as a kernel "
        "would send it) passed as a run listener, no frontend connected; the target row "
        "builds the view before the clock starts (the "
        "cost of watching), the next row builds it on the clock with "
        "`RunView.for_workflow` as `%orchestrate run` does. nest_asyncio: measured in "
        "child processes, a patched and an unpatched one alternating.",
    )
    repeats = 3 if quick else 7
    missing = missing_widgets()
    if missing:
        sec.rows.append(Row("async steps with live panels attached", None,
                            status=f"not measured: {missing[0]} missing"))
    else:
        sec.rows += _watched_rows(quick, repeats)
        sec.rows += _view_cost_rows(sizes(quick)["layered"], repeats)
    sec.notes += _explain_watched(sec)
    rows, leaked = _nested_rows(quick, 3 if quick else 5)
    sec.rows += rows
    sec.rows.append(Row("engine runs without nest_asyncio imported", None,
                        status="MISS" if leaked else "PASS",
                        note="checked in the unpatched child after its runs"))
    sec.notes.append(
        "The ratio of the patched engine to the unpatched one is the cost of the patch "
        "itself (pure-Python tasks), which no change in the engine can remove; the "
        "target compares it with the patched floor."
    )
    return sec
