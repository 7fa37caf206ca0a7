"""IPython magics: ``%%workflow`` defines workflows, ``%orchestrate`` runs and inspects them.

Load them with ``%load_ext codomyrmex_jupyter``. :mod:`.cell_parsing` (cell text
to steps) and :mod:`.commands` (one plain function per ``%orchestrate``
subcommand) work without IPython; the magic classes only parse arguments,
call them, and display the result.
"""

from __future__ import annotations

__all__: list[str] = []
