"""Properties of the runner over random DAGs with random failures, timeouts, retries and cancels.

Hypothesis draws a DAG (each step depends on up to three earlier ones), and
for each step: sync or async, how many first attempts fail, how many retries
it has, and whether it hangs past its timeout; and for the run: whether it
is cancelled after a few milliseconds. Every run is made by a
:class:`WorkflowManager` recording into a SQLite file, in the runner's debug
mode (every transition is checked against ``TRANSITIONS``). Then:

* every step is called at most once per attempt, and no more often than
  ``1 + max_retries`` times;
* no call starts before every one of its dependencies has succeeded;
* without a cancel, the failed steps are exactly those that fail more often
  than they may retry, or hang; the skipped steps are exactly their
  descendants; every other step succeeded;
* with a cancel, every step ends in a final state and none starts after the
  cancel;
* every transition seen by a listener is in ``TRANSITIONS``;
* the run read back from the file by a second store equals what happened:
  status, each step's state, attempts and error, and the calls observed.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.engine import runner as runner_mod
from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.events import BaseListener
from codomyrmex_jupyter.engine.state import TERMINAL_STATES, TRANSITIONS
from codomyrmex_jupyter.engine.store import Store

HANG, TIMEOUT = 0.3, 0.02  # a hang is 15 timeouts long: a stalled loop still sees it time out


@dataclass(frozen=True)
class Plan:
    deps: tuple[int, ...]
    sync: bool
    fail_first: int  # this many first attempts raise
    retries: int
    hang: bool  # sleeps past its timeout


@dataclass
class Calls:
    lock: threading.Lock = field(default_factory=threading.Lock)
    log: list[tuple[str, int, float, float | None, bool]] = field(default_factory=list)

    def begin(self, name: str) -> int:
        with self.lock:
            attempt = sum(1 for c in self.log if c[0] == name) + 1
            self.log.append((name, attempt, time.monotonic(), None, False))
            return len(self.log) - 1

    def end(self, index: int, ok: bool) -> None:
        with self.lock:
            name, attempt, start, _, _ = self.log[index]
            self.log[index] = (name, attempt, start, time.monotonic(), ok)


class Transitions(BaseListener):
    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def step_changed(self, run: Any, index: int, state: str) -> None:
        self.seen.setdefault(run.graph.names[index], ["pending"]).append(state)


def _registry(calls: Calls, plans: dict[str, Plan]) -> ActionRegistry:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)

    def outcome(name: str, attempt: int) -> bool:
        return attempt > plans[name].fail_first

    def sync_step(name: str) -> str:
        i = calls.begin(name)
        attempt = calls.log[i][1]
        if plans[name].hang:
            time.sleep(HANG)
        ok = outcome(name, attempt)
        calls.end(i, ok)
        if not ok:
            raise ValueError(f"{name} attempt {attempt} fails")
        return name

    async def async_step(name: str) -> str:
        i = calls.begin(name)
        attempt = calls.log[i][1]
        try:
            await asyncio.sleep(HANG if plans[name].hang else 0.001)
        except asyncio.CancelledError:
            calls.end(i, False)
            raise
        ok = outcome(name, attempt)
        calls.end(i, ok)
        if not ok:
            raise ValueError(f"{name} attempt {attempt} fails")
        return name

    reg.register("p", "sync", sync_step)
    reg.register("p", "async", async_step)
    return reg


@st.composite
def dags(draw: Any) -> list[Plan]:
    n = draw(st.integers(1, 12))
    plans = []
    for i in range(n):
        deps = draw(st.lists(st.integers(0, i - 1), max_size=min(3, i), unique=True)) if i else []
        plans.append(Plan(
            deps=tuple(sorted(deps)),
            sync=draw(st.booleans()),
            fail_first=draw(st.sampled_from([0, 0, 0, 1, 2, 5])),
            retries=draw(st.integers(0, 2)),
            hang=draw(st.booleans()) and draw(st.booleans()),  # one step in four
        ))
    return plans


def _descendants(plans: list[Plan], roots: set[int]) -> set[int]:
    out: set[int] = set()
    changed = True
    while changed:
        changed = False
        for i, p in enumerate(plans):
            if i not in out and (set(p.deps) & (roots | out)):
                out.add(i)
                changed = True
    return out


@pytest.fixture(autouse=True)
def _debug_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_mod, "CHECK_TRANSITIONS", True)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plans=dags(),
    cancel_after=st.one_of(st.none(), st.none(), st.floats(0.0, 0.04)),
    run_timeout=st.one_of(st.none(), st.none(), st.floats(0.01, 0.06)),
    backoff=st.sampled_from([0.001, 0.05]),
    concurrency=st.sampled_from([1, 2, 8]),
)
def test_random_runs_keep_every_promise(
    plans: list[Plan], cancel_after: float | None, run_timeout: float | None, backoff: float,
    concurrency: int,
) -> None:
    names = [f"s{i}" for i in range(len(plans))]
    by_name = dict(zip(names, plans, strict=True))
    calls = Calls()
    steps = [
        WorkflowStep(
            name, "p", "sync" if p.sync else "async", parameters={"name": name},
            dependencies=[names[d] for d in p.deps], max_retries=p.retries,
            timeout=TIMEOUT if p.hang else None,
        )
        for name, p in by_name.items()
    ]
    with tempfile.TemporaryDirectory() as home:
        manager = WorkflowManager(
            store=Store(Path(home)), registry=_registry(calls, by_name), retry_backoff=backoff,
            max_concurrency=concurrency,
        )
        assert manager.create_workflow("prop", steps)
        transitions = Transitions()
        cancelled_at: list[float] = []

        async def main() -> Any:
            run, execution = manager.prepare_run("prop", timeout=run_timeout, listeners=[transitions])

            def cancel() -> None:
                run.cancel("property cancel")
                # from here on no call may start (a worker may take one up to this moment)
                cancelled_at.append(time.monotonic())

            if cancel_after is not None:
                asyncio.get_running_loop().call_later(cancel_after, cancel)
            await run.execute()  # raises AssertionError on an illegal transition (debug mode)
            execution.sync_from_run()
            return run, execution

        run, _execution = asyncio.run(main())
        event(f"run {run.status}" + (" after a run timeout" if run._timed_out else ""))
        for state in sorted({r.status for r in run.records}):
            event(f"a step {state}")
        if any(r.retries for r in run.records):
            event("a step retried")
        time.sleep(HANG if any(p.hang and p.sync for p in plans) else 0)  # let hung threads return
        _check(run, plans, names, calls, transitions, cancelled_at=cancelled_at)
        _check_recorded(Path(home), run, calls)
        manager.close()


def _check(run: Any, plans: list[Plan], names: list[str], calls: Calls, transitions: Transitions, *,
           cancelled_at: list[float]) -> None:
    recs = {r.name: r for r in run.records}
    assert run.illegal_transitions == []
    for name, states in transitions.seen.items():
        for old, new in itertools.pairwise(states):
            assert new in TRANSITIONS[old], (name, old, new)
    assert all(r.status in TERMINAL_STATES for r in recs.values())
    # at most once per attempt, never more than 1 + max_retries calls
    per_step: dict[str, list[int]] = {}
    for name, attempt, *_ in calls.log:
        per_step.setdefault(name, []).append(attempt)
    for i, name in enumerate(names):
        attempts = per_step.get(name, [])
        assert attempts == list(range(1, len(attempts) + 1)), (name, attempts)
        assert len(attempts) <= 1 + plans[i].retries
        assert len(attempts) == recs[name].attempts, (name, attempts, recs[name])
    # never before its dependencies succeeded
    succeeded_at = {n: end for n, _, _, end, ok in calls.log if ok and end is not None}
    for name, _, start, _, _ in calls.log:
        for d in plans[names.index(name)].deps:
            assert names[d] in succeeded_at and succeeded_at[names[d]] <= start, (name, names[d])
    if cancelled_at:
        assert all(start <= cancelled_at[0] for _, _, start, _, _ in calls.log)
    if run.status == "cancelled" or run._timed_out:
        assert run.status != "completed"
        return
    # failures are exactly those planned; skips exactly their descendants
    failing = {i for i, p in enumerate(plans) if p.hang or p.fail_first > p.retries}
    first_failures = {i for i in failing if not (set(plans[i].deps) & (failing | _descendants(plans, failing)))}
    skipped = _descendants(plans, first_failures)
    assert {n for n, r in recs.items() if r.status == "failed"} == {names[i] for i in first_failures}
    assert {n for n, r in recs.items() if r.status == "skipped"} == {names[i] for i in skipped}
    assert {n for n, r in recs.items() if r.status == "succeeded"} == {
        names[i] for i in range(len(plans)) if i not in first_failures | skipped
    }
    assert run.status == ("failed" if first_failures else "completed")


def _check_recorded(home: Path, run: Any, calls: Calls) -> None:
    reader = Store(home)  # a second connection, as another process would read it
    row = reader.get_run(run.run_id)
    assert row is not None and row["status"] == run.status
    stored = {s["name"]: s for s in row["steps"]}
    for rec in run.records:
        s = stored[rec.name]
        assert (s["status"], s["attempts"], s["error"]) == (rec.status, rec.attempts, rec.error), rec.name
        assert s["attempts"] == sum(1 for c in calls.log if c[0] == rec.name)
    reader.close()
