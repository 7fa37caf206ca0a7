"""The one place that owns background event loops and threads.

Everything else asks this module: the engine's local executor gets its worker
threads here, the synchronous API facades run coroutines here, and background
runs (``--background``) live on the loop thread started here.

Why a loop thread: inside a Jupyter kernel the main thread's loop is already
running, so ``asyncio.run`` and ``run_until_complete`` fail there. A sync call
therefore hands its coroutine to a private loop on a daemon thread and waits
for the result (about 64 us per round trip: fine once per run, not per step).
``nest-asyncio2`` (the maintained fork of ``nest_asyncio`` that ipykernel uses)
is the opt-in alternative (:func:`set_loop_mode`); it is never applied at
import because it slows every asyncio task in the process.

Worker threads run synchronous step callables. Their completions are handed
back to the event loop in batches: one ``call_soon_threadsafe`` wakes the loop
for every completion that arrived since the last wake-up, instead of one per
step, which is what keeps sync steps cheaper than a thread hand-off each.

This module imports only the standard library (and the package's leaf
``errors`` module).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Literal, TypeVar

from .errors import ArgumentError

__all__ = [
    "BackgroundTask",
    "Inbox",
    "LoopMode",
    "WorkerPool",
    "background_loop",
    "every",
    "get_loop_mode",
    "in_loop_thread",
    "process_pool",
    "run_in_this_thread",
    "run_sync",
    "set_loop_mode",
    "shutdown",
    "spawn",
    "worker_pool",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
LoopMode = Literal["thread", "nested"]
Completion = tuple[Callable[[bool, Any], None], bool, Any]

_lock = threading.RLock()
_mode: LoopMode = "thread"


class Inbox:
    """Completions from worker threads, delivered to one loop in batches."""

    __slots__ = ("_items", "_lock", "_scheduled", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._items: deque[Completion] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def put(self, callback: Callable[[bool, Any], None], ok: bool, value: Any) -> None:
        """Queue ``callback(ok, value)`` to run on the loop (from any thread)."""
        with self._lock:
            self._items.append((callback, ok, value))
            if self._scheduled:
                return
            self._scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._drain)
        except RuntimeError:  # the loop closed: its run is gone, nobody waits
            log.debug("dropping a step completion for a closed loop")

    def _drain(self) -> None:
        with self._lock:
            items, self._items = self._items, deque()
            self._scheduled = False
        for callback, ok, value in items:
            try:
                callback(ok, value)
            except Exception:  # one broken completion must not drop the rest of the batch
                log.exception("a step completion callback failed")


class _Job:
    """One call on a worker thread; its handle for the caller.

    ``started`` is the ``time.monotonic()`` at which a worker began the call
    (``None`` while it waits in the queue): step timeouts count from it.
    """

    __slots__ = ("_after", "_lock", "callback", "cancelled", "fn", "inbox", "kwargs", "returned", "started")

    def __init__(
        self,
        fn: Callable[..., Any],
        kwargs: dict[str, Any],
        inbox: Inbox,
        callback: Callable[[bool, Any], None],
        lock: threading.Lock,
    ) -> None:
        self.fn = fn
        self.kwargs = kwargs
        self.inbox = inbox
        self.callback = callback
        self.cancelled = False
        self.started: float | None = None
        self.returned = False
        self._lock = lock
        self._after: list[Callable[[], Any]] = []

    def cancel(self) -> bool:
        """Drop the job if it has not started; a started call runs to its end."""
        self.cancelled = True
        return True

    def withdraw(self) -> bool:
        """Cancel the job; True if it never started (and so never will)."""
        with self._lock:
            self.cancelled = True
            return self.started is None

    def when_returned(self, fn: Callable[[], Any]) -> bool:
        """Call ``fn()`` (on the worker thread) once a call that has started returns.

        Returns False, without calling ``fn``, when the call never started
        (and never will, if it was cancelled) or has already returned.
        """
        with self._lock:
            if self.started is None or self.returned:
                return False
            self._after.append(fn)
            return True


class WorkerPool:
    """A grow-on-demand pool of daemon threads running sync step callables.

    Parameters
    ----------
    max_workers:
        Upper bound on threads (default ``min(32, cpu_count + 4)``).
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def submit(
        self,
        fn: Callable[..., Any],
        kwargs: dict[str, Any],
        inbox: Inbox,
        callback: Callable[[bool, Any], None],
    ) -> _Job:
        """Run ``fn(**kwargs)`` on a worker; ``callback(ok, value)`` runs on the inbox's loop."""
        if self._closed:
            raise RuntimeError("the worker pool is shut down")
        job = _Job(fn, kwargs, inbox, callback, self._lock)
        self._queue.put(job)
        self._grow()
        return job

    def _grow(self) -> None:
        with self._lock:
            if self._idle > 0:  # an idle worker will take the job
                self._idle -= 1
                return
            if len(self._threads) >= self.max_workers:  # it waits in the queue
                return
            t = threading.Thread(
                target=self._work, name=f"codomyrmex-worker-{len(self._threads)}", daemon=True
            )
            self._threads.append(t)
        t.start()

    def _work(self) -> None:
        get, lock, monotonic = self._queue.get, self._lock, time.monotonic
        while True:
            job = get()
            if job is None:
                return
            with lock:  # against when_returned: a job is either skipped or seen started
                run = not job.cancelled
                if run:
                    job.started = monotonic()
            if run:
                try:
                    value, ok = job.fn(**job.kwargs), True
                except BaseException as exc:  # noqa: BLE001 - reported to the run as the step's failure
                    value, ok = exc, False
                job.inbox.put(job.callback, ok, value)
            with lock:
                self._idle += 1
                job.returned = True
                after, job._after = job._after, []
            for fn in after:  # e.g. the resources of a timed-out step, released only now
                try:
                    fn()
                except Exception:  # the worker must survive whatever a hook does
                    log.exception("a hook after a returned call failed")

    @property
    def threads(self) -> int:
        """Threads started so far."""
        return len(self._threads)

    def shutdown(self, wait: bool = True) -> None:
        """Stop every worker after the jobs already queued."""
        self._closed = True
        for _ in self._threads:
            self._queue.put(None)
        if wait:
            for t in self._threads:
                t.join(timeout=5)
        self._threads.clear()


class BackgroundTask:
    """A coroutine running on the loop thread, usable from any thread.

    ``result()`` blocks, ``await task`` waits without blocking the caller's
    loop, ``cancel()`` asks the coroutine to stop and ``result()`` then waits
    for its clean-up before returning or raising.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> None:
        self._loop = loop
        self._future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._task: asyncio.Task[Any] | None = None
        self._started = threading.Event()
        loop.call_soon_threadsafe(self._start, coro)

    def _start(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._task = self._loop.create_task(coro)
        self._task.add_done_callback(self._settle)
        self._started.set()

    def _settle(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            self._future.set_exception(concurrent.futures.CancelledError())
        elif (exc := task.exception()) is not None:
            self._future.set_exception(exc)
        else:
            self._future.set_result(task.result())

    def cancel(self) -> None:
        """Cancel the coroutine (thread-safe); it still finishes its clean-up."""
        def _cancel() -> None:
            if self._task is not None:
                self._task.cancel()

        self._started.wait(5)
        self._loop.call_soon_threadsafe(_cancel)

    def done(self) -> bool:
        """The coroutine has finished (result, error or cancelled)."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        """Wait for and return the coroutine's result (re-raises its exception)."""
        return self._future.result(timeout)

    def add_done_callback(self, fn: Callable[[concurrent.futures.Future[Any]], Any]) -> None:
        """Call ``fn(future)`` from whichever thread finishes the task."""
        self._future.add_done_callback(fn)

    def __await__(self) -> Generator[Any, None, Any]:
        return asyncio.wrap_future(self._future).__await__()


class _LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="codomyrmex-loop", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def stop(self) -> None:
        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self.loop.is_closed():
            return
        fut = asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop)
        try:
            fut.result(timeout=10)
        except (concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
            log.warning("background tasks did not stop within 10s")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()


_loop_thread: _LoopThread | None = None
_pool: WorkerPool | None = None
_process_pool: concurrent.futures.ProcessPoolExecutor | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The loop running on this module's daemon thread (started on first use)."""
    global _loop_thread  # noqa: PLW0603 - process-wide by design
    with _lock:
        if _loop_thread is None or not _loop_thread.thread.is_alive():
            _loop_thread = _LoopThread()
        return _loop_thread.loop


def in_loop_thread() -> bool:
    """True when called on the background loop's own thread."""
    lt = _loop_thread
    return lt is not None and threading.current_thread() is lt.thread


def worker_pool() -> WorkerPool:
    """The process-wide pool for sync step callables."""
    global _pool  # noqa: PLW0603 - process-wide by design
    with _lock:
        if _pool is None or _pool._closed:
            _pool = WorkerPool()
        return _pool


def process_pool() -> concurrent.futures.ProcessPoolExecutor:
    """The process-wide process pool for steps registered with ``process=True``."""
    global _process_pool  # noqa: PLW0603 - process-wide by design
    with _lock:
        if _process_pool is None:
            _process_pool = concurrent.futures.ProcessPoolExecutor()
        return _process_pool


def every(interval: float, fn: Callable[[], Any], *, name: str = "codomyrmex-ticker") -> Callable[[], None]:
    """Call ``fn()`` every ``interval`` seconds on a daemon thread; return the function that stops it.

    ``fn`` may block (a database write waiting for a lock) without delaying
    any event loop. An exception is logged and the ticking goes on.
    """
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            try:
                fn()
            except Exception:  # logged; the next tick tries again
                log.exception("periodic call %r failed", fn)

    threading.Thread(target=tick, name=name, daemon=True).start()
    return stop.set


def spawn(coro: Coroutine[Any, Any, T]) -> BackgroundTask:
    """Run ``coro`` on the background loop and return its handle at once."""
    return BackgroundTask(background_loop(), coro)


def set_loop_mode(mode: LoopMode) -> None:
    """Choose how sync entry points run coroutines inside a running loop.

    ``"thread"`` (default) uses the background loop thread. ``"nested"``
    applies ``nest_asyncio2`` once and runs them on the caller's own loop.
    """
    global _mode  # noqa: PLW0603 - process-wide by design
    if mode not in ("thread", "nested"):
        raise ArgumentError(f"unknown loop mode {mode!r}; use 'thread' or 'nested'", argument="mode")
    if mode == "nested":
        _apply_nest_asyncio()
    _mode = mode


def get_loop_mode() -> LoopMode:
    """The current loop mode (see :func:`set_loop_mode`)."""
    return _mode


def _apply_nest_asyncio() -> None:
    try:
        import nest_asyncio2
    except ImportError as exc:  # a declared dependency, but an environment may lack it
        raise RuntimeError(
            "loop mode 'nested' needs nest-asyncio2: pip install nest-asyncio2"
        ) from exc
    nest_asyncio2.apply()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def run_sync(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` to completion from synchronous code and return its result.

    Works with or without a running loop in the calling thread. On
    ``KeyboardInterrupt`` the coroutine is cancelled, its clean-up is awaited
    (up to 10 s), and the interrupt is re-raised.
    """
    if in_loop_thread():
        coro.close()
        raise RuntimeError(
            "a synchronous call was made from the engine's own loop thread; "
            "use the async API (await ...) inside steps"
        )
    running = _running_loop()
    if running is not None and _mode == "nested":
        return _run_nested(running, coro)
    task = spawn(coro)
    try:
        return task.result(timeout)  # type: ignore[no-any-return]
    except KeyboardInterrupt:
        task.cancel()
        try:
            task.result(timeout=10)
        except BaseException as exc:  # noqa: BLE001 - the cancellation we asked for, or its clean-up error
            log.debug("run cancelled after interrupt: %r", exc)
        raise
    except concurrent.futures.TimeoutError:
        task.cancel()
        raise


def run_in_this_thread(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion on a private loop in the calling thread.

    For a debugger, which traces one thread: ``run_sync`` would run the
    coroutine on the loop thread. A loop running in this thread (the
    kernel's, paused while a cell runs) is set aside meanwhile and restored
    after, since asyncio refuses to start a loop inside a running one.
    """
    outer = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
        asyncio.events._set_running_loop(outer)


def _run_nested(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        # Let the cancelled run record itself before the interrupt goes on.
        task.cancel()
        try:
            loop.run_until_complete(task)
        except BaseException as exc:  # noqa: BLE001 - the cancellation we asked for
            log.debug("nested run cancelled after interrupt: %r", exc)
        raise


def shutdown() -> None:
    """Stop the loop thread and the pools; safe to call more than once."""
    global _loop_thread, _pool, _process_pool  # noqa: PLW0603 - process-wide by design
    with _lock:
        lt, pool, ppool = _loop_thread, _pool, _process_pool
        _loop_thread = _pool = _process_pool = None
    if lt is not None:
        lt.stop()
    if pool is not None:
        pool.shutdown()
    if ppool is not None:
        ppool.shutdown(cancel_futures=True)


atexit.register(shutdown)
