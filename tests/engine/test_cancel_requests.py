"""Cancel requests in the store: recorded only for running runs, read back in one query, cleared."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from codomyrmex_jupyter.engine.cancel_requests import (
    CancelRefused,
    clear_cancel_request,
    pending_cancel_requests,
    request_cancel,
)
from codomyrmex_jupyter.engine.store import Store


def test_request_read_clear(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start_run("run-1", "w", version=1, start=time.time(), parameters={}, notebook="/n.ipynb", kernel="k1")
    store.start_run("run-2", "w", version=1, start=time.time(), parameters={})
    request = request_cancel(store, "run-1", by="the panel")
    assert request["run_id"] == "run-1" and request["by"] == "the panel"
    assert (request["notebook"], request["kernel"], request["pid"]) == ("/n.ipynb", "k1", store.get_run("run-1")["pid"])
    # A second connection (another process) sees it.
    other = Store(tmp_path)
    assert set(pending_cancel_requests(other, ["run-1", "run-2", "nope"])) == {"run-1"}
    assert pending_cancel_requests(other, []) == {}
    assert clear_cancel_request(other, "run-1")
    assert pending_cancel_requests(store, ["run-1"]) == {}
    assert not clear_cancel_request(store, "run-1")
    other.close()
    store.close()


def test_refused_for_unknown_or_finished_runs(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start_run("done-run", "w", version=1, start=1.0, parameters={})
    store.finish_run("done-run", status="completed", end=2.0, errors=[], metrics={})
    with pytest.raises(CancelRefused, match="no run 'zzzz-nothing'") as unknown:
        request_cancel(store, "zzzz-nothing")
    assert unknown.value.reason == "unknown"
    with pytest.raises(CancelRefused, match="run done-run is completed, not running") as done:
        request_cancel(store, "done-run")
    assert done.value.reason == "not running"
    assert pending_cancel_requests(store, ["done-run"]) == {}
    store.close()


def test_a_unique_prefix_names_the_run(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start_run("abcdef123", "w", version=1, start=1.0, parameters={})
    assert request_cancel(store, "abcdef")["run_id"] == "abcdef123"
    store.close()
