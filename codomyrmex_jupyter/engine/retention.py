"""Store upkeep: prune old runs, collect orphans, give the space back.

Pruning removes runs and everything recorded for them (their ``steps`` rows
and run records) in one transaction, then the step-cache entries that only
those runs used. Which runs go:

* ``keep=N`` counts per workflow: the newest ``N`` runs of each workflow stay
  (newest by start time);
* ``older_than=SECONDS``: runs that started longer ago than that;
* both together: a run goes only when it is outside the newest ``N`` of its
  workflow *and* older than the cut-off.

A run still ``running`` or ``pending`` is never removed (another kernel may be
recording it). Deleting rows leaves free pages inside the file, which SQLite
reuses for later runs; :func:`reclaim` (``VACUUM``) hands them back to the
file system, which rewrites the whole file and so is left to explicit upkeep
(``codomyrmex-jupyter prune``/``gc``) rather than done after every run.

:func:`collect_garbage` removes what nothing refers to any more: ``steps``
rows whose run is gone and definition versions that are neither a
workflow's current version nor the version of a recorded run.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from .store import Store

if TYPE_CHECKING:
    from .cache.step_cache import StepCache

__all__ = [
    "GcReport",
    "PruneReport",
    "SpaceReport",
    "cache_keys_only_of",
    "collect_garbage",
    "days",
    "file_bytes",
    "prune_runs",
    "reclaim",
    "runs_to_prune",
]

_ACTIVE = ("running", "pending")
_CHUNK = 500  # ids per DELETE, well under SQLite's limit on bound variables
_DAY = 86400.0
# (run, cache key) for every step of every recorded run that consulted the step cache
_CACHE_USES = (
    "SELECT r.run_id AS run_id, json_extract(c.value, '$.key') AS key "
    "FROM run_records AS r, json_each(r.record, '$.cache') AS c WHERE json_valid(r.record)"
)


@dataclass
class SpaceReport:
    """The database file's size around an upkeep operation.

    Attributes
    ----------
    bytes_before, bytes_after:
        Size of the database file (with its write-ahead log) before and after;
        ``bytes_after`` is ``None`` for a dry run or when space was not reclaimed.
    dry_run:
        Nothing was removed.
    """

    bytes_before: int = 0
    bytes_after: int | None = None
    dry_run: bool = False

    @property
    def reclaimed(self) -> int | None:
        """Bytes the file shrank by, when space was reclaimed."""
        return None if self.bytes_after is None else self.bytes_before - self.bytes_after

    def to_dict(self) -> dict[str, Any]:
        """Every field and ``reclaimed``, JSON-friendly."""
        return {**dataclasses.asdict(self), "reclaimed": self.reclaimed}


@dataclass
class PruneReport(SpaceReport):
    """What a prune removed (or, for a dry run, would remove).

    Attributes
    ----------
    runs:
        Runs removed.
    step_rows:
        ``steps`` rows removed with them.
    by_workflow:
        Runs removed per workflow.
    payload_bytes:
        Bytes of recorded data in the removed rows (what a ``VACUUM`` can
        give back at most).
    cache_entries, cache_bytes:
        Step-cache entries that only removed runs used, and their size.
    """

    runs: int = 0
    step_rows: int = 0
    by_workflow: dict[str, int] = field(default_factory=dict)
    payload_bytes: int = 0
    cache_entries: int = 0
    cache_bytes: int = 0


@dataclass
class GcReport(SpaceReport):
    """What :func:`collect_garbage` removed (or would remove)."""

    orphan_step_rows: int = 0
    unused_versions: int = 0


def file_bytes(store: Store) -> int:
    """Size of the database file plus its write-ahead log (0 in memory)."""
    if store.path == ":memory:":
        return 0
    return sum(os.path.getsize(p) for p in (store.path, store.path + "-wal") if os.path.exists(p))


def _check(keep: int | None, older_than: float | None) -> None:
    if keep is None and older_than is None:
        raise ValueError("say which runs to prune: keep=N (per workflow) and/or older_than=SECONDS")
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 0):
        raise ValueError(f"keep must be an integer >= 0, got {keep!r}")
    if older_than is not None and (isinstance(older_than, bool) or older_than < 0):
        raise ValueError(f"older_than must be seconds >= 0, got {older_than!r}")


def runs_to_prune(
    store: Store,
    *,
    keep: int | None = None,
    older_than: float | None = None,
    workflow: str | None = None,
    now: float | None = None,
) -> list[tuple[str, str]]:
    """``(run_id, workflow)`` of every run a prune with these settings removes.

    Raises
    ------
    ValueError
        Neither ``keep`` nor ``older_than`` given, or a negative value.
    """
    _check(keep, older_than)
    cutoff = None if older_than is None else (time.time() if now is None else now) - older_than
    sql = (
        "SELECT run_id, workflow FROM (SELECT run_id, workflow, status, start, "  # noqa: S608 - no user text
        "ROW_NUMBER() OVER (PARTITION BY workflow ORDER BY start DESC, run_id DESC) AS rank "
        "FROM runs" + (" WHERE workflow=?" if workflow is not None else "") + ") "
        "WHERE status NOT IN (?, ?) AND (? IS NULL OR rank > ?) "
        "AND (? IS NULL OR start IS NULL OR start < ?) ORDER BY workflow, start"
    )
    args: list[Any] = [workflow] if workflow is not None else []
    args += [*_ACTIVE, keep, keep, cutoff, cutoff]
    return [(r["run_id"], r["workflow"]) for r in store._read(sql, args)]


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _measure(store: Store, ids: Sequence[str]) -> tuple[int, int]:
    """Step rows and payload bytes recorded for ``ids``."""
    rows = payload = 0
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        run = store._read(
            "SELECT COALESCE(SUM(COALESCE(length(steps_packed),0) + COALESCE(length(parameters),0) "  # noqa: S608
            "+ COALESCE(length(errors),0) + COALESCE(length(metrics),0)), 0) AS bytes "
            f"FROM runs WHERE run_id IN ({marks})",
            chunk,
        )[0]
        steps = store._read(
            "SELECT COUNT(*) AS n, COALESCE(SUM(COALESCE(length(error),0) + "  # noqa: S608 - only ? marks
            "COALESCE(length(traceback),0) + COALESCE(length(result),0) + "
            "COALESCE(length(reason),0)), 0) AS bytes "
            f"FROM steps WHERE run_id IN ({marks})",
            chunk,
        )[0]
        rows += int(steps["n"])
        payload += int(run["bytes"]) + int(steps["bytes"])
    return rows, payload


def cache_keys_only_of(store: Store, run_ids: Sequence[str]) -> dict[str, int]:
    """Step-cache entries (key -> size) that these runs used and no other recorded run did.

    A run's record lists the cache key of every step that consulted the cache
    (``run_records``, see :mod:`.provenance`).
    """
    mine: set[str] = set()
    for chunk in _chunks(run_ids):  # the pruned runs' own records first: usually none used the cache
        marks = ",".join("?" * len(chunk))
        rows = store._read(f"{_CACHE_USES} AND r.run_id IN ({marks})", chunk)
        mine.update(row["key"] for row in rows if row["key"])
    if not mine:
        return {}
    victims = set(run_ids)
    shared = {row["key"] for row in store._read(_CACHE_USES) if row["run_id"] not in victims}
    only = sorted(mine - shared)
    sizes: dict[str, int] = {}
    for chunk in _chunks(only):
        marks = ",".join("?" * len(chunk))
        rows = store._read(f"SELECT key, size FROM cache_entries WHERE key IN ({marks})", chunk)  # noqa: S608
        sizes.update((row["key"], int(row["size"])) for row in rows)
    return {k: sizes[k] for k in only if k in sizes}


def prune_runs(
    store: Store,
    *,
    keep: int | None = None,
    older_than: float | None = None,
    workflow: str | None = None,
    dry_run: bool = False,
    vacuum: bool = True,
    now: float | None = None,
    cache: Callable[[], StepCache] | None = None,
) -> PruneReport:
    """Remove old runs (see the module docstring for which) and their step rows.

    Parameters
    ----------
    store:
        The store to prune.
    keep:
        Newest runs to keep per workflow.
    older_than:
        Only remove runs that started more than this many seconds ago.
    workflow:
        Only prune this workflow's runs.
    dry_run:
        Only report what would be removed.
    vacuum:
        Give the freed space back to the file system afterwards (:func:`reclaim`).
    now:
        The time ``older_than`` counts back from (default: now).
    cache:
        Gives the store's step cache: the entries only the removed runs used
        are removed too (:func:`cache_keys_only_of`). Without it they stay
        until the cache's own bound evicts them.
    """
    victims = runs_to_prune(store, keep=keep, older_than=older_than, workflow=workflow, now=now)
    ids = [run_id for run_id, _ in victims]
    report = PruneReport(dry_run=dry_run, bytes_before=file_bytes(store))
    for _, name in victims:
        report.by_workflow[name] = report.by_workflow.get(name, 0) + 1
    report.runs = len(ids)
    report.step_rows, report.payload_bytes = _measure(store, ids)
    entries = cache_keys_only_of(store, ids) if cache is not None else {}
    report.cache_entries, report.cache_bytes = len(entries), sum(entries.values())
    if dry_run or not ids:
        return report
    with store._write() as conn:
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM steps WHERE run_id IN ({marks})", chunk)  # noqa: S608
            conn.execute(f"DELETE FROM runs WHERE run_id IN ({marks})", chunk)  # noqa: S608
    if entries and cache is not None:
        report.cache_entries, report.cache_bytes = cache().remove(list(entries))
    if vacuum:
        report.bytes_after = reclaim(store)
    return report


def collect_garbage(store: Store, *, dry_run: bool = False, vacuum: bool = True) -> GcReport:
    """Remove orphan ``steps`` rows and definition versions nothing uses; reclaim the space."""
    orphan_steps = "FROM steps WHERE run_id NOT IN (SELECT run_id FROM runs)"
    unused = (
        "FROM workflow_versions AS v WHERE NOT EXISTS (SELECT 1 FROM workflows AS w "
        "WHERE w.name = v.name AND w.version = v.version) AND NOT EXISTS (SELECT 1 FROM runs AS r "
        "WHERE r.workflow = v.name AND r.version = v.version)"
    )
    report = GcReport(dry_run=dry_run, bytes_before=file_bytes(store))
    report.orphan_step_rows = int(store._read("SELECT COUNT(*) AS n " + orphan_steps)[0]["n"])
    report.unused_versions = int(store._read("SELECT COUNT(*) AS n " + unused)[0]["n"])
    if dry_run:
        return report
    with store._write() as conn:
        conn.execute("DELETE " + orphan_steps)
        conn.execute(
            "DELETE FROM workflow_versions WHERE rowid IN (SELECT v.rowid " + unused + ")"  # noqa: S608
        )
    if vacuum:
        report.bytes_after = reclaim(store)
    return report


def reclaim(store: Store) -> int:
    """``VACUUM`` the file and truncate its write-ahead log; return the new size in bytes.

    Raises
    ------
    StoreError
        Another process holds the database (``VACUUM`` needs it for itself a moment).
    """
    import sqlite3

    if store.path == ":memory:":
        return 0
    with store._lock:
        try:
            store._conn.execute("VACUUM")
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot reclaim space in {store.path}: {exc}; try again when no run is being recorded",
                path=store.path,
            ) from exc
    return file_bytes(store)


def days(n: float) -> float:
    """Seconds in ``n`` days (``older_than=days(30)``)."""
    return n * _DAY
