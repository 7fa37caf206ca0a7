"""``history_limit``: keep only the newest runs of each workflow, pruned after every run.

The default is to keep every run. With a limit of ``N``, the run listener
below removes the runs of that workflow beyond its newest ``N`` (and their
step rows) as soon as a run has been recorded. The freed pages stay inside
the database file and are reused by the next runs, so the file stops growing;
``codomyrmex-jupyter prune``/``gc`` also gives the space back to the file
system.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..engine.events import BaseListener
from ..engine.retention import prune_runs
from ..engine.validation import check_count
from ..errors import StoreError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..engine.cache.step_cache import StepCache
    from ..engine.runner import Run
    from ..engine.store import Store

__all__ = ["HistoryLimit", "check_history_limit"]

log = logging.getLogger(__name__)


def check_history_limit(value: object) -> int | None:
    """``value`` if it is ``None`` (keep every run) or an int >= 1.

    Raises
    ------
    ArgumentError, ArgumentTypeError
        Below 1 (a ``ValueError``), or not a whole number (a ``TypeError``).
    """
    return None if value is None else check_count(value, "history_limit", minimum=1)


class HistoryLimit(BaseListener):
    """After a run is recorded, prune its workflow's runs beyond the newest ``keep``.

    Attach it after the run recorder, so the run that just ended counts.
    The step-cache entries only the pruned runs used go with them (``cache``
gives the cache). A store error is logged; it never breaks the run.
    """

    def __init__(self, store: Store, keep: int, cache: Callable[[], StepCache] | None = None) -> None:
        self.store = store
        self.keep = keep
        self.cache = cache

    def run_finished(self, run: Run) -> None:
        """Prune ``run.workflow`` (without ``VACUUM``: that rewrites the file)."""
        try:
            report = prune_runs(
                self.store, keep=self.keep, workflow=run.workflow, vacuum=False, cache=self.cache
            )
        except StoreError as exc:
            log.error("could not apply history_limit=%s to %r: %s", self.keep, run.workflow, exc)
            return
        if report.runs:
            log.debug("history_limit: removed %d old run(s) of %r", report.runs, run.workflow)
