"""Runs and workflows as the REST API returns them (plain JSON, times in ISO 8601 and epoch)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

__all__ = ["display_notebook", "iso", "run_summary"]

ERRORS_SHOWN = 5  # a list row carries the first few error lines; the run document has all


def iso(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 in UTC (``None`` stays ``None``)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def display_notebook(recorded: str | None, root: Path) -> str | None:
    """The notebook path relative to the server root when it lies inside it, else as recorded."""
    if not recorded:
        return None
    path = Path(recorded)
    if not path.is_absolute():
        return recorded
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return recorded


def run_summary(row: Mapping[str, Any], root: Path) -> dict[str, Any]:
    """One run of the list (or the ``run`` part of one run's answer)."""
    start, end = row.get("start"), row.get("end")
    errors = [str(e) for e in row.get("errors") or []]
    return {
        "run_id": row["run_id"],
        "workflow": row["workflow"],
        "version": row.get("version"),
        "status": row["status"],
        "start": start,
        "end": end,
        "started": iso(start),
        "ended": iso(end),
        "duration": None if start is None or end is None else end - start,
        "error": errors[0] if errors else None,
        "errors": errors[:ERRORS_SHOWN],
        "counts": row.get("counts"),
        "host": row.get("host"),
        "pid": row.get("pid"),
        "notebook": display_notebook(row.get("notebook"), root),
        "kernel": row.get("kernel"),
        "cancel_requested": bool(row.get("cancel_requested")),
    }
