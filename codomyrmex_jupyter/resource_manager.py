"""``codomyrmex_jupyter.resource_manager``: what the original package's module of that name exported."""

from .api.accessors import get_resource_manager
from .api.resources import (
    Resource,
    ResourceAllocation,
    ResourceManager,
    ResourceStatus,
    ResourceType,
    ResourceUsage,
)

__all__ = [
    "Resource",
    "ResourceAllocation",
    "ResourceManager",
    "ResourceStatus",
    "ResourceType",
    "ResourceUsage",
    "get_resource_manager",
]
