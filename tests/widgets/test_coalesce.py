"""Coalescing: step_changed only marks dirty; redraws are bounded by the timer."""

from __future__ import annotations

import asyncio
import io
import logging
import math
import threading
import time
from types import SimpleNamespace

import pytest

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.widgets.coalesce import Coalescer, LiveListener, TextProgress, progress_line


class Counter:
    def __init__(self) -> None:
        self.bound = self.refreshed = self.finished = 0

    def bind_run(self, run: object) -> None:
        self.bound += 1

    def refresh(self) -> None:
        self.refreshed += 1

    def finish(self) -> None:
        self.finished += 1


def _fake_run() -> SimpleNamespace:
    return SimpleNamespace(done=False, status="running")


def test_thousand_step_changes_give_a_handful_of_redraws() -> None:
    counter = Counter()
    listener = LiveListener([counter], max_rate=20)
    run = _fake_run()

    async def drive() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        listener.run_started(run)  # type: ignore[arg-type]
        for i in range(1000):
            listener.step_changed(run, i, "running")  # type: ignore[arg-type]
            if i % 100 == 0:
                await asyncio.sleep(0.01)
        elapsed = loop.time() - t0
        listener.run_finished(run)  # type: ignore[arg-type]
        await asyncio.sleep(0.01)  # the final drawing runs just after the run ends
        return elapsed

    elapsed = asyncio.run(drive())
    # the final drawing, plus at most one per timer period that elapsed
    assert 1 <= counter.refreshed <= 1 + math.ceil(elapsed * 20) + 1
    assert counter.refreshed < 20
    assert counter.bound == 1 and counter.finished == 1


def test_timer_redraws_only_when_dirty() -> None:
    counter = Counter()
    listener = LiveListener([counter], max_rate=200)
    run = _fake_run()

    async def drive() -> tuple[int, int]:
        listener.run_started(run)  # type: ignore[arg-type]
        assert counter.refreshed == 0  # the first drawing waits for the timer
        await asyncio.sleep(0.05)  # several timer periods, changed only at the start
        idle = counter.refreshed
        listener.step_changed(run, 0, "running")  # type: ignore[arg-type]
        deadline = time.monotonic() + 2
        while counter.refreshed == idle and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        after = counter.refreshed
        listener.run_finished(run)  # type: ignore[arg-type]
        listener.run_finished(run)  # type: ignore[arg-type]  # a second call is ignored
        return idle, after

    idle, after = asyncio.run(drive())
    assert idle == 1
    assert after == 2
    assert counter.refreshed == 3 and counter.finished == 1


def test_a_broken_view_never_breaks_the_run(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Counter):
        def refresh(self) -> None:
            raise RuntimeError("draw failed")

    listener = LiveListener([Broken()])
    run = _fake_run()

    async def drive() -> None:
        listener.run_started(run)  # type: ignore[arg-type]
        listener.run_finished(run)  # type: ignore[arg-type]

    with caplog.at_level(logging.ERROR):
        asyncio.run(drive())
    assert "failed to draw" in caplog.text


def test_max_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_rate"):
        LiveListener(max_rate=0)


def test_text_progress_twin(manager: WorkflowManager) -> None:
    steps = [WorkflowStep(f"s{i}", "notebook.t", f"s{i}") for i in range(3)]
    assert manager.create_workflow("t", steps, callables={f"s{i}": (lambda: 1) for i in range(3)})
    out = io.StringIO()
    progress = TextProgress(out)
    manager.run_workflow("t", listeners=[progress])
    assert progress.last == "t " + progress_line({"succeeded": 3}, 3, "completed")
    assert "3/3 completed" in progress.last
    assert out.getvalue().endswith("\n")


def test_progress_line() -> None:
    assert progress_line({"succeeded": 1, "running": 1}, 4, "running", width=4) == (
        "[#---] 1/4 running  succeeded=1  running=1"
    )


def test_coalescer_merges_bursts_from_threads() -> None:
    calls: list[int] = []
    coalescer = Coalescer(lambda: calls.append(1), max_rate=20)

    def burst() -> None:
        for _ in range(500):
            coalescer.mark()

    threads = [threading.Thread(target=burst) for _ in range(4)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    elapsed = time.monotonic() - t0
    assert 1 <= len(calls) <= 1 + math.ceil(elapsed * 20)
    coalescer.close()
    coalescer.mark()
    assert coalescer.calls == len(calls)


def test_final_drawing_waits_for_the_next_loop_iteration() -> None:
    counter = Counter()
    listener = LiveListener([counter], max_rate=1)
    run = _fake_run()

    async def drive() -> tuple[int, int, int, int]:
        listener.run_started(run)  # type: ignore[arg-type]
        listener.run_finished(run)  # type: ignore[arg-type]
        before = (counter.refreshed, counter.finished)  # the run returns first
        await asyncio.sleep(0)  # one loop iteration
        return (*before, counter.refreshed, counter.finished)

    assert asyncio.run(drive()) == (0, 0, 1, 1)
    assert listener.draws == 1


def test_final_drawing_without_a_loop_is_immediate() -> None:
    counter = Counter()
    listener = LiveListener([counter])
    listener.run_finished(_fake_run())  # type: ignore[arg-type]
    assert (counter.refreshed, counter.finished) == (1, 1)


def test_watch_of_a_finished_run_draws_at_once_even_on_a_loop() -> None:
    counter = Counter()
    listener = LiveListener([counter])
    run = SimpleNamespace(done=True, status="completed")

    async def drive() -> tuple[int, int, int]:
        listener.watch(run)  # type: ignore[arg-type]
        return counter.bound, counter.refreshed, counter.finished

    assert asyncio.run(drive()) == (1, 1, 1)
