"""Every example notebook, executed and saved, reopens without a kernel with every output drawn.

The notebooks are executed (nbclient, a real kernel) as a user would run them:
copied out to a folder of the server, no ``$CODOMYRMEX_HOME``, each in its
own work folder and store. Then each one is opened in JupyterLab with kernels
refused: every output of ours is drawn by the lab extension from the saved
document (run views, dashboards, gauges), and nothing anywhere says "Error
displaying widget".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import pytest
from labpage import TIMEOUT_MS, LabServer, reload_without_kernel, shot

from codomyrmex_jupyter.examples import NOTEBOOKS, copy_to

pytestmark = [pytest.mark.browser, pytest.mark.kernel, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
OURS = ("application/vnd.codomyrmex.dag+json", "application/vnd.codomyrmex.dashboard+json")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _execute(folder: Path, name: str) -> int:
    """Run one notebook in place (its outputs saved into it); returns how many outputs are ours."""
    from nbclient import NotebookClient

    path = folder / name
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(folder)}}).execute()
    nbformat.write(nb, path)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if WIDGET_MIME in o.get("data", {})], f"{name} saved a widget view"
    return sum(1 for o in outputs if any(m in o.get("data", {}) for m in OURS))


@pytest.fixture(scope="module")
def executed(lab_server: LabServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """The examples copied to ``examples/`` of the server and executed there."""
    folder = lab_server.root / "examples"
    copy_to(folder)
    home = tmp_path_factory.mktemp("home")
    saved = {k: os.environ.get(k) for k in ("CODOMYRMEX_HOME", "HOME", "PYTHONPATH")}
    os.environ.pop("CODOMYRMEX_HOME", None)
    os.environ["HOME"] = str(home)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), saved["PYTHONPATH"]]))
    try:
        names = [n for n in NOTEBOOKS if "dask" not in n or _has_distributed()]
        return {name: _execute(folder, name) for name in names}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _has_distributed() -> bool:
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _ours_per_cell(path: Path) -> list[int]:
    """How many outputs of ours each cell of the saved notebook holds."""
    nb = nbformat.read(path, as_version=4)
    return [sum(1 for o in c.get("outputs", []) if any(m in o.get("data", {}) for m in OURS))
            for c in nb.cells]


def _every_output_drawn(page: Any, expected: list[int]) -> int:
    """Scroll to each cell with outputs of ours (Lab draws cells only near the view) and count
    them once drawn: each host must hold exactly one run view or dashboard."""
    cells = page.locator(".jp-NotebookPanel .jp-Cell")
    drawn = 0
    for i, want in enumerate(expected):
        if not want:
            continue
        cells.nth(i).scroll_into_view_if_needed()
        hosts = cells.nth(i).locator(".jp-OutputArea-output.cdm-host")
        hosts.nth(want - 1).locator(".cdm-run, .cdm-board").first.wait_for()
        for host in hosts.all():
            assert host.locator(".cdm-run, .cdm-board").count() == 1, host.inner_text()[:300]
            drawn += 1
    return drawn


def test_reopened_examples_draw_every_output(browser: Any, lab_server: LabServer, executed: dict[str, int],
                                             artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(TIMEOUT_MS)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    try:
        for name, ours in executed.items():
            reload_without_kernel(page, lab_server, f"examples/{name}")
            page.wait_for_selector(".jp-OutputArea-output.cdm-host .cdm-run")
            expected = _ours_per_cell(lab_server.root / "examples" / name)
            assert sum(expected) == ours, name
            assert _every_output_drawn(page, expected) == ours, name
            text = page.locator(".jp-NotebookPanel").inner_text()
            assert "Error displaying widget" not in text and "model not found" not in text, name
            page.unroute_all()
    except Exception:
        shot(page, artifacts, "examples-failure.png")
        raise
    finally:
        page.close()
    assert [line for line in console if line.startswith("error:") and "codomyrmex" in line] == []
    assert len(executed) >= 4 and all(n > 0 for n in executed.values()), executed
