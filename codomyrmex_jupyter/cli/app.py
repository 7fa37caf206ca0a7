"""``codomyrmex-jupyter``: the command line over the store the kernels use.

Built on click: subcommands with their own options and ``--help``, typed
options whose errors name the bad value. This module holds the group, the
global ``--home`` option and the one place where errors become exit codes:

===  ==============================================================
0    done (``run``: the run completed)
1    ``run``: the run failed; other commands: the store cannot be used,
     or ``doctor`` found a problem
2    a usage error or an unknown name (workflow, run id, module): one
     line on stderr, no traceback
130  interrupted (Ctrl-C); a run is cancelled and recorded cancelled
===  ==============================================================

Read commands (``list``, ``show``, ``history``, ``dag``) import neither
ipywidgets, matplotlib nor networkx, so they start in a fraction of a second.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

import click

from .. import __version__
from ..errors import CodomyrmexError, NotStorableError, StoreError, UnknownWorkflowError
from .common import PROG, CliError, State

__all__ = ["cli", "main"]


# command name -> module defining it; a module is imported only when its command
# runs (or for --help), so `list` does not pay for `run` or `doctor`.
_COMMANDS = {
    "list": "read_commands", "show": "read_commands", "history": "read_commands",
    "dag": "read_commands", "diff": "read_commands", "run": "run_command", "prune": "upkeep_commands",
    "gc": "upkeep_commands", "doctor": "doctor",
}
_ATTRIBUTES = {"list": "list_workflows"}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return None
        loaded = importlib.import_module(f"{__package__}.{module}")
        command = getattr(loaded, _ATTRIBUTES.get(cmd_name, cmd_name))
        assert isinstance(command, click.Command)
        return command


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=str),
    default=None,
    metavar="DIR",
    help="Store directory (default: as a kernel here finds it: $CODOMYRMEX_HOME, else the nearest "
    ".codomyrmex/ folder, else ~/.codomyrmex).",
)
@click.version_option(__version__, "-V", "--version", prog_name=PROG)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """Run and inspect codomyrmex_jupyter workflows outside the notebook.

    Every command reads and writes the same SQLite store as the kernels, so a
    run started here shows in a notebook's `%orchestrate history`.
    """
    ctx.obj = State(home)


def _complain(where: str, message: str) -> None:
    text = " ".join(str(message).split())
    click.echo(f"{where}: {text}", err=True)


def _where(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    return ctx.command_path if ctx is not None else PROG


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0911 - one exit code per kind of error
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name=PROG,
                          standalone_mode=False)
    except click.UsageError as exc:
        _complain(_where(exc), f"{exc.format_message()} (see --help)")
        return 2
    except click.ClickException as exc:
        _complain(_where(exc), exc.format_message())
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    except CliError as exc:
        _complain(exc.where or PROG, str(exc))
        return exc.exit_code
    except UnknownWorkflowError as exc:
        _complain(PROG, str(exc))
        return 2
    except CodomyrmexError as exc:
        # a store that cannot be used is the environment (exit 1); the rest is bad input (exit 2)
        _complain(PROG, str(exc))
        return 1 if isinstance(exc, StoreError) and not isinstance(exc, NotStorableError) else 2
    except BrokenPipeError:
        # the reader went away (``| head``): nothing more to say to it
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout until exit
        return 0
    return int(result) if isinstance(result, int) else 0
