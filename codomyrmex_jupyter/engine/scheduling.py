"""The scheduling core: which node may start next. Sans-I/O.

One core schedules both workflow steps and orchestrator tasks: the
runner's I/O shell (:class:`~.runner.Run`, and :class:`~.open_run.OpenRun`
whose graph grows as tasks are added) drives it. Like
:class:`graphlib.TopologicalSorter`, events go in and ready nodes come out;
it never runs, waits for, times or records anything. The shell calls a
node's callable, its timers and its listeners, and tells the core what
happened.

Algorithm
---------
Nodes are the ints ``0, 1, 2, ...`` in the order they were added; a node
names its parents when it is added, and they must exist already, so the
graph may grow while it runs (tasks added to a running orchestrator) and no
cycle can form. Each node has a state (:data:`WAITING` ... :data:`CANCELLED`)
and a count of parents that have not succeeded.

Ready nodes wait in one FIFO per priority (higher priority first, as in
Dask); a heap holds the priorities whose FIFO is not empty. Until a node
has a priority other than 0 (the common case: no priorities at all) there
is one FIFO and no heap: handing out a node is a ``deque.popleft`` and a
success appends the children it readies, inline. A node that goes back to ready (a retry, a node whose
resources were taken) is put at the front of its FIFO, so it is not
overtaken by nodes that became ready after it.

* ``succeed(i)``: each child's count drops; children reaching zero become
  ready and are returned (so the shell can announce them).
* ``fail(i)`` / ``cancel(i)``: every transitive descendant that has not
  started is skipped and returned with the node that caused it.
* ``defer(i)``: a node handed out that cannot start yet (its resources are
  taken) waits aside, out of the FIFOs, so it holds up no one;
  ``unblock()`` puts every deferred node back at the front, in order.
* Entries of nodes that left the ready state while queued (skipped,
  cancelled) are dropped lazily when they reach the front.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from heapq import heappop, heappush
from typing import Final

__all__ = [
    "BLOCKED",
    "CANCELLED",
    "FAILED",
    "READY",
    "RUNNING",
    "SKIPPED",
    "STATE_NAMES",
    "SUCCEEDED",
    "WAITING",
    "Schedule",
]

WAITING: Final = 0
READY: Final = 1
BLOCKED: Final = 2
RUNNING: Final = 3
SUCCEEDED: Final = 4
FAILED: Final = 5
SKIPPED: Final = 6
CANCELLED: Final = 7
STATE_NAMES: Final = (
    "waiting", "ready", "blocked", "running", "succeeded", "failed", "skipped", "cancelled",
)
_ENDED_BADLY: Final = frozenset({FAILED, SKIPPED, CANCELLED})
_NOT_STARTED: Final = frozenset({WAITING, READY, BLOCKED})


class Schedule:
    """Dependency counts, priorities and skips over a growing DAG of int nodes.

    Parameters
    ----------
    parents, children:
        A whole graph at once (``parents[i]`` and ``children[i]`` list node
        indices); nodes with no parents start ready. Omit both to start
        empty and :meth:`add` nodes one by one.
    priorities:
        One int per node of ``parents`` (higher starts sooner); ``None``
        gives every node priority 0.
    """

    __slots__ = (
        "_blocked", "_children", "_fifo", "_levels", "_priority", "_queues", "_remaining", "_state",
    )

    def __init__(
        self,
        parents: Sequence[Sequence[int]] = (),
        children: Sequence[Sequence[int]] | None = None,
        priorities: Sequence[int] | None = None,
    ) -> None:
        n = len(parents)
        if children is None:
            kids: list[list[int]] = [[] for _ in range(n)]
            for i, ps in enumerate(parents):
                for p in ps:
                    kids[p].append(i)
            children = kids
        self._children: list[Sequence[int]] = list(children)
        self._remaining = [len(p) for p in parents]
        # None while every node has priority 0: one FIFO, no heap (the fast path)
        self._priority: list[int] | None = (
            list(priorities) if priorities is not None and any(priorities) else None
        )
        self._state = [WAITING] * n
        self._fifo: deque[int] = deque()  # priority 0's FIFO
        self._queues: dict[int, deque[int]] = {0: self._fifo}
        self._levels: list[int] = []  # -priority of every non-empty FIFO (with priorities)
        self._blocked: list[int] = []
        for i, left in enumerate(self._remaining):
            if not left:
                self._push(i)

    # -- building ----------------------------------------------------------------------------
    def add(self, parents: Iterable[int] = (), priority: int = 0) -> tuple[int, int | None]:
        """Add a node depending on existing ``parents``; return ``(node, cause)``.

        ``cause`` is a parent that already failed, was skipped or cancelled:
        the new node is skipped at once. Otherwise the node is ready when
        every parent has succeeded, else waiting.

        Raises
        ------
        IndexError
            A parent is not a node yet.
        """
        deps = list(dict.fromkeys(parents))
        node = len(self._state)
        for p in deps:
            if not 0 <= p < node:
                raise IndexError(f"unknown parent node {p}")
        if self._priority is None and priority:
            self._priority = [0] * node  # leave the fast path: priority 0's FIFO joins the heap
            if self._fifo:
                heappush(self._levels, 0)
        if self._priority is not None:
            self._priority.append(priority)
        state = self._state
        cause = next((p for p in deps if state[p] in _ENDED_BADLY), None)
        self._children.append([])
        pending = [p for p in deps if state[p] != SUCCEEDED] if cause is None else []
        self._remaining.append(len(pending))
        state.append(SKIPPED if cause is not None else WAITING)
        kids = self._children
        for p in pending:
            if not isinstance(kids[p], list):  # a graph given whole holds tuples
                kids[p] = list(kids[p])
            kids[p].append(node)  # type: ignore[attr-defined]
        if cause is None and not pending:
            self._push(node)
        return node, cause

    def add_finished(self, ok: bool) -> int:
        """Add a node that already ended elsewhere (history), so others may depend on it."""
        node, _ = self.add()
        self._state[node] = SUCCEEDED if ok else FAILED
        return node

    # -- events in -----------------------------------------------------------------------------
    def pop(self) -> int:
        """Hand out the best ready node (it becomes running), or ``-1`` when none is ready."""
        state = self._state
        if self._priority is None:
            fifo = self._fifo
            while fifo:
                node = fifo.popleft()
                if state[node] == READY:
                    state[node] = RUNNING
                    return node
            return -1
        levels = self._levels
        while levels:
            queue = self._queues[-levels[0]]
            node = queue.popleft()
            if not queue:
                heappop(levels)
            if state[node] == READY:
                state[node] = RUNNING
                return node
        return -1

    def get_ready(self, limit: int | None = None) -> list[int]:
        """Hand out up to ``limit`` ready nodes (all when ``None``), best first."""
        out: list[int] = []
        while limit is None or len(out) < limit:
            node = self.pop()
            if node < 0:
                break
            out.append(node)
        return out

    def succeed(self, node: int) -> list[int]:
        """A running ``node`` succeeded; return the children that became ready."""
        state = self._state
        state[node] = SUCCEEDED
        remaining = self._remaining
        ready: list[int] = []
        if self._priority is None:  # the fast path, inline
            for c in self._children[node]:
                remaining[c] -= 1
                if not remaining[c] and state[c] == WAITING:
                    state[c] = READY
                    ready.append(c)
            if ready:
                self._fifo.extend(ready)
            return ready
        for c in self._children[node]:
            remaining[c] -= 1
            if not remaining[c] and state[c] == WAITING:
                self._push(c)
                ready.append(c)
        return ready

    def fail(self, node: int, state: int = FAILED) -> list[tuple[int, int]]:
        """``node`` ended badly (``FAILED`` or ``CANCELLED``); skip what depends on it.

        Returns the ``(skipped, cause)`` pairs of every transitive descendant
        that had not started, in depth-first order of the graph.
        """
        self._state[node] = state
        return self._skip_descendants(node)

    def cancel(self, node: int) -> list[tuple[int, int]] | None:
        """Cancel ``node`` unless it has ended; ``None`` when it had."""
        current = self._state[node]
        if current >= SUCCEEDED:
            return None
        if current == BLOCKED:
            self._blocked.remove(node)
        return self.fail(node, CANCELLED)

    def close(self, node: int, state: int) -> bool:
        """End a node that has not finished as ``state`` without touching others.

        For a run that stops (cancel, run timeout) and ends every node
        itself. Returns False when the node had ended already.
        """
        current = self._state[node]
        if current >= SUCCEEDED:
            return False
        if current == BLOCKED:
            self._blocked.remove(node)
        self._state[node] = state
        return True

    def requeue(self, node: int) -> None:
        """A running (or retrying) node goes back to ready, at the front of its FIFO."""
        if self._state[node] != RUNNING:
            raise ValueError(f"node {node} is not running ({STATE_NAMES[self._state[node]]})")
        self._push(node, first=True)

    def defer(self, node: int) -> None:
        """Put a node handed out by :meth:`pop` aside until :meth:`unblock`."""
        if self._state[node] != RUNNING:
            raise ValueError(f"node {node} is not running ({STATE_NAMES[self._state[node]]})")
        self._state[node] = BLOCKED
        self._blocked.append(node)

    def unblock(self) -> int:
        """Return every deferred node to the front of its FIFO, in order; return how many."""
        nodes, self._blocked = self._blocked, []
        for node in reversed(nodes):
            if self._state[node] == BLOCKED:
                self._push(node, first=True)
        return len(nodes)

    # -- queries -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._state)

    def state(self, node: int) -> int:
        """The state of ``node`` (one of the module's constants)."""
        return self._state[node]

    def priority(self, node: int) -> int:
        """The priority ``node`` was given."""
        return 0 if self._priority is None else self._priority[node]

    def has_ready(self) -> bool:
        """Some node could be handed out by :meth:`pop` now."""
        state = self._state
        return any(state[n] == READY for q in self._queues.values() for n in q)

    def count(self, state: int) -> int:
        """How many nodes are in ``state``."""
        return self._state.count(state)

    def is_active(self) -> bool:
        """Some node has not ended."""
        return any(s < SUCCEEDED for s in self._state)

    # -- internals -------------------------------------------------------------------------------
    def _push(self, node: int, first: bool = False) -> None:
        self._state[node] = READY
        if self._priority is None:
            queue = self._fifo
        else:
            level = self._priority[node]
            found = self._queues.get(level)
            if found is None:
                found = self._queues[level] = deque()
            if not found:
                heappush(self._levels, -level)
            queue = found
        if first:
            queue.appendleft(node)
        else:
            queue.append(node)

    def _skip_descendants(self, node: int) -> list[tuple[int, int]]:
        state, children = self._state, self._children
        skipped: list[tuple[int, int]] = []
        stack = [(c, node) for c in reversed(children[node])]
        while stack:
            child, cause = stack.pop()
            current = state[child]
            if current not in _NOT_STARTED:
                continue
            if current == BLOCKED:
                self._blocked.remove(child)
            state[child] = SKIPPED
            skipped.append((child, cause))
            stack.extend((c, child) for c in reversed(children[child]))
        return skipped
