"""Start-up cost of the command line: ``codomyrmex-jupyter list`` as a user types it.

Each figure is the wall time of a fresh process, from spawn to exit, on a
store of 20 workflows and 500 recorded runs. The baseline is the bare
interpreter (``python -c pass``) in the same run, interleaved with ours, so
the ratio shows what the command adds to Python's own start-up. A child that
runs the same command in-process reports which heavy modules it imported
(read commands must import none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .measure import Sample, interleave
from .report import Row, Section

__all__ = ["run_section"]

HEAVY = ("ipywidgets", "matplotlib", "networkx", "IPython", "dask", "distributed")
TARGET_SECONDS = 0.3
_CHILD = (
    "import sys, json\n"
    "from codomyrmex_jupyter.cli import main\n"
    "code = main(sys.argv[1:])\n"
    f"print(json.dumps({{'code': code, 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}),"
    " file=sys.stderr)\n"
)


def _command() -> list[str]:
    script = Path(sys.executable).with_name("codomyrmex-jupyter")
    return [str(script)] if script.exists() else [sys.executable, "-m", "codomyrmex_jupyter"]


def _fill_store() -> None:
    from codomyrmex_jupyter.engine.store import Store

    store = Store(os.environ["CODOMYRMEX_HOME"])
    try:
        now = time.time()
        for w in range(20):
            name = f"workflow_{w:02d}"
            store.save_workflow(name, [{"name": f"s{i}", "module": "m", "action": "a",
                                        "dependencies": [f"s{i - 1}"] if i else []} for i in range(8)])
            for r in range(25):
                run_id = f"{w:02d}{r:04d}" + "0" * 26
                start = now - (w * 25 + r) * 60
                store.start_run(run_id, name, version=1, start=start, parameters={"n": r})
                rows = [(i, f"s{i}", "succeeded", start + i, start + i + 1, 1, None, None, None, None, None)
                        for i in range(8)]
                store.finish_run(run_id, status="completed", end=start + 8, errors=[],
                                 metrics={"duration": 8.0}, steps=rows)
    finally:
        store.close()


def _timed(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    return time.perf_counter() - t0


def _heavy(args: list[str]) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True,
                          check=True, timeout=120)
    data = json.loads(proc.stderr.strip().splitlines()[-1])
    if data["code"] != 0:
        raise RuntimeError(f"codomyrmex-jupyter {' '.join(args)} exited {data['code']}")
    return list(data["heavy"])


def run_section(quick: bool) -> Section:
    """Measure this section."""
    sec = Section(
        "cli",
        "Command line start-up",
        "Wall time of a fresh `codomyrmex-jupyter` process (the console script) on a store of "
        "20 workflows and 500 runs, interleaved with the baseline `python -c pass`. Target: "
        f"`list` under {TARGET_SECONDS} s.",
    )
    _fill_store()
    repeats = 3 if quick else 15
    command = _command()
    cases = {
        "list": lambda: _timed([*command, "list"]),
        "list --json": lambda: _timed([*command, "list", "--json"]),
        "history -n 50": lambda: _timed([*command, "history", "-n", "50"]),
        "base": lambda: _timed([sys.executable, "-c", "pass"]),
    }
    samples: dict[str, Sample] = interleave(cases, repeats)
    base = samples.pop("base")
    for name, sample in samples.items():
        limit = TARGET_SECONDS if name == "list" else None
        sec.rows.append(Row(f"codomyrmex-jupyter {name}", sample, "s", 1.0, "python -c pass", base,
                            limit=limit, on="value"))
    heavy = sorted({m for args in (["list"], ["history"], ["dag", "workflow_00"]) for m in _heavy(args)})
    sec.rows.append(Row("heavy modules imported by list, history, dag", None,
                        status="MISS" if heavy else "PASS",
                        note=", ".join(heavy) or "none of " + ", ".join(HEAVY)))
    return sec
