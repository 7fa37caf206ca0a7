"""Tests for ``data_visualization.create_chart`` and ``ChartResult``."""

from __future__ import annotations

import base64
import json
import math
import os
import pickle
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.builtin import data_visualization
from codomyrmex_jupyter.engine.builtin.data_visualization import ChartResult, create_chart
from codomyrmex_jupyter.engine.builtin.static_analysis import analyze_code, analyze_code_quality

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).resolve().parents[3]


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG header."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


@pytest.fixture
def analysis(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "a.py").write_text(
        "def f(x):\n    if x:\n        return 1\n    return 2\n\ndef g():\n    pass\n"
    )
    (tmp_path / "b.py").write_text("def h(a, b):\n    return a and b\n\nclass C:\n    pass\n")
    return analyze_code_quality(str(tmp_path))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"a": 3, "b": 5, "c": 1}, "bar"),
        ([1, 4, 2, 8], "line"),
        ([(0, 1), (1, 3), (2, 2)], "line"),
        ([(3, 1), (1, 3), (2, 2)], "scatter"),
        ([["a", 1], ["b", 2]], "scatter"),
        ({"up": [1, 2, 3], "down": [3, 2, 1]}, "line"),
        (range(5), "line"),
        (np.array([1.5, 2.5, 3.5]), "line"),
        ({"x": np.int64(4), "y": np.float32(2.0)}, "bar"),
    ],
)
def test_auto_kind_and_png(data: Any, kind: str) -> None:
    chart = create_chart(data)
    assert isinstance(chart, ChartResult)
    assert isinstance(chart["png"], bytes)
    assert chart["png"].startswith(PNG_MAGIC)
    assert chart["kind"] == kind


@pytest.mark.parametrize("kind", ["bar", "barh", "line", "scatter", "hist"])
def test_every_explicit_kind_draws(kind: str) -> None:
    chart = create_chart({"a": 3, "b": 5, "c": 1}, kind=kind)
    assert chart["kind"] == kind
    assert chart.png.startswith(PNG_MAGIC)


@pytest.mark.parametrize("kind", ["bar", "barh", "hist"])
def test_several_series_draw_grouped(kind: str) -> None:
    chart = create_chart({"a": [1, 2], "b": [3, 4]}, kind=kind)
    assert chart["summary"]["series"] == ["a", "b"]


def test_summary_numbers_of_a_mapping() -> None:
    chart = create_chart({"a": 3, "b": 5, "c": 1, "d": 7}, title="Counts")
    assert chart["title"] == "Counts"
    assert chart["summary"] == {"points": 4, "min": 1, "max": 7, "mean": 4.0, "series": ["data"]}


def test_summary_numbers_of_pairs_use_y() -> None:
    chart = create_chart([(10, 1.5), (20, 2.5), (30, 5.0)])
    assert chart["summary"] == {
        "points": 3,
        "min": 1.5,
        "max": 5.0,
        "mean": 3.0,
        "series": ["data"],
    }


def test_hist_summary_counts_samples() -> None:
    chart = create_chart([1, 2, 2, 3], kind="hist")
    assert chart["summary"] == {"points": 4, "min": 1, "max": 3, "mean": 2.0, "series": ["data"]}


def test_size_and_dpi_set_the_pixels() -> None:
    chart = create_chart([1, 2, 3], width=3, height=2, dpi=50)
    assert png_size(chart.png) == (150, 100)
    assert chart["size"] == {"width": 3.0, "height": 2.0, "dpi": 50}


def test_labels_default_and_override() -> None:
    chart = create_chart({"a": 1}, xlabel="letter", ylabel="n")
    assert (chart["xlabel"], chart["ylabel"]) == ("letter", "n")
    assert create_chart({"a": 1})["ylabel"] == "value"


def test_inputs_from_an_analysis_give_a_complexity_histogram(analysis: dict[str, Any]) -> None:
    chart = create_chart(inputs={"analyze": analysis})
    assert chart["kind"] == "hist"
    assert chart["title"] == "Cyclomatic complexity of 3 functions"
    # f: 2, g: 1, h: 2
    assert chart["summary"] == {
        "points": 3,
        "min": 1,
        "max": 2,
        "mean": 5 / 3,
        "series": ["functions"],
    }
    assert chart["series"] == [{"name": "functions", "x": [1, 2], "y": [1, 2]}]


def test_analysis_after_a_json_round_trip(analysis: dict[str, Any]) -> None:
    stored = json.loads(json.dumps(analysis))
    assert create_chart(inputs={"analyze": stored})["summary"]["points"] == 3


def test_analysis_with_details_but_no_distribution(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f(x):\n    return x or 1\n")
    result = analyze_code(str(tmp_path))
    del result["complexity"]["distribution"]
    chart = create_chart(inputs={"analyze": result})
    assert chart["kind"] == "hist"
    assert chart["series"][0]["x"] == [2]


def test_analysis_without_functions_charts_lines_per_file(tmp_path: Path) -> None:
    for i, n in enumerate([3, 10, 1]):
        (tmp_path / f"m{i}.py").write_text("x = 1\n" * n)
    result = analyze_code_quality(str(tmp_path))
    chart = create_chart(inputs={"analyze": result})
    assert chart["kind"] == "barh"
    assert chart["series"] == [{"name": "lines", "x": ["m1.py", "m0.py", "m2.py"], "y": [10, 3, 1]}]
    assert chart["title"] == "Lines per file (3 largest of 3)"


def test_analysis_with_explicit_bar_kind_charts_lines(analysis: dict[str, Any]) -> None:
    chart = create_chart(inputs={"analyze": analysis}, kind="bar")
    assert chart["kind"] == "bar"
    assert chart["series"][0]["y"] == [7, 5]


def test_analysis_is_found_among_other_inputs(analysis: dict[str, Any]) -> None:
    chart = create_chart(inputs={"setup": {"ok": True}, "analyze": analysis})
    assert chart["kind"] == "hist"


def test_analysis_of_nothing_is_an_error(tmp_path: Path) -> None:
    result = analyze_code_quality(str(tmp_path))
    with pytest.raises(ValueError, match="found no Python files"):
        create_chart(inputs={"analyze": result})


def test_numbers_from_several_inputs_give_a_bar_per_step() -> None:
    chart = create_chart(inputs={"load": 3, "clean": 2.5, "skipped": None})
    assert chart["kind"] == "bar"
    assert chart["series"][0]["x"] == ["load", "clean"]
    assert chart["title"] == "Step results"


def test_one_input_is_drawn_like_data() -> None:
    chart = create_chart(inputs={"load": [1, 2, 3]})
    assert chart["kind"] == "line"
    assert chart["title"] == "load"
    assert chart["summary"]["series"] == ["load"]


def test_data_wins_over_inputs() -> None:
    chart = create_chart([5, 6], inputs={"load": [1, 2, 3]})
    assert chart["summary"]["points"] == 2


@pytest.mark.parametrize(
    ("data", "inputs", "message"),
    [
        (None, None, "create_chart got no data"),
        (None, {}, "create_chart got no data"),
        (None, {"a": None}, "create_chart got no data"),
        ("text", None, "cannot chart 'str' data"),
        (42, None, "cannot chart 'int' data"),
        ({}, None, "data is an empty mapping"),
        ([], None, "data is an empty list"),
        ({"a": "x"}, None, "neither all numbers nor all lists of numbers"),
        ([1, "a"], None, "only numbers or only"),
        ([(1, 2, 3)], None, "only numbers or only"),
        ([True, False], None, "only numbers or only"),
        (None, {"setup": {"ok": True}}, "cannot chart the result of step 'setup'"),
        (None, {"a": [1], "b": "x"}, "cannot chart the results of steps \\['a', 'b'\\]"),
    ],
)
def test_unsupported_input_says_which_shapes_work(
    data: Any, inputs: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as info:
        create_chart(data, inputs=inputs)
    assert "a list of (x, y) pairs" in str(info.value)


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_values_are_rejected(bad: float) -> None:
    with pytest.raises(ValueError, match="drop or fill non-finite values"):
        create_chart({"a": 1, "b": bad})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "pie"}, "kind 'pie' is not one of auto, bar"),
        ({"width": 0}, "width must be a positive number"),
        ({"height": -1}, "height must be a positive number"),
        ({"width": "6"}, "width must be a positive number"),
        ({"dpi": 0}, "dpi must be a positive integer"),
        ({"dpi": 72.5}, "dpi must be a positive integer"),
        ({"width": 200, "dpi": 100}, "exceeds 10000 pixels"),
    ],
)
def test_bad_options(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_chart([1, 2], **kwargs)


def test_reprs_show_the_chart_inline() -> None:
    chart = create_chart({"a": 1, "b": 3}, title="<Counts & more>")
    assert chart._repr_png_() == chart["png"]
    page = chart._repr_html_()
    src = base64.b64encode(chart["png"]).decode("ascii")
    assert f'<img src="data:image/png;base64,{src}"' in page
    assert "&lt;Counts &amp; more&gt;: bar chart of 2 points; min 1, max 3, mean 2" in page
    assert "<Counts" not in page
    assert repr(chart).startswith("<ChartResult <Counts & more>: bar chart of 2 points")
    assert repr(chart).endswith("byte PNG)>")
    assert len(repr(chart)) < 200


def test_stored_copy_displays_and_redraws() -> None:
    chart = create_chart({"a": 1, "b": 3}, title="T")
    encoded = json.dumps(chart, default=lambda b: base64.b64encode(b).decode("ascii"))
    restored = ChartResult(json.loads(encoded))
    assert restored.png == chart.png
    assert restored._repr_png_().startswith(PNG_MAGIC)
    assert restored.figure().axes[0].get_title() == "T"


def test_figure_rebuilds_a_matplotlib_figure() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    chart = create_chart([1, 2, 3], title="Line", xlabel="i", ylabel="v", width=4, height=3)
    fig = chart.figure()
    assert isinstance(fig, Figure)
    assert isinstance(fig.canvas, FigureCanvasAgg)
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Line", "i", "v")
    assert list(fig.get_size_inches()) == [4.0, 3.0]
    assert list(ax.lines[0].get_ydata()) == [1, 2, 3]


def test_result_pickles_for_process_pools() -> None:
    chart = create_chart([1, 2])
    clone = pickle.loads(pickle.dumps(chart))  # noqa: S301 - our own bytes, round trip
    assert isinstance(clone, ChartResult)
    assert clone == chart


def test_charts_in_parallel_threads() -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        charts = list(pool.map(lambda n: create_chart(list(range(n))), range(2, 10)))
    assert [c["summary"]["points"] for c in charts] == list(range(2, 10))
    assert all(c.png.startswith(PNG_MAGIC) for c in charts)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_import_does_not_import_matplotlib() -> None:
    done = run_python(
        "import sys\n"
        "import codomyrmex_jupyter.engine.builtin.data_visualization\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib')\n"
        "assert not loaded, loaded\n"
    )
    assert done.returncode == 0, done.stderr


def test_drawing_never_touches_pyplot() -> None:
    done = run_python(
        "import sys\n"
        "from codomyrmex_jupyter.engine.builtin.data_visualization import create_chart\n"
        "create_chart([1, 2, 3]).figure()\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    assert done.returncode == 0, done.stderr


def test_register_adds_the_action() -> None:
    registry = ActionRegistry(load_builtins=False, load_entry_points=False)
    data_visualization.register(registry)
    spec = registry.resolve("data_visualization", "create_chart")
    assert spec.fn is create_chart
    assert spec.required == frozenset()
    assert "inputs" in spec.params


def test_seed_workflow_data_flow(tmp_path: Path) -> None:
    """analyze -> visualize, bound the way the engine binds a step's arguments."""
    from codomyrmex_jupyter.engine.binding import bind_arguments

    registry = ActionRegistry(load_entry_points=False)
    (tmp_path / "m.py").write_text("def f(x):\n    return x\n")
    analyze = registry.resolve("static_analysis", "analyze_code_quality")
    result = analyze.fn(
        **bind_arguments(analyze, "analyze", {"path": "."}, {}, {"project_path": str(tmp_path)})
    )
    visualize = registry.resolve("data_visualization", "create_chart")
    chart = visualize.fn(**bind_arguments(visualize, "visualize", {}, {"analyze": result}, {}))
    assert chart["kind"] == "hist"
    assert chart["summary"]["points"] == 1
