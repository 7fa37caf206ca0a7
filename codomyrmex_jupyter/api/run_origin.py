"""Where this process's runs come from: the notebook and kernel, inside Jupyter.

A kernel started by a Jupyter server has the notebook's path in
``$JPY_SESSION_NAME`` (set by the server when it starts the kernel for a
session) and its kernel id in its connection file's name (``-f
.../kernel-<id>.json`` on its command line). Outside Jupyter both are
``None``. The notebook is the one the kernel was started for: a notebook
renamed later keeps its old name in runs recorded by that kernel.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Mapping, Sequence

__all__ = ["kernel_id_from_argv", "process_origin"]

_CONNECTION_FILE = re.compile(r"kernel-([0-9A-Za-z][0-9A-Za-z_-]*)\.json$")


def kernel_id_from_argv(argv: Sequence[str]) -> str | None:
    """The kernel id in an ipykernel command line (``-f .../kernel-<id>.json``), or ``None``."""
    for i, arg in enumerate(argv):
        path = None
        if arg in ("-f", "--f") and i + 1 < len(argv):
            path = argv[i + 1]
        elif arg.startswith(("-f=", "--f=")):
            path = arg.split("=", 1)[1]
        if path:
            match = _CONNECTION_FILE.search(os.path.basename(path))
            if match:
                return match.group(1)
    return None


def _origin(environ: Mapping[str, str], argv: Sequence[str]) -> dict[str, str | None]:
    return {"notebook": environ.get("JPY_SESSION_NAME") or None, "kernel": kernel_id_from_argv(argv)}


@functools.cache
def process_origin() -> dict[str, str | None]:
    """``{"notebook": path or None, "kernel": id or None}`` of this process (computed once)."""
    return _origin(os.environ, sys.argv)
