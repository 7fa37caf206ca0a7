"""``make lab-headless``: nbconvert executes the quickstart into HTML with the DAG drawn in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernel

SUCCEEDED_COLOUR = "#1a7f37"


def test_nbconvert_writes_quickstart_html(kernel_env: Path, examples: Path, tmp_path: Path) -> None:
    jupyter = Path(sys.executable).parent / "jupyter"
    out_dir = tmp_path / "build"
    done = subprocess.run(
        [
            str(jupyter), "nbconvert", "--to", "html", "--execute",
            "--ExecutePreprocessor.timeout=600",
            str(examples / "01_quickstart.ipynb"),
            "--output-dir", str(out_dir), "--output", "quickstart",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    html = (out_dir / "quickstart.html").read_text(encoding="utf-8")
    assert "<svg" in html
    assert SUCCEEDED_COLOUR in html
    assert "Traceback" not in html
    # every output is drawn, the background run's and the dashboard included
    assert html.count("codomyrmex-timeline") >= 3 and "codomyrmex-dashboard" in html
    assert '<script type="application/vnd.jupyter.widget-view+json">' not in html
    assert (examples / "quickstart").is_dir()  # the notebook worked in its own folder
