"""Shared fixtures: every test gets its own config dir and fresh singletons."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point ``$CODOMYRMEX_HOME`` at a temporary directory and reset singletons."""
    home = tmp_path / "codomyrmex-home"
    monkeypatch.setenv("CODOMYRMEX_HOME", str(home))
    from codomyrmex_jupyter.api.accessors import reset_singletons

    reset_singletons()
    yield home
    reset_singletons()


@pytest.fixture
def registry():
    """An empty action registry (no built-ins, no entry points)."""
    from codomyrmex_jupyter.engine.actions import ActionRegistry

    return ActionRegistry(load_builtins=False, load_entry_points=False)


@pytest.fixture
def manager(tmp_path: Path):
    """A WorkflowManager on a fresh SQLite file with fast retries."""
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager

    m = WorkflowManager(config_dir=tmp_path / "wm", retry_backoff=0.01)
    yield m
    m.close()


@pytest.fixture(scope="session")
def dask_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A ``dask scheduler`` and two ``dask worker`` processes on loopback (one declares GPU=1)."""
    pytest.importorskip("distributed")
    from dask_processes import DaskProcesses

    cluster = DaskProcesses(tmp_path_factory.mktemp("dask-cluster"))
    try:
        cluster.start({"gpu-worker": {"GPU": 1}, "cpu-worker": {}})
        yield cluster
    finally:
        cluster.stop()
