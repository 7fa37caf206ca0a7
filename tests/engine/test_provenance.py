"""Run records: code fingerprints, sources stored once, environment, summaries, cache outcomes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.provenance import (
    build_record,
    code_of_step,
    load_record,
    load_sources,
    save_record,
)
from codomyrmex_jupyter.engine.runner import Run
from codomyrmex_jupyter.engine.store import Store


@dataclass
class S:
    name: str
    module: str = "t"
    action: str = "one"
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    timeout: float | None = None
    max_retries: int = 0


def one() -> list[int]:
    return [1, 2, 3]


def two(one: list[int]) -> None:
    return None


def boom() -> None:
    raise ValueError("no")


def registry() -> ActionRegistry:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    for fn in (one, two, boom):
        reg.register("t", fn.__name__, fn)
    return reg


def finished(steps: list[S]) -> Run:
    run = Run(steps, workflow="w", registry=registry())
    asyncio.run(run.execute())
    return run


def test_one_action_for_every_step_is_stored_once() -> None:
    record, sources = build_record(finished([S("a"), S("b"), S("c")]))
    assert record["code_of"] is None and len(record["code"]) == 1
    assert "def one" in sources[record["code"][0]]
    assert code_of_step(record, 2) == record["code"][0]


def test_steps_of_different_code_and_steps_that_never_started() -> None:
    run = finished([S("a", action="boom"), S("b", action="two", dependencies=["a"]), S("c", action="missing")])
    record, sources = build_record(run)
    assert record["code_of"][2] == -1 and code_of_step(record, 2) is None
    assert {"def boom", "def two"} <= {src.split("(")[0] for src in sources.values()}
    assert code_of_step(record, 0) != code_of_step(record, 1)


def test_environment_summaries_and_options() -> None:
    run = finished([S("a"), S("b", action="two", dependencies=["a"])])
    record, _ = build_record(run, cache={"a": {"key": "k", "outcome": "hit"}},
                             options={"rerun_of": "r0", "force": None}, definition=[{"name": "a"}])
    env = record["environment"]
    assert env["python"] and env["platform"] and "codomyrmex_jupyter" in env["packages"]
    assert record["summaries"] == {"a": {"type": "list", "len": 3, "repr": "[1, 2, 3]"}}  # None has none
    assert record["cache"] == {"a": {"key": "k", "outcome": "hit"}}
    assert record["rerun_of"] == "r0" and "force" not in record
    assert record["definition"] == [{"name": "a"}]


def test_saved_and_loaded(tmp_path: Path) -> None:
    store = Store(tmp_path)
    run = finished([S("a")])
    store.start_run(run.run_id, "w", version=None, start=1.0, parameters={})
    record, sources = build_record(run)
    save_record(store, run.run_id, record, sources)
    save_record(store, run.run_id, record, sources)  # idempotent
    assert load_record(store, run.run_id) == record
    assert load_sources(store, record["code"]) == sources
    assert load_record(store, "nope") is None and load_sources(store, []) == {}
    with store.transaction() as conn:
        conn.execute("DELETE FROM runs WHERE run_id=?", (run.run_id,))
    assert load_record(store, run.run_id) is None  # deleting a run deletes its record
