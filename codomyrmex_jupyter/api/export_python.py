"""The Python side of an export: read the notebook cell, write the module.

See :mod:`.export` for what an exported module holds. Reading uses
:mod:`ast` for the cell's statements and :mod:`symtable` for the names each
function reads (Python's own scoping rules: a local is never taken for a
global). A name the cell does not define is looked up in the notebook's
namespace, when this process has it, and written down as an import or a
literal if it can be; anything else is a problem, reported by name.
"""

from __future__ import annotations

import ast
import builtins
import json
import linecache
import symtable
import sys
import types
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.actions import NOTEBOOK_MODULE_PREFIX
from .export import ExportError, ExportResult

if TYPE_CHECKING:
    from .workflow_manager import WorkflowManager
    from .workflow_models import WorkflowStep

__all__ = ["CellSource", "ModuleWriter"]

_LITERAL_TYPES = (int, float, complex, str, bytes, bool, type(None), list, tuple, dict, set)
_MAX_LITERAL = 10_000  # characters: past that, data belongs in a file, not in code
# what ``%load_ext codomyrmex_jupyter`` puts in the notebook's namespace
_INJECTED = {"step": "from codomyrmex_jupyter import step"}
_GENERATED = ("WorkflowStep", "action", "register_workflow", "ACTIONS")


# -- where the cell's text and namespace come from ---------------------------------------------
@dataclass
class CellSource:
    """The text of the cell that defined the step functions, and its namespace if known."""

    text: str
    filename: str
    namespace: Mapping[str, Any] | None
    functions: dict[str, Callable[..., Any]]

    @classmethod
    def find(cls, manager: WorkflowManager, name: str, steps: Sequence[WorkflowStep]) -> CellSource:
        functions = {}
        for s in steps:
            spec = manager.registry.find(s.module, s.action)
            if spec is not None:
                functions[s.action] = spec.fn
        live = cls._from_functions(functions)
        if live is not None:
            return live
        if functions and all(_import_path(f) is not None for f in functions.values()):
            return cls("", "<no cell>", dict(functions), dict(functions))
        row = manager.store.load_workflow(name)
        source = row.get("source") if row else None
        if not source or row is None or row.get("origin") != "cell":
            raise ExportError(
                f"the cell that defined {name!r} is not known in this process; "
                "run its %%workflow cell again in this kernel, then export"
            )
        body = source.partition("\n")[2]
        return cls(body, f"<cell of {name}>", None, {})

    @classmethod
    def _from_functions(cls, functions: Mapping[str, Callable[..., Any]]) -> CellSource | None:
        cells = {
            fn.__code__.co_filename
            for fn in functions.values()
            if getattr(fn, "__module__", None) == "__main__" and hasattr(fn, "__code__")
        }
        if len(cells) != 1:
            return None
        filename = cells.pop()
        lines = linecache.getlines(filename)
        if not lines:
            return None
        main = next(f for f in functions.values() if getattr(f, "__module__", None) == "__main__")
        # a step function from an importable module resolves to an import line
        namespace = ChainMap(dict(functions), main.__globals__)
        return cls("".join(lines), filename, namespace, dict(functions))


# -- reading the cell ------------------------------------------------------------------------
_Def = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


def _first_line(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, _Def):
        return [node.name]
    if isinstance(node, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _is_literal_assignment(node: ast.stmt) -> bool:
    if isinstance(node, ast.Assign):
        value: ast.expr | None = node.value
        simple = all(isinstance(t, ast.Name) for t in node.targets)
    elif isinstance(node, ast.AnnAssign):
        value, simple = node.value, isinstance(node.target, ast.Name)
    else:
        return False
    if value is None or not simple:
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _expression_names(nodes: Iterable[ast.AST | None]) -> set[str]:
    """Names an expression evaluated at module level reads (minus what it binds itself)."""
    loads: set[str] = set()
    bound: set[str] = set()
    for root in nodes:
        if root is None:
            continue
        for n in ast.walk(root):
            if isinstance(n, ast.Name):
                (loads if isinstance(n.ctx, ast.Load) else bound).add(n.id)
            elif isinstance(n, ast.arg):
                bound.add(n.arg)
    return loads - bound


def _module_level_parts(node: _Def) -> list[ast.AST | None]:
    parts: list[ast.AST | None] = list(node.decorator_list)
    if isinstance(node, ast.ClassDef):
        return parts + list(node.bases) + [k.value for k in node.keywords]
    a = node.args
    parts += list(a.defaults) + list(a.kw_defaults) + [node.returns]
    parts += [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x]
    return parts


def _scope_globals(table: symtable.SymbolTable) -> set[str]:
    found = {s.get_name() for s in table.get_symbols() if s.is_global() and s.is_referenced()}
    for child in table.get_children():
        found |= _scope_globals(child)
    return found


class Cell:
    """The cell's top-level statements and what each definition reads."""

    def __init__(self, text: str, filename: str) -> None:
        try:
            self.tree = ast.parse(text, filename)
            table = symtable.symtable(text, filename, "exec")
        except SyntaxError as exc:
            raise ExportError(
                f"line {exc.lineno} of the cell is not plain Python ({exc.msg}): move IPython "
                "syntax (%magics, !shell) out of the %%workflow cell, then run it again and export"
            ) from None
        self.lines = text.splitlines()
        self.scopes = {(t.get_name(), t.get_lineno()): t for t in table.get_children()}
        self.binders: dict[str, ast.stmt] = {}
        for node in self.tree.body:
            for bound in _bound_names(node):
                self.binders[bound] = node  # the last binding is the one that holds

    def reads(self, node: ast.stmt) -> set[str]:
        """Global names ``node`` needs when it runs (its own name excluded)."""
        if isinstance(node, _Def):
            names = _expression_names(_module_level_parts(node))
            scope = self.scopes.get((node.name, node.lineno))
            if scope is not None:
                names |= _scope_globals(scope)
            return names - {node.name}
        return set()  # an import, or an assignment of a literal: reads nothing

    def segment(self, node: ast.stmt) -> list[str]:
        """The lines of ``node`` as written (decorators included)."""
        end = node.end_lineno or node.lineno
        return self.lines[_first_line(node) - 1 : end]

    def describe(self, node: ast.stmt) -> str:
        first = self.lines[node.lineno - 1].strip()
        return f"line {node.lineno}: {first[:60]}"


# -- notebook globals -------------------------------------------------------------------------
def _literal_text(value: Any) -> str | None:
    if type(value) not in _LITERAL_TYPES:
        return None
    text = repr(value)
    if len(text) > _MAX_LITERAL:
        return None
    try:
        back = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return text if type(back) is type(value) and back == value else None


def _import_path(value: Any) -> str | None:
    """The shortest ``module`` that gives ``value`` as ``module.<qualname>``."""
    module, qual = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qual, str) or module == "__main__":
        return None
    if "." in qual or "<" in qual:
        return None
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        prefix = ".".join(parts[:i])
        if getattr(sys.modules.get(prefix), qual, None) is value:
            return prefix
    return None


def _py(value: Any) -> str:
    """Python text for a JSON-like value, with double-quoted strings (as code is written)."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if ast.literal_eval(text) == value else repr(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(_py(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _kind(node: ast.stmt) -> str:
    return "class" if isinstance(node, ast.ClassDef) else "function"


def _global_line(name: str, value: Any) -> tuple[str | None, str | None]:  # noqa: PLR0911 - one per kind
    """``(line to write, None)`` or ``(None, why it cannot be carried)``."""
    if isinstance(value, types.ModuleType):
        if value.__name__ == "__main__":
            return None, f"{name!r} is the notebook itself"
        if value.__name__ == name:
            return f"import {name}", None
        return f"import {value.__name__} as {name}", None
    text = _literal_text(value)
    if text is not None:
        return f"{name} = {text}", None
    source = _import_path(value)
    if source is not None:
        qual = value.__qualname__
        return f"from {source} import {qual}" + ("" if qual == name else f" as {name}"), None
    if getattr(value, "__module__", None) == "__main__" and isinstance(value, type | types.FunctionType):
        kind = "class" if isinstance(value, type) else "function"
        return None, (
            f"{name!r} is a {kind} defined in another notebook cell: move it into the %%workflow cell"
        )
    return None, (
        f"{name!r} (a {type(value).__name__}) is a notebook global that is neither a literal nor an "
        "import: create it inside a step, or pass it as a run parameter"
    )


# -- writing the module --------------------------------------------------------------------------
class ModuleWriter:
    """Builds the text of an exported module."""

    def __init__(
        self,
        name: str,
        steps: Sequence[WorkflowStep],
        actions: str,
        cell: CellSource | None,
        result: ExportResult,
    ) -> None:
        self.name = name
        self.steps = list(steps)
        self.actions = actions
        self.source = cell
        self.result = result
        self.cell = Cell(cell.text, cell.filename) if cell is not None else None
        self.carried_nodes: list[ast.stmt] = []
        # (name bound, line) for notebook globals the cell does not define
        self.header_imports: list[tuple[str, str]] = []
        self.globals_lines: list[tuple[str, str]] = []
        self.problems: list[str] = []
        self.names = dict.fromkeys(_GENERATED, "")

    # -- resolution --------------------------------------------------------------------
    def _resolve(self) -> None:
        if self.cell is None:
            return
        notebook_steps = [s for s in self.steps if s.module.startswith(NOTEBOOK_MODULE_PREFIX)]
        pending = [(s.action, f"step {s.name!r}") for s in notebook_steps]
        seen: set[str] = set()
        carried: set[int] = set()
        steps = self._step_actions()
        while pending:
            wanted, user = pending.pop()
            if wanted in seen:
                continue
            seen.add(wanted)
            node = self.cell.binders.get(wanted)
            if node is None and hasattr(builtins, wanted):
                continue
            if node is not None and self._carriable(node):
                if id(node) not in carried:
                    carried.add(id(node))
                    self.carried_nodes.append(node)
                    label = user if wanted in steps else f"{_kind(node)} {wanted!r}"
                    pending += [(n, label) for n in sorted(self.cell.reads(node), reverse=True)]
                continue
            self._from_namespace(wanted, user, defined_in_cell=node is not None)
        order = {id(n): i for i, n in enumerate(self.cell.tree.body)}
        self.carried_nodes.sort(key=lambda n: order[id(n)])
        self.result.left_out = [
            self.cell.describe(n) for n in self.cell.tree.body
            if id(n) not in carried and not isinstance(n, ast.Import | ast.ImportFrom | ast.Pass)
        ]

    def _carriable(self, node: ast.stmt) -> bool:
        return isinstance(node, _Def | ast.Import | ast.ImportFrom) or _is_literal_assignment(node)

    def _from_namespace(self, wanted: str, user: str, *, defined_in_cell: bool) -> None:
        namespace = self.source.namespace if self.source is not None else None
        if namespace is not None and wanted in namespace:
            line, problem = _global_line(wanted, namespace[wanted])
        elif wanted in _INJECTED:
            line, problem = _INJECTED[wanted], None
        elif defined_in_cell:
            line, problem = None, (
                f"{wanted!r} is computed by a statement of the cell that is not a literal; "
                "compute it inside a step"
            )
        else:
            line, problem = None, f"{wanted!r} is not defined in the cell"
        if problem is not None:
            self.problems.append(f"{user} uses {problem}")
        elif line is not None:
            kept = self.header_imports if line.startswith(("import ", "from ")) else self.globals_lines
            kept.append((wanted, line))
            self.result.carried.append(line)

    # -- text ----------------------------------------------------------------------------
    def _generated_names(self) -> None:
        taken: set[str] = set()
        if self.cell is not None:
            for node in self.carried_nodes:
                taken.update(_bound_names(node))
        taken.update(bound for bound, _ in self.header_imports + self.globals_lines)
        for generated in _GENERATED:
            self.names[generated] = f"_{generated}" if generated in taken else generated

    def text(self) -> str:
        self._resolve()
        if self.problems:
            raise ExportError(
                f"cannot export {self.name!r} to {self.result.path.name}: " + "; ".join(self.problems),
                self.problems,
            )
        self._generated_names()
        parts = [self._docstring(), "", *self._imports(), ""]
        parts.append(f'{self.names["ACTIONS"]} = {_py(self.actions)}  # the action module the steps call')
        parts += [f"{line}  # from the notebook" for _, line in self.globals_lines]
        parts += ["", ""]
        for node in self.carried_nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                continue
            parts += [*self._node_lines(node), "", ""]
        parts += self._definition()
        text = "\n".join(parts).rstrip("\n") + "\n"
        compile(text, str(self.result.path), "exec")  # a bad export must never be written
        return text

    def _docstring(self) -> str:
        return (
            f'"""Workflow {self.name!r}, exported from a notebook by codomyrmex_jupyter.\n\n'
            "Importing this module registers the steps and the workflow, so it runs by name\n"
            "wherever codomyrmex_jupyter is installed:\n\n"
            f"    codomyrmex-jupyter run {self.name} --import {self.result.path.stem}\n\n"
            "or from Python::\n\n"
            f"    import {self.result.path.stem}\n"
            "    from codomyrmex_jupyter import get_workflow_manager\n"
            f"    get_workflow_manager().run_workflow({_py(self.name)})\n"
            '"""'
        )

    def _imports(self) -> list[str]:
        lines: list[str] = []
        cell_imports = [n for n in self.carried_nodes if isinstance(n, ast.Import | ast.ImportFrom)]
        futures = [n for n in cell_imports if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
        for future in futures:
            lines += self._segment(future)
        if futures:
            lines.append("")
        for node in cell_imports:
            if node not in futures:
                lines += self._segment(node)
        ours = [
            n if self.names[n] == n else f"{n} as {self.names[n]}"
            for n in ("WorkflowStep", "action", "register_workflow")
        ]
        package = "from codomyrmex_jupyter import "
        for _, line in self.header_imports:
            if line.startswith(package):
                ours.append(line.removeprefix(package))
            elif line not in lines:
                lines.append(line)
        if lines:
            lines.append("")
        lines.append(package + ", ".join(sorted(set(ours))))  # classes first, as isort orders them
        return lines

    def _segment(self, node: ast.stmt) -> list[str]:
        assert self.cell is not None
        return self.cell.segment(node)

    def _node_lines(self, node: ast.stmt) -> list[str]:
        lines = self._segment(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in self._step_actions():
            register = f'@{self.names["action"]}({self.names["ACTIONS"]}, {_py(node.name)})'
            lines = [register, *lines]
        return lines

    def _step_actions(self) -> set[str]:
        return {s.action for s in self.steps if s.module.startswith(NOTEBOOK_MODULE_PREFIX)}

    def _definition(self) -> list[str]:
        functions = (ast.FunctionDef, ast.AsyncFunctionDef)
        decorated = {n.name for n in self.carried_nodes if isinstance(n, functions)}
        lines = [
            f'{self.names["action"]}({self.names["ACTIONS"]}, {_py(a)})({a})'
            for a in sorted(self._step_actions() - decorated)
        ]
        if lines:
            lines += ["", ""]
        lines += [f'{self.names["register_workflow"]}(', f"    {_py(self.name)},", "    ["]
        for s in self.steps:
            lines.append(f"        {self._step_call(s)},")
        lines += ["    ],", ")"]
        return lines

    def _step_call(self, s: WorkflowStep) -> str:
        data = s.to_dict()
        notebook = s.module.startswith(NOTEBOOK_MODULE_PREFIX)
        module = self.names["ACTIONS"] if notebook else _py(s.module)
        args = [f"name={_py(s.name)}", f"module={module}", f"action={_py(s.action)}"]
        args += [f"{k}={_py(v)}" for k, v in data.items() if k not in ("name", "module", "action")]
        return f'{self.names["WorkflowStep"]}({", ".join(args)})'
