"""The Runs API: the first page of a store of 10,000 runs, in process and over HTTP.

In process: :func:`~codomyrmex_jupyter.engine.run_query.page_runs` (the
page, the match count and the running count) against a raw ``SELECT`` of
the same 50 rows. Over HTTP: ``GET <base_url>codomyrmex/api/runs`` on a real
``jupyter server`` with the extension, token in the header, as the Runs
panel asks for it. Target: under 100 ms for the first page.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .measure import interleave
from .report import Row, Section
from .store import _fill

__all__ = ["run_section"]

TARGET_MS = 100.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str) -> float:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})  # noqa: S310 - a loopback URL we built
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - a loopback URL we built
        resp.read()
    return time.perf_counter() - t0


def _server(work: Path, home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    (work / "config").mkdir(parents=True)
    (work / "config" / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"codomyrmex_jupyter": True}}}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"), JUPYTER_RUNTIME_DIR=str(work / "rt"),
               CODOMYRMEX_HOME=str(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", "--allow-root", f"--ServerApp.root_dir={work}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=work)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"{url}/api/status", token)
            return proc, url, token
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("jupyter server did not start") from None
            time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes], url: str, token: str) -> None:
    req = urllib.request.Request(f"{url}/api/shutdown", method="POST",  # noqa: S310 - loopback
                                 headers={"Authorization": f"token {token}"})
    try:
        urllib.request.urlopen(req, timeout=5).read()  # noqa: S310 - loopback
    except OSError:
        proc.terminate()
    proc.wait(timeout=30)


def run_section(quick: bool) -> Section:
    """Measure the Runs API section."""
    from codomyrmex_jupyter.engine.run_query import page_runs
    from codomyrmex_jupyter.engine.store import Store

    repeats = 5 if quick else 20
    runs = 10_000
    sec = Section(
        "runs_api",
        "Runs API: first page of 10,000 runs",
        "The Runs panel's first request. In process: `page_runs` (50 rows, the match count and the "
        "running count) against a raw `SELECT` of the same rows. Over HTTP: a real `jupyter server`, "
        "token in the header. Target: under 100 ms.",
    )
    with tempfile.TemporaryDirectory(prefix="codo-bench-api-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        _fill(home / "codomyrmex.sqlite3", runs)
        store = Store(home)
        raw = sqlite3.connect(home / "codomyrmex.sqlite3")

        def clock(fn: Any) -> float:
            t0 = time.perf_counter()
            fn()
            return time.perf_counter() - t0

        local = interleave({
            "page": lambda: clock(lambda: page_runs(store)),
            "raw": lambda: clock(lambda: raw.execute(
                "SELECT * FROM runs ORDER BY start DESC LIMIT 50").fetchall()),
        }, repeats)
        proc, url, token = _server(Path(tmp) / "server", home)
        try:
            _get(f"{url}/codomyrmex/api/runs", token)  # the server opens the store once
            http = interleave({"http": lambda: _get(f"{url}/codomyrmex/api/runs", token)}, repeats)
        finally:
            _stop(proc, url, token)
        raw.close()
        store.close()
    sec.rows += [
        Row(f"page_runs: first 50 of {runs:,} runs", local["page"], "ms", 1e3, "raw SELECT",
            local["raw"], limit=TARGET_MS, on="value"),
        Row(f"GET codomyrmex/api/runs: first 50 of {runs:,} runs", http["http"], "ms", 1e3,
            limit=TARGET_MS, on="value"),
    ]
    return sec
