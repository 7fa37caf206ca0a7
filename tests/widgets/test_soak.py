"""Soak: 1,000 ``%orchestrate run`` calls in one real kernel keep widgets and memory flat.

A parameter sweep in a loop is a normal way to use the magic. Each run shows
a live view (a custom widget and its layout) that settles into its static
document when the run ends; the view's widgets are then closed. This test runs such a sweep,
1,000 runs in one cell of a real kernel, and measures in the kernel before
and after: the live widgets and the resident memory. The manager keeps its
last 500 executions in memory by design, so that bounded cache is filled
(with API runs) before the first measure: what is left to grow is what a
magic run leaks.

The saved notebook is checked on a few more runs, a few per cell: widget
state of closed views must be gone (as JupyterLab drops a closed widget's
model) and each run must add one compact static twin. Those runs are split
over cells because a flood of messages from a sweep outruns a Python client
on a busy machine, and ZeroMQ then drops messages (JupyterLab's server has
its own rate limit); what the kernel sends per run is the same.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("CODOMYRMEX_SOAK_RUNS", "1000"))
CACHE_FILL = 520  # more than the 500 executions a manager keeps in memory
CELL_RUNS, CELLS_SAVED = 5, 6
DAG_MIME = "application/vnd.codomyrmex.dag+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

SETUP = """\
%load_ext codomyrmex_jupyter
import gc, json, os
from ipywidgets.widgets.widget import _instances
from codomyrmex_jupyter import get_workflow_manager

def _measure(tag):  # into a file: a printed line could be lost in a flood of messages
    gc.collect()
    with open("/proc/self/statm") as f:
        rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    with open("soak.jsonl", "a") as f:
        f.write(json.dumps({"tag": tag, "widgets": len(_instances), "rss_mb": round(rss / 2**20, 2)}) + "\\n")
"""
WORKFLOW = """\
%%workflow sweep --quiet
def load(n: int = 1):
    return list(range(n % 7))

def double(load):
    return [2 * x for x in load]

def total(double):
    return sum(double)
"""
SWEEP = "for i in range({n}):\n    get_ipython().run_line_magic('orchestrate', f'run sweep -p n={{i}}')\n"
WARM = (
    f"for i in range({CACHE_FILL}):\n    get_workflow_manager().run_workflow('sweep', {{'n': i}})\n"
    + SWEEP.format(n=20) + "_measure('before')"
)
RECORDED = (
    "runs = get_workflow_manager().store.list_runs('sweep', limit=None)\n"
    "with open('recorded.json', 'w') as f:\n"
    "    json.dump({'runs': len(runs), 'statuses': sorted({r['status'] for r in runs})}, f)"
)


class FrontEndClient(nbclient.NotebookClient):
    """nbclient that forgets a widget once its comm is closed, as JupyterLab does.

    nbclient keeps the state of every widget ever opened (it ignores
    ``comm_close``); a real front end drops a closed widget's model, and the
    widget state it saves holds only live widgets.
    """

    opened_in: dict[str, int]

    def handle_comm_msg(self, outs, msg, cell_index):  # type: ignore[no-untyped-def]
        super().handle_comm_msg(outs, msg, cell_index)
        if msg["msg_type"] == "comm_open":
            self.__dict__.setdefault("opened_in", {})[msg["content"]["comm_id"]] = cell_index
        if msg["msg_type"] == "comm_close":
            comm_id = msg["content"]["comm_id"]
            for table in (self.widget_state, self.widget_buffers, self.comm_objects):
                table.pop(comm_id, None)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="resident memory is read from /proc")
def test_a_thousand_magic_runs_keep_widgets_and_memory_flat(tmp_path: Path) -> None:
    sources = [SETUP, WORKFLOW, WARM, SWEEP.format(n=RUNS) + "_measure('after')"]
    sources += [SWEEP.format(n=CELL_RUNS)] * CELLS_SAVED + [RECORDED]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CODOMYRMEX_HOME"] = str(tmp_path / "home")
    client = FrontEndClient(
        nb, kernel_name="python3", timeout=540, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute(env=env)
    errors = [o for cell in nb.cells for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    lines = (tmp_path / "soak.jsonl").read_text().splitlines()
    before, after = (json.loads(line) for line in lines)
    report = {"runs": RUNS, "before": before, "after": after}
    print("soak:", json.dumps(report))
    # every view's widgets were closed: none is left alive in the kernel
    assert before["widgets"] == after["widgets"] == 0, report
    # resident memory stays flat (it grew 58 MB over 400 runs when 44-widget views stayed open)
    assert after["rss_mb"] - before["rss_mb"] < 6, report

    saved = [o for cell in nb.cells[4 : 4 + CELLS_SAVED] for o in cell.outputs]
    twins = [o for o in saved if DAG_MIME in o.get("data", {})]
    assert len(twins) == CELL_RUNS * CELLS_SAVED
    assert all(WIDGET_VIEW not in o["data"] for o in saved if "data" in o)
    saved_cells = range(4, 4 + CELLS_SAVED)
    opened = [c for c, cell in client.opened_in.items() if cell in saved_cells]
    assert len(opened) >= 2 * len(twins)  # the views did open their widgets there...
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    assert [c for c in opened if c in state] == []  # ...and the saved notebook keeps none of them
    per_run = len(json.dumps(saved)) / len(twins)
    # one static document per run (the run document, its HTML twin, a line of text): about
    # 12 KB for this 3-step run, most of it the HTML twin (it was 42 KB with the widget state)
    assert per_run < 16_000, per_run
    total = RUNS + CACHE_FILL + 20 + CELL_RUNS * CELLS_SAVED
    recorded = json.loads((tmp_path / "recorded.json").read_text())
    assert recorded == {"runs": total, "statuses": ["completed"]}
