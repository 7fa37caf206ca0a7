"""Bad input through the magics, in a real kernel: a table of cases, each refused cleanly.

One kernel runs every case as its own cell. Each must end with IPython's
one-line ``UsageError`` (no traceback) naming the value that was given, and
leave the store exactly as it was: every row of every table, read from the
test process through a read-only connection, is the same before and after.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

SETUP = """\
%load_ext codomyrmex_jupyter
from codomyrmex_jupyter import get_workflow_manager
not_a_dict = 5
"""
ETL = """\
%%workflow etl --quiet
def load(n: int = 3):
    return list(range(n))

def total(load):
    return sum(load)
"""
RUNS = """\
for run_id in ("feed0001", "feed0002"):
    get_workflow_manager().run_workflow("etl", run_id=run_id)
"""

# (cell, text the one-line UsageError must hold)
CASES: list[tuple[str, str]] = [
    ("%orchestrate run etl --timeout -1", "--timeout -1.0 is not positive"),
    ("%orchestrate run etl --timeout 0", "--timeout 0.0 is not positive"),
    ("%orchestrate run etl --timeout nan", "--timeout nan is not a finite number"),
    ("%orchestrate run etl --timeout inf", "--timeout inf is not a finite number"),
    ("%orchestrate run etl --timeout soon", "argument --timeout: invalid float value: 'soon'"),
    ("%orchestrate run nope", "Workflow 'nope' not found"),
    ("%orchestrate run etl --executor bogus", "--executor must be 'local', 'dask-local' or dask://HOST:PORT"),
    ("%orchestrate run etl --executor dask://host", "got 'dask://host'"),
    ("%orchestrate run etl -p 5=3", "parameter '5=3' must look like name=value"),
    ("%orchestrate run etl -p noequals", "parameter 'noequals' must look like name=value"),
    ("%orchestrate run etl --params missing", "--params missing: no notebook variable named 'missing'"),
    ("%orchestrate run etl --params not_a_dict", "--params not_a_dict: expected a dict of parameters, got int"),
    ("%orchestrate run etl --bogus", "unrecognized arguments: --bogus"),
    ("%orchestrate run", "the following arguments are required: name"),
    ("%orchestrate show a", "run id 'a' is too short: give at least 4 characters"),
    ("%orchestrate show fee", "run id 'fee' is too short"),
    ("%orchestrate show zzzz", "no run with id 'zzzz'"),
    ("%orchestrate show feed", "run id prefix 'feed' matches 2 runs (feed0001, feed0002)"),
    ("%orchestrate cancel a", "run id 'a' is too short"),
    ("%orchestrate cancel zzzz", "no run with id 'zzzz'"),
    ("%orchestrate cancel feed", "run id prefix 'feed' matches 2 runs"),
    ("%orchestrate cancel feed0001", "run feed0001 is not running in this kernel (status: completed)"),
    ("%orchestrate history -n 0", "-n must be at least 1, got 0"),
    ("%orchestrate history -n many", "argument -n: invalid int value: 'many'"),
    ("%orchestrate dag nope", "Workflow 'nope' not found"),
    ("%orchestrate frobnicate", "unknown subcommand 'frobnicate'"),
    ("%orchestrate config --loop sideways", "argument --loop: invalid choice: 'sideways'"),
    ("%orchestrate run 'etl", "No closing quotation in \"'etl\"; check the quotes"),
    ("%%workflow yt --yaml\n- {name: a, module: environment_setup, action: check_environment, timeout: soon}\n",
     "step 'a': timeout 'soon' is a str, not a number"),
    ("%%workflow yn --yaml\n- {name: a, module: environment_setup, action: check_environment, timeout: .nan}\n",
     "step 'a': timeout nan is not a finite number"),
    ("%%workflow yr --yaml\n- {name: a, module: environment_setup, action: check_environment, max_retries: -1}\n",
     "step 'a': max_retries -1 is below 0"),
    ("%%workflow yd --yaml\n- {name: a, module: environment_setup, action: check_environment, dependencies: b}\n",
     "step 'a': dependencies 'b' is a str"),
    ("%%workflow yk --yaml\n- {name: a, module: environment_setup, action: check_environment, colour: red}\n",
     "unknown key(s) colour"),
    ("%%workflow yg --yaml\n- {name: a, module: environment_setup, action: check_environment, "
     "resources: {gpu: -1}}\n", "resource 'gpu' amount -1"),
    ("%%workflow ft\n@step(timeout=-1)\ndef a():\n    return 1\n",
     "@step(timeout=...) must be a positive number of seconds, got -1"),
    ("%%workflow fs\n@step(timeout='soon')\ndef a():\n    return 1\n",
     "@step(timeout=...) must be a positive number of seconds, got 'soon'"),
    ("%%workflow fc\ndef a(b):\n    pass\n\ndef b(a):\n    pass\n", "dependency cycle: b -> a -> b"),
    ("%%workflow\ndef a():\n    return 1\n", "the following arguments are required: name"),
    ("%%workflow --timeout -5 ww --run\ndef a():\n    return 1\n", "--timeout -5.0 is not positive"),
]


def _rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in sorted(tables)}  # noqa: S608
    finally:
        conn.close()


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path]]:
    tmp = tmp_path_factory.mktemp("magics-bad-input")
    nb = nbformat.v4.new_notebook()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CODOMYRMEX_HOME"] = str(tmp / "home")
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(tmp)}},
    )
    with client.setup_kernel(env=env):
        for source in (SETUP, ETL, RUNS):
            cell = _run(client, source)
            assert [o for o in cell.outputs if o.output_type == "error"] == [], cell.outputs
        yield client, tmp / "home" / "codomyrmex.sqlite3"


def _run(client: Any, source: str) -> Any:
    cell = nbformat.v4.new_code_cell(source)
    client.nb.cells.append(cell)
    return client.execute_cell(cell, len(client.nb.cells) - 1)


@pytest.mark.parametrize(("source", "text"), CASES, ids=[c[0].splitlines()[0] for c in CASES])
def test_a_bad_magic_line_is_one_usage_error_and_stores_nothing(
    kernel: tuple[Any, Path], source: str, text: str
) -> None:
    client, db = kernel
    before = _rows(db)
    cell = _run(client, source)
    stderr = "".join(o.text for o in cell.outputs if o.get("name") == "stderr")
    assert [o for o in cell.outputs if o.output_type == "error"] == []  # no traceback
    assert stderr.startswith("UsageError: "), cell.outputs
    (line,) = stderr.strip().splitlines()
    assert text in line, line
    assert _rows(db) == before
