"""A user's workflow notebook in JupyterLab and in Notebook 7, driven by headless Chromium.

The notebook does what a user does: ``%load_ext codomyrmex_jupyter``, shows
the resource gauges of a two-GPU resource, defines a six-step ``%%workflow``
(one step raises, so the run fails and two steps are skipped; two steps hold
a GPU for a moment), runs it with ``%orchestrate run``, shows the execution,
opens the dashboard and runs the workflow again in the background.

Checked, in both front-ends: the live run view (Cancel while it runs) is the
element that shows the final run (same element, same graph height: no
layout jump); the final view has the step table, the timeline and a failure
card (error, ``Cell In[n], line k``, traceback) and no Cancel; a click on a
step shows its result; the dashboard lists the runs and opens one; the
background run settles; after saving, shutting the kernel down and
reloading, every output is drawn from the saved notebook and nothing says
"Error displaying widget". JupyterLab also: the status item, the gauge
moving during the run, the dark theme.

Screenshots go to ``test-artifacts/browser/``; with
``CODOMYRMEX_UPDATE_DOC_IMAGES=1`` the documentation images are also copied
to ``docs/images/``.
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
BOARD_MIME = "application/vnd.codomyrmex.dashboard+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
NOTEBOOK = "workflow-demo.ipynb"
RUN_TIMEOUT_MS = 60_000

GAUGES_CELL = """\
from codomyrmex_jupyter import get_resource_manager, Resource, ResourceType
from codomyrmex_jupyter.widgets import ResourceGauges

rm = get_resource_manager()
rm.add_resource(Resource(id="gpu", name="GPU", resource_type=ResourceType.GPU, capacity=2.0))
ResourceGauges(rm)"""
WORKFLOW_CELL = """\
%%workflow demo
import time

def load(n: int = 10):
    return list(range(n))

@step(resources={"gpu": 1})
def train(load):
    time.sleep(1.5)
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
VALIDATE_LINE = WORKFLOW_CELL.splitlines().index('    raise ValueError("bad input")') + 1
CELLS = [
    "%load_ext codomyrmex_jupyter",
    WORKFLOW_CELL,
    GAUGES_CELL,
    "ex = %orchestrate run demo -p n=12",
    "ex",
    "%orchestrate dashboard",
    "h = %orchestrate run demo --background",
    "print(h.result(60).status.value)",
]
LOAD, DEFINE, GAUGES, RUN, SUMMARY, BOARD, BACKGROUND, WAIT = range(1, 9)
FINAL_STATES = {
    "load": "succeeded", "train": "succeeded", "evaluate": "succeeded",
    "validate": "failed", "report": "skipped", "publish": "skipped",
}
EDGES = 6
FINAL_STATUS = "codomyrmex: idle, 1 run, 1 failed"


def cell(n: int) -> str:
    """Selector of the n-th cell (1-based) of the open notebook."""
    return f".jp-NotebookPanel .jp-Cell:nth-child({n})"


def out(n: int) -> str:
    """Selector of the output element of cell ``n`` that our renderer draws."""
    return f"{cell(n)} .jp-OutputArea-output.cdm-host"


# Samples, every 20 ms in the page, of the gauge's fill and the status text,
# kept when they change: the run is over before Python could poll.
RECORDER = """([fill]) => {
    const rec = window.__cdmRecord = {gauge: [], status: []};
    const push = (list, v) => { if (list[list.length - 1] !== v) list.push(v); };
    rec.sample = () => {
        const b = document.querySelector(fill);
        const s = document.querySelector('.cdm-status');
        push(rec.gauge, b ? parseFloat(b.style.width) : null);
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


def nodes(page: Any, output: str) -> dict[str, dict[str, str]]:
    """The graph's nodes in ``output``: id -> state, fill attribute, computed fill."""
    rows: list[dict[str, str]] = page.eval_on_selector_all(
        f"{output} svg g.cdm-node",
        """gs => gs.map(g => {
            const rect = g.querySelector('rect');
            return {id: g.dataset.id, state: g.dataset.state,
                    fill: rect.getAttribute('fill'), computed: getComputedStyle(rect).fill};
        })""",
    )
    return {r["id"]: r for r in rows}


def check_final_run(page: Any, output: str) -> None:
    """The failed run: graph, legend, step table, timeline, failure card; no Cancel."""
    page.wait_for_selector(f"{output} .cdm-run[data-status='failed']", timeout=RUN_TIMEOUT_MS)
    # Lab skips rendering cells out of view (content-visibility): bring it in first.
    page.eval_on_selector(output, "e => e.scrollIntoView({block: 'start'})")
    drawn = nodes(page, output)
    assert {k: v["state"] for k, v in drawn.items()} == FINAL_STATES
    for node in drawn.values():
        assert node["fill"] == STATES[node["state"]], node
        assert node["computed"] == hex_to_rgb(STATES[node["state"]]), node
    assert page.locator(f"{output} svg path.cdm-edge").count() == EDGES
    legend = page.locator(f"{output} .cdm-legend .cdm-legend-item").all_inner_texts()
    assert sorted(legend) == ["failed 1", "skipped 2", "succeeded 3"]
    rows = page.locator(f"{output} table.cdm-steps tbody tr")
    assert rows.count() == 6
    assert "dependency 'validate' failed" in rows.nth(4).inner_text()
    bars = page.eval_on_selector_all(f"{output} .cdm-tl-row[data-id]", "rs => rs.map(r => r.dataset.id)")
    assert sorted(bars) == ["evaluate", "load", "train", "validate"]
    label_size = page.eval_on_selector(f"{output} .cdm-tl-label", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert label_size >= 12, label_size
    widths = page.eval_on_selector_all(
        f"{output} .cdm-tl-bar", "bs => bs.map(b => b.getBoundingClientRect().width)"
    )
    assert min(widths) >= 3, widths  # a sub-millisecond step stays visible
    card = page.locator(f"{output} .cdm-failure[data-id='validate']")
    assert card.locator(".cdm-failure-error").inner_text() == "ValueError: bad input"
    where = card.locator(".cdm-failure-where").inner_text()
    assert f", line {VALIDATE_LINE}: raise ValueError(\"bad input\")" in where and where.startswith("Cell In["), where
    traceback = card.locator("pre").inner_text()
    assert "Cell In[" in traceback and "codomyrmex_jupyter" not in traceback and "runtime.py" not in traceback
    assert page.locator(f"{output} .cdm-cancel").count() == 0


def check_preview(page: Any, output: str) -> None:
    """A click on a step shows its details and result; nothing is cut."""
    page.eval_on_selector(output, "e => e.scrollIntoView({block: 'start'})")
    page.click(f"{output} g.cdm-node[data-id='load']")
    details = page.locator(f"{output} .cdm-details[data-id='load']")
    details.wait_for()
    assert details.locator(".cdm-result-text").inner_text() == "[0, 1, 2, 3, 4, 5, 6, 7, ...]"
    assert details.locator(".cdm-result-type").inner_text() == "list"
    ended = details.locator(".cdm-detail-ended")
    assert ended.is_visible()
    box, inner = details.bounding_box(), ended.bounding_box()
    assert box is not None and inner is not None
    assert inner["y"] + inner["height"] <= box["y"] + box["height"]  # the panel fits its rows


def check_no_widget_errors(page: Any) -> None:
    text = page.locator(".jp-NotebookPanel").inner_text()
    assert "Error displaying widget" not in text
    assert "model not found" not in text


@pytest.fixture(params=["lab", "notebook"])
def server(request: pytest.FixtureRequest) -> LabServer:
    """The JupyterLab server, then the Notebook 7 one."""
    name = "lab_server" if request.param == "lab" else "notebook_server"
    got: LabServer = request.getfixturevalue(name)
    return got


def test_a_failing_run_from_live_to_saved(browser: Any, server: LabServer, artifacts: Path) -> None:
    write_code_notebook(server.root / NOTEBOOK, CELLS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    prefix = "" if server.app == "lab" else "notebook7-"
    try:
        _scenario(page, server, artifacts, ready, prefix)
    except Exception:
        shot(page, artifacts, f"{prefix}workflow-failure.png")
        (artifacts / f"{prefix}workflow-console.log").write_text("\n".join(console))
        raise
    finally:
        page.close()
    errors = [line for line in console if line.startswith("error:")]
    assert [e for e in errors if "codomyrmex" in e or "comm" in e.lower()] == []


def _scenario(page: Any, server: LabServer, artifacts: Path, ready: KernelReady, prefix: str) -> None:
    lab = server.app == "lab"
    step = Steps(artifacts / f"{prefix}workflow-timings.txt")
    open_notebook(page, server, ready, NOTEBOOK)
    step("notebook open, kernel ready")
    for n in (LOAD, DEFINE, GAUGES):
        run_cell(page, n)
        wait_executed(page, n)
    page.wait_for_selector(f"{out(GAUGES)} .cdm-gauge[data-id='gpu']")
    assert "0/2" in page.locator(f"{out(GAUGES)} .cdm-gauge-text").inner_text()
    assert page.locator(f"{out(GAUGES)} .cdm-gauge-label").inner_text() == "GPU (gpu)"
    page.wait_for_selector(f"{out(DEFINE)} svg g.cdm-node")
    assert {k: v["state"] for k, v in nodes(page, out(DEFINE)).items()} == dict.fromkeys(FINAL_STATES, "pending")
    if lab:
        wait_status(page, "codomyrmex: idle, 0 runs")
    step("extension loaded, gauges shown, workflow defined")

    _run(page, artifacts, prefix, lab)
    step("run: live, then final in the same element")
    check_final_run(page, out(RUN))
    summary = page.locator(f"{cell(SUMMARY)} .jp-OutputArea-output").inner_text()
    assert summary.startswith("demo [") and "1 failed, 2 skipped, 3 succeeded" in summary, summary
    assert "first error: validate: ValueError: bad input" in summary, summary
    check_preview(page, out(RUN))
    shot(page, artifacts, f"{prefix}workflow-details.png", docs=lab)
    step("table, timeline, failure card, preview")

    _dashboard_and_background(page)
    step("dashboard and background run")
    if lab:
        set_theme(page, "JupyterLab Dark", light=False)
        page.eval_on_selector(out(RUN), "e => e.scrollIntoView({block: 'start'})")
        check_final_run(page, out(RUN))
        canvas_bg = page.eval_on_selector(f"{out(RUN)} .cdm-canvas", "e => getComputedStyle(e).backgroundColor")
        assert luminance(canvas_bg) < 0.3, canvas_bg
        label = page.eval_on_selector(f"{out(RUN)} .cdm-tl-label", "e => getComputedStyle(e).color")
        assert luminance(label) > 0.6, label
        shot(page, artifacts, "workflow-dark.png", docs=True)
        set_theme(page, "JupyterLab Light", light=True)
        step("dark theme and back")

    _save(page, server)
    for kernel in server.api("GET", "/api/kernels"):
        server.api("DELETE", f"/api/kernels/{kernel['id']}")
    poll(lambda: server.api("GET", "/api/kernels") == [], what="kernel shutdown")
    step("saved, kernel shut down")
    reload_without_kernel(page, server, NOTEBOOK)
    check_final_run(page, out(RUN))
    check_final_run(page, out(BACKGROUND))
    page.wait_for_selector(f"{out(GAUGES)} .cdm-gauge[data-id='gpu']")
    page.eval_on_selector(out(GAUGES), "e => e.scrollIntoView({block: 'start'})")
    assert "0/2" in page.locator(f"{out(GAUGES)} .cdm-gauge-text").inner_text()  # the last state was saved
    page.wait_for_selector(f"{out(BOARD)} .cdm-board table tbody tr")
    page.wait_for_selector(f"{out(BOARD)} .cdm-board .cdm-run[data-status='failed']")
    assert page.locator(f"{out(BOARD)} .cdm-board .cdm-button:has-text('Refresh')").count() == 0
    check_preview(page, out(RUN))
    check_no_widget_errors(page)
    assert server.api("GET", "/api/kernels") == []
    page.eval_on_selector(cell(RUN), "e => e.scrollIntoView({block: 'start'})")
    shot(page, artifacts, f"{prefix}workflow-saved.png", docs=True)
    step("reloaded without a kernel: every output drawn")
    if lab:
        _html_twin(page, server, artifacts)
        step("the nbconvert HTML of the saved notebook")


def _html_twin(page: Any, server: LabServer, artifacts: Path) -> None:
    """nbconvert HTML of the saved notebook: the run's twin has the same parts as the view."""
    import nbconvert
    import nbformat

    nb = nbformat.read(server.root / NOTEBOOK, as_version=4)
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    path = artifacts / "workflow.html"
    path.write_text(html, encoding="utf-8")
    page.goto(path.as_uri())
    run = page.locator(".codomyrmex-dag-output").nth(1)  # the definition, then the run
    run.scroll_into_view_if_needed()
    for part in (".codomyrmex-steps", ".codomyrmex-timeline", ".codomyrmex-failure[data-id='validate']"):
        assert run.locator(part).count() == 1, part
    assert "Cell In[" in run.locator(".codomyrmex-failure").inner_text()
    assert run.locator("svg g.node").count() == 6
    assert page.locator(".codomyrmex-dashboard").count() == 2  # the gauges and the dashboard
    page.eval_on_selector(".codomyrmex-dag-output >> nth=1", "e => e.scrollIntoView({block: 'start'})")
    shot(page, artifacts, "workflow-html.png", docs=True)


def _run(page: Any, artifacts: Path, prefix: str, lab: bool) -> None:
    """The run cell: live (Cancel), then the final run in the same element, at the same height."""
    page.evaluate(RECORDER, [f"{out(GAUGES)} .cdm-gauge-fill"])
    run_cell(page, RUN)
    page.wait_for_selector(f"{out(RUN)} .cdm-run[data-status='running'] .cdm-cancel", timeout=RUN_TIMEOUT_MS)
    page.evaluate("sel => { window.__cdmRun = document.querySelector(sel); }", f"{out(RUN)} .cdm-run")
    height = page.eval_on_selector(f"{out(RUN)} .cdm-canvas", "e => e.getBoundingClientRect().height")
    page.wait_for_selector(f"{out(RUN)} g.cdm-node[data-id='train'][data-state='running']")
    page.wait_for_function(
        "sel => { const b = document.querySelector(sel); return b !== null && parseFloat(b.style.width) > 0; }",
        arg=f"{out(GAUGES)} .cdm-gauge-fill",
    )
    page.eval_on_selector(cell(GAUGES), "e => e.scrollIntoView({block: 'start'})")
    shot(page, artifacts, f"{prefix}workflow-live.png", docs=lab)
    wait_executed(page, RUN, timeout=RUN_TIMEOUT_MS)
    page.wait_for_selector(f"{out(RUN)} .cdm-run[data-status='failed']")
    same = page.evaluate("sel => window.__cdmRun === document.querySelector(sel)", f"{out(RUN)} .cdm-run")
    assert same, "the saved output is not the element that showed the live run"
    after = page.eval_on_selector(f"{out(RUN)} .cdm-canvas", "e => e.getBoundingClientRect().height")
    assert after == height, (height, after)
    page.wait_for_function(
        "sel => { const b = document.querySelector(sel); return b !== null && parseFloat(b.style.width) === 0; }",
        arg=f"{out(GAUGES)} .cdm-gauge-fill",
    )
    seen: dict[str, list[Any]] = page.evaluate(
        "() => { const r = window.__cdmRecord; clearInterval(r.timer); r.sample();"
        " return {gauge: r.gauge, status: r.status}; }"
    )
    assert {50, 100} & set(seen["gauge"]), seen  # one or both GPUs held during the run
    if lab:
        wait_status(page, FINAL_STATUS)
        assert "codomyrmex: 1 running" in seen["status"], seen
    for n in (SUMMARY,):
        run_cell(page, n)
        wait_executed(page, n)


def _dashboard_and_background(page: Any) -> None:
    run_cell(page, BOARD)
    wait_executed(page, BOARD)
    board = out(BOARD)
    page.wait_for_selector(f"{board} .cdm-board table tbody tr[data-id]")
    assert page.locator(f"{board} .cdm-tab[data-tab='resources']").inner_text() == "Resources 1"
    page.click(f"{board} .cdm-board table tbody tr[data-id]")
    page.wait_for_selector(f"{board} .cdm-board .cdm-run[data-status='failed']")
    run_cell(page, BACKGROUND)
    wait_executed(page, BACKGROUND)
    run_cell(page, WAIT)
    wait_executed(page, WAIT, timeout=RUN_TIMEOUT_MS)
    assert page.locator(f"{cell(WAIT)} .jp-OutputArea-output").inner_text().strip() == "failed"
    page.wait_for_selector(f"{out(BACKGROUND)} .cdm-run[data-status='failed']")
    # The dashboard follows the run events: two runs now.
    page.wait_for_function(
        "sel => document.querySelectorAll(sel).length === 2",
        arg=f"{board} .cdm-board table.cdm-board-table tbody tr[data-id]",
    )


def check_saved_widget_state(notebook: dict[str, Any]) -> None:
    """The browser dropped the models of every closed widget: the saved widget state holds
    only the live boards (gauges, dashboard) and their layouts, none of the settled run views."""
    state = notebook["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    names = sorted(m["model_name"] for m in state.values())
    layouts = {k for k, m in state.items() if m["model_name"] == "LayoutModel"}
    used = {m["state"].get("layout", "").removeprefix("IPY_MODEL_") for m in state.values()}
    assert layouts <= used, names  # no layout left behind by a closed widget
    assert names.count("DashboardModel") == 2, names  # the gauges and the dashboard, still live
    assert len(state) <= 8, names


def _save(page: Any, server: LabServer) -> None:
    """Save with Ctrl+S until the outputs have settled (the gauges follow within 2 s).

    Every saved output of ours is its document, none a widget view.
    """
    page.click(f"{cell(LOAD)} .jp-InputPrompt")

    def settled() -> bool:
        page.keyboard.press("Control+s")
        page.wait_for_timeout(300)
        outputs = saved_outputs(server, NOTEBOOK)
        runs = [o["data"][MIME] for o in outputs if o.get("data", {}).get(MIME, {}).get("kind") == "run"]
        gauges = [o["data"][BOARD_MIME] for o in outputs if BOARD_MIME in o.get("data", {})]
        free = bool(gauges) and gauges[0]["resources"][0]["allocated"] == 0
        return len(runs) == 2 and all("live" not in d for d in runs) and free

    poll(settled, timeout=20, what="the saved outputs to settle")
    check_saved_widget_state(server.api("GET", f"/api/contents/{NOTEBOOK}?content=1")["content"])
    outputs = saved_outputs(server, NOTEBOOK)
    assert [o for o in outputs if WIDGET_MIME in o.get("data", {})] == []
    assert [o["data"][BOARD_MIME]["kind"] for o in outputs if BOARD_MIME in o.get("data", {})] == [
        "resources", "dashboard",
    ]
