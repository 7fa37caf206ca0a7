"""Would the next run hit? For each step, the answer and, on a miss, what changed.

The keys are computed as a run would compute them, in topological order,
without running anything: the code of each step's callable as registered now,
the parameters bound as the run would bind them, the keys of the dependencies.
An entry counts as a hit only when its signature holds (checked without
unpickling it). A miss is compared with the newest entry of the same step:
code (with a unified diff of the source), parameters (each one, from what to
what), dependencies, version, or no entry yet.

A step that depends on a step that is not cached cannot be answered before
the run: its key includes that step's result.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..provenance import load_sources
from .entries import STATUS_REASONS
from .fingerprint import code_identity
from .hashing import UnhashableValue
from .keys import (
    KeyParts,
    bound_parameters,
    changed_parameters,
    changed_upstream,
    hashed_parameters,
    miss_reason,
)

if TYPE_CHECKING:
    from ..actions import ActionRegistry
    from ..graph import Graph
    from .step_cache import StepCache

__all__ = ["StepExplanation", "code_diff", "explain_steps"]


@dataclass(frozen=True)
class StepExplanation:
    """The answer for one step.

    Attributes
    ----------
    step:
        The step's name.
    outcome:
        ``"hit"``, ``"miss: <reason>"``, ``"not cached"`` (the step does not
        use the cache) or ``"unknown: <why>"``.
    key:
        The key the next run would look up (``None`` when it cannot be known).
    parameters:
        ``(name, before, now)`` for each parameter that changed (reprs).
    upstream:
        Dependencies whose key changed.
    version:
        ``(before, now)`` when the step's ``version`` changed.
    code_diff:
        Unified diff of the source when the code changed.
    """

    step: str
    outcome: str
    key: str | None = None
    parameters: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    upstream: list[str] = field(default_factory=list)
    version: tuple[str | None, str | None] | None = None
    code_diff: str | None = None

    @property
    def hit(self) -> bool:
        """The next run would take this step's result from the cache."""
        return self.outcome == "hit"

    def lines(self) -> list[str]:
        """The explanation as text lines (outcome, then each change)."""
        out = [f"{self.step}: {self.outcome}"]
        details = [f"    parameter {n!r}: {b} -> {a}" for n, b, a in self.parameters]
        details += [f"    upstream {u!r} changed" for u in self.upstream]
        if self.version is not None:
            details.append(f"    version {self.version[0]!r} -> {self.version[1]!r}")
        if len(details) > 1 or (details and self.code_diff):  # one change is the outcome line
            out += details
        if self.code_diff:
            out += ["    " + line for line in self.code_diff.rstrip("\n").splitlines()]
        return out


def code_diff(before: str | None, after: str | None, name: str, labels: tuple[str, str]) -> str:
    """A unified diff of two sources (empty when equal or unknown)."""
    if before is None or after is None or before == after:
        return ""
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"{name} ({labels[0]})", tofile=f"{name} ({labels[1]})",
    ))


def explain_steps(
    cache: StepCache,
    *,
    workflow: str,
    steps: Sequence[Any],
    graph: Graph,
    registry: ActionRegistry,
    parameters: Mapping[str, Any] | None = None,
    use_cache: bool | None = None,
) -> list[StepExplanation]:
    """Explain every step of a workflow, in topological order.

    ``use_cache`` is the run option (``None``: what each step says).
    """
    explainer = _Explainer(cache, workflow, graph, registry, dict(parameters or {}))
    out: list[StepExplanation] = []
    for i in graph.order:
        step = steps[i]
        enabled = use_cache if use_cache is not None else bool(getattr(step, "cache", False))
        answer = explainer.explain(i, step, enabled)
        explainer.keys[step.name] = answer.key
        out.append(answer)
    return out


class _Explainer:
    """Keys computed so far, and how to explain the next step."""

    def __init__(
        self, cache: StepCache, workflow: str, graph: Graph, registry: ActionRegistry,
        parameters: dict[str, Any],
    ) -> None:
        self.cache, self.workflow, self.graph = cache, workflow, graph
        self.registry, self.parameters = registry, parameters
        self.keys: dict[str, str | None] = {}
        self._memo: dict[int, tuple[Any, tuple[str, str]]] = {}

    def _blocked(self, step: Any, i: int, enabled: bool) -> StepExplanation | None:
        if self.registry.find(step.module, step.action) is None:
            return StepExplanation(step.name, f"unknown: action {step.module}.{step.action} is not "
                                              "registered in this kernel")
        if not enabled:
            return StepExplanation(step.name, "not cached")
        for p in (self.graph.names[p] for p in self.graph.parents[i]):
            if self.keys.get(p) is None:
                return StepExplanation(step.name, f"unknown: depends on the result of {p!r}, which "
                                                  "is not cached (it decides when the run comes)")
        return None

    def explain(self, i: int, step: Any, enabled: bool) -> StepExplanation:
        blocked = self._blocked(step, i, enabled)
        if blocked is not None:
            return blocked
        spec = self.registry.find(step.module, step.action)
        assert spec is not None
        parents = [self.graph.names[p] for p in self.graph.parents[i]]
        try:
            values = bound_parameters(spec, step.parameters, set(parents), self.parameters)
            hashed = hashed_parameters(values, self._memo)
        except UnhashableValue as exc:
            return StepExplanation(step.name, f"miss: {exc}")
        ident = code_identity(spec.fn)
        parts = KeyParts(ident.fingerprint, hashed, {p: str(self.keys[p]) for p in parents},
                         getattr(step, "version", None))
        key = parts.key()
        status = self.cache.entries.check(key)
        if status != "absent":
            return StepExplanation(step.name, "hit" if status == "found" else STATUS_REASONS[status], key)
        return self._miss(step.name, key, parts, ident.source)

    def _miss(self, name: str, key: str, parts: KeyParts, source: str) -> StepExplanation:
        previous = self.cache.newest(self.workflow, name)
        reason = miss_reason(parts, previous)
        if previous is None:
            return StepExplanation(name, reason, key)
        old = load_sources(self.cache.store, [previous.code]).get(previous.code)
        return StepExplanation(
            name, reason, key,
            parameters=changed_parameters(parts, previous),
            upstream=changed_upstream(parts, previous),
            version=(previous.version, parts.version) if previous.version != parts.version else None,
            code_diff=(code_diff(old, source, name, ("cached", "now"))
                       if previous.code != parts.code else None),
        )
