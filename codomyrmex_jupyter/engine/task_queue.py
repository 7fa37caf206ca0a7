"""A sans-I/O priority and dependency queue for independent tasks.

Shaped like :class:`graphlib.TopologicalSorter`: events go in (``add``,
``done``, ``cancel``, ``defer``, ``unblock``), ready keys come out
(``get_ready``). It never runs, waits for or times anything; the task
orchestrator does that and tells the queue what happened.

Algorithm
---------
Every key has a state (see :data:`QueueState`) and a count of dependencies
that have not succeeded yet. A key whose count is zero sits in a heap
ordered by ``(-priority, seq)``: higher priority first, first-added first
within a priority (``seq`` is the order of ``add``). ``get_ready(n)`` pops
up to ``n`` keys and marks them ``running``.

A running key the caller cannot start yet (its resources are taken) goes
back with ``defer``: it waits in ``blocked``, out of the heap, so it does not
hold up keys behind it. ``unblock()`` returns every blocked key to the heap
with its original ``seq``, so the order among them is kept.

``done(key, ok=True)`` decrements each dependent's count; ``done(key,
ok=False)`` and ``cancel(key)`` mark every transitive dependent that has not
started ``skipped`` and return them with the dependency that caused it.

State fields
------------
``_state``       key -> :data:`QueueState`
``_priority``    key -> priority (an int; higher runs first)
``_seq``         key -> order of ``add``
``_waiting_on``  key -> number of dependencies that have not succeeded
``_dependents``  key -> keys that depend on it, in ``add`` order
``_heap``        ``(-priority, seq, key)`` of ready keys
``_blocked``     deferred keys, in ``defer`` order
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Literal

__all__ = ["TERMINAL", "QueueState", "TaskQueue"]

QueueState = Literal[
    "waiting", "ready", "blocked", "running", "succeeded", "failed", "cancelled", "skipped"
]
TERMINAL: frozenset[QueueState] = frozenset({"succeeded", "failed", "cancelled", "skipped"})
_NOT_STARTED: frozenset[QueueState] = frozenset({"waiting", "ready", "blocked"})


class TaskQueue:
    """Decides which task may start next; does no I/O and starts nothing."""

    def __init__(self) -> None:
        self._state: dict[str, QueueState] = {}
        self._priority: dict[str, int] = {}
        self._seq: dict[str, int] = {}
        self._waiting_on: dict[str, int] = {}
        self._dependents: dict[str, list[str]] = {}
        self._heap: list[tuple[int, int, str]] = []
        self._blocked: list[str] = []
        self._counter = 0

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
        deps = list(dict.fromkeys(dependencies))
        if key in self._state:
            raise KeyError(f"{key} is already in the queue")
        missing = [d for d in deps if d not in self._state]
        if missing:
            raise KeyError(f"unknown dependency {missing[0]}")
        self._register(key, priority)
        failed = next((d for d in deps if self._state[d] in TERMINAL - {"succeeded"}), None)
        if failed is not None:
            self._state[key] = "skipped"
            return failed
        pending = [d for d in deps if self._state[d] != "succeeded"]
        for d in pending:
            self._dependents[d].append(key)
        self._waiting_on[key] = len(pending)
        if not pending:
            self._make_ready(key)
        return None

    def add_finished(self, key: str, *, ok: bool) -> None:
        """Record a key that already ended elsewhere (history), so others may depend on it."""
        if key in self._state:
            raise KeyError(f"{key} is already in the queue")
        self._register(key, 0)
        self._state[key] = "succeeded" if ok else "failed"

    def done(self, key: str, *, ok: bool) -> list[tuple[str, str]]:
        """Mark a running ``key`` finished; return ``(skipped_key, cause)`` pairs.

        Raises
        ------
        ValueError
            ``key`` is not running.
        """
        if self._state.get(key) != "running":
            raise ValueError(f"{key} is not running (state {self._state.get(key)})")
        if ok:
            self._state[key] = "succeeded"
            self._release_dependents(key)
            return []
        self._state[key] = "failed"
        return self._skip_dependents(key)

    def cancel(self, key: str) -> list[tuple[str, str]] | None:
        """Cancel ``key`` if it has not started or is running; ``None`` if it had ended.

        Returns the ``(skipped_key, cause)`` pairs of its dependents.
        """
        state = self._state.get(key)
        if state is None:
            raise KeyError(f"{key} is not in the queue")
        if state in TERMINAL:
            return None
        self._forget_ready(key)
        self._state[key] = "cancelled"
        return self._skip_dependents(key)

    def defer(self, key: str) -> None:
        """Put a key handed out by :meth:`get_ready` aside until :meth:`unblock`."""
        if self._state.get(key) != "running":
            raise ValueError(f"{key} is not running (state {self._state.get(key)})")
        self._state[key] = "blocked"
        self._blocked.append(key)

    def unblock(self) -> int:
        """Return every deferred key to the ready heap; return how many."""
        keys, self._blocked = self._blocked, []
        for key in keys:
            if self._state[key] == "blocked":
                self._make_ready(key)
        return len(keys)

    def requeue(self, key: str) -> None:
        """Put a running key back as ready (it was stopped before it finished)."""
        if self._state.get(key) != "running":
            raise ValueError(f"{key} is not running (state {self._state.get(key)})")
        self._make_ready(key)

    # -- instructions out ------------------------------------------------------
    def get_ready(self, limit: int | None = None) -> list[str]:
        """Pop up to ``limit`` ready keys (all when ``None``), best first; they become running."""
        out: list[str] = []
        while self._heap and (limit is None or len(out) < limit):
            _, _, key = heapq.heappop(self._heap)
            if self._state[key] != "ready":
                continue  # cancelled while queued: a stale heap entry
            self._state[key] = "running"
            out.append(key)
        return out

    # -- queries -----------------------------------------------------------------
    def state(self, key: str) -> QueueState:
        """The state of ``key`` (``KeyError`` if unknown)."""
        return self._state[key]

    def __contains__(self, key: object) -> bool:
        return key in self._state

    def __len__(self) -> int:
        return len(self._state)

    def count(self, state: QueueState) -> int:
        """How many keys are in ``state``."""
        return sum(1 for s in self._state.values() if s == state)

    def has_ready(self) -> bool:
        """Some key could be handed out by :meth:`get_ready` now."""
        return any(self._state[k] == "ready" for _, _, k in self._heap)

    def is_active(self) -> bool:
        """Some key has not reached a terminal state."""
        return any(s not in TERMINAL for s in self._state.values())

    # -- internals -------------------------------------------------------------
    def _register(self, key: str, priority: int) -> None:
        self._counter += 1
        self._seq[key] = self._counter
        self._priority[key] = priority
        self._dependents[key] = []
        self._waiting_on[key] = 0
        self._state[key] = "waiting"

    def _make_ready(self, key: str) -> None:
        self._state[key] = "ready"
        heapq.heappush(self._heap, (-self._priority[key], self._seq[key], key))

    def _forget_ready(self, key: str) -> None:
        # Heap entries of cancelled keys are dropped lazily by get_ready.
        if self._state[key] == "blocked":
            self._blocked.remove(key)

    def _release_dependents(self, key: str) -> None:
        for dep in self._dependents[key]:
            if self._state[dep] != "waiting":
                continue
            self._waiting_on[dep] -= 1
            if self._waiting_on[dep] == 0:
                self._make_ready(dep)

    def _skip_dependents(self, key: str) -> list[tuple[str, str]]:
        skipped: list[tuple[str, str]] = []
        stack = [(d, key) for d in reversed(self._dependents[key])]
        while stack:
            dep, cause = stack.pop()
            if self._state[dep] not in _NOT_STARTED:
                continue
            self._forget_ready(dep)
            self._state[dep] = "skipped"
            skipped.append((dep, cause))
            stack.extend((d, dep) for d in reversed(self._dependents[dep]))
        return skipped
