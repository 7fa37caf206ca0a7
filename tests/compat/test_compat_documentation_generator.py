"""DocumentationGenerator: README.md and AGENTS.md from templates, safely.

Written from ../shared/compat/original-api.md ("DocumentationGenerator (dg)").
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codomyrmex_jupyter import DocumentationGenerator
from codomyrmex_jupyter.api.documentation import render_template


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for d in ("src", "config", "data/raw"):
        (root / d).mkdir(parents=True)
    return root


@pytest.fixture
def gen(tmp_path: Path) -> DocumentationGenerator:
    return DocumentationGenerator(tmp_path / "doc_templates")


def test_templates_dir_is_created(tmp_path: Path) -> None:
    g = DocumentationGenerator(tmp_path / "a" / "b")
    assert g.templates_dir == tmp_path / "a" / "b" and g.templates_dir.is_dir()
    assert DocumentationGenerator().templates_dir is None


def test_template_fields() -> None:
    text = "{{name}} {{ name }} {{  name  }} {{ unknown }} {{ 1bad }} {name}"
    assert render_template(text, {"name": "x"}) == "x x x {{ unknown }} {{ 1bad }} {name}"


def test_root_readme(gen: DocumentationGenerator, project: Path) -> None:
    assert gen.generate_root_readme(project, "demo", "data_pipeline", "ETL", "2.1", "Ann",
                                    "2025-01-01T00:00:00+00:00") is True
    text = (project / "README.md").read_text()
    assert text.startswith("# demo\n\nETL\n")
    for fragment in ("| Type | data_pipeline |", "| Version | 2.1 |", "| Author | Ann |",
                     "| Created | 2025-01-01T00:00:00+00:00 |"):
        assert fragment in text
    (project / "README.md").unlink()
    gen.generate_root_readme(project, "demo", "data_pipeline", "", "2.1", "", "now")
    assert (project / "README.md").read_text().startswith("# demo\n\nData Pipeline project\n")


def test_root_agents_lists_each_directory(gen: DocumentationGenerator, project: Path) -> None:
    assert gen.generate_root_agents(project, "demo", "research", "Study", ["src/", "config",
                                    "mystery/"]) is True
    text = (project / "AGENTS.md").read_text()
    assert "- [`src/`](src/AGENTS.md) – Source code and implementation files" in text
    assert "- [`config/`](config/AGENTS.md) – Configuration files and settings" in text
    assert "- [`mystery/`](mystery/AGENTS.md) – Files and resources for mystery" in text
    assert "Study" in text


@pytest.mark.parametrize("kind", ["readme", "agents"])
def test_nested_files(gen: DocumentationGenerator, project: Path, kind: str) -> None:
    method = getattr(gen, f"generate_nested_{kind}")
    assert method(project / "data" / "raw", "data/raw", "demo", "ml_model", project) is True
    name = "README.md" if kind == "readme" else "AGENTS.md"
    text = (project / "data" / "raw" / name).read_text()
    assert text.startswith("# data/raw")
    assert f"Up: [{name}](../../{name})" in text  # "../" per level to the parent's file
    assert "demo" in text and "ml_model" in text
    assert method(project / "src", "src", "demo", "ml_model") is True  # no parent: one level
    assert f"Up: [{name}](../{name})" in (project / "src" / name).read_text()


def test_template_lookup_order(gen: DocumentationGenerator, project: Path) -> None:
    folder = gen.templates_dir
    assert folder is not None
    assert gen.get_template("README").startswith("# {{ project_name }}")  # built-in
    (folder / "README.template.md").write_text("generic {{ project_name }}")
    (folder / "web_README.template.md").write_text("web {{ project_name }}")
    assert gen.get_template("README") == "generic {{ project_name }}"
    assert gen.get_template("README", "web") == "web {{ project_name }}"
    assert gen.get_template("README", "other") == "generic {{ project_name }}"
    assert gen.get_template("README", "../web") == "generic {{ project_name }}"  # no path tricks
    (folder / "README.nested.template.md").write_text("dir {{ directory_name }}: {{ purpose_lower }}")
    gen.generate_nested_readme(project / "config", "config", "demo", "x", project)
    assert (project / "config" / "README.md").read_text() == "dir config: configuration files and settings"
    with pytest.raises(ValueError, match="unknown documentation kind"):
        gen.get_template("CHANGELOG")


def test_generate_all(gen: DocumentationGenerator, project: Path) -> None:
    ok = gen.generate_all_documentation(project, "demo", "ai_analysis", "d", "1.0.0", "Ann",
                                        "today", ["src/", "config", "data/raw/", "not_made/"])
    assert ok is True
    made = sorted(p.relative_to(project).as_posix() for p in project.rglob("*.md"))
    assert made == ["AGENTS.md", "README.md", "config/AGENTS.md", "config/README.md",
                    "data/raw/AGENTS.md", "data/raw/README.md", "src/AGENTS.md", "src/README.md"]
    assert "not_made" not in (project / "README.md").read_text()  # only existing directories


def test_generate_all_without_nested_links(gen: DocumentationGenerator, project: Path) -> None:
    ok = gen.generate_all_documentation(project, "demo", "x", "d", "1", "a", "t", ["src"],
                                        doc_links={"enabled": False, "child_links": False})
    assert ok is True
    assert sorted(p.name for p in project.rglob("*.md")) == ["AGENTS.md", "README.md"]
    assert "- `src/` – Source code" in (project / "README.md").read_text()


def test_never_over_an_existing_file_unless_asked(gen: DocumentationGenerator, project: Path) -> None:
    (project / "README.md").write_text("mine\n")
    assert gen.generate_root_readme(project, "demo", "x", "d", "1", "a", "t") is True
    assert (project / "README.md").read_text() == "mine\n"
    assert gen.generate_root_readme(project, "demo", "x", "d", "1", "a", "t", overwrite=True)
    assert (project / "README.md").read_text().startswith("# demo")


def test_never_outside_the_project(gen: DocumentationGenerator, project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "escape").symlink_to(outside, target_is_directory=True)
    ok = gen.generate_all_documentation(project, "demo", "x", "d", "1", "a", "t",
                                        ["../outside", "/etc", "escape", "src"])
    assert ok is False  # three directories refused
    assert list(outside.iterdir()) == []
    assert (project / "src" / "README.md").is_file()
    target = outside / "victim.md"
    target.write_text("untouched\n")
    (project / "config" / "README.md").symlink_to(target)
    assert gen.generate_nested_readme(project / "config", "config", "demo", "x", project,
                                      overwrite=True) is False
    assert target.read_text() == "untouched\n"


def test_false_only_when_the_write_fails(gen: DocumentationGenerator, project: Path) -> None:
    assert gen.generate_nested_readme(project / "absent", "absent", "demo", "x", project) is False
    if os.geteuid() != 0:  # root writes anywhere
        (project / "src").chmod(0o500)
        try:
            assert gen.generate_nested_agents(project / "src", "src", "demo", "x", project) is False
        finally:
            (project / "src").chmod(0o700)


def test_directory_purpose() -> None:
    g = DocumentationGenerator()
    assert g._get_directory_purpose("src", "x") == "Source code and implementation files"
    assert g._get_directory_purpose("config", "x") == "Configuration files and settings"
    assert g._get_directory_purpose("data", "x") == "Data files and datasets"
    assert g._get_directory_purpose("unit_tests", "x") == "Test files and test fixtures"  # substring
    assert g._get_directory_purpose("data/raw/", "x") == "Raw input data, kept as received"
    assert g._get_directory_purpose("zzz", "x") == "Files and resources for zzz"
