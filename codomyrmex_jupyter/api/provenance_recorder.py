"""A run listener that writes each run's record (``engine/provenance.py``) when it ends."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..engine.events import BaseListener
from ..engine.provenance import build_record, save_record
from ..engine.store import Store
from ..errors import StoreError

if TYPE_CHECKING:
    from ..engine.cache.step_cache import RunCache
    from ..engine.runner import Run

__all__ = ["ProvenanceRecorder"]

log = logging.getLogger(__name__)


class ProvenanceRecorder(BaseListener):
    """Writes the record of a run at its end.

    Parameters
    ----------
    store:
        Where to write it.
    run_cache:
        The run's cache side, whose keys and outcomes go in the record.
    options:
        Run options to keep (``cache``, ``force``, ``rerun_of``, ``from_failed``).
    definition:
        Step definitions, for a workflow that has no saved version.
    """

    def __init__(
        self,
        store: Store,
        *,
        run_cache: RunCache | None = None,
        options: Mapping[str, Any] | None = None,
        definition: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        self.store = store
        self.run_cache = run_cache
        self.options = dict(options or {})
        self.definition = definition
        self.record: dict[str, Any] | None = None

    def run_finished(self, run: Run) -> None:
        """Build the record and write it (a store failure is logged, the run is kept)."""
        outcomes = self.run_cache.outcomes(run) if self.run_cache is not None else None
        try:
            record, sources = build_record(
                run, cache=outcomes, options=self.options, definition=self.definition
            )
        except Exception:  # a record must never break the run it describes
            log.exception("run %s: its record could not be built", run.run_id[:8])
            return
        self.record = record
        try:
            save_record(self.store, run.run_id, record, sources)
        except StoreError as exc:
            log.error("run %s: its record could not be stored: %s", run.run_id[:8], exc)
