"""Persistence: one SQLite file for definitions, runs, step records and documents.

The file is opened in WAL mode with a busy timeout, and every write is one
``BEGIN IMMEDIATE`` transaction, so two kernels can record runs into the same
database at once without losing either's rows. ``":memory:"`` gives the
in-memory twin used by tests; it runs the very same code.

The file is recognised by SQLite's ``application_id`` header field. A file that
is not SQLite, or SQLite written by another program, raises
:class:`~codomyrmex_jupyter.errors.StoreError` naming the file, and is never
written to; a new store is created in one transaction, so several processes
may open it at once (see ``store_open``). Values are stored as JSON (bytes as
base64); there is no pickle.

A run row holds the host, pid and heartbeat of its process; opening the
store ends the runs whose process is gone (see ``liveness``).

Tables
------
``workflows``          which version of each workflow is current
``workflow_versions``  every definition ever saved, so old runs keep theirs
``runs``               one row per run: status, times, parameters, errors, metrics,
                       and every step's state, times and attempts packed in one
                       value (see ``step_table``)
``steps``              a row for each step that has an error, a traceback, a
                       skip reason or a result
``documents``          JSON documents by (kind, key): projects, templates,
                       sessions, resources, tasks, cancel requests
``run_records``        per run, what comparing and repeating it needs: code
                       fingerprints, environment, cache keys, result summaries
                       (``engine/provenance.py``)
``code_sources``       source text by code fingerprint, shared by runs and cache
``cache_entries``      the step cache's index: key, size, last use, key parts
``cache_stats``        cache hits and misses per workflow

A run's row also says where it runs: ``host`` and ``pid`` of the process,
and, in a Jupyter kernel, the ``notebook`` that started it and the
``kernel`` id. A cancel request from outside the process (the Runs panel)
is a ``cancel_request`` document keyed by run id; the owning process
watches for it (``api/cancel_watch.py``).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import enum
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Any

from ..errors import ArgumentTypeError, NotStorableError, StoreError
from .home import locate_config_dir
from .liveness import HEARTBEAT_INTERVAL, LEASE, dead_run_reason
from .step_table import pack_steps, unpack_steps
from .store_open import open_database, prepare_directory

__all__ = [
    "APPLICATION_ID",
    "SCHEMA_VERSION",
    "Store",
    "decode_json",
    "default_config_dir",
    "encode_json",
    "encode_json_lenient",
]

APPLICATION_ID = 0x434F444F  # "CODO"
# 2: packed step records; 3: a heartbeat per run; 4: the notebook and kernel of a
# run; 5: run records, code sources and the step cache's index (_RECORD_TABLES)
SCHEMA_VERSION = 5
DB_FILENAME = "codomyrmex.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workflows(
    name TEXT PRIMARY KEY, version INTEGER NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS workflow_versions(
    name TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,
    source TEXT, origin TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY(name, version));
CREATE TABLE IF NOT EXISTS runs(
    run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER,
    status TEXT NOT NULL, start REAL, end REAL, parameters TEXT, errors TEXT,
    metrics TEXT, session_id TEXT, host TEXT, pid INTEGER, steps_packed BLOB, heartbeat REAL,
    notebook TEXT, kernel TEXT);
CREATE INDEX IF NOT EXISTS runs_by_start ON runs(start);
CREATE INDEX IF NOT EXISTS runs_by_workflow ON runs(workflow, start);
CREATE TABLE IF NOT EXISTS steps(
    run_id TEXT NOT NULL, idx INTEGER NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL,
    start REAL, end REAL, attempts INTEGER NOT NULL, error TEXT, traceback TEXT,
    reason TEXT, result TEXT, result_note TEXT,
    PRIMARY KEY(run_id, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents(
    kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY(kind, key));
"""
# Schema 5's tables (``_migrate_to_5``): what comparing, repeating and caching runs needs.
_RECORD_TABLES = """
CREATE TABLE IF NOT EXISTS run_records(
    run_id TEXT PRIMARY KEY REFERENCES runs(run_id) ON DELETE CASCADE, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS code_sources(
    fingerprint TEXT PRIMARY KEY, source TEXT NOT NULL, created_at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS cache_entries(
    key TEXT PRIMARY KEY, workflow TEXT NOT NULL, step TEXT NOT NULL, parts TEXT NOT NULL,
    size INTEGER NOT NULL, created_at REAL NOT NULL, last_used REAL NOT NULL,
    hits INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS cache_by_step ON cache_entries(workflow, step, created_at);
CREATE INDEX IF NOT EXISTS cache_by_use ON cache_entries(last_used);
CREATE TABLE IF NOT EXISTS cache_stats(
    workflow TEXT PRIMARY KEY, hits INTEGER NOT NULL, misses INTEGER NOT NULL);
"""
_CURRENT = (
    "SELECT w.name AS name, w.version AS version, v.definition AS definition, "
    "v.source AS source, v.origin AS origin, w.created_at AS created_at, w.updated_at AS updated_at "
    "FROM workflows w JOIN workflow_versions v ON v.name = w.name AND v.version = w.version"
)
_RUN_COLUMNS = (
    "run_id, workflow, version, status, start, end, parameters, errors, metrics, session_id, host, pid, "
    "notebook, kernel"
)
CANCEL_REQUEST = "cancel_request"  # documents kind of a cancel asked from outside the run's process


def default_config_dir() -> Path:
    """The config dir when none is given: ``$CODOMYRMEX_HOME``, else the nearest
    ``.codomyrmex/`` in the working directory or its parents, else ``~/.codomyrmex``
    (:func:`~.home.locate_config_dir` also says why)."""
    return locate_config_dir().path


def _default(value: Any) -> Any:  # noqa: PLR0911 - one branch per convertible type
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return item()
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if callable(tolist):
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-storable")


def encode_json(value: Any) -> str:
    """Encode ``value`` as JSON; raise :class:`NotStorableError` if it cannot be."""
    try:
        return json.dumps(value, default=_default, allow_nan=True, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise NotStorableError(
            f"value of type {type(value).__name__} cannot be stored as JSON ({exc}); "
            "it is kept in memory only: return plain data (dict, list, str, numbers) to keep it"
        ) from exc


def _object_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "$bytes" in obj:
        return base64.b64decode(obj["$bytes"])
    return obj


def decode_json(text: str | None) -> Any:
    """Decode what :func:`encode_json` wrote (``None`` stays ``None``)."""
    return None if text is None else json.loads(text, object_hook=_object_hook)


class Store:
    """The SQLite store.

    Parameters
    ----------
    path:
        A database file, a directory (the file ``codomyrmex.sqlite3`` inside
        it), or ``":memory:"``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        lease: float = LEASE,
        heartbeat: float = HEARTBEAT_INTERVAL,
    ) -> None:
        self.path = self._resolve_path(path)
        self.lease = lease
        self.heartbeat = heartbeat
        self.host = socket.gethostname()
        self._lock = threading.RLock()
        self._live: set[str] = set()  # runs of this process still going: they get heartbeats
        self._stop_beating: Callable[[], None] | None = None
        self._conn = open_database(
            self.path, application_id=APPLICATION_ID, schema_version=SCHEMA_VERSION, init=_init_schema
        )
        # runs a dead process left 'running', ended when this store was opened
        self.recovered = self.end_dead_runs() if self.path != ":memory:" else []

    @staticmethod
    def _resolve_path(path: str | os.PathLike[str]) -> str:
        if not isinstance(path, str | os.PathLike) or not os.fspath(path):
            raise ArgumentTypeError(
                f"store path {path!r:.40} is not a path; give a directory, a file or ':memory:'",
                argument="path",
            )
        text = os.fspath(path)
        if text == ":memory:":
            return text
        p = Path(text).expanduser()
        # A name without a suffix is a directory unless a file already has it; asked in
        # this order, another process creating that directory meanwhile cannot mislead it.
        directory = p.is_dir() if p.suffix else not (p.exists() and not p.is_dir())
        if directory:
            prepare_directory(p)
            p = p / DB_FILENAME
        else:
            prepare_directory(p.parent)
        return str(p)

    # -- plumbing --------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write to {self.path}: {exc}", path=self.path) from exc
            try:
                yield conn
            except sqlite3.Error as exc:  # a constraint, a full disk, a file gone read-only
                conn.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {exc}", path=self.path) from exc
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {exc}", path=self.path) from exc

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` write transaction, for modules that own their own tables."""
        return self._write()

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read-only statement as dicts (for modules that own their own tables)."""
        return self._read(sql, args)

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                cur = self._conn.execute(sql, args)
                cols = [d[0] for d in cur.description]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read {self.path}: {exc}", path=self.path) from exc

    def close(self) -> None:
        """Close the connection (further calls fail)."""
        with self._lock:
            self._live.clear()
            self._stop_heartbeat()
            self._conn.close()

    # -- liveness ----------------------------------------------------------------------
    def end_dead_runs(self) -> list[tuple[str, str]]:
        """Mark ``failed`` every run left ``running`` by a process that is gone.

        Returns ``(run_id, reason)`` of each run ended. Called when the store
        is opened; see :mod:`.liveness` for how a gone process is told.
        """
        rows = self._read(
            "SELECT run_id, host, pid, start, heartbeat FROM runs WHERE status='running'"
        )
        now = time.time()
        dead = [
            (r["run_id"], reason, r["heartbeat"] or r["start"])
            for r in rows
            if r["run_id"] not in self._live
            and (reason := dead_run_reason(r, host=self.host, now=now, lease=self.lease))
        ]
        if not dead:
            return []
        found = f"found by process {os.getpid()} on {self.host}"
        with self._write() as conn:
            for run_id, reason, last in dead:
                error = f"run ended without finishing: {reason}; {found}"
                conn.execute(
                    "UPDATE runs SET status='failed', end=?, errors=?, metrics=? "
                    "WHERE run_id=? AND status='running'",
                    (last, encode_json([error]), encode_json({"ended_by": found, "reason": reason}),
                     run_id),
                )
        return [(run_id, reason) for run_id, reason, _ in dead]

    def _beat_when_live(self) -> None:
        """Start the heartbeat with the first run of this process (it stops itself when idle)."""
        if self._stop_beating is None and self.path != ":memory:":
            from .. import runtime  # only a process that runs needs the loop thread: readers start faster

            self._stop_beating = runtime.every(self.heartbeat, self.beat, name="codomyrmex-heartbeat")

    def _stop_heartbeat(self) -> None:
        stop, self._stop_beating = self._stop_beating, None
        if stop is not None:
            stop()

    def beat(self) -> None:
        """Write the heartbeat of every run this process is running.

        The first beat that finds none stops the heartbeat: a sweep of short
        runs starts one thread, not one per run.
        """
        with self._lock:  # one hold: close() cannot come between the check and the write
            live = list(self._live)
            if not live:
                self._stop_heartbeat()
                return
            marks = ",".join("?" * len(live))
            with self._write() as conn:
                conn.execute(
                    f"UPDATE runs SET heartbeat=? WHERE run_id IN ({marks})",  # noqa: S608 - only ? marks are formatted in
                    (time.time(), *live),
                )

    # -- workflows ---------------------------------------------------------------------
    def save_workflow(
        self, name: str, definition: Any, *, source: str | None = None, origin: str = "api"
    ) -> int:
        """Store a new version of workflow ``name``; return its version number."""
        text = encode_json(definition)
        now = time.time()
        with self._write() as conn:
            row = conn.execute(
                "SELECT MAX(version), MIN(created_at) FROM workflow_versions WHERE name=?", (name,)
            ).fetchone()
            version = (row[0] or 0) + 1
            created = row[1] or now
            conn.execute(
                "INSERT INTO workflow_versions VALUES(?,?,?,?,?,?)",
                (name, version, text, source, origin, now),
            )
            # The definition is stored once, in workflow_versions; big
            # definitions make a second copy cost as much as the first.
            conn.execute(
                "INSERT OR REPLACE INTO workflows VALUES(?,?,?,?)", (name, version, created, now)
            )
        return version

    def _workflow_row(self, row: dict[str, Any]) -> dict[str, Any]:
        row["definition"] = decode_json(row["definition"])
        return row

    def load_workflow(self, name: str, version: int | None = None) -> dict[str, Any] | None:
        """The stored definition (current, or a given version), or ``None``."""
        if version is None:
            rows = self._read(_CURRENT + " WHERE w.name=?", (name,))
        else:
            rows = self._read(
                "SELECT * FROM workflow_versions WHERE name=? AND version=?", (name, version)
            )
        return self._workflow_row(rows[0]) if rows else None

    def list_workflows(self) -> list[dict[str, Any]]:
        """Every current definition, by name."""
        return [self._workflow_row(r) for r in self._read(_CURRENT + " ORDER BY w.name")]

    def delete_workflow(self, name: str) -> bool:
        """Forget the current definition of ``name`` (versions and runs stay)."""
        with self._write() as conn:
            return conn.execute("DELETE FROM workflows WHERE name=?", (name,)).rowcount > 0

    # -- runs ----------------------------------------------------------------------------
    def start_run(
        self,
        run_id: str,
        workflow: str,
        *,
        version: int | None,
        start: float,
        parameters: Any,
        session_id: str | None = None,
        notebook: str | None = None,
        kernel: str | None = None,
    ) -> None:
        """Record that a run started (``notebook``, ``kernel``: where, in Jupyter)."""
        params = encode_json_lenient(parameters)[0]
        with self._write() as conn:
            conn.execute(
                "INSERT INTO runs(run_id, workflow, version, status, start, parameters, "
                "session_id, host, pid, heartbeat, notebook, kernel) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, workflow, version, "running", start, params, session_id, self.host,
                 os.getpid(), start, notebook, kernel),
            )
            self._live.add(run_id)
            self._beat_when_live()

    def finish_run(
        self,
        run_id: str,
        *,
        status: str,
        end: float | None,
        errors: Sequence[str],
        metrics: Any,
        steps: Iterable[tuple[Any, ...]] = (),
        packed: tuple[bytes, list[tuple[Any, ...]]] | None = None,
    ) -> None:
        """Record the end of a run and all its step rows in one transaction.

        ``steps`` rows are ``(idx, name, status, start, end, attempts, error,
        traceback, reason, result_json, result_note)``. All of them are packed
        into the run's row; those with details also get a ``steps`` row.
        ``packed`` is the same, already packed (``step_table.pack_records``).
        """
        packed_steps, details = packed if packed is not None else pack_steps(steps)
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET status=?, end=?, errors=?, metrics=?, steps_packed=? WHERE run_id=?",
                (status, end, encode_json(list(errors)), encode_json_lenient(metrics)[0],
                 packed_steps, run_id),
            )
            conn.executemany(
                f"INSERT OR REPLACE INTO steps VALUES('{_safe_id(run_id)}',?,?,?,?,?,?,?,?,?,?,?)",
                details,
            )
            self._live.discard(run_id)

    def _run_row(self, row: dict[str, Any]) -> dict[str, Any]:
        for key in ("parameters", "errors", "metrics"):
            row[key] = decode_json(row[key])
        row.pop("steps_packed", None)
        row.pop("heartbeat", None)
        return row

    def _steps_of(self, run_id: str, packed: bytes | None) -> list[dict[str, Any]]:
        detailed = self._read("SELECT * FROM steps WHERE run_id=? ORDER BY idx", (run_id,))
        for s in detailed:
            s["result"] = decode_json(s["result"])
            s.pop("run_id", None)
        if packed is None:  # still running, or written before steps were packed
            return detailed
        rows = unpack_steps(packed)
        for s in detailed:
            if s["idx"] < len(rows):
                rows[s["idx"]] = s
        return rows

    def get_run(
        self, run_id: str, *, with_steps: bool = True, exact: bool = False
    ) -> dict[str, Any] | None:
        """One run (with its step rows), or ``None``.

        Unless ``exact``, a prefix of at least 4 characters that matches
        exactly one run works too (several matches give ``None``; see
        :meth:`find_run_ids`).
        """
        rows = self._read("SELECT * FROM runs WHERE run_id=?", (run_id,))
        if not rows and not exact and len(run_id) >= 4:
            ids = self.find_run_ids(run_id, limit=2)
            if len(ids) != 1:
                return None
            rows = self._read("SELECT * FROM runs WHERE run_id=?", (ids[0],))
        if not rows:
            return None
        packed = rows[0].get("steps_packed")
        run = self._run_row(rows[0])
        if with_steps:
            run["steps"] = self._steps_of(run["run_id"], packed)
        return run

    def find_run_ids(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Ids of runs that start with ``prefix`` (at most ``limit``, in id order)."""
        # A range on the primary key: no LIKE, so '_' and '%' in a prefix are plain text.
        rows = self._read(
            "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT ?",
            (prefix, prefix + "\U0010ffff", int(limit)),
        )
        return [r["run_id"] for r in rows if r["run_id"].startswith(prefix)]

    def list_runs(
        self, workflow: str | None = None, *, limit: int | None = 50, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Recent runs, newest first, without step rows."""
        sql, args = f"SELECT {_RUN_COLUMNS} FROM runs", []  # noqa: S608 - a constant column list
        where = []
        if workflow is not None:
            where.append("workflow=?")
            args.append(workflow)
        if status is not None:
            where.append("status=?")
            args.append(status)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._run_row(r) for r in self._read(sql, args)]

    def count_runs(self, workflow: str | None = None) -> int:
        """How many runs are recorded (for one workflow, or all)."""
        if workflow is None:
            return int(self._read("SELECT COUNT(*) AS n FROM runs")[0]["n"])
        return int(self._read("SELECT COUNT(*) AS n FROM runs WHERE workflow=?", (workflow,))[0]["n"])

    def runs_per_workflow(self) -> dict[str, int]:
        """How many runs each workflow has recorded."""
        rows = self._read("SELECT workflow, COUNT(*) AS n FROM runs GROUP BY workflow")
        return {r["workflow"]: int(r["n"]) for r in rows}

    def run_durations(self, workflow: str | None = None) -> list[dict[str, Any]]:
        """``workflow, status, duration`` of every finished run."""
        sql = "SELECT workflow, status, end - start AS duration FROM runs WHERE end IS NOT NULL"
        args: tuple[Any, ...] = ()
        if workflow is not None:
            sql += " AND workflow=?"
            args = (workflow,)
        return self._read(sql, args)

    def step_durations(self, workflow: str | None = None) -> list[dict[str, Any]]:
        """``workflow, name, status, attempts, duration`` of every recorded step."""
        sql = "SELECT workflow, steps_packed FROM runs WHERE steps_packed IS NOT NULL"
        args: tuple[Any, ...] = ()
        if workflow is not None:
            sql += " AND workflow=?"
            args = (workflow,)
        out = []
        for run in self._read(sql, args):
            for s in unpack_steps(run["steps_packed"]):
                duration = None if s["start"] is None or s["end"] is None else s["end"] - s["start"]
                out.append({"workflow": run["workflow"], "name": s["name"], "status": s["status"],
                            "attempts": s["attempts"], "duration": duration})
        return out

    # -- documents -------------------------------------------------------------------------
    def put_doc(self, kind: str, key: str, value: Any) -> None:
        """Store a JSON document under ``(kind, key)``, replacing any previous one."""
        text = encode_json(value)
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO documents VALUES(?,?,?,?)", (kind, key, text, time.time())
            )

    def get_doc(self, kind: str, key: str) -> Any:
        """The document under ``(kind, key)``, or ``None``."""
        rows = self._read("SELECT value FROM documents WHERE kind=? AND key=?", (kind, key))
        return decode_json(rows[0]["value"]) if rows else None

    def list_docs(self, kind: str) -> dict[str, Any]:
        """Every document of ``kind``, by key, in key order."""
        rows = self._read("SELECT key, value FROM documents WHERE kind=? ORDER BY key", (kind,))
        return {r["key"]: decode_json(r["value"]) for r in rows}

    def delete_doc(self, kind: str, key: str) -> bool:
        """Remove a document; True if it existed."""
        with self._write() as conn:
            return (
                conn.execute("DELETE FROM documents WHERE kind=? AND key=?", (kind, key)).rowcount > 0
            )


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _init_schema(conn: sqlite3.Connection, version: int) -> None:
    """Create the schema of a new file (``version`` 0) or migrate an older one.

    Runs inside the transaction that opened the file; the migrations are an
    ordered chain, each bringing the file to its version. A new file goes
    through the chain as well: each migration does only what the file lacks.
    """
    _execute_script(conn, _SCHEMA)  # the tables of schema 4 that a new or an old file lacks
    for target, migrate in _MIGRATIONS:
        if version < target:
            migrate(conn)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    # one statement at a time: executescript() would commit the open transaction
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    """Schema 2: step records packed into the run row; one copy of each definition."""
    if "steps_packed" not in _columns(conn, "runs"):
        conn.execute("ALTER TABLE runs ADD COLUMN steps_packed BLOB")
    if "definition" in _columns(conn, "workflows"):
        # Schema 1 kept a second copy of the current definition here.
        conn.execute("ALTER TABLE workflows RENAME TO workflows_v1")
        conn.execute(
            "CREATE TABLE workflows(name TEXT PRIMARY KEY, version INTEGER NOT NULL, "
            "created_at REAL NOT NULL, updated_at REAL NOT NULL)"
        )
        conn.execute(
            "INSERT INTO workflows SELECT name, version, created_at, updated_at FROM workflows_v1"
        )
        conn.execute("DROP TABLE workflows_v1")


def _migrate_to_3(conn: sqlite3.Connection) -> None:
    """Schema 3: each run row holds a heartbeat of its process (see ``liveness``)."""
    if "heartbeat" not in _columns(conn, "runs"):
        conn.execute("ALTER TABLE runs ADD COLUMN heartbeat REAL")


def _migrate_to_4(conn: sqlite3.Connection) -> None:
    """Schema 4: which notebook and kernel started a run (additive; older readers ignore them)."""
    have = _columns(conn, "runs")
    for column in ("notebook", "kernel"):
        if column not in have:
            conn.execute(f"ALTER TABLE runs ADD COLUMN {column} TEXT")


def _migrate_to_5(conn: sqlite3.Connection) -> None:
    """Schema 5: run records, code sources and the step cache's index (new tables only)."""
    _execute_script(conn, _RECORD_TABLES)


# (version reached, migration): applied in order to files older than each version
_MIGRATIONS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (2, _migrate_to_2),
    (3, _migrate_to_3),
    (4, _migrate_to_4),
    (5, _migrate_to_5),
)


def _safe_id(run_id: str) -> str:
    if not all(c.isalnum() or c in "-_" for c in run_id):
        raise StoreError(f"run id {run_id!r} may only hold letters, digits, '-' and '_'")
    return run_id


def encode_json_lenient(value: Any) -> tuple[str | None, str | None]:
    """JSON for ``value``, or ``(None, reason)`` when it cannot be stored."""
    if value is None:
        return None, None
    try:
        return encode_json(value), None
    except NotStorableError as exc:
        return None, str(exc)
