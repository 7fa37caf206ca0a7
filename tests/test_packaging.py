"""The wheel ships the prebuilt lab extension; Jupyter sees it enabled."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_wheel_ships_the_labextension(tmp_path: Path) -> None:
    if not (ROOT / "codomyrmex_jupyter" / "labextension" / "package.json").exists():
        pytest.skip("the lab extension is not built in this tree (pip install -e . builds it)")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (wheel,) = tmp_path.glob("codomyrmex_jupyter-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    prefix = "codomyrmex_jupyter-0.1.0.data/data/share/jupyter/labextensions/codomyrmex-jupyter/"
    assert prefix + "package.json" in names
    assert prefix + "install.json" in names
    assert any(n.startswith(prefix + "static/remoteEntry.") for n in names)
    assert "codomyrmex_jupyter/py.typed" in names
    assert "codomyrmex_jupyter/examples/01_quickstart.ipynb" in names  # the example notebooks ship too
    assert not any("node_modules" in n for n in names)


def test_jupyter_lists_the_extension_enabled() -> None:
    out = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True, check=True
    )
    text = out.stdout + out.stderr
    line = next((ln for ln in text.splitlines() if "codomyrmex-jupyter" in ln), "")
    assert "enabled" in line and "OK" in line, text
