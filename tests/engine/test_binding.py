"""Argument binding precedence and its error messages."""

from __future__ import annotations

import pytest

from codomyrmex_jupyter.engine.actions import ActionSpec
from codomyrmex_jupyter.engine.binding import bind_arguments


def spec(fn) -> ActionSpec:
    return ActionSpec.describe("m", "f", fn)


@pytest.mark.parametrize(
    ("fn", "params", "upstream", "run", "expected"),
    [
        (lambda: None, {}, {"a": 1}, {"x": 1}, {}),
        (lambda a: a, {}, {"a": 1}, {"a": 2}, {"a": 1}),
        (lambda a: a, {"a": 0}, {"a": 1}, {"a": 2}, {"a": 0}),
        (lambda a: a, {}, {}, {"a": 2}, {"a": 2}),
        (lambda inputs: 0, {}, {"x": 1, "y": 2}, {}, {"inputs": {"x": 1, "y": 2}}),
        (lambda n=3: n, {}, {}, {"other": 1}, {}),
        (lambda **kw: kw, {"p": 1}, {"u": 2}, {"g": 3, "p": 9}, {"p": 1, "u": 2, "g": 3}),
    ],
)
def test_precedence(fn, params, upstream, run, expected) -> None:
    assert bind_arguments(spec(fn), "s", params, upstream, run) == expected


def test_unknown_parameter() -> None:
    with pytest.raises(TypeError, match=r"step 's': m.f has no parameter 'b' \(it takes: a\)"):
        bind_arguments(spec(lambda a: a), "s", {"a": 1, "b": 2}, {}, {})


def test_missing_parameter() -> None:
    with pytest.raises(TypeError, match=r"no value for parameter 'a' of m.f; .* \(a=...\)"):
        bind_arguments(spec(lambda a: a), "s", {}, {}, {})
