"""The example notebooks are exactly what ``notebooks/make_notebooks.py`` writes."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKER = ROOT / "notebooks" / "make_notebooks.py"
NOTEBOOKS = ROOT / "codomyrmex_jupyter" / "examples"
NAMES = [
    "01_quickstart.ipynb",
    "02_seed_api_tour.ipynb",
    "03_resources_and_failures.ipynb",
    "04_reproducible_analysis.ipynb",
    "05_scale_out_with_dask.ipynb",
]


@pytest.fixture(scope="module")
def maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_notebooks", MAKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_notebook_is_listed_and_shipped(maker: ModuleType) -> None:
    from codomyrmex_jupyter import examples

    assert list(maker.NOTEBOOKS) == NAMES == list(examples.NOTEBOOKS)
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_stored_notebook_is_generated(maker: ModuleType, name: str) -> None:
    stored = (NOTEBOOKS / name).read_text(encoding="utf-8")
    assert stored == maker.render(name), f"{name} is stale: run python notebooks/make_notebooks.py"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_clean_v4_python3(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)  # type: ignore[no-untyped-call]
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def test_no_hard_coded_paths(maker: ModuleType) -> None:
    for name, cells in maker.NOTEBOOKS.items():
        for kind, source in cells():
            found = re.findall(r"(?:/work/|/home/|/tmp/|/root/|~/\.codomyrmex\b)", source)
            assert kind == "md" or not found, f"{name}: hard-coded path {found} in\n{source}"


def test_check_mode_reports_stale(maker: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maker, "OUT", tmp_path)
    assert maker.main(["--check"]) == 1
    assert maker.main([]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.ipynb")) == sorted(maker.NOTEBOOKS)
    assert maker.main(["--check"]) == 0


def test_every_notebook_starts_in_its_own_folder_with_its_own_store(maker: ModuleType) -> None:
    folders = []
    for name, cells in maker.NOTEBOOKS.items():
        first = next(source for kind, source in cells() if kind == "code")
        assert first.startswith("%load_ext codomyrmex_jupyter\n"), name
        assert "%orchestrate init" in first and "%cd {work_folder(" in first, name
        folders.append(first.split('work_folder("')[1].split('"')[0])
        text = "\n".join(source for _, source in cells())
        assert '".."' not in text and "CODOMYRMEX_HOME" not in text, f"{name} leans on the checkout or the environment"
    assert len(set(folders)) == len(folders)  # one folder, one store per notebook
