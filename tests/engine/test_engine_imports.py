"""The engine imports no IPython, ipywidgets, traitlets or matplotlib."""

from __future__ import annotations

import subprocess
import sys

from import_blocker import blocking_script

BLOCKER = blocking_script(
    ("IPython", "ipywidgets", "traitlets", "matplotlib", "ipykernel", "networkx"),
    """
    import asyncio
    import codomyrmex_jupyter.engine as engine
    from codomyrmex_jupyter.engine import Run, Store, compile_graph
    from codomyrmex_jupyter.engine.executors import LocalExecutor
    import codomyrmex_jupyter.engine.builtin.static_analysis
    import codomyrmex_jupyter.engine.builtin.data_visualization
    import codomyrmex_jupyter.engine.builtin.environment_setup
    import codomyrmex_jupyter.runtime
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("engine ok")
    """,
)


def test_engine_imports_without_jupyter_packages() -> None:
    out = subprocess.run([sys.executable, "-c", BLOCKER], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "engine ok"


def test_top_level_import_is_light() -> None:
    code = (
        "import sys, codomyrmex_jupyter as c; c.WorkflowStep; c.get_workflow_manager;"
        "heavy = [m for m in ('matplotlib', 'networkx', 'dask', 'distributed', 'ipywidgets') if m in sys.modules];"
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
