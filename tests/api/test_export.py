"""codomyrmex_jupyter.api.export: notebook workflows written as modules (or YAML) that run elsewhere."""

from __future__ import annotations

import json
import linecache
import math
import os
import subprocess
import sys
import textwrap
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter.api.export import ExportError
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.errors import UnknownWorkflowError
from codomyrmex_jupyter.magics.cell_parsing import parse_function_cell, step

_cells = iter(range(1, 10_000))

ETL = textwrap.dedent(
    """
    import json
    from pathlib import Path as P
    LIMIT = 3

    def _double(xs):
        return [x * FACTOR for x in xs]

    @step(timeout=30)
    def load(n: int = LIMIT):
        return list(range(n))

    def clean(load):
        return _double(load)

    print("defined")

    def summarize(clean, label: str = "total"):
        return {label: sum(clean), "pi": round(math.pi, 2), "od": type(OrderedDict()).__name__,
                "json": json.dumps(len(clean)), "p": P("x").name}
    """
).lstrip()


def define(manager: WorkflowManager, name: str, cell: str, **namespace: Any) -> dict[str, Any]:
    """Run ``cell`` as IPython would (cached for tracebacks, in a ``__main__`` namespace) and define it."""
    filename = f"/tmp/ipykernel_0/{next(_cells)}.py"
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    ns: dict[str, Any] = {"__name__": "__main__", "step": step, **namespace}
    exec(compile(cell, filename, "exec"), ns)  # noqa: S102 - the test's own cell, as a kernel runs it
    parsed = parse_function_cell(cell, name)
    assert manager.create_workflow(
        name, parsed.steps, source=f"%%workflow {name}\n{cell}",
        callables={s.name: ns[s.name] for s in parsed.steps},
    )
    return ns


def run_exported(folder: Path, module: str, workflow: str, params: dict[str, Any], home: Path) -> Any:
    """Import the exported module in a fresh interpreter and run the workflow by name."""
    code = (
        f"import json, {module}\n"
        "from codomyrmex_jupyter import get_workflow_manager\n"
        f"ex = get_workflow_manager().run_workflow({workflow!r}, {params!r})\n"
        "print(json.dumps({'status': ex.status.value, 'results': ex.results, 'errors': ex.errors}))\n"
    )
    env = {**os.environ, "CODOMYRMEX_HOME": str(home)}  # PYTHONPATH may be how the package is found
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=folder,
                          env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_a_function_workflow_becomes_a_module_that_runs_elsewhere(manager: WorkflowManager, tmp_path: Path) -> None:
    define(manager, "etl", ETL, FACTOR=2, math=math, OrderedDict=OrderedDict)
    result = manager.export_workflow("etl", tmp_path / "etl_flow.py")
    assert (result.kind, result.module, result.steps) == ("module", "etl_flow", ["load", "clean", "summarize"])
    assert set(result.carried) == {
        "import math", "from collections import OrderedDict", "FACTOR = 2", "from codomyrmex_jupyter import step",
    }
    assert result.left_out == ['line 15: print("defined")']
    assert "run it: codomyrmex-jupyter run etl --import etl_flow" in result.summary()
    text = (tmp_path / "etl_flow.py").read_text()
    assert '@action(ACTIONS, "load")\n@step(timeout=30)\ndef load(n: int = LIMIT):' in text
    assert "from codomyrmex_jupyter import WorkflowStep, action, register_workflow, step" in text
    assert 'ACTIONS = "etl_flow"' in text and "FACTOR = 2  # from the notebook" in text
    assert "LIMIT = 3" in text and "def _double(xs):" in text and "print(" not in text
    assert ('WorkflowStep(name="clean", module=ACTIONS, action="clean", dependencies=["load"], '
            "max_retries=0)") in text
    out = run_exported(tmp_path, "etl_flow", "etl", {"n": 4}, tmp_path / "elsewhere")
    assert out == {"status": "completed", "errors": [], "results": {
        "load": [0, 1, 2, 3], "clean": [0, 2, 4, 6],
        "summarize": {"total": 12, "pi": 3.14, "od": "OrderedDict", "json": "4", "p": "x"},
    }}


def test_the_module_name_can_be_chosen(manager: WorkflowManager, tmp_path: Path) -> None:
    define(manager, "etl", ETL, FACTOR=1, math=math, OrderedDict=OrderedDict)
    manager.export_workflow("etl", tmp_path / "etl_flow.py", module="team.flows")
    assert 'ACTIONS = "team.flows"' in (tmp_path / "etl_flow.py").read_text()
    out = run_exported(tmp_path, "etl_flow", "etl", {"n": 2}, tmp_path / "home2")
    assert out["results"]["clean"] == [0, 1]


@pytest.mark.parametrize(
    ("namespace", "problem"),
    [
        ({"FACTOR": threading.Lock()}, "function '_double' uses 'FACTOR' (a lock) is a notebook global "
         "that is neither a literal nor an import"),
        ({"FACTOR": float("nan")}, "function '_double' uses 'FACTOR' (a float) is a notebook global"),
        ({}, "function '_double' uses 'FACTOR' is not defined in the cell"),
    ],
)
def test_what_cannot_be_carried_over_is_named_and_nothing_is_written(
    manager: WorkflowManager, tmp_path: Path, namespace: dict[str, Any], problem: str
) -> None:
    define(manager, "etl", ETL.replace("print", "FACTOR = FACTOR if 'FACTOR' in dir() else 1\nprint")
           if not namespace else ETL, math=math, OrderedDict=OrderedDict, **namespace)
    if not namespace:
        manager.registry.unregister("notebook.etl")  # a new kernel: only the stored cell is known
    target = tmp_path / "etl_flow.py"
    with pytest.raises(ExportError) as info:
        manager.export_workflow("etl", target)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("cannot export 'etl' to etl_flow.py: ")
    if namespace:
        assert problem in message
    else:
        assert "'FACTOR' is computed by a statement of the cell that is not a literal" in message
        assert "'math' is not defined in the cell" in message
    assert not target.exists()


def test_a_function_from_another_cell_is_named(manager: WorkflowManager, tmp_path: Path) -> None:
    helper_ns = define(manager, "other", "def helper(x):\n    return x\n")
    cell = "def load():\n    return helper(1)\n"
    define(manager, "uses", cell, helper=helper_ns["helper"])
    with pytest.raises(ExportError, match=r"step 'load' uses 'helper' is a function defined in another "
                       r"notebook cell: move it into the %%workflow cell"):
        manager.export_workflow("uses", tmp_path / "uses.py")


def test_from_the_stored_cell_in_a_new_process(tmp_path: Path) -> None:
    first = WorkflowManager(config_dir=tmp_path / "home")
    define(first, "etl", "import math\n\n@step(retries=1)\ndef load(n=2):\n    return math.factorial(n)\n")
    first.close()
    second = WorkflowManager(config_dir=tmp_path / "home")  # no callables: the stored cell text
    second.registry.unregister("notebook.etl")
    result = second.export_workflow("etl", tmp_path / "fresh_flow.py")
    assert result.carried == ["from codomyrmex_jupyter import step"]
    out = run_exported(tmp_path, "fresh_flow", "etl", {"n": 4}, tmp_path / "h")
    assert out["results"] == {"load": 24}
    second.close()


def test_ipython_syntax_in_the_stored_cell_is_named(tmp_path: Path) -> None:
    manager = WorkflowManager(config_dir=tmp_path / "home")
    manager.create_workflow("etl", [WorkflowStep("load", "notebook.etl", "load", max_retries=0)],
                            source="%%workflow etl\n!ls\ndef load():\n    return 1\n",
                            callables={"load": lambda: 1})
    with pytest.raises(ExportError, match=r"line 1 of the cell is not plain Python"):
        manager.export_workflow("etl", tmp_path / "x.py")
    manager.close()


def test_overwrite_needs_force(manager: WorkflowManager, tmp_path: Path) -> None:
    define(manager, "tiny", "def only():\n    return 1\n")
    target = tmp_path / "tiny.py"
    target.write_text("# mine\n")
    with pytest.raises(ExportError, match=r"tiny.py exists; pass --force \(force=True\) to overwrite it"):
        manager.export_workflow("tiny", target)
    assert target.read_text() == "# mine\n"
    manager.export_workflow("tiny", target, force=True)
    assert "def only():" in target.read_text()
    # a folder keeps the original package's form: <folder>/<name>.json
    assert manager.export_workflow("tiny", tmp_path / "out") == tmp_path / "out" / "tiny.json"


@pytest.mark.parametrize(
    ("path", "module", "message"),
    [
        ("my-flow.py", None, "'my-flow.py' cannot be imported: name the file with a Python identifier, "
         "e.g. my_flow.py"),
        ("flow.py", "not valid", "--module must be a dotted Python name"),
        ("flow.txt", None, "export to a .py module, a .yaml file or a folder (for the original's "
         "<name>.json), not 'flow.txt'"),
        ("flow.yaml", None, "'tiny' runs notebook functions (only); export it to a .py module instead"),
    ],
)
def test_bad_targets(manager: WorkflowManager, tmp_path: Path, path: str, module: str | None, message: str) -> None:
    define(manager, "tiny", "def only():\n    return 1\n")
    with pytest.raises(ExportError) as info:
        manager.export_workflow("tiny", tmp_path / path, module=module)
    assert message in str(info.value)


def test_generated_names_do_not_clash_with_the_cell(manager: WorkflowManager, tmp_path: Path) -> None:
    define(manager, "clash", "def action(n=1):\n    return n + 1\n")
    manager.export_workflow("clash", tmp_path / "clash_flow.py")
    text = (tmp_path / "clash_flow.py").read_text()
    assert "from codomyrmex_jupyter import WorkflowStep, action as _action, register_workflow" in text
    assert '@_action(ACTIONS, "action")\ndef action(n=1):' in text
    assert run_exported(tmp_path, "clash_flow", "clash", {"n": 5}, tmp_path / "h")["results"] == {"action": 6}


def test_unknown_workflow(manager: WorkflowManager, tmp_path: Path) -> None:
    with pytest.raises(UnknownWorkflowError):
        manager.export_workflow("nope", tmp_path / "nope.py")


SPEC = [
    WorkflowStep("check", "environment_setup", "check_environment", max_retries=1),
    WorkflowStep("analyze", "static_analysis", "analyze_code_quality", parameters={"path": "."},
                 dependencies=["check"]),
]


def test_a_spec_workflow_exports_as_its_yaml(manager: WorkflowManager, tmp_path: Path) -> None:
    import yaml

    cell = "# my steps\nsteps:\n  - {name: check, module: environment_setup, action: check_environment}\n"
    manager.create_workflow("env", [WorkflowStep("check", "environment_setup", "check_environment")],
                            source=f"%%workflow env --yaml\n{cell}")
    result = manager.export_workflow("env", tmp_path / "env.yaml")
    text = (tmp_path / "env.yaml").read_text()
    assert result.kind == "yaml"
    assert text == "# workflow 'env', exported by codomyrmex_jupyter: %%workflow env --yaml\n" + cell
    manager.create_workflow("api", SPEC)  # defined in Python: dumped
    manager.export_workflow("api", tmp_path / "api.yml")
    assert yaml.safe_load((tmp_path / "api.yml").read_text()) == {"steps": [s.to_dict() for s in SPEC]}


def test_a_spec_workflow_exports_as_a_definition_module(manager: WorkflowManager, tmp_path: Path) -> None:
    manager.create_workflow("api", SPEC)
    manager.export_workflow("api", tmp_path / "api_flow.py")
    text = (tmp_path / "api_flow.py").read_text()
    assert ('WorkflowStep(name="analyze", module="static_analysis", action="analyze_code_quality", '
            'parameters={"path": "."}, dependencies=["check"])') in text
    code = "import api_flow; from codomyrmex_jupyter.api.module_workflows import module_workflow as m; " \
           "print([s.to_dict() for s in m('api').steps])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert proc.stdout.strip() == str([s.to_dict() for s in SPEC])
