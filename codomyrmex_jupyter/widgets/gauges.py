"""ResourceGauges: one bar per resource, allocated against capacity, and who holds it.

The gauges read ``ResourceManager.snapshot()`` (frozen statistics per
resource) and subscribe to its changes. Changes may come from any thread and
in bursts; they only mark the gauges dirty, and a :class:`~.coalesce.Coalescer`
redraws at most ``max_rate`` times per second. The browser draws them with
the lab extension's dashboard component (a document of kind ``"resources"``);
the output keeps that document and an HTML twin, so a saved notebook shows
the gauges as they last were.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..display.dashboard_doc import bar_style, holder_label, holders_text, resource_rows
from ..display.tables import RecordTable
from .coalesce import Coalescer
from .frontend import DashboardDocWidget

__all__ = ["ResourceGauges", "bar_style", "holder_label", "holders_text"]

log = logging.getLogger(__name__)


def resource_names(resources: Any, ids: Any) -> dict[str, str]:
    """The name of each resource the manager knows (``GPU`` for ``gpu``)."""
    get = getattr(resources, "get_resource", None)
    names = {}
    for rid in ids:
        resource = get(rid) if callable(get) else None
        names[rid] = getattr(resource, "name", "") or rid
    return names


class ResourceGauges(DashboardDocWidget):
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
        self.resources = resources
        self.snapshot: dict[str, Any] = {}
        self._lock = threading.Lock()
        super().__init__(**kwargs)
        self._coalescer = Coalescer(self.refresh, max_rate)
        self._unsubscribe: Callable[[], Any] | None = None
        self.refresh()
        subscribe = getattr(resources, "subscribe", None)
        if live and callable(subscribe):
            self._unsubscribe = subscribe(self._coalescer.mark)

    def refresh(self) -> None:
        """Read a new snapshot and redraw (thread-safe)."""
        snap = dict(self.resources.snapshot())
        with self._lock:
            self.snapshot = snap
            self.doc = self.current_document(live=False)
        self.update_displays_soon()

    def rows(self) -> list[dict[str, Any]]:
        """One row per resource, as the document holds them."""
        return resource_rows(self.snapshot, resource_names(self.resources, self.snapshot))

    def current_document(self, *, live: bool) -> dict[str, Any]:
        """The resources document (kind ``"resources"``)."""
        doc: dict[str, Any] = {
            "version": 1, "kind": "resources", "title": "Resources",
            "updated": datetime.now(timezone.utc).isoformat(), "resources": self.rows(),
        }
        return self.with_live(doc, live=live)

    def close(self) -> None:
        """Stop following changes and close the widget."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._coalescer.close()
        super().close()

    def table(self) -> RecordTable:
        """The current snapshot as a table."""
        rows = [
            {
                "resource": r["id"], "allocated": r["allocated"], "capacity": r["capacity"],
                "utilisation": f"{r['utilisation']:.0%}", "waiting": r["waiting"], "holders": r["holders"],
            }
            for r in self.rows()
        ]
        columns = ["resource", "allocated", "capacity", "utilisation", "waiting", "holders"]
        return RecordTable(rows, columns, "Resources")
