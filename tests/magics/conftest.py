"""Fixtures for the magics: the shared test shell with the extension loaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


@pytest.fixture
def ip() -> Iterator[Any]:
    """IPython's global test shell with ``codomyrmex_jupyter`` loaded (and unloaded after)."""
    from IPython.testing.globalipapp import get_ipython

    from codomyrmex_jupyter import runtime

    shell = get_ipython()
    shell.run_line_magic("load_ext", "codomyrmex_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "codomyrmex_jupyter")
    for name in list(shell.user_ns):
        if name in {"load", "clean", "summarize", "slow", "params", "bad"}:
            del shell.user_ns[name]
    runtime.set_loop_mode("thread")  # a test that switched to nested mode must not leak it


@pytest.fixture
def usage_error(ip: Any) -> Callable[..., str]:
    """``usage_error(line, cell=None)``: run a magic that must fail with a one-line UsageError.

    With ``cell`` it runs ``%%workflow line``, else ``%orchestrate line``; it
    returns the message.
    """
    from IPython.core.error import UsageError

    def check(line: str, cell: str | None = None) -> str:
        with pytest.raises(UsageError) as info:
            if cell is not None:
                ip.run_cell_magic("workflow", line, cell)
            else:
                ip.run_line_magic("orchestrate", line)
        message = str(info.value)
        assert "\n" not in message, message
        return message

    return check
