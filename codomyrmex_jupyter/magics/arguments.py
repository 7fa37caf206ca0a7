"""Shared ``magic_arguments`` option bundles and a parser front-end with one-line errors.

Each bundle is a decorator that adds a group of options to a magic (or to a
subcommand parser), so ``%%workflow --run`` and ``%orchestrate run`` accept
exactly the same run options.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar, cast

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.utils.process import arg_split  # type: ignore[attr-defined]

__all__ = [
    "cache_options", "command", "define_options", "help_of", "one_line", "option", "parse", "run_options",
    "usage_line", "usage_text",
]

F = TypeVar("F", bound=Callable[..., Any])
HELP_FLAGS = frozenset({"-h", "--help"})


def command(name: str) -> Callable[[F], F]:
    """``@magic_arguments(name)``, typed: builds the parser from the options below it."""
    return cast("Callable[[F], F]", magic_arguments(name))  # type: ignore[no-untyped-call]


def option(*names: str, **kwargs: Any) -> Callable[[F], F]:
    """``@argument(...)``, typed: one argparse option of a magic."""
    return cast("Callable[[F], F]", argument(*names, **kwargs))  # type: ignore[no-untyped-call]


def _apply(func: F, decorators: list[Callable[[F], F]]) -> F:
    # argument decorators are collected in reverse, like stacked @argument lines
    for deco in reversed(decorators):
        func = deco(func)
    return func


def run_options(func: F) -> F:
    """Add the run options: ``-p``, ``--params``, ``--timeout``, ``--background``, ``--executor``,
    ``--fetch``."""
    return _apply(
        func,
        [
            option("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                help="a run parameter; the value is a Python literal or else a string "
                "(repeatable; wins over --params)",
            ),
            option("--params", metavar="VAR", default=None,
                help="name of a notebook variable holding a dict of run parameters",
            ),
            option("--timeout", type=float, default=None, metavar="S",
                     help="seconds for the whole run"),
            option("--background", action="store_true",
                     help="return a run handle at once; the run goes on in the background"),
            option("--executor", default=None, metavar="local|dask-local|dask://HOST:PORT",
                     help="where steps run (default: this kernel; dask-local starts a "
                     "LocalCluster for this kernel on first use)"),
            option("--fetch", default="leaves", choices=["leaves", "all", "none"],
                     help="on Dask, the results brought back when the run ends (default: "
                     "leaves); the others stay on the cluster until read"),
        ],
    )


def cache_options(func: F) -> F:
    """Add the run's cache options: ``--cache``, ``--no-cache``, ``--force``."""
    return _apply(
        func,
        [
            option("--cache", dest="run_cache", action="store_const", const=True, default=None,
                   help="use the step cache for every step (default: as each step says)"),
            option("--no-cache", dest="run_cache", action="store_const", const=False,
                   help="use the step cache for no step"),
            option("--force", action="store_true",
                   help="compute the cached steps anyway and refresh their entries"),
        ],
    )


def define_options(func: F) -> F:
    """Add the ``%%workflow`` definition options: ``--yaml``, ``--no-save``, ``--quiet``,
    ``--cache``, ``--run``."""
    return _apply(
        func,
        [
            option("--yaml", action="store_true",
                     help="the cell is a YAML/JSON list of module/action steps"),
            option("--no-save", action="store_true",
                     help="keep the definition in this kernel only"),
            option("--quiet", action="store_true", help="do not display the DAG"),
            option("--cache", action="store_true",
                   help="every step of the cell uses the step cache (as @step(cache=True))"),
            option("--run", action="store_true",
                     help="run the workflow right away with the run options"),
        ],
    )


def one_line(text: str) -> str:
    """Collapse whitespace (argparse wraps usage over several lines)."""
    return " ".join(text.split())


def usage_text(parser: argparse.ArgumentParser) -> str:
    """``%magic [options]`` on one line (without IPython's ``::`` markup or ``usage:``)."""
    text = one_line(parser.format_usage()).removeprefix("::").strip()
    return text.removeprefix("usage:").strip()


def usage_line(parser: argparse.ArgumentParser) -> str:
    """``usage: %magic [options]`` on one line (without IPython's ``::`` markup)."""
    return "usage: " + usage_text(parser)


def help_of(func: Callable[..., Any]) -> str:
    """The complete plain-text help of a command built with :func:`command`."""
    from .help import WORKFLOW_GUIDE, plain_help

    parser: argparse.ArgumentParser = func.parser  # type: ignore[attr-defined]
    key = parser.prog.lstrip("%")
    return plain_help(parser, key, WORKFLOW_GUIDE if key == "workflow" else "")


def parse(func: Callable[..., Any], line: str) -> argparse.Namespace | None:
    """Parse ``line`` with ``func``'s magic_arguments parser.

    ``-h``/``--help`` prints the help and returns ``None``. A mistake raises a
    one-line :class:`UsageError` that ends with the usage (the valid options).
    """
    parser: argparse.ArgumentParser = func.parser  # type: ignore[attr-defined]
    try:
        argv = arg_split(line, posix=True, strict=True)
    except ValueError as exc:
        raise UsageError(f"{exc} in {line!r}; check the quotes") from None
    if HELP_FLAGS & set(argv):
        print(help_of(func))
        return None
    try:
        return parser.parse_args(argv)
    except UsageError as exc:
        raise UsageError(f"{one_line(str(exc))}; {usage_line(parser)}") from None
