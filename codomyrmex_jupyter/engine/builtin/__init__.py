"""Built-in step actions: environment checks, static analysis and charts.

Each module exposes ``register(registry)``, which the action registry calls the
first time it looks an action up, so nothing here is imported before a step
needs it. The modules are pure Python; the chart action imports matplotlib only
while it draws.
"""

from __future__ import annotations

__all__: list[str] = []
