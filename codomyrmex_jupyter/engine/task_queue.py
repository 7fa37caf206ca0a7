"""The task orchestrator's queue: the scheduling core keyed by task id.

Shaped like :class:`graphlib.TopologicalSorter`: events go in (``add``,
``done``, ``cancel``, ``defer``, ``unblock``), ready keys come out
(``get_ready``). It never runs, waits for or times anything; the task
orchestrator does that and tells the queue what happened.

The decisions are those of :class:`~.scheduling.Schedule`, the core that
schedules workflow steps too (higher priority first, first-added first
within a priority; a failed, cancelled or skipped dependency skips every
transitive dependent that has not started; a deferred key waits aside
until ``unblock``). This class only maps task ids to the core's int nodes
and its states to names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from . import scheduling
from .scheduling import Schedule

__all__ = ["TERMINAL", "QueueState", "TaskQueue"]

QueueState = Literal[
    "waiting", "ready", "blocked", "running", "succeeded", "failed", "cancelled", "skipped"
]
TERMINAL: frozenset[QueueState] = frozenset({"succeeded", "failed", "cancelled", "skipped"})


class TaskQueue:
    """Decides which task may start next; does no I/O and starts nothing."""

    def __init__(self) -> None:
        self._core = Schedule()
        self._node: dict[str, int] = {}
        self._keys: list[str] = []

    # -- events in ---------------------------------------------------------------
    def add(self, key: str, *, priority: int = 0, dependencies: Iterable[str] = ()) -> str | None:
        """Add ``key``; return the dependency that makes it ``skipped`` at once, if any.

        Dependencies must already be in the queue (so no cycle can form);
        one that already failed, was cancelled or skipped skips ``key``.

        Raises
        ------
        KeyError
            ``key`` is already in the queue, or a dependency is not.
        """
        if key in self._node:
            raise KeyError(f"{key} is already in the queue")
        parents = []
        for dep in dependencies:
            node = self._node.get(dep)
            if node is None:
                raise KeyError(f"unknown dependency {dep}")
            parents.append(node)
        node, cause = self._core.add(parents, priority)
        self._register(key, node)
        return None if cause is None else self._keys[cause]

    def add_finished(self, key: str, *, ok: bool) -> None:
        """Record a key that already ended elsewhere (history), so others may depend on it."""
        if key in self._node:
            raise KeyError(f"{key} is already in the queue")
        self._register(key, self._core.add_finished(ok))

    def done(self, key: str, *, ok: bool) -> list[tuple[str, str]]:
        """Mark a running ``key`` finished; return ``(skipped_key, cause)`` pairs.

        Raises
        ------
        ValueError
            ``key`` is not running.
        """
        node = self._running(key)
        if ok:
            self._core.succeed(node)
            return []
        return self._named(self._core.fail(node))

    def cancel(self, key: str) -> list[tuple[str, str]] | None:
        """Cancel ``key`` if it has not started or is running; ``None`` if it had ended.

        Returns the ``(skipped_key, cause)`` pairs of its dependents.
        """
        node = self._node.get(key)
        if node is None:
            raise KeyError(f"{key} is not in the queue")
        skipped = self._core.cancel(node)
        return None if skipped is None else self._named(skipped)

    def defer(self, key: str) -> None:
        """Put a key handed out by :meth:`get_ready` aside until :meth:`unblock`."""
        self._core.defer(self._running(key))

    def unblock(self) -> int:
        """Return every deferred key to the ready queue; return how many."""
        return self._core.unblock()

    def requeue(self, key: str) -> None:
        """Put a running key back as ready (it was stopped before it finished)."""
        self._core.requeue(self._running(key))

    # -- instructions out ------------------------------------------------------
    def get_ready(self, limit: int | None = None) -> list[str]:
        """Pop up to ``limit`` ready keys (all when ``None``), best first; they become running."""
        keys = self._keys
        return [keys[n] for n in self._core.get_ready(limit)]

    # -- queries -----------------------------------------------------------------
    def state(self, key: str) -> QueueState:
        """The state of ``key`` (``KeyError`` if unknown)."""
        return scheduling.STATE_NAMES[self._core.state(self._node[key])]

    def __contains__(self, key: object) -> bool:
        return key in self._node

    def __len__(self) -> int:
        return len(self._keys)

    def count(self, state: QueueState) -> int:
        """How many keys are in ``state``."""
        return self._core.count(scheduling.STATE_NAMES.index(state))

    def has_ready(self) -> bool:
        """Some key could be handed out by :meth:`get_ready` now."""
        return self._core.has_ready()

    def is_active(self) -> bool:
        """Some key has not reached a terminal state."""
        return self._core.is_active()

    # -- internals -------------------------------------------------------------
    def _register(self, key: str, node: int) -> None:
        self._node[key] = node
        self._keys.append(key)

    def _running(self, key: str) -> int:
        node = self._node.get(key)
        if node is None or self._core.state(node) != scheduling.RUNNING:
            state = None if node is None else scheduling.STATE_NAMES[self._core.state(node)]
            raise ValueError(f"{key} is not running (state {state})")
        return node

    def _named(self, pairs: list[tuple[int, int]]) -> list[tuple[str, str]]:
        keys = self._keys
        return [(keys[a], keys[b]) for a, b in pairs]
