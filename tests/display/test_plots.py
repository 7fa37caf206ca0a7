"""Matplotlib figures: one LineCollection of edges, one scatter of nodes, Gantt bars."""

from __future__ import annotations

import io

import pytest
from matplotlib.collections import LineCollection, PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.display.dag_json import dag_document
from codomyrmex_jupyter.display.plots import LABEL_LIMIT, plot_dag, plot_execution
from codomyrmex_jupyter.engine.graph import compile_graph
from codomyrmex_jupyter.engine.state import STATE_COLORS


def _graph(n: int):
    return compile_graph(
        [WorkflowStep(f"s{i}", "m", "a", dependencies=[f"s{i // 2}"] if i else []) for i in range(n)]
    )


def _collections(fig: Figure, kind: type) -> list:
    return [c for c in fig.axes[0].collections if isinstance(c, kind)]


def test_plot_dag_draws_edges_once_and_colours_nodes() -> None:
    graph = _graph(5)
    states = {"s0": "succeeded", "s1": "failed"}
    fig = plot_dag(graph, states=states)
    assert isinstance(fig, Figure)
    (edges,) = _collections(fig, LineCollection)
    assert len(edges.get_segments()) == 4
    (nodes,) = _collections(fig, PathCollection)
    colours = [to_hex(c) for c in nodes.get_facecolors()]
    assert colours == [STATE_COLORS["succeeded"], STATE_COLORS["failed"]] + [STATE_COLORS["pending"]] * 3
    assert sorted(t.get_text() for t in fig.axes[0].texts) == [f"s{i}" for i in range(5)]


def test_labels_are_off_for_big_graphs() -> None:
    fig = plot_dag(_graph(LABEL_LIMIT + 1))
    assert len(fig.axes[0].texts) == 0


def test_plot_dag_accepts_a_document_and_saves_png_and_svg() -> None:
    doc = dag_document(_graph(3), workflow="w")
    fig = plot_dag(doc)
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png")
    fig.savefig(svg, format="svg")
    assert png.getvalue().startswith(b"\x89PNG")
    assert b"<svg" in svg.getvalue()
    assert doc["nodes"][0]["state"] == "pending"  # the caller's document is not changed


def test_plot_dag_rejects_other_things() -> None:
    with pytest.raises(TypeError, match="Graph or a DAG document"):
        plot_dag({"no": "nodes"})


def _parallel(manager: WorkflowManager) -> None:
    import time

    def wait(n: int = 0) -> int:
        time.sleep(0.05)
        return n

    def join(a: int, b: int) -> int:
        return a + b

    steps = [
        WorkflowStep("a", "notebook.p", "a"),
        WorkflowStep("b", "notebook.p", "b"),
        WorkflowStep("j", "notebook.p", "j", dependencies=["a", "b"]),
    ]
    assert manager.create_workflow("p", steps, callables={"a": wait, "b": wait, "j": join})


def test_gantt_has_a_bar_per_step_and_a_concurrency_line(manager: WorkflowManager) -> None:
    _parallel(manager)
    ex = manager.run_workflow("p")
    fig = plot_execution(ex)
    top, bottom = fig.axes
    (bars,) = [c for c in top.collections if isinstance(c, PolyCollection)]
    assert len(bars.get_paths()) == 3
    assert {to_hex(c) for c in bars.get_facecolors()} == {STATE_COLORS["succeeded"]}
    (line,) = bottom.lines
    assert max(line.get_ydata()) == 2  # a and b ran at once
    assert line.get_ydata()[-1] == 0


def test_plot_execution_dag_and_bad_kind(manager: WorkflowManager) -> None:
    _parallel(manager)
    ex = manager.run_workflow("p")
    fig = plot_execution(ex, kind="dag")
    (nodes,) = _collections(fig, PathCollection)
    assert {to_hex(c) for c in nodes.get_facecolors()} == {STATE_COLORS["succeeded"]}
    assert isinstance(ex.plot(), Figure)
    with pytest.raises(ValueError, match="unknown plot kind"):
        plot_execution(ex, kind="pie")


def test_theme_neutral_figures_have_no_fill() -> None:
    from codomyrmex_jupyter.display.plots import plot_gantt, theme_neutral
    from codomyrmex_jupyter.engine.state import StepRecord

    recs = [StepRecord("a", "succeeded", 1.0, 2.0, 1), StepRecord("b", "failed", 1.5, 3.0, 1)]
    fig = theme_neutral(plot_gantt(recs, title="w"))
    assert fig.patch.get_alpha() == 0.0
    assert all(ax.patch.get_alpha() == 0.0 for ax in fig.axes)
    assert fig.axes[0].title.get_color() == "#8c959f"


def test_gantt_draws_cached_steps_as_diamonds_not_as_running(manager: WorkflowManager) -> None:
    _parallel(manager)
    steps = manager.get_workflow("p")
    assert steps is not None
    manager.run_workflow("p", cache=True)
    ex = manager.run_workflow("p", cache=True)
    assert {r.status for r in ex.step_records.values()} == {"cached"}
    top, bottom = plot_execution(ex).axes
    (bars,) = [c for c in top.collections if isinstance(c, PolyCollection)]
    assert len(bars.get_paths()) == 0
    (marks,) = [c for c in top.collections if isinstance(c, PathCollection)]
    assert len(marks.get_offsets()) == 3 and to_hex(marks.get_facecolors()[0]) == STATE_COLORS["cached"]
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["cached"]
    assert max(bottom.lines[0].get_ydata()) == 0  # nothing ran
    assert [t.get_text() for t in top.texts] == ["cached"] * 3  # no duration: it took none


def test_gantt_labels_read_and_short_steps_show() -> None:
    from codomyrmex_jupyter.display.plots import plot_gantt
    from codomyrmex_jupyter.engine.state import StepRecord

    recs = [StepRecord("load", "succeeded", 1.0, 1.0002, 1), StepRecord("train", "succeeded", 1.0, 3.0, 1)]
    fig = plot_gantt(recs, title="w")
    top = fig.axes[0]
    assert [t.get_fontsize() for t in top.get_yticklabels()] == [10, 10]
    widths = [p.get_extents().width for p in top.collections[0].get_paths()]
    assert min(widths) >= 2.0 / 250  # the sub-millisecond step is drawn at the minimum width
    assert [t.get_text() for t in top.texts] == ["0.2 ms", "2.00 s"]
