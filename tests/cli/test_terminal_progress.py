"""codomyrmex_jupyter.cli.terminal_progress: frames of the live display, plain lines."""

from __future__ import annotations

import io
import os

from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.cli.terminal_progress import LiveDisplay, PlainDisplay, StepEvents
from codomyrmex_jupyter.engine.runner import Run
from codomyrmex_jupyter.engine.state import StepRecord


def _run(n: int) -> Run:
    steps = [WorkflowStep(f"s{i}", "m", "a") for i in range(n)]
    run = Run(steps, workflow="wf", run_id="abcdef0123456789")
    run.status, run.start = "running", 100.0
    return run


def _set(rec: StepRecord, status: str, start: float | None = None, end: float | None = None) -> None:
    rec.status, rec.start, rec.end = status, start, end


def test_a_frame_lists_steps_with_a_bar() -> None:
    run = _run(3)
    _set(run.records[0], "succeeded", 100.0, 100.5)
    _set(run.records[1], "running", 100.5)
    display = LiveDisplay(io.StringIO(), color=False, size=lambda: os.terminal_size((80, 24)))
    lines = display.frame(run, now=102.0)
    assert lines[0] == "wf [abcdef01] running"
    assert lines[1].split() == ["+" if display.symbols["succeeded"] == "+" else "✓", "s0", "succeeded", "500", "ms"]
    assert lines[2].split()[1:] == ["s1", "running", "1.50", "s"]
    assert lines[3].split()[1:] == ["s2", "pending"]
    assert lines[4].endswith("] 1/3 steps  2.00 s")


def test_more_steps_than_rows_shows_the_running_and_failed_first() -> None:
    run = _run(40)
    for rec in run.records[:30]:
        _set(rec, "succeeded", 100.0, 101.0)
    _set(run.records[35], "failed", 100.0, 101.5)
    _set(run.records[36], "running", 101.0)
    display = LiveDisplay(io.StringIO(), color=False)
    lines = display.frame(run, now=102.0, rows=10)
    names = [line.split()[1] for line in lines[1:-2]]
    assert "s35" in names and "s36" in names
    assert len(lines) == 8  # header, 5 steps, "... and 35 more", bar: fits with the summary below
    assert lines[-2].strip().endswith("and 35 more")


def test_redraw_moves_up_over_the_previous_frame() -> None:
    out = io.StringIO()
    run = _run(2)
    display = LiveDisplay(out, color=True, size=lambda: os.terminal_size((80, 24)))
    display.start(run)
    display.update(run, [])
    text = out.getvalue()
    assert text.startswith("\x1b[?25l")
    assert text.count("\x1b[4F") == 1  # header, two steps, bar
    assert "\x1b[34mrunning\x1b[0m" in text


def test_plain_lines_skip_bookkeeping_states() -> None:
    out = io.StringIO()
    run = _run(1)
    events = StepEvents()
    events.run_started(run)
    for state in ("ready", "running", "failed"):
        events.step_changed(run, 0, state)
    _set(run.records[0], "failed", 100.0, 100.25)
    run.records[0].error = "ValueError: no"
    run.start = events.events[0][0] - 1.0
    PlainDisplay(out).update(run, events.drain())
    assert out.getvalue().splitlines() == [
        "[    1.0s] s0 running", "[    1.0s] s0 failed in 250 ms: ValueError: no",
    ]
    assert events.drain() == []


def test_the_bar_shows_outcomes_in_their_colours() -> None:
    run = _run(4)
    for rec, status in zip(run.records, ("succeeded", "failed", "cancelled", "running"), strict=True):
        _set(rec, status, 100.0, None if status == "running" else 101.0)
    bar = LiveDisplay(io.StringIO(), color=True)._bar(run, 102.0, width=8)
    assert bar.startswith("  [\x1b[32m##\x1b[0m\x1b[31m##\x1b[0m\x1b[90m##\x1b[0m--] 3/4 steps")
