"""Export a workflow so it runs outside the notebook that defined it.

A workflow of notebook functions (``%%workflow`` function mode) becomes a
plain Python module:

* the cell's import lines and literal assignments that the steps use;
* the step functions and the helpers (functions, classes) they use, as the
  cell wrote them, each step function with an ``@action`` registration under
  the chosen action module;
* notebook globals the steps use that are not in the cell, when they can be
  written down: a module (``import numpy as np``), an importable object
  (``from pathlib import Path``) or a literal (``THRESHOLD = 0.5``);
* the definition, registered with :func:`~.module_workflows.register_workflow`.

Importing the module is then enough to run the workflow by name, anywhere the
package is installed (``codomyrmex-jupyter run etl --import etl_flow``, a
Dask worker, a scheduled job).

What cannot be carried over (a data frame, a client, an object built in another
cell, a function defined in another cell) is named in an :class:`ExportError`
and nothing is written, rather than writing a module that fails later.

Which text is exported: in the kernel that ran the cell, the cell as it ran
(IPython keeps it for tracebacks); elsewhere the cell text stored with the
definition. Names are read with :mod:`symtable` (Python's own scoping rules),
so a local variable is never mistaken for a global.

A workflow of registered actions (``--yaml`` or the API) exports as YAML
(``.yaml``/``.yml``: the cell's own text when there is one), or as a module
holding only the definition (``.py``).
"""

from __future__ import annotations

import keyword
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.actions import NOTEBOOK_MODULE_PREFIX
from ..errors import CodomyrmexError, UnknownWorkflowError

if TYPE_CHECKING:
    from .workflow_manager import WorkflowManager
    from .workflow_models import WorkflowStep

__all__ = ["MODULE_SUFFIXES", "ExportError", "ExportResult", "export_workflow"]

_YAML_SUFFIXES = (".yaml", ".yml")
MODULE_SUFFIXES = (".py", *_YAML_SUFFIXES)


class ExportError(CodomyrmexError, ValueError):
    """A workflow cannot be exported as asked; nothing was written.

    Attributes
    ----------
    problems:
        One sentence per thing that could not be carried over.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


@dataclass
class ExportResult:
    """What :func:`export_workflow` wrote.

    Attributes
    ----------
    workflow:
        The workflow's name.
    path:
        The file written.
    kind:
        ``"module"`` (Python) or ``"yaml"``.
    module:
        The action module the steps are registered under (modules only).
    steps:
        Step names.
    carried:
        Lines written for notebook globals that are not in the cell.
    left_out:
        Statements of the cell that were not needed by any step.
    """

    workflow: str
    path: Path
    kind: str
    module: str | None = None
    steps: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    def run_hint(self) -> str:
        """The command that runs the exported workflow."""
        if self.kind == "yaml":
            return f"%%workflow {self.workflow} --yaml (paste the file into the cell)"
        return f"codomyrmex-jupyter run {self.workflow} --import {self.path.stem}"

    def summary(self) -> str:
        """What was written and how to run it, one line each."""
        lines = [f"exported {self.workflow!r} ({len(self.steps)} step(s)) to {self.path}"]
        if self.carried:
            lines.append("from the notebook: " + "; ".join(self.carried))
        if self.left_out:
            lines.append("left out (no step uses it): " + "; ".join(self.left_out))
        lines.append("run it: " + self.run_hint())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


# -- entry point -------------------------------------------------------------------------
def export_workflow(
    manager: WorkflowManager,
    name: str,
    path: str | os.PathLike[str],
    *,
    module: str | None = None,
    force: bool = False,
) -> ExportResult:
    """Write workflow ``name`` to ``path`` (see the module docstring).

    Raises
    ------
    ExportError
        The path exists and ``force`` is false, the suffix does not fit the
        workflow, the module name is not a Python name, or something a step
        uses cannot be carried over. Nothing is written.
    UnknownWorkflowError
        No workflow of that name.
    """
    steps = manager.get_workflow(name)
    if steps is None:
        raise UnknownWorkflowError(name, list(manager.list_workflows()))
    target = _target(Path(path), force)
    notebook = [s for s in steps if s.module.startswith(NOTEBOOK_MODULE_PREFIX)]
    if target.suffix in _YAML_SUFFIXES:
        if notebook:
            raise ExportError(
                f"{name!r} runs notebook functions ({', '.join(s.name for s in notebook)}); "
                "export it to a .py module instead"
            )
        text = _yaml_text(manager, name, steps)
        result = ExportResult(name, target, "yaml", steps=[s.name for s in steps])
    elif target.suffix == ".py":
        actions = _action_module(target, module)
        result = ExportResult(name, target, "module", actions, [s.name for s in steps])
        from .export_python import CellSource, ModuleWriter

        cell = CellSource.find(manager, name, notebook) if notebook else None
        text = ModuleWriter(name, steps, actions, cell, result).text()
    else:
        raise ExportError(f"export to a .py module or a .yaml file, not {target.name!r}")
    _write(target, text)
    return result


def _target(path: Path, force: bool) -> Path:
    path = path.expanduser()
    if path.is_dir():
        raise ExportError(f"{path} is a directory; give the path of the file to write")
    if path.exists() and not force:
        raise ExportError(f"{path} exists; pass --force (force=True) to overwrite it")
    return path


def _action_module(target: Path, module: str | None) -> str:
    if not _is_module_name(target.stem):
        raise ExportError(
            f"{target.name!r} cannot be imported: name the file with a Python identifier, "
            f"e.g. {_identifier(target.stem)}.py"
        )
    module = module if module is not None else target.stem
    if not _is_module_name(module) or module.startswith(NOTEBOOK_MODULE_PREFIX):
        raise ExportError(f"--module must be a dotted Python name (e.g. my_flows.etl), got {module!r}")
    return module


def _is_module_name(text: str) -> bool:
    parts = text.split(".")
    return all(p.isidentifier() and not keyword.iskeyword(p) for p in parts)


def _identifier(text: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in text)
    return out if out and not out[0].isdigit() else "_" + out


def _write(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


# -- YAML ----------------------------------------------------------------------------------
def _yaml_text(manager: WorkflowManager, name: str, steps: Sequence[WorkflowStep]) -> str:
    header = f"# workflow {name!r}, exported by codomyrmex_jupyter: %%workflow {name} --yaml\n"
    row = manager.store.load_workflow(name)
    source: str | None = row.get("source") if row else None
    if source and row and row["definition"] == [s.to_dict() for s in steps]:
        first, _, body = source.partition("\n")
        if "--yaml" in first.split():
            return header + body.rstrip("\n") + "\n"
    import yaml

    return header + str(yaml.safe_dump({"steps": [s.to_dict() for s in steps]}, sort_keys=False))
