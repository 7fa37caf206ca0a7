"""End to end: a notebook run by a real kernel leaves outputs that need no kernel."""

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
DASHBOARD_MIME = "application/vnd.codomyrmex.dashboard+json"

CELLS = [
    """\
from pathlib import Path
from codomyrmex_jupyter import WorkflowManager, WorkflowStep, action, get_resource_manager, Resource, ResourceType
from codomyrmex_jupyter.widgets import DagView, RunView, ResourceGauges, dashboard

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
    """\
rm = get_resource_manager()
rm.add_resource(Resource(id="gpu", name="GPU", resource_type=ResourceType.GPU, capacity=2.0))
ResourceGauges(rm)
""",
    "%load_ext codomyrmex_jupyter",
    "%%workflow bg --quiet\nimport time\n\ndef wait():\n    time.sleep(0.5)\n    return 'done'\n",
    "h = %orchestrate run bg --background",
    "%orchestrate dashboard",
    "print(h.result(30).status.value)\nimport time; time.sleep(0.5)",
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


def test_saved_outputs_need_no_kernel_and_nbconvert_shows_them_all(tmp_path: Path) -> None:
    nb = _run_notebook(tmp_path)
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    errors = [o for o in outputs if o["output_type"] == "error"]
    assert not errors, errors
    displays = [o for o in outputs if o["output_type"] in ("display_data", "execute_result")]
    # Our widgets never leave a widget-view output: a reopened notebook can always draw them.
    assert [o for o in displays if WIDGET_MIME in o["data"]] == []
    ours = [o for o in displays if DAG_MIME in o["data"] or DASHBOARD_MIME in o["data"]]
    assert len(ours) == 6 and all("text/html" in o["data"] and "text/plain" in o["data"] for o in ours)
    docs = [o["data"][DAG_MIME] for o in displays if DAG_MIME in o["data"]]
    runs = [d for d in docs if d["kind"] == "run"]
    assert [(d["workflow"], d["status"]) for d in runs] == [("nbdemo", "completed")] * 3 + [("bg", "completed")]
    assert [d["counts"] for d in runs] == [{"succeeded": 2}] * 3 + [{"succeeded": 1}]
    assert "live" not in runs[-1], "the background run's output settled into the final document"
    boards = [o["data"][DASHBOARD_MIME] for o in displays if DASHBOARD_MIME in o["data"]]
    assert [b["kind"] for b in boards] == ["resources", "dashboard"]
    assert [r["id"] for r in boards[0]["resources"]] == ["gpu"]
    assert boards[1]["resources"][0]["id"] == "gpu"  # the magic's dashboard has the kernel's resources

    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert html.count('class="codomyrmex-dag"') == 4  # the three nbdemo runs and the background run
    assert html.count("codomyrmex-timeline") == 4 and "codomyrmex-dashboard" in html
    assert f"background:{STATE_COLORS['succeeded']}" in html
    assert '<script type="application/vnd.jupyter.widget-view+json">' not in html  # no output needs a widget
