"""Python scripts for ``python -c`` that refuse to import some packages.

A test runs the script in a fresh interpreter, so what it imports is exactly
what the code under test imports (the test process has everything loaded).
"""

from __future__ import annotations

import textwrap

__all__ = ["blocking_script"]

_PRELUDE = """\
import sys
BLOCKED = {blocked!r}

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked import of {{name}}")
        return None

sys.meta_path.insert(0, Block())
"""


def blocking_script(blocked: tuple[str, ...], body: str) -> str:
    """``body`` (dedented) run after an import hook that raises ImportError for ``blocked``.

    ``BLOCKED`` (the tuple) and ``sys`` are defined for the body.
    """
    return _PRELUDE.format(blocked=tuple(blocked)) + textwrap.dedent(body)
