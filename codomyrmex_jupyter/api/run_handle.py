"""A handle to a workflow run started in the background."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from .. import runtime
from .workflow_models import WorkflowExecution, WorkflowStatus

if TYPE_CHECKING:
    from .workflow_manager import WorkflowManager

__all__ = ["RunHandle"]


class RunHandle:
    """A run going on in the background: watch it, wait for it, cancel it.

    ``handle.status`` and ``handle.execution`` are live; ``handle.result()``
    blocks until the end and returns the :class:`WorkflowExecution`;
    ``await handle`` does the same without blocking a running loop;
    ``handle.cancel()`` cancels the run (its steps are cancelled and the run
    is recorded ``cancelled``).
    """

    def __init__(
        self, manager: WorkflowManager, run_id: str, workflow: str, task: runtime.BackgroundTask
    ) -> None:
        self.manager = manager
        self.run_id = run_id
        self.workflow = workflow
        self._task = task

    @property
    def execution(self) -> WorkflowExecution | None:
        """The live execution (``None`` until the run has been set up)."""
        return self.manager.get_execution(self.run_id)

    @property
    def status(self) -> WorkflowStatus:
        """Current status of the run."""
        ex = self.execution
        if ex is None:
            return WorkflowStatus.PENDING
        ex.sync_from_run()
        return ex.status

    def done(self) -> bool:
        """The run has ended."""
        return self._task.done()

    def cancel(self) -> bool:
        """Cancel the run; True if it was still going."""
        if self._task.done():
            return False
        if not self.manager.cancel_execution(self.run_id):
            self._task.cancel()
        return True

    def result(self, timeout: float | None = None) -> WorkflowExecution:
        """Wait for the run to end and return its execution."""
        return self._task.result(timeout)  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, WorkflowExecution]:
        return self._task.__await__()

    def __repr__(self) -> str:
        return f"<RunHandle {self.workflow} {self.run_id[:8]} {self.status.value}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        ex = self.execution
        if ex is None:
            return {"text/plain": repr(self)}
        return ex._repr_mimebundle_(include, exclude)
