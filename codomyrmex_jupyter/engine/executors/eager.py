"""Start a coroutine eagerly: run it up to its first suspension right away.

Most of the cost of a short async step is the task: creating it, one loop
iteration to start it and one to run its done-callback. A coroutine that
finishes without ever suspending needs none of that. So the executor runs the
coroutine's first segment immediately, in a fresh copy of the context as a
task would; if it finishes, the result is reported at once; if it suspends,
a task takes over from exactly where it stopped (the awaitable it yielded
is handed to the task, which waits on it as if it had started the coroutine
itself). This is what Python 3.12's eager task factory does, for 3.11+.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Generator
from typing import Any

from .base import Cancellable, DoneCallback

__all__ = ["FINISHED", "start_eagerly"]


class _Finished:
    """The handle of a call that already ended: nothing to cancel."""

    __slots__ = ()

    def cancel(self) -> bool:
        return False


FINISHED = _Finished()


class _Resume:
    """Awaitable that continues a coroutine which already yielded ``first``."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - passed on to the coroutine (cancel, errors)
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


async def _continue(resume: _Resume) -> Any:
    return await resume


def start_eagerly(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, Any],
    done: DoneCallback,
) -> Cancellable:
    """Run ``coro`` until it suspends; if it ends there, report through ``done``.

    Returns :data:`FINISHED` when the coroutine ended in its first segment
    (``done`` was already called), else the task now driving it: the caller
    attaches its completion to that task.
    """
    context = contextvars.copy_context()
    try:
        first = context.run(coro.send, None)
    except StopIteration as stop:
        done(True, stop.value)
        return FINISHED
    except (Exception, asyncio.CancelledError) as exc:  # noqa: BLE001 - the step's own failure
        done(False, exc)
        return FINISHED
    return loop.create_task(_continue(_Resume(coro, first)), context=context)
