"""The default executor: nothing to start, three ways to run a callable.

* coroutine functions start eagerly (see ``eager``): one that finishes
  without suspending costs no task at all; one that suspends continues in a
  task on the run's loop, with the completion callback attached to it;
* plain functions go to the runtime's worker threads, whose completions come
  back to the loop in batches;
* functions registered with ``process=True`` go to the runtime's process pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ... import runtime
from ..actions import ActionSpec
from .base import Cancellable, DoneCallback
from .eager import start_eagerly

__all__ = ["LocalExecutor"]


def _task_done(done: DoneCallback, tasks: set[asyncio.Task[Any]] | None = None) -> Any:
    # One done-callback per task: each extra callback costs a loop iteration.
    def callback(task: asyncio.Task[Any]) -> None:
        if tasks is not None:
            tasks.discard(task)
        if task.cancelled():
            done(False, asyncio.CancelledError())
            return
        exc = task.exception()
        if exc is None:
            done(True, task.result())
        else:
            done(False, exc)

    return callback


class LocalExecutor:
    """Run steps in this process (asyncio tasks, worker threads or processes).

    Parameters
    ----------
    loop:
        The run's event loop; defaults to the running loop at first submit.
    pool:
        Worker threads for sync callables; defaults to the runtime's pool.
    """

    name = "local"

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop | None = None,
        pool: runtime.WorkerPool | None = None,
    ) -> None:
        self._loop = loop
        self._pool = pool
        self._inbox: runtime.Inbox | None = None
        self.tasks: set[asyncio.Task[Any]] = set()

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def use_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Run later calls on ``loop`` (a run served again on a new loop)."""
        self._loop = loop
        self._inbox = None

    def submit(self, spec: ActionSpec, kwargs: dict[str, Any], done: DoneCallback) -> Cancellable:
        """Start one call; see :class:`~.base.Executor`."""
        loop = self._bind_loop()
        if spec.is_async:
            handle = start_eagerly(loop, spec.fn(**kwargs), done)
            if isinstance(handle, asyncio.Task):  # it suspended: a task drives it now
                self.tasks.add(handle)
                handle.add_done_callback(_task_done(done, self.tasks))
            return handle
        if spec.process:
            fut = loop.run_in_executor(runtime.process_pool(), _call_kwargs, spec.fn, kwargs)
            fut.add_done_callback(_task_done(done))
            return fut
        if self._inbox is None:
            self._inbox = runtime.Inbox(loop)
        pool = self._pool or runtime.worker_pool()
        return pool.submit(spec.fn, kwargs, self._inbox, done)

    async def aclose(self) -> None:
        """Wait for cancelled asyncio tasks to finish their clean-up."""
        pending = [t for t in self.tasks if not t.done()]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def _call_kwargs(fn: Any, kwargs: dict[str, Any]) -> Any:
    return fn(**kwargs)
