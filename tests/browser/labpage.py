"""Page helpers shared by the browser tests: kernel readiness, polling, themes, screenshots.

Every helper takes the Playwright page (sync API) and, where it needs the
server, the conftest's ``LabServer``. Nothing here starts or stops processes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat

__all__ = [
    "DOC_IMAGES",
    "STATES",
    "TIMEOUT_MS",
    "KernelReady",
    "Steps",
    "hex_to_rgb",
    "luminance",
    "open_notebook",
    "poll",
    "reload_without_kernel",
    "saved_outputs",
    "set_theme",
    "shot",
    "wait_status",
    "write_code_notebook",
]

REPO = Path(__file__).resolve().parents[2]
DOC_IMAGES = REPO / "docs" / "images"
TIMEOUT_MS = 30_000
LabServer = Any  # the conftest's LabServer (a fixture value; conftest is not importable)

_NB: Any = nbformat  # nbformat has no type hints

# State colours of docs/dag-mime-schema.md.
STATES = {
    "pending": "#d0d7de",
    "ready": "#9ecbff",
    "running": "#0969da",
    "retrying": "#bf8700",
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "skipped": "#8c959f",
    "cancelled": "#6e7781",
    "cached": "#8250df",
}


class KernelReady:
    """Counts ``kernel_info_reply`` frames: the kernel websocket is really live.

    The toolbar's idle indicator shows before the websocket connects; running
    a cell at that moment silently does nothing.
    """

    def __init__(self, page: Any) -> None:
        self.replies = 0
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws: Any) -> None:
        ws.on("framereceived", self._on_frame)

    def _on_frame(self, payload: Any) -> None:
        data = payload if isinstance(payload, bytes) else str(payload).encode()
        if b"kernel_info_reply" in data:
            self.replies += 1

    def wait(self, page: Any, after: int, timeout: float = 60.0) -> None:
        """Wait until more than ``after`` replies have arrived."""
        deadline = time.monotonic() + timeout
        while self.replies <= after:
            if time.monotonic() > deadline:
                raise AssertionError("the kernel never answered kernel_info_request")
            page.wait_for_timeout(50)


class Steps:
    """Wall-clock time of each step, written to a text file next to the screenshots."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = self.last = time.monotonic()
        self.lines: list[str] = []

    def __call__(self, name: str) -> None:
        now = time.monotonic()
        self.lines.append(f"{now - self.start:7.2f}s  +{now - self.last:6.2f}s  {name}")
        self.last = now
        self.path.write_text("\n".join(self.lines) + "\n")


def poll(check: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    """Return the first truthy ``check()``, polling every 100 ms."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def hex_to_rgb(color: str) -> str:
    """``#1a7f37`` -> ``rgb(26, 127, 55)``, as ``getComputedStyle`` reports it."""
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def luminance(css_rgb: str) -> float:
    """Relative brightness (0 black .. 1 white) of a CSS ``rgb(...)`` colour."""
    r, g, b = (int(v) for v in re.findall(r"\d+", css_rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def wait_status(page: Any, text: str) -> None:
    """Wait until the visible status item reads exactly ``text``."""
    page.wait_for_function(
        "t => { const el = document.querySelector('.cdm-status');"
        " return el !== null && el.textContent.trim() === t && el.offsetParent !== null; }",
        arg=text,
        timeout=TIMEOUT_MS,
    )


def wait_cell_done(page: Any, n: int, timeout_ms: int = 60_000) -> None:
    """Wait until cell ``n`` (1-based) of the open notebook has run: its prompt reads ``[k]:``."""
    page.wait_for_function(
        "sel => { const p = document.querySelector(sel);"
        " return p !== null && /^\\[\\d+\\]:$/.test(p.textContent.trim()); }",
        arg=f".jp-NotebookPanel .jp-Cell:nth-child({n}) .jp-InputPrompt",
        timeout=timeout_ms,
    )


def saved_outputs(server: LabServer, notebook: str) -> list[dict[str, Any]]:
    """Every output of the notebook as saved on the server (none while it is being saved).

    Reading a notebook while Lab saves it can make jupyter_server answer 500
    (its atomic-save temporary file is renamed under the reader) or 400
    "Unreadable Notebook" (the file is read half written, after the saver
    removed its intermediate copy); pollers ask again.
    """
    try:
        model = server.api("GET", f"/api/contents/{notebook}?content=1")
    except urllib.error.HTTPError as exc:
        if exc.code == 500 or (exc.code == 400 and b"Unreadable Notebook" in exc.read()):
            return []
        raise
    return [out for cell in model["content"]["cells"] for out in cell.get("outputs", [])]


def set_theme(page: Any, theme: str, light: bool) -> None:
    """Switch Lab's theme and wait until the page uses it."""
    page.evaluate("t => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    page.wait_for_function(
        "([t, l]) => document.body.dataset.jpThemeName === t && document.body.dataset.jpThemeLight === l",
        arg=[theme, "true" if light else "false"],
        timeout=TIMEOUT_MS,
    )
    page.wait_for_timeout(300)  # let the theme's stylesheet settle before pixels are compared


def shot(page: Any, artifacts: Path, name: str, docs: bool = False) -> None:
    """Screenshot into ``artifacts``; with ``docs`` also into docs/images when asked to."""
    path = artifacts / name
    page.screenshot(path=str(path))
    if docs and os.environ.get("CODOMYRMEX_UPDATE_DOC_IMAGES") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_IMAGES / name)


def open_notebook(page: Any, server: LabServer, ready: KernelReady, notebook: str) -> None:
    """Open ``notebook`` alone in Lab and wait until its kernel really answers."""
    before = ready.replies
    page.goto(server.lab_url(notebook), wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
    ready.wait(page, before)


def reload_without_kernel(page: Any, server: LabServer, notebook: str) -> None:
    """Reload ``notebook`` while refusing to start kernels, as a kernel-less viewer would."""
    page.route(
        re.compile(r".*/api/(sessions|kernels)(\?.*)?$"),
        lambda route: (
            route.fulfill(status=403, body="{}") if route.request.method == "POST" else route.continue_()
        ),
    )
    page.goto(server.lab_url(notebook), wait_until="domcontentloaded")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=60_000)
    # The app reports the refused kernel start; Lab then offers a kernel: decline, as a reader would.
    page.click(".jp-Dialog:has-text('Error Starting Kernel') .jp-mod-accept", timeout=60_000)
    no_kernel = page.locator(".jp-Dialog .jp-Dialog-button:has-text('No Kernel')")
    with contextlib.suppress(Exception):  # Notebook 7 asks nothing more
        no_kernel.click(timeout=5_000)
    page.wait_for_selector(".jp-Dialog", state="detached")
    page.wait_for_selector(".jp-Toolbar-kernelName:has-text('No Kernel')")


def write_code_notebook(path: Path, sources: list[str]) -> Path:
    """Write a Python 3 notebook of code cells (no outputs) to ``path``."""
    nb = _NB.v4.new_notebook(cells=[_NB.v4.new_code_cell(src) for src in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    _NB.write(nb, path)
    return path
