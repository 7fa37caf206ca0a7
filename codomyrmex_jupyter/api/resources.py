"""ResourceManager: the seed's resource API on top of the engine's ResourcePool.

The accounting lives in :class:`~codomyrmex_jupyter.engine.resources.ResourcePool`
(``manager.pool``), which the workflow runner and the TaskOrchestrator use
directly; this module adds the seed's data classes, persistence and summaries.

Persistence
-----------
With a store, each resource definition is a ``"resource"`` document (key: its
id) and each allocation made through :meth:`ResourceManager.allocate_resource`
is an ``"allocation"`` document (key: ``"resource_id|task_id"``), written on
every change. A new manager on the same store loads both; allocations whose
expiry has passed are dropped. Holds taken directly on the pool (running
workflow steps) are not stored: they end with the process that took them.

The in-memory pool is authoritative per process: two managers on one store
(two kernels, or two instances in a test) each keep their own books, loaded
when they were built, and each writes only the documents of its own changes.
"""

from __future__ import annotations

import enum
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..engine.resources import (
    MODES,
    Holding,
    ResourceChange,
    ResourcePool,
    ResourceStatistics,
)
from ..engine.store import Store
from ..engine.validation import check_amount, check_seconds, error_pair
from ..errors import ResourceTypeError, ResourceUnavailable
from .resources_compat import ResourceManagerCompat

__all__ = [
    "Resource",
    "ResourceAllocation",
    "ResourceManager",
    "ResourceStatus",
    "ResourceType",
    "ResourceUsage",
]

log = logging.getLogger(__name__)

RESOURCE_KIND = "resource"
ALLOCATION_KIND = "allocation"


class ResourceType(enum.Enum):
    """What a resource is."""

    CPU = "cpu"
    MEMORY = "memory"
    DISK = "disk"
    NETWORK = "network"
    GPU = "gpu"
    DATABASE = "database"
    API = "api"
    CUSTOM = "custom"
    # The original package's other kinds.
    FILE = "file"
    EXTERNAL_API = "external_api"
    QUEUE = "queue"
    LOCK = "lock"
    SEMAPHORE = "semaphore"


class ResourceStatus(enum.Enum):
    """State of a resource.

    ``AVAILABLE`` and ``BUSY`` (nothing left) follow the allocations;
    ``MAINTENANCE``, ``OFFLINE``, ``RESERVED`` and ``UNAVAILABLE`` are set by
    the user and refuse new allocations through
    :meth:`ResourceManager.allocate_resource`. ``IN_USE`` is the original
    package's status of an allocation (:attr:`ResourceAllocation.status`); set
    on a resource, it is replaced by AVAILABLE/BUSY at the next allocation
    change.
    """

    AVAILABLE = "available"
    BUSY = "busy"
    MAINTENANCE = "maintenance"
    OFFLINE = "offline"
    IN_USE = "in_use"
    RESERVED = "reserved"
    UNAVAILABLE = "unavailable"


_HELD_BACK = (
    ResourceStatus.MAINTENANCE, ResourceStatus.OFFLINE, ResourceStatus.RESERVED,
    ResourceStatus.UNAVAILABLE,
)


@dataclass
class Resource:
    """A resource tasks and steps take amounts of."""

    id: str
    name: str
    resource_type: ResourceType
    capacity: float
    unit: str = "units"
    status: ResourceStatus = ResourceStatus.AVAILABLE
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resource_type = ResourceType(self.resource_type)
        self.status = ResourceStatus(self.status)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data."""
        return {
            "id": self.id,
            "name": self.name,
            "resource_type": self.resource_type.value,
            "capacity": self.capacity,
            "unit": self.unit,
            "status": self.status.value,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Resource:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=str(data["id"]),
            name=str(data.get("name") or data["id"]),
            resource_type=ResourceType(data.get("resource_type", "custom")),
            capacity=float(data["capacity"]),
            unit=str(data.get("unit", "units")),
            status=ResourceStatus(data.get("status", "available")),
            metadata=dict(data.get("metadata") or {}),
        )


@dataclass(init=False)
class ResourceAllocation:
    """What one task holds of one resource.

    ``allocated_amount`` is the task's whole allocation of the resource (a
    second allocation for the same task adds to it); an exclusive allocation
    holds the full capacity.

    ``expires_at`` releases the allocation by itself (lazily, at the next
    pool operation). ``timeout`` is the original package's lease: seconds
    after ``allocation_time`` (epoch seconds, another view of
    ``allocated_at``) after which :meth:`ResourceManager.cleanup_expired_allocations`
    releases it. ``status`` is ``ResourceStatus.IN_USE`` while it is held.
    """

    resource_id: str
    task_id: str
    allocated_amount: float
    allocated_at: datetime
    expires_at: datetime | None
    mode: str
    timeout: float | None
    status: ResourceStatus

    def __init__(  # noqa: PLR0917 - positional, as the original package's
        self,
        resource_id: str,
        task_id: str,
        allocated_amount: float,
        allocated_at: datetime | None = None,
        expires_at: datetime | None = None,
        mode: str = "shared",
        timeout: float | None = None,
        status: ResourceStatus = ResourceStatus.IN_USE,
        *,
        allocation_time: float | None = None,
    ) -> None:
        if allocated_at is None:
            allocated_at = (
                datetime.now(timezone.utc) if allocation_time is None
                else datetime.fromtimestamp(allocation_time, timezone.utc)
            )
        self.resource_id = resource_id
        self.task_id = task_id
        self.allocated_amount = allocated_amount
        self.allocated_at = allocated_at
        self.expires_at = expires_at
        self.mode = mode
        self.timeout = timeout
        self.status = ResourceStatus(status)

    @property
    def allocation_time(self) -> float:
        """``allocated_at`` as epoch seconds (the original package's field)."""
        return self.allocated_at.timestamp()

    @allocation_time.setter
    def allocation_time(self, value: float) -> None:
        self.allocated_at = datetime.fromtimestamp(value, timezone.utc)

    def lease_expired(self, now: float) -> bool:
        """Its ``timeout`` lease ended before ``now`` (epoch seconds)."""
        return self.timeout is not None and self.allocation_time + self.timeout < now

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (ISO times)."""
        return {
            "resource_id": self.resource_id,
            "task_id": self.task_id,
            "allocated_amount": self.allocated_amount,
            "allocated_at": self.allocated_at.isoformat(),
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "mode": self.mode,
            "allocation_time": self.allocation_time,
            "timeout": self.timeout,
            "status": self.status.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResourceAllocation:
        """Inverse of :meth:`to_dict`."""
        expires = data.get("expires_at")
        allocated = data.get("allocated_at")
        timeout = data.get("timeout")
        return cls(
            resource_id=str(data["resource_id"]),
            task_id=str(data["task_id"]),
            allocated_amount=float(data["allocated_amount"]),
            allocated_at=datetime.fromisoformat(allocated) if allocated else None,
            expires_at=datetime.fromisoformat(expires) if expires else None,
            mode=str(data.get("mode", "shared")),
            timeout=None if timeout is None else float(timeout),
            status=ResourceStatus(data.get("status", "in_use")),
            allocation_time=data.get("allocation_time"),
        )

    @classmethod
    def from_holding(
        cls, holding: Holding, lease: tuple[float, float | None] | None = None
    ) -> ResourceAllocation:
        """The allocation a pool :class:`Holding` describes (``lease``: its start and timeout)."""
        expires = holding.expires_at
        start, timeout = lease if lease is not None else (holding.granted_at, None)
        return cls(
            resource_id=holding.resource_id,
            task_id=holding.holder,
            allocated_amount=holding.amount,
            allocated_at=datetime.fromtimestamp(start, timezone.utc),
            expires_at=None if expires is None else datetime.fromtimestamp(expires, timezone.utc),
            mode=holding.mode,
            timeout=timeout,
        )


@dataclass
class ResourceUsage:
    """Usage of one resource since it was added.

    ``average_usage`` is the mean of the allocated amount as it stood after
    each allocation or release (the original package's measure: it does not
    depend on timing). ``time_weighted_average`` is the mean allocated
    amount over the resource's lifetime in this process (what the gauges
    show). ``last_updated`` is when this snapshot was taken.
    """

    resource_id: str
    current_usage: float = 0.0
    peak_usage: float = 0.0
    average_usage: float = 0.0
    allocation_count: int = 0
    utilisation: float = 0.0
    last_updated: datetime | float = field(default_factory=lambda: datetime.now(timezone.utc))
    time_weighted_average: float = 0.0


def _doc_key(resource_id: str, task_id: str) -> str:
    return f"{resource_id}|{task_id}"


def _status_for(allocated: float, capacity: float) -> ResourceStatus:
    return ResourceStatus.BUSY if allocated >= capacity * (1 - 1e-9) else ResourceStatus.AVAILABLE


def system_memory_mb() -> float | None:
    """Total memory of this machine in MB (``/proc/meminfo``, else ``sysconf``), or ``None``."""
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024, 1)
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20, 1)
    except (ValueError, OSError, AttributeError):
        log.warning("cannot read this machine's memory size; system.memory not added")
        return None


class ResourceManager(ResourceManagerCompat):
    """Resources, their allocations to tasks, and usage statistics.

    Parameters
    ----------
    store:
        Where definitions and allocations persist; ``None`` keeps everything in
        memory (nothing is written).
    """

    def __init__(self, *, store: Store | None = None) -> None:
        self.store = store
        self.pool = ResourcePool()
        self._resources: dict[str, Resource] = {}
        self._stored: set[tuple[str, str]] = set()  # (resource_id, task_id) with a document
        # (holder, resource_id) -> (allocation_time, timeout): what the pool does not keep
        self._leases: dict[tuple[str, str], tuple[float, float | None]] = {}
        self._lock = threading.RLock()
        self._unsubscribe: Callable[[], None] | None = self.pool.subscribe(self._on_change)
        if store is not None:
            self._load()

    # -- resources --------------------------------------------------------------------
    def add_resource(self, resource: Resource) -> bool:
        """Add ``resource``; False if a resource with its id exists.

        Raises
        ------
        ResourceUnavailable
            If its capacity is not a positive finite number.
        """
        with self._lock:
            if resource.id in self._resources or resource.id in self.pool:
                return False
            self.pool.add(
                resource.id, resource.capacity, name=resource.name,
                kind=resource.resource_type.value, unit=resource.unit,
            )
            self._resources[resource.id] = resource
            self._put(RESOURCE_KIND, resource.id, resource.to_dict())
        return True

    def remove_resource(self, resource_id: str) -> bool:
        """Forget a resource and its allocations; False if it is unknown."""
        with self._lock:
            if self._resources.pop(resource_id, None) is None:
                return False
            self.pool.remove(resource_id)
            for key in [k for k in self._leases if k[1] == resource_id]:
                del self._leases[key]
            self._delete(RESOURCE_KIND, resource_id)
            for key in [k for k in self._stored if k[0] == resource_id]:
                self._forget_doc(*key)
        return True

    def get_resource(self, resource_id: str) -> Resource | None:
        """The resource with this id, or ``None``."""
        resource = self._resources.get(resource_id)
        if resource is not None:
            self._refresh_status(resource)
        return resource

    def list_resources(self, resource_type: ResourceType | None = None) -> list[Resource]:
        """Every resource (of one type), in the order they were added."""
        wanted = None if resource_type is None else ResourceType(resource_type)
        out = [r for r in list(self._resources.values()) if wanted in (None, r.resource_type)]
        for resource in out:
            self._refresh_status(resource)
        return out

    def add_system_resources(self) -> list[Resource]:
        """Add this machine's CPU cores (``system.cpu``) and memory (``system.memory``, MB).

        Returns the resources that were added (an id that exists is left alone).
        """
        candidates = [
            Resource("system.cpu", "CPU cores", ResourceType.CPU, float(os.cpu_count() or 1), "cores")
        ]
        memory = system_memory_mb()
        if memory:
            candidates.append(Resource("system.memory", "Memory", ResourceType.MEMORY, memory, "MB"))
        return [r for r in candidates if self.add_resource(r)]

    # -- allocations --------------------------------------------------------------------
    def allocate_resource(
        self,
        resource_id: str,
        task_id: str,
        amount: float,
        *,
        expires_in: float | None = None,
        mode: str = "shared",
    ) -> ResourceAllocation | None:
        """Allocate ``amount`` of a resource to a task; ``None`` if it cannot be granted now.

        Parameters
        ----------
        expires_in:
            Seconds after which the allocation is released by itself.
        mode:
            ``"shared"``, or ``"exclusive"`` (the whole resource, only when no
            other task holds any of it).

        Raises
        ------
        ResourceUnavailable
            If ``amount`` is not positive or ``mode`` is unknown (bad input, not
            shortage: shortage returns ``None``).
        """
        self._check_request(amount, mode, expires_in)
        resource = self._resources.get(resource_id)
        if resource is None or resource.status in _HELD_BACK:
            why = "unknown" if resource is None else resource.status.value
            log.debug("allocation of %s to %s refused: resource %s", resource_id, task_id, why)
            return None
        if not self._try_take(resource, task_id, amount, mode, expires_in):
            return None
        holding = self.pool.holding(task_id, resource_id)
        if holding is None:  # expired at once (expires_in <= 0)
            return None
        allocation = ResourceAllocation.from_holding(holding)
        self._remember(allocation)
        return allocation

    def release_resource(self, task_id: str, resource_id: str) -> bool:
        """Give back what a task holds of a resource; False if it held none."""
        released = self.pool.release(task_id, resource_id) > 0
        self._forget_doc(resource_id, task_id)
        return released

    def release_all(self, task_id: str) -> int:
        """Give back everything a task holds; return how many allocations ended."""
        held = [h.resource_id for h in self.pool.holdings(task_id)]
        self.pool.release(task_id)
        for resource_id in held:
            self._forget_doc(resource_id, task_id)
        return len(held)

    def list_allocations(self, task_id: str | None = None) -> list[ResourceAllocation]:
        """Active allocations (of one task), including holds of running workflow steps."""
        leases = self._leases
        return [
            ResourceAllocation.from_holding(h, leases.get((h.holder, h.resource_id)))
            for h in self.pool.holdings(task_id)
        ]

    # -- reading ---------------------------------------------------------------------------
    def get_available_capacity(self, resource_id: str) -> float:
        """What is left of a resource now (0.0 for an unknown resource)."""
        if resource_id not in self._resources:
            return 0.0
        return self.pool.available(resource_id)

    def get_resource_usage(self, resource_id: str) -> ResourceUsage | None:
        """Current, peak and average usage, or ``None`` if the resource is unknown."""
        if resource_id not in self._resources:
            return None
        st = self.pool.statistics(resource_id)
        return ResourceUsage(
            resource_id=resource_id,
            current_usage=st.allocated,
            peak_usage=st.peak,
            average_usage=st.mean_level,
            allocation_count=st.allocation_count,
            utilisation=st.utilisation,
            time_weighted_average=st.average,
        )

    def statistics(self, resource_id: str) -> ResourceStatistics:
        """The pool's frozen snapshot of one resource (what gauges read)."""
        return self.pool.statistics(resource_id)

    def snapshot(self) -> dict[str, ResourceStatistics]:
        """Frozen snapshots of every resource, by id."""
        return self.pool.snapshot()

    def subscribe(self, callback: Callable[[ResourceChange], object]) -> Callable[[], None]:
        """Call ``callback(change)`` after every pool change; return the unsubscribe function."""
        return self.pool.subscribe(callback)

    def get_resource_summary(self) -> dict[str, Any]:
        """Totals by type, every resource, and the active allocations.

        ``utilisation`` is the mean of the resources' utilisations (their units
        differ, so capacities are not added across types). The original
        package's plain sums are there too: ``total_capacity``,
        ``total_allocated``, ``total_available``, and ``resource_types``
        (resources per type).
        """
        snap = self.pool.snapshot()
        resources = {rid: r for rid, r in list(self._resources.items()) if rid in snap}
        allocations = [a.to_dict() for a in self.list_allocations()]
        utils = [snap[rid].utilisation for rid in resources]
        by_type = _by_type(resources, snap)
        return {
            "total_resources": len(resources),
            "by_type": by_type,
            "resources": {rid: _resource_row(r, snap[rid]) for rid, r in resources.items()},
            "active_allocations": len(allocations),
            "allocations": allocations,
            "utilisation": math.fsum(utils) / len(utils) if utils else 0.0,
            **self._original_summary_keys(resources, snap, by_type),
        }

    def shutdown(self) -> None:
        """Stop listening to the pool (idempotent). Allocations stay stored."""
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()

    # -- internals ------------------------------------------------------------------------
    @staticmethod
    def _check_request(amount: float, mode: str, expires_in: float | None) -> None:
        error = error_pair(ResourceUnavailable, ResourceTypeError)
        check_amount(amount, "amount", error)
        if mode not in MODES:
            raise ResourceUnavailable(f"mode must be 'shared' or 'exclusive', got {mode!r}")
        check_seconds(expires_in, "expires_in", error)

    def _try_take(
        self, resource: Resource, task_id: str, amount: float, mode: str, expires_in: float | None
    ) -> bool:
        try:
            granted = self.pool.try_acquire(
                task_id, {resource.id: amount}, mode=mode, expires_in=expires_in
            )
        except ResourceUnavailable as exc:  # more than its capacity: never grantable
            log.debug("allocation of %s to %s refused: %s", resource.id, task_id, exc)
            return False
        if not granted:
            log.debug(
                "allocation of %g %s of %s to %s refused: only %g available",
                amount, resource.unit, resource.id, task_id, self.pool.available(resource.id),
            )
        return granted

    def _on_change(self, change: ResourceChange) -> None:
        resource = self._resources.get(change.resource_id)
        if resource is not None and resource.status not in _HELD_BACK:
            resource.status = _status_for(change.allocated_after, resource.capacity)
        if change.kind in ("released", "expired") and change.holder is not None:
            self._leases.pop((change.holder, change.resource_id), None)
        if change.kind == "expired" and change.holder is not None:
            self._forget_doc(change.resource_id, change.holder)

    def _refresh_status(self, resource: Resource) -> None:
        # Callbacks of concurrent changes may run out of order; reads fix it up.
        if resource.status in _HELD_BACK or resource.id not in self.pool:
            return
        st = self.pool.statistics(resource.id)
        resource.status = _status_for(st.allocated, st.capacity)

    def _remember(self, allocation: ResourceAllocation) -> None:
        if self.store is None:
            return
        key = (allocation.resource_id, allocation.task_id)
        with self._lock:
            self._stored.add(key)
            self._put(ALLOCATION_KIND, _doc_key(*key), allocation.to_dict())

    def _forget_doc(self, resource_id: str, task_id: str) -> None:
        with self._lock:
            if (resource_id, task_id) not in self._stored:
                return
            self._stored.discard((resource_id, task_id))
            self._delete(ALLOCATION_KIND, _doc_key(resource_id, task_id))

    def _put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        if self.store is not None:
            self.store.put_doc(kind, key, value)

    def _delete(self, kind: str, key: str) -> None:
        if self.store is not None:
            self.store.delete_doc(kind, key)

    def _load(self) -> None:
        assert self.store is not None
        for key, doc in self.store.list_docs(RESOURCE_KIND).items():
            try:
                resource = Resource.from_dict(doc)
                self.add_resource(resource)
            except (KeyError, TypeError, ValueError, ResourceUnavailable) as exc:
                log.warning("stored resource %r is not valid and was skipped: %s", key, exc)
        for key, doc in self.store.list_docs(ALLOCATION_KIND).items():
            self._load_allocation(key, doc)

    def _load_allocation(self, key: str, doc: Any) -> None:
        assert self.store is not None
        try:
            alloc = ResourceAllocation.from_dict(doc)
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("stored allocation %r is not valid and was dropped: %s", key, exc)
            self.store.delete_doc(ALLOCATION_KIND, key)
            return
        expires_in = None
        if alloc.expires_at is not None:
            expires_in = (alloc.expires_at - datetime.now(timezone.utc)).total_seconds()
            if expires_in <= 0:
                self.store.delete_doc(ALLOCATION_KIND, key)
                return
        resource = self._resources.get(alloc.resource_id)
        if resource is None or not self._try_take(
            resource, alloc.task_id, alloc.allocated_amount, alloc.mode, expires_in
        ):
            log.warning("stored allocation %r no longer fits its resource and was dropped", key)
            self.store.delete_doc(ALLOCATION_KIND, key)
            return
        with self._lock:
            self._stored.add((alloc.resource_id, alloc.task_id))
            if alloc.timeout is not None:
                self._leases[(alloc.task_id, alloc.resource_id)] = (
                    alloc.allocation_time, alloc.timeout
                )


def _resource_row(resource: Resource, st: ResourceStatistics) -> dict[str, Any]:
    return {
        "name": resource.name,
        "type": resource.resource_type.value,
        "unit": resource.unit,
        "status": resource.status.value,
        "capacity": st.capacity,
        "allocated": st.allocated,
        "available": st.available,
        "utilisation": st.utilisation,
        "holders": [list(h) for h in st.holders],
    }


def _by_type(
    resources: dict[str, Resource], snap: dict[str, ResourceStatistics]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for rid, resource in resources.items():
        row = out.setdefault(
            resource.resource_type.value, {"count": 0, "capacity": 0.0, "allocated": 0.0}
        )
        row["count"] += 1
        row["capacity"] += snap[rid].capacity
        row["allocated"] += snap[rid].allocated
    for row in out.values():
        row["utilisation"] = row["allocated"] / row["capacity"] if row["capacity"] else 0.0
    return out
