"""What our figures are compared with, measured in the same run.

* the floor: ``graphlib.TopologicalSorter`` plus one asyncio task per step,
  started as soon as the step is ready (the least any asyncio scheduler can do);
* ``dask.get`` (synchronous) and ``dask.threaded.get`` on the same graph;
* ``graphlib.TopologicalSorter(...).prepare()`` for validation;
* networkx drawing: ``spring_layout`` + ``draw_networkx`` with arrows, and a
  layered layout drawn with all edges as one line collection.
"""

from __future__ import annotations

import asyncio
import graphlib
import io
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from .shapes import Node, dask_graph, graphlib_mapping, networkx_graph

__all__ = [
    "dask_get",
    "dask_threaded_get",
    "draw_layered",
    "draw_spring",
    "floor",
    "graphlib_prepare",
    "layered_positions",
]


async def _noop() -> None:
    return None


def _dask_noop(*_args: Any) -> None:
    return None


async def _floor_run(nodes: Sequence[Node]) -> None:
    ts = graphlib.TopologicalSorter(graphlib_mapping(nodes))
    ts.prepare()
    loop = asyncio.get_running_loop()
    finished = loop.create_future()

    def start(ready: Sequence[str]) -> None:
        for name in ready:
            task = loop.create_task(_noop())
            task.add_done_callback(partial(on_done, name))

    def on_done(name: str, _task: object) -> None:
        ts.done(name)
        if ts.is_active():
            start(ts.get_ready())
        elif not finished.done():
            finished.set_result(None)

    start(ts.get_ready())
    await finished


def floor(nodes: Sequence[Node]) -> float:
    """Seconds for the floor scheduler to run ``nodes`` as no-op asyncio tasks."""
    return asyncio.run(_timed_async(_floor_run(nodes)))


async def _timed_async(coro: Any) -> float:
    t0 = time.perf_counter()
    await coro
    return time.perf_counter() - t0


def dask_get(nodes: Sequence[Node]) -> float:
    """Seconds for ``dask.get`` on the same graph (graph building excluded)."""
    from dask.local import get_sync

    dsk, keys = dask_graph(nodes, _dask_noop), [n.name for n in nodes]
    t0 = time.perf_counter()
    get_sync(dsk, keys)  # what ``dask.get`` is
    return time.perf_counter() - t0


def dask_threaded_get(nodes: Sequence[Node]) -> float:
    """Seconds for ``dask.threaded.get`` on the same graph (graph building excluded)."""
    import dask.threaded

    dsk, keys = dask_graph(nodes, _dask_noop), [n.name for n in nodes]
    t0 = time.perf_counter()
    dask.threaded.get(dsk, keys)
    return time.perf_counter() - t0


def graphlib_prepare(nodes: Sequence[Node]) -> float:
    """Seconds to build a ``TopologicalSorter`` from the nodes and ``prepare()`` it."""
    t0 = time.perf_counter()
    graphlib.TopologicalSorter({n.name: n.dependencies for n in nodes}).prepare()
    return time.perf_counter() - t0


def layered_positions(graph: Any) -> dict[Any, tuple[float, float]]:
    """x = position in its topological generation, y = minus the generation."""
    import networkx as nx

    pos: dict[Any, tuple[float, float]] = {}
    for depth, layer in enumerate(nx.topological_generations(graph)):
        for j, node in enumerate(sorted(layer)):
            pos[node] = (j - len(layer) / 2, -depth)
    return pos


def _png(fig: Any) -> int:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return buf.tell()


def spring_is_dense(n: int) -> bool:
    """networkx needs scipy for ``spring_layout`` from 500 nodes; without it we go dense."""
    import importlib.util

    return n >= 500 and importlib.util.find_spec("scipy") is None


def _spring_positions(g: Any) -> dict[Any, Any]:
    import networkx as nx

    if not spring_is_dense(len(g)):
        return dict(nx.spring_layout(g, seed=1))
    import numpy as np
    from networkx.drawing import layout

    # The same Fruchterman-Reingold iterations on a dense matrix (networkx's
    # path below 500 nodes), since the sparse one needs scipy.
    pos = layout._fruchterman_reingold(
        nx.to_numpy_array(g), None, None, None, 50, 1e-4, 2, np.random.RandomState(1))
    return dict(zip(g, layout.rescale_layout(pos), strict=True))


def draw_spring(nodes: Sequence[Node]) -> float:
    """Seconds for ``spring_layout`` + ``draw_networkx`` (arrows) to a PNG."""
    import matplotlib.pyplot as plt
    import networkx as nx

    g = networkx_graph(nodes)
    t0 = time.perf_counter()
    fig, ax = plt.subplots(figsize=(8, 6))
    pos = _spring_positions(g)
    nx.draw_networkx(g, pos, ax=ax, arrows=True, node_size=60, font_size=6,
                     with_labels=len(nodes) <= 200)
    _png(fig)
    return time.perf_counter() - t0


def draw_layered(nodes: Sequence[Node]) -> float:
    """Seconds for a layered layout drawn with edges as one collection, to a PNG."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    g = networkx_graph(nodes)
    t0 = time.perf_counter()
    pos = layered_positions(g)
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.add_collection(LineCollection([(pos[u], pos[v]) for u, v in g.edges], linewidths=0.5,
                                     colors="#8c959f", zorder=1))
    xs, ys = zip(*(pos[n] for n in g.nodes), strict=True)
    ax.scatter(xs, ys, s=60, c="#d0d7de", edgecolors="#57606a", zorder=2)
    if len(nodes) <= 200:
        for n, (x, y) in pos.items():
            ax.text(x, y, n, fontsize=6, ha="center", va="center", zorder=3)
    ax.set_axis_off()
    ax.autoscale_view()
    _png(fig)
    return time.perf_counter() - t0
