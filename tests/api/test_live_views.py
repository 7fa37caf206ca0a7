"""LiveDict and LiveSet: views whose content belongs to their owner."""

from __future__ import annotations

import pytest

from codomyrmex_jupyter.api.live_views import MISSING, LiveDict, LiveSet


def _view(store: dict[str, int], writable: bool = True) -> LiveDict[str, int]:
    return LiveDict(
        "Owner.things", lambda: sorted(store), lambda k: store.get(k, MISSING),
        set=store.__setitem__ if writable else None,
        delete=(lambda k: store.pop(k, None) is not None) if writable else None,
        hint="use Owner.add",
    )


def test_reads_follow_the_owner() -> None:
    store = {"b": 2}
    view = _view(store)
    assert view == {"b": 2} and len(view) == 1
    store["a"] = 1
    assert list(view) == ["a", "b"]
    assert view["a"] == 1 and "a" in view and "z" not in view and [] not in view
    assert view.get("z") is None
    assert view.copy() == {"a": 1, "b": 2} and repr(view) == "{'a': 1, 'b': 2}"
    with pytest.raises(KeyError):
        view["z"]


def test_writes_go_through_the_owner() -> None:
    store: dict[str, int] = {}
    view = _view(store)
    view["x"] = 5
    view.update(y=6)
    assert store == {"x": 5, "y": 6}
    del view["x"]
    assert view.pop("y") == 6
    assert store == {}
    with pytest.raises(KeyError):
        del view["x"]


def test_read_only_views_say_what_to_use() -> None:
    view = _view({"a": 1}, writable=False)
    with pytest.raises(TypeError, match=r"^Owner.things is read-only; use Owner.add$"):
        view["b"] = 2
    with pytest.raises(TypeError, match="read-only"):
        del view["a"]


def test_live_set() -> None:
    members = {"a"}
    view = LiveSet(lambda x: x in members, lambda: sorted(members))
    assert view == {"a"} and view == set(members) and set() != view
    members.add("b")
    assert len(view) == 2 and "b" in view and [] not in view
    assert list(view) == ["a", "b"] and view - {"a"} == {"b"}
    assert repr(view) == repr({"a", "b"})
