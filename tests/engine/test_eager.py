"""Eager start of coroutines: same results and semantics as a task."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from codomyrmex_jupyter.engine.executors.eager import FINISHED, start_eagerly

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outer")


def run(coro_fn, *, cancel_after: float | None = None):
    outcome: list[tuple[bool, object]] = []

    async def main():
        loop = asyncio.get_running_loop()
        handle = start_eagerly(loop, coro_fn(), lambda ok, v: outcome.append((ok, v)))
        if isinstance(handle, asyncio.Task):
            handle.add_done_callback(
                lambda t: outcome.append((not t.cancelled() and t.exception() is None,
                                          "cancelled" if t.cancelled() else (t.exception() or t.result()))))
        if cancel_after is not None:
            await asyncio.sleep(cancel_after)
            handle.cancel()
        while not outcome:
            await asyncio.sleep(0.001)
        return handle

    handle = asyncio.run(main())
    return handle, outcome


def test_a_coroutine_that_never_suspends_needs_no_task() -> None:
    async def f():
        return 41 + 1

    handle, outcome = run(f)
    assert handle is FINISHED and outcome == [(True, 42)]


def test_a_failure_in_the_first_segment_is_reported() -> None:
    async def f():
        raise ValueError("early")

    handle, outcome = run(f)
    assert handle is FINISHED
    assert outcome[0][0] is False and str(outcome[0][1]) == "early"


def test_a_suspending_coroutine_continues_in_a_task() -> None:
    async def f():
        await asyncio.sleep(0)
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, fut.set_result, 5)
        value = await fut
        await asyncio.sleep(0.001)
        return value * 2

    handle, outcome = run(f)
    assert isinstance(handle, asyncio.Task)
    assert outcome == [(True, 10)]


def test_cancelling_the_task_reaches_the_coroutine() -> None:
    seen: list[str] = []

    async def f():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    _, outcome = run(f, cancel_after=0.01)
    assert seen == ["cancelled"] and outcome == [(False, "cancelled")]


def test_context_changes_stay_inside_the_step() -> None:
    async def f():
        var.set("inner")
        await asyncio.sleep(0)
        return var.get()

    _, outcome = run(f)
    assert outcome == [(True, "inner")]
    assert var.get() == "outer"


def test_exceptions_thrown_in_are_handled_by_the_coroutine() -> None:
    async def f():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "recovered"

    _, outcome = run(f, cancel_after=0.01)
    assert outcome == [(True, "recovered")]


@pytest.mark.parametrize("n", [1, 50])
def test_many_yields(n: int) -> None:
    async def f():
        total = 0
        for i in range(n):
            await asyncio.sleep(0)
            total += i
        return total

    _, outcome = run(f)
    assert outcome == [(True, sum(range(n)))]
