"""Projects: the original package's enums, fields, aliases, files and manager surface.

Written from ../shared/compat/original-api.md ("Projects (pm)").
"""

from __future__ import annotations

import json
import logging
import tarfile
from datetime import datetime
from pathlib import Path

import pytest

from codomyrmex_jupyter import (
    DocumentationGenerator,
    Project,
    ProjectManager,
    ProjectStatus,
    ProjectTemplate,
    ProjectType,
)
from codomyrmex_jupyter.engine.store import Store


def test_enum_members() -> None:
    assert ProjectType("custom") is ProjectType.CUSTOM
    assert ProjectType.DOCUMENTATION.value == "documentation"
    assert ProjectStatus.PAUSED.value == "paused"
    assert ProjectStatus.FAILED.value == "failed"


def test_project_aliases_and_fields() -> None:
    p = Project(name="p", type=ProjectType.RESEARCH, template="research")
    assert (p.project_type, p.template_name) == (ProjectType.RESEARCH, "research")
    assert (p.type, p.template) == (ProjectType.RESEARCH, "research")
    p.type = "ml_model"  # type: ignore[assignment]
    p.template = "other"
    assert (p.project_type, p.template_name) == (ProjectType.ML_MODEL, "other")
    assert (p.version, p.config, p.workflows, p.active_workflows) == ("1.0.0", {}, [], [])
    assert (p.required_modules, p.author, p.milestones, p.metrics) == ([], "", {}, {})
    d = p.to_dict()
    assert (d["type"], d["project_type"], d["template"], d["template_name"]) == (
        "ml_model", "ml_model", "other", "other"
    )
    assert Project.from_dict(d) == p
    with pytest.raises(TypeError, match="name the same field"):
        Project(name="x", type=ProjectType.CUSTOM, project_type=ProjectType.RESEARCH)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        Project(name="x", colour="red")


def test_project_save_and_load(tmp_path: Path) -> None:
    p = Project(name="p", path=str(tmp_path / "p"), author="Ann", metrics={"loc": 10})
    written = p.save()
    assert written == tmp_path / "p" / ".codomyrmex" / "project.json"
    assert json.loads(written.read_text())["type"] == "general"
    assert Project.load(tmp_path / "p") == p
    assert Project.load(tmp_path / "missing") is None
    written.write_text("{ broken")
    assert Project.load(tmp_path / "p") is None
    with pytest.raises(Exception, match="has no path"):
        Project(name="nowhere").save()


def test_project_load_reads_the_originals_file(tmp_path: Path) -> None:
    (tmp_path / ".codomyrmex").mkdir()
    (tmp_path / ".codomyrmex" / "project.json").write_text(json.dumps({
        "name": "old", "description": "", "type": "custom", "path": str(tmp_path),
        "status": "paused", "version": "2.0.0", "template": None, "config": {"a": 1},
        "workflows": ["w"], "active_workflows": [], "required_modules": ["static_analysis"],
        "author": "", "tags": [], "created_at": "2025-01-01T00:00:00+00:00",
        "updated_at": "2025-01-02T00:00:00+00:00", "milestones": {}, "metrics": {},
    }))
    p = Project.load(tmp_path)
    assert p is not None
    assert (p.type, p.status, p.version, p.config) == (
        ProjectType.CUSTOM, ProjectStatus.PAUSED, "2.0.0", {"a": 1}
    )


def test_template_fields_and_original_json() -> None:
    t = ProjectTemplate("t", ProjectType.DATA_PIPELINE, required_modules=["m"])
    assert t.type is t.project_type is ProjectType.DATA_PIPELINE
    assert (t.version, t.template_files, t.optional_modules, t.default_config) == ("1.0", {}, [], {})
    assert (t.documentation_config, t.template_generators, t.doc_links, t.author) == ({}, {}, {}, "")
    assert isinstance(t.created_at, datetime)
    original = {
        "name": "ai", "type": "ai_analysis", "description": "d", "version": "1.0",
        "directory_structure": ["src/", ".codomyrmex/"], "template_files": {"*.py": "src"},
        "workflows": ["ai-analysis"], "required_modules": ["static_analysis"],
        "optional_modules": ["git_operations"], "default_config": {"ai": {"model": "x"}},
        "documentation_config": {"nested_docs": ["src/"]}, "template_generators": {},
        "doc_links": {"enabled": True}, "author": "", "created_at": "2025-01-01T00:00:00+00:00",
    }
    loaded = ProjectTemplate.from_dict(original)
    assert (loaded.project_type, loaded.default_config) == (ProjectType.AI_ANALYSIS, {"ai": {"model": "x"}})
    assert ProjectTemplate.from_dict(loaded.to_dict()) == loaded


@pytest.fixture
def pm(tmp_path: Path) -> ProjectManager:
    return ProjectManager(str(tmp_path / "projects"), str(tmp_path / "templates"),
                          store=Store(tmp_path / "cfg"))


def test_projects_view_is_live_and_writable(pm: ProjectManager, tmp_path: Path) -> None:
    assert pm.projects == {}
    made = pm.create_project("made", path=str(tmp_path / "made"))
    assert list(pm.projects) == ["made"]
    assert pm.projects["made"] == made
    pm.projects["by_hand"] = Project(name="by_hand", description="recorded")
    assert pm.get_project("by_hand").description == "recorded"  # type: ignore[union-attr]
    assert not (tmp_path / "projects" / "by_hand").exists()  # recorded, not scaffolded
    with pytest.raises(ValueError, match="the key must be its name"):
        pm.projects["x"] = Project(name="y")
    del pm.projects["by_hand"]
    assert pm.list_projects() == ["made"]


def test_templates_view_holds_the_users_templates(pm: ProjectManager, tmp_path: Path) -> None:
    assert pm.templates == {}
    mine = ProjectTemplate("mine", ProjectType.RESEARCH, directory_structure=["notes/"])
    pm.templates["mine"] = mine
    assert pm.get_template("mine") == mine
    assert "mine" in pm.list_templates()
    project = pm.create_project("p", template_name="mine", path=str(tmp_path / "p"))
    assert project.type is ProjectType.RESEARCH
    assert (tmp_path / "p" / "notes").is_dir()
    with pytest.raises(ValueError, match="climbs out"):
        pm.templates["bad"] = ProjectTemplate("bad", directory_structure=["../out"])
    del pm.templates["mine"]
    assert "mine" not in pm.templates


def test_save_template_writes_the_original_json(pm: ProjectManager, tmp_path: Path) -> None:
    t = ProjectTemplate("saved", ProjectType.AI_ANALYSIS, description="d")
    assert pm.save_template(t) is True
    data = json.loads((tmp_path / "templates" / "saved.json").read_text())
    assert (data["name"], data["type"]) == ("saved", "ai_analysis")
    assert "saved" in pm.templates
    again = ProjectManager(str(tmp_path / "projects"), str(tmp_path / "templates"))
    assert again.get_template("saved") == t
    assert ProjectManager().save_template(t) is False  # no templates_dir
    assert pm.save_template(ProjectTemplate("research")) is False  # a built-in's name
    assert pm.save_template(ProjectTemplate("../x")) is False


def test_metrics_milestones_status_summary(pm: ProjectManager, tmp_path: Path) -> None:
    pm.create_project("p", path=str(tmp_path / "p"), template_name="research", author="Ann")
    assert pm.update_project_metrics("p", {"loc": 10}) is True
    assert pm.update_project_metrics("p", {"tests": 3}) is True
    assert pm.update_project_metrics("ghost", {"x": 1}) is False
    assert pm.add_project_milestone("p", "v1", {"note": "first"}) is True
    assert pm.add_project_milestone("ghost", "v1") is False
    project = pm.get_project("p")
    assert project.metrics == {"loc": 10, "tests": 3}  # type: ignore[union-attr]
    assert project.milestones["v1"]["note"] == "first"  # type: ignore[union-attr]
    assert "completed_at" in project.milestones["v1"]  # type: ignore[union-attr]
    assert Project.load(tmp_path / "p").metrics == project.metrics  # type: ignore[union-attr]
    status = pm.get_project_status("p")
    assert status is not None
    assert set(status) == {"name", "status", "type", "version", "path", "workflows",
                           "active_workflows", "required_modules", "created_at", "updated_at",
                           "milestones", "metrics"}
    assert (status["type"], status["workflows"]) == ("research", 2)
    assert pm.get_project_status("ghost") is None
    pm.create_project("q", path=str(tmp_path / "q"), status="active")
    summary = pm.get_projects_summary()
    assert summary["total_projects"] == 2
    assert summary["by_status"] == {"planning": 1, "active": 1}
    assert summary["by_type"] == {"research": 1, "general": 1}
    assert [r["name"] for r in summary["recent_activity"]] == ["q", "p"]


def test_archive_project(pm: ProjectManager, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pm.create_project("p", path=str(tmp_path / "p"), template_name="research")
    assert pm.archive_project("p") is True
    archive = tmp_path / "projects" / "archives" / "p.tar.gz"
    with tarfile.open(archive) as tar:
        assert "p/README.md" in tar.getnames()
    assert pm.get_project("p").status is ProjectStatus.ARCHIVED  # type: ignore[union-attr]
    with caplog.at_level(logging.WARNING):
        assert pm.archive_project("p") is False  # never over an existing archive
        assert pm.archive_project("ghost") is False
    assert "exists" in caplog.text


def test_errors_are_value_errors_named_like_the_original(pm: ProjectManager, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"^Template 'nope' not found"):
        pm.create_project("x", template_name="nope", path=str(tmp_path / "x"))
    pm.create_project("dup", path=str(tmp_path / "dup"))
    with pytest.raises(ValueError, match=r"^Project 'dup' already exists"):
        pm.create_project("dup", path=str(tmp_path / "dup2"))


def tree(root: Path) -> list[str]:
    """Files under ``root``, without the marker of a directory this package made
    (``.codomyrmex-project``: delete_project removes only such a one, docs/RELIABILITY.md)."""
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*")
        if p.is_file() and p.name != ".codomyrmex-project"
    )


def test_create_without_template_makes_only_the_project_record(pm: ProjectManager, tmp_path: Path) -> None:
    project = pm.create_project("plain", path=str(tmp_path / "plain"))
    assert tree(tmp_path / "plain") == [".codomyrmex/project.json"]
    assert Project.load(tmp_path / "plain") == project


def test_create_with_documentation_config_documents_its_nested_dirs(
    pm: ProjectManager, tmp_path: Path
) -> None:
    pm.templates["documented"] = ProjectTemplate(
        "documented", ProjectType.DATA_PIPELINE,
        directory_structure=["src/", "config/", "scratch/"],
        documentation_config={"nested_docs": ["src/", "config/"],
                              "doc_links": {"enabled": True, "parent_link": False}},
    )
    project = pm.create_project("d", "Pipeline", "documented", path=str(tmp_path / "d"),
                                author="Ann")
    assert tree(tmp_path / "d") == [
        ".codomyrmex/project.json", "AGENTS.md", "README.md", "config/AGENTS.md",
        "config/README.md", "src/AGENTS.md", "src/README.md",
    ]
    readme = (tmp_path / "d" / "README.md").read_text()
    assert readme.startswith("# d\n\nPipeline\n")
    assert "| Author | Ann |" in readme and f"| Version | {project.version} |" in readme
    assert "[`src/`](src/README.md) – Source code and implementation files" in readme
    assert "Up:" not in (tmp_path / "d" / "src" / "README.md").read_text()  # parent_link off


def test_create_with_any_other_template_documents_its_directories(
    pm: ProjectManager, tmp_path: Path
) -> None:
    pm.templates["plain_tpl"] = ProjectTemplate("plain_tpl", directory_structure=["data/raw/", ".codomyrmex/"])
    pm.create_project("o", template_name="plain_tpl", path=str(tmp_path / "o"))
    raw = (tmp_path / "o" / "data" / "raw" / "README.md").read_text()
    assert raw.startswith("# data/raw\n\nRaw input data, kept as received.")
    assert "Up: [README.md](../../README.md)" in raw
    assert not (tmp_path / "o" / ".codomyrmex" / "README.md").exists()
    pm.create_project("nodocs", template_name="plain_tpl", path=str(tmp_path / "n"), docs=False)
    assert tree(tmp_path / "n") == [".codomyrmex/project.json"]


def test_user_doc_templates_override_the_built_ins(pm: ProjectManager, tmp_path: Path) -> None:
    assert isinstance(pm.doc_generator, DocumentationGenerator)
    folder = tmp_path / "templates" / "doc_templates"
    assert pm.doc_generator.templates_dir == folder and folder.is_dir()
    (folder / "README.template.md").write_text("Hello {{ project_name }} ({{project_type}})\n")
    (folder / "research_AGENTS.template.md").write_text("Research rules for {{ project_name }}\n")
    pm.create_project("r", template_name="research", path=str(tmp_path / "r"))
    root = tmp_path / "r"
    assert (root / "README.md").read_text().startswith("# r")  # the template's own README wins
    assert (root / "AGENTS.md").read_text() == "Research rules for r\n"
    assert (root / "src" / "README.md").read_text().startswith("# src")  # nested: built-in


def test_template_files_are_copied_inside_the_project(pm: ProjectManager, tmp_path: Path) -> None:
    source = tmp_path / "templates" / "copying"
    source.mkdir(parents=True)
    (source / "setup.cfg").write_text("[metadata]\n")
    (source / "notes.txt").write_text("keep\n")
    pm.templates["copying"] = ProjectTemplate("copying", template_files={"*.cfg": "config"})
    pm.create_project("c", template_name="copying", path=str(tmp_path / "c"))
    assert (tmp_path / "c" / "config" / "setup.cfg").read_text() == "[metadata]\n"
    assert not (tmp_path / "c" / "config" / "notes.txt").exists()
    with pytest.raises(ValueError, match="climbs out"):
        pm.templates["escape"] = ProjectTemplate("escape", template_files={"*": "../out"})


def test_template_brings_modules_workflows_and_config(pm: ProjectManager, tmp_path: Path) -> None:
    pm.templates["t"] = ProjectTemplate("t", workflows=["w"], required_modules=["static_analysis"],
                                        default_config={"k": 1})
    p = pm.create_project("p", template_name="t", path=str(tmp_path / "p"))
    assert (p.workflows, p.required_modules, p.config) == (["w"], ["static_analysis"], {"k": 1})
