"""End to end: a notebook run by a real kernel keeps widget views and static twins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
nbconvert = pytest.importorskip("nbconvert")

from codomyrmex_jupyter.engine.state import STATE_COLORS  # noqa: E402

pytestmark = pytest.mark.kernel

ROOT = Path(__file__).resolve().parents[2]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
DAG_MIME = "application/vnd.codomyrmex.dag+json"

CELLS = [
    """\
from pathlib import Path
from codomyrmex_jupyter import WorkflowManager, WorkflowStep, action
from codomyrmex_jupyter.widgets.dag_view import DagView
from codomyrmex_jupyter.widgets.run_panel import RunView

@action("nbdemo", "load")
def load(n: int = 3):
    return list(range(n))

@action("nbdemo", "total")
def total(load):
    return sum(load)

manager = WorkflowManager(config_dir=Path("wm"), retry_backoff=0.01)
steps = [
    WorkflowStep("load", "nbdemo", "load", parameters={"n": 4}),
    WorkflowStep("total", "nbdemo", "total", dependencies=["load"]),
]
assert manager.create_workflow("nbdemo", steps)
""",
    # a view displayed before the run: its outputs are updated with the final state
    """\
view = RunView.for_workflow(manager, "nbdemo")
display(view)
execution = manager.run_workflow("nbdemo", listeners=[view.listener])
execution.status.value
""",
    "DagView.for_execution(execution)",
    "execution",
]


def _run_notebook(tmp_path: Path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CODOMYRMEX_HOME"] = str(tmp_path / "home")
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)  # the kernel imports the package from the source tree
    return nb


def test_notebook_outputs_keep_widget_views_and_static_twins(tmp_path: Path) -> None:
    nb = _run_notebook(tmp_path)
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors, errors
    displays = [o for o in outputs if o["output_type"] in ("display_data", "execute_result")]
    widget_outputs = [o for o in displays if WIDGET_MIME in o["data"]]
    assert len(widget_outputs) == 2  # RunView and DagView
    for out in widget_outputs:
        assert "<svg" in out["data"]["text/html"]
        doc = out["data"][DAG_MIME]
        assert doc["version"] == 1
        assert doc["status"] == "completed"  # the RunView output was updated at the end
        assert doc["counts"] == {"succeeded": 2}
    plain = [o for o in displays if DAG_MIME in o["data"] and WIDGET_MIME not in o["data"]]
    assert len(plain) == 1 and "<svg" in plain[0]["data"]["text/html"]

    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert "<svg" in html and 'class="codomyrmex-dag"' in html
    assert f'fill="{STATE_COLORS["succeeded"]}"' in html
