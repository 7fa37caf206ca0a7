"""The step cache: signed entries on disk, an index in the store, a byte bound.

:class:`StepCache` is one per store (a workflow manager holds it); it owns the
entries, the index and the bound, and batches index writes. For each run that
caches something it makes a :class:`RunCache`, which is both what the runner
asks before starting a step (:meth:`RunCache.lookup`: a hit ends the step as
``cached`` without calling it) and a run listener that stores each result
when its step succeeds and flushes the index when the run ends.

Nothing here raises into a run: an entry that cannot be read is a miss, a
result that cannot be pickled or written is not cached (one warning), and
the run goes on.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import StoreError
from ..events import BaseListener
from ..store import Store
from .entries import STATUS_REASONS, EntryStatus, NotCacheable, SignedEntries, load_secret
from .fingerprint import CodeIdentity, code_identity
from .hashing import UnhashableValue, digest
from .index import CacheIndex, EntryRow
from .keys import KeyParts, bound_parameters, hashed_parameters, miss_reason

if TYPE_CHECKING:
    from ..actions import ActionSpec
    from ..runner import Run

__all__ = ["DEFAULT_MAX_BYTES", "CacheUsage", "RunCache", "StepCache"]

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 5 * 1024**3  # 5 GiB
_MISS: tuple[bool, Any] = (False, None)


@dataclass(frozen=True, slots=True)
class CacheUsage:
    """What the cache holds: entries, bytes, bound, and hits/misses per workflow."""

    entries: int
    bytes: int
    max_bytes: int
    directory: str | None
    workflows: list[dict[str, Any]]

    @property
    def hits(self) -> int:
        """Hits over every workflow."""
        return sum(w["hits"] for w in self.workflows)

    @property
    def misses(self) -> int:
        """Misses over every workflow."""
        return sum(w["misses"] for w in self.workflows)

    @property
    def hit_rate(self) -> float | None:
        """Hits over lookups, ``None`` before the first lookup."""
        total = self.hits + self.misses
        return self.hits / total if total else None


class StepCache:
    """The cache of one store.

    Parameters
    ----------
    store:
        The store holding the index.
    directory:
        Where entries live (``<config dir>/cache``), or ``None`` to keep them
        in memory (an in-memory store).
    key_file:
        The signing key (``<config dir>/cache.key``), created on first use.
    max_bytes:
        The bound; the least recently used entries go first.
    """

    def __init__(
        self,
        store: Store,
        directory: Path | None,
        *,
        key_file: Path | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.store = store
        self.index = CacheIndex(store)
        self.directory = directory
        self.key_file = key_file
        self.max_bytes = _check_bound(max_bytes)
        self._entries: SignedEntries | None = None
        self._lock = threading.RLock()
        self._pending: list[EntryRow] = []
        self._uses: dict[str, float] = {}
        self._sources: dict[str, str] = {}
        self._counts: dict[str, list[int]] = {}
        self._total: int | None = None

    # -- entries -------------------------------------------------------------------
    @property
    def entries(self) -> SignedEntries:
        """The signed entries (the signing key is read, or made, on first use)."""
        if self._entries is None:
            with self._lock:
                if self._entries is None:
                    if self.directory is None or self.key_file is None:
                        secret = secrets.token_bytes(32)  # entries die with the process
                    else:
                        secret = load_secret(self.key_file)
                    self._entries = SignedEntries(self.directory, secret)
        return self._entries

    def get(self, key: str) -> tuple[EntryStatus, Any]:
        """Read entry ``key`` (see :meth:`SignedEntries.get`)."""
        return self.entries.get(key)

    def put(self, row: EntryRow, value: Any, source: str) -> bool:
        """Store ``value`` under ``row.key``; False (with one warning) when it cannot be."""
        try:
            size = self.entries.put(row.key, value)
        except NotCacheable as exc:
            log.warning("step %r of %r: result not cached: %s", row.step, row.workflow, exc)
            return False
        except OSError as exc:
            log.warning("step %r of %r: cache entry not written: %s", row.step, row.workflow, exc)
            return False
        if size > self.max_bytes:
            self.entries.delete(row.key)
            log.warning("step %r of %r: result not cached: %d bytes is more than cache_max_bytes (%d)",
                        row.step, row.workflow, size, self.max_bytes)
            return False
        with self._lock:
            self._pending.append(EntryRow(row.key, row.workflow, row.step, row.parts, size, row.created_at))
            self._sources[row.parts.code] = source
            over = self._known_total() + sum(e.size for e in self._pending) > self.max_bytes
        if over:
            self.flush()
        return True

    def note_use(self, key: str) -> None:
        """Remember that entry ``key`` was used now (written at the next flush)."""
        with self._lock:
            self._uses[key] = time.time()

    def count(self, workflow: str, hits: int, misses: int) -> None:
        """Add a run's hits and misses to the workflow's counts."""
        with self._lock:
            counts = self._counts.setdefault(workflow, [0, 0])
            counts[0] += hits
            counts[1] += misses

    def newest(self, workflow: str, step: str) -> KeyParts | None:
        """Key parts of the newest entry of a step (``None`` when it has none)."""
        try:
            found = self.index.newest(workflow, step)
        except StoreError as exc:
            log.warning("cache index unreadable: %s", exc)
            return None
        return None if found is None else found[1]

    # -- index and bound ---------------------------------------------------------------
    def _known_total(self) -> int:
        if self._total is None:
            self._total = self.index.total_bytes()
        return self._total

    def flush(self) -> None:
        """Write pending index changes in one transaction, then keep within the bound."""
        with self._lock:
            pending, uses, sources = self._pending, self._uses, self._sources
            counts = {wf: (h, m) for wf, (h, m) in self._counts.items()}
            self._pending, self._uses, self._sources, self._counts = [], {}, {}, {}
        try:
            self.index.write(pending, uses, sources, counts)
            self._total = self.index.total_bytes()
        except StoreError as exc:
            log.error("cache index not updated: %s", exc)
            return
        if self._total > self.max_bytes:
            self.evict()

    def evict(self) -> tuple[int, int]:
        """Remove least recently used entries until the cache fits its bound; ``(count, bytes)``."""
        count = freed = 0
        total = self.index.total_bytes()
        while total > self.max_bytes:
            batch = self.index.least_recently_used()
            if not batch:
                break
            gone = []
            for key, size in batch:
                if total <= self.max_bytes:
                    break
                freed += self.entries.delete(key)
                total -= size
                count += 1
                gone.append(key)
            self.index.forget(gone)
        self._total = total
        return count, freed

    def set_max_bytes(self, max_bytes: int) -> None:
        """Change the bound; entries beyond it are evicted at once."""
        self.max_bytes = _check_bound(max_bytes)
        self.flush()
        if self._known_total() > self.max_bytes:
            self.evict()

    def usage(self) -> CacheUsage:
        """Entries, bytes and hit counts (pending changes are written first)."""
        self.flush()
        rows = self.index.per_workflow()
        return CacheUsage(
            entries=sum(r["entries"] for r in rows), bytes=sum(r["bytes"] for r in rows),
            max_bytes=self.max_bytes, directory=str(self.directory) if self.directory else None,
            workflows=rows,
        )

    def remove(self, keys: Sequence[str]) -> tuple[int, int]:
        """Remove the entries ``keys`` (files and index rows); return ``(count, bytes)`` freed."""
        self.flush()
        wanted = list(dict.fromkeys(keys))
        freed = sum(self.entries.delete(k) for k in wanted)
        count = self.index.forget(wanted)
        self._total = None
        return count, freed

    def clear(self, workflow: str | None = None) -> tuple[int, int]:
        """Remove the entries of ``workflow`` (or all, with stray entry files); ``(count, bytes)``."""
        self.flush()
        keys = self.index.keys_of(workflow)
        freed = sum(self.entries.delete(k) for k in keys)
        self.index.forget(keys, stats_of=workflow, all_stats=workflow is None)
        count = len(keys)
        if workflow is None:  # files the index does not know (a kernel that died mid-run)
            extra, extra_bytes = self.entries.clear()
            count, freed = count + extra, freed + extra_bytes
        self._total = None
        return count, freed

    # -- runs -------------------------------------------------------------------------
    def for_run(
        self,
        *,
        workflow: str,
        enabled: Sequence[bool],
        force: bool = False,
        kept: Mapping[str, Any] | None = None,
        kept_note: str = "kept",
    ) -> RunCache:
        """The per-run side of the cache (see :class:`RunCache`)."""
        return RunCache(self, workflow, enabled, force=force, kept=kept, kept_note=kept_note)


def _check_bound(max_bytes: int) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 0:
        raise ValueError(f"cache_max_bytes must be a whole number of bytes >= 0, got {max_bytes!r}")
    return max_bytes


class RunCache(BaseListener):
    """One run's cache lookups (for the runner) and stores (as a run listener).

    Parameters
    ----------
    cache:
        The store's :class:`StepCache`.
    workflow:
        The run's workflow (entries and counts are filed under it).
    enabled:
        Per step index: does this step use the cache in this run.
    force:
        Recompute every enabled step and refresh its entry.
    kept:
        Results by step name that the run takes as they are (a rerun from
        the failed steps): those steps end ``cached`` without a lookup.
    kept_note:
        The ``cache`` text of those steps.
    """

    def __init__(
        self,
        cache: StepCache,
        workflow: str,
        enabled: Sequence[bool],
        *,
        force: bool = False,
        kept: Mapping[str, Any] | None = None,
        kept_note: str = "kept",
    ) -> None:
        self.cache = cache
        self.workflow = workflow
        self.enabled = list(enabled)
        self.force = force
        self.kept = dict(kept or {})
        self.kept_note = kept_note
        self.keys: list[str | None] = [None] * len(self.enabled)
        self.parts: list[KeyParts | None] = [None] * len(self.enabled)
        self.hits = 0
        self.misses = 0
        self._code: dict[int, CodeIdentity] = {}
        self._hashed: dict[int, tuple[Any, tuple[str, str]]] = {}

    # -- the runner's question ------------------------------------------------------
    def lookup(self, run: Run, index: int, spec: ActionSpec) -> tuple[bool, Any]:
        """``(True, value)`` when step ``index`` need not run, else ``(False, None)``.

        Sets the step record's ``cache`` to ``"hit"`` or the miss reason.
        """
        name = run.graph.names[index]
        if name in self.kept:
            if self.enabled[index]:
                self._parts(run, index, spec, quiet=True)
            run.records[index].cache = self.kept_note
            return True, self.kept[name]
        if not self.enabled[index]:
            return _MISS
        try:
            found, value, outcome = self._consult(run, index, spec)
        except Exception as exc:  # noqa: BLE001 - the cache must never break a run
            log.warning("cache lookup of step %r failed: %s", name, exc)
            found, value, outcome = False, None, f"miss: lookup failed ({type(exc).__name__})"
        run.records[index].cache = outcome
        if found:
            self.hits += 1
            return True, value
        self.misses += 1
        return _MISS

    def _consult(self, run: Run, index: int, spec: ActionSpec) -> tuple[bool, Any, str]:
        try:
            parts = self._parts(run, index, spec)
        except UnhashableValue as exc:
            return False, None, f"miss: {exc}"
        key = self.keys[index]
        assert key is not None
        if self.force:
            return False, None, "miss: forced"
        status, value = self.cache.get(key)
        if status == "found":
            self.cache.note_use(key)
            return True, value, "hit"
        if status in STATUS_REASONS:
            return False, None, STATUS_REASONS[status]
        return False, None, miss_reason(parts, self.cache.newest(self.workflow, run.graph.names[index]))

    def identity(self, spec: ActionSpec) -> CodeIdentity:
        """The code identity of an action (once per run and callable)."""
        ident = self._code.get(id(spec.fn))
        if ident is None:
            ident = self._code[id(spec.fn)] = code_identity(spec.fn)
        return ident

    def _parts(self, run: Run, index: int, spec: ActionSpec, *, quiet: bool = False) -> KeyParts:
        step = run.steps[index]
        names, parents = run.graph.names, run.graph.parents[index]
        upstream_names = {names[p] for p in parents}
        try:
            values = bound_parameters(spec, step.parameters, upstream_names, run.parameters)
            params = hashed_parameters(values, self._hashed)
            upstream = {names[p]: self._upstream(run, p) for p in parents}
        except UnhashableValue:
            if quiet:
                return KeyParts(self.identity(spec).fingerprint)
            raise
        parts = KeyParts(self.identity(spec).fingerprint, params, upstream, getattr(step, "version", None))
        self.parts[index], self.keys[index] = parts, parts.key()
        return parts

    def _upstream(self, run: Run, parent: int) -> str:
        key = self.keys[parent]
        if key is not None:
            return key
        name = run.graph.names[parent]
        try:
            return "value:" + digest(run.results.get(name))
        except UnhashableValue:
            raise UnhashableValue(
                f"upstream {name!r} is not cached and its result cannot be hashed; cache it too"
            ) from None

    # -- the listener side -------------------------------------------------------------
    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Store the result of a step that just succeeded (when it has a key)."""
        if state != "succeeded":
            return
        key, parts = self.keys[index], self.parts[index]
        if key is None or parts is None:
            return
        name = run.graph.names[index]
        row = EntryRow(key, self.workflow, name, parts, 0, time.time())
        spec = run.resolved_spec(index)
        source = self.identity(spec).source if spec is not None else ""
        self.cache.put(row, run.results.get(name), source)

    def run_finished(self, run: Run) -> None:
        """Count this run's hits and misses and write the index."""
        self.cache.count(self.workflow, self.hits, self.misses)
        self.cache.flush()

    def outcomes(self, run: Run) -> dict[str, dict[str, Any]]:
        """Per step that consulted the cache: its key and outcome (for the run's record)."""
        out: dict[str, dict[str, Any]] = {}
        for i, rec in enumerate(run.records):
            if rec.cache is not None:
                out[rec.name] = {"key": self.keys[i], "outcome": rec.cache}
        return out
