"""Step keys: parameters bound as the runner binds them, and one-line miss reasons."""

from __future__ import annotations

from typing import Any

import pytest

from codomyrmex_jupyter.engine.actions import ActionSpec
from codomyrmex_jupyter.engine.cache.hashing import UnhashableValue
from codomyrmex_jupyter.engine.cache.keys import (
    KeyParts,
    bound_parameters,
    changed_parameters,
    hashed_parameters,
    miss_reason,
)


def spec(fn: Any) -> ActionSpec:
    return ActionSpec.describe("m", fn.__name__, fn)


def load(path: str, n: int = 10, *, verbose: bool = False) -> None:
    return None


def clean(load: Any, inputs: Any = None, threshold: float = 0.5) -> None:
    return None


def anything(**kwargs: Any) -> None:
    return None


def test_defaults_and_explicit_values_bind_the_same() -> None:
    implicit = bound_parameters(spec(load), {"path": "a.csv"}, set(), {})
    explicit = bound_parameters(spec(load), {"path": "a.csv", "n": 10}, set(), {"verbose": False})
    assert implicit == explicit == {"path": "a.csv", "n": 10, "verbose": False}
    assert KeyParts("c", hashed_parameters(implicit)).key() == KeyParts("c", hashed_parameters(explicit)).key()


def test_step_parameters_win_over_run_parameters_and_upstream_is_left_out() -> None:
    assert bound_parameters(spec(load), {"n": 3}, set(), {"n": 5, "path": "p", "other": 1}) == {
        "path": "p", "n": 3, "verbose": False}
    assert bound_parameters(spec(clean), {}, {"load"}, {"load": "shadowed", "threshold": 0.9}) == {
        "threshold": 0.9}
    assert bound_parameters(spec(anything), {"a": 1}, {"up"}, {"b": 2, "up": 3}) == {"a": 1, "b": 2}


def test_each_part_changes_the_key() -> None:
    base = KeyParts("code", {"n": ("d1", "1")}, {"up": "k1"}, None)
    variants = [
        KeyParts("code2", base.params, base.upstream, None),
        KeyParts("code", {"n": ("d2", "2")}, base.upstream, None),
        KeyParts("code", base.params, {"up": "k2"}, None),
        KeyParts("code", base.params, base.upstream, "2"),
    ]
    keys = {base.key(), *(v.key() for v in variants)}
    assert len(keys) == 5
    assert KeyParts.from_json(base.to_json()) == base


@pytest.mark.parametrize(("now", "reason"), [
    (KeyParts("other", {"n": ("d1", "5")}), "miss: code changed"),
    (KeyParts("c", {"n": ("d2", "6")}), "miss: parameter 'n' 5 -> 6"),
    (KeyParts("c", {"n": ("d1", "5"), "m": ("d3", "'x'")}), "miss: parameter 'm' added ('x')"),
    (KeyParts("c", {}), "miss: parameter 'n' removed (was 5)"),
    (KeyParts("c", {"n": ("d1", "5")}, {"load": "k2"}), "miss: upstream 'load' changed"),
    (KeyParts("c", {"n": ("d1", "5")}, {"load": "k1"}, "2"), "miss: version None -> '2'"),
    (KeyParts("c", {"n": ("d1", "5")}, {"load": "k1"}), "miss: no entry"),
])
def test_miss_reasons(now: KeyParts, reason: str) -> None:
    before = KeyParts("c", {"n": ("d1", "5")}, {"load": "k1"})
    assert miss_reason(now, before) == reason
    assert miss_reason(now, None) == "miss: no entry"


def test_changed_parameters_lists_every_change() -> None:
    before = KeyParts("c", {"a": ("1", "1"), "b": ("2", "2")})
    now = KeyParts("c", {"a": ("1", "1"), "b": ("3", "3"), "c": ("4", "4")})
    assert changed_parameters(now, before) == [("b", "2", "3"), ("c", None, "4")]


def test_an_unhashable_parameter_is_named() -> None:
    import threading

    with pytest.raises(UnhashableValue, match="parameter 'lock'"):
        hashed_parameters({"lock": threading.Lock()})


def test_run_parameters_are_hashed_once_per_run() -> None:
    memo: dict[int, Any] = {}
    big = list(range(1000))
    first = hashed_parameters({"data": big}, memo)
    assert memo and hashed_parameters({"data": big}, memo) == first
