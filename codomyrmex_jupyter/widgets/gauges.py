"""ResourceGauges: one bar per resource, allocated against capacity, and who holds it.

The gauges read ``ResourceManager.snapshot()`` (frozen statistics per
resource) and subscribe to its changes. Changes may come from any thread and
in bursts; they only mark the gauges dirty, and a :class:`~.coalesce.Coalescer`
redraws at most ``max_rate`` times per second.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

import ipywidgets as widgets

from ..display.tables import RecordTable
from .coalesce import Coalescer, TwinDisplay
from .dag_view import widget_bundle

__all__ = ["ResourceGauges", "bar_style", "holder_label", "holders_text"]

log = logging.getLogger(__name__)


def bar_style(utilisation: float) -> str:
    """``success`` below 70 %, ``warning`` below 90 %, ``danger`` from there."""
    if utilisation < 0.7:
        return "success"
    if utilisation < 0.9:
        return "warning"
    return "danger"


def holder_label(holder: str) -> str:
    """A readable holder: a workflow step ``<run id>:<step>`` becomes ``step (run 1a2b3c4d)``."""
    run_id, sep, step = holder.partition(":")
    if sep and len(run_id) == 32 and all(c in "0123456789abcdef" for c in run_id):
        return f"{step} (run {run_id[:8]})"
    return holder


def holders_text(holders: Any, limit: int = 5) -> str:
    """``"load (run 1a2b3c4d) 2, task:7 1 (+3 more)"`` from ``(holder, amount, mode)`` tuples."""
    items = [f"{holder_label(str(h[0]))} {h[1]:g}"
             + (f" {h[2]}" if len(h) > 2 and h[2] not in ("", "shared", None) else "")
             for h in holders or ()]
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _stat(stats: Any, name: str, default: Any = 0.0) -> Any:
    return getattr(stats, name, default) if not isinstance(stats, Mapping) else stats.get(name, default)


def _utilisation(stats: Any) -> float:
    cap = float(_stat(stats, "capacity") or 0.0)
    util = _stat(stats, "utilisation", None)
    if util is None:
        return float(_stat(stats, "allocated")) / cap if cap else 0.0
    return float(util)


class _Gauge:
    """Widgets of one resource row."""

    def __init__(self, resource_id: str) -> None:
        self.label = widgets.Label(resource_id, layout=widgets.Layout(width="160px"))
        self.bar = widgets.FloatProgress(min=0.0, max=1.0, value=0.0)
        self.text = widgets.HTML()
        self.box = widgets.HBox([self.label, self.bar, self.text])

    def show(self, stats: Any) -> None:
        capacity = float(_stat(stats, "capacity") or 0.0)
        allocated = float(_stat(stats, "allocated") or 0.0)
        util = _utilisation(stats)
        self.bar.max = capacity if capacity > 0 else 1.0
        self.bar.value = min(allocated, self.bar.max)
        self.bar.bar_style = bar_style(util)
        unit = _stat(stats, "unit", "")
        waiting = int(_stat(stats, "waiting", 0) or 0)
        parts = [f"{allocated:g}/{capacity:g} {escape(str(unit or ''))} ({util:.0%})"]
        if waiting:
            parts.append(f"{waiting} waiting")
        holders = holders_text(_stat(stats, "holders", ()))
        if holders:
            parts.append(f"held by {escape(holders)}")
        self.text.value = " · ".join(parts)


class ResourceGauges(TwinDisplay, widgets.VBox):  # type: ignore[misc]
    """Live gauges of a resource manager.

    Parameters
    ----------
    resources:
        A ``ResourceManager`` (anything with ``snapshot()`` and, for live
        updates, ``subscribe(callback) -> unsubscribe``).
    max_rate:
        Upper bound on redraws per second.
    live:
        Subscribe to changes (else call :meth:`refresh` yourself).
    """

    def __init__(self, resources: Any, *, max_rate: float = 4.0, live: bool = True, **kwargs: Any) -> None:
        self.title = widgets.HTML("<b>Resources</b>")
        self.rows = widgets.VBox()
        super().__init__(children=[self.title, self.rows], **kwargs)
        self.resources = resources
        self.gauges: dict[str, _Gauge] = {}
        self.snapshot: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._coalescer = Coalescer(self.refresh, max_rate)
        self._unsubscribe: Callable[[], Any] | None = None
        self.refresh()
        subscribe = getattr(resources, "subscribe", None)
        if live and callable(subscribe):
            self._unsubscribe = subscribe(self._coalescer.mark)

    def refresh(self) -> None:
        """Read a new snapshot and redraw (thread-safe)."""
        snap = dict(self.resources.snapshot())
        with self._lock, self.hold_sync():
            self.snapshot = snap
            if list(snap) != list(self.gauges):
                self.gauges = {
                    rid: self.gauges.get(rid) or _Gauge(self._label(rid)) for rid in snap
                }
                self.rows.children = [g.box for g in self.gauges.values()]
            for rid, stats in snap.items():
                self.gauges[rid].show(stats)
            if not snap:
                self.title.value = "<b>Resources</b> <i>none defined</i>"
            else:
                self.title.value = "<b>Resources</b>"

    def _label(self, resource_id: str) -> str:
        # The resource's name when the manager knows it ("GPU (gpu)"), else its id.
        get = getattr(self.resources, "get_resource", None)
        resource = get(resource_id) if callable(get) else None
        name = getattr(resource, "name", "") or ""
        return f"{name} ({resource_id})" if name and name != resource_id else resource_id

    def close(self) -> None:
        """Stop following changes and close the widgets."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._coalescer.close()
        for g in self.gauges.values():
            g.box.close()
        super().close()

    def table(self) -> RecordTable:
        """The current snapshot as a table."""
        rows = [
            {
                "resource": rid,
                "allocated": float(_stat(s, "allocated") or 0.0),
                "capacity": float(_stat(s, "capacity") or 0.0),
                "utilisation": f"{_utilisation(s):.0%}",
                "waiting": _stat(s, "waiting", 0),
                "holders": holders_text(_stat(s, "holders", ())),
            }
            for rid, s in self.snapshot.items()
        ]
        columns = ["resource", "allocated", "capacity", "utilisation", "waiting", "holders"]
        return RecordTable(rows, columns, "Resources")

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        t = self.table()
        return widget_bundle(self, {"text/plain": t.to_text(), "text/html": t.to_html()}, **kwargs)
