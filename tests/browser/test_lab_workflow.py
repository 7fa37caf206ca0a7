"""A user's workflow notebook in a real JupyterLab, driven by headless Chromium.

The notebook does what a user does: ``%load_ext codomyrmex_jupyter``, defines
a six-step ``%%workflow`` (one step raises, so it fails and its two
descendants are skipped; two steps hold a GPU for a moment), shows the
resource gauges of a two-GPU resource, runs the workflow with ``%orchestrate
run`` (the live RunView widget), and shows the execution with ``%orchestrate
show``.

The test checks the live widgets (run view, its DAG and progress bar, the
gauges moving and settling), the status item, the DAG renderer's nodes,
edges and state colours, the details of the failed step, the dark theme, and
that after saving, shutting the kernel down and reloading, the saved output
still draws the run.

Screenshots go to ``test-artifacts/browser/``; with
``CODOMYRMEX_UPDATE_DOC_IMAGES=1`` ``workflow-live.png`` and
``workflow-saved.png`` are also copied to ``docs/images/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from labpage import (
    STATES,
    TIMEOUT_MS,
    KernelReady,
    LabServer,
    Steps,
    hex_to_rgb,
    luminance,
    open_notebook,
    poll,
    reload_without_kernel,
    saved_outputs,
    set_theme,
    shot,
    wait_status,
    write_code_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

MIME = "application/vnd.codomyrmex.dag+json"
NOTEBOOK = "workflow-demo.ipynb"
RUN_TIMEOUT_MS = 60_000

LOAD_CELL = "%load_ext codomyrmex_jupyter"
GAUGES_CELL = """\
from codomyrmex_jupyter import get_resource_manager, Resource, ResourceType
from codomyrmex_jupyter.widgets.gauges import ResourceGauges

rm = get_resource_manager()
rm.add_resource(Resource(id="gpu", name="GPU", resource_type=ResourceType.GPU, capacity=2.0))
ResourceGauges(rm)"""
WORKFLOW_CELL = """\
%%workflow demo
import time

def load():
    return list(range(10))

@step(resources={"gpu": 1})
def train(load):
    time.sleep(1.0)
    return sum(load)

@step(resources={"gpu": 1})
def evaluate(load):
    time.sleep(1.0)
    return max(load)

def validate(load):
    raise ValueError("bad input")

def report(validate, train):
    return "never"

def publish(report):
    return "never"
"""
RUN_CELL = "ex = %orchestrate run demo"
SUMMARY_CELL = "ex"
SHOW_CELL = "%orchestrate show {ex.execution_id}"
CELLS = [LOAD_CELL, WORKFLOW_CELL, GAUGES_CELL, RUN_CELL, SUMMARY_CELL, SHOW_CELL]

FINAL_STATES = {
    "load": "succeeded",
    "train": "succeeded",
    "evaluate": "succeeded",
    "validate": "failed",
    "report": "skipped",
    "publish": "skipped",
}
EDGES = 6
FINAL_STATUS = "codomyrmex: idle, 1 run, 1 failed"


def cell(n: int) -> str:
    """Selector of the n-th cell (1-based) of the open notebook."""
    return f".jp-NotebookPanel .jp-Cell:nth-child({n})"


GAUGES = f"{cell(3)} .jp-OutputArea-output"
RUN = f"{cell(4)} .jp-OutputArea-output"
RUN_DAG = f"{cell(4)} .jp-OutputArea-output.cdm-dag"
SHOW_DAG = f"{cell(6)} .jp-OutputArea-output.cdm-dag"
DEFINE_DAG = f"{cell(2)} .jp-OutputArea-output.cdm-dag"

# Samples, every 20 ms in the page, of the gauge bar's width and the status
# text, kept when they change: the run is over before Python could poll.
RECORDER = """([bar]) => {
    const rec = window.__cdmRecord = {gauge: [], status: []};
    const push = (list, v) => { if (list[list.length - 1] !== v) list.push(v); };
    rec.sample = () => {
        const b = document.querySelector(bar);
        const s = document.querySelector('.cdm-status');
        push(rec.gauge, b ? b.style.width : null);
        push(rec.status, s ? s.textContent.trim() : null);
    };
    rec.sample();
    rec.timer = setInterval(rec.sample, 20);
}"""


def run_cell(page: Any, n: int) -> None:
    """Select cell ``n`` (command mode) and run it in place, as Ctrl+Enter does."""
    page.click(f"{cell(n)} .jp-InputPrompt")
    page.keyboard.press("Control+Enter")


def wait_executed(page: Any, n: int, timeout: int = TIMEOUT_MS) -> None:
    """Wait until cell ``n`` has run: its prompt shows a number, not ``*`` or blank."""
    page.wait_for_function(
        "sel => { const p = document.querySelector(sel);"
        " return p !== null && /^\\[\\d+\\]:$/.test(p.textContent.trim()); }",
        arg=f"{cell(n)} .jp-InputPrompt",
        timeout=timeout,
    )


def mime_nodes(page: Any, output: str) -> dict[str, dict[str, str]]:
    """The renderer's nodes in ``output``: id -> state, fill attribute, computed fill."""
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        f"{output} svg g.cdm-node",
        """gs => gs.map(g => {
            const rect = g.querySelector('rect');
            return {id: g.dataset.id, state: g.dataset.state,
                    fill: rect.getAttribute('fill'), computed: getComputedStyle(rect).fill};
        })""",
    )
    return {r["id"]: r for r in rows}


def check_run_dag(page: Any, output: str) -> None:
    """Six nodes in their final states and colours, six edges."""
    page.wait_for_selector(f"{output} svg g.cdm-node", timeout=RUN_TIMEOUT_MS)
    nodes = mime_nodes(page, output)
    assert {k: v["state"] for k, v in nodes.items()} == FINAL_STATES
    for node in nodes.values():
        assert node["fill"] == STATES[node["state"]], node
        assert node["computed"] == hex_to_rgb(STATES[node["state"]]), node
    assert page.locator(f"{output} svg path.cdm-edge").count() == EDGES
    legend = page.locator(f"{output} .cdm-legend .cdm-legend-item").all_inner_texts()
    assert sorted(legend) == ["failed 1", "skipped 2", "succeeded 3"]


def check_definition(page: Any) -> None:
    """The ``%%workflow`` cell shows the defined DAG, every step pending."""
    page.wait_for_selector(f"{DEFINE_DAG} svg g.cdm-node")
    nodes = mime_nodes(page, DEFINE_DAG)
    assert {k: v["state"] for k, v in nodes.items()} == dict.fromkeys(FINAL_STATES, "pending")
    assert page.locator(f"{DEFINE_DAG} svg path.cdm-edge").count() == EDGES


def check_gauges_idle(page: Any) -> None:
    """One gauge row, labelled ``GPU (gpu)``, empty, with ``0/2`` beside it."""
    bars = page.locator(f"{GAUGES} .jupyter-widgets.widget-hprogress")
    assert bars.count() == 1
    assert page.locator(f"{GAUGES} .widget-hprogress .progress-bar").first.evaluate("e => e.style.width") == "0%"
    labels = page.locator(f"{GAUGES} .widget-label").all_inner_texts()
    assert "GPU (gpu)" in [t.strip() for t in labels], labels
    assert "0/2" in page.locator(GAUGES).first.inner_text()


def check_run_widget_live(page: Any) -> None:
    """While the run goes on, its output is the live RunView widget (DAG, progress, Cancel)."""
    page.wait_for_selector(f"{RUN} .jupyter-widgets .widget-hprogress", timeout=RUN_TIMEOUT_MS)
    assert page.locator(f"{RUN} button:has-text('Cancel')").count() == 1


def check_run_settled(page: Any) -> None:
    """Once the run is over, the live widget has become its static twin: the final DAG."""
    check_run_dag(page, RUN_DAG)
    assert page.locator(f"{RUN} .jupyter-widgets").count() == 0
    text = page.locator(RUN).first.inner_text()
    assert "demo" in text and "failed" in text, text


def check_details(page: Any) -> None:
    """A click on the failed step shows its state and error in the details panel."""
    page.eval_on_selector(SHOW_DAG, "e => e.scrollIntoView({block: 'center'})")
    page.click(f"{SHOW_DAG} g.cdm-node[data-id='validate']")
    page.wait_for_selector(f"{SHOW_DAG} .cdm-details[data-id='validate']")
    details = page.locator(f"{SHOW_DAG} .cdm-details")
    assert "failed" in details.inner_text()
    assert details.locator(".cdm-detail-error").inner_text() == "ValueError: bad input"


def recorded(page: Any) -> dict[str, list[Any]]:
    """What the in-page recorder saw, with a last sample taken now (and stop it)."""
    rec: dict[str, list[Any]] = page.evaluate(
        "() => { const r = window.__cdmRecord; clearInterval(r.timer); r.sample();"
        " return {gauge: r.gauge, status: r.status}; }"
    )
    return rec


def test_workflow_notebook_in_lab(browser: Any, lab_server: LabServer, artifacts: Path) -> None:
    write_code_notebook(lab_server.root / NOTEBOOK, CELLS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    try:
        _scenario(page, lab_server, artifacts, ready)
    except Exception:
        shot(page, artifacts, "workflow-failure.png")
        (artifacts / "workflow-console.log").write_text("\n".join(console))
        raise
    finally:
        page.close()
    errors = [line for line in console if line.startswith("error:") and "codomyrmex" in line]
    assert errors == []


def _scenario(page: Any, server: LabServer, artifacts: Path, ready: KernelReady) -> None:
    step = Steps(artifacts / "workflow-timings.txt")
    open_notebook(page, server, ready, NOTEBOOK)
    step("notebook open, kernel ready")
    _define(page)
    step("extension loaded, workflow defined, gauges shown")
    _run(page, artifacts)
    step("workflow run, widgets checked")
    page.eval_on_selector(cell(3), "e => e.scrollIntoView({block: 'start'})")
    shot(page, artifacts, "workflow-after-run.png")
    check_run_dag(page, SHOW_DAG)
    check_details(page)
    shot(page, artifacts, "workflow-details.png")
    step("show cell: DAG renderer and details")
    set_theme(page, "JupyterLab Dark", light=False)
    check_run_dag(page, SHOW_DAG)
    canvas_bg = page.eval_on_selector(f"{SHOW_DAG} .cdm-canvas", "e => getComputedStyle(e).backgroundColor")
    assert luminance(canvas_bg) < 0.3, canvas_bg
    shot(page, artifacts, "workflow-dark.png")
    set_theme(page, "JupyterLab Light", light=True)
    step("dark theme and back")
    _save(page, server)
    step("saved")
    _shutdown_kernel(page, server)
    step("kernel shut down")
    reload_without_kernel(page, server, NOTEBOOK)
    check_run_dag(page, SHOW_DAG)
    check_run_dag(page, RUN_DAG)
    check_definition(page)
    check_details(page)
    assert server.api("GET", "/api/kernels") == []
    assert page.locator(".cdm-status").is_hidden()
    (artifacts / "workflow-saved-outputs.txt").write_text(_outputs_text(page))
    page.eval_on_selector(cell(4), "e => e.scrollIntoView({block: 'start'})")
    shot(page, artifacts, "workflow-saved.png", docs=True)
    step("reloaded without a kernel, saved DAG drawn")


def _define(page: Any) -> None:
    """Cells 1-3: load the extension, define the workflow, show the gauges."""
    run_cell(page, 1)
    wait_executed(page, 1)
    wait_status(page, "codomyrmex: idle, 0 runs")
    run_cell(page, 2)
    wait_executed(page, 2)
    check_definition(page)
    run_cell(page, 3)
    page.wait_for_selector(f"{GAUGES} .jupyter-widgets.widget-hprogress")
    check_gauges_idle(page)


def _run(page: Any, artifacts: Path) -> None:
    """Cells 4-6: run the workflow while recording the gauge and the status item."""
    page.evaluate(RECORDER, [f"{GAUGES} .widget-hprogress .progress-bar"])
    run_cell(page, 4)
    check_run_widget_live(page)
    # A moment into the run (load done, train/evaluate holding the GPUs) for the picture.
    page.wait_for_function(
        "sel => { const b = document.querySelector(sel); return b === null || b.style.width !== '0%'; }",
        arg=f"{RUN} .widget-hprogress .progress-bar",
        timeout=RUN_TIMEOUT_MS,
    )
    page.eval_on_selector(cell(3), "e => e.scrollIntoView({block: 'start'})")
    shot(page, artifacts, "workflow-live.png", docs=True)
    wait_executed(page, 4, timeout=RUN_TIMEOUT_MS)
    check_run_settled(page)
    wait_status(page, FINAL_STATUS)
    page.wait_for_function(
        "sel => { const b = document.querySelector(sel); return b !== null && b.style.width === '0%'; }",
        arg=f"{GAUGES} .widget-hprogress .progress-bar",
    )
    seen = recorded(page)
    # The gauge moved during the run (one or both GPUs held) and came back to 0.
    assert {"50%", "100%"} & set(seen["gauge"]), seen
    assert seen["gauge"][-1] == "0%", seen
    assert "codomyrmex: 1 running" in seen["status"], seen
    assert seen["status"][-1] == FINAL_STATUS, seen
    for n in (5, 6):
        run_cell(page, n)
        wait_executed(page, n, timeout=RUN_TIMEOUT_MS)
    summary = page.locator(f"{cell(5)} .jp-OutputArea-output").inner_text()
    assert summary.startswith("demo [") and "failed" in summary, summary
    assert "1 failed, 2 skipped, 3 succeeded" in summary, summary


def _save(page: Any, server: LabServer) -> None:
    """Save with Ctrl+S; the saved run cell keeps the final static twin."""
    page.click(f"{cell(1)} .jp-InputPrompt")
    page.keyboard.press("Control+s")

    def run_doc() -> Any:
        for out in saved_outputs(server, NOTEBOOK):
            doc = out.get("data", {}).get(MIME)
            if doc and doc.get("kind") == "run":
                return doc
        return None

    doc = poll(run_doc, what="the saved run output")
    assert {n["id"]: n["state"] for n in doc["nodes"]} == FINAL_STATES
    model = server.api("GET", f"/api/contents/{NOTEBOOK}?content=1")
    run_outputs = model["content"]["cells"][3]["outputs"]
    twins = [o["data"][MIME] for o in run_outputs if MIME in o.get("data", {})]
    assert [t["status"] for t in twins] == ["failed"], run_outputs
    check_saved_widget_state(model["content"])


def check_saved_widget_state(notebook: dict[str, Any]) -> None:
    """The browser dropped the settled run view's 44 widget models: only the gauges' are saved."""
    state = notebook["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    names = sorted(m["model_name"] for m in state.values())
    assert "ButtonModel" not in names and "IntProgressModel" not in names, names  # the run view's
    assert "FloatProgressModel" in names, names  # the gauge, still live
    assert len(state) <= 18, names  # the gauges' widgets (boxes, labels, their layouts and styles)


def _shutdown_kernel(page: Any, server: LabServer) -> None:
    page.click("li.lm-MenuBar-item:has-text('Kernel')")
    page.click("li.lm-Menu-item[data-command='kernelmenu:shutdown']")
    poll(lambda: server.api("GET", "/api/kernels") == [], what="kernel shutdown")
    page.wait_for_selector(".jp-Toolbar-kernelName:has-text('No Kernel')")


def _outputs_text(page: Any) -> str:
    """Each cell's rendered output text after the reload (an artifact for reading)."""
    texts: list[str] = page.eval_on_selector_all(
        ".jp-NotebookPanel .jp-Cell",
        "cs => cs.map((c, i) => `--- cell ${i + 1}\\n` + (c.querySelector('.jp-OutputArea') || {innerText: ''}).innerText)",
    )
    return "\n".join(texts) + "\n"


TWIN_NOTEBOOK = "workflow-twin.ipynb"
TWIN_CELLS = [
    LOAD_CELL,
    "%%workflow pair\ndef first():\n    return 1\n\ndef second(first):\n    return first + 1\n",
    "ex = %orchestrate run pair",
]


def test_live_view_output_draws_twin_after_reload(browser: Any, lab_server: LabServer) -> None:
    """The run view's saved output (final twin included) should draw the DAG without a kernel."""
    write_code_notebook(lab_server.root / TWIN_NOTEBOOK, TWIN_CELLS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    try:
        open_notebook(page, lab_server, ready, TWIN_NOTEBOOK)
        for n in (1, 2, 3):
            run_cell(page, n)
            wait_executed(page, n, timeout=RUN_TIMEOUT_MS)
        page.wait_for_selector(f"{cell(3)} .jp-OutputArea-output.cdm-dag svg g.cdm-node")
        page.click(f"{cell(1)} .jp-InputPrompt")
        page.keyboard.press("Control+s")
        poll(lambda: any(MIME in o.get("data", {}) for o in saved_outputs(lab_server, TWIN_NOTEBOOK)[1:]),
             what="the saved run output")
        _shutdown_kernel(page, lab_server)
        reload_without_kernel(page, lab_server, TWIN_NOTEBOOK)
        # The definition's DAG is drawn: the page has rendered the saved outputs.
        page.wait_for_selector(f"{cell(2)} .jp-OutputArea-output.cdm-dag svg g.cdm-node")
        output = page.locator(f"{cell(3)} .jp-OutputArea-output").first
        drawn = page.locator(f"{cell(3)} .jp-OutputArea-output.cdm-dag svg g.cdm-node").count()
        assert drawn == 2, f"run view output after reload shows {output.inner_text()!r}"
    finally:
        page.close()
