"""Shared ``magic_arguments`` option bundles and a parser front-end with one-line errors.

Each bundle is a decorator that adds a group of options to a magic (or to a
subcommand parser), so ``%%workflow --run`` and ``%orchestrate run`` accept
exactly the same run options.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument
from IPython.utils.process import arg_split

__all__ = ["define_options", "one_line", "parse", "run_options", "usage_line"]

F = TypeVar("F", bound=Callable[..., Any])
HELP_FLAGS = frozenset({"-h", "--help"})


def _apply(func: F, decorators: list[Callable[[F], F]]) -> F:
    # argument decorators are collected in reverse, like stacked @argument lines
    for deco in reversed(decorators):
        func = deco(func)
    return func


def run_options(func: F) -> F:
    """Add the run options: ``-p``, ``--params``, ``--timeout``, ``--background``, ``--executor``."""
    return _apply(
        func,
        [
            argument(
                "-p", "--param", action="append", default=[], metavar="KEY=VALUE",
                help="a run parameter; the value is a Python literal or else a string "
                "(repeatable; wins over --params)",
            ),
            argument(
                "--params", metavar="VAR", default=None,
                help="name of a notebook variable holding a dict of run parameters",
            ),
            argument("--timeout", type=float, default=None, metavar="S",
                     help="seconds for the whole run"),
            argument("--background", action="store_true",
                     help="return a run handle at once; the run goes on in the background"),
            argument("--executor", default=None, metavar="local|dask://HOST:PORT",
                     help="where steps run (default: this kernel)"),
        ],
    )


def define_options(func: F) -> F:
    """Add the ``%%workflow`` definition options: ``--yaml``, ``--no-save``, ``--quiet``, ``--run``."""
    return _apply(
        func,
        [
            argument("--yaml", action="store_true",
                     help="the cell is a YAML/JSON list of module/action steps"),
            argument("--no-save", action="store_true",
                     help="keep the definition in this kernel only"),
            argument("--quiet", action="store_true", help="do not display the DAG"),
            argument("--run", action="store_true",
                     help="run the workflow right away with the run options"),
        ],
    )


def one_line(text: str) -> str:
    """Collapse whitespace (argparse wraps usage over several lines)."""
    return " ".join(text.split())


def usage_line(parser: argparse.ArgumentParser) -> str:
    """``usage: %magic [options]`` on one line (without IPython's ``::`` markup)."""
    return "usage: " + one_line(parser.format_usage()).removeprefix("::").strip()


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
        print(parser.format_help())
        return None
    try:
        return parser.parse_args(argv)
    except UsageError as exc:
        raise UsageError(f"{one_line(str(exc))}; {usage_line(parser)}") from None
