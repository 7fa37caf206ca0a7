"""Which store the server reads, and opening it without creating anything.

The server finds the store a kernel started in its root folder would find,
with the package's own resolution (:func:`~codomyrmex_jupyter.engine.home.locate_config_dir`
with the root folder as working directory: ``$CODOMYRMEX_HOME``, else the
nearest ``.codomyrmex/`` in the root folder or its parents, else
``~/.codomyrmex``), looked up again on every request so a store created
after the server started (``%orchestrate init``) is seen. A notebook in a
subfolder with a ``.codomyrmex/`` of its own uses that one; the server shows
the root folder's. A store that does not exist yet is an empty history: the server never
creates one. A file that is not a codomyrmex database raises
:class:`~codomyrmex_jupyter.errors.StoreError` and is left untouched (the
store's own check, before anything is written).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from ..engine.home import locate_config_dir
from ..engine.store import DB_FILENAME, Store

__all__ = ["StoreAccess"]


class StoreAccess:
    """Open stores by database path, reopened when the file is replaced.

    Parameters
    ----------
    root_dir:
        The server's root folder: where its kernels start.
    """

    def __init__(self, root_dir: str | os.PathLike[str]) -> None:
        self.root_dir = Path(root_dir).expanduser().resolve()
        self._open: dict[str, tuple[tuple[int, int], Store]] = {}
        self._lock = threading.Lock()

    def db_path(self) -> Path:
        """The database file a kernel started in the root folder would use."""
        return locate_config_dir(cwd=self.root_dir).path / DB_FILENAME

    def describe(self) -> str:
        """The database path, for the server log."""
        return str(self.db_path())

    def store(self) -> Store | None:
        """The open store, or ``None`` while no database file exists."""
        path = self.db_path()
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        identity = (stat.st_dev, stat.st_ino)
        key = str(path)
        with self._lock:
            cached = self._open.get(key)
            if cached is not None and cached[0] == identity:
                return cached[1]
            if cached is not None:
                cached[1].close()
                del self._open[key]
            if stat.st_size == 0:
                return None  # being created by a kernel right now
            store = Store(path)
            self._open[key] = (identity, store)
            return store

    def close(self) -> None:
        """Close every open store."""
        with self._lock:
            for _, store in self._open.values():
                store.close()
            self._open.clear()
