"""%%workflow through IPython's test shell (codomyrmex_jupyter.magics.workflow_magic)."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.utils.capture import capture_output

from codomyrmex_jupyter import get_workflow_manager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus

ETL = """\
@step(retries=1)
def load(n: int = 10):
    return list(range(n))

def clean(load, factor=2):
    return [x * factor for x in load]

def summarize(clean):
    return sum(clean)
"""

SPEC = """\
steps:
  - {name: env, module: environment_setup, action: check_environment}
  - {name: again, module: environment_setup, action: check_environment, dependencies: [env]}
"""


def test_function_mode_defines_steps_and_user_functions(ip: Any) -> None:
    with capture_output() as cap:
        result = ip.run_cell_magic("workflow", "etl", ETL)
    assert result is None
    steps = get_workflow_manager().get_workflow("etl")
    assert steps is not None
    assert [(s.name, s.module, s.action, s.dependencies, s.max_retries) for s in steps] == [
        ("load", "notebook.etl", "load", [], 1),
        ("clean", "notebook.etl", "clean", ["load"], 0),
        ("summarize", "notebook.etl", "summarize", ["clean"], 0),
    ]
    # the functions stay callable in the notebook
    assert ip.user_ns["clean"]([1, 2]) == [2, 4]
    # the DAG is displayed with the three MIME types
    (shown,) = cap.outputs
    assert {"text/plain", "text/html", "application/vnd.codomyrmex.dag+json"} <= set(shown.data)


def test_step_priority_orders_the_ready_steps(ip: Any) -> None:
    ip.user_ns["order"] = []
    cell = (
        "@step(priority=1)\nasync def low():\n    order.append('low')\n\n"
        "@step(priority=9)\nasync def high():\n    order.append('high')\n\n"
        "async def plain():\n    order.append('plain')\n"
    )
    ex = ip.run_cell_magic("workflow", "ranked --quiet --run", cell)
    assert ex.status == WorkflowStatus.COMPLETED
    assert ip.user_ns["order"] == ["high", "low", "plain"]  # higher first, the default is 0
    stored = get_workflow_manager().get_workflow("ranked")
    assert [s.priority for s in stored] == [1, 9, 0]


def test_quiet_displays_nothing(ip: Any) -> None:
    with capture_output() as cap:
        ip.run_cell_magic("workflow", "etl --quiet", ETL)
    assert cap.outputs == []


def test_run_with_parameter_precedence(ip: Any) -> None:
    ip.user_ns["params"] = {"n": 3, "factor": 10}
    ex = ip.run_cell_magic("workflow", "etl --quiet --run --params params -p n=4", ETL)
    assert ex.status is WorkflowStatus.COMPLETED
    # -p beats --params, --params beats the function's default
    assert ex.results == {"load": [0, 1, 2, 3], "clean": [0, 10, 20, 30], "summarize": 60}
    assert ex.parameters == {"n": 4, "factor": 10}
    default = ip.run_line_magic("orchestrate", "run etl")
    assert default.results["summarize"] == 90  # n=10, factor=2


def test_redefinition_is_a_new_version_and_old_runs_keep_theirs(ip: Any) -> None:
    first = ip.run_cell_magic("workflow", "etl --quiet --run", ETL)
    ip.run_cell_magic("workflow", "etl --quiet", ETL.replace("sum(clean)", "max(clean)"))
    second = ip.run_line_magic("orchestrate", "run etl -p n=3")
    assert (first.version, second.version) == (1, 2)
    assert second.results["summarize"] == 4
    manager = get_workflow_manager()
    assert manager.list_workflows()["etl"]["version"] == 2
    assert [e.version for e in manager.history("etl")] == [2, 1]


def test_source_is_stored_with_the_definition(ip: Any) -> None:
    ip.run_cell_magic("workflow", "etl --quiet", ETL)
    row = get_workflow_manager().store.load_workflow("etl")
    assert row is not None
    assert row["source"] == "%%workflow etl --quiet\n" + ETL


def test_no_save_keeps_the_definition_in_this_kernel(ip: Any) -> None:
    ip.run_cell_magic("workflow", "etl --quiet --no-save", ETL)
    manager = get_workflow_manager()
    assert manager.store.load_workflow("etl") is None
    assert manager.list_workflows()["etl"]["saved"] is False


def test_yaml_mode_runs_builtin_actions(ip: Any) -> None:
    ex = ip.run_cell_magic("workflow", "env --yaml --quiet --run", SPEC)
    assert ex.status is WorkflowStatus.COMPLETED
    assert set(ex.results) == {"env", "again"}
    steps = get_workflow_manager().get_workflow("env")
    assert steps is not None
    assert [s.max_retries for s in steps] == [3, 3]


def test_stored_cell_is_not_run_in_a_new_kernel(ip: Any, usage_error: Any) -> None:
    ip.run_cell_magic("workflow", "etl --quiet", ETL)
    # what a new kernel sees: the definition is stored, its functions are not
    get_workflow_manager().registry.unregister("notebook.etl")
    message = usage_error("run etl")
    assert message == (
        "step 'load' of workflow 'etl' was defined in a notebook cell; "
        "run that %%workflow cell again in this kernel before running it"
    )
    ip.run_cell_magic("workflow", "etl --quiet", ETL)
    assert ip.run_line_magic("orchestrate", "run etl -p n=2").status is WorkflowStatus.COMPLETED


@pytest.mark.parametrize(
    ("line", "cell", "expected"),
    [
        ("cyc", "def a(b):\n    pass\n\ndef b(a):\n    pass\n",
         "%%workflow cyc: line 5: dependency cycle: b -> a -> b; remove one of these dependencies"),
        ("bad", "def a(:\n    pass\n", "%%workflow bad: line 2: syntax error: invalid syntax"),
        ("bad", "x = 1\n", "%%workflow bad: line 2: the cell defines no step function; "
         "write one top-level def per step (or use --yaml for a declarative spec)"),
        ("bad", "@step(timeout=-1)\ndef a():\n    pass\n",
         "%%workflow bad: line 2: step 'a': @step(timeout=...) must be a positive number of "
         "seconds, got -1"),
        ("bad --yaml", "steps:\n  - {name: a, module: m, action: x\n",
         "%%workflow bad: line 4: invalid YAML: expected ',' or '}', but got '<stream end>'"),
        ("bad --yaml", "- {name: a, module: environment_setup, action: check_environment,"
         " dependencies: [z]}\n",
         "%%workflow bad: line 2: step 'a' depends on unknown step 'z'"),
        ("bad --yaml", "- {name: a, module: environment_setup, action: check_enviroment}\n",
         "%%workflow bad: line 2: step 'a': unknown action environment_setup.check_enviroment; "
         "did you mean environment_setup.check_environment?"),
        ("bad --yaml", "- {name: a, module: m}\n",
         "%%workflow bad: line 2: step 'a' is missing action"),
    ],
)
def test_cell_errors_are_one_line_usage_errors(
    ip: Any, usage_error: Any, line: str, cell: str, expected: str
) -> None:
    message = usage_error(line, cell)
    assert message.startswith(expected), message
    assert "bad" not in get_workflow_manager().list_workflows()


def test_a_bad_cell_defines_nothing(ip: Any, usage_error: Any) -> None:
    usage_error("bad", "def bad(load):\n    pass\n\ndef load(bad):\n    pass\n")
    assert "bad" not in ip.user_ns
    assert get_workflow_manager().get_workflow("bad") is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("etl --run --params nope", "--params nope: no notebook variable named 'nope'"),
        ("etl --run --params ETL_TEXT", "--params ETL_TEXT: expected a dict of parameters, got str"),
        ("etl --run -p 1=2", "parameter '1=2' must look like name=value (e.g. -p n=5)"),
        ("etl --bogus", "unrecognized arguments: --bogus; usage: %%workflow"),
        ("", "the following arguments are required: name; usage: %%workflow"),
    ],
)
def test_option_errors(ip: Any, usage_error: Any, line: str, expected: str) -> None:
    ip.user_ns["ETL_TEXT"] = ETL
    assert usage_error(line, ETL).startswith(expected)


def test_help_prints_usage(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_cell_magic("workflow", "--help", ETL) is None
    out = capsys.readouterr().out
    assert "%%workflow" in out
    assert "--yaml" in out and "--background" in out
    assert get_workflow_manager().list_workflows() == {}


def test_unload_removes_the_magics(ip: Any) -> None:
    assert ip.find_cell_magic("workflow") is not None
    assert "step" in ip.user_ns
    ip.run_line_magic("unload_ext", "codomyrmex_jupyter")
    try:
        assert ip.find_cell_magic("workflow") is None
        assert ip.find_line_magic("orchestrate") is None
        assert "step" not in ip.user_ns
        assert "WorkflowMagics" not in ip.magics_manager.registry
    finally:
        ip.run_line_magic("load_ext", "codomyrmex_jupyter")
