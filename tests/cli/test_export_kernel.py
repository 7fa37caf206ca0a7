"""End to end: a workflow defined in a real kernel, exported, run by the command line in a fresh
process, and that run seen by the kernel's ``%orchestrate history``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

CELLS = [
    "%load_ext codomyrmex_jupyter\nSCALE = 3",
    "%%workflow etl --quiet\nimport json\n\ndef _scaled(xs):\n    return [x * SCALE for x in xs]\n\n"
    "def load(n: int = 2):\n    return list(range(n))\n\n"
    "def report(load):\n    return json.dumps({'total': sum(_scaled(load))})\n",
    "r = %orchestrate export etl etl_flow.py\nprint(r)",
]


@pytest.fixture
def kernel(tmp_path: Path, _isolated_home: Path) -> Iterator[Any]:
    nb = nbformat.v4.new_notebook()
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with client.setup_kernel(env=env):
        yield client


def _run(client: Any, source: str) -> tuple[str, list[Any]]:
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    client.execute_cell(cell, len(client.nb.cells) - 1)
    stdout = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return stdout, errors


def test_export_then_run_from_the_command_line(kernel: Any, cli: Cli, tmp_path: Path) -> None:
    for source in CELLS[:2]:
        assert _run(kernel, source)[1] == []
    # before the export the command line says what to do
    before = cli("run", "etl")
    assert before.code == 2
    assert "export it first (in the notebook: %orchestrate export etl etl_flow.py)" in before.err

    out, errors = _run(kernel, CELLS[2])
    assert errors == []
    assert "exported 'etl' (2 step(s)) to etl_flow.py" in out
    assert "from the notebook: SCALE = 3" in out
    assert (tmp_path / "etl_flow.py").exists()

    result = cli("run", "etl", "--import", "etl_flow", "-p", "n=4")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1].endswith("completed in " + result.out.splitlines()[-1]
                                                .split("completed in ")[1])
    run = cli("history", "etl", "--json").json()[0]
    shown = cli("show", run["run_id"], "--json").json()
    assert {s["name"]: s["result"] for s in shown["steps"]} == {
        "load": [0, 1, 2, 3], "report": '{"total": 18}',
    }

    # the kernel sees the run the command line recorded
    out, errors = _run(kernel, (
        "h = %orchestrate history etl\n"
        "from codomyrmex_jupyter import get_workflow_manager\n"
        "print([(e.execution_id, e.status.value, e.parameters) for e in get_workflow_manager().history('etl')])\n"
        "print(repr(h))"
    ))
    assert errors == []
    assert f"[('{run['run_id']}', 'completed', {{'n': 4}})]" in out
    assert run["run_id"][:8] in out
    # and the kernel still runs its own cell definition
    out, errors = _run(kernel, "ex = %orchestrate run etl -p n=1\nprint(ex.results['report'])")
    assert (out, errors) == ('{"total": 0}\n', [])
