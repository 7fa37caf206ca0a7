"""Front-ends that show the engine's state: MIME bundles and the JupyterLab status comm."""

from __future__ import annotations

__all__: list[str] = []
