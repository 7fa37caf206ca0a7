"""The run event hub: fan-out, latest event per run, failing subscribers."""

from __future__ import annotations

import logging

import pytest

from codomyrmex_jupyter.engine.events import RunEvent, RunEventHub


def test_subscribers_get_events_and_can_leave() -> None:
    hub = RunEventHub()
    got: list[RunEvent] = []
    leave = hub.subscribe(got.append)
    hub.publish(RunEvent("run_started", "r1", "w", "running"))
    leave()
    hub.publish(RunEvent("run_finished", "r1", "w", "completed"))
    assert [e.kind for e in got] == ["run_started"]


def test_snapshot_keeps_the_latest_event_per_run_in_order() -> None:
    hub = RunEventHub(keep=2)
    hub.publish(RunEvent("run_started", "r1", "w", "running"))
    hub.publish(RunEvent("run_started", "r2", "w", "running"))
    hub.publish(RunEvent("run_finished", "r1", "w", "failed"))
    hub.publish(RunEvent("run_started", "r3", "w", "running"))
    assert [(e.run_id, e.status) for e in hub.snapshot()] == [("r1", "failed"), ("r3", "running")]


def test_a_failing_subscriber_is_logged_and_the_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    hub = RunEventHub()
    got: list[str] = []

    def broken(event: RunEvent) -> None:
        raise RuntimeError("display gone")

    hub.subscribe(broken)
    hub.subscribe(lambda e: got.append(e.run_id))
    with caplog.at_level(logging.ERROR):
        hub.publish(RunEvent("run_started", "r1", "w", "running"))
    assert got == ["r1"]
    assert "display gone" in caplog.text
