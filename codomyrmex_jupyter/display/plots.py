"""Matplotlib figures for reports: the DAG and the Gantt timeline of a run.

Figures are built with the object API (``matplotlib.figure.Figure``), never
``pyplot``, so they work under any backend (Agg included) and do not pile up
in pyplot's figure registry. Drawing stays cheap for big graphs: all edges
are one ``LineCollection``, all nodes one ``scatter``, all Gantt bars one
``PolyCollection``; labels are drawn only up to :data:`LABEL_LIMIT` nodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..engine.graph import Graph
from ..engine.state import STATE_COLORS
from .dag_json import dag_document, graph_for_execution

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..api.workflow_models import WorkflowExecution

__all__ = ["LABEL_LIMIT", "plot_dag", "plot_execution", "plot_gantt", "theme_neutral"]

LABEL_LIMIT = 300


def _as_document(
    dag: Mapping[str, Any] | Graph, states: Mapping[str, str] | Sequence[str] | None
) -> dict[str, Any]:
    if isinstance(dag, Graph):
        doc = dag_document(dag, workflow="")
    elif isinstance(dag, Mapping) and "nodes" in dag:
        doc = {**dag, "nodes": [dict(n) for n in dag["nodes"]]}
    else:
        raise TypeError(f"plot_dag needs a Graph or a DAG document, got {type(dag).__name__}")
    if states is not None:
        _apply_states(doc["nodes"], states)
    return doc


def _apply_states(nodes: list[dict[str, Any]], states: Mapping[str, str] | Sequence[str]) -> None:
    if isinstance(states, Mapping):
        for node in nodes:
            node["state"] = states.get(node["id"], node["state"])
    else:
        for node, state in zip(nodes, states, strict=False):
            node["state"] = state


def _new_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    from matplotlib.figure import Figure

    # Fixed margins, not a layout engine: constrained/tight layout would
    # measure every label, which costs more than drawing them.
    fig = Figure(figsize=size)
    fig.subplots_adjust(left=0.02, right=0.86, top=0.92, bottom=0.03)
    return fig, fig.add_subplot()


def _dag_size(doc: Mapping[str, Any]) -> tuple[float, float]:
    nodes = doc["nodes"]
    if not nodes:
        return (4.0, 2.0)
    width = max(n["x"] for n in nodes) + 1
    height = max(n["y"] for n in nodes) - min(n["y"] for n in nodes) + 1
    # Pixels cost drawing time; past a page width the figure is scaled down
    # in the notebook anyway, and unlabelled dots need no more room.
    cap = (8.0, 6.0) if len(nodes) > 300 else (10.0, 7.5)
    return (min(cap[0], 2.0 + 1.6 * width), min(cap[1], 1.5 + 0.45 * height))


def plot_dag(
    dag: Mapping[str, Any] | Graph,
    states: Mapping[str, str] | Sequence[str] | None = None,
    ax: Axes | None = None,
    *,
    labels: bool | None = None,
) -> Figure:
    """Draw a DAG, nodes coloured by state, layers left to right.

    Parameters
    ----------
    dag:
        A DAG document (see :mod:`.dag_json`) or a compiled :class:`Graph`.
    states:
        Step states by name (or aligned with the nodes) to override the document's.
    ax:
        Axes to draw into; a new :class:`~matplotlib.figure.Figure` by default.
    labels:
        Draw step names; by default only up to :data:`LABEL_LIMIT` nodes.

    Returns
    -------
    matplotlib.figure.Figure
        Save it with ``fig.savefig("dag.png")`` or ``"dag.svg"``.
    """
    from matplotlib.collections import LineCollection

    doc = _as_document(dag, states)
    nodes = doc["nodes"]
    fig, ax = _new_axes(ax, _dag_size(doc))
    where = {n["id"]: (n["x"], -n["y"]) for n in nodes}
    segments = [(where[s], where[t]) for s, t in doc["edges"] if s in where and t in where]
    ax.add_collection(LineCollection(segments, colors="#8c959f", linewidths=0.8, zorder=1))
    xs = [where[n["id"]][0] for n in nodes]
    ys = [where[n["id"]][1] for n in nodes]
    colours = [STATE_COLORS.get(n["state"], STATE_COLORS["pending"]) for n in nodes]
    big = len(nodes) > LABEL_LIMIT
    ax.scatter(xs, ys, c=colours, s=12 if big else 260, edgecolors="#57606a",
               linewidths=0.4, zorder=2)
    if labels if labels is not None else not big:
        for x, y, n in zip(xs, ys, nodes, strict=True):
            ax.text(x, y + 0.18, n["label"], ha="center", va="bottom", fontsize=7, zorder=3)
    _legend(ax, doc)
    _frame(ax, doc, xs, ys)
    return fig


def _legend(ax: Axes, doc: Mapping[str, Any]) -> None:
    from matplotlib.patches import Patch

    present = {n["state"] for n in doc["nodes"]}
    handles = [Patch(color=c, label=s) for s, c in STATE_COLORS.items() if s in present]
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                  fontsize=7, frameon=False)


def _frame(ax: Axes, doc: Mapping[str, Any], xs: list[float], ys: list[float]) -> None:
    if xs:
        ax.set_xlim(min(xs) - 0.5, max(xs) + 0.5)
        ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.set_axis_off()
    title = str(doc.get("workflow") or "")
    if doc.get("status"):
        title += f" ({doc['status']})"
    if title:
        ax.set_title(title, fontsize=9)


def plot_execution(execution: WorkflowExecution, kind: str = "gantt") -> Figure:
    """A figure of a run: ``"gantt"`` (timeline and concurrency) or ``"dag"``.

    Parameters
    ----------
    execution:
        The run to draw (live or finished).
    kind:
        ``"gantt"``: one bar per step from its start to its end, coloured by
        state, above a line of how many steps ran at once. ``"dag"``: the DAG
        coloured by final states.
    """
    if kind == "dag":
        graph = graph_for_execution(execution)
        return plot_dag(dag_document(graph, workflow=execution.workflow_name, execution=execution))
    if kind != "gantt":
        raise ValueError(f"unknown plot kind {kind!r}; use 'gantt' or 'dag'")
    return plot_gantt(list(execution.step_records.values()), title=execution.summary())


def _spans(records: Sequence[Any]) -> list[tuple[str, float, float, str]]:
    spans = [
        (r.name, float(r.start), float(r.end if r.end is not None else r.start), r.status)
        for r in records
        if r.start is not None
    ]
    spans.sort(key=lambda s: (s[1], s[2]))
    return spans


def _concurrency(spans: Sequence[tuple[str, float, float, str]], t0: float) -> tuple[list[float], list[int]]:
    events = sorted([(s[1] - t0, 1) for s in spans] + [(s[2] - t0, -1) for s in spans],
                    key=lambda e: (e[0], e[1]))
    times, levels, level = [0.0], [0], 0
    for t, delta in events:
        level += delta
        times.append(t)
        levels.append(level)
    return times, levels


def theme_neutral(fig: Figure, ink: str = "#8c959f") -> Figure:
    """Make ``fig`` read on light and dark backgrounds: no fill, grey text and lines.

    For figures shown inside a notebook whose theme is not known (a PNG in a
    widget looks like a white card on a dark theme otherwise).
    """
    fig.patch.set_alpha(0.0)
    for ax in fig.axes:
        ax.patch.set_alpha(0.0)
        ax.tick_params(colors=ink, which="both")
        for spine in ax.spines.values():
            spine.set_color(ink)
        for label in (ax.title, ax.xaxis.label, ax.yaxis.label):
            label.set_color(ink)
    return fig


def plot_gantt(records: Sequence[Any], *, title: str = "") -> Figure:
    """Gantt chart of step records (``name``, ``status``, ``start``, ``end``).

    A step taken from the cache took no time: it is a diamond at the moment
    it was taken, not a bar, and it does not count as running.
    """
    from matplotlib.collections import PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from .svg import format_duration

    spans = _spans(records)
    n = max(len(spans), 1)
    fig = Figure(figsize=(10.0, min(12.0, 2.4 + 0.3 * n)), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
    t0 = spans[0][1] if spans else 0.0
    span = max((s[2] - t0 for s in spans), default=1.0) or 1.0
    shortest = span / 250  # the run view's 3 px minimum on a typical width: short steps stay visible
    verts, colours, taken = [], [], []
    for row, (_, start, end, state) in enumerate(spans):
        a = start - t0
        if state == "cached":
            taken.append((a, row))
            continue
        b = max(end - t0, a + shortest)
        verts.append([(a, row - 0.4), (a, row + 0.4), (b, row + 0.4), (b, row - 0.4)])
        colours.append(STATE_COLORS.get(state, STATE_COLORS["pending"]))
    top.add_collection(PolyCollection(verts, facecolors=colours, edgecolors="none"))
    if taken:
        top.scatter([t for t, _ in taken], [r for _, r in taken], marker="D", s=22,
                    color=STATE_COLORS["cached"], zorder=3)
    present = list(dict.fromkeys(s[3] for s in spans))
    if len(present) > 1 or taken:
        handles = [Patch(color=STATE_COLORS.get(s, STATE_COLORS["pending"]), label=s) for s in present]
        top.legend(handles=handles, fontsize=9, loc="lower right", frameon=False)
    top.set_ylim(n - 0.5, -0.5)
    top.set_xlim(0.0, span * 1.12)  # room for the durations written after the bars
    if len(spans) <= 60:
        top.set_yticks(range(len(spans)), [s[0] for s in spans], fontsize=10)
        for row, (_, start, end, state) in enumerate(spans):
            cached = state == "cached"
            label = "cached" if cached else format_duration(end - start)
            top.text((start - t0 if cached else max(end - t0, start - t0 + shortest)) + span * 0.01, row,
                     label, va="center", fontsize=9)
    else:
        top.set_ylabel(f"{len(spans)} steps", fontsize=10)
    top.tick_params(axis="x", labelsize=9)
    top.set_title(title, fontsize=11)
    times, levels = _concurrency([s for s in spans if s[3] != "cached"], t0)
    bottom.step(times, levels, where="post", color=STATE_COLORS["running"], linewidth=1.2)
    bottom.set_ylabel("running", fontsize=10)
    bottom.set_xlabel("seconds since the first step started", fontsize=10)
    bottom.tick_params(labelsize=9)
    return fig
