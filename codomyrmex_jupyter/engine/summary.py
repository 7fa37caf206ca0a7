"""A short, JSON-ready summary of a step's result: its type, size and a bounded repr.

Runs keep one per step that returned something, so two runs can be compared
(``int 5 -> 6``, ``DataFrame (100, 3) -> (98, 3)``) without keeping the values.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .cache.hashing import short_repr

__all__ = ["describe_change", "summarize"]


def summarize(value: Any) -> dict[str, Any]:
    """``{"type", "shape" or "len" when it has one, "repr"}`` of ``value``."""
    cls = type(value)
    module = cls.__module__
    name = cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"
    out: dict[str, Any] = {"type": name}
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        out["shape"] = list(shape)
    elif not isinstance(value, str | bytes | type):
        with contextlib.suppress(Exception):  # len() of arbitrary objects may raise anything
            out["len"] = len(value)
    out["repr"] = short_repr(value, 80)
    return out


def _size(summary: dict[str, Any]) -> str:
    if "shape" in summary:
        return "(" + ", ".join(str(n) for n in summary["shape"]) + ")"
    if "len" in summary:
        return f"len {summary['len']}"
    return ""


def describe_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    """One line saying how a result summary changed, or ``None`` when it did not."""
    if before == after:
        return None
    if before is None or after is None:
        return "no result -> " + _brief(after) if before is None else _brief(before) + " -> no result"
    if before.get("type") != after.get("type"):
        return f"{before.get('type')} -> {after.get('type')}"
    size_a, size_b = _size(before), _size(after)
    if size_a != size_b:
        return f"{after.get('type')} {size_a} -> {size_b}"
    return f"{before.get('repr')} -> {after.get('repr')}"


def _brief(summary: dict[str, Any] | None) -> str:
    if summary is None:
        return "no result"
    size = _size(summary)
    return f"{summary.get('type')} {size}".strip() if size else str(summary.get("repr"))
