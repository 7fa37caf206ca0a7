"""``run NAME``: run a stored workflow from the terminal, with live progress.

The steps must resolve in this process: registered actions (the built-ins,
entry-point packs) or a module given with ``--import`` (one written by
``%orchestrate export`` registers both its steps and its definition). A
workflow of notebook functions that was not exported fails with one line
saying how to export it.

The run goes on the engine's loop thread; the main thread draws the progress
and is the one Ctrl-C (SIGINT) or SIGTERM interrupts: the run is then
cancelled, recorded ``cancelled`` and the command exits 130 (143 for SIGTERM).
Exit 0 when the run completed, 1 when it failed.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, ModuleType
from typing import TYPE_CHECKING, Any

import click

from ..engine.actions import NOTEBOOK_MODULE_PREFIX
from ..errors import CodomyrmexError
from ..params import ParameterError, parse_params
from .common import CliError, echo_json, state, stdout_is_terminal
from .terminal_progress import LiveDisplay, PlainDisplay, StepEvents

if TYPE_CHECKING:
    from ..api.run_handle import RunHandle
    from ..api.workflow_manager import WorkflowManager

__all__ = ["import_module_option", "run"]

EXIT_FOR_STATUS = {"completed": 0, "failed": 1, "cancelled": 130}
_SETTLE = 30.0  # seconds to wait for a cancelled run to record itself


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C (cancel and record the run)."""


@click.command()
@click.argument("name")
@click.option("-p", "--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A run parameter: a Python literal if it parses as one, else a string. Repeatable.")
@click.option("--import", "imports", multiple=True, metavar="MODULE",
              help="Import MODULE first (a dotted name, found from the current directory too, or a "
                   ".py file): an exported workflow registers itself this way. Repeatable.")
@click.option("--executor", default=None, metavar="dask://HOST:PORT|dask-local",
              help="Run the steps on a Dask scheduler, or on a LocalCluster started for this run "
                   "(default: this process).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="S",
              help="Seconds for the whole run.")
@click.option("--json", "as_json", is_flag=True,
              help="No progress display: print the finished run as JSON.")
@click.pass_context
def run(
    ctx: click.Context,
    *,
    name: str,
    params: Sequence[str],
    imports: Sequence[str],
    executor: str | None,
    timeout: float | None,
    as_json: bool,
) -> int:
    """Run workflow NAME and wait for it (exit 0 completed, 1 failed, 130 interrupted)."""
    from ..magics import commands  # the executor checks the magics use (no IPython in there)

    try:
        values = parse_params(params)
        commands.check_executor(executor)
    except (ParameterError, commands.CommandError) as exc:
        raise CliError(str(exc)) from None
    for spec in imports:
        import_module_option(spec)
    manager = state(ctx).manager(create=True)
    check_runnable(manager, name, values)
    try:
        made = commands.make_executor(executor)
        options: dict[str, Any] = {} if made is None else {"executor": made}
        return _run(manager, name, values, timeout, options=options, as_json=as_json)
    finally:
        commands.close_executors()


def _run(
    manager: WorkflowManager,
    name: str,
    values: dict[str, Any],
    timeout: float | None,
    *,
    options: dict[str, Any],
    as_json: bool,
) -> int:
    events = StepEvents()
    out = sys.stdout
    display: LiveDisplay | PlainDisplay | None = None
    if not as_json:
        display = LiveDisplay(out) if stdout_is_terminal() else PlainDisplay(out)
    with _sigterm_interrupts():
        handle = manager.start_workflow(name, values, timeout, listeners=[events], **options)
        interrupted = _follow(handle, events, display)
    execution = manager.get_execution(handle.run_id)
    if execution is None or events.run is None:
        raise CliError(f"run of {name!r} was interrupted before it started", exit_code=130)
    run = events.run
    if display is not None:
        display.finish(run)
    if as_json:
        from .read_commands import run_document

        row = manager.store.get_run(run.run_id)
        echo_json(run_document(row) if row is not None else {"run_id": run.run_id, "status": run.status})
    if interrupted is not None and run.status == "cancelled":
        click.echo(f"run {run.run_id[:8]} of {name!r} was cancelled and recorded as cancelled", err=True)
        return 143 if isinstance(interrupted, Terminated) else 130
    return EXIT_FOR_STATUS.get(run.status, 1)


def _follow(
    handle: RunHandle, events: StepEvents, display: LiveDisplay | PlainDisplay | None
) -> KeyboardInterrupt | None:
    """Draw until the run ends; on an interrupt cancel it and wait for it to be recorded."""
    interval = 0.1 if isinstance(display, LiveDisplay) else 0.25
    started = False
    try:
        while True:
            run = events.run
            if run is not None and display is not None:
                if not started:
                    display.start(run)
                    started = True
                display.update(run, events.drain())
            if handle.done():
                _settled(handle)
                return None
            _wait(handle, interval)
    except KeyboardInterrupt as exc:
        handle.cancel()
        _wait(handle, _SETTLE)
        if events.run is not None and display is not None:
            display.update(events.run, events.drain())
        return exc
    finally:
        if isinstance(display, LiveDisplay) and started:
            display.close()


def _wait(handle: RunHandle, seconds: float) -> None:
    try:
        handle.result(seconds)
    except (TimeoutError, concurrent.futures.TimeoutError, concurrent.futures.CancelledError):
        pass
    except CodomyrmexError:
        pass  # raised again by _settled, where it is reported


def _settled(handle: RunHandle) -> None:
    """Re-raise a failure to start the run (bad executor, store error) for the error handler."""
    with contextlib.suppress(concurrent.futures.CancelledError):
        handle.result(0)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    def terminate(signum: int, frame: FrameType | None) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, terminate)
    except ValueError:  # not the main thread (called from a test or an embedding)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- what must be true before a run starts ---------------------------------------------------
def import_module_option(spec: str) -> ModuleType:
    """Import ``--import`` ``spec``: a dotted module name or a path to a ``.py`` file.

    The current directory (or the file's directory) goes first on ``sys.path``,
    as ``python -m`` does, so a module exported next to you is found.
    """
    if spec.endswith(".py") or os.sep in spec:
        path = Path(spec).expanduser().resolve()
        if not path.is_file():
            raise CliError(f"--import {spec}: no such file")
        modname, folder = path.stem, str(path.parent)
    else:
        modname, folder = spec, os.getcwd()
    if not all(part.isidentifier() for part in modname.split(".")):
        raise CliError(f"--import {spec}: {modname!r} is not a Python module name")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name is not None and modname.startswith(exc.name):
            raise CliError(
                f"--import {spec}: no module named {exc.name!r} in {folder} or the installed packages"
            ) from None
        raise CliError(f"--import {spec}: importing it failed: {exc}; install what it needs") from None
    except Exception as exc:  # noqa: BLE001 - the user's module is at fault: one line, not a traceback
        raise CliError(
            f"--import {spec}: importing it failed: {_where(exc)}{type(exc).__name__}: {exc}"
        ) from None


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name} line {frames[-1].lineno}: " if frames else ""


def _module_name(workflow: str) -> str:
    text = "".join(c if c.isalnum() or c == "_" else "_" for c in workflow)
    return f"{text}_flow" if text and not text[0].isdigit() else f"flow_{text}"


def check_runnable(manager: WorkflowManager, name: str, params: dict[str, Any] | None = None) -> None:
    """Raise a one-line error unless every step of ``name`` resolves here and takes the parameters."""
    from ..api.run_parameters import unresolved_steps

    missing = unresolved_steps(manager, name, params)
    if not missing:
        return
    if any(s.module.startswith(NOTEBOOK_MODULE_PREFIX) for s in missing):
        module = _module_name(name)
        raise CliError(
            f"workflow {name!r} was defined in a notebook cell and its steps exist only in that "
            f"kernel: export it first (in the notebook: %orchestrate export {name} {module}.py), "
            f"then run it with --import {module}.py"
        )
    first = missing[0]
    err = manager.registry.unknown(first.module, first.action, step=first.name)
    hint = f"; did you mean {', '.join(err.close_matches)}?" if err.close_matches else ""
    raise CliError(
        f"step {first.name!r} calls {first.module}.{first.action}, which nothing in this process "
        f"registers{hint}; pass --import with the module that registers it (e.g. --import {first.module})"
    )

