"""The wheel ships the prebuilt lab extension and the Runs API server extension; Jupyter sees both enabled."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# `jupyter labextension list` without a `jupyter-labextension` script on PATH
_LABEXTENSION_LIST = (
    "import sys; from jupyterlab.labextensions import main; "
    "sys.argv = ['jupyter-labextension', 'list']; main()"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this tree (its prebuilt lab extension included)."""
    if not (ROOT / "codomyrmex_jupyter" / "labextension" / "package.json").exists():
        pytest.skip("the lab extension is not built in this tree (pip install -e . builds it)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    (built,) = out.glob("codomyrmex_jupyter-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_the_labextension(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    prefix = "codomyrmex_jupyter-0.1.0.data/data/share/jupyter/labextensions/codomyrmex-jupyter/"
    assert prefix + "package.json" in names
    assert prefix + "install.json" in names
    assert any(n.startswith(prefix + "static/remoteEntry.") for n in names)
    assert "codomyrmex_jupyter/py.typed" in names
    assert "codomyrmex_jupyter/examples/01_quickstart.ipynb" in names  # the example notebooks ship too
    assert not any("node_modules" in n for n in names)
    assert "codomyrmex_jupyter/cli/app.py" in names and "codomyrmex_jupyter/__main__.py" in names
    entry_points = zipfile.ZipFile(wheel).read("codomyrmex_jupyter-0.1.0.dist-info/entry_points.txt").decode()
    assert "codomyrmex-jupyter = codomyrmex_jupyter.cli:run" in entry_points
    config = "codomyrmex_jupyter-0.1.0.data/data/etc/jupyter/jupyter_server_config.d/codomyrmex_jupyter.json"
    assert config in names
    assert "codomyrmex_jupyter/server/handlers.py" in names


@pytest.mark.slow
def test_the_installed_wheel_enables_both_extensions(wheel: Path, tmp_path: Path) -> None:
    """Installed into a fresh environment, the wheel alone enables the server and the lab extension."""
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    # The dependencies come from this environment's site-packages (a plain path
    # entry: its .pth files, the editable install among them, are not run).
    ours = subprocess.run(
        [sys.executable, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "deps-from-test-env.pth").write_text(ours + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True, capture_output=True, text=True,
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH"))}
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "user-config")  # no user config: only the wheel's
    env["JUPYTER_DATA_DIR"] = str(tmp_path / "user-data")
    where = subprocess.run(
        [str(python), "-c", "import codomyrmex_jupyter; print(codomyrmex_jupyter.__file__)"],
        check=True, capture_output=True, text=True, env=env, cwd=tmp_path,
    ).stdout
    assert where.startswith(str(env_dir)), where  # the wheel's copy, not this checkout
    server = subprocess.run(
        [str(python), "-m", "jupyter_server", "extension", "list"],
        check=True, capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    text = server.stdout + server.stderr
    assert re.search(r"codomyrmex_jupyter\s.*enabled", text), text
    assert re.search(r"codomyrmex_jupyter 0\.1\.0 .*OK", text), text
    lab = subprocess.run(
        [str(python), "-c", _LABEXTENSION_LIST],
        check=True, capture_output=True, text=True, env=env, cwd=tmp_path,
    )
    text = lab.stdout + lab.stderr
    line = next((ln for ln in text.splitlines() if "codomyrmex-jupyter" in ln), "")
    assert "enabled" in line and "OK" in line and str(env_dir) in text, text


def test_jupyter_lists_the_extension_enabled() -> None:
    out = subprocess.run(
        [str(BIN / "jupyter"), "labextension", "list"], capture_output=True, text=True, check=True
    )
    text = out.stdout + out.stderr
    line = next((ln for ln in text.splitlines() if "codomyrmex-jupyter" in ln), "")
    assert "enabled" in line and "OK" in line, text
