"""Message building, throttling and comm handling of the status comm (no kernel)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from codomyrmex_jupyter.display import status_comm as sc


@dataclass(frozen=True)
class Event:
    kind: str
    run_id: str
    workflow: str
    status: str
    counts: tuple[tuple[str, int], ...] = ()


def started(run_id: str, workflow: str = "etl") -> Event:
    return Event("run_started", run_id, workflow, "running")


def finished(run_id: str, status: str, workflow: str = "etl") -> Event:
    return Event("run_finished", run_id, workflow, status)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeScheduler:
    calls: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def __call__(self, delay: float, fn: Callable[[], None]) -> None:
        self.calls.append((delay, fn))

    def run_all(self) -> None:
        calls, self.calls = self.calls, []
        for _delay, fn in calls:
            fn()


class FakeComm:
    def __init__(self, target_name: str = "", data: Any = None, fail: bool = False) -> None:
        self.target_name = target_name
        self.open_data = data
        self.sent: list[Any] = []
        self.closed = False
        self.fail = fail
        self.msg_cb: Callable[[Any], None] | None = None
        self.close_cb: Callable[[Any], None] | None = None

    def send(self, data: Any = None) -> None:
        if self.fail:
            raise RuntimeError("comm is gone")
        self.sent.append(data)

    def close(self) -> None:
        self.closed = True

    def on_msg(self, cb: Callable[[Any], None]) -> None:
        self.msg_cb = cb

    def on_close(self, cb: Callable[[Any], None]) -> None:
        self.close_cb = cb


class CommFactory:
    def __init__(self) -> None:
        self.made: list[FakeComm] = []

    def __call__(self, target_name: str, data: Any = None) -> FakeComm:
        comm = FakeComm(target_name, data)
        self.made.append(comm)
        return comm


# --- message building -------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "bucket"),
    [
        (started("a"), "running"),
        (finished("a", "completed"), "completed"),
        (finished("a", "succeeded"), "completed"),
        (finished("a", "failed"), "failed"),
        (finished("a", "timeout"), "failed"),
        (finished("a", "cancelled"), "cancelled"),
        (finished("a", "Canceled"), "cancelled"),
    ],
)
def test_classify_event(event: Event, bucket: str) -> None:
    assert sc.classify_event(event) == bucket


def test_build_status_message_counts_and_recent_runs_newest_first() -> None:
    events = [
        finished("r1", "completed"),
        finished("r2", "failed", "train"),
        finished("r3", "cancelled"),
        started("r4"),
        started("r5", "report"),
        Event("run_finished", "r6", "etl", "completed", (("cached", 4), ("succeeded", 1))),
    ]
    msg = sc.build_status_message(events)
    assert msg == {
        "running": 2,
        "failed": 1,
        "completed": 2,
        "cancelled": 1,
        "runs": [
            {"run_id": "r6", "workflow": "etl", "status": "completed", "cached": 4},
            {"run_id": "r5", "workflow": "report", "status": "running", "cached": 0},
            {"run_id": "r4", "workflow": "etl", "status": "running", "cached": 0},
            {"run_id": "r3", "workflow": "etl", "status": "cancelled", "cached": 0},
            {"run_id": "r2", "workflow": "train", "status": "failed", "cached": 0},
        ],
    }


def test_build_status_message_last_event_of_a_run_wins() -> None:
    msg = sc.build_status_message([started("r1"), started("r2"), finished("r1", "failed")])
    assert (msg["running"], msg["failed"]) == (1, 1)
    assert [r["run_id"] for r in msg["runs"]] == ["r1", "r2"]


def test_build_status_message_empty_and_max_runs() -> None:
    assert sc.build_status_message([]) == {
        "running": 0,
        "failed": 0,
        "completed": 0,
        "cancelled": 0,
        "runs": [],
    }
    msg = sc.build_status_message([started(f"r{i}") for i in range(9)], max_runs=2)
    assert msg["running"] == 9
    assert [r["run_id"] for r in msg["runs"]] == ["r8", "r7"]


def test_normalize_status_message_fills_and_cleans() -> None:
    msg = sc.normalize_status_message(
        {
            "running": 2,
            "failed": "x",
            "cancelled": -3,
            "completed": True,
            "runs": [{"run_id": 7, "workflow": "etl", "cached": "x"}, {"workflow": "no id"}, "junk"],
        }
    )
    assert msg == {
        "running": 2,
        "failed": 0,
        "completed": 0,
        "cancelled": 0,
        "runs": [{"run_id": "7", "workflow": "etl", "status": "", "cached": 0}],
    }


# --- throttle ---------------------------------------------------------------


def make_throttle(
    interval: float = 0.25,
) -> tuple[sc.Throttle, list[float], FakeClock, FakeScheduler]:
    clock, sched = FakeClock(), FakeScheduler()
    calls: list[float] = []
    throttle = sc.Throttle(lambda: calls.append(clock.now), interval, clock=clock, schedule=sched)
    return throttle, calls, clock, sched


def test_throttle_first_request_fires_at_once() -> None:
    throttle, calls, _clock, sched = make_throttle()
    throttle.request()
    assert calls == [100.0]
    assert sched.calls == []


def test_throttle_folds_a_burst_into_one_trailing_call() -> None:
    throttle, calls, clock, sched = make_throttle()
    throttle.request()
    for step in range(10):
        clock.now = 100.0 + 0.01 * (step + 1)
        throttle.request()
    assert calls == [100.0]
    assert len(sched.calls) == 1
    delay, _fn = sched.calls[0]
    assert delay == pytest.approx(0.24)  # scheduled by the first folded request
    assert throttle.pending
    clock.now = 100.25
    sched.run_all()
    assert calls == [100.0, 100.25]
    assert not throttle.pending


def test_throttle_rate_is_bounded_and_last_request_is_never_lost() -> None:
    throttle, calls, clock, sched = make_throttle()
    # 1,000 requests over 2 seconds; the scheduler fires on time.
    due: list[tuple[float, Callable[[], None]]] = []
    for i in range(1000):
        clock.now = 100.0 + i * 0.002
        while due and due[0][0] <= clock.now:
            _t, fn = due.pop(0)
            fn()
        throttle.request()
        due.extend((clock.now + d, fn) for d, fn in sched.calls)
        sched.calls.clear()
    last_request = clock.now
    for t, fn in due:
        clock.now = t
        fn()
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert min(gaps) >= 0.25 - 1e-9
    assert len(calls) <= 2.0 / 0.25 + 2
    assert calls[-1] >= last_request


def test_throttle_after_quiet_period_fires_immediately_again() -> None:
    throttle, calls, clock, _sched = make_throttle()
    throttle.request()
    clock.now = 101.0
    throttle.request()
    assert calls == [100.0, 101.0]


def test_throttle_sends_at_once_when_no_timer_can_be_scheduled() -> None:
    clock = FakeClock()
    calls: list[float] = []

    def broken(delay: float, fn: Callable[[], None]) -> None:
        raise RuntimeError("loop is closed")

    throttle = sc.Throttle(lambda: calls.append(clock.now), 0.25, clock=clock, schedule=broken)
    throttle.request()
    clock.now += 0.1
    throttle.request()
    assert calls == [100.0, 100.1]
    assert not throttle.pending


def test_throttle_cancel_drops_pending_call() -> None:
    throttle, calls, clock, sched = make_throttle()
    throttle.request()
    clock.now = 100.1
    throttle.request()
    throttle.cancel()
    sched.run_all()
    throttle.request()
    assert calls == [100.0]


def test_throttle_is_thread_safe_under_concurrent_requests() -> None:
    lock = threading.Lock()
    calls: list[int] = []
    sched = FakeScheduler()

    def fn() -> None:
        with lock:
            calls.append(1)

    throttle = sc.Throttle(fn, 3600.0, schedule=sched)
    threads = [threading.Thread(target=lambda: [throttle.request() for _ in range(200)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(sched.calls) == 1


# --- publisher --------------------------------------------------------------


def make_publisher(
    events: list[Event],
) -> tuple[sc.StatusPublisher, CommFactory, FakeClock, FakeScheduler]:
    factory, clock, sched = CommFactory(), FakeClock(), FakeScheduler()
    pub = sc.StatusPublisher(lambda: list(events), factory, clock=clock, schedule=sched)
    return pub, factory, clock, sched


def test_publisher_open_sends_current_status_as_open_data() -> None:
    events = [started("r1")]
    pub, factory, _clock, _sched = make_publisher(events)
    comm = pub.open()
    assert comm is factory.made[0]
    assert factory.made[0].target_name == sc.TARGET_NAME
    assert factory.made[0].open_data["running"] == 1
    assert pub.comms == [comm]


def test_publisher_events_are_throttled_and_trailing_message_is_current() -> None:
    events: list[Event] = []
    pub, factory, clock, sched = make_publisher(events)
    comm = pub.open()
    events.append(started("r1"))
    pub.on_event(events[-1])
    clock.now += 0.05
    events.append(finished("r1", "failed"))
    pub.on_event(events[-1])
    assert [m["running"] for m in comm.sent] == [1]
    sched.run_all()
    assert (comm.sent[-1]["running"], comm.sent[-1]["failed"]) == (0, 1)  # latest event wins
    assert len(comm.sent) == 2
    assert len(factory.made) == 1


def test_publisher_answers_frontend_opened_comm_and_requests() -> None:
    pub, _factory, _clock, _sched = make_publisher([finished("r1", "completed")])
    frontend = FakeComm(sc.TARGET_NAME)
    pub.attach(frontend, {"content": {"data": {"request": "status"}}})
    assert frontend.sent[-1]["completed"] == 1
    assert frontend.msg_cb is not None
    frontend.msg_cb({"content": {"data": {"request": "status"}}})
    frontend.msg_cb({"content": {"data": {"something": "else"}}})
    assert len(frontend.sent) == 2


def test_publisher_publish_now_reaches_every_comm_and_drops_broken_ones() -> None:
    pub, _factory, _clock, _sched = make_publisher([])
    good, broken = FakeComm(), FakeComm(fail=True)
    pub.attach(good)
    pub.attach(broken)
    sent = pub.publish_now({"running": 2, "failed": 1})
    assert sent["running"] == 2
    assert good.sent[-1] == {"running": 2, "failed": 1, "completed": 0, "cancelled": 0, "runs": []}
    assert pub.comms == [good]


def test_publisher_forgets_closed_comm_and_reopens_on_next_message() -> None:
    pub, factory, _clock, _sched = make_publisher([])
    comm = pub.open()
    assert comm is not None and comm.close_cb is not None
    comm.close_cb({})
    assert pub.comms == []
    pub.publish_now()
    assert len(factory.made) == 2
    assert pub.comms == [factory.made[1]]


def test_publisher_caps_open_comms() -> None:
    pub, _factory, _clock, _sched = make_publisher([])
    comms = [FakeComm() for _ in range(sc.MAX_COMMS + 2)]
    for comm in comms:
        pub.attach(comm)
    assert pub.comms == comms[2:]
    assert comms[0].closed and comms[1].closed


def test_publisher_without_comm_factory_is_inert() -> None:
    pub = sc.StatusPublisher(lambda: [], None, schedule=FakeScheduler())
    assert pub.open() is None
    assert pub.publish_now()["running"] == 0


def test_publisher_close_runs_cleanups_and_closes_comms() -> None:
    pub, _factory, _clock, sched = make_publisher([])
    comm = pub.open()
    cleaned: list[str] = []
    pub.add_cleanup(lambda: cleaned.append("unsubscribe"))
    pub.close()
    pub.close()
    assert cleaned == ["unsubscribe"]
    assert comm is not None and comm.closed
    pub.on_event(started("r1"))
    assert sched.calls == []
    assert pub.closed


# --- start / stop with the comm package ------------------------------------


class FakeShell:
    kernel = object()


@pytest.fixture
def comm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[CommFactory]:
    import comm

    events_mod = pytest.importorskip("codomyrmex_jupyter.engine.events")
    factory = CommFactory()
    manager = comm.base_comm.CommManager()
    monkeypatch.setattr(comm, "create_comm", factory)
    monkeypatch.setattr(comm, "get_comm_manager", lambda: manager)
    monkeypatch.setattr(events_mod, "run_events", events_mod.RunEventHub())
    sc.stop_status_comm()
    yield factory
    sc.stop_status_comm()


def test_start_and_stop_status_comm(comm_env: CommFactory) -> None:
    import comm

    from codomyrmex_jupyter.engine import events

    pub = sc.start_status_comm(FakeShell())
    assert sc.start_status_comm(FakeShell()) is pub
    assert comm.get_comm_manager().targets[sc.TARGET_NAME] == pub.attach
    opened = comm_env.made[0]
    assert opened.open_data["running"] == 0
    events.run_events.publish(events.RunEvent("run_started", "r1", "etl", "running"))
    assert opened.sent[-1]["running"] == 1
    sc.stop_status_comm()
    assert sc.TARGET_NAME not in comm.get_comm_manager().targets
    assert opened.closed
    events.run_events.publish(events.RunEvent("run_finished", "r1", "etl", "failed"))
    assert len(opened.sent) == 1


def test_start_status_comm_outside_a_kernel_opens_nothing(comm_env: CommFactory) -> None:
    pub = sc.start_status_comm(None)
    assert comm_env.made == []
    assert pub.publish_now({"running": 1})["running"] == 1
