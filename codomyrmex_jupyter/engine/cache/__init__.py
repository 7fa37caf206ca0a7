"""The step result cache: keys, fingerprints, signed entries, the index, explanations.

``hashing`` hashes values by content, ``fingerprint`` hashes code, ``keys``
makes a step's key and says why it missed, ``entries`` signs and stores
results, ``index`` keeps the store's rows, ``step_cache`` ties them together
for runs, ``explain`` answers "would the next run hit?". See docs/cache.md.
Names load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DEFAULT_MAX_BYTES": "step_cache",
    "CacheUsage": "step_cache",
    "RunCache": "step_cache",
    "StepCache": "step_cache",
    "CodeIdentity": "fingerprint",
    "code_identity": "fingerprint",
    "KeyParts": "keys",
    "UnhashableValue": "hashing",
    "digest": "hashing",
    "StepExplanation": "explain",
    "explain_steps": "explain",
}

__all__ = [
    "DEFAULT_MAX_BYTES",
    "CacheUsage",
    "CodeIdentity",
    "KeyParts",
    "RunCache",
    "StepCache",
    "StepExplanation",
    "UnhashableValue",
    "code_identity",
    "digest",
    "explain_steps",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .explain import StepExplanation, explain_steps
    from .fingerprint import CodeIdentity, code_identity
    from .hashing import UnhashableValue, digest
    from .keys import KeyParts
    from .step_cache import DEFAULT_MAX_BYTES, CacheUsage, RunCache, StepCache
