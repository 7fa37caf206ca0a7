"""The ``codomyrmex-jupyter`` command line (also ``python -m codomyrmex_jupyter``).

:func:`main` runs it and returns the exit code; see :mod:`.app` for the
commands and what each exit code means.
"""

from __future__ import annotations

from .app import main

__all__ = ["main", "run"]


def run() -> None:
    """Console-script entry point: exit with :func:`main`'s code."""
    import sys

    sys.exit(main())
