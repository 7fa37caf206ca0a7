"""Persistence: one SQLite file for definitions, runs, step records and documents.

The file is opened in WAL mode with a busy timeout, and every write is one
``BEGIN IMMEDIATE`` transaction, so two kernels can record runs into the same
database at once without losing either's rows. ``":memory:"`` gives the
in-memory twin used by tests; it runs the very same code.

The file is recognised by SQLite's ``application_id`` header field. A file that
is not SQLite, or SQLite written by another program, raises
:class:`~codomyrmex_jupyter.errors.StoreError` naming the file, and is never
written to. Values are stored as JSON (bytes as base64); there is no pickle.

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
                       sessions, resources, tasks
``run_records``        per run, what comparing and repeating it needs: code
                       fingerprints, environment, cache keys, result summaries
                       (``engine/provenance.py``)
``code_sources``       source text by code fingerprint, shared by runs and cache
``cache_entries``      the step cache's index: key, size, last use, key parts
``cache_stats``        cache hits and misses per workflow

Schema changes are an ordered chain of small migrations (:data:`MIGRATIONS`),
each idempotent, so a file of any earlier version is brought up to date
inside the transaction that opens it.
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

from ..errors import NotStorableError, StoreError
from .step_table import pack_steps, unpack_steps

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Store",
    "decode_json",
    "default_config_dir",
    "encode_json",
    "encode_json_lenient",
]

APPLICATION_ID = 0x434F444F  # "CODO"
# SCHEMA_VERSION is the last step of MIGRATIONS (at the end of this module).
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
    metrics TEXT, session_id TEXT, host TEXT, pid INTEGER, steps_packed BLOB);
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
_CURRENT = (
    "SELECT w.name AS name, w.version AS version, v.definition AS definition, "
    "v.source AS source, v.origin AS origin, w.created_at AS created_at, w.updated_at AS updated_at "
    "FROM workflows w JOIN workflow_versions v ON v.name = w.name AND v.version = w.version"
)
_RUN_COLUMNS = (
    "run_id, workflow, version, status, start, end, parameters, errors, metrics, session_id, host, pid"
)
_OUR_TABLES = frozenset({
    "workflows", "workflow_versions", "runs", "steps", "documents",
    "run_records", "code_sources", "cache_entries", "cache_stats",
})


def default_config_dir() -> Path:
    """``$CODOMYRMEX_HOME`` if set, else ``~/.codomyrmex``."""
    env = os.environ.get("CODOMYRMEX_HOME")
    return Path(env).expanduser() if env else Path.home() / ".codomyrmex"


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

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path = self._resolve_path(path)
        self._lock = threading.RLock()
        self._conn = self._open()
        self.host = socket.gethostname()

    @staticmethod
    def _resolve_path(path: str | os.PathLike[str]) -> str:
        text = os.fspath(path)
        if text == ":memory:":
            return text
        p = Path(text).expanduser()
        if p.is_dir() or (not p.suffix and not p.exists()):
            p.mkdir(parents=True, exist_ok=True)
            p = p / DB_FILENAME
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
        return str(p)

    # -- opening -------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        existing = self.path != ":memory:" and Path(self.path).exists() and os.path.getsize(self.path) > 0
        uri = f"file:{self.path}?mode=rw" if existing else self.path
        try:
            conn = sqlite3.connect(
                uri, uri=existing, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open database {self.path}: {exc}", path=self.path) from exc
        try:
            self._check_identity(conn, existing)
            self._init(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(
                f"{self.path} is not a readable codomyrmex database ({exc}); it was left "
                "untouched: move it away or choose another config_dir",
                path=self.path,
            ) from exc
        except StoreError:
            conn.close()
            raise
        return conn

    def _check_identity(self, conn: sqlite3.Connection, existing: bool) -> None:
        if not existing:
            return
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id == APPLICATION_ID:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} was written by a newer codomyrmex_jupyter (schema {version}); "
                    "upgrade the package to read it",
                    path=self.path,
                )
            return
        if app_id != 0 or (tables - _OUR_TABLES) or (tables and not tables <= _OUR_TABLES):
            raise StoreError(
                f"{self.path} is a database of another program; it was left untouched: "
                "choose another config_dir",
                path=self.path,
            )

    def _init(self, conn: sqlite3.Connection) -> None:
        if self.path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            _migrate(conn)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

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
            self._conn.close()

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
    ) -> None:
        """Record that a run started."""
        params = encode_json_lenient(parameters)[0]
        with self._write() as conn:
            conn.execute(
                "INSERT INTO runs(run_id, workflow, version, status, start, parameters, "
                "session_id, host, pid) VALUES(?,?,?,?,?,?,?,?,?)",
                (run_id, workflow, version, "running", start, params, session_id, self.host, os.getpid()),
            )

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

    def _run_row(self, row: dict[str, Any]) -> dict[str, Any]:
        for key in ("parameters", "errors", "metrics"):
            row[key] = decode_json(row[key])
        row.pop("steps_packed", None)
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

    def get_run(self, run_id: str, *, with_steps: bool = True) -> dict[str, Any] | None:
        """One run (with its step rows), or ``None``. A unique id prefix works too."""
        rows = self._read("SELECT * FROM runs WHERE run_id=?", (run_id,))
        if not rows and len(run_id) >= 4:
            rows = self._read(
                "SELECT * FROM runs WHERE run_id LIKE ? LIMIT 2", (run_id.replace("%", "") + "%",)
            )
            if len(rows) != 1:
                return None
        if not rows:
            return None
        packed = rows[0].get("steps_packed")
        run = self._run_row(rows[0])
        if with_steps:
            run["steps"] = self._steps_of(run["run_id"], packed)
        return run

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


def _add_packed_steps(conn: sqlite3.Connection) -> None:
    """Schema 2: every step's state, times and attempts packed on the run's row."""
    if "steps_packed" not in _columns(conn, "runs"):
        conn.execute("ALTER TABLE runs ADD COLUMN steps_packed BLOB")


def _single_definition_copy(conn: sqlite3.Connection) -> None:
    """Schema 2: the current definition lives once, in ``workflow_versions``."""
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


def _add_reproducibility(conn: sqlite3.Connection) -> None:
    """Run records, code sources and the step cache's index."""
    conn.execute(
        # Deleting a run deletes its record.
        "CREATE TABLE IF NOT EXISTS run_records(run_id TEXT PRIMARY KEY "
        "REFERENCES runs(run_id) ON DELETE CASCADE, record TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS code_sources(fingerprint TEXT PRIMARY KEY, "
        "source TEXT NOT NULL, created_at REAL NOT NULL) WITHOUT ROWID"
    )
    conn.execute(
        "CREATE TABLE IF NOT EXISTS cache_entries(key TEXT PRIMARY KEY, workflow TEXT NOT NULL, "
        "step TEXT NOT NULL, parts TEXT NOT NULL, size INTEGER NOT NULL, created_at REAL NOT NULL, "
        "last_used REAL NOT NULL, hits INTEGER NOT NULL DEFAULT 0)"
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS cache_by_step ON cache_entries(workflow, step, created_at)"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS cache_by_use ON cache_entries(last_used)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS cache_stats(workflow TEXT PRIMARY KEY, "
        "hits INTEGER NOT NULL, misses INTEGER NOT NULL)"
    )


# (schema version the file has after the step, step). Applied in order to a
# file whose ``user_version`` is below the step's version; every step checks
# before it changes anything, so a chain merged from several branches, or run
# on a file another step already changed, stays safe.
MIGRATIONS: tuple[tuple[int, Callable[[sqlite3.Connection], None]], ...] = (
    (2, _add_packed_steps),
    (2, _single_definition_copy),
    (3, _add_reproducibility),
)
SCHEMA_VERSION = max(version for version, _ in MIGRATIONS)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the file up to :data:`SCHEMA_VERSION` (inside the opening transaction)."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for version, step in MIGRATIONS:
        if current < version:
            step(conn)


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
