"""Pages of recorded runs, filtered: what the Runs panel and the REST API list.

One query per page, newest first, on the ``runs_by_start`` index (the order
needs no sort, so the first page of 10,000 runs costs what a page of 50
does), plus two counts: how many runs match (for paging) and how many are
running anywhere (so a client knows whether to keep polling quickly).

:func:`resolve_run_id` turns an id or a unique prefix into the run's id,
with the errors a person can act on.

Filters are checked here, before any SQL: a bad value raises ``ValueError``
naming it, which the server turns into a 400.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import AmbiguousRunError
from .store import CANCEL_REQUEST, Store, decode_json
from .validation import check_run_prefix

__all__ = ["MAX_LIMIT", "RUN_STATUSES", "RunFilter", "RunPage", "page_runs", "query_plan", "resolve_run_id"]

RUN_STATUSES = ("pending", "running", "completed", "failed", "cancelled")
MAX_LIMIT = 500

_COLUMNS = (
    "run_id, workflow, version, status, start, end, errors, host, pid, notebook, kernel, "
    "json_extract(metrics, '$.counts') AS counts, "
    "EXISTS(SELECT 1 FROM documents d WHERE d.kind=? AND d.key=runs.run_id) AS cancel_requested"
)


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list; every field is optional (``None``: any).

    Attributes
    ----------
    workflow:
        Exact workflow name.
    statuses:
        Run statuses (any of :data:`RUN_STATUSES`).
    notebooks:
        The notebook that started the run, as recorded (any of these paths).
    kernel:
        The kernel id that ran it.
    since, until:
        Start time bounds, epoch seconds (``since <= start < until``).
    """

    workflow: str | None = None
    statuses: tuple[str, ...] = ()
    notebooks: tuple[str, ...] = ()
    kernel: str | None = None
    since: float | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        for status in self.statuses:
            if status not in RUN_STATUSES:
                raise ValueError(f"unknown status {status!r}: use one of {', '.join(RUN_STATUSES)}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite time, not {value!r}")

    def where(self) -> tuple[str, list[Any]]:
        """The SQL ``WHERE`` clause (or ``""``) and its arguments."""
        parts: list[str] = []
        args: list[Any] = []
        for column, value in (("workflow", self.workflow), ("kernel", self.kernel)):
            if value is not None:
                parts.append(f"{column}=?")
                args.append(value)
        for column, values in (("status", self.statuses), ("notebook", self.notebooks)):
            if values:
                parts.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        if self.since is not None:
            parts.append("start>=?")
            args.append(self.since)
        if self.until is not None:
            parts.append("start<?")
            args.append(self.until)
        return (" WHERE " + " AND ".join(parts) if parts else ""), args


@dataclass
class RunPage:
    """One page of runs (newest first) and the counts around it."""

    runs: list[dict[str, Any]]
    total: int
    active: int
    limit: int
    offset: int
    filters: RunFilter = field(default_factory=RunFilter)


def _check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a whole number >= 0, not {offset!r}")


def _row(row: dict[str, Any]) -> dict[str, Any]:
    row["errors"] = decode_json(row["errors"]) or []
    row["counts"] = decode_json(row["counts"])
    row["cancel_requested"] = bool(row["cancel_requested"])
    return row


def page_runs(store: Store, filters: RunFilter | None = None, *, limit: int = 50, offset: int = 0) -> RunPage:
    """The runs matching ``filters``, newest first, ``limit`` of them from ``offset``."""
    _check_page(limit, offset)
    filters = filters or RunFilter()
    where, args = filters.where()
    rows = store.query(
        f"SELECT {_COLUMNS} FROM runs{where} ORDER BY start DESC LIMIT ? OFFSET ?",  # noqa: S608 - constant parts
        [CANCEL_REQUEST, *args, limit, offset],  # the column list's one parameter comes first
    )
    total = store.query(f"SELECT COUNT(*) AS n FROM runs{where}", args)[0]["n"]  # noqa: S608
    active = store.query("SELECT COUNT(*) AS n FROM runs WHERE status='running'")[0]["n"]
    return RunPage([_row(r) for r in rows], int(total), int(active), limit, offset, filters)


def query_plan(store: Store, filters: RunFilter | None = None) -> Sequence[str]:
    """SQLite's plan for a page query (tests check that it walks an index and sorts nothing)."""
    where, args = (filters or RunFilter()).where()
    rows = store.query(
        f"EXPLAIN QUERY PLAN SELECT {_COLUMNS} FROM runs{where} ORDER BY start DESC LIMIT 50",  # noqa: S608
        [CANCEL_REQUEST, *args],
    )
    return [str(r["detail"]) for r in rows]


_MATCHES_SHOWN = 10


def resolve_run_id(store: Store, run_id: str) -> str | None:
    """The id of the one stored run ``run_id`` names (its id or a prefix), or ``None``.

    Reads only.

    Raises
    ------
    ArgumentError
        ``run_id`` is not a string or shorter than 4 characters.
    AmbiguousRunError
        The prefix matches several runs (``err.matches`` lists the first ten,
        ``err.total`` counts them all).
    """
    check_run_prefix(run_id)
    ids = store.find_run_ids(run_id, limit=_MATCHES_SHOWN)
    if ids and ids[0] == run_id:  # in id order, an exact match comes first; it wins over longer ids
        return run_id
    if len(ids) > 1:
        total = len(ids)
        if total == _MATCHES_SHOWN:  # maybe more: count them, on the primary key's range
            total = int(store.query(
                "SELECT COUNT(*) AS n FROM runs WHERE run_id >= ? AND run_id < ?",
                (run_id, run_id + "\U0010ffff"),
            )[0]["n"])
        raise AmbiguousRunError(run_id, ids, total=total)
    return ids[0] if ids else None
