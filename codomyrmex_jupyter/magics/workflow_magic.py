"""``%%workflow NAME [options]``: define a workflow from a cell, and the magics class.

Function mode runs the cell in the user's namespace (it is the user's own
code, in their own kernel), so the functions stay callable and testable, and
registers them as the steps' actions. Everything that can be checked is
checked first, from the cell's syntax tree, so a bad cell defines nothing.

Line numbers in error messages count the ``%%workflow`` line as line 1, as
the notebook editor does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class
from IPython.display import display

from ..errors import CodomyrmexError, WorkflowValidationError
from . import views
from .arguments import HELP_FLAGS, command, define_options, help_of, one_line, option, parse, run_options
from .cell_parsing import CellParseError, ParsedCell, parse_function_cell, parse_spec_cell
from .orchestrate_magic import check_run_options, orchestrate, overview, run_from_args

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager

__all__ = ["WorkflowMagics", "define_workflow"]

# the %%workflow line itself is line 1 of the cell
_LINE_OFFSET = 1


@command("%workflow")
@option("name", help="workflow name; defining it again makes a new version")
@define_options
@run_options
def _workflow_parser() -> None:
    """Define a workflow from the cell: plain functions (default) or a YAML/JSON spec."""


def _cell_error(name: str, exc: WorkflowValidationError, parsed: ParsedCell | None) -> UsageError:
    line = getattr(exc, "line", None)
    if line is None and parsed is not None:
        line = parsed.line_of(exc.step)
    where = f"line {line + _LINE_OFFSET}: " if line is not None else ""
    return UsageError(one_line(f"%%workflow {name}: {where}{exc}"))


def _parse_cell(shell: Any, name: str, cell: str, spec_mode: bool) -> ParsedCell:
    try:
        if spec_mode:
            return parse_spec_cell(cell)
        return parse_function_cell(shell.transform_cell(cell), name)
    except CellParseError as exc:
        raise _cell_error(name, exc, None) from None


def _check(manager: WorkflowManager, name: str, parsed: ParsedCell, spec_mode: bool) -> None:
    try:
        manager.validate(parsed.steps)
    except WorkflowValidationError as exc:
        raise _cell_error(name, exc, parsed) from None
    if not spec_mode:
        return
    for s in parsed.steps:
        if manager.registry.find(s.module, s.action) is None:
            err = manager.registry.unknown(s.module, s.action, step=s.name)
            line = parsed.line_of(s.name)
            where = f"line {line + _LINE_OFFSET}: " if line is not None else ""
            raise UsageError(one_line(f"%%workflow {name}: {where}step {s.name!r}: {err}"))


def _cell_number(shell: Any) -> int:
    """The number of the cell running now (``In[n]``).

    IPython counts the cell before running it, so while it runs
    ``execution_count`` is already the next cell's number.
    """
    return max(int(shell.execution_count) - 1, 1)


def _define_functions(shell: Any, cell: str, parsed: ParsedCell) -> dict[str, Callable[..., Any]]:
    """Run the cell in the user namespace and collect its step functions."""
    # One blank line first: the %%workflow line is line 1 of the cell in the
    # editor, so tracebacks name the lines the user sees.
    source = "\n" * _LINE_OFFSET + shell.transform_cell(cell)
    filename = shell.compile.cache(source, _cell_number(shell), raw_code=cell)
    exec(compile(source, filename, "exec"), shell.user_ns)  # noqa: S102  # the user's own cell
    callables: dict[str, Callable[..., Any]] = {}
    for s in parsed.steps:
        fn = shell.user_ns.get(s.name)
        if not callable(fn):
            raise UsageError(f"step {s.name!r} is not callable after running the cell; "
                             "do not rebind a step function's name in the cell")
        callables[s.name] = fn
    return callables


def define_workflow(
    shell: Any, manager: WorkflowManager, args: argparse.Namespace, cell: str
) -> Any:
    """Define (and optionally run) the workflow of a ``%%workflow`` cell.

    Returns the execution (or run handle) with ``--run``; otherwise displays
    the DAG (unless ``--quiet``) and returns ``None``.
    """
    name = args.name
    params = None
    if args.run:  # a bad run option must not leave a new definition behind
        params = check_run_options(shell, args)
    parsed = _parse_cell(shell, name, cell, args.yaml)
    if args.cache:
        for s in parsed.steps:
            s.cache = True
    _check(manager, name, parsed, args.yaml)
    callables = None if args.yaml else _define_functions(shell, cell, parsed)
    source = f"%%workflow {args.line}\n{cell}"
    if not manager.create_workflow(
        name, parsed.steps, save=not args.no_save, source=source, callables=callables
    ):
        raise UsageError(f"%%workflow {name}: the workflow could not be saved; see the log")
    if params is not None:
        return run_from_args(shell, manager, name, args, params=params)
    if not args.quiet:
        display(views.dag_view(name, manager.get_graph(name), parsed.steps))  # type: ignore[no-untyped-call]
    return None


@magics_class
class WorkflowMagics(Magics):
    """``%%workflow`` and ``%orchestrate``, bound to a workflow manager.

    Parameters
    ----------
    shell:
        The IPython shell.
    manager_factory:
        Returns the :class:`WorkflowManager` to use; called on each use so a
        reset of the singletons is picked up.
    """

    def __init__(self, shell: Any, manager_factory: Callable[[], WorkflowManager] | None = None) -> None:
        super().__init__(shell)
        if manager_factory is None:
            from ..api.accessors import get_workflow_manager

            manager_factory = get_workflow_manager
        self.manager_factory = manager_factory

    @line_cell_magic
    def workflow(self, line: str, cell: str | None = None) -> Any:
        """Define a workflow from the cell (replaced by the full help below)."""
        if cell is None:  # %workflow LINE: only the help makes sense without a cell
            if not HELP_FLAGS & set(line.split()) and line.strip():
                raise UsageError(
                    "%%workflow is a cell magic: put the steps in the cell below the "
                    "%%workflow line (%workflow --help shows how)"
                )
            print(help_of(_workflow_parser))
            return None
        args = parse(_workflow_parser, line)
        if args is None:
            return None
        args.line = line.strip()
        try:
            return define_workflow(self.shell, self.manager_factory(), args, cell)
        except CodomyrmexError as exc:
            raise UsageError(one_line(f"%%workflow {args.name}: {exc}")) from None

    @line_magic
    def orchestrate(self, line: str) -> Any:
        """Run and inspect workflows (replaced by the full help below)."""
        return orchestrate(self.shell, self.manager_factory, line)


# ``%%workflow?`` and ``%orchestrate?`` show these: complete, plain text, with examples.
WorkflowMagics.workflow.__doc__ = help_of(_workflow_parser)
WorkflowMagics.orchestrate.__doc__ = overview()
