"""Validation cost: cycle check and topological order of a layered workflow.

Ours is ``compile_graph`` (names indexed, dependencies resolved, Kahn's
algorithm giving order and layers); the baseline builds a
``graphlib.TopologicalSorter`` from the same graph and calls ``prepare()``
(which checks for cycles but does not yet produce an order).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence

from . import baselines
from .engine_overhead import MODULE, make_manager
from .measure import interleave
from .report import Row, Section
from .shapes import Node, layered, workflow_steps

__all__ = ["run_section"]


def _compile(nodes: Sequence[Node]) -> float:
    from codomyrmex_jupyter.engine.graph import compile_graph

    t0 = time.perf_counter()
    compile_graph(nodes)
    return time.perf_counter() - t0


def _rows(n: int, repeats: int) -> list[Row]:
    nodes = layered(n)
    steps = workflow_steps(nodes, MODULE, "noop_async")
    with tempfile.TemporaryDirectory(prefix="codo-bench-") as tmp:
        manager = make_manager(tmp)

        def validate() -> float:
            t0 = time.perf_counter()
            manager.validate(steps)
            return time.perf_counter() - t0

        s = interleave(
            {
                "ours": lambda: _compile(nodes),
                "graphlib": lambda: baselines.graphlib_prepare(nodes),
                "manager": validate,
            },
            repeats,
        )
        manager.close()
    base = "graphlib prepare()"
    return [
        Row(f"compile_graph, {n:,} steps", s["ours"], "ms", 1e3, base, s["graphlib"], 1.0),
        Row(f"WorkflowManager.validate, {n:,} WorkflowSteps", s["manager"], "ms", 1e3, base,
            s["graphlib"], None),
    ]


def run_section(quick: bool) -> Section:
    """Measure this section."""
    sec = Section(
        "validation",
        "Validation",
        "Layered DAGs (width 100, 2-3 dependencies per step). `compile_graph` on light "
        "step objects (name + dependencies) against `graphlib.TopologicalSorter(graph)"
        ".prepare()` on the same graph; `WorkflowManager.validate` adds the per-step "
        "field checks on `WorkflowStep` objects.",
    )
    sizes = (2_000, 10_000) if quick else (10_000, 100_000)
    repeats = 3 if quick else 5
    for n in sizes:
        sec.rows += _rows(n, repeats)
    sec.notes.append(
        "`compile_graph` does more than `prepare()`: it also produces the order and the "
        "layers used by the scheduler and the DAG layout."
    )
    return sec
