"""Executors run step callables: locally (default) or on a Dask cluster."""

from __future__ import annotations

from typing import Any

from ...errors import ArgumentError, ArgumentTypeError
from .base import Cancellable, DoneCallback, Executor
from .local import LocalExecutor

__all__ = ["Cancellable", "DoneCallback", "Executor", "LocalExecutor", "make_executor"]


def make_executor(spec: Any) -> Executor | None:
    """Build an executor from ``None``/``"local"``, ``"dask://HOST:PORT"``,
    ``"dask-local"`` (this process's ``LocalCluster``, started on first use),
    a ``distributed.Client``, or an executor object (returned as is)."""
    if spec is None or spec == "local":
        return None
    if isinstance(spec, str):
        if spec == "dask-local":
            from .dask_local import local_cluster_executor

            return local_cluster_executor()  # type: ignore[no-any-return]
        if spec.startswith(("dask://", "tcp://")):
            from .dask import DaskExecutor

            return DaskExecutor(spec)
        raise ArgumentError(
            f"unknown executor {spec!r}; use 'local', 'dask-local' or 'dask://HOST:PORT'", argument="executor"
        )
    if hasattr(spec, "submit") and hasattr(spec, "aclose"):
        return spec  # type: ignore[no-any-return]
    if type(spec).__name__ == "Client":
        from .dask import DaskExecutor

        return DaskExecutor(spec)
    raise ArgumentTypeError(
        f"executor {spec!r:.40} is a {type(spec).__name__}, which cannot run steps; "
        "pass 'local', 'dask://HOST:PORT' or a Client",
        argument="executor",
    )
