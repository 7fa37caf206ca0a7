"""ResourceManager: the seed API, statuses, summaries, expiry, persistence, threads."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from waiting import wait_until

from codomyrmex_jupyter.api.resources import (
    Resource,
    ResourceAllocation,
    ResourceManager,
    ResourceStatus,
    ResourceType,
    ResourceUsage,
)
from codomyrmex_jupyter.engine.resources import ResourceChange
from codomyrmex_jupyter.engine.store import Store
from codomyrmex_jupyter.errors import ResourceUnavailable


@pytest.fixture
def rm() -> ResourceManager:
    m = ResourceManager()
    m.add_resource(Resource("cpu_1", "CPU Core 1", ResourceType.CPU, 100.0, "cores"))
    m.add_resource(Resource("mem_1", "Memory 1", ResourceType.MEMORY, 1024.0, "MB"))
    return m


@pytest.fixture
def store_file(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "shared.sqlite3"


def test_seed_example() -> None:
    from codomyrmex_jupyter import Resource, ResourceType, get_resource_manager

    manager = get_resource_manager()

    resource = Resource(
        id="cpu_1",
        name="CPU Core 1",
        resource_type=ResourceType.CPU,
        capacity=100.0,
        unit="cores",
    )

    success = manager.add_resource(resource)
    assert success is True

    allocation = manager.allocate_resource("cpu_1", "task_1", 50.0)
    assert allocation is not None
    assert f"Allocated {allocation.allocated_amount} of {allocation.resource_id}" == (
        "Allocated 50.0 of cpu_1"
    )
    assert manager.get_available_capacity("cpu_1") == 50.0
    assert manager.release_resource("task_1", "cpu_1") is True


# -- resources -------------------------------------------------------------------------
def test_add_get_list_and_remove(rm: ResourceManager) -> None:
    assert rm.add_resource(Resource("cpu_1", "again", ResourceType.CPU, 1.0)) is False
    assert rm.get_resource("cpu_1").name == "CPU Core 1"  # type: ignore[union-attr]
    assert rm.get_resource("nope") is None
    assert [r.id for r in rm.list_resources()] == ["cpu_1", "mem_1"]
    assert [r.id for r in rm.list_resources(ResourceType.MEMORY)] == ["mem_1"]
    assert rm.list_resources(ResourceType.GPU) == []
    assert rm.allocate_resource("mem_1", "t", 10) is not None
    assert rm.remove_resource("mem_1") is True
    assert rm.remove_resource("mem_1") is False
    assert rm.list_allocations() == []
    assert "mem_1" not in rm.pool


def test_bad_capacity_is_an_error() -> None:
    with pytest.raises(ResourceUnavailable, match=r"capacity \S+ is not (positive|a finite number)"):
        ResourceManager().add_resource(Resource("x", "X", ResourceType.CUSTOM, 0.0))


def test_resource_type_and_status_accept_strings() -> None:
    r = Resource("g", "GPU", "gpu", 2, status="maintenance")  # type: ignore[arg-type]
    assert (r.resource_type, r.status) == (ResourceType.GPU, ResourceStatus.MAINTENANCE)
    assert Resource.from_dict(r.to_dict()) == r


def test_status_follows_allocations(rm: ResourceManager) -> None:
    cpu = rm.get_resource("cpu_1")
    assert cpu is not None
    seen = [cpu.status]
    rm.allocate_resource("cpu_1", "a", 60)
    seen.append(cpu.status)
    rm.allocate_resource("cpu_1", "b", 40)
    seen.append(cpu.status)
    rm.release_resource("a", "cpu_1")
    seen.append(cpu.status)
    assert seen == [
        ResourceStatus.AVAILABLE, ResourceStatus.AVAILABLE, ResourceStatus.BUSY,
        ResourceStatus.AVAILABLE,
    ]


@pytest.mark.parametrize("status", [ResourceStatus.MAINTENANCE, ResourceStatus.OFFLINE])
def test_held_back_resources_refuse_allocations(rm: ResourceManager, status: ResourceStatus) -> None:
    rm.get_resource("cpu_1").status = status  # type: ignore[union-attr]
    assert rm.allocate_resource("cpu_1", "t", 1) is None
    assert rm.get_resource("cpu_1").status is status  # type: ignore[union-attr]
    assert rm.get_available_capacity("cpu_1") == 100.0


# -- allocations -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("resource_id", "amount", "expected"),
    [
        ("cpu_1", 50.0, 50.0),
        ("cpu_1", 100.0, 100.0),
        ("cpu_1", 100.5, None),  # more than the capacity
        ("gpu_9", 1.0, None),  # unknown resource
    ],
)
def test_allocate_resource_cases(
    rm: ResourceManager, resource_id: str, amount: float, expected: float | None
) -> None:
    allocation = rm.allocate_resource(resource_id, "task_1", amount)
    if expected is None:
        assert allocation is None
        assert rm.list_allocations() == []
    else:
        assert allocation is not None
        assert (allocation.resource_id, allocation.task_id, allocation.allocated_amount) == (
            resource_id, "task_1", expected
        )
        assert allocation.mode == "shared"
        assert allocation.expires_at is None
        assert allocation.allocated_at.tzinfo is not None


@pytest.mark.parametrize(
    ("amount", "mode", "expires_in", "message"),
    [
        (0.0, "shared", None, "amount 0.0 is not positive"),
        (-1.0, "shared", None, "amount -1.0 is not positive"),
        (1.0, "other", None, "mode must be"),
        (1.0, "shared", 0.0, "expires_in 0.0 is not positive"),
    ],
)
def test_allocate_resource_refuses_bad_input(
    rm: ResourceManager, amount: float, mode: str, expires_in: float | None, message: str
) -> None:
    with pytest.raises(ResourceUnavailable, match=message):
        rm.allocate_resource("cpu_1", "t", amount, mode=mode, expires_in=expires_in)


def test_capacity_short_returns_none(rm: ResourceManager) -> None:
    assert rm.allocate_resource("cpu_1", "a", 70) is not None
    assert rm.allocate_resource("cpu_1", "b", 31) is None
    assert rm.get_available_capacity("cpu_1") == 30.0
    again = rm.allocate_resource("cpu_1", "a", 30)
    assert again is not None
    assert again.allocated_amount == 100.0  # the task's whole allocation


def test_exclusive_allocation(rm: ResourceManager) -> None:
    allocation = rm.allocate_resource("cpu_1", "a", 1, mode="exclusive")
    assert allocation is not None
    assert (allocation.allocated_amount, allocation.mode) == (100.0, "exclusive")
    assert rm.allocate_resource("cpu_1", "b", 1) is None


def test_release_resource_and_release_all(rm: ResourceManager) -> None:
    rm.allocate_resource("cpu_1", "t", 10)
    rm.allocate_resource("mem_1", "t", 100)
    rm.allocate_resource("mem_1", "u", 100)
    assert rm.release_resource("t", "cpu_1") is True
    assert rm.release_resource("t", "cpu_1") is False
    assert rm.release_resource("t", "nope") is False
    rm.allocate_resource("cpu_1", "t", 5)
    assert rm.release_all("t") == 2
    assert rm.release_all("t") == 0
    assert [(a.resource_id, a.task_id) for a in rm.list_allocations()] == [("mem_1", "u")]
    assert [a.task_id for a in rm.list_allocations("u")] == ["u"]


def test_list_allocations_includes_direct_pool_holds(rm: ResourceManager) -> None:
    assert rm.pool.try_acquire("run1:step", {"mem_1": 256})
    allocations = rm.list_allocations()
    assert [(a.task_id, a.allocated_amount) for a in allocations] == [("run1:step", 256.0)]
    assert isinstance(allocations[0], ResourceAllocation)


def test_get_available_capacity(rm: ResourceManager) -> None:
    assert rm.get_available_capacity("cpu_1") == 100.0
    rm.allocate_resource("cpu_1", "t", 25)
    assert rm.get_available_capacity("cpu_1") == 75.0
    assert rm.get_available_capacity("unknown") == 0.0


def test_get_resource_usage(rm: ResourceManager) -> None:
    assert rm.get_resource_usage("unknown") is None
    rm.allocate_resource("cpu_1", "a", 30)
    rm.allocate_resource("cpu_1", "b", 50)
    rm.release_resource("b", "cpu_1")
    usage = rm.get_resource_usage("cpu_1")
    assert isinstance(usage, ResourceUsage)
    assert (usage.current_usage, usage.peak_usage, usage.allocation_count) == (30.0, 80.0, 2)
    assert usage.utilisation == 0.3
    assert 0.0 <= usage.average_usage <= 80.0


def test_resource_summary(rm: ResourceManager) -> None:
    rm.add_resource(Resource("cpu_2", "CPU 2", ResourceType.CPU, 100.0))
    rm.allocate_resource("cpu_1", "a", 50)
    rm.allocate_resource("mem_1", "a", 256)
    summary = rm.get_resource_summary()
    assert summary["total_resources"] == 3
    assert summary["by_type"] == {
        "cpu": {"count": 2, "capacity": 200.0, "allocated": 50.0, "utilisation": 0.25},
        "memory": {"count": 1, "capacity": 1024.0, "allocated": 256.0, "utilisation": 0.25},
    }
    assert summary["active_allocations"] == 2
    assert [(a["resource_id"], a["allocated_amount"]) for a in summary["allocations"]] == [
        ("cpu_1", 50.0), ("mem_1", 256.0)
    ]
    assert summary["utilisation"] == pytest.approx((0.5 + 0.25 + 0.0) / 3)
    assert summary["resources"]["cpu_1"]["holders"] == [["a", 50.0, "shared"]]
    assert summary["resources"]["cpu_2"]["status"] == "available"


def test_empty_summary() -> None:
    summary = ResourceManager().get_resource_summary()
    assert summary == {
        "total_resources": 0, "by_type": {}, "resources": {}, "active_allocations": 0,
        "allocations": [], "utilisation": 0.0,
        # the original package's plain sums (docs/compatibility.md)
        "total_capacity": 0.0, "total_allocated": 0.0, "total_available": 0.0,
        "resource_types": {},
    }


# -- expiry and events ----------------------------------------------------------------------
def test_allocation_expires(rm: ResourceManager) -> None:
    allocation = rm.allocate_resource("cpu_1", "t", 40, expires_in=0.05)
    assert allocation is not None
    assert allocation.expires_at is not None
    assert allocation.expires_at > allocation.allocated_at
    wait_until(lambda: rm.get_available_capacity("cpu_1") == 100.0)
    assert rm.list_allocations() == []
    assert rm.release_resource("t", "cpu_1") is False


def test_subscribe_through_the_manager(rm: ResourceManager) -> None:
    changes: list[ResourceChange] = []
    unsubscribe = rm.subscribe(changes.append)
    rm.allocate_resource("cpu_1", "t", 10)
    rm.release_resource("t", "cpu_1")
    unsubscribe()
    rm.allocate_resource("cpu_1", "t", 10)
    assert changes == [
        ResourceChange("allocated", "cpu_1", "t", 10.0, 10.0),
        ResourceChange("released", "cpu_1", "t", 10.0, 0.0),
    ]


def test_statistics_and_snapshot(rm: ResourceManager) -> None:
    rm.allocate_resource("mem_1", "t", 512)
    st = rm.statistics("mem_1")
    assert (st.capacity, st.allocated, st.available, st.unit) == (1024.0, 512.0, 512.0, "MB")
    assert set(rm.snapshot()) == {"cpu_1", "mem_1"}


def test_add_system_resources() -> None:
    m = ResourceManager()
    added = m.add_system_resources()
    cpu = m.get_resource("system.cpu")
    assert cpu is not None
    assert (cpu.capacity, cpu.unit, cpu.resource_type) == (
        float(os.cpu_count() or 1), "cores", ResourceType.CPU
    )
    memory = m.get_resource("system.memory")
    assert memory is not None
    assert memory.unit == "MB"
    assert memory.capacity > 0
    assert [r.id for r in added] == ["system.cpu", "system.memory"]
    assert m.add_system_resources() == []


def test_shutdown_is_idempotent(rm: ResourceManager) -> None:
    rm.shutdown()
    rm.shutdown()
    assert rm.allocate_resource("cpu_1", "t", 1) is not None


# -- persistence ---------------------------------------------------------------------------
def test_definitions_and_allocations_persist(store_file: Path) -> None:
    first = ResourceManager(store=Store(store_file))
    first.add_resource(Resource("gpu", "GPU", ResourceType.GPU, 2, "cards", metadata={"m": 1}))
    first.allocate_resource("gpu", "train", 1)
    first.allocate_resource("gpu", "eval", 0.5, expires_in=3600)

    second = ResourceManager(store=Store(store_file))
    gpu = second.get_resource("gpu")
    assert gpu is not None
    assert (gpu.capacity, gpu.unit, gpu.metadata) == (2.0, "cards", {"m": 1})
    held = {(a.task_id, a.allocated_amount) for a in second.list_allocations()}
    assert held == {("train", 1.0), ("eval", 0.5)}
    assert second.get_available_capacity("gpu") == 0.5
    eval_alloc = second.list_allocations("eval")[0]
    assert eval_alloc.expires_at is not None

    assert first.release_resource("train", "gpu") is True
    third = ResourceManager(store=Store(store_file))
    assert [a.task_id for a in third.list_allocations()] == ["eval"]
    # Each process keeps its own books: the second manager still holds "train".
    assert {a.task_id for a in second.list_allocations()} == {"train", "eval"}


def test_expired_allocations_are_dropped_on_load(store_file: Path) -> None:
    store = Store(store_file)
    first = ResourceManager(store=store)
    first.add_resource(Resource("db", "DB", ResourceType.DATABASE, 10))
    first.allocate_resource("db", "short", 1, expires_in=0.01)
    first.allocate_resource("db", "long", 2)
    time.sleep(0.02)
    second = ResourceManager(store=Store(store_file))
    assert [a.task_id for a in second.list_allocations()] == ["long"]
    assert sorted(store.list_docs("allocation")) == ["db|long"]


def test_expiry_removes_the_document(store_file: Path) -> None:
    store = Store(store_file)
    m = ResourceManager(store=store)
    m.add_resource(Resource("db", "DB", ResourceType.DATABASE, 10))
    m.allocate_resource("db", "t", 1, expires_in=0.02)
    assert list(store.list_docs("allocation")) == ["db|t"]
    wait_until(lambda: m.get_available_capacity("db") == 10.0)
    assert store.list_docs("allocation") == {}


def test_removed_resource_documents_are_deleted(store_file: Path) -> None:
    store = Store(store_file)
    m = ResourceManager(store=store)
    m.add_resource(Resource("db", "DB", ResourceType.DATABASE, 10))
    m.allocate_resource("db", "t", 1)
    assert m.remove_resource("db") is True
    assert store.list_docs("resource") == {}
    assert store.list_docs("allocation") == {}
    assert ResourceManager(store=Store(store_file)).list_resources() == []


def test_direct_pool_holds_are_not_stored(store_file: Path) -> None:
    store = Store(store_file)
    m = ResourceManager(store=store)
    m.add_resource(Resource("db", "DB", ResourceType.DATABASE, 10))
    assert m.pool.try_acquire("run:step", {"db": 3})
    assert store.list_docs("allocation") == {}


def test_stored_allocation_that_no_longer_fits_is_dropped(store_file: Path) -> None:
    store = Store(store_file)
    store.put_doc("resource", "db", Resource("db", "DB", ResourceType.DATABASE, 1).to_dict())
    for task in ("a", "b"):
        store.put_doc(
            "allocation", f"db|{task}", ResourceAllocation("db", task, 1.0).to_dict()
        )
    m = ResourceManager(store=store)
    assert [a.task_id for a in m.list_allocations()] == ["a"]
    assert list(store.list_docs("allocation")) == ["db|a"]


# -- threads ---------------------------------------------------------------------------------
def test_many_threads_never_over_allocate() -> None:
    m = ResourceManager()
    m.add_resource(Resource("r1", "R1", ResourceType.CPU, 3.0))
    m.add_resource(Resource("r2", "R2", ResourceType.MEMORY, 5.0))
    capacity = {"r1": 3.0, "r2": 5.0}
    stop = threading.Event()
    violations: list[str] = []

    def sample() -> None:
        while not stop.is_set():
            for rid, st in m.snapshot().items():
                total = sum(amount for _, amount, _ in st.holders)
                if total > capacity[rid] or st.allocated > capacity[rid]:
                    violations.append(f"{rid}: {total}")

    def work(i: int) -> None:
        for k in range(10_000):
            rid = "r1" if (i + k) % 2 else "r2"
            amount = 1.0 + (k % 3)
            if m.allocate_resource(rid, f"w{i}", amount) is not None:
                m.release_resource(f"w{i}", rid)

    sampler = threading.Thread(target=sample)
    sampler.start()
    workers = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    sampler.join()
    assert violations == []
    for rid, cap in capacity.items():
        st = m.statistics(rid)
        assert st.allocated == 0.0
        assert st.holders == ()
        assert 0 < st.peak <= cap
        assert m.get_resource(rid).status is ResourceStatus.AVAILABLE  # type: ignore[union-attr]
