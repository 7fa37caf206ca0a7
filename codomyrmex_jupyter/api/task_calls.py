"""Starting one action call on the running event loop, for tasks.

An async action becomes an asyncio task; a sync one runs on a runtime worker
thread and completes an asyncio future through the loop's
:class:`~codomyrmex_jupyter.runtime.Inbox`. Cancelling the future before the
worker picks the job up drops the job; a job already running finishes on its
own (threads cannot be interrupted) and its late result is ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .. import runtime
from ..engine.actions import ActionSpec

__all__ = ["settle", "start_call"]


def start_call(
    spec: ActionSpec, kwargs: dict[str, Any], inbox: runtime.Inbox | None = None
) -> asyncio.Future[Any]:
    """Start ``spec(**kwargs)`` on the running loop and return its future.

    ``inbox`` delivers sync completions to the loop; a new one is made when
    omitted (one per caller is enough: it batches completions).
    """
    if spec.is_async:
        task: asyncio.Future[Any] = asyncio.ensure_future(spec.fn(**kwargs))
        return task
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    job = runtime.worker_pool().submit(
        spec.fn, kwargs, inbox if inbox is not None else runtime.Inbox(loop), settle(future)
    )
    future.add_done_callback(lambda f: job.cancel() if f.cancelled() else None)
    return future


def settle(future: asyncio.Future[Any]) -> Callable[[bool, Any], None]:
    """A worker-pool callback that completes ``future`` (on the loop thread)."""

    def callback(ok: bool, value: Any) -> None:
        if future.done():
            return  # timed out or cancelled: the late result is ignored
        if ok:
            future.set_result(value)
        elif isinstance(value, Exception):
            future.set_exception(value)
        else:
            future.set_exception(RuntimeError(f"action raised {type(value).__name__}"))

    return callback
