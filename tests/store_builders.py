"""Build populated stores quickly: many recorded runs, written as the recorder writes them."""

from __future__ import annotations

import time
from pathlib import Path

from codomyrmex_jupyter.engine.step_table import pack_steps
from codomyrmex_jupyter.engine.store import Store, encode_json


def fill_runs(
    store: Store,
    n: int,
    *,
    workflows: tuple[str, ...] = ("etl", "report"),
    steps: int = 3,
    start: float | None = None,
    spacing: float = 60.0,
) -> list[str]:
    """Record ``n`` finished runs (oldest first, ``spacing`` seconds apart); return their ids.

    Each run has ``steps`` succeeded steps, the last one with a stored result,
    and its workflow's definition is saved first, so the file looks like one a
    kernel has been writing to.
    """
    t0 = (time.time() - n * spacing) if start is None else start
    for name in workflows:
        if store.load_workflow(name) is None:
            definition = [{"name": f"s{i}", "module": "m", "action": "a"} for i in range(steps)]
            store.save_workflow(name, definition)
    ids = []
    with store._write() as conn:
        for i in range(n):
            name = workflows[i % len(workflows)]
            run_id = f"run{i:06d}{'x' * 20}"
            begin = t0 + i * spacing
            rows = [
                (j, f"s{j}", "succeeded", begin + j, begin + j + 1, 1, None, None, None,
                 encode_json({"rows": list(range(20))}) if j == steps - 1 else None, None)
                for j in range(steps)
            ]
            packed, details = pack_steps(rows)
            conn.execute(
                "INSERT INTO runs(run_id, workflow, version, status, start, end, parameters, errors, "
                "metrics, session_id, host, pid, steps_packed) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run_id, name, 1, "completed", begin, begin + steps, encode_json({"n": i}),
                 "[]", encode_json({"duration": float(steps)}), None, "host", 1, packed),
            )
            conn.executemany(f"INSERT INTO steps VALUES('{run_id}',?,?,?,?,?,?,?,?,?,?,?)", details)
            ids.append(run_id)
    return ids


def big_store(home: Path, n: int = 10_000, **kwargs: object) -> list[str]:
    """A store under ``home`` with ``n`` runs; the store is closed again."""
    store = Store(home)
    try:
        return fill_runs(store, n, **kwargs)  # type: ignore[arg-type]
    finally:
        store.close()
