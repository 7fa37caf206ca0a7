"""What every command shares: the store location, errors with exit codes, JSON output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..engine.home import ConfigLocation, locate_config_dir
from ..engine.store import DB_FILENAME, Store

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager

__all__ = ["PROG", "CliError", "State", "echo_json", "iso", "state", "stdout_is_terminal"]

PROG = "codomyrmex-jupyter"


class CliError(Exception):
    """A user error: one line on stderr and an exit code (no traceback).

    Parameters
    ----------
    message:
        What is wrong, naming the bad value, and what to do.
    exit_code:
        2 for usage errors and unknown names, 1 for the rest.
    where:
        The command it concerns (``codomyrmex-jupyter run``).
    """

    def __init__(self, message: str, exit_code: int = 2, where: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.where = where


@dataclass
class State:
    """Options of the group, and the store/manager opened from them (once)."""

    home_option: str | None = None
    _store: Store | None = None
    _manager: WorkflowManager | None = None

    @cached_property
    def location(self) -> ConfigLocation:
        """Where the store is and why: ``--home``, else what a kernel here would use
        (``$CODOMYRMEX_HOME``, the nearest ``.codomyrmex/``, ``~/.codomyrmex``).

        Looked up once per command line (it walks the directories up)."""
        location = locate_config_dir(self.home_option)
        if self.home_option is not None:
            return ConfigLocation(location.path, location.source, "given with --home")
        return location

    @property
    def home(self) -> Path:
        """The store's directory (see :attr:`location`)."""
        return self.location.path

    @property
    def database(self) -> Path:
        """The database file under :attr:`home`."""
        return self.home / DB_FILENAME

    def store(self, *, create: bool = False) -> Store:
        """The store; without ``create`` a missing database is an error (exit 2)."""
        if self._store is None:
            if not create and not self.database.exists():
                raise CliError(
                    f"no codomyrmex store at {self.database}; run a workflow first, or point "
                    "--home DIR (or $CODOMYRMEX_HOME) at the directory that holds it"
                )
            self._store = Store(self.home)
        return self._store

    def manager(self, *, create: bool = False) -> WorkflowManager:
        """A :class:`WorkflowManager` on :meth:`store`."""
        if self._manager is None:
            from ..api.workflow_manager import WorkflowManager

            self._manager = WorkflowManager(config_dir=self.home, store=self.store(create=create))
        return self._manager


def state(ctx: click.Context) -> State:
    """The :class:`State` of the running command line."""
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def iso(ts: float | None) -> str | None:
    """An epoch time as ISO 8601 in UTC (``None`` stays)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="milliseconds")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    enum_value = getattr(value, "value", None)
    if enum_value is not None:
        return enum_value
    return repr(value)


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    click.echo(json.dumps(value, indent=2, default=_json_default, ensure_ascii=False))


def stdout_is_terminal() -> bool:
    """stdout is an interactive terminal (not a pipe or a file)."""
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
