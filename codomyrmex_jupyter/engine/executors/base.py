"""The executor protocol: how the runner hands a call to whatever runs it.

The runner never runs a callable itself. It calls :meth:`Executor.submit`
with the resolved action, its keyword arguments and a completion callback;
the executor must call ``done(ok, value)`` exactly once, on the run's event
loop thread, where ``value`` is the return value or the exception raised.
``submit`` returns a handle whose ``cancel()`` stops the call if it can.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..actions import ActionSpec

__all__ = ["Cancellable", "DoneCallback", "Executor"]

DoneCallback = Callable[[bool, Any], None]


class Cancellable(Protocol):
    """A handle to a submitted call."""

    def cancel(self) -> Any:
        """Stop the call if possible; a finished or unstoppable call is left alone."""


class Executor(Protocol):
    """Runs step callables for one or more runs."""

    name: str

    def submit(self, spec: ActionSpec, kwargs: dict[str, Any], done: DoneCallback) -> Cancellable:
        """Start ``spec.fn(**kwargs)``; report through ``done`` on the loop thread."""

    async def aclose(self) -> None:
        """Release what the executor holds for a run (called once per run)."""
