"""The step cache's index in the SQLite store: one row per entry, and hit counts.

Rows (table ``cache_entries``) hold each entry's key, the workflow and step
that made it, its key parts (so a miss can be explained), its size and when
it was made and last used; ``cache_stats`` counts hits and misses per
workflow. Runs batch their changes: :meth:`CacheIndex.write` applies new
entries, uses, sources and counts in one transaction, once per run (and
when a run's new entries push the cache over its bound).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..provenance import save_sources
from ..store import Store
from .keys import KeyParts

__all__ = ["CacheIndex", "EntryRow"]


@dataclass(frozen=True, slots=True)
class EntryRow:
    """A new entry for the index."""

    key: str
    workflow: str
    step: str
    parts: KeyParts
    size: int
    created_at: float


class CacheIndex:
    """Queries and batched writes of the cache tables of ``store``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def write(
        self,
        entries: Sequence[EntryRow] = (),
        uses: Mapping[str, float] | None = None,
        sources: Mapping[str, str] | None = None,
        counts: Mapping[str, tuple[int, int]] | None = None,
    ) -> None:
        """Apply new entries, uses (key -> time), sources and (hits, misses) per workflow."""
        if not (entries or uses or sources or counts):
            return
        with self.store.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO cache_entries VALUES(?,?,?,?,?,?,?,0)",
                [(e.key, e.workflow, e.step, e.parts.to_json(), e.size, e.created_at, e.created_at)
                 for e in entries],
            )
            if uses:
                conn.executemany(
                    "UPDATE cache_entries SET last_used=MAX(last_used, ?), hits=hits+1 WHERE key=?",
                    [(when, key) for key, when in uses.items()],
                )
            if sources:
                save_sources(conn, sources)
            if counts:
                conn.executemany(
                    "INSERT INTO cache_stats VALUES(?,?,?) ON CONFLICT(workflow) DO UPDATE SET "
                    "hits=hits+excluded.hits, misses=misses+excluded.misses",
                    [(wf, h, m) for wf, (h, m) in counts.items()],
                )

    def newest(self, workflow: str, step: str) -> tuple[str, KeyParts] | None:
        """Key and parts of the newest entry step ``step`` of ``workflow`` made."""
        rows = self.store.query(
            "SELECT key, parts FROM cache_entries WHERE workflow=? AND step=? "
            "ORDER BY created_at DESC LIMIT 1",
            (workflow, step),
        )
        return (rows[0]["key"], KeyParts.from_json(rows[0]["parts"])) if rows else None

    def total_bytes(self) -> int:
        """Bytes of every indexed entry."""
        return int(self.store.query("SELECT COALESCE(SUM(size), 0) AS n FROM cache_entries")[0]["n"])

    def least_recently_used(self, limit: int = 256) -> list[tuple[str, int]]:
        """``(key, size)`` of the entries used longest ago, oldest first."""
        rows = self.store.query(
            "SELECT key, size FROM cache_entries ORDER BY last_used ASC, created_at ASC LIMIT ?",
            (limit,),
        )
        return [(r["key"], int(r["size"])) for r in rows]

    def keys_of(self, workflow: str | None) -> list[str]:
        """Every key (of one workflow, or all)."""
        if workflow is None:
            rows = self.store.query("SELECT key FROM cache_entries")
        else:
            rows = self.store.query("SELECT key FROM cache_entries WHERE workflow=?", (workflow,))
        return [r["key"] for r in rows]

    def forget(self, keys: Iterable[str], *, stats_of: str | None = None, all_stats: bool = False) -> int:
        """Drop index rows (and the hit counts of one workflow, or all); return how many rows went."""
        with self.store.transaction() as conn:
            removed = conn.executemany("DELETE FROM cache_entries WHERE key=?", [(k,) for k in keys]).rowcount
            if all_stats:
                conn.execute("DELETE FROM cache_stats")
            elif stats_of is not None:
                conn.execute("DELETE FROM cache_stats WHERE workflow=?", (stats_of,))
        return removed

    def per_workflow(self) -> list[dict[str, Any]]:
        """Entries, bytes, hits and misses of each workflow that has either."""
        entries = {
            r["workflow"]: r
            for r in self.store.query(
                "SELECT workflow, COUNT(*) AS entries, SUM(size) AS bytes FROM cache_entries "
                "GROUP BY workflow"
            )
        }
        stats = {r["workflow"]: r for r in self.store.query("SELECT * FROM cache_stats")}
        out = []
        for wf in sorted(set(entries) | set(stats)):
            e, s = entries.get(wf, {}), stats.get(wf, {})
            out.append({
                "workflow": wf, "entries": int(e.get("entries") or 0), "bytes": int(e.get("bytes") or 0),
                "hits": int(s.get("hits") or 0), "misses": int(s.get("misses") or 0),
            })
        return out
