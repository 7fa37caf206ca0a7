"""``python -m codomyrmex_jupyter``: the same command line as ``codomyrmex-jupyter``."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
