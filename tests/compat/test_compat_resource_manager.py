"""ResourceManager: the original package's enums, fields, views, leases and summary.

Written from ../shared/compat/original-api.md ("ResourceManager (rm)").
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from codomyrmex_jupyter import (
    Resource,
    ResourceAllocation,
    ResourceManager,
    ResourceStatus,
    ResourceType,
    ResourceUnavailable,
    ResourceUsage,
)
from codomyrmex_jupyter.engine.store import Store


@pytest.fixture
def rm() -> ResourceManager:
    m = ResourceManager()
    m.add_resource(Resource("cpu_1", "CPU", ResourceType.CPU, 100.0))
    m.add_resource(Resource("mem_1", "Memory", ResourceType.MEMORY, 1024.0))
    return m


def test_enum_members() -> None:
    for name, value in [("FILE", "file"), ("EXTERNAL_API", "external_api"), ("QUEUE", "queue"),
                        ("LOCK", "lock"), ("SEMAPHORE", "semaphore")]:
        assert ResourceType[name].value == value
    assert ResourceStatus.IN_USE.value == "in_use"
    assert ResourceStatus("reserved") is ResourceStatus.RESERVED
    assert ResourceStatus("unavailable") is ResourceStatus.UNAVAILABLE


def test_reserved_and_unavailable_resources_refuse_allocations(rm: ResourceManager) -> None:
    for status in (ResourceStatus.RESERVED, ResourceStatus.UNAVAILABLE):
        rm.get_resource("cpu_1").status = status  # type: ignore[union-attr]
        assert rm.allocate_resource("cpu_1", "t", 1.0) is None
    rm.get_resource("cpu_1").status = ResourceStatus.IN_USE  # type: ignore[union-attr]
    assert rm.allocate_resource("cpu_1", "t", 1.0) is not None
    assert rm.get_resource("cpu_1").status is ResourceStatus.AVAILABLE  # type: ignore[union-attr]


def test_resource_usage_fields_default() -> None:
    usage = ResourceUsage("r")
    assert (usage.current_usage, usage.peak_usage, usage.average_usage) == (0.0, 0.0, 0.0)
    assert (usage.allocation_count, usage.utilisation) == (0, 0.0)
    assert isinstance(usage.last_updated, datetime)
    assert ResourceUsage("r", last_updated=123.0).last_updated == 123.0


def test_resources_lock_logger_and_usage_stats_are_views(rm: ResourceManager) -> None:
    assert list(rm.resources) == ["cpu_1", "mem_1"]
    assert rm.resources["cpu_1"] is rm.get_resource("cpu_1")
    with pytest.raises(TypeError):
        rm.resources["x"] = Resource("x", "x", ResourceType.CPU, 1.0)  # type: ignore[index]
    rm.remove_resource("mem_1")
    assert list(rm.resources) == ["cpu_1"]
    with rm.lock:
        pass
    assert isinstance(rm.logger, logging.Logger)
    rm.allocate_resource("cpu_1", "t", 40.0)
    assert set(rm.usage_stats) == {"cpu_1"}
    assert rm.usage_stats["cpu_1"].current_usage == 40.0
    all_usage = rm.get_all_usage_stats()
    assert isinstance(all_usage, dict)
    assert set(all_usage) == {"cpu_1"}
    assert all_usage["cpu_1"].current_usage == 40.0
    with pytest.raises(TypeError, match="read-only"):
        rm.usage_stats["cpu_1"] = ResourceUsage("cpu_1")


def test_average_usage_is_the_mean_level_after_each_change(rm: ResourceManager) -> None:
    rm.allocate_resource("cpu_1", "a", 50.0)
    assert rm.get_resource_usage("cpu_1").average_usage == 50.0  # type: ignore[union-attr]
    rm.allocate_resource("cpu_1", "b", 30.0)  # level 80
    rm.release_resource("a", "cpu_1")  # level 30
    usage = rm.get_resource_usage("cpu_1")
    assert usage.average_usage == pytest.approx((50 + 80 + 30) / 3)  # type: ignore[union-attr]
    assert usage.peak_usage == 80.0  # type: ignore[union-attr]
    assert 0.0 <= usage.time_weighted_average <= 80.0  # type: ignore[union-attr]


def test_allocation_fields() -> None:
    a = ResourceAllocation(resource_id="r", task_id="t", allocated_amount=5.0)
    assert (a.timeout, a.status) == (None, ResourceStatus.IN_USE)
    assert abs(a.allocation_time - time.time()) < 5
    b = ResourceAllocation("r", "t", 5.0, allocation_time=1000.0, timeout=30)
    assert b.allocation_time == 1000.0
    assert b.allocated_at.timestamp() == 1000.0
    assert b.lease_expired(1031.0) and not b.lease_expired(1029.0)
    assert ResourceAllocation.from_dict(b.to_dict()) == b


def test_allocations_view_reads_the_pool(rm: ResourceManager) -> None:
    assert rm.allocations == {}
    a = rm.allocate_resource("cpu_1", "task_1", 25.0)
    rm.allocate_resource("mem_1", "task_1", 100.0)
    rm.pool.try_acquire("run1:step", {"cpu_1": 5.0})  # a workflow step's hold
    assert list(rm.allocations) == ["task_1", "run1:step"]
    assert list(rm.allocations["task_1"]) == ["cpu_1", "mem_1"]
    assert rm.allocations["task_1"]["cpu_1"] == a
    assert rm.allocations["run1:step"]["cpu_1"].allocated_amount == 5.0
    rm.release_resource("task_1", "cpu_1")
    assert list(rm.allocations["task_1"]) == ["mem_1"]
    assert "ghost" not in rm.allocations


def test_assigning_allocations_books_them(rm: ResourceManager) -> None:
    rm.allocations["t"] = {
        "cpu_1": ResourceAllocation("cpu_1", "t", 60.0),
        "mem_1": ResourceAllocation("mem_1", "t", 24.0, timeout=60),
    }
    assert rm.get_available_capacity("cpu_1") == 40.0
    assert rm.allocations["t"]["mem_1"].timeout == 60
    rm.allocations["t"]["cpu_1"] = ResourceAllocation("cpu_1", "t", 10.0)  # replaces
    assert rm.get_available_capacity("cpu_1") == 90.0
    rm.allocate_resource("cpu_1", "other", 50.0)
    with pytest.raises(ResourceUnavailable, match="60 of 'cpu_1' does not fit: 50 available"):
        rm.allocations["t"] = {"cpu_1": ResourceAllocation("cpu_1", "t", 60.0)}
    assert rm.allocations["t"]["cpu_1"].allocated_amount == 10.0  # all or nothing: restored
    assert rm.allocations["t"]["mem_1"].timeout == 60
    with pytest.raises(ValueError, match="matching ids"):
        rm.allocations["t"] = {"cpu_1": ResourceAllocation("mem_1", "t", 1.0)}
    with pytest.raises(ResourceUnavailable, match="unknown resource"):
        rm.allocations["u"] = {"gpu": ResourceAllocation("gpu", "u", 1.0)}
    del rm.allocations["t"]
    assert list(rm.allocations) == ["other"]
    assert rm.get_available_capacity("cpu_1") == 50.0


def test_cleanup_expired_allocations_releases_ended_leases(rm: ResourceManager) -> None:
    now = time.time()
    rm.allocations["old"] = {"cpu_1": ResourceAllocation("cpu_1", "old", 50.0,
                                                         allocation_time=now - 10, timeout=5)}
    rm.allocations["new"] = {"cpu_1": ResourceAllocation("cpu_1", "new", 20.0,
                                                         allocation_time=now, timeout=300)}
    rm.allocate_resource("mem_1", "forever", 1.0)
    assert rm.get_available_capacity("cpu_1") == 30.0  # held until cleaned up
    assert rm.cleanup_expired_allocations() == 1
    assert set(rm.allocations) == {"new", "forever"}
    assert rm.get_available_capacity("cpu_1") == 80.0
    assert rm.cleanup_expired_allocations() == 0


def test_summary_has_plain_sums_and_types(rm: ResourceManager) -> None:
    rm.allocate_resource("cpu_1", "a", 50.0)
    rm.allocate_resource("mem_1", "b", 256.0)
    summary = rm.get_resource_summary()
    assert (summary["total_capacity"], summary["total_allocated"], summary["total_available"]) == (
        1124.0, 306.0, 818.0
    )
    assert summary["resource_types"] == {"cpu": 1, "memory": 1}
    assert summary["active_allocations"] == 2


def test_leases_persist_with_their_allocation(tmp_path: Path) -> None:
    first = ResourceManager(store=Store(tmp_path / "s"))
    first.add_resource(Resource("cpu_1", "CPU", ResourceType.CPU, 100.0))
    first.allocations["t"] = {"cpu_1": ResourceAllocation("cpu_1", "t", 10.0, timeout=3600)}
    second = ResourceManager(store=Store(tmp_path / "s"))
    assert second.allocations["t"]["cpu_1"].timeout == 3600
    assert second.get_available_capacity("cpu_1") == 90.0


def test_concurrent_assignments_never_overbook(rm: ResourceManager) -> None:
    errors: list[Exception] = []

    def book(i: int) -> None:
        try:
            rm.allocations[f"t{i}"] = {"cpu_1": ResourceAllocation("cpu_1", f"t{i}", 30.0)}
        except ResourceUnavailable as exc:
            errors.append(exc)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(rm.allocations) == 3 and len(errors) == 5
    assert rm.get_available_capacity("cpu_1") == 10.0
