"""``codomyrmex_jupyter.documentation_generator``: the original package's module of that name."""

from .api.documentation import DocumentationGenerator

__all__ = ["DocumentationGenerator"]
