"""The Runs panel in a real JupyterLab and Notebook 7, with two kernels, driven by headless Chromium.

Two notebooks, each in its own kernel, run workflows as a user does: one
runs ``etl`` twice (``n=1`` completes; then, with ``clean`` edited, ``n=5``
fails in ``clean``), the other starts ``slow`` in the background (an async step that waits two
minutes). The test then checks, in JupyterLab:

* the panel (``#codomyrmex-runs``) lists the runs of both kernels, newest
  first, with each run's notebook, and updates live (the running run
  appears while it runs, the finished ones with their status);
* clicking the failed run opens a main-area tab drawn by the notebook's own
  renderer: the DAG, the failed step's colour, its failure card;
* selecting two runs and Compare shows the server's diff (the run
  parameter that changed, the steps that changed, ``clean``'s code diff)
  above both runs side by side;
* Cancel on the running run asks its kernel, which ends it ``cancelled``
  (only the owning kernel writes a run's end, so the store's ``cancelled``
  comes from it), within seconds;
* the status-bar item opens the panel;

and in Notebook 7 (same server): the toolbar's run-status indicator opens
the left panel, which lists the runs, and a run opens in the right panel.

Screenshots go to ``test-artifacts/browser/``; with
``CODOMYRMEX_UPDATE_DOC_IMAGES=1`` the light and dark ones are also copied
to ``docs/images/``.
"""

from __future__ import annotations

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
    open_notebook,
    poll,
    set_theme,
    shot,
    write_code_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(420)]

API = "/codomyrmex/api"
PANEL = "#codomyrmex-runs"
LOAD = "%load_ext codomyrmex_jupyter"
ETL = """\
%%workflow etl
def load():
    return list(range(10))

def clean(load, n: int = 1):
    if n > 3:
        raise ValueError(f"row {n} is malformed")
    return [x * n for x in load]

def report(clean):
    return sum(clean)"""
ETL_EDITED = ETL.replace("return [x * n for x in load]", "return [x * n + 1 for x in load]")
SLOW = """\
%%workflow slow
import asyncio

async def wait():
    await asyncio.sleep(120)
    return 1

def after(wait):
    return wait"""
NB_A = "runs-a.ipynb"
NB_B = "runs-b.ipynb"
NB_C = "runs-notebook7.ipynb"


def _runs(server: LabServer, query: str = "") -> list[dict[str, Any]]:
    return server.api("GET", f"{API}/runs{query}")["runs"]  # type: ignore[no-any-return]


def _run_all(page: Any) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def _open_second(page: Any, ready: KernelReady, path: str) -> None:
    """Open another notebook in the same Lab page (its own kernel) and wait for that kernel."""
    before = ready.replies
    page.evaluate("p => window.jupyterapp.commands.execute('docmanager:open', {path: p})", path)
    page.wait_for_function(
        "p => window.jupyterapp.shell.currentWidget?.context?.path === p", arg=path, timeout=60_000
    )
    ready.wait(page, before)


def _item(workflow: str, status: str) -> str:
    return f"{PANEL} .cdm-runs-item[data-status='{status}']:has(.cdm-runs-workflow:text-is('{workflow}'))"


def _panel_rows(page: Any) -> list[dict[str, str]]:
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        f"{PANEL} .cdm-runs-item",
        """items => items.map(i => ({id: i.dataset.runId, status: i.dataset.status,
            workflow: i.querySelector('.cdm-runs-workflow').textContent,
            meta: i.querySelector('.cdm-runs-origin').textContent,
            dot: getComputedStyle(i.querySelector('.cdm-runs-dot')).backgroundColor}))""",
    )


@pytest.fixture(scope="module")
def notebooks(lab_server: LabServer) -> dict[str, Path]:
    root = lab_server.root
    return {
        NB_A: write_code_notebook(
            root / NB_A, [LOAD, ETL, "%orchestrate run etl -p n=1", ETL_EDITED, "%orchestrate run etl -p n=5"]
        ),
        NB_B: write_code_notebook(root / NB_B, [LOAD, SLOW, "h = %orchestrate run slow --background"]),
        NB_C: write_code_notebook(root / NB_C, [LOAD, ETL, "%orchestrate run etl -p n=2"]),
    }


def test_runs_panel_in_jupyterlab(
    lab_server: LabServer, browser: Any, notebooks: dict[str, Path], artifacts: Path
) -> None:
    steps = Steps(artifacts / "runs-panel-steps.txt")
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    ready = KernelReady(page)
    try:
        open_notebook(page, lab_server, ready, NB_A)
        steps("notebook A open, kernel ready")
        # The panel is open before anything runs: it must pick the runs up live.
        page.evaluate("() => window.jupyterapp.commands.execute('codomyrmex:open-runs')")
        page.wait_for_selector(f"{PANEL}:visible")
        page.wait_for_selector(f"{PANEL} .cdm-runs-message:has-text('No runs yet')")
        _run_all(page)
        page.wait_for_selector(_item("etl", "failed"), timeout=60_000)
        page.wait_for_selector(_item("etl", "completed"))
        steps("A's two runs listed live")

        _open_second(page, ready, NB_B)
        _run_all(page)
        page.wait_for_selector(_item("slow", "running"), timeout=60_000)
        steps("B's background run listed as running")

        rows = _panel_rows(page)
        assert [r["workflow"] for r in rows] == ["slow", "etl", "etl"], rows  # newest first
        assert NB_B in rows[0]["meta"] and NB_A in rows[1]["meta"] and NB_A in rows[2]["meta"], rows
        stored = {r["run_id"]: r for r in _runs(lab_server)}
        assert len({stored[r["id"]]["kernel"] for r in rows}) == 2, stored  # two kernels
        for row in rows:
            colour = {"completed": STATES["succeeded"], "failed": STATES["failed"], "running": STATES["running"]}
            assert row["dot"] == hex_to_rgb(colour[row["status"]]), row
        assert page.locator(f"{_item('slow', 'running')} .cdm-runs-cancel").count() == 1
        assert page.locator(f"{PANEL} .cdm-runs-item[data-status='failed'] .cdm-runs-cancel").count() == 0
        assert "row 5 is malformed" in page.locator(f"{_item('etl', 'failed')} .cdm-runs-errorline").inner_text()

        set_theme(page, "JupyterLab Light", light=True)
        shot(page, artifacts, "runs-panel.png", docs=True)

        # Open the failed run: a main-area tab drawn by the notebook's renderer.
        page.click(f"{_item('etl', 'failed')} .cdm-runs-workflow")
        view = ".jp-MainAreaWidget .cdm-runtab-view"
        page.wait_for_selector(f"{view} .cdm-dag svg g.cdm-node")
        states = page.eval_on_selector_all(
            f"{view} svg g.cdm-node", "gs => Object.fromEntries(gs.map(g => [g.dataset.id, g.dataset.state]))"
        )
        assert states == {"load": "succeeded", "clean": "failed", "report": "skipped"}, states
        fill = page.locator(f"{view} svg g.cdm-node[data-id='clean'] rect").first.get_attribute("fill")
        assert fill == STATES["failed"]
        assert f"from {NB_A}" in page.locator(f"{view} .cdm-runtab-meta").inner_text()  # where it ran
        check_failure_card(page, view)
        steps("failed run open in a tab")
        shot(page, artifacts, "runs-run-view.png", docs=True)

        # Compare the two etl runs: the older one is A, whichever is ticked first.
        for item in (_item("etl", "failed"), _item("etl", "completed")):
            page.check(f"{item} input.cdm-runs-select")
        page.click(f"{PANEL} .cdm-runs-compare")
        compare = ".jp-MainAreaWidget .cdm-compare-view"
        page.wait_for_selector(f"{compare} .cdm-compare-pair .cdm-dag svg g.cdm-node")
        assert page.locator(f"{compare} .cdm-compare-pair .cdm-dag").count() == 2
        heads = page.locator(f"{compare} .cdm-compare-head").all_inner_texts()
        assert "completed" in heads[0] and "failed" in heads[1], heads
        changed = page.eval_on_selector_all(f"{compare} tr.cdm-compare-changed", "rs => rs.map(r => r.dataset.step)")
        assert sorted(changed) == ["clean", "report"], changed
        param = page.eval_on_selector_all(f"{compare} .cdm-diff-params tr[data-name='n'] td", "ts => ts.map(t => t.textContent)")
        assert param == ["n", "1", "5"], param
        notes = page.locator(f"{compare} tr[data-step='clean'] .cdm-diff-notes").inner_text()
        assert "state succeeded → failed" in notes and "code changed" in notes, notes
        code = f"{compare} .cdm-diff-code[data-step='clean']"
        removed = page.locator(f"{code} .cdm-diff-line-del").all_inner_texts()
        added = page.locator(f"{code} .cdm-diff-line-add").all_inner_texts()
        assert removed == ["-    return [x * n for x in load]"] and added == ["+    return [x * n + 1 for x in load]"], (removed, added)
        tint = page.eval_on_selector(f"{code} .cdm-diff-line-add", "e => getComputedStyle(e).backgroundColor")
        assert tint == "rgba(46, 160, 67, 0.22)", tint
        steps("two runs compared: the server's diff shows n 1 -> 5 and clean's code diff")
        shot(page, artifacts, "runs-compare.png", docs=True)
        set_theme(page, "JupyterLab Dark", light=False)
        shot(page, artifacts, "runs-compare-dark.png", docs=True)
        set_theme(page, "JupyterLab Light", light=True)

        # Cancel the running run from the panel: its kernel ends it cancelled.
        slow_id = next(r["id"] for r in rows if r["workflow"] == "slow")
        clicked = time.monotonic()
        page.click(f"{_item('slow', 'running')} .cdm-runs-cancel")
        poll(lambda: lab_server.api("GET", f"{API}/runs/{slow_id}")["run"]["status"] == "cancelled",
             timeout=15, what="the slow run to end cancelled")
        latency = time.monotonic() - clicked
        steps(f"cancelled by its kernel {latency:.2f}s after the click")
        assert latency < 5.0, latency
        page.wait_for_selector(_item("slow", "cancelled"), timeout=15_000)

        # Dark theme: the panel and the run view stay readable.
        set_theme(page, "JupyterLab Dark", light=False)
        page.evaluate("() => window.jupyterapp.commands.execute('codomyrmex:open-runs')")
        page.click(f"{_item('etl', 'failed')} .cdm-runs-workflow")
        page.wait_for_selector(f"{view} .cdm-dag svg g.cdm-node")
        shot(page, artifacts, "runs-panel-dark.png", docs=True)

        # The status-bar item opens the panel.
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
        page.wait_for_selector(f"{PANEL}", state="hidden")
        page.click(".cdm-status")
        page.wait_for_selector(f"{PANEL}:visible")
        set_theme(page, "JupyterLab Light", light=True)
    finally:
        page.close()


def check_failure_card(page: Any, view: str) -> None:
    """The failed step's error is shown in the run view (the renderer's failure card or details)."""
    text = page.locator(view).inner_text()
    if page.locator(f"{view} .cdm-failure").count():
        assert "row 5 is malformed" in page.locator(f"{view} .cdm-failure").first.inner_text()
        return
    page.click(f"{view} svg g.cdm-node[data-id='clean']")
    page.wait_for_function(
        "sel => document.querySelector(sel)?.textContent.includes('row 5 is malformed')",
        arg=f"{view} .cdm-details", timeout=TIMEOUT_MS,
    )
    assert "etl" in text


def test_runs_panel_in_notebook7(
    lab_server: LabServer, browser: Any, notebooks: dict[str, Path], artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 860})
    ready = KernelReady(page)
    try:
        page.goto(f"{lab_server.url}/notebooks/{NB_C}?token={lab_server.token}", wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
        ready.wait(page, 0)
        _run_all(page)
        indicator = ".jp-NotebookPanel-toolbar .cdm-status"
        page.wait_for_function(
            "sel => /codomyrmex: idle, 1 run/.test(document.querySelector(sel)?.textContent ?? '')",
            arg=indicator, timeout=60_000,
        )
        assert page.locator(indicator).is_visible()
        page.click(indicator)  # the run-status indicator opens the Runs panel
        page.wait_for_selector(f"{PANEL}:visible")
        item = f"{PANEL} .cdm-runs-item:has(.cdm-runs-origin:has-text('{NB_C}'))"
        page.wait_for_selector(item, timeout=30_000)
        assert page.locator(item).get_attribute("data-status") == "completed"
        page.click(f"{item} .cdm-runs-workflow")
        page.wait_for_selector("#codomyrmex-run-details .cdm-dag svg g.cdm-node", timeout=30_000)
        states = page.eval_on_selector_all(
            "#codomyrmex-run-details svg g.cdm-node", "gs => gs.map(g => g.dataset.state)"
        )
        assert states == ["succeeded"] * 3, states
        shot(page, artifacts, "runs-notebook7.png", docs=True)
    finally:
        page.close()
