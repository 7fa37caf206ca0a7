"""ResourcePool: capacity accounting shared by tasks and workflow steps.

A pool is a set of named capacities (``"gpu": 2``, ``"system.memory": 15_000``)
that holders take amounts of. It generalises trio's ``CapacityLimiter`` to many
resources: one request may name several, and it is granted all at once or not
at all, so two holders can never each take half of what both need.

Books
-----
Per resource the pool keeps ``capacity``, each holder's ``amount`` and ``mode``
and optional ``expires_at``, and ``allocated`` (the exact sum of the holders'
amounts, recomputed with ``math.fsum`` on every change so repeated
take/give-back leaves exactly 0, not a float residue). A request is granted when
``amount <= capacity - allocated`` for every resource it names.

Modes
-----
``"shared"`` takes the amount asked. ``"exclusive"`` is granted only when no
other holder has any of the resource, and books the full capacity, so nobody
else gets any until it is released.

Re-entrancy and expiry
----------------------
Acquiring again for the same holder and resource adds to its amount; the
latest call sets the expiry of the holder's whole allocation of that
resource. Expired allocations are released lazily, at the start of the next
pool operation (or an :meth:`ResourcePool.expire` call): no thread runs, yet no
allocation outlives its expiry as far as any reader can see.

Observers
---------
:meth:`ResourcePool.subscribe` registers ``callback(change)``; it is called
with a :class:`ResourceChange` after every change, outside the pool's lock
(so it may call back into the pool), and an exception it raises is logged,
never propagated into the pool operation.

Gauges read :meth:`ResourcePool.statistics`, a frozen snapshot, like trio's
``CapacityLimiter.statistics()``.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar

from ..errors import ResourceTypeError, ResourceUnavailable
from .validation import check_amount, error_pair

__all__ = [
    "MODES",
    "Holding",
    "ResourceChange",
    "ResourcePool",
    "ResourceStatistics",
]

log = logging.getLogger(__name__)

MODES = ("shared", "exclusive")
ChangeKind = Literal["added", "removed", "allocated", "released", "expired"]

T = TypeVar("T")

# Relative slack when comparing float amounts, so 0.1 + 0.2 + 0.7 fits in 1.0.
_EPS = 1e-9


@dataclass(frozen=True)
class ResourceChange:
    """One change of a pool, as passed to subscribers.

    Attributes
    ----------
    kind:
        ``"added"``, ``"removed"``, ``"allocated"``, ``"released"`` or ``"expired"``.
    resource_id:
        The resource that changed.
    holder:
        Who took or gave back (``None`` for added/removed).
    amount:
        The amount taken or given back (the capacity for added/removed).
    allocated_after:
        The resource's allocated total after the change.
    """

    kind: ChangeKind
    resource_id: str
    holder: str | None
    amount: float
    allocated_after: float


@dataclass(frozen=True)
class Holding:
    """What one holder has of one resource (wall-clock times, epoch seconds)."""

    holder: str
    resource_id: str
    amount: float
    mode: str
    granted_at: float
    expires_at: float | None


@dataclass(frozen=True)
class ResourceStatistics:
    """A frozen snapshot of one resource, what a gauge reads.

    Attributes
    ----------
    capacity, allocated, available:
        Totals; ``available == capacity - allocated`` (never below 0).
    holders:
        ``(holder, amount, mode)`` for each holder, in grant order.
    peak:
        The largest ``allocated`` seen since the resource was added.
    average:
        Time-weighted average of ``allocated`` since the resource was added.
    mean_level:
        Mean of ``allocated`` as it stood after each grant or release (0.0
        before the first): an event average, independent of timing.
    utilisation:
        ``allocated / capacity``, from 0 to 1.
    waiting:
        Threads blocked in :meth:`ResourcePool.acquire` on this resource.
    allocation_count:
        How many grants touched this resource.
    """

    resource_id: str
    name: str
    kind: str
    unit: str
    capacity: float
    allocated: float
    available: float
    holders: tuple[tuple[str, float, str], ...]
    peak: float
    average: float
    utilisation: float
    waiting: int
    allocation_count: int
    mean_level: float = 0.0


class _Held:
    """Mutable record of one holder's allocation of one resource."""

    __slots__ = ("amount", "expires_at", "granted_at", "mode")

    def __init__(
        self, amount: float, mode: str, expires_at: float | None, granted_at: float
    ) -> None:
        self.amount = amount
        self.mode = mode
        self.expires_at = expires_at  # pool clock
        self.granted_at = granted_at  # wall clock


class _Slot:
    """Mutable books of one resource."""

    __slots__ = (
        "added_t", "allocated", "area", "capacity", "count", "holders", "kind", "last_t",
        "level_count", "level_sum", "name", "peak", "resource_id", "unit", "waiting",
    )

    def __init__(
        self, resource_id: str, capacity: float, *, name: str, kind: str, unit: str, now: float
    ) -> None:
        self.resource_id = resource_id
        self.capacity = capacity
        self.name = name
        self.kind = kind
        self.unit = unit
        self.holders: dict[str, _Held] = {}
        self.allocated = 0.0
        self.peak = 0.0
        self.area = 0.0  # integral of allocated over time
        self.added_t = now
        self.last_t = now
        self.count = 0
        self.waiting = 0
        self.level_sum = 0.0  # allocated after each change, summed, for mean_level
        self.level_count = 0

    def available(self) -> float:
        return max(0.0, self.capacity - self.allocated)

    def fits(self, amount: float) -> bool:
        return amount - self.available() <= _EPS * max(1.0, self.capacity)

    def recount(self, now: float) -> None:
        """Integrate the old total up to ``now``, then recompute it exactly."""
        self.area += self.allocated * max(0.0, now - self.last_t)
        self.last_t = now
        self.allocated = math.fsum(h.amount for h in self.holders.values())
        self.peak = max(self.peak, self.allocated)
        self.level_sum += self.allocated
        self.level_count += 1

    def average(self, now: float) -> float:
        span = now - self.added_t
        if span <= 0:
            return self.allocated
        return (self.area + self.allocated * max(0.0, now - self.last_t)) / span


def _check_capacity(resource_id: str, capacity: float) -> float:
    error = error_pair(ResourceUnavailable, ResourceTypeError, resource_id=resource_id)
    return check_amount(capacity, f"resource {resource_id!r} capacity", error)


class ResourcePool:
    """Thread-safe capacity accounting over many resources.

    Parameters
    ----------
    clock:
        Monotonic clock for expiry and usage averages (seconds); injectable so
        tests can move time by hand.
    wall_clock:
        Clock for the ``granted_at``/``expires_at`` epoch times of :class:`Holding`.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._wall = wall_clock
        self._cond = threading.Condition(threading.Lock())
        self._slots: dict[str, _Slot] = {}
        self._by_holder: dict[str, dict[str, _Held]] = {}
        self._expiries: list[tuple[float, str, str]] = []  # (expires_at, holder, resource_id)
        self._subscribers: tuple[Callable[[ResourceChange], object], ...] = ()
        self._sub_lock = threading.Lock()

    # -- resources ------------------------------------------------------------------
    def add(
        self, resource_id: str, capacity: float, *, name: str = "", kind: str = "custom",
        unit: str = "units",
    ) -> None:
        """Add a resource; raise :class:`ResourceUnavailable` if the id exists or capacity is bad."""
        cap = _check_capacity(resource_id, capacity)
        with self._op() as changes:
            if resource_id in self._slots:
                raise ResourceUnavailable(
                    f"resource {resource_id!r} already exists; remove it first or pick another id",
                    resource_id=resource_id,
                )
            self._slots[resource_id] = _Slot(
                resource_id, cap, name=name or resource_id, kind=kind, unit=unit, now=self._clock()
            )
            changes.append(ResourceChange("added", resource_id, None, cap, 0.0))

    def remove(self, resource_id: str) -> bool:
        """Forget a resource and every allocation of it; False if it did not exist."""
        with self._op() as changes:
            slot = self._slots.pop(resource_id, None)
            if slot is not None:
                for holder in slot.holders:
                    self._forget_holder_entry(holder, resource_id)
                changes.append(ResourceChange("removed", resource_id, None, slot.capacity, 0.0))
                self._cond.notify_all()  # waiters must learn the id is gone
        return slot is not None

    def __contains__(self, resource_id: object) -> bool:
        return resource_id in self._slots

    def resource_ids(self) -> list[str]:
        """Ids of every resource, in the order they were added."""
        with self._cond:
            return list(self._slots)

    def capacity(self, resource_id: str) -> float:
        """Capacity of ``resource_id``."""
        with self._cond:
            return self._slot(resource_id).capacity

    def available(self, resource_id: str) -> float:
        """What is left of ``resource_id`` now."""
        return self._read(lambda: self._slot(resource_id).available())

    # -- taking and giving back -------------------------------------------------------
    def try_acquire(
        self,
        holder: str,
        request: Mapping[str, float],
        *,
        mode: str = "shared",
        expires_in: float | None = None,
    ) -> bool:
        """Take every amount in ``request`` for ``holder`` at once, or nothing.

        Raises
        ------
        ResourceUnavailable
            For an unknown resource, a non-positive amount, an amount larger than
            the capacity (it could never be met), or an unknown ``mode``.
        """
        with self._op() as changes:
            return self._grant_locked(holder, request, mode, expires_in, changes)

    def acquire(
        self,
        holder: str,
        request: Mapping[str, float],
        *,
        mode: str = "shared",
        timeout: float | None = None,
        expires_in: float | None = None,
    ) -> bool:
        """Like :meth:`try_acquire` but wait until granted; False after ``timeout`` seconds."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._op() as changes:
            while not self._grant_locked(holder, request, mode, expires_in, changes):
                wait = self._wait_time(deadline)
                if wait is not None and wait <= 0:
                    return False
                self._wait_locked(request, wait)
                changes.extend(self._expire_locked())
            return True

    def release(self, holder: str, resource_id: str | None = None) -> float:
        """Give back what ``holder`` has (of one resource, or all); return the amount."""
        with self._op() as changes:
            held = self._by_holder.get(holder, {})
            ids = [resource_id] if resource_id is not None else list(held)
            return math.fsum(self._drop_locked(holder, rid, "released", changes) for rid in ids)

    def expire(self) -> int:
        """Release every allocation whose expiry has passed; return how many."""
        with self._op() as changes:
            return len(changes)

    # -- reading ------------------------------------------------------------------------
    def statistics(self, resource_id: str) -> ResourceStatistics:
        """A frozen snapshot of ``resource_id``."""
        return self._read(lambda: self._stats_locked(self._slot(resource_id)))

    def snapshot(self) -> dict[str, ResourceStatistics]:
        """Statistics of every resource, by id."""
        return self._read(lambda: {rid: self._stats_locked(s) for rid, s in self._slots.items()})

    def holdings(self, holder: str | None = None) -> list[Holding]:
        """Every allocation (of one holder, or all), resource by resource."""
        return self._read(lambda: self._holdings_locked(holder))

    def holding(self, holder: str, resource_id: str) -> Holding | None:
        """What ``holder`` has of ``resource_id`` now, or ``None``."""
        return self._read(lambda: self._holding_locked(holder, resource_id))

    def subscribe(self, callback: Callable[[ResourceChange], object]) -> Callable[[], None]:
        """Call ``callback(change)`` after every change; return a function that unsubscribes."""
        with self._sub_lock:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            with self._sub_lock:
                subs = list(self._subscribers)
                if callback in subs:
                    subs.remove(callback)
                self._subscribers = tuple(subs)

        return unsubscribe

    # -- internals (call with the lock held) ---------------------------------------------
    def _slot(self, resource_id: str) -> _Slot:
        slot = self._slots.get(resource_id)
        if slot is None:
            known = ", ".join(self._slots) or "none"
            raise ResourceUnavailable(
                f"unknown resource {resource_id!r} (known: {known}); add it first",
                resource_id=resource_id,
            )
        return slot

    @contextmanager
    def _op(self) -> Iterator[list[ResourceChange]]:
        """Hold the lock with expired allocations released; report changes after unlocking."""
        changes: list[ResourceChange] = []
        try:
            with self._cond:
                changes.extend(self._expire_locked())
                yield changes
        finally:
            self._emit(changes)

    def _read(self, fn: Callable[[], T]) -> T:
        with self._op():
            return fn()

    def _validate(self, request: Mapping[str, float], mode: str) -> list[tuple[_Slot, float]]:
        if mode not in MODES:
            raise ResourceUnavailable(f"mode must be 'shared' or 'exclusive', got {mode!r}")
        out = []
        for rid, amount in request.items():
            slot = self._slot(rid)
            error = error_pair(ResourceUnavailable, ResourceTypeError, resource_id=rid)
            value = check_amount(amount, f"resource {rid!r} amount", error, unit=slot.unit)
            if value - slot.capacity > _EPS * max(1.0, slot.capacity):
                raise ResourceUnavailable(
                    f"{value:g} {slot.unit} of {rid!r} can never be granted: its capacity is "
                    f"{slot.capacity:g}; ask for less or add capacity",
                    resource_id=rid,
                )
            out.append((slot, value))
        return out

    def _can_grant(self, holder: str, slot: _Slot, amount: float, mode: str) -> bool:
        mine = slot.holders.get(holder)
        if mine is not None and mine.mode == "exclusive":
            return True  # it already holds everything
        if mode == "exclusive":
            return all(h == holder for h in slot.holders)
        return slot.fits(amount)

    def _grant_locked(
        self,
        holder: str,
        request: Mapping[str, float],
        mode: str,
        expires_in: float | None,
        changes: list[ResourceChange],
    ) -> bool:
        wanted = self._validate(request, mode)
        if not all(self._can_grant(holder, s, a, mode) for s, a in wanted):
            return False
        now = self._clock()
        expires_at = None if expires_in is None else now + expires_in
        for slot, amount in wanted:
            taken = self._book(holder, slot, amount, mode, expires_at)
            slot.recount(now)
            slot.count += 1
            changes.append(
                ResourceChange("allocated", slot.resource_id, holder, taken, slot.allocated)
            )
        return True

    def _book(
        self, holder: str, slot: _Slot, amount: float, mode: str, expires_at: float | None
    ) -> float:
        """Record the grant; return the amount newly booked."""
        held = slot.holders.get(holder)
        before = 0.0 if held is None else held.amount
        if held is None:
            held = _Held(0.0, mode, expires_at, self._wall())
            slot.holders[holder] = held
            self._by_holder.setdefault(holder, {})[slot.resource_id] = held
        if held.mode == "exclusive" or mode == "exclusive":
            held.mode, held.amount = "exclusive", slot.capacity
        else:
            held.amount += amount
        held.expires_at = expires_at
        if expires_at is not None:
            heapq.heappush(self._expiries, (expires_at, holder, slot.resource_id))
        return held.amount - before

    def _drop_locked(
        self, holder: str, resource_id: str, kind: ChangeKind, changes: list[ResourceChange]
    ) -> float:
        slot = self._slots.get(resource_id)
        held = None if slot is None else slot.holders.pop(holder, None)
        if slot is None or held is None:
            return 0.0
        self._forget_holder_entry(holder, resource_id)
        slot.recount(self._clock())
        changes.append(ResourceChange(kind, resource_id, holder, held.amount, slot.allocated))
        self._cond.notify_all()
        return held.amount

    def _forget_holder_entry(self, holder: str, resource_id: str) -> None:
        mine = self._by_holder.get(holder)
        if mine is not None:
            mine.pop(resource_id, None)
            if not mine:
                del self._by_holder[holder]

    def _expire_locked(self) -> list[ResourceChange]:
        changes: list[ResourceChange] = []
        heap = self._expiries
        if not heap:
            return changes
        now = self._clock()
        while heap and heap[0][0] <= now:
            at, holder, rid = heapq.heappop(heap)
            slot = self._slots.get(rid)
            held = None if slot is None else slot.holders.get(holder)
            # Stale heap entries (released, or expiry moved by a later grant) are skipped.
            if held is not None and held.expires_at == at:
                self._drop_locked(holder, rid, "expired", changes)
        return changes

    def _wait_time(self, deadline: float | None) -> float | None:
        now = self._clock()
        waits = []
        if deadline is not None:
            waits.append(deadline - now)
        if self._expiries:
            waits.append(max(0.0, self._expiries[0][0] - now) + 1e-3)
        return min(waits) if waits else None

    def _wait_locked(self, request: Mapping[str, float], wait: float | None) -> None:
        slots = [self._slots[rid] for rid in request if rid in self._slots]
        for slot in slots:
            slot.waiting += 1
        try:
            self._cond.wait(wait)
        finally:
            for slot in slots:
                slot.waiting -= 1

    def _stats_locked(self, slot: _Slot) -> ResourceStatistics:
        allocated = slot.allocated
        return ResourceStatistics(
            resource_id=slot.resource_id,
            name=slot.name,
            kind=slot.kind,
            unit=slot.unit,
            capacity=slot.capacity,
            allocated=allocated,
            available=slot.available(),
            holders=tuple((h, x.amount, x.mode) for h, x in slot.holders.items()),
            peak=slot.peak,
            average=slot.average(self._clock()),
            utilisation=min(1.0, allocated / slot.capacity),
            waiting=slot.waiting,
            allocation_count=slot.count,
            mean_level=slot.level_sum / slot.level_count if slot.level_count else 0.0,
        )

    def _as_holding(self, holder: str, resource_id: str, held: _Held) -> Holding:
        expires = None
        if held.expires_at is not None:
            expires = self._wall() + (held.expires_at - self._clock())
        return Holding(holder, resource_id, held.amount, held.mode, held.granted_at, expires)

    def _holding_locked(self, holder: str, resource_id: str) -> Holding | None:
        held = self._by_holder.get(holder, {}).get(resource_id)
        return None if held is None else self._as_holding(holder, resource_id, held)

    def _holdings_locked(self, holder: str | None) -> list[Holding]:
        return [
            self._as_holding(name, slot.resource_id, held)
            for slot in self._slots.values()
            for name, held in slot.holders.items()
            if holder is None or name == holder
        ]

    def _emit(self, changes: list[ResourceChange]) -> None:
        if not changes:
            return
        for callback in self._subscribers:
            for change in changes:
                try:
                    callback(change)
                except Exception:
                    log.exception("resource subscriber %r failed on %s", callback, change.kind)
