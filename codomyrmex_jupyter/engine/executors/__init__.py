"""Executors run step callables: locally (default) or on a Dask cluster."""

from .base import Cancellable, DoneCallback, Executor
from .local import LocalExecutor

__all__ = ["Cancellable", "DoneCallback", "Executor", "LocalExecutor"]
