"""Content hashes: equal data gives equal digests, whatever the object identity or order."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from codomyrmex_jupyter.engine.cache.hashing import UnhashableValue, digest, short_repr

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(json_like)
def test_a_copy_has_the_same_digest(value: object) -> None:
    assert digest(value) == digest(copy.deepcopy(value))


@given(st.dictionaries(st.text(max_size=5), st.integers(), min_size=2, max_size=6))
def test_dict_order_does_not_count(value: dict[str, int]) -> None:
    assert digest(value) == digest(dict(reversed(list(value.items()))))


def test_sets_hash_by_content_not_by_order() -> None:
    assert digest({"b", "a", "c"}) == digest({"c", "b", "a"})
    assert digest(frozenset({1, 2})) == digest({1, 2})


@pytest.mark.parametrize(("a", "b"), [
    (1, 1.0), (1, True), (0, None), ("1", 1), ([1, 2], (1, 2)), ([1, [2]], [[1], 2]),
    ({"a": 1}, [("a", 1)]), (b"x", "x"), (0.1, 0.1000000000000001),
])
def test_different_values_differ(a: object, b: object) -> None:
    assert digest(a) != digest(b)


def test_numpy_arrays_hash_by_data_dtype_and_shape() -> None:
    a = np.arange(12, dtype="int64")
    assert digest(a) == digest(a.copy())
    assert digest(a) == digest(np.arange(12, dtype="int64")[::1])
    assert digest(a.reshape(3, 4)) != digest(a.reshape(4, 3))
    assert digest(a) != digest(a.astype("int32"))
    b = a.copy()
    b[5] = -1
    assert digest(a) != digest(b)
    # a non-contiguous view hashes like its contiguous copy
    assert digest(a.reshape(3, 4)[:, ::2]) == digest(np.ascontiguousarray(a.reshape(3, 4)[:, ::2]))
    assert digest(np.float64(1.5)) == digest(np.float64(1.5)) != digest(np.float32(1.5))
    assert digest(np.array([{"a": 1}, None], dtype=object)) == digest(np.array([{"a": 1}, None], dtype=object))


def test_pandas_frames_hash_by_data() -> None:
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert digest(df) == digest(df.copy())
    changed = df.copy()
    changed.loc[1, "b"] = "Y"
    assert digest(df) != digest(changed)
    assert digest(df) != digest(df.rename(columns={"b": "c"}))
    assert digest(df) != digest(df.astype({"a": "float64"}))
    assert digest(df["a"]) == digest(df["a"].copy()) != digest(df["a"] + 1)
    assert digest(df.index) == digest(pd.RangeIndex(3))


class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Plain:
    def __init__(self, v: int) -> None:
        self.v = v


def test_other_kinds_hash_by_content() -> None:
    assert digest(Point(1, 2)) == digest(Point(1, 2)) != digest(Point(2, 1))
    assert digest(Colour.RED) == digest(Colour.RED)
    assert digest(Plain(3)) == digest(Plain(3)) != digest(Plain(4))
    assert digest(datetime.date(2024, 1, 2)) == digest(datetime.date(2024, 1, 2))
    assert digest(Path("/a/b")) != digest("/a/b")
    assert digest(len) == digest(len)
    assert digest(range(3)) != digest([0, 1, 2])


def test_values_without_stable_content_raise() -> None:
    with pytest.raises(UnhashableValue, match="lock"):
        digest(threading.Lock())
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(UnhashableValue, match="contains itself"):
        digest(loop)


def test_short_repr_is_bounded_and_never_raises() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert len(short_repr("x" * 500)) <= 60
    assert short_repr(Broken()).startswith("<Broken")
