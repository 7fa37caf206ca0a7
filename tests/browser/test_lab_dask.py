"""A workflow run on the kernel's Dask LocalCluster, as JupyterLab shows it.

The notebook runs a three-step workflow with ``--executor dask-local`` (a
``LocalCluster`` on loopback with its dashboard), then opens
``%orchestrate dashboard`` and selects that run. The run view and the run
opened in the dashboard both link to the Dask dashboard; the link answers
(the cluster serves it on 127.0.0.1). Light and dark screenshots of both.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from labpage import (
    TIMEOUT_MS,
    KernelReady,
    LabServer,
    poll,
    set_theme,
    shot,
    wait_cell_done,
    write_code_notebook,
)
from labpage import open_notebook as _open

pytest.importorskip("distributed")
pytest.importorskip("bokeh")  # the Dask dashboard

pytestmark = [pytest.mark.browser, pytest.mark.dask, pytest.mark.slow, pytest.mark.timeout(300)]

NOTEBOOK = "dask-demo.ipynb"
SCALED = """\
%%workflow scaled --run --executor dask-local
def load(rows: int = 2_000_000):
    return bytes(rows)  # stays on the cluster: the kernel never holds it


@step(priority=5)
def size(load):
    return len(load)


def zeros(load):
    return load.count(0)


def report(size, zeros):
    return {"size": size, "all_zero": size == zeros}
"""
CELLS = ["%load_ext codomyrmex_jupyter", SCALED, "%orchestrate dashboard"]
RUN_VIEW = ".jp-NotebookPanel .jp-Cell:nth-child(2) .jp-OutputArea-output.cdm-host"
BOARD = ".jp-NotebookPanel .jp-Cell:nth-child(3) .jp-OutputArea-output.cdm-host"


def _link(page: Any, scope: str) -> str:
    link = page.locator(f"{scope} a.cdm-run-dashboard")
    link.wait_for()
    assert link.inner_text() == "Dask dashboard"
    assert link.get_attribute("target") == "_blank"
    href = link.get_attribute("href") or ""
    assert href.startswith("http://127.0.0.1:") and href.endswith("/status"), href
    return href


def _readable(page: Any, scope: str) -> None:
    """The link is drawn in the theme's link colour, not the text colour around it."""
    colours = page.eval_on_selector(
        f"{scope} a.cdm-run-dashboard",
        "a => [getComputedStyle(a).color, getComputedStyle(a.parentElement).color]",
    )
    assert colours[0] != colours[1], colours


def test_a_run_on_dask_links_its_dashboard(browser: Any, lab_server: LabServer, artifacts: Path) -> None:
    write_code_notebook(lab_server.root / NOTEBOOK, CELLS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    ready = KernelReady(page)
    try:
        _open(page, lab_server, ready, NOTEBOOK)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        wait_cell_done(page, len(CELLS), timeout_ms=120_000)
        page.wait_for_selector(f"{RUN_VIEW} .cdm-run[data-status='completed']", timeout=120_000)
        href = _link(page, RUN_VIEW)
        with urllib.request.urlopen(href, timeout=30) as answer:  # the cluster serves it
            assert answer.status == 200
            assert "Dask" in answer.read(200_000).decode("utf-8", "replace")
        _readable(page, RUN_VIEW)
        page.eval_on_selector(RUN_VIEW, "e => e.scrollIntoView({block: 'start'})")
        shot(page, artifacts, "dask-run-light.png", docs=True)
        # the dashboard: select the run, which opens it with the same link
        row = f"{BOARD} .cdm-board table tbody tr[data-id]"
        page.wait_for_selector(row)
        page.click(row)
        page.wait_for_selector(f"{BOARD} .cdm-board .cdm-run[data-status='completed']")
        assert _link(page, f"{BOARD} .cdm-board") == href
        _readable(page, f"{BOARD} .cdm-board")
        page.eval_on_selector(BOARD, "e => e.scrollIntoView({block: 'start'})")
        shot(page, artifacts, "dask-dashboard-light.png", docs=True)
        set_theme(page, "JupyterLab Dark", light=False)
        _readable(page, f"{BOARD} .cdm-board")
        page.eval_on_selector(RUN_VIEW, "e => e.scrollIntoView({block: 'start'})")
        shot(page, artifacts, "dask-run-dark.png", docs=True)
        page.eval_on_selector(BOARD, "e => e.scrollIntoView({block: 'start'})")
        shot(page, artifacts, "dask-dashboard-dark.png", docs=True)
        set_theme(page, "JupyterLab Light", light=True)
        # the saved notebook keeps the link for readers without a kernel
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_timeout(500)
        saved = json.loads((lab_server.root / NOTEBOOK).read_text(encoding="utf-8"))
        docs = [
            out["data"]["application/vnd.codomyrmex.dag+json"]
            for cell in saved["cells"] for out in cell.get("outputs", [])
            if "application/vnd.codomyrmex.dag+json" in out.get("data", {})
        ]
        assert any(d.get("dashboard") == href for d in docs), [d.get("dashboard") for d in docs]
    except Exception:
        shot(page, artifacts, "dask-failure.png")
        raise
    finally:
        page.close()
        # the kernel closes its cluster (and the cluster's worker processes) as it exits
        for kernel in lab_server.api("GET", "/api/kernels"):
            lab_server.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=60)
        poll(lambda: lab_server.api("GET", "/api/kernels") == [], what="kernel shutdown")
