"""Peak memory: a 100,000-step DAG defined and validated, and a 10,000-step run.

Every figure comes from its own interpreter. Two measures:

* peak RSS of the child (``VmHWM`` from ``/proc/self/status``; ``ru_maxrss``
  would report the forking parent's peak on Linux) minus that of a baseline
  child which imports the same modules and does nothing else;
* the ``tracemalloc`` peak of the measured part alone (another child, since
  tracing inflates RSS).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .measure import Sample
from .report import Row, Section

__all__ = ["run_section"]

ROOT = Path(__file__).resolve().parent.parent

_CHILD = """
import asyncio, json, resource, sys, tempfile, tracemalloc
from bench.engine_overhead import MODULE, make_manager
from bench.shapes import layered, workflow_steps
kind, n, trace = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "trace"
tmp = tempfile.mkdtemp(prefix="codo-bench-")
manager = make_manager(tmp)
if trace:
    tracemalloc.start()
status = None
if kind == "define":
    steps = workflow_steps(layered(n), MODULE, "noop_async")
    assert manager.create_workflow("big", steps, save=False)
    status = "defined"
elif kind == "run":
    steps = workflow_steps(layered(n), MODULE, "noop_async")
    assert manager.create_workflow("big", steps)
    status = asyncio.run(manager.execute_workflow("big")).status.value
peak = tracemalloc.get_traced_memory()[1] if trace else 0
manager.close()
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent.
try:
    status_text = open("/proc/self/status").read()
    kb = int(next(l for l in status_text.splitlines() if l.startswith("VmHWM")).split()[1])
except OSError:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rss_kb": kb, "traced": peak, "status": status}))
"""


def _child(kind: str, n: int, trace: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(n), "trace" if trace else "rss"],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=300,
    )
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def _measure(kind: str, n: int, repeats: int) -> tuple[Sample, Sample, str]:
    rss, traced = Sample(), Sample()
    status = ""
    for _ in range(repeats):
        base = int(_child("baseline", 0, False)["rss_kb"])
        got = _child(kind, n, False)
        rss.values.append((int(got["rss_kb"]) - base) * 1024.0)
        status = str(got["status"])
        traced.values.append(float(_child(kind, n, True)["traced"]))
    return rss, traced, status


def run_section(quick: bool) -> Section:
    """Measure this section."""
    sec = Section(
        "memory",
        "Peak memory",
        "Fresh interpreter per figure. RSS: peak resident set (`VmHWM`) minus that of an interpreter "
        "with the same imports and an open manager. traced: `tracemalloc` peak of the "
        "measured part only. Layered DAGs, width 100.",
    )
    repeats = 1 if quick else 3
    define_n, run_n = (10_000, 2_000) if quick else (100_000, 10_000)
    mb = 1 / 2**20
    for kind, n, what in (("define", define_n, "defined and validated, no run"),
                          ("run", run_n, "run (async no-op steps, recorded)")):
        rss, traced, status = _measure(kind, n, repeats)
        label = f"{n:,} steps {what}"
        sec.rows.append(Row(f"{label}: peak RSS over baseline", rss, "MB", mb,
                            note=f"{rss.median / n:,.0f} bytes/step"))
        sec.rows.append(Row(f"{label}: tracemalloc peak", traced, "MB", mb,
                            note=f"{traced.median / n:,.0f} bytes/step"))
        if kind == "run" and status != "completed":
            raise RuntimeError(f"the memory run ended {status}")
    return sec
