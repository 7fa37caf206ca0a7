"""Opening the SQLite file: is it ours, create it if new, and do so safely from many processes.

The rules
---------
* A file is ours when its ``application_id`` header field is ours. Its
  schema version may be older (it is migrated) but not newer (refused: a
  newer package wrote it).
* A file that is empty (0 bytes, or just created) becomes ours: the schema,
  the application id and the version are written in ONE transaction, so no
  other process ever sees a half-made store.
* Anything else (another program's SQLite file, even one whose tables have
  our names; a file that is not SQLite) is refused with a
  :class:`~codomyrmex_jupyter.errors.StoreError` naming it, before a single
  byte of it is written. Only after the file is known to be ours is it
  switched to WAL.
* Several processes may open a new store at the same moment. Each takes the
  write lock (``BEGIN IMMEDIATE``) before it looks, so one creates and the
  others find it made. SQLite answers "database is locked" without waiting
  in a few of these moves (a change of journal mode, a WAL being set up by
  another connection), so a locked open is retried, with backoff, until a
  bounded wait has passed.
* Every filesystem problem (a directory that cannot be made, a read-only
  file system, a file that cannot be opened) is a ``StoreError`` naming the
  path and what to do.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import StoreError

__all__ = ["OPEN_TIMEOUT", "open_database", "prepare_directory"]

OPEN_TIMEOUT = 30.0
# SQLITE_BUSY and SQLITE_LOCKED (extended codes share the low byte)
_BUSY_CODES = frozenset({5, 6})
_FIX = "set CODOMYRMEX_HOME or pass config_dir= a writable directory"

# init(conn, version): create (version 0) or migrate the schema, inside the open transaction
Init = Callable[[sqlite3.Connection, int], None]


def prepare_directory(directory: Path) -> None:
    """Create ``directory`` (and its parents) or raise a ``StoreError`` saying why not."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the directory {directory}: {exc.strerror or exc}; {_FIX}",
            path=str(directory),
        ) from exc


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def open_database(
    path: str,
    *,
    application_id: int,
    schema_version: int,
    init: Init,
    timeout: float = OPEN_TIMEOUT,
) -> sqlite3.Connection:
    """Open ``path`` (or ``":memory:"``), making sure it is ours; retry while it is locked.

    Raises
    ------
    StoreError
        The file belongs to another program, is not SQLite, was written by a
        newer version, cannot be opened or created, or stayed locked for
        ``timeout`` seconds. It is left untouched in every case.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            return _open_once(path, application_id, schema_version, init, timeout)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise _open_error(path, exc) from exc
            if time.monotonic() + delay > deadline:
                raise StoreError(
                    f"{path} stayed locked by another process for {timeout:g}s; "
                    "close the other program or kernel using it, then try again",
                    path=path,
                ) from exc
        except sqlite3.DatabaseError as exc:
            raise _open_error(path, exc) from exc
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc.strerror or exc}; {_FIX}", path=path) from exc
        # jitter: processes that collided once should not collide again in step
        time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - timing jitter, not security
        delay = min(delay * 2, 0.2)


def _open_error(path: str, exc: sqlite3.Error) -> StoreError:
    text = str(exc)
    if "unable to open" in text or "readonly" in text or "read-only" in text:
        return StoreError(f"cannot open or write {path} ({text}); {_FIX}", path=path)
    return StoreError(
        f"{path} is not a readable codomyrmex database ({text}); it was left untouched: "
        "move it away or choose another config_dir",
        path=path,
    )


def _open_once(
    path: str, application_id: int, schema_version: int, init: Init, timeout: float
) -> sqlite3.Connection:
    memory = path == ":memory:"
    empty = memory or not os.path.exists(path) or os.path.getsize(path) == 0
    # An existing file is opened read-write without create: it is never replaced.
    uri = f"file:{path}?mode=rw" if not empty else path
    conn = sqlite3.connect(
        uri, uri=not empty, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("BEGIN IMMEDIATE")  # the write lock first: looking and creating are one step
        try:
            _claim(conn, path, empty=empty, application_id=application_id,
                   schema_version=schema_version, init=init)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if not memory:
            conn.execute("PRAGMA journal_mode=WAL")  # only once the file is known to be ours
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _claim(
    conn: sqlite3.Connection,
    path: str,
    *,
    empty: bool,
    application_id: int,
    schema_version: int,
    init: Init,
) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id == application_id:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > schema_version:
            raise StoreError(
                f"{path} was written by a newer codomyrmex_jupyter (schema {version}); "
                "upgrade the package to read it",
                path=path,
            )
        if version < schema_version:
            init(conn, version)
        return
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id == 0 and tables == 0 and empty:
        init(conn, 0)
        return
    owner = f"application id {app_id:#x}" if app_id else f"{tables} object(s) of its own"
    raise StoreError(
        f"{path} is a database of another program ({owner}); it was left untouched: "
        "choose another config_dir",
        path=path,
    )
