"""Static SVG: colours per state, legend, markers, escaping, compact and summary modes."""

from __future__ import annotations

import re

import pytest

from codomyrmex_jupyter.display.svg import LABEL_LIMIT, SvgRenderer, dag_svg, format_duration, summary_svg
from codomyrmex_jupyter.engine.state import STATE_COLORS


def _doc(states: list[str], names: list[str] | None = None) -> dict:
    names = names or [f"s{i}" for i in range(len(states))]
    nodes = [
        {"id": n, "label": n, "module": "m", "action": "a", "state": s, "layer": i, "x": float(i),
         "y": 0.0, "duration": 0.25 if s == "succeeded" else None, "attempts": 1,
         "started": None, "ended": None, "error": "ValueError: <boom>" if s == "failed" else None}
        for i, (n, s) in enumerate(zip(names, states, strict=True))
    ]
    edges = [[names[i - 1], names[i]] for i in range(1, len(names))]
    counts: dict[str, int] = {}
    for s in states:
        counts[s] = counts.get(s, 0) + 1
    return {"version": 1, "kind": "run", "workflow": "w<&>", "run_id": "abcdef123", "status": "failed",
            "direction": "LR", "nodes": nodes, "edges": edges, "states": STATE_COLORS,
            "counts": counts, "truncated": False, "total_nodes": len(nodes)}


def test_nodes_are_filled_with_their_state_colour() -> None:
    svg = dag_svg(_doc(["succeeded", "failed", "skipped"]))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for state in ("succeeded", "failed", "skipped"):
        assert len(re.findall(rf'data-state="{state}"><title>[^<]*</title><rect[^>]*fill="{STATE_COLORS[state]}"', svg)) == 1
    assert svg.count('class="error-marker"') == 1
    assert ">250 ms<" in svg  # duration under the label
    assert ">skipped<" in svg  # no duration: the state instead


def test_boxes_have_the_renderers_geometry() -> None:
    svg = dag_svg(_doc(["succeeded", "pending"]), frame=False)
    assert '<rect x="12.0" y="12.0" width="150" height="40"' in svg
    assert '<rect x="202.0" y="12.0" width="150" height="40"' in svg  # one layer = 190 px
    assert 'M162.0,32.0C186.0,32.0 176.0,32.0 200.0,32.0' in svg  # the renderer's edge curve


def test_legend_lists_the_states_present_with_counts() -> None:
    svg = dag_svg(_doc(["succeeded", "succeeded", "failed"]))
    legend = svg[svg.index('<g class="legend">'):]
    legend = legend[: legend.index("</g>")]
    assert "succeeded 2" in legend and "failed 1" in legend
    for state in ("pending", "ready", "running", "retrying", "skipped", "cancelled", "cached"):
        assert state not in legend, state
    assert '<g class="legend">' not in dag_svg(_doc(["succeeded"]), frame=False)


def test_text_is_escaped() -> None:
    svg = dag_svg(_doc(["failed", "pending"], names=["<script>", 'a"b']))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg and "a&quot;b" in svg
    assert "w&lt;&amp;&gt;" in svg
    assert "ValueError: &lt;boom&gt;" in svg


def test_edges_are_curves_with_arrows() -> None:
    svg = dag_svg(_doc(["pending"] * 4))
    assert svg.count('class="edges"') == 1
    assert svg.count('marker-end="url(#cdm-arrow)"') == 3


def test_big_graphs_are_drawn_as_dots_without_labels() -> None:
    n = LABEL_LIMIT + 1
    svg = dag_svg(_doc(["succeeded"] * n))
    assert svg.count("<circle") == n
    assert "<rect x=" not in svg.split('<g class="legend">')[1].split("</g>", 1)[1]
    assert "marker-end" not in svg


def test_width_scales_the_drawing() -> None:
    assert 'width="300"' in dag_svg(_doc(["pending", "pending"]), width=300)


def test_renderer_reuses_edges_and_redraws_states() -> None:
    doc = _doc(["running", "pending"])
    renderer = SvgRenderer(doc)
    first = renderer.render(doc)
    doc["nodes"][0]["state"] = "succeeded"
    second = renderer.render(doc)
    assert 'data-state="running"' in first and 'data-state="succeeded"' in second


def test_empty_document_says_so() -> None:
    doc = _doc([])
    assert "no steps" in dag_svg(doc)


def test_summary_draws_one_stacked_bar_per_layer() -> None:
    doc = _doc(["succeeded"])
    svg = summary_svg([{"succeeded": 3, "failed": 1}, {"pending": 2}], doc)
    assert svg.count('data-state="succeeded"') == 1
    assert svg.count('data-state="failed"') == 1
    assert svg.count('data-state="pending"') == 1
    assert "2 layers" in svg


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, ""), (0.0002, "0.2 ms"), (0.0123, "12 ms"), (3.2, "3.20 s"), (42.25, "42.3 s"),
     (125, "2 min 05 s"), (3720, "1 h 02 min")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_summary_groups_many_layers_into_at_most_max_columns_bars() -> None:
    from codomyrmex_jupyter.display.dag_json import MAX_COLUMNS

    doc = _doc(["succeeded"])
    layers = [{"succeeded": 1}] * (MAX_COLUMNS * 3)
    svg = summary_svg(layers, doc)
    assert svg.count('data-state="succeeded"') == MAX_COLUMNS
    assert f"{MAX_COLUMNS * 3} layers in {MAX_COLUMNS} bars" in svg
    # columns already grouped by the caller: the caption names the layers they stand for
    grouped = summary_svg([{"succeeded": 3}, {"pending": 2}], doc, layers=5)
    assert "5 layers in 2 bars" in grouped and grouped.count("data-state=") == 2
