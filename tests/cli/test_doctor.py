"""codomyrmex_jupyter.cli.doctor on a healthy setup and on a broken one."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cli_helpers import BIN, Cli

pytestmark = pytest.mark.slow  # each doctor asks the real Jupyter (about 3 s)


def _isolated_jupyter(tmp_path: Path) -> dict[str, str | None]:
    """The venv's Jupyter first on PATH, with no user-level kernels or settings leaking in."""
    return {
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_DATA_DIR": str(tmp_path / "jupyter-data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_PATH": None,
    }


def test_healthy(cli: Cli, recorded: dict[str, str], tmp_path: Path) -> None:
    result = cli("doctor", "--json", env=_isolated_jupyter(tmp_path))
    assert result.code == 0, result.out
    data = result.json()
    assert data["ok"] is True
    checks = {c["name"]: c for c in data["checks"]}
    assert {n: c["status"] for n, c in checks.items()} == {
        "store location": "ok", "store directory": "ok", "store file": "ok", "lab extension": "ok",
        "kernel python3": "ok", "extra dask": "ok", "nested loop mode": "ok",
    }
    assert checks["store location"]["detail"].endswith("codomyrmex.sqlite3 ($CODOMYRMEX_HOME is set)")
    assert "2 workflow(s), 3 run(s)" in checks["store file"]["detail"]
    assert "codomyrmex-jupyter v0.1.0 enabled OK" in checks["lab extension"]["detail"]
    text = cli("doctor", env=_isolated_jupyter(tmp_path))
    assert text.code == 0
    assert text.out.splitlines()[-1] == "no problems found"
    assert all(line.startswith("[ok  ]") for line in text.out.splitlines()[:-1])


def _fake_kernel(tmp_path: Path) -> Path:
    """A ``python3`` kernel whose interpreter cannot import anything."""
    python = tmp_path / "bin" / "python-without-package"
    python.parent.mkdir()
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    spec = tmp_path / "jupyter-path" / "kernels" / "python3"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python",
    }))
    return python


def test_broken(cli: Cli, tmp_path: Path, _isolated_home: Path) -> None:
    _isolated_home.mkdir()
    foreign = sqlite3.connect(_isolated_home / "codomyrmex.sqlite3")
    foreign.execute("CREATE TABLE invoices(id INTEGER)")
    foreign.commit()
    foreign.close()
    env = _isolated_jupyter(tmp_path)
    python = _fake_kernel(tmp_path)
    env["JUPYTER_PATH"] = str(tmp_path / "jupyter-path")
    # --level=user: the setting lands in this test's JUPYTER_CONFIG_DIR, not in the environment
    subprocess.run([str(BIN / "jupyter"), "labextension", "disable", "--level=user", "codomyrmex-jupyter"],
                   env={**os.environ, **{k: v for k, v in env.items() if v is not None}},
                   capture_output=True, check=True)
    assert (tmp_path / "jupyter-config" / "labconfig" / "page_config.json").exists()
    result = cli("doctor", env=env)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[-1] == "problems found: see the fix lines above"
    text = "\n".join(lines)
    assert "[FAIL] store file" in text and "is a database of another program" in text
    assert "fix: point --home / $CODOMYRMEX_HOME at another directory" in text
    assert "[FAIL] lab extension" in text and "fix: jupyter labextension enable codomyrmex-jupyter" in text
    assert "[FAIL] kernel python3" in text and f"fix: {python} -m pip install codomyrmex_jupyter" in text
    data = cli("doctor", "--json", "--kernel", "nope", env=env).json()
    kernel = next(c for c in data["checks"] if c["name"] == "kernel nope")
    assert kernel["status"] == "fail" and "no kernel named 'nope' (kernels: python3)" in kernel["detail"]


def test_a_store_newer_than_the_package(cli: Cli, recorded: dict[str, str], _isolated_home: Path,
                                        tmp_path: Path) -> None:
    db = sqlite3.connect(_isolated_home / "codomyrmex.sqlite3")
    db.execute("PRAGMA user_version=99")
    db.close()
    env = {"PATH": str(tmp_path / "empty-path")}  # and no jupyter at all
    data = cli("doctor", "--json", env=env).json()
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["store file"]["status"] == "fail"
    assert "schema 99 is newer" in checks["store file"]["detail"]
    assert checks["store file"]["fix"].startswith("upgrade: pip install -U codomyrmex_jupyter")
    assert checks["lab extension"]["status"] == "warn" and "no `jupyter` on PATH" in checks["lab extension"]["detail"]


def test_no_store_yet_is_not_a_failure(cli: Cli, tmp_path: Path) -> None:
    data = cli("--home", str(tmp_path / "fresh"), "doctor", "--json",
               env={"PATH": str(tmp_path / "empty-path")}).json()
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["store directory"]["status"] == "warn"
    assert "the first run creates it" in checks["store directory"]["fix"]
    assert data["ok"] is True
    assert not (tmp_path / "fresh").exists()
