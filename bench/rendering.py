"""DAG rendering: layout + draw to PNG, static SVG, and a live colours-only refresh.

Ours: ``dag_document(graph, workflow=...)`` (the layered layout) then
``plot_dag(doc)`` saved as a PNG at 100 dpi. Baselines, same graph, same
run: networkx ``spring_layout`` + ``draw_networkx`` with arrows, and a
layered layout (``topological_generations``) with all edges as one
``LineCollection``, both 8x6 in at 100 dpi. The spring layout at 2,000 nodes
takes seconds, so it runs once.

The live refresh: every step of a 200-node run changes state, then the view
redraws colours only (no layout): ``DagView``'s refresh when the widget
exists, and the document + SVG path (``LiveDocument.update`` then
``SvgRenderer.render``) that the static views use.
"""

from __future__ import annotations

import importlib.util
import io
import time
from typing import Any

from . import baselines
from .browser_render import browser_rows
from .measure import Sample, interleave
from .report import Row, Section
from .shapes import Node, layered

__all__ = ["render_shape", "run_section"]

_WIDTH = {20: 5, 200: 20, 2000: 100}


def render_shape(n: int) -> list[Node]:
    """A layered DAG of ``n`` nodes drawn at a readable width."""
    return layered(n, width=_WIDTH.get(n, min(100, max(5, n // 10))))


def _graph(nodes: list[Node]) -> Any:
    from codomyrmex_jupyter.engine.graph import compile_graph

    return compile_graph(nodes)


def ours_png(graph: Any) -> float:
    """Seconds for layout (the DAG document) + ``plot_dag`` + PNG."""
    from codomyrmex_jupyter.display.dag_json import dag_document
    from codomyrmex_jupyter.display.plots import plot_dag

    t0 = time.perf_counter()
    fig = plot_dag(dag_document(graph, workflow="bench"))
    fig.savefig(io.BytesIO(), format="png", dpi=100)
    return time.perf_counter() - t0


def ours_png_8x6(graph: Any) -> float:
    """``ours_png`` drawn into an 8x6 in axes, the baselines' figure size."""
    from matplotlib.figure import Figure

    from codomyrmex_jupyter.display.dag_json import dag_document
    from codomyrmex_jupyter.display.plots import plot_dag

    t0 = time.perf_counter()
    fig = Figure(figsize=(8, 6))
    plot_dag(dag_document(graph, workflow="bench"), ax=fig.add_subplot())
    fig.savefig(io.BytesIO(), format="png", dpi=100)
    return time.perf_counter() - t0


def ours_svg(graph: Any) -> float:
    """Seconds for layout (the DAG document) + ``dag_svg``."""
    from codomyrmex_jupyter.display.dag_json import dag_document
    from codomyrmex_jupyter.display.svg import dag_svg

    t0 = time.perf_counter()
    dag_svg(dag_document(graph, workflow="bench"))
    return time.perf_counter() - t0


def _display_modules() -> list[str]:
    names = ("codomyrmex_jupyter.display.plots", "codomyrmex_jupyter.display.svg",
             "codomyrmex_jupyter.display.dag_json")
    return [m for m in names if importlib.util.find_spec(m) is None]


def _draw_rows(n: int, repeats: int) -> list[Row]:
    nodes = render_shape(n)
    graph = _graph(nodes)
    cases = {
        "ours": lambda: ours_png(graph),
        "layered": lambda: baselines.draw_layered(nodes),
        "svg": lambda: ours_svg(graph),
        "ours_8x6": lambda: ours_png_8x6(graph),
    }
    if n < 2000:  # at 2,000 nodes the spring layout takes seconds: once, below
        cases["spring"] = lambda: baselines.draw_spring(nodes)
    s = interleave(cases, repeats)
    spring = s["spring"] if n < 2000 else Sample([baselines.draw_spring(nodes)])
    limit = {200: 1.25, 2000: 2.0}.get(n)
    label = f"{n:,} nodes"
    return [
        Row(f"{label}: plot_dag to PNG", s["ours"], "ms", 1e3, "layered + LineCollection",
            s["layered"], limit),
        Row(f"{label}: plot_dag to PNG", s["ours"], "ms", 1e3, "spring_layout + arrows", spring),
        Row(f"{label}: plot_dag into an 8x6 in axes", s["ours_8x6"], "ms", 1e3,
            "layered + LineCollection", s["layered"]),
        Row(f"{label}: dag_svg (static SVG)", s["svg"], "ms", 1e3, "layered + LineCollection",
            s["layered"]),
        Row(f"{label}: spring_layout + draw_networkx (arrows)", spring, "ms", 1e3,
            note=_spring_note(n)),
    ]


def _spring_note(n: int) -> str:
    notes = ["run once"] if n >= 2000 else []
    if baselines.spring_is_dense(n):
        notes.append("scipy not installed: dense Fruchterman-Reingold, same iterations")
    return "; ".join(notes)


def _finished_records(graph: Any) -> list[Any]:
    from codomyrmex_jupyter.engine.state import StepRecord

    return [StepRecord(name) for name in graph.names]


def _svg_refresh(graph: Any, repeats: int) -> Sample:
    from codomyrmex_jupyter.display.dag_json import LiveDocument
    from codomyrmex_jupyter.display.svg import SvgRenderer

    sample = Sample()
    for _ in range(repeats):
        records = _finished_records(graph)
        live = LiveDocument(graph, workflow="bench", records=records, run_id="r")
        renderer = SvgRenderer(live.doc)
        renderer.render(live.doc)
        for k, rec in enumerate(records):
            rec.status = "running" if k % 2 else "succeeded"
        t0 = time.perf_counter()
        renderer.render(live.update())
        sample.values.append(time.perf_counter() - t0)
    return sample


def _refresh_rows(repeats: int) -> list[Row]:
    """Live refreshes of a 200-node run: the static SVG twin and the widget's patch."""
    from .panels import dag_view_refresh

    graph = _graph(render_shape(200))
    rows = [Row("200 nodes: colours-only refresh, LiveDocument.update + SvgRenderer.render",
                _svg_refresh(graph, repeats), "ms", 1e3, limit=20.0, on="value")]
    for changed, what in ((1.0, "every step changed"), (0.05, "5% of the steps changed")):
        widget = dag_view_refresh(render_shape(200), repeats, changed)
        label = f"200 nodes: live widget refresh in the kernel, {what} (patch built and serialized)"
        if isinstance(widget, str):
            rows.append(Row(label, None, "ms", 1e3, status=f"not measured: {widget}"))
        else:
            rows.append(Row(label, widget, "ms", 1e3, limit=5.0, on="value"))
    return rows


def run_section(quick: bool) -> Section:
    """Measure this section."""
    sec = Section(
        "rendering",
        "DAG rendering",
        "Layout + draw to a PNG (Agg, 100 dpi), same graphs (layered, fixed seed). "
        "`plot_dag` sizes its figure to the graph (up to 10x7.5 in, 8x6 above 300 nodes); the baselines draw "
        "8x6 in. Labels are drawn up to 200 nodes by the baselines, up to 300 by "
        "`plot_dag`.",
    )
    missing = _display_modules()
    if missing:
        sec.rows.append(Row("DAG rendering", None, status=f"not measured: {missing[0]} missing"))
        return sec
    import matplotlib

    matplotlib.use("Agg")
    repeats = 3 if quick else 5
    for n in (20, 200) if quick else (20, 200, 2000):
        sec.rows += _draw_rows(n, repeats)
    sec.rows += _refresh_rows(5 if quick else 11)
    sec.rows += browser_rows(2000, 3 if quick else 7)
    sec.notes += _explain(sec)
    return sec


def _explain(sec: Section) -> list[str]:
    notes = []
    for row in sec.misses:
        if "plot_dag to PNG" not in row.what:
            continue
        n = row.what.split(":")[0]
        small = next((r for r in sec.rows if r.what.startswith(n) and "8x6" in r.what), None)
        if small is not None and small.ratio is not None:
            notes.append(
                f"{n}: `plot_dag` is {row.ratio:.2f}x the layered baseline at its own figure "
                f"size and {small.ratio:.2f}x when drawn into the baselines' 8x6 in axes; the "
                "difference is rasterising a larger canvas (plus legend and title)."
            )
    return notes
