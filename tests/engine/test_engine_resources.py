"""ResourcePool: all-or-nothing grants, modes, expiry, statistics, subscribers."""

from __future__ import annotations

import logging
import math
import threading

import pytest
from waiting import wait_until

from codomyrmex_jupyter.engine.resources import ResourceChange, ResourcePool
from codomyrmex_jupyter.errors import ResourceUnavailable


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pool(clock: FakeClock) -> ResourcePool:
    p = ResourcePool(clock=clock, wall_clock=lambda: 1_700_000_000.0)
    p.add("cpu", 4, name="CPU", kind="cpu", unit="cores")
    p.add("mem", 1024, kind="memory", unit="MB")
    return p


# -- resources ------------------------------------------------------------------------
def test_add_reports_capacity_and_availability(pool: ResourcePool) -> None:
    assert pool.capacity("cpu") == 4.0
    assert pool.available("mem") == 1024.0
    assert pool.resource_ids() == ["cpu", "mem"]
    assert "cpu" in pool
    assert "gpu" not in pool


@pytest.mark.parametrize("capacity", [0, -1, math.nan, math.inf])
def test_add_refuses_bad_capacity(capacity: float) -> None:
    pool = ResourcePool()
    with pytest.raises(ResourceUnavailable, match=r"resource 'x' capacity \S+ is not (positive|a finite number)"):
        pool.add("x", capacity)
    assert pool.resource_ids() == []


def test_add_refuses_duplicate_id(pool: ResourcePool) -> None:
    with pytest.raises(ResourceUnavailable, match="already exists"):
        pool.add("cpu", 8)
    assert pool.capacity("cpu") == 4.0


def test_remove_drops_resource_and_its_allocations(pool: ResourcePool) -> None:
    assert pool.try_acquire("t1", {"cpu": 1, "mem": 10})
    assert pool.remove("cpu") is True
    assert pool.remove("cpu") is False
    assert [(h.holder, h.resource_id) for h in pool.holdings()] == [("t1", "mem")]
    assert pool.release("t1") == 10.0


# -- validation -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("request_", "mode", "message"),
    [
        ({"gpu": 1}, "shared", "unknown resource 'gpu'"),
        ({"cpu": 0}, "shared", "resource 'cpu' amount 0 is not positive"),
        ({"cpu": -2}, "shared", "resource 'cpu' amount -2 is not positive"),
        ({"cpu": math.nan}, "shared", "resource 'cpu' amount nan is not a finite number"),
        ({"cpu": 5}, "shared", "can never be granted: its capacity is 4"),
        ({"cpu": 5}, "exclusive", "can never be granted"),
        ({"cpu": 1, "gpu": 1}, "shared", "unknown resource 'gpu'"),
        ({"cpu": 1}, "greedy", "mode must be 'shared' or 'exclusive'"),
    ],
)
def test_try_acquire_refuses_requests_that_can_never_be_met(
    pool: ResourcePool, request_: dict[str, float], mode: str, message: str
) -> None:
    with pytest.raises(ResourceUnavailable, match=message):
        pool.try_acquire("t1", request_, mode=mode)
    assert pool.holdings() == []
    assert pool.statistics("cpu").allocated == 0.0


# -- granting -----------------------------------------------------------------------------
def test_grants_are_all_or_nothing(pool: ResourcePool) -> None:
    assert pool.try_acquire("a", {"mem": 1000})
    assert pool.try_acquire("b", {"cpu": 2, "mem": 100}) is False
    assert pool.statistics("cpu").allocated == 0.0
    assert pool.statistics("mem").allocated == 1000.0
    assert pool.try_acquire("b", {"cpu": 2, "mem": 24}) is True
    assert pool.available("cpu") == 2.0
    assert pool.available("mem") == 0.0


def test_never_over_allocates(pool: ResourcePool) -> None:
    granted = [pool.try_acquire(f"t{i}", {"cpu": 1.5}) for i in range(4)]
    assert granted == [True, True, False, False]
    assert pool.statistics("cpu").allocated == 3.0
    assert pool.try_acquire("t9", {"cpu": 1}) is True
    assert pool.available("cpu") == 0.0


def test_acquire_is_reentrant_per_holder(pool: ResourcePool) -> None:
    assert pool.try_acquire("t1", {"cpu": 1})
    assert pool.try_acquire("t1", {"cpu": 2})
    assert pool.statistics("cpu").holders == (("t1", 3.0, "shared"),)
    assert pool.try_acquire("t1", {"cpu": 2}) is False
    assert pool.release("t1") == 3.0
    assert pool.release("t1") == 0.0


def test_release_one_resource_or_all(pool: ResourcePool) -> None:
    assert pool.try_acquire("t1", {"cpu": 1, "mem": 64})
    assert pool.release("t1", "mem") == 64.0
    assert [h.resource_id for h in pool.holdings("t1")] == ["cpu"]
    assert pool.release("t1", "mem") == 0.0
    assert pool.release("nobody") == 0.0
    assert pool.release("t1") == 1.0
    assert pool.holdings() == []


def test_float_amounts_fit_exactly_and_release_to_zero(pool: ResourcePool) -> None:
    pool.add("one", 1.0)
    for i, amount in enumerate((0.1, 0.2, 0.7)):
        assert pool.try_acquire(f"t{i}", {"one": amount})
    assert pool.try_acquire("t9", {"one": 0.01}) is False
    for i in range(3):
        pool.release(f"t{i}")
    st = pool.statistics("one")
    assert st.allocated == 0.0
    assert st.available == 1.0


# -- exclusive mode ---------------------------------------------------------------------------
def test_exclusive_books_full_capacity_and_blocks_others(pool: ResourcePool) -> None:
    assert pool.try_acquire("x", {"cpu": 1}, mode="exclusive")
    assert pool.statistics("cpu").holders == (("x", 4.0, "exclusive"),)
    assert pool.try_acquire("y", {"cpu": 0.5}) is False
    assert pool.try_acquire("y", {"cpu": 1}, mode="exclusive") is False
    assert pool.try_acquire("x", {"cpu": 1}) is True  # its own re-entry changes nothing
    assert pool.statistics("cpu").allocated == 4.0
    assert pool.release("x") == 4.0
    assert pool.try_acquire("y", {"cpu": 0.5}) is True


def test_exclusive_waits_for_other_holders(pool: ResourcePool) -> None:
    assert pool.try_acquire("y", {"cpu": 0.5})
    assert pool.try_acquire("x", {"cpu": 1}, mode="exclusive") is False
    assert pool.try_acquire("y", {"cpu": 1}, mode="exclusive") is True  # only y holds it
    assert pool.statistics("cpu").holders == (("y", 4.0, "exclusive"),)


# -- expiry ----------------------------------------------------------------------------------
def test_expired_allocations_are_released_on_next_operation(
    pool: ResourcePool, clock: FakeClock
) -> None:
    changes: list[ResourceChange] = []
    pool.subscribe(changes.append)
    assert pool.try_acquire("t1", {"cpu": 2}, expires_in=5)
    clock.t += 4.9
    assert pool.available("cpu") == 2.0
    clock.t += 0.2
    assert pool.available("cpu") == 4.0
    assert changes[-1] == ResourceChange("expired", "cpu", "t1", 2.0, 0.0)
    assert pool.release("t1") == 0.0


def test_expire_returns_how_many_ended(pool: ResourcePool, clock: FakeClock) -> None:
    assert pool.try_acquire("t1", {"cpu": 1, "mem": 1}, expires_in=1)
    assert pool.try_acquire("t2", {"cpu": 1}, expires_in=10)
    clock.t += 2
    assert pool.expire() == 2
    assert [h.holder for h in pool.holdings()] == ["t2"]


def test_latest_grant_sets_the_expiry(pool: ResourcePool, clock: FakeClock) -> None:
    assert pool.try_acquire("t1", {"cpu": 1}, expires_in=1)
    assert pool.try_acquire("t1", {"cpu": 1})  # no expiry any more
    clock.t += 10
    assert pool.expire() == 0
    assert pool.statistics("cpu").holders == (("t1", 2.0, "shared"),)
    assert pool.holding("t1", "cpu") is not None
    assert pool.holding("t1", "cpu").expires_at is None  # type: ignore[union-attr]


def test_holding_reports_wall_clock_expiry(pool: ResourcePool) -> None:
    assert pool.try_acquire("t1", {"mem": 8}, expires_in=30)
    h = pool.holding("t1", "mem")
    assert h is not None
    assert (h.amount, h.mode, h.granted_at, h.expires_at) == (
        8.0, "shared", 1_700_000_000.0, 1_700_000_030.0
    )
    assert pool.holding("t1", "cpu") is None


# -- statistics -----------------------------------------------------------------------------
def test_statistics_snapshot(pool: ResourcePool, clock: FakeClock) -> None:
    clock.t += 10  # 10 s at 0
    assert pool.try_acquire("a", {"cpu": 1})
    assert pool.try_acquire("b", {"cpu": 2})
    clock.t += 5  # 5 s at 3
    pool.release("b")
    clock.t += 5  # 5 s at 1
    st = pool.statistics("cpu")
    assert (st.resource_id, st.name, st.kind, st.unit) == ("cpu", "CPU", "cpu", "cores")
    assert (st.capacity, st.allocated, st.available) == (4.0, 1.0, 3.0)
    assert st.holders == (("a", 1.0, "shared"),)
    assert st.peak == 3.0
    assert st.utilisation == 0.25
    assert st.average == pytest.approx((0 * 10 + 3 * 5 + 1 * 5) / 20)
    assert st.allocation_count == 2
    assert st.waiting == 0
    assert set(pool.snapshot()) == {"cpu", "mem"}
    with pytest.raises(ResourceUnavailable, match="unknown resource"):
        pool.statistics("gpu")


# -- subscribers ------------------------------------------------------------------------------
def test_subscribers_see_every_change_in_order(pool: ResourcePool) -> None:
    changes: list[ResourceChange] = []
    unsubscribe = pool.subscribe(changes.append)
    pool.add("gpu", 2)
    pool.try_acquire("t1", {"gpu": 1, "cpu": 2})
    pool.release("t1")
    pool.remove("gpu")
    unsubscribe()
    pool.try_acquire("t2", {"cpu": 1})
    assert changes == [
        ResourceChange("added", "gpu", None, 2.0, 0.0),
        ResourceChange("allocated", "gpu", "t1", 1.0, 1.0),
        ResourceChange("allocated", "cpu", "t1", 2.0, 2.0),
        ResourceChange("released", "gpu", "t1", 1.0, 0.0),
        ResourceChange("released", "cpu", "t1", 2.0, 0.0),
        ResourceChange("removed", "gpu", None, 2.0, 0.0),
    ]


def test_failing_subscriber_is_logged_not_raised(
    pool: ResourcePool, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken(change: ResourceChange) -> None:
        raise RuntimeError("boom")

    pool.subscribe(broken)
    pool.subscribe(lambda c: seen.append(c.kind))
    with caplog.at_level(logging.ERROR, logger="codomyrmex_jupyter.engine.resources"):
        assert pool.try_acquire("t1", {"cpu": 1}) is True
    assert seen == ["allocated"]
    assert "resource subscriber" in caplog.text
    assert "boom" in caplog.text


def test_subscriber_may_call_back_into_the_pool(pool: ResourcePool) -> None:
    seen: list[float] = []
    pool.subscribe(lambda c: seen.append(pool.available(c.resource_id)))
    assert pool.try_acquire("t1", {"cpu": 3})
    assert seen == [1.0]


# -- blocking acquire -------------------------------------------------------------------------
def test_acquire_blocks_until_released() -> None:
    pool = ResourcePool()
    pool.add("gpu", 1)
    assert pool.try_acquire("a", {"gpu": 1})
    got: list[bool] = []
    t = threading.Thread(target=lambda: got.append(pool.acquire("b", {"gpu": 1}, timeout=5)))
    t.start()
    wait_until(lambda: pool.statistics("gpu").waiting == 1)
    assert got == []
    pool.release("a")
    t.join(5)
    assert got == [True]
    assert pool.statistics("gpu").holders == (("b", 1.0, "shared"),)
    assert pool.statistics("gpu").waiting == 0


def test_acquire_times_out() -> None:
    pool = ResourcePool()
    pool.add("gpu", 1)
    assert pool.try_acquire("a", {"gpu": 1})
    assert pool.acquire("b", {"gpu": 1}, timeout=0.02) is False
    assert pool.statistics("gpu").holders == (("a", 1.0, "shared"),)


def test_acquire_wakes_when_an_allocation_expires() -> None:
    pool = ResourcePool()
    pool.add("gpu", 1)
    assert pool.try_acquire("a", {"gpu": 1}, expires_in=0.05)
    assert pool.acquire("b", {"gpu": 1}, timeout=5) is True
    assert pool.statistics("gpu").holders == (("b", 1.0, "shared"),)


def test_waiter_learns_its_resource_was_removed() -> None:
    pool = ResourcePool()
    pool.add("gpu", 1)
    assert pool.try_acquire("a", {"gpu": 1})
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            pool.acquire("b", {"gpu": 1}, timeout=5)
        except ResourceUnavailable as exc:
            errors.append(exc)

    t = threading.Thread(target=wait)
    t.start()
    wait_until(lambda: pool.statistics("gpu").waiting == 1)
    pool.remove("gpu")
    t.join(5)
    assert len(errors) == 1
    assert "unknown resource 'gpu'" in str(errors[0])


def test_concurrent_grants_never_exceed_capacity() -> None:
    pool = ResourcePool()
    pool.add("slots", 3)
    peak_seen: list[float] = []
    pool.subscribe(lambda c: peak_seen.append(c.allocated_after))

    def work(i: int) -> None:
        for _ in range(2000):
            if pool.try_acquire(f"w{i}", {"slots": 1}):
                pool.release(f"w{i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    st = pool.statistics("slots")
    assert st.allocated == 0.0
    assert st.peak <= 3.0
    assert max(peak_seen) <= 3.0
