"""Fixtures for browser tests: a real JupyterLab (or Notebook 7) server and headless Chromium.

The server runs on 127.0.0.1 with a random token on a free port, with its own
config, runtime, settings and workspace directories, and sees this checkout's
prebuilt extension (``codomyrmex_jupyter/labextension``) through a private
``JUPYTER_PATH`` entry, so nothing needs to be installed. Its kernels import
``codomyrmex_jupyter`` from this checkout (``PYTHONPATH``).

Chromium is Debian's ``/usr/bin/chromium`` driven by Python Playwright; the
tests skip when it is missing. Build the extension first with
``npm --prefix labextension run build:prod``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILT_EXTENSION = REPO / "codomyrmex_jupyter" / "labextension"
EXTENSION_NAME = "codomyrmex-jupyter"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts" / "browser"
SERVER_START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LabServer:
    """A running ``jupyter lab`` process and how to reach it."""

    url: str
    token: str
    root: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    log_file: Any = field(repr=False)
    app: str = "lab"

    def api(self, method: str, path: str, body: Any = None, timeout: float = 10.0) -> Any:
        """Call the REST API; returns the decoded JSON body (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, path: str) -> str:
        """URL opening only this document (Lab: ``reset`` drops other open tabs; Notebook 7: its page)."""
        if self.app == "notebook":
            return f"{self.url}/notebooks/{path}?token={self.token}"
        return f"{self.url}/lab/tree/{path}?reset&token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the server log (for failure messages)."""
        self.log_file.flush()
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _write_settings(settings: Path) -> None:
    # Without this file Lab asks "Would you like to get notified about official
    # Jupyter news?" in a toast, even with --LabApp.news_url=None.
    target = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Save the widget manager's state into the notebook, so a test can see which
    # widget models the browser still holds (a closed widget's model is dropped).
    widgets = settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings"
    widgets.parent.mkdir(parents=True)
    widgets.write_text(json.dumps({"saveState": True}))


def _write_server_config(config: Path) -> None:
    # The Runs API server extension, enabled as the wheel's
    # jupyter_server_config.d file enables it; Notebook 7 exposes its app
    # object to the page as Lab's --LabApp.expose_app_in_browser does.
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": {"codomyrmex_jupyter": True}},
        "JupyterNotebookApp": {"expose_app_in_browser": True},
    }))


def _server_env(work: Path) -> dict[str, str]:
    data = work / "data"
    (data / "labextensions").mkdir(parents=True)
    (data / "labextensions" / EXTENSION_NAME).symlink_to(BUILT_EXTENSION, target_is_directory=True)
    python_path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    return dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(work / "config"),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTER_DATA_DIR=str(work / "userdata"),
        JUPYTER_PATH=str(data),
        JUPYTERLAB_SETTINGS_DIR=str(work / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(work / "workspaces"),
        PYTHONPATH=python_path,
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        CODOMYRMEX_HOME=str(work / "codomyrmex-home"),
    )


def _wait_ready(server: LabServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{server.log_tail()}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            server.api("GET", "/api/status", timeout=2)
            return
        time.sleep(0.1)
    raise RuntimeError(f"jupyter lab did not answer in {SERVER_START_TIMEOUT}s:\n{server.log_tail()}")


def _stop(server: LabServer) -> None:
    try:
        with contextlib.suppress(OSError, urllib.error.URLError):
            server.api("POST", "/api/shutdown", timeout=5)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.terminate()
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait(timeout=10)
    finally:
        server.log_file.close()


@pytest.fixture(scope="module")
def chromium_path() -> Path:
    """Debian's Chromium; skips the browser tests when it is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); browser tests need it")
    return CHROMIUM


def _serve(tmp_path_factory: pytest.TempPathFactory, app: str) -> Iterator[LabServer]:
    """A ``jupyter lab`` or Notebook 7 server with this checkout's extension."""
    if not (BUILT_EXTENSION / "package.json").exists():
        pytest.fail(
            f"{BUILT_EXTENSION} is missing: build the extension first with "
            "`npm --prefix labextension ci && npm --prefix labextension run build:prod`"
        )
    work = tmp_path_factory.mktemp(app)
    root = work / "root"
    root.mkdir()
    _write_settings(work / "settings")
    _write_server_config(work / "config")
    env = _server_env(work)
    port, token = _free_port(), secrets.token_hex(16)
    module = "jupyterlab" if app == "lab" else "notebook"
    prefix = "LabApp" if app == "lab" else "JupyterNotebookApp"
    cmd = [
        sys.executable, "-m", module, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={root}",
        f"--{prefix}.news_url=None", f"--{prefix}.expose_app_in_browser=True",
    ]  # fmt: skip
    if app == "lab":
        cmd += [
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
    log_path = work / "server.log"
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        cmd, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True
    )
    server = LabServer(f"http://127.0.0.1:{port}", token, root, log_path, process, log_file, app)
    try:
        _wait_ready(server)
        yield server
    finally:
        _stop(server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, ARTIFACTS / f"server-{app}.log")


@pytest.fixture(scope="module")
def lab_server(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A ``jupyter lab`` server with this checkout's extension; shut down after the module."""
    yield from _serve(tmp_path_factory, "lab")


@pytest.fixture(scope="module")
def notebook_server(chromium_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """A Notebook 7 server with this checkout's extension; shut down after the module."""
    pytest.importorskip("notebook", minversion="7")
    yield from _serve(tmp_path_factory, "notebook")


@pytest.fixture(scope="module")
def browser(chromium_path: Path, lab_server: LabServer) -> Iterator[Any]:
    """A headless Chromium (Playwright sync API).

    It depends on ``lab_server`` so that it closes first: the server's
    shutdown waits for the browser's open connections.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
