"""Load cost of ``%load_ext codomyrmex_jupyter`` in a process that has IPython.

Each figure comes from a fresh interpreter (imports are cached per process):
it imports IPython and creates an ``InteractiveShell`` untimed, then times
either ``%load_ext codomyrmex_jupyter`` or the baseline
``import ipywidgets, nest_asyncio2``. Subprocesses alternate (A B A B).
The same child also reports which heavy modules the extension pulled in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from .measure import Sample
from .report import Row, Section

__all__ = ["extension_available", "run_section"]

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("networkx", "matplotlib", "dask", "distributed")

_CHILD = """
import json, sys, time
import IPython
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = set(sys.modules)
t0 = time.perf_counter()
if sys.argv[1] == "ext":
    shell.run_line_magic("load_ext", "codomyrmex_jupyter")
    ok = "codomyrmex_jupyter" in shell.extension_manager.loaded
else:
    import ipywidgets, nest_asyncio2
    ok = True
elapsed = time.perf_counter() - t0
new = sorted(m for m in set(sys.modules) - before if "." not in m)
print(json.dumps({"seconds": elapsed, "ok": ok, "new": new}))
"""


def extension_available() -> bool:
    """The magics extension module exists."""
    return (ROOT / "codomyrmex_jupyter" / "magics" / "extension.py").exists()


def _child(kind: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=120,
    )
    data: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return data


def _slowest_imports(top: int = 6) -> str:
    """Our modules with the largest cumulative import time under ``%load_ext``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _CHILD, "ext"],
        capture_output=True, text=True, check=True, cwd=ROOT, timeout=120,
    )
    cumulative: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[1].isdigit():
            cumulative[parts[2]] = int(parts[1])
    ours = sorted(((us, m) for m, us in cumulative.items() if m.startswith("codomyrmex")),
                  reverse=True)[:top]
    listed = ", ".join(f"`{m}` {us / 1000:.0f} ms" for us, m in ours)
    return (
        "Largest cumulative import times under `%load_ext` (one `python -X importtime` "
        f"child; nested modules are included in their parents): {listed}."
    )


def run_section(quick: bool) -> Section:
    """Measure this section."""
    sec = Section(
        "load",
        "Load cost of the extension",
        "Fresh interpreter per figure, IPython imported and an `InteractiveShell` created "
        "before the clock starts. Baseline: `import ipywidgets, nest_asyncio2` in the same "
        "setting.",
    )
    if not extension_available():
        sec.rows.append(Row("%load_ext codomyrmex_jupyter", None, "ms", 1e3,
                            status="not measured: codomyrmex_jupyter/magics/extension.py missing"))
        return sec
    repeats = 3 if quick else 11
    ext, base = Sample(), Sample()
    pulled: set[str] = set()
    for _ in range(repeats):
        e = _child("ext")
        if not e["ok"]:
            raise RuntimeError("load_ext did not register codomyrmex_jupyter")
        ext.values.append(float(e["seconds"]))
        pulled |= set(e["new"])
        base.values.append(float(_child("base")["seconds"]))
    sec.rows.append(Row("%load_ext codomyrmex_jupyter", ext, "ms", 1e3,
                        "import ipywidgets, nest_asyncio2", base, 1.5))
    heavy = sorted(m for m in HEAVY if m in pulled)
    sec.rows.append(Row("heavy modules imported by load_ext", None, status="MISS" if heavy
                        else "PASS", note=", ".join(heavy) or "none of " + ", ".join(HEAVY)))
    if sec.misses or heavy:
        sec.notes.append(_slowest_imports())
    if heavy:
        sec.notes.append(
            f"`%load_ext` imported {', '.join(heavy)}; they should be imported on first use."
        )
    return sec
