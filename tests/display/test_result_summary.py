"""Result summaries: short, JSON-ready, by duck typing."""

from __future__ import annotations

import json

import pytest

from codomyrmex_jupyter.display.result_summary import parameter_value, preview, summarize, summarize_stored


def test_plain_values_get_a_short_repr_and_length() -> None:
    assert summarize(None) is None
    assert summarize([1, 2, 3]) == {"type": "list", "length": 3, "text": "[1, 2, 3]"}
    long = summarize(list(range(1000)))
    assert long["length"] == 1000 and len(long["text"]) <= 120 and "..." in long["text"]
    assert summarize(3.5) == {"type": "float", "text": "3.5"}


def test_arrays_give_shape_and_dtype() -> None:
    np = pytest.importorskip("numpy")
    out = summarize(np.zeros((3, 4), dtype="float32"))
    assert out == {"type": "numpy.ndarray", "shape": [3, 4], "dtype": "float32", "text": "ndarray 3 × 4 float32"}


class Frame:
    """What summarize reads of a pandas DataFrame: shape, columns, head(), itertuples()."""

    def __init__(self, columns: dict[str, list]) -> None:
        self.data = columns
        self.columns = list(columns)
        n = len(next(iter(columns.values())))
        self.shape = (n, len(columns))

    def head(self, n: int) -> Frame:
        return Frame({k: v[:n] for k, v in self.data.items()})

    def itertuples(self, index: bool, name: None):
        return ((i, *row) for i, row in enumerate(zip(*self.data.values(), strict=True)))


def test_dataframes_give_their_head_as_text_cells() -> None:
    df = Frame({"a": list(range(10)), "b": [f"r{i}" for i in range(10)]})
    out = summarize(df)
    assert out["shape"] == [10, 2] and out["text"] == "Frame 10 rows × 2 columns"
    assert out["columns"] == ["", "a", "b"]
    assert out["rows"][0] == ["0", "0", "'r0'"] and len(out["rows"]) == 5
    json.dumps(out)


def test_figures_give_a_png_thumbnail() -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3))
    fig.subplots().plot([1, 2, 3])
    out = summarize(fig)
    assert out["type"] == "matplotlib.Figure" and out["text"] == "Figure (thumbnail)"
    import base64

    assert base64.b64decode(out["image"]).startswith(b"\x89PNG")


def test_a_broken_repr_is_shown_not_raised() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("nope")

    assert preview(Broken()).startswith("<Broken")


def test_stored_results_and_notes() -> None:
    assert summarize_stored({"rows": 3}) == {"type": "dict", "length": 1, "text": "{'rows': 3}"}
    assert summarize_stored(None, "value of type X cannot be stored") == {
        "type": "unstored", "text": "value of type X cannot be stored",
    }
    assert summarize_stored(None) is None


def test_parameter_values_stay_json() -> None:
    assert [parameter_value(v) for v in (1, 2.5, True, None, "x")] == [1, 2.5, True, None, "x"]
    assert parameter_value(float("nan")) == "nan"
    assert parameter_value({"a": [1, 2]}) == "{'a': [1, 2]}"
