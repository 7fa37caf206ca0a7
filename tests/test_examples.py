"""The example notebooks ship with the package and copy out to any folder."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from codomyrmex_jupyter.examples import NOTEBOOKS, copy_to, notebook_path, sample_project, work_folder


def test_copy_to_copies_every_notebook_and_never_overwrites(tmp_path: Path) -> None:
    copied = copy_to(tmp_path / "mine")
    assert [p.name for p in copied] == list(NOTEBOOKS)
    for path in copied:
        nbformat.validate(nbformat.read(path, as_version=4))
    (tmp_path / "mine" / NOTEBOOKS[0]).write_text("my edits")
    with pytest.raises(FileExistsError, match="already has 01_quickstart.ipynb"):
        copy_to(tmp_path / "mine")
    assert (tmp_path / "mine" / NOTEBOOKS[0]).read_text() == "my edits"  # left alone
    copy_to(tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / NOTEBOOKS[0]).read_bytes() == notebook_path(NOTEBOOKS[0]).read_bytes()


def test_unknown_notebook_names_the_examples() -> None:
    with pytest.raises(ValueError, match="the examples are: 01_quickstart.ipynb"):
        notebook_path("06_nothing.ipynb")


def test_work_folder_is_made_once_and_found_from_inside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = work_folder("quickstart")
    assert folder == tmp_path / "quickstart" and folder.is_dir()
    monkeypatch.chdir(folder)
    assert work_folder("quickstart") == folder  # re-running the notebook's cell goes nowhere else


def test_sample_project_is_the_same_python_package_every_time(tmp_path: Path) -> None:
    root = sample_project(tmp_path / "shop")
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    assert {f.split("/")[0] for f in files if "/" in f} == {"orders", "billing", "catalog", "reports"}
    first = {f: (root / f).read_text() for f in files}
    for f, text in first.items():
        ast.parse(text, filename=f)
    sample_project(root)
    assert {f: (root / f).read_text() for f in files} == first
