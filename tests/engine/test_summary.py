"""Result summaries and how they changed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from codomyrmex_jupyter.engine.summary import describe_change, summarize


def test_summaries_name_type_size_and_a_short_repr() -> None:
    assert summarize(5) == {"type": "int", "repr": "5"}
    assert summarize([1, 2]) == {"type": "list", "len": 2, "repr": "[1, 2]"}
    assert summarize("text") == {"type": "str", "repr": "'text'"}
    frame = summarize(pd.DataFrame({"a": range(100)}))
    assert frame["type"] == "pandas.DataFrame" and frame["shape"] == [100, 1]
    assert summarize(np.zeros((2, 3)))["shape"] == [2, 3]
    assert len(summarize("x" * 1000)["repr"]) <= 80


def test_describe_change() -> None:
    assert describe_change(summarize(5), summarize(5)) is None
    assert describe_change(summarize(5), summarize(6)) == "5 -> 6"
    assert describe_change(summarize([1]), summarize([1, 2])) == "list len 1 -> len 2"
    assert describe_change(summarize(1), summarize("1")) == "int -> str"
    assert describe_change(None, summarize([1])) == "no result -> list len 1"
    assert describe_change(summarize(3), None) == "3 -> no result"
