"""The magics end to end in a real kernel (nbclient), in both loop modes.

One notebook defines workflows both ways, runs them blocking, in the
background and awaited, cancels one, reads the history and hits each class
of user error. The interrupt test sends a real interrupt to the kernel while
a cell blocks in a run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from jupyter_core.utils import run_sync  # noqa: E402  # after the importorskip guards

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
MODES = ["thread", "nested"]

SETUP = """\
%load_ext codomyrmex_jupyter
%orchestrate config --loop {mode}
from codomyrmex_jupyter import get_workflow_manager, get_loop_mode
print(get_loop_mode())
"""

ETL = """\
%%workflow etl
def load(n: int = 10):
    return list(range(n))

def clean(load):
    return [x * 2 for x in load]

def summarize(clean):
    return sum(clean)
"""

SPEC = """\
%%workflow env --yaml
steps:
  - {name: check, module: environment_setup, action: check_environment}
"""

SLOW = """\
%%workflow slow --quiet
import asyncio, pathlib

async def slow(marker: str = "", seconds: float = 60):
    if marker:
        pathlib.Path(marker).write_text("running")
    await asyncio.sleep(seconds)
    return seconds
"""

# (cell source, expected stdout)
CELLS: list[tuple[str, str | None]] = [
    (ETL, None),
    (SPEC, None),
    ("ex = %orchestrate run etl -p n=4\nprint(ex.status, ex.results['summarize'])", "completed 12\n"),
    ("%orchestrate run env", None),
    ("h = %orchestrate run etl --background -p n=3", None),
    ("done = await h\nprint(done.status, done.results['summarize'])", "completed 6\n"),
    ("ex = await get_workflow_manager().execute_workflow('etl', {'n': 2})\n"
     "print(ex.status, ex.results['summarize'])", "completed 2\n"),
    ("print(get_workflow_manager().run_workflow('etl', {'n': 5}).results['summarize'])", "20\n"),
    (SLOW, None),
    ("hs = %orchestrate run slow --background", None),
    ("import time\nwhile hs.execution is None or hs.execution.step_records['slow'].status != 'running':\n"
     "    time.sleep(0.01)\nc = %orchestrate cancel {hs.run_id}\nprint(c.status, hs.result(30).status)",
     "cancelled cancelled\n"),
    ("hist = %orchestrate history -n 50\nprint(len(hist), sorted({r.status.value for r in "
     "get_workflow_manager().history(limit=50)}))", "6 ['cancelled', 'completed']\n"),
]

# (cell source, start of the one-line UsageError message)
ERRORS: list[tuple[str, str]] = [
    ("%%workflow cyc\ndef a(b):\n    pass\n\ndef b(a):\n    pass\n",
     "%%workflow cyc: line 5: dependency cycle: b -> a -> b"),
    ("%%workflow dep --yaml\n- {name: a, module: environment_setup, action: check_environment, "
     "dependencies: [zz]}\n", "%%workflow dep: line 2: step 'a' depends on unknown step 'zz'"),
    ("%%workflow act --yaml\n- {name: a, module: nowhere, action: nothing}\n",
     "%%workflow act: line 2: step 'a': unknown action nowhere.nothing"),
    ("%%workflow yml --yaml\nsteps:\n  - {name: a\n", "%%workflow yml: line 4: invalid YAML"),
    ("%orchestrate frobnicate", "unknown subcommand 'frobnicate'; use one of: run, list"),
    ("%orchestrate run etl --bogus", "unrecognized arguments: --bogus; usage: %orchestrate run"),
    ("%orchestrate run nope", "Workflow 'nope' not found"),
    ("%orchestrate show zzzz", "%orchestrate show: no run with id 'zzzz'"),
]


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CODOMYRMEX_HOME"] = str(home)
    return env


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    c = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with c.setup_kernel(env=_env(tmp_path / "home")):
        yield c


def _run(client: Any, source: str) -> Any:
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    return client.execute_cell(cell, len(client.nb.cells) - 1)


def _stdout(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


def _errors(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if o.output_type == "error"]


def _setup(client: Any, mode: str) -> None:
    cell = _run(client, SETUP.format(mode=mode))
    assert _errors(cell) == []
    assert _stdout(cell).strip().splitlines()[-1] == mode


@pytest.mark.parametrize("mode", MODES)
def test_notebook_end_to_end(client: Any, mode: str) -> None:
    _setup(client, mode)
    for source, expected in CELLS:
        cell = _run(client, source)
        assert _errors(cell) == [], (source, _errors(cell))
        if expected is not None:
            assert _stdout(cell) == expected, source
    etl_cell, spec_cell = client.nb.cells[1], client.nb.cells[2]
    mime = "application/vnd.codomyrmex.dag+json"
    assert any(mime in o.get("data", {}) for o in etl_cell.outputs)
    assert any(mime in o.get("data", {}) for o in spec_cell.outputs)
    for source, expected in ERRORS:
        cell = _run(client, source)
        # IPython shows a UsageError as one stderr line, not as a traceback
        stderr = [o.text for o in cell.outputs if o.get("name") == "stderr"]
        assert stderr == [f"UsageError: {stderr[0].removeprefix('UsageError: ')}"], source
        (line,) = stderr[0].splitlines()
        assert line.removeprefix("UsageError: ").startswith(expected), (source, line)


def _execute_and_interrupt(client: Any, source: str, marker: Path) -> list[dict[str, Any]]:
    """Run ``source`` directly on the kernel, interrupt it once ``marker`` exists."""
    kc = client.kc
    msg_id = kc.execute(source)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the step never started"
        time.sleep(0.02)
    run_sync(client.km.interrupt_kernel)()
    outputs: list[dict[str, Any]] = []
    while True:
        msg = run_sync(kc.get_iopub_msg)(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status" and content["execution_state"] == "idle":
            return outputs
        if kind in ("stream", "error", "execute_result", "display_data"):
            outputs.append({"type": kind, **content})


@pytest.mark.parametrize("mode", MODES)
def test_interrupt_cancels_a_blocking_run(client: Any, mode: str, tmp_path: Path) -> None:
    _setup(client, mode)
    assert _errors(_run(client, SLOW)) == []
    marker = tmp_path / "running.txt"
    source = f"ex = %orchestrate run slow -p marker={str(marker)!r}\nprint('after', ex.status)"
    outputs = _execute_and_interrupt(client, source, marker)
    stderr = "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stderr")
    stdout = "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == "stdout")
    assert [o for o in outputs if o["type"] == "error"] == []
    assert stdout == "after cancelled\n"
    (message,) = [line for line in stderr.splitlines() if "cancelled" in line]
    assert message.endswith("of 'slow' was cancelled and recorded as cancelled")
    check = _run(
        client,
        "print([e.status.value for e in get_workflow_manager().history('slow')], "
        "ex.step_records['slow'].status)",
    )
    assert _errors(check) == []
    assert _stdout(check) == "['cancelled'] cancelled\n"
    # the kernel is usable again, in the same loop mode
    again = _run(client, "quick = %orchestrate run slow -p seconds=0\nprint(get_loop_mode(), quick.status)")
    assert _stdout(again) == f"{mode} completed\n"

