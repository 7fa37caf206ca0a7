"""Built-in project templates and the starter content of the files they create.

Templates are plain data here (``BUILTIN_TEMPLATES``: name -> fields of
:class:`~codomyrmex_jupyter.api.projects.ProjectTemplate`), so this module
imports nothing from :mod:`.projects`. :func:`starter_content` picks a short
starting text for a file from its name and extension; notebooks are minimal
nbformat-4 JSON written with :mod:`json`.
"""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = ["BUILTIN_TEMPLATES", "StarterContext", "notebook_json", "starter_content"]

_COMMON_FILES = ["README.md", "requirements.txt", ".gitignore"]

BUILTIN_TEMPLATES: dict[str, dict[str, Any]] = {
    "ai_analysis": {
        "project_type": "ai_analysis",
        "description": "Exploratory data and AI analysis with notebooks, a package and reports",
        "directory_structure": [
            "data/raw/", "data/processed/", "notebooks/", "src/", "models/",
            "reports/figures/", "tests/",
        ],
        "files_to_create": [
            *_COMMON_FILES, "config.yaml", "notebooks/01_exploration.ipynb",
            "src/__init__.py", "src/analysis.py", "tests/test_analysis.py",
        ],
        "dependencies": ["numpy", "pandas", "scikit-learn", "matplotlib", "jupyterlab"],
        "workflows": ["code_analysis", "data_exploration", "model_evaluation"],
    },
    "data_pipeline": {
        "project_type": "data_pipeline",
        "description": "Extract-transform-load pipeline with staged data and a config file",
        "directory_structure": [
            "data/raw/", "data/staging/", "data/output/", "config/", "notebooks/", "src/", "tests/",
        ],
        "files_to_create": [
            *_COMMON_FILES, "config/pipeline.yaml", "notebooks/01_inspect_data.ipynb",
            "src/__init__.py", "src/extract.py", "src/transform.py", "src/load.py",
            "tests/test_transform.py",
        ],
        "dependencies": ["pandas", "pyarrow", "sqlalchemy", "pyyaml"],
        "workflows": ["extract_transform_load", "data_validation"],
    },
    "web_application": {
        "project_type": "web_application",
        "description": "Flask web application with templates, static assets and tests",
        "directory_structure": [
            "app/", "app/templates/", "app/static/css/", "app/static/js/", "tests/",
        ],
        "files_to_create": [
            *_COMMON_FILES, "app/__init__.py", "app/routes.py", "app/templates/index.html",
            "app/static/css/style.css", "app/static/js/main.js", "tests/test_routes.py",
        ],
        "dependencies": ["flask", "jinja2", "gunicorn", "pytest"],
        "workflows": ["build", "test", "deploy"],
    },
    "ml_model": {
        "project_type": "ml_model",
        "description": "Machine-learning model: features, training, evaluation and experiments",
        "directory_structure": [
            "data/raw/", "data/processed/", "config/", "notebooks/", "src/", "models/",
            "experiments/", "tests/",
        ],
        "files_to_create": [
            *_COMMON_FILES, "config/params.yaml", "notebooks/01_training.ipynb",
            "src/__init__.py", "src/features.py", "src/train.py", "src/evaluate.py",
            "tests/test_features.py",
        ],
        "dependencies": ["numpy", "pandas", "scikit-learn", "joblib", "matplotlib"],
        "workflows": ["train_model", "evaluate_model", "code_analysis"],
    },
    "research": {
        "project_type": "research",
        "description": "Research project: notebooks, data, literature, results and a paper outline",
        "directory_structure": [
            "notebooks/", "data/", "literature/", "results/figures/", "src/", "paper/",
        ],
        "files_to_create": [
            *_COMMON_FILES, "notebooks/01_research.ipynb", "src/__init__.py",
            "paper/outline.md", "literature/references.bib",
        ],
        "dependencies": ["numpy", "scipy", "pandas", "matplotlib", "jupyterlab"],
        "workflows": ["data_exploration", "reproduce_results"],
    },
}

_GITIGNORE = """\
__pycache__/
*.py[cod]
.ipynb_checkpoints/
.venv/
.env
data/raw/
models/*.joblib
"""


@dataclass(frozen=True)
class StarterContext:
    """What starter content may mention."""

    name: str
    description: str = ""
    template_name: str | None = None
    dependencies: Sequence[str] = ()
    directories: Sequence[str] = ()


def notebook_json(title: str, description: str = "") -> str:
    """A minimal valid nbformat-4.5 notebook: a title cell and an empty code cell."""
    text = f"# {title}" + (f"\n\n{description}" if description else "")
    notebook = {
        "cells": [
            {"cell_type": "markdown", "id": uuid.uuid4().hex[:8], "metadata": {}, "source": text},
            {
                "cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8],
                "metadata": {}, "outputs": [], "source": "%load_ext codomyrmex_jupyter",
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1) + "\n"


def _readme(ctx: StarterContext) -> str:
    parts = [f"# {ctx.name}\n"]
    if ctx.description:
        parts.append(f"{ctx.description}\n")
    if ctx.template_name:
        parts.append(f"Created from the `{ctx.template_name}` template.\n")
    if ctx.directories:
        parts.append("## Layout\n\n" + "".join(f"- `{d}`\n" for d in ctx.directories))
    return "\n".join(parts)


def _python(path: PurePosixPath, ctx: StarterContext) -> str:
    if path.name == "__init__.py":
        return f'"""{ctx.name}."""\n'
    if path.name.startswith("test_"):
        return _starter_test(path, ctx)
    return f'"""{path.stem.replace("_", " ").capitalize()} for {ctx.name}."""\n'


def _starter_test(path: PurePosixPath, ctx: StarterContext) -> str:
    # A real first check for a new project: every Python file in it compiles.
    depth = len(path.parts) - 1  # how far the test file sits below the project root
    return (
        f'"""Tests for {ctx.name}."""\n\n'
        "from pathlib import Path\n\n"
        f"PROJECT = Path(__file__).resolve().parents[{depth}]\n\n\n"
        "def test_every_python_file_compiles() -> None:\n"
        '    sources = [p for p in PROJECT.rglob("*.py") if ".venv" not in p.parts]\n'
        "    assert sources\n"
        "    for source in sources:\n"
        '        compile(source.read_text(encoding="utf-8"), str(source), "exec")\n'
    )


def _html(ctx: StarterContext) -> str:
    title = html.escape(ctx.name)
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n"
        f"  <title>{title}</title>\n</head>\n<body>\n  <h1>{title}</h1>\n</body>\n</html>\n"
    )


def starter_content(relpath: str, ctx: StarterContext) -> str:
    """A short starting text for ``relpath`` (chosen by its name and extension)."""
    path = PurePosixPath(relpath)
    name, suffix = path.name.lower(), path.suffix.lower()
    title = path.stem.replace("_", " ").capitalize()
    if name == "readme.md":
        return _readme(ctx)
    if name == "requirements.txt":
        return "".join(f"{dep}\n" for dep in ctx.dependencies)
    if name == ".gitignore":
        return _GITIGNORE
    by_suffix: dict[str, Callable[[], str]] = {
        ".py": lambda: _python(path, ctx),
        ".ipynb": lambda: notebook_json(f"{ctx.name}: {title}", ctx.description),
        ".md": lambda: f"# {title}\n",
        ".yaml": lambda: f"# {ctx.name} configuration\nname: {json.dumps(ctx.name)}\n",
        ".yml": lambda: f"# {ctx.name} configuration\nname: {json.dumps(ctx.name)}\n",
        ".json": lambda: "{}\n",
        ".html": lambda: _html(ctx),
        ".css": lambda: f"/* Styles for {ctx.name} */\n",
        ".js": lambda: f"// Scripts for {ctx.name}\n",
        ".bib": lambda: f"% References for {ctx.name}\n",
        ".toml": lambda: f"# {ctx.name}\n",
        ".cfg": lambda: f"# {ctx.name}\n",
        ".ini": lambda: f"; {ctx.name}\n",
    }
    make = by_suffix.get(suffix)
    return make() if make is not None else ""
