"""The original package's ResourceManager surface, on top of ours.

:class:`ResourceManagerCompat` is a mixin of
:class:`~codomyrmex_jupyter.api.resources.ResourceManager`. Its attributes are
views of the resource table and of the pool's books (one source of truth):

* ``resources`` -- ``{resource_id: Resource}`` (read-only, live);
* ``allocations`` -- ``{task_id: {resource_id: ResourceAllocation}}`` of every
  holder, workflow steps and sessions included. It is writable, as it was in
  the original: assigning ``allocations[task] = {rid: allocation}`` books those
  allocations in the pool (all or nothing, raising
  :class:`~codomyrmex_jupyter.errors.ResourceUnavailable` when they do not
  fit), ``del allocations[task]`` releases them;
* ``usage_stats`` -- ``{resource_id: ResourceUsage}`` (read-only, live);
* ``lock`` and ``logger``.

An allocation's ``timeout`` is a lease the pool knows nothing of: it is kept
beside the pool (``_leases``, dropped when the pool releases the allocation)
and :meth:`~ResourceManagerCompat.cleanup_expired_allocations` releases the
allocations whose lease has ended.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import ResourceUnavailable
from .live_views import MISSING, LiveDict

if TYPE_CHECKING:
    from ..engine.resources import ResourcePool, ResourceStatistics
    from .resources import Resource, ResourceAllocation, ResourceUsage

__all__ = ["ResourceManagerCompat"]

log = logging.getLogger("codomyrmex_jupyter.api.resources")

class ResourceManagerCompat:
    """Mixin: the original ResourceManager's attributes and methods."""

    # Provided by ResourceManager.
    pool: ResourcePool
    _resources: dict[str, Resource]
    _leases: dict[tuple[str, str], tuple[float, float | None]]
    _lock: threading.RLock
    get_resource_usage: Callable[[str], ResourceUsage | None]
    release_resource: Callable[[str, str], bool]
    release_all: Callable[[str], int]
    _remember: Callable[[ResourceAllocation], None]

    # -- attributes -------------------------------------------------------------------------
    @property
    def resources(self) -> MappingProxyType[str, Resource]:
        """``{resource_id: Resource}`` in the order they were added (read-only, live)."""
        return MappingProxyType(self._resources)

    @property
    def lock(self) -> threading.RLock:
        """The lock guarding the resource table."""
        return self._lock

    @property
    def logger(self) -> logging.Logger:
        """The logger this manager writes to."""
        return log

    @property
    def usage_stats(self) -> LiveDict[str, ResourceUsage]:
        """``{resource_id: ResourceUsage}`` of every resource, computed when read."""
        return LiveDict(
            "ResourceManager.usage_stats", lambda: list(self._resources), self._usage_or_missing,
            hint="usage follows allocate_resource/release_resource",
        )

    def _usage_or_missing(self, resource_id: Any) -> Any:
        usage = self.get_resource_usage(resource_id)
        return MISSING if usage is None else usage

    @property
    def allocations(self) -> LiveDict[str, LiveDict[str, ResourceAllocation]]:
        """``{holder: {resource_id: ResourceAllocation}}`` of every allocation (live, writable)."""
        return LiveDict(
            "ResourceManager.allocations", self._holders, self._holder_view,
            set=self._assign_holder, delete=lambda holder: self.release_all(holder) > 0,
        )

    def _holders(self) -> list[str]:
        return list(dict.fromkeys(h.holder for h in self.pool.holdings()))

    def _holder_view(self, holder: Any) -> Any:
        if not isinstance(holder, str) or not self.pool.holdings(holder):
            return MISSING
        return LiveDict(
            f"ResourceManager.allocations[{holder!r}]",
            lambda: [h.resource_id for h in self.pool.holdings(holder)],
            lambda rid: self._allocation_or_missing(holder, rid),
            set=lambda rid, alloc: self._assign_one(holder, rid, alloc),
            delete=lambda rid: self.release_resource(holder, rid),
        )

    def _allocation_or_missing(self, holder: str, resource_id: Any) -> Any:
        from .resources import ResourceAllocation

        holding = self.pool.holding(holder, resource_id) if isinstance(resource_id, str) else None
        if holding is None:
            return MISSING
        return ResourceAllocation.from_holding(holding, self._leases.get((holder, resource_id)))

    def _assign_holder(self, holder: str, allocations: Mapping[str, ResourceAllocation]) -> None:
        """Replace everything ``holder`` has by ``allocations``, all or nothing."""
        before = [self._allocation_or_missing(holder, h.resource_id)
                  for h in self.pool.holdings(holder)]
        self.release_all(holder)
        booked: list[str] = []
        try:
            for resource_id, allocation in allocations.items():
                self._assign_one(holder, resource_id, allocation)
                booked.append(resource_id)
        except BaseException:
            for resource_id in booked:
                self.release_resource(holder, resource_id)
            for old in before:
                try:
                    self._book(holder, old)
                except ResourceUnavailable as exc:  # taken by another thread meanwhile
                    log.warning("allocation of %r to %r not restored: %s",
                                old.resource_id, holder, exc)
            raise

    def _assign_one(self, holder: str, resource_id: str, allocation: ResourceAllocation) -> None:
        if allocation.resource_id != resource_id or allocation.task_id != holder:
            raise ValueError(
                f"allocation of {allocation.resource_id!r} to {allocation.task_id!r} cannot be "
                f"stored under [{holder!r}][{resource_id!r}]; use matching ids"
            )
        if self.pool.holding(holder, resource_id) is not None:
            self.release_resource(holder, resource_id)
        self._book(holder, allocation)

    def _book(self, holder: str, allocation: ResourceAllocation) -> None:
        resource = self._resources.get(allocation.resource_id)
        if resource is None:
            raise ResourceUnavailable(
                f"unknown resource {allocation.resource_id!r}; add it first",
                resource_id=allocation.resource_id,
            )
        expires_in = None
        if allocation.expires_at is not None:
            expires_in = max(allocation.expires_at.timestamp() - time.time(), 1e-9)
        granted = self.pool.try_acquire(
            holder, {allocation.resource_id: allocation.allocated_amount},
            mode=allocation.mode, expires_in=expires_in,
        )
        if not granted:
            raise ResourceUnavailable(
                f"{allocation.allocated_amount:g} of {allocation.resource_id!r} does not fit: "
                f"{self.pool.available(allocation.resource_id):g} available",
                resource_id=allocation.resource_id,
            )
        with self._lock:
            self._leases[(holder, allocation.resource_id)] = (
                allocation.allocation_time, allocation.timeout
            )
        self._remember(self._allocation_or_missing(holder, allocation.resource_id))

    # -- methods ----------------------------------------------------------------------------
    def get_all_usage_stats(self) -> dict[str, ResourceUsage]:
        """``{resource_id: ResourceUsage}`` of every resource, now."""
        return dict(self.usage_stats.items())

    def cleanup_expired_allocations(self) -> int:
        """Release every allocation whose lease or expiry has passed; return how many.

        A lease ends ``timeout`` seconds after ``allocation_time``
        (``allocation_time + timeout < now``); an ``expires_at`` allocation is
        released by the pool at its expiry.
        """
        now = time.time()
        with self._lock:
            ended = [key for key, (start, timeout) in self._leases.items()
                     if timeout is not None and start + timeout < now]
        released = sum(self.release_resource(holder, rid) for holder, rid in ended)
        return released + self.pool.expire()

    @staticmethod
    def _original_summary_keys(
        resources: Mapping[str, Resource],
        snap: Mapping[str, ResourceStatistics],
        by_type: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Any]:
        """The original summary's plain sums and per-type counts, from what the summary read."""
        stats = [snap[rid] for rid in resources]
        return {
            "total_capacity": math.fsum(st.capacity for st in stats),
            "total_allocated": math.fsum(st.allocated for st in stats),
            "total_available": math.fsum(st.available for st in stats),
            "resource_types": {kind: row["count"] for kind, row in by_type.items()},
        }
