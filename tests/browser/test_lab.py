"""The JupyterLab extension in a real JupyterLab, driven by headless Chromium.

One scenario, in order: a notebook displays a six-step DAG bundle; the
renderer draws every node in its state colour, with edges and a legend;
clicking and hovering a node fill the details panel; zoom and pan move the
view; the status item follows the kernel's ``codomyrmex.status`` comm (and
reconnects after a page reload); the dark theme keeps the drawing readable;
after saving and shutting the kernel down, a reload still draws the DAG from
the saved output, with no kernel at all.

A second scenario runs a cached workflow, edits one step and runs it again:
the run view shows the three steps taken from the cache in their colour and
in the legend, the table's cache column (``hit``, ``miss: code changed``),
diamonds in the timeline and each step's cache answer in its details; the
status item and the Runs panel count the cached steps.

Screenshots go to ``test-artifacts/browser/``; with
``CODOMYRMEX_UPDATE_DOC_IMAGES=1`` the documentation images are also
copied to ``docs/images/``.
"""

from __future__ import annotations

import json
import re
import time
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
    poll,
    reload_without_kernel,
    set_theme,
    shot,
    wait_cell_done,
    wait_status,
    write_code_notebook,
)
from labpage import open_notebook as _open
from labpage import saved_outputs as _saved

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(240)]

MIME = "application/vnd.codomyrmex.dag+json"
NOTEBOOK = "dag-demo.ipynb"
DOC_FILE = "dag-demo.json"
OUTPUT = ".jp-OutputArea-output.cdm-dag"

def _node(node_id: str, layer: int, row: int, state: str, **extra: Any) -> dict[str, Any]:
    done = state in {"succeeded", "failed", "cached"}
    node = {
        "id": node_id,
        "label": node_id,
        "module": "notebook.etl",
        "action": node_id,
        "state": state,
        "layer": layer,
        "x": float(layer),
        "y": float(row),
        "duration": 0.012 if done else None,
        "attempts": 1 if state != "pending" else 0,
        "started": "2026-11-25T23:50:01.123456+00:00" if state != "pending" else None,
        "ended": "2026-11-25T23:50:01.135456+00:00" if done else None,
        "error": None,
    }
    node.update(extra)
    return node


def dag_document() -> dict[str, Any]:
    """Six steps in five states: succeeded, failed, running, pending, skipped."""
    nodes = [
        _node("load", 0, 0, "succeeded"),
        _node("clean", 1, 0, "succeeded"),
        _node("validate", 1, 1, "failed", error="ValueError: bad input", attempts=3, duration=1.5),
        _node("train", 2, 0, "running"),
        _node("evaluate", 3, 0, "pending"),
        _node("report", 2, 1, "skipped"),
    ]
    edges = [
        ["load", "clean"],
        ["load", "validate"],
        ["clean", "train"],
        ["validate", "report"],
        ["train", "evaluate"],
        ["report", "evaluate"],
    ]
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n["state"]] = counts.get(n["state"], 0) + 1
    return {
        "version": 1,
        "kind": "run",
        "workflow": "etl",
        "run_id": "2f6c0b7a9e1d4c3b",
        "status": "running",
        "direction": "LR",
        "nodes": nodes,
        "edges": edges,
        "states": STATES,
        "counts": counts,
        "truncated": False,
        "total_nodes": len(nodes),
    }


FAKE_STATUS = {
    "running": 2,
    "failed": 1,
    "completed": 3,
    "cancelled": 0,
    "runs": [
        {"run_id": "r-3", "workflow": "etl", "status": "running"},
        {"run_id": "r-2", "workflow": "train", "status": "running"},
        {"run_id": "r-1", "workflow": "etl", "status": "failed"},
    ],
}


def write_notebook(root: Path) -> Path:
    """Three cells: display the DAG, start the status comm, send a fake status."""
    (root / DOC_FILE).write_text(json.dumps(dag_document(), indent=1))
    cells = [
        (
            "import json\n"
            "from IPython.display import display\n\n"
            f"doc = json.loads(open({DOC_FILE!r}).read())\n"
            f'display({{"{MIME}": doc, "text/plain": "<codomyrmex DAG etl: 6 steps>"}}, raw=True)'
        ),
        (
            "from codomyrmex_jupyter.display.status_comm import start_status_comm\n\n"
            "publisher = start_status_comm(get_ipython())"
        ),
        f"publisher.publish_now({FAKE_STATUS!r});",
    ]
    return write_code_notebook(root / NOTEBOOK, cells)


def node_fills(page: Any) -> list[dict[str, str]]:
    fills: list[dict[str, str]] = page.eval_on_selector_all(
        f"{OUTPUT} svg g.cdm-node",
        """gs => gs.map(g => {
            const rect = g.querySelector('rect');
            return {id: g.dataset.id, state: g.dataset.state,
                    fill: rect.getAttribute('fill'), computed: getComputedStyle(rect).fill};
        })""",
    )
    return fills


def viewport_transform(page: Any) -> tuple[float, float, float]:
    attr = page.get_attribute(f"{OUTPUT} g.cdm-viewport", "transform") or ""
    x, y, k = (float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", attr))
    return x, y, k


def wait_transform_change(page: Any, before: tuple[float, float, float]) -> tuple[float, float, float]:
    deadline = time.monotonic() + 5
    while (after := viewport_transform(page)) == before:
        assert time.monotonic() < deadline, "the view did not move"
        page.wait_for_timeout(20)
    return after


def saved_outputs(server: LabServer) -> list[dict[str, Any]]:
    return _saved(server, NOTEBOOK)


def open_notebook(page: Any, server: LabServer, ready: KernelReady) -> None:
    _open(page, server, ready, NOTEBOOK)


def check_dag_drawn(page: Any) -> None:
    """Six nodes in their state colours, six edges, a legend of five states."""
    page.wait_for_selector(f"{OUTPUT} svg g.cdm-node", timeout=TIMEOUT_MS)
    assert page.locator(f"{OUTPUT} svg g.cdm-node").count() == 6
    assert page.locator(f"{OUTPUT} svg path.cdm-edge").count() == 6
    fills = node_fills(page)
    expected = {n["id"]: n["state"] for n in dag_document()["nodes"]}
    assert {f["id"]: f["state"] for f in fills} == expected
    for f in fills:
        assert f["fill"] == STATES[f["state"]], f
        assert f["computed"] == hex_to_rgb(STATES[f["state"]]), f
    legend = page.locator(f"{OUTPUT} .cdm-legend .cdm-legend-item")
    assert sorted(legend.all_inner_texts()) == [
        "failed 1",
        "pending 1",
        "running 1",
        "skipped 1",
        "succeeded 2",
    ]


def check_details(page: Any) -> None:
    """No details until a click; a click shows the step's status and error under the graph."""
    details = page.locator(f"{OUTPUT} .cdm-details")
    assert details.is_hidden()
    page.hover(f"{OUTPUT} g.cdm-node[data-id='train']")
    assert details.is_hidden()  # hovering shows the tooltip only: nothing moves
    page.click(f"{OUTPUT} g.cdm-node[data-id='validate']")
    page.wait_for_selector(f"{OUTPUT} .cdm-details[data-id='validate']")
    text = details.inner_text()
    for fragment in ("validate", "failed", "1.50 s", "3", "notebook.etl.validate"):
        assert fragment in text, (fragment, text)
    assert details.locator(".cdm-detail-error").inner_text() == "ValueError: bad input"
    assert page.locator(f"{OUTPUT} g.cdm-node.cdm-selected").get_attribute("data-id") == "validate"
    assert page.locator(f"{OUTPUT} path.cdm-edge.cdm-selected").count() == 2
    page.mouse.move(5, 5)
    page.wait_for_selector(f"{OUTPUT} .cdm-details[data-id='validate']")
    row = page.locator(f"{OUTPUT} table.cdm-steps tr.cdm-selected")
    assert row.get_attribute("data-id") == "validate"  # the table follows the selection


def check_zoom_and_pan(page: Any) -> None:
    """Buttons and the wheel zoom, a drag pans, Fit comes back."""
    start = viewport_transform(page)
    page.click(f"{OUTPUT} .cdm-button[data-action='zoom-in']")
    zoomed = wait_transform_change(page, start)
    assert zoomed[2] > start[2]
    box = page.locator(f"{OUTPUT} .cdm-canvas").bounding_box()
    assert box is not None
    # A drag on empty canvas: below the two rows of nodes.
    x0, y0 = box["x"] + box["width"] - 30, box["y"] + box["height"] - 12
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 - 40, y0 - 10, steps=5)
    page.mouse.up()
    panned = wait_transform_change(page, zoomed)
    assert panned[2] == zoomed[2]
    assert panned[0] == pytest.approx(zoomed[0] - 40, abs=1)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 200)  # the canvas has focus since the drag
    wheeled = wait_transform_change(page, panned)
    assert wheeled[2] < panned[2]
    page.click(f"{OUTPUT} .cdm-button[data-action='show-the-whole-graph']")
    wait_transform_change(page, wheeled)
    # Still the pinned step: panning is not a click.
    assert page.locator(f"{OUTPUT} .cdm-details").get_attribute("data-id") == "validate"


def test_dag_renderer_and_status_item(browser: Any, lab_server: LabServer, artifacts: Path) -> None:
    write_notebook(lab_server.root)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    try:
        _scenario(page, lab_server, artifacts, ready)
    except Exception:
        shot(page, artifacts, "failure.png")
        (artifacts / "console.log").write_text("\n".join(console))
        raise
    finally:
        page.close()
    errors = [line for line in console if line.startswith("error:") and "codomyrmex" in line]
    assert errors == []


def _scenario(page: Any, server: LabServer, artifacts: Path, ready: KernelReady) -> None:
    step = Steps(artifacts / "timings.txt")
    open_notebook(page, server, ready)
    step("notebook open, kernel ready")
    # The status item stays hidden while the kernel has no codomyrmex publisher.
    assert page.locator(".cdm-status").is_hidden()

    # Cell 1: the DAG bundle.
    page.click(".jp-Cell:nth-child(1) .jp-InputArea-editor")
    page.keyboard.press("Shift+Enter")
    check_dag_drawn(page)
    step("DAG drawn")
    shot(page, artifacts, "dag-light.png", docs=True)
    check_details(page)
    shot(page, artifacts, "dag-details.png", docs=True)
    step("details")
    check_zoom_and_pan(page)
    step("zoom and pan")

    # Cells 2 and 3: the kernel side of the status comm, then a fake status.
    page.click(".jp-Cell:nth-child(2) .jp-InputArea-editor")
    page.keyboard.press("Shift+Enter")
    wait_status(page, "codomyrmex: idle, 0 runs")
    page.keyboard.press("Shift+Enter")
    wait_status(page, "codomyrmex: 2 running, 1 failed")
    tooltip = page.locator(".cdm-status").get_attribute("title") or ""
    assert "train (r-2): running" in tooltip
    step("status item")

    # Dark theme: still drawn, on a dark canvas, with the same state colours.
    set_theme(page, "JupyterLab Dark", light=False)
    check_dag_drawn(page)
    canvas_bg = page.eval_on_selector(f"{OUTPUT} .cdm-canvas", "e => getComputedStyle(e).backgroundColor")
    assert luminance(canvas_bg) < 0.3, canvas_bg
    details_fg = page.eval_on_selector(f"{OUTPUT} .cdm-details", "e => getComputedStyle(e).color")
    assert luminance(details_fg) > 0.6, details_fg
    shot(page, artifacts, "dag-dark.png", docs=True)
    set_theme(page, "JupyterLab Light", light=True)
    step("dark theme and back")

    # Save, then reload with the kernel alive: the status item reconnects.
    page.click(".jp-Cell:nth-child(1) .jp-InputPrompt")
    page.keyboard.press("Control+s")
    poll(lambda: any(MIME in o.get("data", {}) for o in saved_outputs(server)), what="save")
    step("saved")
    open_notebook(page, server, ready)
    check_dag_drawn(page)
    wait_status(page, "codomyrmex: idle, 0 runs")
    step("reloaded, status reconnected")
    shot(page, artifacts, "reloaded-status.png")

    # Shut the kernel down (Kernel menu), then reload: the saved output still draws.
    page.click("li.lm-MenuBar-item:has-text('Kernel')")
    page.click("li.lm-Menu-item[data-command='kernelmenu:shutdown']")
    poll(lambda: server.api("GET", "/api/kernels") == [], what="kernel shutdown")
    page.wait_for_selector(".jp-Toolbar-kernelName:has-text('No Kernel')")
    page.wait_for_function(
        "() => { const el = document.querySelector('.cdm-status');"
        " return el === null || el.offsetParent === null; }",
        timeout=TIMEOUT_MS,
    )
    step("kernel shut down, status hidden")
    reload_without_kernel(page, server, NOTEBOOK)
    step("reloaded without a kernel")
    check_dag_drawn(page)
    page.eval_on_selector(OUTPUT, "e => e.scrollIntoView({block: 'center'})")
    page.click(f"{OUTPUT} g.cdm-node[data-id='validate']")
    page.wait_for_selector(f"{OUTPUT} .cdm-details[data-id='validate']")
    assert server.api("GET", "/api/kernels") == []
    assert page.locator(".cdm-status").is_hidden()
    shot(page, artifacts, "dag-saved-no-kernel.png", docs=True)
    step("saved output drawn without a kernel")


BIG_NOTEBOOK = "dag-big.ipynb"
BIG_CELL = """\
from IPython.display import display

n, per_layer = 2000, 40
states = ["succeeded", "failed", "running", "pending", "skipped", "cached"]
nodes, edges = [], []
for i in range(n):
    layer, row = divmod(i, per_layer)
    nodes.append({"id": f"s{i}", "label": f"step_{i}", "state": states[i % len(states)],
                  "layer": layer, "x": float(layer), "y": float(row), "attempts": 1})
    if layer:
        edges.append([f"s{i - per_layer}", f"s{i}"])
        if row:
            edges.append([f"s{i - per_layer - 1}", f"s{i}"])
doc = {"version": 1, "kind": "workflow", "workflow": "big", "run_id": None, "status": None,
       "direction": "LR", "nodes": nodes, "edges": edges, "counts": {},
       "truncated": True, "total_nodes": 5000}
display({"MIME": doc, "text/plain": "<codomyrmex DAG big>"}, raw=True)
""".replace("MIME", MIME)


def test_large_dag_renders_without_freezing(browser: Any, lab_server: LabServer, artifacts: Path) -> None:
    """2,000 nodes: drawn in one pass, the page keeps answering, zoom still responds."""
    write_code_notebook(lab_server.root / BIG_NOTEBOOK, [BIG_CELL])
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    try:
        before = ready.replies
        page.goto(lab_server.lab_url(BIG_NOTEBOOK), wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
        ready.wait(page, before)
        page.click(".jp-Cell:nth-child(1) .jp-InputArea-editor")
        page.keyboard.press("Shift+Enter")
        page.wait_for_selector(f"{OUTPUT} svg .cdm-node")
        # From the renderer's node being created to the drawing: one synchronous pass.
        # Past 300 steps they are dots on one edge path, as in the static twin.
        assert page.locator(f"{OUTPUT} svg circle.cdm-node").count() == 2000
        assert page.locator(f"{OUTPUT} svg path.cdm-edge").count() == 1
        frame_ms = page.evaluate(
            "() => new Promise(r => { const t = performance.now();"
            " requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now() - t))); })"
        )
        assert frame_ms < 1000, frame_ms
        notes = page.locator(f"{OUTPUT} .cdm-dag-notes").inner_text()
        assert "2000 of 5000 steps drawn" in notes
        # The first view starts at the top-left corner at half size (no fit to a speck).
        assert viewport_transform(page) == (0.0, 0.0, 0.5)
        page.click(f"{OUTPUT} .cdm-node[data-id='s41']")
        page.wait_for_selector(f"{OUTPUT} .cdm-details[data-id='s41']")
        shot(page, artifacts, "dag-large.png")
        start = viewport_transform(page)
        t0 = time.monotonic()
        page.click(f"{OUTPUT} .cdm-button[data-action='zoom-in']")
        wait_transform_change(page, start)
        assert time.monotonic() - t0 < 2.0
    finally:
        page.close()


CACHE_NOTEBOOK = "cache-demo.ipynb"
SALES = """\
%%workflow sales --cache
import random
import statistics
import time


def load(rows: int = 400, seed: int = 7):
    time.sleep(0.3)  # a slow read
    rng = random.Random(seed)
    return [{"region": rng.choice(["north", "south", "east"]), "amount": rng.gauss(100, 30)} for _ in range(rows)]


def clean(load):
    time.sleep(0.2)
    return [row for row in load if row["amount"] > 0]


def summary(clean):
    return {r: round(statistics.fmean(row["amount"] for row in clean if row["region"] == r), 1)
            for r in ("north", "south", "east")}


def outliers(clean):
    return sum(row["amount"] > 160 for row in clean)


def report(summary, outliers):
    return {"summary": summary, "outliers": outliers}
"""
CACHE_CELLS = [
    "%load_ext codomyrmex_jupyter",
    SALES,
    "first = %orchestrate run sales",
    SALES.replace("--cache", "--cache --quiet").replace("statistics.fmean(", "statistics.median("),
    "edited = %orchestrate run sales",
]
CACHE_STATES = {"load": "cached", "clean": "cached", "summary": "succeeded", "outliers": "cached",
                "report": "succeeded"}
CACHE_ANSWERS = {"load": "hit", "clean": "hit", "summary": "miss: code changed", "outliers": "hit",
                 "report": "miss: upstream 'summary' changed"}


def check_cached_run(page: Any, output: str) -> None:
    """The edited run: cached steps in their colour and legend, the cache column, timeline marks."""
    page.wait_for_selector(f"{output} .cdm-run[data-status='completed']", timeout=60_000)
    page.eval_on_selector(output, "e => e.scrollIntoView({block: 'start'})")
    drawn = page.eval_on_selector_all(
        f"{output} svg g.cdm-node",
        """gs => gs.map(g => ({id: g.dataset.id, state: g.dataset.state,
            fill: getComputedStyle(g.querySelector('rect')).fill,
            detail: g.querySelector('.cdm-node-detail').textContent,
            title: g.querySelector('title').textContent}))""",
    )
    assert {d["id"]: d["state"] for d in drawn} == CACHE_STATES
    for d in drawn:
        assert d["fill"] == hex_to_rgb(STATES[d["state"]]), d
        if d["state"] == "cached":
            assert d["detail"] == "cached" and d["title"].endswith("cache: hit"), d
    legend = page.locator(f"{output} .cdm-legend .cdm-legend-item").all_inner_texts()
    assert sorted(legend) == ["cached 3", "succeeded 2"]
    heads = page.locator(f"{output} table.cdm-steps thead th").all_inner_texts()
    assert heads == ["step", "state", "attempts", "duration", "started", "result", "cache", "error"]
    answers = page.eval_on_selector_all(
        f"{output} table.cdm-steps tbody tr",
        "rs => rs.map(r => [r.dataset.id, r.querySelector('.cdm-col-cache').textContent])",
    )
    assert dict(answers) == CACHE_ANSWERS
    marks = page.eval_on_selector_all(
        f"{output} .cdm-tl-row[data-state='cached']",
        """rs => rs.map(r => ({id: r.dataset.id, bar: r.querySelectorAll('.cdm-tl-bar').length,
            width: r.querySelector('.cdm-tl-mark').getBoundingClientRect().width,
            colour: getComputedStyle(r.querySelector('.cdm-tl-mark')).backgroundColor,
            time: r.querySelector('.cdm-tl-time').textContent}))""",
    )
    assert sorted(m["id"] for m in marks) == ["clean", "load", "outliers"]
    for m in marks:  # a diamond (a rotated 9 px square), no bar, "cached" for its time
        assert m["bar"] == 0 and 11 <= m["width"] <= 14 and m["time"] == "cached", m
        assert m["colour"] == hex_to_rgb(STATES["cached"]), m
    assert page.locator(f"{output} .cdm-tl-row[data-state='succeeded'] .cdm-tl-bar").count() == 2


def test_a_run_with_cached_steps(browser: Any, lab_server: LabServer, artifacts: Path) -> None:
    """A run after editing one step of a cached workflow, as the run view, the status item and
    the Runs panel show it; light and dark screenshots."""
    write_code_notebook(lab_server.root / CACHE_NOTEBOOK, CACHE_CELLS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    output = f".jp-NotebookPanel .jp-Cell:nth-child({len(CACHE_CELLS)}) .jp-OutputArea-output.cdm-host"
    try:
        _open(page, lab_server, ready, CACHE_NOTEBOOK)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        wait_cell_done(page, len(CACHE_CELLS))
        check_cached_run(page, output)
        page.click(f"{output} g.cdm-node[data-id='summary']")
        details = page.locator(f"{output} .cdm-details[data-id='summary']")
        assert details.locator(".cdm-detail-cache").inner_text() == "miss: code changed"
        page.click(f"{output} g.cdm-node[data-id='load']")  # a cached step: its answer and its result
        details = page.locator(f"{output} .cdm-details[data-id='load']")
        assert details.locator(".cdm-detail-cache").inner_text() == "hit"
        assert details.locator(".cdm-result-type").inner_text() == "list"
        page.eval_on_selector(output, "e => e.scrollIntoView({block: 'start'})")
        shot(page, artifacts, "cache-run-light.png", docs=True)
        wait_status(page, "codomyrmex: idle, 2 runs")
        tooltip = page.locator(".cdm-status").get_attribute("title") or ""
        assert ": completed, 3 cached" in tooltip, tooltip
        set_theme(page, "JupyterLab Dark", light=False)
        check_cached_run(page, output)
        page.eval_on_selector(output, "e => e.scrollIntoView({block: 'start'})")
        shot(page, artifacts, "cache-run-dark.png", docs=True)
        set_theme(page, "JupyterLab Light", light=True)
        # the Runs panel names the cached steps of the run
        page.evaluate("() => window.jupyterapp.commands.execute('codomyrmex:open-runs')")
        item = "#codomyrmex-runs .cdm-runs-item:has(.cdm-runs-workflow:text-is('sales'))"
        page.wait_for_selector(f"{item} >> nth=1")
        metas = page.locator(f"{item} .cdm-runs-origin").all_inner_texts()
        assert any(m.endswith("5/5 steps, 3 cached") for m in metas), metas
    except Exception:
        shot(page, artifacts, "cache-failure.png")
        raise
    finally:
        page.close()
