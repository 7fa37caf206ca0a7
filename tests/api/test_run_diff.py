"""Run diffs as JSON, and from the store alone (what the Jupyter server has: no kernel, no manager)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from edited_runs import two_differing_runs

from codomyrmex_jupyter import ReproducibilityError, WorkflowManager
from codomyrmex_jupyter.api.run_diff import diff_stored_runs
from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.store import DB_FILENAME, Store
from codomyrmex_jupyter.errors import AmbiguousRunError, ArgumentError


@pytest.fixture
def runs(tmp_path: Path) -> dict[str, Any]:
    """Two runs of ``etl`` that differ in every way (``tests/edited_runs.py``) and their diff by the manager."""
    manager = WorkflowManager(config_dir=tmp_path / "home",
                              registry=ActionRegistry(load_builtins=False, load_entry_points=False))
    ids = two_differing_runs(manager, "etl", tmp_path / "cells")
    expected = manager.diff_runs(ids["a"], ids["b"]).to_dict()
    manager.close()
    return {**ids, "home": tmp_path / "home", "expected": expected}


def test_the_json_form_names_every_difference(runs: dict[str, Any]) -> None:
    body = runs["expected"]
    assert json.loads(json.dumps(body)) == body  # plain JSON, nothing lost
    assert body["a"]["run_id"] == runs["a"] and body["b"]["status"] == "failed"
    assert body["a"]["workflow"] == "etl" and body["a"]["version"] == 1 and body["b"]["version"] == 2
    assert body["a"]["duration"] >= 0 and not body["identical"]
    assert body["parameters"] == [{"name": "n", "a": "3", "b": "4"}]
    assert {"name": "python", "a": runs["python"], "b": "9.9.9"} in body["environment"]
    steps = {s["step"]: s for s in body["steps"]}
    assert list(steps) == ["load", "clean", "report"]
    clean = steps["clean"]
    assert clean["change"] == "changed" and clean["code_changed"]
    assert "-    return [x * 2 for x in load]" in clean["code_diff"]
    assert "+    return [x * 3 for x in load]" in clean["code_diff"]
    assert clean["state"] == {"a": "succeeded", "b": "failed"} and clean["state_changed"]
    assert steps["load"]["result"] == "list len 3 -> len 4" and not steps["load"]["code_changed"]
    assert steps["report"]["parameters"] == [{"name": "title", "a": None, "b": "'t'"}]
    assert steps["report"]["state"] == {"a": "succeeded", "b": "skipped"}
    assert steps["report"]["dependencies"] is None and steps["load"]["code_diff"] is None
    assert set(steps["load"]["duration"]) == {"a", "b"} and steps["load"]["duration"]["a"] >= 0
    assert set(clean) == {"step", "change", "state", "state_changed", "duration", "dependencies",
                          "code_changed", "code_diff", "parameters", "result", "cache"}


def test_the_store_alone_gives_the_same_diff(runs: dict[str, Any]) -> None:
    store = Store(runs["home"])
    store._conn.execute("PRAGMA query_only = ON")  # any write would now fail
    try:
        alone = diff_stored_runs(store, runs["a"][:8], runs["b"][:6]).to_dict()
    finally:
        store.close()
    assert alone == runs["expected"]


def test_a_store_only_diff_imports_no_kernel_and_writes_nothing(runs: dict[str, Any]) -> None:
    files = sorted(runs["home"].glob(f"{DB_FILENAME}*"))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    script = (
        "import json, sys\n"
        "from codomyrmex_jupyter.engine.store import Store\n"
        "from codomyrmex_jupyter.api.run_diff import diff_stored_runs\n"
        f"d = diff_stored_runs(Store({str(runs['home'])!r}), {runs['a']!r}, {runs['b']!r}).to_dict()\n"
        "kernel = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('IPython', 'ipywidgets', 'ipykernel', 'matplotlib'))\n"
        "print(json.dumps({'changed': [s['step'] for s in d['steps'] if s['change'] != 'same'], "
        "'kernel': kernel}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    answer = json.loads(out.stdout)
    assert answer == {"changed": ["load", "clean", "report"], "kernel": []}, out.stderr
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(runs["home"].glob(f"{DB_FILENAME}*"))}
    assert after == before


def test_ids_that_name_no_run_or_several(runs: dict[str, Any], tmp_path: Path) -> None:
    store = Store(runs["home"])
    try:
        with pytest.raises(ReproducibilityError, match="no run with id 'zzzzzzzz'"):
            diff_stored_runs(store, "zzzzzzzz", runs["b"])
        with pytest.raises(ArgumentError, match="too short"):
            diff_stored_runs(store, runs["a"], runs["b"][:3])
        store.start_run(runs["a"][:6] + "-twin", "etl", version=1, start=1.0, parameters={})
        with pytest.raises(AmbiguousRunError, match="matches 2 runs"):
            diff_stored_runs(store, runs["a"][:6], runs["b"])
    finally:
        store.close()
