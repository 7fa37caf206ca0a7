"""Kernel side of the JupyterLab status item: the ``codomyrmex.status`` comm.

The JupyterLab extension shows a status-bar item such as
``codomyrmex: 2 running, 1 failed``. It learns what to show from this module
through a comm whose target name is :data:`TARGET_NAME`.

Protocol
--------
Kernel to frontend, on comm open (as the open data) and in every comm message::

    {"running": 2, "failed": 1, "completed": 4, "cancelled": 0,
     "runs": [{"run_id": "...", "workflow": "etl", "status": "running", "cached": 0}, ...]}

The counts cover every run the engine remembers (the latest event of each run,
see :meth:`~codomyrmex_jupyter.engine.events.RunEventHub.snapshot`); ``runs``
lists at most :data:`MAX_RECENT_RUNS` of them, most recent first, each with
the number of its steps taken from the step cache (``cached``, known once the
run has finished).

Frontend to kernel: ``{"request": "status"}`` as the open data of a
frontend-initiated comm (a page reload reconnects this way) or as a message on
any open comm; the kernel answers on that comm with the current status.

Both directions exist because either side may come first. The kernel opens a
comm itself when :func:`start_status_comm` runs (and again on the next run
event whenever no comm is left open), and registers the target so that a
frontend loaded later can open one.

Run events may arrive from any thread. Messages are throttled by
:class:`Throttle`: at most one every :data:`MIN_INTERVAL` seconds, and the last
change is always sent (a trailing send scheduled on the runtime's loop thread).
The message is built when it is sent, so it always reflects the latest state.

The message-building and throttling parts are pure and need neither a kernel
nor the engine; :func:`start_status_comm` wires them to ``comm`` and
:data:`~codomyrmex_jupyter.engine.events.run_events`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypedDict

__all__ = [
    "MAX_RECENT_RUNS",
    "MIN_INTERVAL",
    "TARGET_NAME",
    "RunSummary",
    "StatusMessage",
    "StatusPublisher",
    "Throttle",
    "build_status_message",
    "classify_event",
    "normalize_status_message",
    "start_status_comm",
    "stop_status_comm",
]

log = logging.getLogger(__name__)

TARGET_NAME = "codomyrmex.status"
"""Comm target name shared with the JupyterLab extension."""

MAX_RECENT_RUNS = 5
"""How many recent runs a status message lists."""

MIN_INTERVAL = 0.25
"""Minimum seconds between two throttled status messages (about 4 per second)."""

MAX_COMMS = 8
"""Open comms kept per kernel; the oldest is closed beyond this (stale page reloads)."""

COUNT_KEYS = ("running", "failed", "completed", "cancelled")
_FAILED = frozenset({"failed", "error", "errored", "timeout", "timed_out"})
_CANCELLED = frozenset({"cancelled", "canceled"})

Schedule = Callable[[float, Callable[[], None]], None]
"""``schedule(delay, fn)``: call ``fn()`` once, ``delay`` seconds from now, on any thread."""


class RunEventLike(Protocol):
    """What this module reads from a run event (``engine.events.RunEvent`` fits)."""

    @property
    def kind(self) -> str: ...  # pragma: no cover - protocol

    @property
    def run_id(self) -> str: ...  # pragma: no cover - protocol

    @property
    def workflow(self) -> str: ...  # pragma: no cover - protocol

    @property
    def status(self) -> str: ...  # pragma: no cover - protocol


class RunSummary(TypedDict):
    """One recent run in a status message."""

    run_id: str
    workflow: str
    status: str
    cached: int


class StatusMessage(TypedDict):
    """The message the kernel sends to the status item."""

    running: int
    failed: int
    completed: int
    cancelled: int
    runs: list[RunSummary]


def classify_event(event: RunEventLike) -> str:
    """Return the count bucket of a run's latest event.

    Parameters
    ----------
    event : RunEventLike
        The latest event of one run.

    Returns
    -------
    str
        ``"running"`` for a started run, else ``"failed"``, ``"cancelled"``
        or ``"completed"`` from the finished run's status.
    """
    if event.kind != "run_finished":
        return "running"
    status = event.status.lower()
    if status in _FAILED:
        return "failed"
    if status in _CANCELLED:
        return "cancelled"
    return "completed"


def build_status_message(events: Iterable[RunEventLike], max_runs: int = MAX_RECENT_RUNS) -> StatusMessage:
    """Build a status message from the latest event of each run.

    Parameters
    ----------
    events : iterable of RunEventLike
        One event per run, oldest first (as ``run_events.snapshot()`` returns).
        When a run appears twice, its last event wins.
    max_runs : int, optional
        How many runs to list in ``runs``.

    Returns
    -------
    StatusMessage
        Counts per bucket and the most recent runs, most recent first.
    """
    latest: dict[str, RunEventLike] = {}
    for event in events:
        latest.pop(event.run_id, None)
        latest[event.run_id] = event
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for event in latest.values():
        counts[classify_event(event)] += 1
    recent = list(latest.values())[::-1][: max(max_runs, 0)]
    runs = [
        RunSummary(run_id=str(e.run_id), workflow=str(e.workflow), status=str(e.status),
                   cached=_cached(e))
        for e in recent
    ]
    return StatusMessage(
        running=counts["running"],
        failed=counts["failed"],
        completed=counts["completed"],
        cancelled=counts["cancelled"],
        runs=runs,
    )


def _cached(event: RunEventLike) -> int:
    """Steps of the run taken from the cache (its finished event carries the counts)."""
    counts = dict(getattr(event, "counts", ()) or ())
    return _count(counts.get("cached"))


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return max(int(value), 0)


def normalize_status_message(data: Mapping[str, Any], max_runs: int = MAX_RECENT_RUNS) -> StatusMessage:
    """Coerce a caller-supplied mapping into a well-formed status message.

    Missing or invalid counts become 0, runs without a ``run_id`` are dropped
    and at most ``max_runs`` runs are kept.

    Parameters
    ----------
    data : Mapping
        A partial or complete status message.
    max_runs : int, optional
        How many runs to keep.

    Returns
    -------
    StatusMessage
        A message that follows the protocol exactly.
    """
    raw_runs = data.get("runs") or []
    runs: list[RunSummary] = []
    for run in raw_runs if isinstance(raw_runs, list | tuple) else []:
        if isinstance(run, Mapping) and run.get("run_id") is not None:
            runs.append(
                RunSummary(
                    run_id=str(run["run_id"]),
                    workflow=str(run.get("workflow", "")),
                    status=str(run.get("status", "")),
                    cached=_count(run.get("cached")),
                )
            )
    return StatusMessage(
        running=_count(data.get("running")),
        failed=_count(data.get("failed")),
        completed=_count(data.get("completed")),
        cancelled=_count(data.get("cancelled")),
        runs=runs[: max(max_runs, 0)],
    )


class Throttle:
    """Call a function at most once per interval, never dropping the last request.

    A request after a quiet period calls ``fn`` at once. Requests that arrive
    sooner are folded into one trailing call, scheduled for the end of the
    interval. ``fn`` should read the current state when called, so that one
    trailing call carries every folded change.

    Parameters
    ----------
    fn : callable
        The function to call (no arguments).
    interval : float, optional
        Minimum seconds between two calls.
    clock : callable, optional
        Monotonic clock in seconds (injectable for tests).
    schedule : callable, optional
        ``schedule(delay, fn)`` runs ``fn`` later on some thread. Defaults to
        the runtime's background loop.
    """

    def __init__(
        self,
        fn: Callable[[], None],
        interval: float = MIN_INTERVAL,
        *,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule | None = None,
    ) -> None:
        self._fn = fn
        self._interval = interval
        self._clock = clock
        self._schedule = schedule or runtime_schedule
        self._lock = threading.Lock()
        self._last: float | None = None
        self._pending = False
        self._cancelled = False

    @property
    def pending(self) -> bool:
        """Whether a trailing call is scheduled."""
        return self._pending

    def request(self) -> None:
        """Ask for a call: now if the interval has passed, else at its end."""
        with self._lock:
            if self._cancelled or self._pending:
                return
            now = self._clock()
            wait = 0.0 if self._last is None else self._last + self._interval - now
            if wait > 0:
                self._pending = True
            else:
                self._last = now
        if wait <= 0:
            self._fn()
            return
        try:
            self._schedule(wait, self._trailing)
        except Exception:  # no timer available (loop closed): send now rather than never
            log.debug("could not schedule a trailing status message", exc_info=True)
            with self._lock:
                self._pending = False
                self._last = self._clock()
            self._fn()

    def cancel(self) -> None:
        """Drop any scheduled call and ignore future requests."""
        with self._lock:
            self._cancelled = True
            self._pending = False

    def _trailing(self) -> None:
        with self._lock:
            if self._cancelled or not self._pending:
                return
            self._pending = False
            self._last = self._clock()
        self._fn()


def runtime_schedule(delay: float, fn: Callable[[], None]) -> None:
    """Run ``fn`` after ``delay`` seconds on the runtime's background loop.

    Parameters
    ----------
    delay : float
        Seconds to wait.
    fn : callable
        What to call; exceptions are logged, never raised.
    """
    from codomyrmex_jupyter import runtime

    loop = runtime.background_loop()
    loop.call_soon_threadsafe(loop.call_later, delay, _logged(fn))


def _logged(fn: Callable[[], None]) -> Callable[[], None]:
    def call() -> None:
        try:
            fn()
        except Exception:  # a status message must never break the kernel
            log.exception("codomyrmex status message failed")

    return call


class StatusPublisher:
    """Send the engine's run status to every open ``codomyrmex.status`` comm.

    Parameters
    ----------
    snapshot : callable
        Returns the latest event of each run, oldest first.
    create_comm : callable, optional
        ``create_comm(target_name=..., data=...)`` opening a kernel-side comm
        (``comm.create_comm``); ``None`` never opens one (no frontend).
    interval : float, optional
        Minimum seconds between two throttled messages.
    clock, schedule : callable, optional
        Passed to :class:`Throttle` (injectable for tests).
    """

    def __init__(
        self,
        snapshot: Callable[[], Iterable[RunEventLike]],
        create_comm: Callable[..., Any] | None = None,
        *,
        interval: float = MIN_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        schedule: Schedule | None = None,
    ) -> None:
        self._snapshot = snapshot
        self._create_comm = create_comm
        self._comms: list[Any] = []
        self._lock = threading.RLock()
        self._closed = False
        self._cleanups: list[Callable[[], None]] = []
        self.throttle = Throttle(self._send_current, interval, clock=clock, schedule=schedule)

    @property
    def comms(self) -> list[Any]:
        """The comms currently open (a copy)."""
        with self._lock:
            return list(self._comms)

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def message(self) -> StatusMessage:
        """Return the current status message, built from the snapshot."""
        return build_status_message(self._snapshot())

    def on_event(self, event: RunEventLike) -> None:
        """Run-event subscriber: schedule a throttled status message (any thread)."""
        if not self._closed:
            self.throttle.request()

    def publish_now(self, message: Mapping[str, Any] | None = None) -> StatusMessage:
        """Send a status message at once, bypassing the throttle.

        Parameters
        ----------
        message : Mapping, optional
            The message to send (normalized first); the current status when omitted.

        Returns
        -------
        StatusMessage
            What was sent.
        """
        data = self.message() if message is None else normalize_status_message(message)
        self._broadcast(data)
        return data

    def open(self) -> Any | None:
        """Open a kernel-side comm that carries the current status as its open data.

        Returns
        -------
        comm or None
            The new comm, or ``None`` when the publisher has no way to open one.
        """
        return self._open_comm(self.message())

    def attach(self, comm: Any, open_msg: Mapping[str, Any] | None = None) -> None:
        """Comm-target callback: adopt a frontend-opened comm and answer it.

        Parameters
        ----------
        comm : Comm
            The kernel side of the comm the frontend opened.
        open_msg : Mapping, optional
            The ``comm_open`` message (its data is ``{"request": "status"}``).
        """
        self._adopt(comm)
        self._send(comm, self.message())

    def close(self) -> None:
        """Stop listening, close every comm and run the registered cleanups."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            comms, self._comms = self._comms, []
            cleanups, self._cleanups = self._cleanups, []
        self.throttle.cancel()
        for cleanup in cleanups:
            _quietly(cleanup, "status comm cleanup")
        for comm in comms:
            _quietly(comm.close, "closing a status comm")

    def add_cleanup(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on :meth:`close` (unsubscribe, unregister the target)."""
        with self._lock:
            self._cleanups.append(fn)

    def _adopt(self, comm: Any) -> None:
        stale: list[Any] = []
        with self._lock:
            self._comms.append(comm)
            while len(self._comms) > MAX_COMMS:
                stale.append(self._comms.pop(0))
        comm.on_msg(lambda msg: self._on_msg(comm, msg))
        comm.on_close(lambda _msg: self._forget(comm))
        for old in stale:
            _quietly(old.close, "closing a stale status comm")

    def _forget(self, comm: Any) -> None:
        with self._lock:
            if comm in self._comms:
                self._comms.remove(comm)

    def _on_msg(self, comm: Any, msg: Mapping[str, Any]) -> None:
        data = msg.get("content", {}).get("data", {})
        if isinstance(data, Mapping) and data.get("request") == "status":
            self._send(comm, self.message())

    def _open_comm(self, data: StatusMessage) -> Any | None:
        if self._create_comm is None or self._closed:
            return None
        comm = self._create_comm(target_name=TARGET_NAME, data=dict(data))
        self._adopt(comm)
        return comm

    def _send_current(self) -> None:
        self._broadcast(self.message())

    def _broadcast(self, data: StatusMessage) -> None:
        with self._lock:
            if self._closed:
                return
            comms = list(self._comms)
            if not comms:
                self._open_comm(data)
                return
        for comm in comms:
            self._send(comm, data)

    def _send(self, comm: Any, data: StatusMessage) -> None:
        try:
            comm.send(data=dict(data))
        except Exception:  # a closed or broken comm: forget it, keep the others
            log.debug("dropping a status comm that failed to send", exc_info=True)
            self._forget(comm)


def _quietly(fn: Callable[[], Any], what: str) -> None:
    try:
        fn()
    except Exception:  # teardown goes on whatever one step does
        log.debug("%s failed", what, exc_info=True)


_publisher: StatusPublisher | None = None
_publisher_lock = threading.Lock()


def start_status_comm(ipython: Any = None) -> StatusPublisher:
    """Start publishing run status to the JupyterLab status item.

    Registers the ``codomyrmex.status`` comm target, opens a kernel-side comm
    with the current status and subscribes to the engine's run events.
    Calling it again returns the running publisher.

    Parameters
    ----------
    ipython : InteractiveShell, optional
        The shell (``get_ipython()``). Outside a kernel (a terminal IPython,
        no shell at all) the publisher is created but opens no comm.

    Returns
    -------
    StatusPublisher
        The process-wide publisher; :meth:`StatusPublisher.publish_now`
        sends a message at once.
    """
    global _publisher  # noqa: PLW0603 - one publisher per kernel process
    with _publisher_lock:
        if _publisher is not None and not _publisher.closed:
            return _publisher
        _publisher = _start(getattr(ipython, "kernel", None) is not None)
        return _publisher


def _start(in_kernel: bool) -> StatusPublisher:
    import comm

    from codomyrmex_jupyter.engine.events import run_events

    publisher = StatusPublisher(run_events.snapshot, comm.create_comm if in_kernel else None)
    if in_kernel:
        manager = comm.get_comm_manager()
        manager.register_target(TARGET_NAME, publisher.attach)
        publisher.add_cleanup(lambda: _unregister(manager, publisher))
        publisher.open()
    publisher.add_cleanup(run_events.subscribe(publisher.on_event))
    return publisher


def _unregister(manager: Any, publisher: StatusPublisher) -> None:
    if manager.targets.get(TARGET_NAME) == publisher.attach:
        manager.unregister_target(TARGET_NAME, publisher.attach)


def stop_status_comm() -> None:
    """Stop the publisher started by :func:`start_status_comm`, if any.

    Unsubscribes from run events, unregisters the comm target and closes the
    open comms, which hides the status item.
    """
    global _publisher
    with _publisher_lock:
        publisher, _publisher = _publisher, None
    if publisher is not None:
        publisher.close()
