"""Store discovery: config_dir > $CODOMYRMEX_HOME > nearest .codomyrmex/ > ~/.codomyrmex."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.engine.home import PROJECT_DIR, init_project_dir, locate_config_dir
from codomyrmex_jupyter.engine.store import default_config_dir


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake home with a project two levels above the working directory."""
    home = tmp_path / "home"
    work = home / "projects" / "sales" / "notebooks" / "eda"
    work.mkdir(parents=True)
    (home / PROJECT_DIR).mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODOMYRMEX_HOME", raising=False)
    monkeypatch.chdir(work)
    return home


def test_an_explicit_config_dir_wins(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODOMYRMEX_HOME", str(tree / "env"))
    loc = locate_config_dir(tree / "given")
    assert (loc.path, loc.source, loc.why) == (tree / "given", "config_dir", "given as config_dir")


def test_the_environment_variable_comes_next(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_project_dir(tree / "projects" / "sales")
    monkeypatch.setenv("CODOMYRMEX_HOME", str(tree / "env"))
    loc = locate_config_dir()
    assert (loc.path, loc.source) == (tree / "env", "CODOMYRMEX_HOME")
    assert loc.why == "$CODOMYRMEX_HOME is set"


def test_the_nearest_project_folder_in_the_parents(tree: Path) -> None:
    project = tree / "projects" / "sales"
    init_project_dir(project)
    init_project_dir(tree / "projects")  # farther up: not chosen
    loc = locate_config_dir()
    assert (loc.path, loc.source) == (project / PROJECT_DIR, "project")
    assert str(project) in loc.why and "parent of the working directory" in loc.why
    assert default_config_dir() == project / PROJECT_DIR
    here = locate_config_dir(cwd=project)
    assert "in the working directory" in here.why


def test_home_folder_is_the_default_not_a_project(tree: Path) -> None:
    loc = locate_config_dir()
    assert (loc.path, loc.source) == (tree / PROJECT_DIR, "default")
    assert loc.why.startswith("the default")


def test_init_creates_once_and_refuses_a_file(tree: Path) -> None:
    folder = tree / "projects"
    path, created = init_project_dir(folder)
    assert created and path == folder / PROJECT_DIR and (path / "README").is_file()
    assert init_project_dir(folder) == (path, False)
    (tree / "other").mkdir()
    (tree / "other" / PROJECT_DIR).write_text("not a folder")
    with pytest.raises(FileExistsError, match="not a folder"):
        init_project_dir(tree / "other")


def test_a_manager_uses_the_project_store_and_says_why(tree: Path) -> None:
    init_project_dir(tree / "projects" / "sales")
    manager = WorkflowManager()
    try:
        assert Path(manager.store.path).parent == tree / "projects" / "sales" / PROJECT_DIR
        assert manager.config_location.source == "project"
    finally:
        manager.close()
