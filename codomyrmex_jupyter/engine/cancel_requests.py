"""Cancel requests from outside a run's process, kept in the store.

Only the process that runs a run can cancel it. Anyone else (the Runs panel,
through the Jupyter server) records a request: a ``cancel_request`` document
keyed by the run id. The owning process polls for requests on its active
runs (``api/cancel_watch.py``), cancels those it finds and removes the
request. A request on a run that is not running is refused, so nothing
waits forever for an owner that is gone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from .store import CANCEL_REQUEST, Store, decode_json

__all__ = ["CancelRefused", "clear_cancel_request", "pending_cancel_requests", "request_cancel"]


class CancelRefused(ValueError):
    """The run cannot be cancelled (``reason``: ``"unknown"`` or ``"not running"``)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def request_cancel(store: Store, run_id: str, *, by: str = "") -> dict[str, Any]:
    """Record a request to cancel running run ``run_id`` (or a unique prefix).

    Returns the request: ``run_id``, ``requested_at`` (epoch seconds), ``by``
    and the owner's ``host``, ``pid``, ``notebook`` and ``kernel``.

    Raises
    ------
    CancelRefused
        No such run, or it is not running.
    """
    run = store.get_run(run_id, with_steps=False)
    if run is None:
        raise CancelRefused(f"no run {run_id!r} in {store.path}", "unknown")
    if run["status"] != "running":
        raise CancelRefused(f"run {run['run_id']} is {run['status']}, not running", "not running")
    request = {
        "run_id": run["run_id"], "requested_at": time.time(), "by": by,
        **{k: run.get(k) for k in ("host", "pid", "notebook", "kernel")},
    }
    store.put_doc(CANCEL_REQUEST, run["run_id"], request)
    return request


def pending_cancel_requests(store: Store, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The cancel requests recorded for any of ``run_ids``, by run id (one indexed read)."""
    ids = list(run_ids)
    if not ids:
        return {}
    rows = store.query(
        f"SELECT key, value FROM documents WHERE kind=? AND key IN ({','.join('?' * len(ids))})",  # noqa: S608
        [CANCEL_REQUEST, *ids],
    )
    return {r["key"]: decode_json(r["value"]) for r in rows}


def clear_cancel_request(store: Store, run_id: str) -> bool:
    """Forget the request on ``run_id``; True if there was one."""
    return store.delete_doc(CANCEL_REQUEST, run_id)
