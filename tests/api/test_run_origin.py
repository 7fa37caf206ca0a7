"""Which notebook and kernel a run comes from: read from what the Jupyter server gives a kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex_jupyter.api.run_origin import _origin, kernel_id_from_argv
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["python", "-m", "ipykernel_launcher", "-f", "/rt/kernel-1b2c-3d4e.json"], "1b2c-3d4e"),
        (["python", "-m", "ipykernel_launcher", "--f=/rt/kernel-abc.json"], "abc"),
        (["python", "-m", "ipykernel_launcher", "-f", "/rt/other.json"], None),
        (["python", "script.py"], None),
        (["python", "-f"], None),
    ],
)
def test_kernel_id_from_the_connection_file(argv: list[str], expected: str | None) -> None:
    assert kernel_id_from_argv(argv) == expected


def test_origin_reads_the_session_name() -> None:
    argv = ["ipykernel", "-f", "/rt/kernel-k1.json"]
    assert _origin({"JPY_SESSION_NAME": "/work/a.ipynb"}, argv) == {"notebook": "/work/a.ipynb", "kernel": "k1"}
    assert _origin({}, ["python"]) == {"notebook": None, "kernel": None}


def test_runs_record_their_origin(tmp_path: Path, registry, monkeypatch: pytest.MonkeyPatch) -> None:
    from codomyrmex_jupyter.api import recorder

    monkeypatch.setattr(recorder, "process_origin", lambda: {"notebook": "/w/n.ipynb", "kernel": "k9"})
    registry.register("t", "one", lambda: 1)
    manager = WorkflowManager(config_dir=tmp_path, registry=registry)
    manager.create_workflow("w", [WorkflowStep(name="a", module="t", action="one")])
    run_id = manager.run_workflow("w").execution_id
    row = manager.store.get_run(run_id)
    assert (row["notebook"], row["kernel"]) == ("/w/n.ipynb", "k9")
    manager.close()
