"""Closing a view for good: every widget it is made of, in the kernel and in the browser.

A widget lives until it is closed: its comm, its entry in ipywidgets'
registry and its model in the browser (and in the notebook's saved widget
state) stay. ``Widget.close()`` closes one widget only, not the widgets it
holds: every ``DOMWidget`` has a ``Layout`` widget of its own, boxes hold
children, controls hold styles. A parameter sweep of 1,000 ``%orchestrate
run`` calls would leave one of each per run. :func:`close_tree` closes a
widget and everything it holds; closing a comm makes the front end drop the
model and its views.
"""

from __future__ import annotations

from typing import Any

from ipywidgets import Widget

__all__ = ["close_tree", "held_widgets"]


def held_widgets(widget: Any, widget_type: type | None = None) -> list[Any]:
    """The widgets ``widget`` holds in its synced traits (children, layout, style, ...)."""
    if widget_type is None:
        widget_type = Widget
    held: list[Any] = []
    for name in widget.keys:
        value = getattr(widget, name, None)
        if isinstance(value, widget_type):
            held.append(value)
        elif isinstance(value, list | tuple):
            held.extend(v for v in value if isinstance(v, widget_type))
    return held


def close_tree(*roots: Any) -> int:
    """Close each widget in ``roots`` and every widget it holds; return how many were closed."""
    seen: set[int] = set()
    stack = list(roots)
    closed = 0
    while stack:
        widget = stack.pop()
        if id(widget) in seen or not isinstance(widget, Widget):
            continue
        seen.add(id(widget))
        stack.extend(held_widgets(widget, Widget))  # read before closing: close drops the comm
        if widget.comm is not None:
            widget.close()
            closed += 1
    return closed
