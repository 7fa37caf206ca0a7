"""ProjectManager: projects, templates, scaffolding, containment, persistence."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import nbformat as _nbformat
import pytest

from codomyrmex_jupyter.api.project_templates import BUILTIN_TEMPLATES
from codomyrmex_jupyter.api.projects import (
    Project,
    ProjectManager,
    ProjectStatus,
    ProjectTemplate,
    ProjectType,
)
from codomyrmex_jupyter.engine.store import Store
from codomyrmex_jupyter.errors import CodomyrmexError, ContainmentError

nbformat: Any = _nbformat  # untyped package


@pytest.fixture
def pm(tmp_path: Path) -> ProjectManager:
    return ProjectManager(store=Store(tmp_path / "config"))


def tree(root: Path) -> list[str]:
    """Every path under ``root``, relative, sorted (dirs end with '/')."""
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        out.append(rel + "/" if p.is_dir() and not p.is_symlink() else rel)
    return sorted(out)


# -- the seed examples ---------------------------------------------------------------------
def test_seed_examples(tmp_path: Path) -> None:
    from codomyrmex_jupyter import ProjectTemplate, ProjectType, get_project_manager

    manager = get_project_manager()
    target = tmp_path / "path" / "to" / "project"

    project = manager.create_project(
        name="my_project",
        description="A test project",
        template_name="ai_analysis",
        path=str(target),
    )
    assert (project.name, project.path, project.template_name) == (
        "my_project", str(target), "ai_analysis"
    )
    assert project.project_type is ProjectType.AI_ANALYSIS
    assert (target / "README.md").read_text().startswith("# my_project\n\nA test project\n")

    from codomyrmex_jupyter import ProjectStatus

    updated_project = manager.update_project(
        "my_project",
        description="Updated description",
        status=ProjectStatus.ACTIVE,
        metadata={"key": "value"},
    )
    assert updated_project is not None
    assert (updated_project.description, updated_project.status, updated_project.metadata) == (
        "Updated description", ProjectStatus.ACTIVE, {"key": "value"}
    )
    assert updated_project.updated_at is not None

    template = ProjectTemplate(
        name="custom_template",
        project_type=ProjectType.WEB_APPLICATION,
        description="Custom web application template",
        directory_structure=["src/", "static/", "templates/"],
        files_to_create=["README.md", "requirements.txt"],
        dependencies=["flask", "jinja2"],
        workflows=["build", "deploy"],
    )

    success = manager.create_template(template)
    assert success is True
    assert manager.get_template("custom_template") == template


# -- creating ------------------------------------------------------------------------------
def test_ai_analysis_scaffold(pm: ProjectManager, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    pm.create_project("ana", "Churn study", "ai_analysis", path=str(root))
    spec = BUILTIN_TEMPLATES["ai_analysis"]
    assert (root / "requirements.txt").read_text().splitlines() == spec["dependencies"]
    readme = (root / "README.md").read_text()
    assert readme.startswith("# ana\n\nChurn study\n")
    assert "Created from the `ai_analysis` template." in readme
    assert "- `data/raw/`" in readme
    nb = nbformat.read(root / "notebooks" / "01_exploration.ipynb", as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].source.startswith("# ana: 01 exploration")
    assert (root / "src" / "analysis.py").read_text() == '"""Analysis for ana."""\n'
    assert 'name: "ana"' in (root / "config.yaml").read_text()


@pytest.mark.parametrize("name", sorted(BUILTIN_TEMPLATES))
def test_every_builtin_template_scaffolds(pm: ProjectManager, tmp_path: Path, name: str) -> None:
    template = pm.get_template(name)
    assert template is not None
    assert template.workflows
    assert {"README.md", "requirements.txt"} <= set(template.files_to_create)
    root = tmp_path / name
    project = pm.create_project(f"p_{name}", template_name=name, path=str(root))
    assert project.project_type is ProjectType(name)
    for directory in template.directory_structure:
        assert (root / directory).is_dir(), directory
    for file in template.files_to_create:
        assert (root / file).is_file(), file
    for notebook in root.rglob("*.ipynb"):
        nbformat.validate(nbformat.read(notebook, as_version=4))
    if name != "web_application":
        assert list(root.glob("notebooks/*.ipynb"))


def test_default_path_is_under_the_config_dir(tmp_path: Path) -> None:
    pm = ProjectManager(store=Store(tmp_path / "cfg"))
    project = pm.create_project("plain")
    assert project.path == str(tmp_path / "cfg" / "projects" / "plain")
    assert Path(project.path).is_dir()
    # The project's own record (docs/compatibility.md: the original's .codomyrmex/) and the
    # marker of a directory this package made (delete_project removes only such a one).
    assert tree(Path(project.path)) == [".codomyrmex-project", ".codomyrmex/", ".codomyrmex/project.json"]
    assert project.template_name is None
    assert project.project_type is ProjectType.GENERAL


def test_without_store_projects_dir_follows_codomyrmex_home(_isolated_home: Path) -> None:
    pm = ProjectManager()
    assert pm.projects_dir == _isolated_home / "projects"
    assert pm.create_project("x").path == str(_isolated_home / "projects" / "x")
    assert pm.list_projects() == ["x"]


def test_explicit_projects_dir(tmp_path: Path) -> None:
    pm = ProjectManager(str(tmp_path / "here"))
    assert pm.create_project("a").path == str(tmp_path / "here" / "a")


def test_create_options(pm: ProjectManager, tmp_path: Path) -> None:
    project = pm.create_project(
        "opt", path=str(tmp_path / "o"), project_type="library", tags=["x"],
        metadata={"k": 1}, status="active",
    )
    assert (project.project_type, project.status, project.tags, project.metadata) == (
        ProjectType.LIBRARY, ProjectStatus.ACTIVE, ["x"], {"k": 1}
    )
    assert pm.get_project("opt") == project


@pytest.mark.parametrize(
    ("name", "template", "options", "error", "message"),
    [
        ("dup", None, {}, CodomyrmexError, "a project named 'dup' exists"),
        ("new", "nope", {}, CodomyrmexError, "unknown template 'nope'; available: ai_analysis"),
        ("", None, {}, CodomyrmexError, "non-empty"),
        ("a/b", None, {}, ContainmentError, "path separators"),
        ("a\\b", None, {}, ContainmentError, "path separators"),
        ("..", None, {}, ContainmentError, "path separators or '..'"),
        ("x..y", None, {}, ContainmentError, "'..'"),
        ("new", None, {"colour": "red"}, CodomyrmexError, "unknown option"),
    ],
)
def test_create_project_errors(
    pm: ProjectManager,
    *,
    tmp_path: Path,
    name: str,
    template: str | None,
    options: dict[str, str],
    error: type[Exception],
    message: str,
) -> None:
    pm.create_project("dup", path=str(tmp_path / "dup"))
    with pytest.raises(error, match=message) as info:
        pm.create_project(name, template_name=template, path=str(tmp_path / "new"), **options)
    assert isinstance(info.value, ValueError)
    assert pm.list_projects() == ["dup"]
    assert not (tmp_path / "new").exists()


def test_unwritable_path_stores_nothing(pm: ProjectManager, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(CodomyrmexError, match="cannot create project files in"):
        pm.create_project("p", template_name="research", path=str(blocker / "proj"))
    with pytest.raises(CodomyrmexError, match="exists and is not a directory"):
        pm.create_project("p", path=str(blocker))
    assert pm.list_projects() == []


def test_existing_files_are_kept(pm: ProjectManager, tmp_path: Path) -> None:
    root = tmp_path / "mine"
    root.mkdir()
    (root / "README.md").write_text("my own readme\n")
    pm.create_project("mine", template_name="research", path=str(root))
    assert (root / "README.md").read_text() == "my own readme\n"
    assert (root / "paper" / "outline.md").read_text() == "# Outline\n"


def test_file_contents_are_written_with_substitution(pm: ProjectManager, tmp_path: Path) -> None:
    template = ProjectTemplate(
        name="tiny",
        directory_structure=["src/"],
        files_to_create=["README.md"],
        file_contents={"src/main.py": "print('$name: $description')\n", "cfg/{x}.txt": "{x}"},
    )
    assert pm.create_template(template)
    root = tmp_path / "t"
    pm.create_project("tiny_proj", "hello", "tiny", path=str(root))
    assert (root / "src" / "main.py").read_text() == "print('tiny_proj: hello')\n"
    assert (root / "cfg" / "{x}.txt").read_text() == "{x}"
    # README.md/AGENTS.md for the project and each template directory (never over a file
    # the template wrote), the project's record (docs/compatibility.md) and the marker of a
    # directory this package made.
    assert tree(root) == [
        ".codomyrmex-project", ".codomyrmex/", ".codomyrmex/project.json", "AGENTS.md", "README.md",
        "cfg/", "cfg/{x}.txt", "src/", "src/AGENTS.md", "src/README.md", "src/main.py",
    ]


# -- containment ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "entry", "message"),
    [
        ("directory_structure", "../x", "climbs out"),
        ("files_to_create", "a/../../x.txt", "climbs out"),
        ("files_to_create", "/abs/file.txt", "is absolute"),
        ("directory_structure", "C:\\evil", "is absolute"),
        ("file_contents", "..\\win.txt", "climbs out"),
        ("files_to_create", "", "non-empty"),
    ],
)
def test_escaping_templates_are_refused_before_anything_is_created(
    pm: ProjectManager, *, tmp_path: Path, field: str, entry: str, message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = {"name": "bad", "directory_structure": ["ok/"], "files_to_create": ["README.md"]}
    if field == "file_contents":
        data[field] = {entry: "x"}  # type: ignore[assignment]
    else:
        data[field] = [*data.get(field, []), entry]
    with caplog.at_level(logging.WARNING):
        assert pm.create_template(ProjectTemplate.from_dict(data)) is False
    assert "template 'bad' not created" in caplog.text
    # A tampered store cannot sneak it in either.
    assert pm.store is not None
    pm.store.put_doc("template", "bad", ProjectTemplate.from_dict(data).to_dict())
    root = tmp_path / "work" / "proj"
    with pytest.raises(ContainmentError, match=message):
        pm.create_project("p", template_name="bad", path=str(root))
    assert not (tmp_path / "work").exists()
    assert not (tmp_path / "x").exists()
    assert pm.list_projects() == []


def test_symlink_out_of_the_project_is_refused(pm: ProjectManager, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "proj"
    root.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    template = ProjectTemplate(
        name="linky", directory_structure=["fine/"], files_to_create=["README.md", "link/evil.txt"]
    )
    assert pm.create_template(template) is True  # the link is only known at create time
    with pytest.raises(ContainmentError, match="through a symlink"):
        pm.create_project("p", template_name="linky", path=str(root))
    assert tree(outside) == []
    assert tree(root) == ["link"]
    assert pm.list_projects() == []


def test_symlink_inside_the_project_is_fine(pm: ProjectManager, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "real").mkdir(parents=True)
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    template = ProjectTemplate(name="inner", files_to_create=["alias/notes.md"])
    assert pm.create_template(template)
    pm.create_project("p", template_name="inner", path=str(root))
    assert (root / "real" / "notes.md").read_text() == "# Notes\n"


# -- reading, updating, deleting -----------------------------------------------------------
def test_get_and_list_projects(pm: ProjectManager, tmp_path: Path) -> None:
    pm.create_project("b", path=str(tmp_path / "b"))
    pm.create_project("a", path=str(tmp_path / "a"), status=ProjectStatus.ACTIVE)
    assert pm.list_projects() == ["a", "b"]
    assert pm.list_projects(ProjectStatus.ACTIVE) == ["a"]
    assert pm.list_projects("planning") == ["b"]
    assert pm.list_projects(ProjectStatus.ARCHIVED) == []
    assert pm.get_project("zzz") is None
    with pytest.raises(CodomyrmexError, match="ProjectStatus 'done' is not one of"):
        pm.list_projects("done")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"status": "on_hold"}, {"status": ProjectStatus.ON_HOLD}),
        ({"status": "COMPLETED"}, {"status": ProjectStatus.COMPLETED}),
        ({"project_type": ProjectType.RESEARCH}, {"project_type": ProjectType.RESEARCH}),
        ({"tags": ["x", "y"], "description": "d"}, {"tags": ["x", "y"], "description": "d"}),
    ],
)
def test_update_project(
    pm: ProjectManager, tmp_path: Path, changes: dict[str, object], expected: dict[str, object]
) -> None:
    pm.create_project("p", path=str(tmp_path / "p"))
    updated = pm.update_project("p", **changes)
    assert updated is not None
    for key, value in expected.items():
        assert getattr(updated, key) == value
    assert pm.get_project("p") == updated


def test_update_project_errors(pm: ProjectManager, tmp_path: Path) -> None:
    assert pm.update_project("ghost", description="x") is None
    pm.create_project("p", path=str(tmp_path / "p"))
    with pytest.raises(CodomyrmexError, match="cannot update name; updatable: description"):
        pm.update_project("p", name="q")
    with pytest.raises(CodomyrmexError, match="is not one of"):
        pm.update_project("p", status="finished")
    assert pm.get_project("p").status is ProjectStatus.PLANNING  # type: ignore[union-attr]


def test_delete_project(pm: ProjectManager, tmp_path: Path) -> None:
    made = tmp_path / "made"
    pm.create_project("made", template_name="research", path=str(made))
    assert pm.delete_project("made", remove_files=True) is True
    assert not made.exists()
    assert pm.delete_project("made") is False

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    pm.create_project("theirs", template_name="research", path=str(theirs))
    assert pm.delete_project("theirs", remove_files=True) is True
    assert (theirs / "README.md").is_file()  # a directory the user chose is never removed

    kept = tmp_path / "kept"
    pm.create_project("kept", path=str(kept))
    assert pm.delete_project("kept") is True
    assert kept.is_dir()
    assert pm.list_projects() == []


# -- templates -------------------------------------------------------------------------------
def test_templates(pm: ProjectManager) -> None:
    assert pm.list_templates() == sorted(BUILTIN_TEMPLATES)
    assert pm.create_template(ProjectTemplate(name="ai_analysis")) is False
    assert pm.create_template(ProjectTemplate(name="my/tpl")) is False
    mine = ProjectTemplate(name="mine", project_type="research")  # type: ignore[arg-type]
    assert pm.create_template(mine) is True
    assert pm.create_template(ProjectTemplate(name="mine")) is False
    assert "mine" in pm.list_templates()
    assert pm.get_template("mine").project_type is ProjectType.RESEARCH  # type: ignore[union-attr]
    assert pm.get_template("absent") is None


def test_templates_dir(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tdir = tmp_path / "templates"
    tdir.mkdir()
    (tdir / "flask_app.yaml").write_text(
        "project_type: web_application\ndirectory_structure: [app/]\n"
        "files_to_create: [README.md]\ndependencies: [flask]\n"
    )
    (tdir / "js.json").write_text(json.dumps({"name": "json_tpl", "files_to_create": ["a.md"]}))
    (tdir / "broken.yaml").write_text("- just\n- a list\n")
    (tdir / "escape.yml").write_text("directory_structure: [../out]\n")
    (tdir / "typo.yaml").write_text("dependancies: [x]\n")
    (tdir / "research.yaml").write_text("description: shadows a built-in\n")
    (tdir / "notes.txt").write_text("ignored")
    with caplog.at_level(logging.WARNING):
        pm = ProjectManager(str(tmp_path / "projects"), str(tdir))
    assert set(pm.list_templates()) - set(BUILTIN_TEMPLATES) == {"flask_app", "json_tpl"}
    flask = pm.get_template("flask_app")
    assert flask is not None
    assert (flask.project_type, flask.dependencies) == (ProjectType.WEB_APPLICATION, ["flask"])
    for bad in ("broken.yaml", "escape.yml", "typo.yaml", "research.yaml"):
        assert bad in caplog.text
    assert pm.get_template("research").description.startswith("Research project")  # type: ignore[union-attr]


def test_template_round_trip() -> None:
    t = ProjectTemplate(
        name="t", project_type="ml_model", files_to_create=["a.py"], metadata={"x": 1}  # type: ignore[arg-type]
    )
    assert ProjectTemplate.from_dict(t.to_dict()) == t
    with pytest.raises(CodomyrmexError, match="unknown template field"):
        ProjectTemplate.from_dict({"name": "t", "bogus": 1})


def test_project_round_trip() -> None:
    p = Project(name="n", tags=["a"], metadata={"k": [1, 2]}, status="archived")  # type: ignore[arg-type]
    assert p.status is ProjectStatus.ARCHIVED
    assert Project.from_dict(p.to_dict()) == p


# -- persistence -----------------------------------------------------------------------------
def test_projects_and_templates_persist_across_managers(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    first = ProjectManager(store=Store(db))
    assert first.create_template(ProjectTemplate(name="custom", files_to_create=["README.md"]))
    first.create_project("alpha", "first", "custom", path=str(tmp_path / "alpha"), tags=["t"])
    first.update_project("alpha", status=ProjectStatus.ACTIVE)

    second = ProjectManager(store=Store(db))
    alpha = second.get_project("alpha")
    assert alpha is not None
    assert (alpha.description, alpha.status, alpha.tags, alpha.template_name) == (
        "first", ProjectStatus.ACTIVE, ["t"], "custom"
    )
    assert alpha == first.get_project("alpha")
    assert "custom" in second.list_templates()
    with pytest.raises(CodomyrmexError, match="exists"):
        second.create_project("alpha", path=str(tmp_path / "other"))
    assert second.delete_project("alpha") is True
    assert first.list_projects() == []
    assert os.path.isdir(tmp_path / "alpha")


def test_starter_tests_check_the_project_and_pass(tmp_path) -> None:
    import subprocess
    import sys

    from codomyrmex_jupyter.api.project_templates import StarterContext, starter_content

    ctx = StarterContext(name="demo", description="", template_name="research", directories=(), dependencies=())
    root = tmp_path / "demo"
    (root / "tests").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "src" / "ok.py").write_text("x = 1\n")
    (root / "tests" / "test_demo.py").write_text(starter_content("tests/test_demo.py", ctx))
    ok = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout
    (root / "src" / "broken.py").write_text("def f(:\n")
    bad = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root)],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1 and "broken.py" in bad.stdout


# -- delete_project(remove_files=True) removes only what it created, where it created it -----
def _made(pm: ProjectManager, tmp_path: Path, name: str = "made") -> Path:
    root = tmp_path / name
    pm.create_project(name, template_name="research", path=str(root))
    return root


def test_a_path_changed_since_creation_is_never_followed(
    pm: ProjectManager, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ours = _made(pm, tmp_path)
    other = tmp_path / "OTHER"
    (other / "data").mkdir(parents=True)
    (other / "data" / "precious.csv").write_text("1,2\n")
    pm.update_project("made", path=str(other))
    with caplog.at_level(logging.WARNING):
        assert pm.delete_project("made", remove_files=True) is True
    assert (other / "data" / "precious.csv").read_text() == "1,2\n"
    assert ours.is_dir()  # not the new path, and not the old one either: the record moved on
    assert f"the project path changed to {other}" in caplog.text


def test_a_directory_swapped_in_at_the_path_is_never_removed(
    pm: ProjectManager, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ours = _made(pm, tmp_path)
    ours.rename(tmp_path / "moved")
    ours.mkdir()
    (ours / "theirs.txt").write_text("keep me")
    with caplog.at_level(logging.WARNING):
        pm.delete_project("made", remove_files=True)
    assert (ours / "theirs.txt").read_text() == "keep me"
    assert "is no longer the directory that was created there" in caplog.text
    assert (tmp_path / "moved" / "README.md").is_file()


def test_a_symlink_swapped_in_at_the_path_is_never_followed(
    pm: ProjectManager, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ours = _made(pm, tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    (target / "file").write_text("keep")
    ours.rename(tmp_path / "moved")
    ours.symlink_to(target, target_is_directory=True)
    with caplog.at_level(logging.WARNING):
        pm.delete_project("made", remove_files=True)
    assert (target / "file").read_text() == "keep" and ours.is_symlink()


def test_a_directory_without_our_marker_is_never_removed(
    pm: ProjectManager, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from codomyrmex_jupyter.api.owned_dirs import MARKER

    ours = _made(pm, tmp_path)
    (ours / MARKER).unlink()
    with caplog.at_level(logging.WARNING):
        pm.delete_project("made", remove_files=True)
    assert ours.is_dir() and "does not hold this project's marker file" in caplog.text


def test_a_created_directory_is_marked_and_removed_whole(pm: ProjectManager, tmp_path: Path) -> None:
    from codomyrmex_jupyter.api.owned_dirs import MARKER

    ours = _made(pm, tmp_path)
    assert (ours / MARKER).is_file()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    (ours / "link").symlink_to(outside, target_is_directory=True)  # rmtree must not follow it
    assert pm.delete_project("made", remove_files=True) is True
    assert not ours.exists() and (outside / "keep").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".made.")] == []
