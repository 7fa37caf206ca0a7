"""Start a real ``jupyter server`` with the Runs API, on 127.0.0.1 with a random token.

Each server gets its own config, runtime and data folders and its own
``$CODOMYRMEX_HOME``, so a test can hand it a populated, an empty or a
corrupt store. The extension is enabled by a config file, as the wheel's
``jupyter_server_config.d`` entry enables it for users.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


@dataclass
class Server:
    """A running server: ``call`` makes requests."""

    url: str
    token: str
    root: Path
    home: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    def call(self, method: str, path: str, *, token: str | None = None, anonymous: bool = False,
             headers: dict[str, str] | None = None, timeout: float = 20.0) -> Reply:
        """A request with the server's token (or ``token``), or none when ``anonymous``."""
        all_headers = dict(headers or {})
        if not anonymous:
            all_headers["Authorization"] = f"token {token or self.token}"
        req = urllib.request.Request(f"{self.url}{path}", method=method, headers=all_headers,
                                     data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                raw, status, hdrs = resp.read(), resp.status, resp.headers
        except urllib.error.HTTPError as err:
            raw, status, hdrs = err.read(), err.code, err.headers
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        return Reply(status, body, hdrs)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_server(work: Path, home: Path) -> Server:
    """Start a server whose kernels (and Runs API) use ``home`` as ``$CODOMYRMEX_HOME``."""
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    config = work / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"codomyrmex_jupyter": True}}})
    )
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(work / "runtime"),
        JUPYTER_DATA_DIR=str(work / "data"),
        CODOMYRMEX_HOME=str(home),
        PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p),
    )
    port, token = _free_port(), secrets.token_hex(16)
    log_path = work / "server.log"
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={root}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
                                   start_new_session=True)
    return Server(f"http://127.0.0.1:{port}", token, root, home, process, log_path)


def wait_ready(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"jupyter server exited early:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            if server.call("GET", "/api/status", timeout=2).status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"jupyter server did not answer in {timeout}s:\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    with contextlib.suppress(OSError):
        server.call("POST", "/api/shutdown", timeout=5)
    try:
        server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.process.terminate()
        server.process.wait(timeout=10)
