"""What ``WorkflowManager.explain`` returns: per step, would the next run hit, and why not."""

from __future__ import annotations

from dataclasses import dataclass

from ..engine.cache.explain import StepExplanation

__all__ = ["CacheExplanation"]


@dataclass
class CacheExplanation:
    """The explanation of every step (or one) of a workflow, in run order."""

    workflow: str
    steps: list[StepExplanation]

    def __getitem__(self, step: str) -> StepExplanation:
        for s in self.steps:
            if s.step == step:
                return s
        raise KeyError(step)

    @property
    def hits(self) -> list[str]:
        """Steps the next run would take from the cache."""
        return [s.step for s in self.steps if s.hit]

    @property
    def misses(self) -> list[str]:
        """Cached steps the next run would compute."""
        return [s.step for s in self.steps if s.outcome.startswith("miss")]

    def text(self) -> str:
        """Plain text: a summary line, then each step and its changes."""
        head = (f"{self.workflow}: next run would take {len(self.hits)} step(s) from the cache, "
                f"compute {len(self.steps) - len(self.hits)}")
        return "\n".join([head, *("  " + line for s in self.steps for line in s.lines())])

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from ..display.run_reports import explanation_html

        return explanation_html(self)
