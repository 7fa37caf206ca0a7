"""Run the example notebooks in a real kernel, copied out to a folder outside the checkout.

They run where a pip user would have copied them (``examples.copy_to``), with
only the package importable: nothing of the checkout is in their way. The
kernel's ``$CODOMYRMEX_HOME`` is a temporary folder, so a notebook's store is
that one (it comes before the notebook's own ``.codomyrmex/``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ExecutedNotebook:
    """An executed notebook and easy views of its outputs."""

    def __init__(self, name: str, nb: Any) -> None:
        self.name = name
        self.nb = nb

    def outputs(self) -> Iterator[tuple[int, Any]]:
        """``(cell index, output)`` of every code cell output."""
        for i, cell in enumerate(self.nb.cells):
            for out in cell.get("outputs", []):
                yield i, out

    def error_report(self) -> str:
        """Every error output with its traceback (no colours), or ``""``."""
        parts = []
        for i, out in self.outputs():
            if out.output_type == "error":
                source = self.nb.cells[i].source
                trace = _ANSI.sub("", "\n".join(out.get("traceback", [])))
                parts.append(f"{self.name} cell {i}:\n{source}\n{trace}")
        return "\n\n".join(parts)

    def text(self) -> str:
        """All printed text and ``text/plain`` results, in order."""
        chunks = []
        for _, out in self.outputs():
            if out.output_type == "stream":
                chunks.append(out.text)
            elif "data" in out:
                chunks.append(str(out.data.get("text/plain", "")))
        return "\n".join(chunks)

    def data(self, mime: str) -> list[Any]:
        """Every output value of MIME type ``mime``."""
        return [out.data[mime] for _, out in self.outputs() if mime in out.get("data", {})]


@pytest.fixture
def kernel_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Environment the kernel inherits: no $CODOMYRMEX_HOME, a temporary $HOME, this checkout importable."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.delenv("CODOMYRMEX_HOME", raising=False)
    monkeypatch.setenv("HOME", str(home))
    paths = [str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    return home


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """The example notebooks, copied into a folder outside the checkout."""
    from codomyrmex_jupyter.examples import copy_to

    folder = tmp_path / "my-notebooks"
    copy_to(folder)
    assert not folder.is_relative_to(ROOT)
    return folder


@pytest.fixture
def run_notebook(kernel_env: Path, examples: Path) -> Callable[[str], ExecutedNotebook]:
    """Execute a copied example notebook in a fresh python3 kernel (errors are kept as outputs)."""
    from nbclient import NotebookClient

    def run(name: str) -> ExecutedNotebook:
        nb = nbformat.read(examples / name, as_version=4)  # type: ignore[no-untyped-call]
        client = NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(examples)}},
        )
        client.execute()
        return ExecutedNotebook(name, nb)

    return run
