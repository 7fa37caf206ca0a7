"""The cache key of a step and, on a miss, which part of it changed.

A key is a digest of four parts (:class:`KeyParts`):

``code``
    The fingerprint of the step's callable and its same-file helpers
    (:mod:`.fingerprint`).
``params``
    The bound parameters: each parameter the callable takes that is not fed
    by a dependency, with the value it gets (the step's own parameter, else
    the run parameter, else the default), so a default and the same value
    passed explicitly give the same key. Values are hashed by content
    (:mod:`.hashing`); a short repr is kept for messages.
``upstream``
    Per dependency, its own key, so a change upstream changes every key
    downstream without hashing large values. A dependency that is not
    cached in the run has no entry its key could stand for (it runs every
    time and may read a changed file), so its *result* is hashed instead.
``version``
    The step's ``version`` string, a manual way to force a new key.

The parts are stored with each entry, so a miss can say what changed against
the newest entry of the same step.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..actions import ActionSpec
from .hashing import DIGEST_SIZE, UnhashableValue, digest, short_repr

__all__ = [
    "KeyParts", "bound_parameters", "changed_parameters", "changed_upstream", "hashed_parameters",
    "miss_reason",
]

_EMPTY = inspect.Parameter.empty


@dataclass(frozen=True, slots=True)
class KeyParts:
    """What a step's cache key is made of (see the module docstring).

    ``params`` maps a name to ``(digest, short repr)``; ``upstream`` maps a
    dependency to its key (or ``"value:<digest>"`` of its result).
    """

    code: str
    params: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    upstream: Mapping[str, str] = field(default_factory=dict)
    version: str | None = None

    def key(self) -> str:
        """The cache key: 32 hex digits."""
        params, upstream = self.params, self.upstream
        text = "\0".join([
            self.code,
            *(f"p{name}={params[name][0]}" for name in sorted(params)),
            *(f"u{name}={upstream[name]}" for name in sorted(upstream)),
            *(() if self.version is None else (f"v{self.version}",)),
        ])
        return hashlib.blake2b(text.encode(), digest_size=DIGEST_SIZE).hexdigest()

    def to_json(self) -> str:
        """The parts as JSON (stored with the entry)."""
        return json.dumps(
            {"code": self.code, "params": {k: list(v) for k, v in self.params.items()},
             "upstream": dict(self.upstream), "version": self.version},
            separators=(",", ":"), sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> KeyParts:
        """Parts read back from :meth:`to_json`."""
        data = json.loads(text)
        return cls(
            code=data["code"],
            params={k: (v[0], v[1]) for k, v in data.get("params", {}).items()},
            upstream=dict(data.get("upstream", {})),
            version=data.get("version"),
        )


@lru_cache(maxsize=1024)
def _defaults(fn: Any) -> tuple[tuple[str, Any], ...]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return ()
    return tuple((p.name, p.default) for p in sig.parameters.values() if p.default is not _EMPTY)


def _default_values(spec: ActionSpec) -> dict[str, Any]:
    try:
        return dict(_defaults(spec.fn))
    except TypeError:  # an unhashable callable object: no memo
        return dict(_defaults.__wrapped__(spec.fn))


def bound_parameters(
    spec: ActionSpec,
    parameters: Mapping[str, Any],
    upstream: Collection[str],
    run_parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """The values a step's callable gets that do not come from its dependencies.

    Follows :func:`~..binding.bind_arguments`: the step's own parameter, else
    (unless a dependency or ``inputs`` fills it) the run parameter, else the
    default. A ``**kwargs`` callable also gets every run parameter.
    """
    defaults = _default_values(spec)
    out: dict[str, Any] = {}
    for name in spec.params:
        if name in parameters:
            out[name] = parameters[name]
        elif name in upstream or name == "inputs":
            continue
        elif name in run_parameters:
            out[name] = run_parameters[name]
        elif name in defaults:
            out[name] = defaults[name]
    if spec.var_kw:
        for source in (parameters, run_parameters):
            for name, value in source.items():
                if name not in upstream:
                    out.setdefault(name, value)
    return out


def hashed_parameters(
    values: Mapping[str, Any], memo: dict[int, tuple[Any, tuple[str, str]]] | None = None
) -> dict[str, tuple[str, str]]:
    """``name -> (digest, short repr)``; raises :class:`UnhashableValue` naming the parameter.

    ``memo`` (by ``id``, holding the value so the id stays its own) saves
    hashing the same run parameter for every step.
    """
    out: dict[str, tuple[str, str]] = {}
    for name, value in values.items():
        hit = memo.get(id(value)) if memo is not None else None
        if hit is not None and hit[0] is value:
            out[name] = hit[1]
            continue
        try:
            pair = (digest(value), short_repr(value))
        except UnhashableValue as exc:
            raise UnhashableValue(f"parameter {name!r} cannot be hashed: {exc}") from None
        if memo is not None:
            memo[id(value)] = (value, pair)
        out[name] = pair
    return out


def _parameter_change(current: KeyParts, previous: KeyParts) -> str | None:
    for name in sorted(set(current.params) | set(previous.params)):
        now, before = current.params.get(name), previous.params.get(name)
        if now is None and before is not None:
            return f"parameter {name!r} removed (was {before[1]})"
        if before is None and now is not None:
            return f"parameter {name!r} added ({now[1]})"
        if now is not None and before is not None and now[0] != before[0]:
            return f"parameter {name!r} {before[1]} -> {now[1]}"
    return None


def miss_reason(current: KeyParts, previous: KeyParts | None) -> str:
    """Why ``current`` has no entry, against the newest entry's parts (one line)."""
    if previous is None:
        return "miss: no entry"
    change = "code changed" if current.code != previous.code else _parameter_change(current, previous)
    if change is None:
        upstream = changed_upstream(current, previous)
        change = f"upstream {upstream[0]!r} changed" if upstream else None
    if change is None and current.version != previous.version:
        change = f"version {previous.version!r} -> {current.version!r}"
    return f"miss: {change or 'no entry'}"


def changed_parameters(current: KeyParts, previous: KeyParts) -> list[tuple[str, str | None, str | None]]:
    """Every parameter whose value differs: ``(name, before repr, now repr)``."""
    out = []
    for name in sorted(set(current.params) | set(previous.params)):
        now, before = current.params.get(name), previous.params.get(name)
        if (now and now[0]) != (before and before[0]):
            out.append((name, before[1] if before else None, now[1] if now else None))
    return out


def changed_upstream(current: KeyParts, previous: KeyParts) -> list[str]:
    """Every dependency whose key (or result) differs."""
    names = set(current.upstream) | set(previous.upstream)
    return sorted(n for n in names if current.upstream.get(n) != previous.upstream.get(n))
