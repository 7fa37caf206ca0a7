"""What each run needs to be compared and repeated, recorded beside the run.

A run's row already has its workflow, definition version, parameters, states
and times. Its record (table ``run_records``, one JSON document per run)
adds:

``code`` / ``code_of``
    The distinct code fingerprints of the run's steps, and per step the
    index of its fingerprint (``code_of`` is ``null`` when every step runs
    the same code, ``-1`` marks a step whose action was never resolved). The
    source text of each fingerprint is stored once in ``code_sources``.
``environment``
    Python, platform and package versions (:mod:`.environment`).
``cache``
    Per step whose cache was consulted: its key and the outcome (``"hit"``
    or the miss reason), plus the run's options (``cache``, ``force``).
``summaries``
    Per step that returned something: type, shape/length, a short repr.
``definition``
    The step definitions, only when the workflow was not saved (no version
    to look them up by).
``rerun_of`` / ``from_failed``
    For a rerun, the run it repeats.

Writing it is one transaction at the end of the run, and its cost does not
grow with the size of the run beyond one list lookup per step: fingerprints
are computed once per distinct callable.
"""

from __future__ import annotations

import operator
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .cache.fingerprint import CodeIdentity, code_identity
from .environment import environment
from .store import Store, decode_json, encode_json_lenient
from .summary import summarize

if TYPE_CHECKING:
    from .runner import Run

__all__ = [
    "RECORD_FORMAT",
    "build_record",
    "code_of_step",
    "load_record",
    "load_sources",
    "save_record",
    "save_sources",
]

RECORD_FORMAT = 1


def _identities(run: Run) -> tuple[list[CodeIdentity], list[int] | None]:
    """Distinct code identities of the run's steps and each step's index into them."""
    specs = run.resolved_specs()
    first = specs[0] if specs else None
    if first is not None and all(s is first for s in specs):  # a big run of one action: the fast case
        return [code_identity(first.fn)], None
    unique = {id(s): s for s in specs}  # many steps share one action: one identity each
    identities: list[CodeIdentity] = []
    index_of: dict[int, int] = {id(None): -1}
    by_fingerprint: dict[str, int] = {}
    for key, spec in unique.items():
        if spec is None:
            continue
        ident = code_identity(spec.fn)
        at = by_fingerprint.setdefault(ident.fingerprint, len(identities))
        if at == len(identities):
            identities.append(ident)
        index_of[key] = at
    if len(identities) == 1 and None not in unique.values():
        return identities, None
    return identities, [index_of[id(s)] for s in specs]


def _summaries(results: Mapping[str, Any]) -> dict[str, Any]:
    # dict's own views: results left on a cluster are described, never fetched for this
    values = dict.values(results) if isinstance(results, dict) else results.values()
    if operator.countOf(values, None) == len(results):  # in C: no loop for no-op steps
        return {}
    items = dict.items(results) if isinstance(results, dict) else results.items()
    return {n: summarize(v) for n, v in items if v is not None}


def build_record(
    run: Run,
    *,
    cache: Mapping[str, Mapping[str, Any]] | None = None,
    options: Mapping[str, Any] | None = None,
    definition: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The record of a finished run and the sources it refers to (fingerprint -> text)."""
    identities, code_of = _identities(run)
    modules = {m for ident in identities for m in ident.modules}
    record: dict[str, Any] = {
        "format": RECORD_FORMAT,
        "code": [ident.fingerprint for ident in identities],
        "code_of": code_of,
        "environment": environment(modules),
        "summaries": _summaries(run.results),
    }
    if cache:
        record["cache"] = dict(cache)
    if options:
        record.update({k: v for k, v in options.items() if v is not None})
    if definition is not None:
        record["definition"] = list(definition)
    return record, {ident.fingerprint: ident.source for ident in identities}


def code_of_step(record: Mapping[str, Any], index: int) -> str | None:
    """The fingerprint step ``index`` ran with, per its run's record."""
    code = record.get("code") or []
    code_of = record.get("code_of")
    if code_of is None:
        return code[0] if code else None
    at = code_of[index] if index < len(code_of) else -1
    return code[at] if at >= 0 else None


def save_sources(conn: Any, sources: Mapping[str, str]) -> None:
    """Store each fingerprint's source once (inside the caller's transaction)."""
    now = time.time()
    conn.executemany(
        "INSERT OR IGNORE INTO code_sources VALUES(?,?,?)",
        [(fp, text, now) for fp, text in sources.items()],
    )


def save_record(store: Store, run_id: str, record: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """Write a run's record and its sources in one transaction."""
    text = encode_json_lenient(record)[0] or "{}"
    with store.transaction() as conn:
        save_sources(conn, sources)
        conn.execute("INSERT OR REPLACE INTO run_records VALUES(?,?)", (run_id, text))


def load_record(store: Store, run_id: str) -> dict[str, Any] | None:
    """The record of run ``run_id`` (exact id), or ``None`` when none was kept."""
    rows = store.query("SELECT record FROM run_records WHERE run_id=?", (run_id,))
    return decode_json(rows[0]["record"]) if rows else None


def load_sources(store: Store, fingerprints: Sequence[str]) -> dict[str, str]:
    """Source text by fingerprint, for those that are stored."""
    wanted = [fp for fp in dict.fromkeys(fingerprints) if fp]
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    rows = store.query(
        f"SELECT fingerprint, source FROM code_sources WHERE fingerprint IN ({marks})",  # noqa: S608 - only ? marks are formatted in
        wanted,
    )
    return {r["fingerprint"]: r["source"] for r in rows}
