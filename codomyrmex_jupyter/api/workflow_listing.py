"""What ``list_workflows`` says about each workflow, read from the store alone.

Kept apart from :class:`~.workflow_manager.WorkflowManager` so a reader of the
store (the command line's ``list``) gets the same description without
importing the engine's runner and event loops.
"""

from __future__ import annotations

import logging
import statistics
from typing import TYPE_CHECKING, Any

from ..errors import CodomyrmexError
from .workflow_models import WorkflowStep, step_from_dict

if TYPE_CHECKING:
    from ..engine.store import Store

__all__ = ["describe_workflow", "stored_workflows"]

log = logging.getLogger(__name__)


def describe_workflow(
    store: Store, name: str, steps: list[WorkflowStep], row: dict[str, Any] | None
) -> dict[str, Any]:
    """The metadata ``list_workflows`` gives for one workflow (``row``: its stored current version)."""
    runs = store.list_runs(name, limit=20)
    durations = [r["end"] - r["start"] for r in runs if r["status"] == "completed" and r["end"]]
    return {
        "steps": len(steps),
        "step_names": [s.name for s in steps],
        "modules": sorted({s.module for s in steps}),
        "estimated_duration": round(statistics.fmean(durations), 6) if durations else 0.0,
        "has_dependencies": any(s.dependencies for s in steps),
        "version": row["version"] if row else None,
        "origin": row["origin"] if row else "api",
        "created": row["created_at"] if row else None,
        "updated": row["updated_at"] if row else None,
        "saved": row is not None,
        "last_status": runs[0]["status"] if runs else None,
        "runs": len(runs),
    }


def stored_workflows(store: Store) -> dict[str, dict[str, Any]]:
    """:func:`describe_workflow` of every workflow the store holds, by name."""
    out: dict[str, dict[str, Any]] = {}
    for row in store.list_workflows():
        try:
            steps = [step_from_dict(d, i) for i, d in enumerate(row["definition"])]
        except CodomyrmexError as exc:  # written by an older version that checked less
            log.warning("stored workflow %r is not valid: %s", row["name"], exc)
            out[row["name"]] = {**describe_workflow(store, row["name"], [], row), "error": str(exc)}
            continue
        out[row["name"]] = describe_workflow(store, row["name"], steps, row)
    return out
