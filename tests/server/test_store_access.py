"""The server's store: found as a kernel in its root folder finds it, never created, reopened when replaced."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codomyrmex_jupyter.engine.store import DB_FILENAME, Store
from codomyrmex_jupyter.server.store_access import StoreAccess


def test_the_root_folders_project_store_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODOMYRMEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    root = tmp_path / "project" / "notebooks"
    root.mkdir(parents=True)
    access = StoreAccess(root)
    assert access.db_path() == tmp_path / "home" / ".codomyrmex" / DB_FILENAME
    assert access.store() is None and not (tmp_path / "home").exists()  # nothing created
    (tmp_path / "project" / ".codomyrmex").mkdir()  # %orchestrate init in a parent, after the server started
    assert access.db_path() == tmp_path / "project" / ".codomyrmex" / DB_FILENAME


def test_env_wins_and_a_replaced_file_is_reopened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "h"
    monkeypatch.setenv("CODOMYRMEX_HOME", str(home))
    access = StoreAccess(tmp_path)
    writer = Store(home)
    writer.save_workflow("a", [{"name": "s"}])
    first = access.store()
    assert first is not None and first is access.store()  # cached
    writer.close()
    os.replace(home / DB_FILENAME, tmp_path / "old.sqlite3")
    for suffix in ("-wal", "-shm"):
        (home / (DB_FILENAME + suffix)).unlink(missing_ok=True)
    Store(home).close()  # a new, empty store in its place
    second = access.store()
    assert second is not None and second is not first
    assert second.list_workflows() == []
    access.close()
