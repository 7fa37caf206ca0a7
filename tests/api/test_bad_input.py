"""Bad input through the public API and the store: a table of cases, each refused cleanly.

Every case calls one public entry point with one bad value and checks:

* the error's exact class (a ``CodomyrmexError``, and a ``TypeError`` or
  ``ValueError`` where that is what a Python user expects),
* its message: one line, naming the value that was given,
* nothing stored changed: every row of every table of the store, read through
  a second connection, is the same after the call as before.

The store cases check a file on disk, byte for byte. The magics have their
own table, run in a real kernel (``tests/magics/test_bad_input_kernel.py``).
"""

from __future__ import annotations

import asyncio
import math
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter import (
    OrchestrationEngine,
    ProjectManager,
    Resource,
    ResourceManager,
    ResourceType,
    TaskOrchestrator,
    WorkflowManager,
    WorkflowStep,
    runtime,
)
from codomyrmex_jupyter.engine.store import Store
from codomyrmex_jupyter.errors import (
    AmbiguousRunError,
    ArgumentError,
    ArgumentTypeError,
    CodomyrmexError,
    ContainmentError,
    CycleError,
    ProjectError,
    ResourceTypeError,
    ResourceUnavailable,
    SessionError,
    StepTypeError,
    StoreError,
    TaskError,
    TaskTypeError,
    UnknownWorkflowError,
    WorkflowValidationError,
)

NAN, INF = math.nan, math.inf


@dataclass
class Env:
    """One store shared by every component, with a workflow and a few recorded runs."""

    home: Path
    manager: WorkflowManager
    tasks: TaskOrchestrator
    resources: ResourceManager
    projects: ProjectManager
    engine: OrchestrationEngine

    def rows(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, through a read-only connection of its own."""
        conn = sqlite3.connect(f"file:{self.manager.store.path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {t: sorted(conn.execute(f"SELECT * FROM {t}"), key=repr) for t in sorted(tables)}  # noqa: S608
        finally:
            conn.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    home = tmp_path_factory.mktemp("bad-input")
    manager = WorkflowManager(config_dir=home / "config", retry_backoff=0.01)
    manager.register_action("bad_input", "one", lambda: 1)
    assert manager.create_workflow("one", [WorkflowStep("only", "bad_input", "one")])
    for run_id in ("feed0001", "feed0002", "cafe0003"):
        manager.run_workflow("one", run_id=run_id)
    resources = ResourceManager(store=manager.store)
    resources.add_resource(Resource("gpu", "GPU", ResourceType.GPU, 2.0))
    tasks = TaskOrchestrator(store=manager.store, resource_manager=resources)
    projects = ProjectManager(str(home / "projects"), store=manager.store)
    projects.create_project("existing")
    engine = OrchestrationEngine(
        workflow_manager=manager, task_orchestrator=tasks, project_manager=projects,
        resource_manager=resources,
    )
    engine.create_session("existing")
    yield Env(home, manager, tasks, resources, projects, engine)
    engine.shutdown()
    manager.close()


def step(**fields: Any) -> WorkflowStep:
    values = {"name": "a", "module": "bad_input", "action": "one", **fields}
    return WorkflowStep(**values)


Call = Callable[[Env], Any]
# (case id, call, error class, text the one-line message must hold)
CASES: list[tuple[str, Call, type[BaseException], str]] = []


def case(cid: str, call: Call, cls: type[BaseException], text: str) -> None:
    CASES.append((cid, call, cls, text))


def validate(*steps: Any) -> Call:
    return lambda e: e.manager.validate(list(steps))


# -- WorkflowManager options ---------------------------------------------------------------
for cid, kwargs, cls, text in [
    ("manager-concurrency-0", {"max_concurrency": 0}, ArgumentError, "max_concurrency 0 is below 1"),
    ("manager-concurrency-str", {"max_concurrency": "8"}, ArgumentTypeError, "max_concurrency '8' is a str"),
    ("manager-concurrency-float", {"max_concurrency": 2.5}, ArgumentTypeError, "max_concurrency 2.5 is a float"),
    ("manager-backoff-negative", {"retry_backoff": -1}, ArgumentError, "retry_backoff -1 is not positive"),
    ("manager-backoff-nan", {"retry_backoff": NAN}, ArgumentError, "retry_backoff nan is not a finite"),
    ("manager-backoff-str", {"retry_backoff": "0.1"}, ArgumentTypeError, "retry_backoff '0.1' is a str"),
    ("manager-config-dir-int", {"config_dir": 5}, ArgumentTypeError, "config_dir 5 is not a path"),
    ("manager-config-dir-empty", {"config_dir": ""}, ArgumentTypeError, "config_dir '' is not a path"),
    ("manager-allow-str", {"allow_imports": "json"}, ArgumentTypeError, "allow_imports 'json' is a str"),
    ("manager-allow-empty", {"allow_imports": [""]}, ArgumentError, "allow_imports entry '' is empty"),
    ("manager-allow-int", {"allow_imports": [3]}, ArgumentTypeError, "allow_imports entry 3 is a int"),
]:
    case(cid, lambda e, kw=kwargs: WorkflowManager(**{"config_dir": e.home / "config", **kw}), cls, text)

# -- step definitions ----------------------------------------------------------------------
for cid, fields, cls, text in [
    ("step-name-int", {"name": 42}, StepTypeError, "step #1 name 42 is a int, not a string"),
    ("step-name-empty", {"name": ""}, WorkflowValidationError, "step #1 has an empty name"),
    ("step-name-blank", {"name": "  "}, WorkflowValidationError, "step #1 has an empty name"),
    ("step-module-none", {"module": None}, StepTypeError, "step 'a': module None is a NoneType"),
    ("step-module-empty", {"module": ""}, WorkflowValidationError, "step 'a': module '' is empty"),
    ("step-action-int", {"action": 3}, StepTypeError, "step 'a': action 3 is a int"),
    ("step-action-empty", {"action": ""}, WorkflowValidationError, "step 'a': action '' is empty"),
    ("step-timeout-nan", {"timeout": NAN}, WorkflowValidationError, "step 'a': timeout nan is not a finite"),
    ("step-timeout-inf", {"timeout": INF}, WorkflowValidationError, "step 'a': timeout inf is not a finite"),
    ("step-timeout-negative", {"timeout": -1}, WorkflowValidationError, "step 'a': timeout -1 is not positive"),
    ("step-timeout-zero", {"timeout": 0}, WorkflowValidationError, "step 'a': timeout 0 is not positive"),
    ("step-timeout-str", {"timeout": "5"}, StepTypeError, "step 'a': timeout '5' is a str"),
    ("step-timeout-bool", {"timeout": True}, StepTypeError, "step 'a': timeout True is a bool"),
    ("step-timeout-list", {"timeout": [1]}, StepTypeError, "step 'a': timeout [1] is a list"),
    ("step-retries-negative", {"max_retries": -1}, WorkflowValidationError, "step 'a': max_retries -1 is below 0"),
    ("step-retries-str", {"max_retries": "3"}, StepTypeError, "step 'a': max_retries '3' is a str"),
    ("step-retries-float", {"max_retries": 1.5}, StepTypeError, "step 'a': max_retries 1.5 is a float"),
    ("step-retries-none", {"max_retries": None}, StepTypeError, "step 'a': max_retries None is a NoneType"),
    ("step-params-list", {"parameters": [1]}, StepTypeError, "step 'a': parameters [1] is a list"),
    ("step-params-str", {"parameters": "n=1"}, StepTypeError, "step 'a': parameters 'n=1' is a str"),
    ("step-params-int-key", {"parameters": {1: "x"}}, StepTypeError, "step 'a': parameters key 1 is a int"),
    ("step-deps-str", {"dependencies": "b"}, StepTypeError, "step 'a': dependencies 'b' is a str"),
    ("step-deps-int", {"dependencies": [3]}, StepTypeError, "step 'a': dependency 3 is a int"),
    ("step-deps-unknown", {"dependencies": ["nope"]}, WorkflowValidationError, "depends on unknown step 'nope'"),
    ("step-deps-self", {"dependencies": ["a"]}, CycleError, "dependency cycle: a -> a"),
    ("step-resource-negative", {"resources": {"gpu": -1}}, WorkflowValidationError, "resource 'gpu' amount -1"),
    ("step-resource-str", {"resources": {"gpu": "1"}}, StepTypeError, "resource 'gpu' amount '1' is a str"),
    ("step-resource-nan", {"resources": {"gpu": NAN}}, WorkflowValidationError, "resource 'gpu' amount nan"),
    ("step-resources-list", {"resources": ["gpu"]}, StepTypeError, "resources ['gpu'] is a list"),
]:
    case(cid, validate(step(**fields)), cls, text)

case("steps-empty", lambda e: e.manager.validate([]), WorkflowValidationError, "needs at least one step")
case("steps-str", lambda e: e.manager.validate("abc"), StepTypeError, "steps 'abc' is a str")
case("steps-dict", lambda e: e.manager.validate({"a": step()}), StepTypeError, "steps {'a': WorkflowStep(")
case("steps-none", lambda e: e.manager.validate(None), StepTypeError, "steps None is a NoneType")
case("steps-of-dicts", validate({"name": "a"}), StepTypeError, "step #1 is a dict; use WorkflowStep(...)")
case("steps-duplicate", validate(step(), step()), WorkflowValidationError, "duplicate step name 'a'")
case("steps-cycle", validate(step(dependencies=["b"]), step(name="b", dependencies=["a"])), CycleError,
     "dependency cycle: b -> a -> b")

# -- running ---------------------------------------------------------------------------------
for cid, call, cls, text in [
    ("run-unknown", lambda e: e.manager.run_workflow("nope"), UnknownWorkflowError, "Workflow 'nope' not found"),
    ("run-name-int", lambda e: e.manager.run_workflow(42), ArgumentTypeError, "workflow name 42 is a int"),
    ("run-name-empty", lambda e: e.manager.run_workflow(""), ArgumentError, "workflow name '' is empty"),
    ("run-timeout-negative", lambda e: e.manager.run_workflow("one", timeout=-1), ArgumentError,
     "timeout -1 is not positive"),
    ("run-timeout-zero", lambda e: e.manager.run_workflow("one", timeout=0), ArgumentError, "timeout 0 is not positive"),
    ("run-timeout-nan", lambda e: e.manager.run_workflow("one", timeout=NAN), ArgumentError,
     "timeout nan is not a finite"),
    ("run-timeout-inf", lambda e: e.manager.run_workflow("one", timeout=INF), ArgumentError,
     "timeout inf is not a finite"),
    ("run-timeout-str", lambda e: e.manager.run_workflow("one", timeout="5"), ArgumentTypeError,
     "timeout '5' is a str"),
    ("run-timeout-bool", lambda e: e.manager.run_workflow("one", timeout=True), ArgumentTypeError,
     "timeout True is a bool"),
    ("run-params-list", lambda e: e.manager.run_workflow("one", [1, 2]), ArgumentTypeError,
     "parameters [1, 2] is a list"),
    ("run-params-str", lambda e: e.manager.run_workflow("one", "n=1"), ArgumentTypeError,
     "parameters 'n=1' is a str"),
    ("run-params-int-key", lambda e: e.manager.run_workflow("one", {1: 2}), ArgumentTypeError,
     "parameters key 1 is a int"),
    ("run-id-space", lambda e: e.manager.run_workflow("one", run_id="has space"), ArgumentError,
     "run_id 'has space' may only hold"),
    ("run-id-empty", lambda e: e.manager.run_workflow("one", run_id=""), ArgumentError, "run_id '' may only hold"),
    ("run-id-int", lambda e: e.manager.run_workflow("one", run_id=7), ArgumentTypeError, "run_id 7 is a int"),
    ("run-id-long", lambda e: e.manager.run_workflow("one", run_id="x" * 200), ArgumentError,
     "run_id 'xxxxxxxxx"),
    ("run-id-used", lambda e: e.manager.run_workflow("one", run_id="feed0001"), ArgumentError,
     "run_id 'feed0001' is already used"),
    ("start-timeout-nan", lambda e: e.manager.start_workflow("one", timeout=NAN), ArgumentError,
     "timeout nan is not a finite"),
    ("start-params-list", lambda e: e.manager.start_workflow("one", [1]), ArgumentTypeError,
     "parameters [1] is a list"),
    ("start-unknown", lambda e: e.manager.start_workflow("nope"), UnknownWorkflowError, "Workflow 'nope' not found"),
    ("execute-timeout-str", lambda e: asyncio.run(e.manager.execute_workflow("one", timeout="5")),
     ArgumentTypeError, "timeout '5' is a str"),
    ("execute-executor-bogus", lambda e: e.manager.run_workflow("one", executor="bogus"), ArgumentError,
     "unknown executor 'bogus'"),
    ("execute-executor-int", lambda e: e.manager.run_workflow("one", executor=5), ArgumentTypeError,
     "executor 5 is a int"),
    ("execute-executor-no-port", lambda e: e.manager.run_workflow("one", executor="dask://host"), ArgumentError,
     "executor 'dask://host' needs a host and a port"),
]:
    case(cid, call, cls, text)

# -- run ids ---------------------------------------------------------------------------------
for cid, call, cls, text in [
    ("get-id-empty", lambda e: e.manager.get_execution(""), ArgumentError, "run id '' is too short"),
    ("get-id-one", lambda e: e.manager.get_execution("a"), ArgumentError, "run id 'a' is too short"),
    ("get-id-three", lambda e: e.manager.get_execution("fee"), ArgumentError, "run id 'fee' is too short"),
    ("get-id-int", lambda e: e.manager.get_execution(5), ArgumentTypeError, "run id 5 is a int"),
    ("get-id-ambiguous", lambda e: e.manager.get_execution("feed"), AmbiguousRunError,
     "run id prefix 'feed' matches 2 runs (feed0001, feed0002)"),
    ("cancel-id-one", lambda e: e.manager.cancel_execution("a"), ArgumentError, "run id 'a' is too short"),
    ("cancel-id-empty", lambda e: e.manager.cancel_execution(""), ArgumentError, "run id '' is too short"),
    ("cancel-id-none", lambda e: e.manager.cancel_execution(None), ArgumentTypeError, "run id None is a NoneType"),
    ("cancel-id-ambiguous", lambda e: e.manager.cancel_execution("feed"), AmbiguousRunError,
     "run id prefix 'feed' matches 2 runs"),
]:
    case(cid, call, cls, text)

# -- tasks -----------------------------------------------------------------------------------
for cid, call, cls, text in [
    ("orchestrator-workers-0", lambda e: TaskOrchestrator(max_workers=0), ArgumentError, "max_workers 0 is below 1"),
    ("orchestrator-workers-str", lambda e: TaskOrchestrator(max_workers="4"), ArgumentTypeError,
     "max_workers '4' is a str"),
    ("task-timeout-nan", lambda e: e.tasks.create_task("t", "m", "f", timeout=NAN), TaskError,
     "task 't': timeout nan is not a finite"),
    ("task-timeout-str", lambda e: e.tasks.create_task("t", "m", "f", timeout="5"), TaskTypeError,
     "task 't': timeout '5' is a str"),
    ("task-timeout-negative", lambda e: e.tasks.create_task("t", "m", "f", timeout=-1), TaskError,
     "task 't': timeout -1 is not positive"),
    ("task-retries-negative", lambda e: e.tasks.create_task("t", "m", "f", max_retries=-1), TaskError,
     "task 't': max_retries -1 is below 0"),
    ("task-retries-str", lambda e: e.tasks.create_task("t", "m", "f", max_retries="3"), TaskTypeError,
     "task 't': max_retries '3' is a str"),
    ("task-delay-negative", lambda e: e.tasks.create_task("t", "m", "f", retry_delay=-1), TaskError,
     "task 't': retry_delay -1 is not positive"),
    ("task-delay-nan", lambda e: e.tasks.create_task("t", "m", "f", retry_delay=NAN), TaskError,
     "task 't': retry_delay nan is not a finite"),
    ("task-params-list", lambda e: e.tasks.create_task("t", "m", "f", parameters=[1]), TaskTypeError,
     "task 't': parameters [1] is a list"),
    ("task-deps-str", lambda e: e.tasks.create_task("t", "m", "f", dependencies="abc"), TaskTypeError,
     "task 't': dependencies 'abc' is a str"),
    ("task-module-int", lambda e: e.tasks.create_task("t", 5, "f"), TaskTypeError, "task 't': module 5 is a int"),
    ("task-priority", lambda e: e.tasks.create_task("t", "m", "f", priority=9), TaskError,
     "priority must be a TaskPriority (1-4), not 9"),
    ("task-unknown-field", lambda e: e.tasks.create_task("t", "m", "f", priorty=1), TaskError,
     "'priorty' is not a Task field"),
    ("task-unknown-dependency", lambda e: e.tasks.create_task("t", "m", "f", dependencies=["ghost"]), TaskError,
     "unknown dependency 'ghost'"),
    ("task-not-a-task", lambda e: e.tasks.add_task({"name": "t"}), TaskTypeError,
     "add_task takes a Task, not a dict: {'name': 't'}"),
]:
    case(cid, call, cls, text)

# -- resources -------------------------------------------------------------------------------
for cid, call, cls, text in [
    ("resource-capacity-nan", lambda e: e.resources.add_resource(Resource("r", "R", ResourceType.CPU, NAN)),
     ResourceUnavailable, "resource 'r' capacity nan is not a finite"),
    ("resource-capacity-negative", lambda e: e.resources.add_resource(Resource("r", "R", ResourceType.CPU, -1)),
     ResourceUnavailable, "resource 'r' capacity -1 is not positive"),
    ("resource-capacity-str", lambda e: e.resources.add_resource(Resource("r", "R", ResourceType.CPU, "5")),
     ResourceTypeError, "resource 'r' capacity '5' is a str"),
    ("resource-capacity-none", lambda e: e.resources.add_resource(Resource("r", "R", ResourceType.CPU, None)),
     ResourceTypeError, "resource 'r' capacity is None"),
    ("allocate-amount-zero", lambda e: e.resources.allocate_resource("gpu", "t1", 0), ResourceUnavailable,
     "amount 0 is not positive"),
    ("allocate-amount-nan", lambda e: e.resources.allocate_resource("gpu", "t1", NAN), ResourceUnavailable,
     "amount nan is not a finite"),
    ("allocate-amount-inf", lambda e: e.resources.allocate_resource("gpu", "t1", INF), ResourceUnavailable,
     "amount inf is not a finite"),
    ("allocate-amount-str", lambda e: e.resources.allocate_resource("gpu", "t1", "1"), ResourceTypeError,
     "amount '1' is a str"),
    ("allocate-mode", lambda e: e.resources.allocate_resource("gpu", "t1", 1, mode="greedy"), ResourceUnavailable,
     "mode must be 'shared' or 'exclusive', got 'greedy'"),
    ("allocate-expiry-negative", lambda e: e.resources.allocate_resource("gpu", "t1", 1, expires_in=-5),
     ResourceUnavailable, "expires_in -5 is not positive"),
]:
    case(cid, call, cls, text)

# -- projects and sessions -----------------------------------------------------------------
for cid, call, cls, text in [
    ("project-name-climbs", lambda e: e.projects.create_project("../x"), ContainmentError,
     "project name '../x' may not contain path separators"),
    ("project-name-empty", lambda e: e.projects.create_project(""), ProjectError,
     "project name must be a non-empty string, got ''"),
    ("project-name-int", lambda e: e.projects.create_project(5), ProjectError,
     "project name must be a non-empty string, got 5"),
    ("project-duplicate", lambda e: e.projects.create_project("existing"), ProjectError,
     "a project named 'existing' exists"),
    ("project-template", lambda e: e.projects.create_project("p", template_name="nope"), ProjectError,
     "unknown template 'nope'"),
    ("project-option", lambda e: e.projects.create_project("p", colour="red"), ProjectError,
     "unknown option(s) colour"),
    ("project-path-int", lambda e: e.projects.create_project("p", path=5), ArgumentTypeError, "path 5 is not a path"),
    ("project-tags-str", lambda e: e.projects.create_project("p", tags="abc"), ArgumentTypeError,
     "tags 'abc' must be a list of strings"),
    ("project-metadata-list", lambda e: e.projects.create_project("p", metadata=[1]), ArgumentTypeError,
     "metadata [1] is a list"),
    ("project-status", lambda e: e.projects.create_project("p", status="bogus"), WorkflowValidationError,
     "ProjectStatus 'bogus' is not one of"),
    ("project-update-field", lambda e: e.projects.update_project("existing", owner="me"), ProjectError,
     "cannot update owner"),
    ("project-update-path-int", lambda e: e.projects.update_project("existing", path=7), ArgumentTypeError,
     "path 7 is not a path"),
    ("session-name-empty", lambda e: e.engine.create_session(""), SessionError, "got ''"),
    ("session-name-int", lambda e: e.engine.create_session(5), SessionError, "got 5"),
    ("session-metadata-list", lambda e: e.engine.create_session("s", metadata=[1]), ArgumentTypeError,
     "metadata [1] is a list"),
    ("session-description-int", lambda e: e.engine.create_session("s", description=3), ArgumentTypeError,
     "description 3 is a int"),
    ("session-update-field", lambda e: e.engine.update_session("x", colour="red"), SessionError,
     "'colour' cannot be updated"),
    ("loop-mode", lambda e: runtime.set_loop_mode("bogus"), ArgumentError, "unknown loop mode 'bogus'"),
]:
    case(cid, call, cls, text)


@pytest.mark.parametrize(("cid", "call", "cls", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_cleanly(env: Env, cid: str, call: Call, cls: type, text: str) -> None:
    before = env.rows()
    with pytest.raises(CodomyrmexError) as info:
        call(env)
    err = info.value
    assert type(err) is cls, (type(err), str(err))
    message = str(err)
    assert "\n" not in message and message.strip() == message
    assert text in message, message
    if issubclass(cls, TypeError) or issubclass(cls, ValueError):
        assert isinstance(err, TypeError | ValueError)
    assert env.rows() == before  # row for row: nothing was stored or started


def test_refused_definitions_are_not_stored_either(env: Env) -> None:
    before = env.rows()
    bad = [[step(timeout=NAN)], [step(name=42)], [step(dependencies="b")], []]
    assert [env.manager.create_workflow("bad", steps) for steps in bad] == [False] * 4
    assert env.rows() == before
    assert "bad" not in env.manager.list_workflows()


def test_the_table_is_large_enough() -> None:
    assert len(CASES) + len(STORE_CASES) >= 100


# -- the store: byte for byte ----------------------------------------------------------------
def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE documents(kind, key, value)")
    conn.execute("INSERT INTO documents VALUES('a', 'b', 'c')")
    conn.commit()
    conn.close()


def _newer(path: Path) -> None:
    Store(path.parent).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()


def _other_app(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id={0x12345678}")
    conn.execute("CREATE TABLE t(x)")
    conn.commit()
    conn.close()


STORE_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("store-text-file", lambda p: p.write_text("not a database\n" * 50), "is not a readable codomyrmex database"),
    ("store-foreign-named-like-ours", _foreign, "is a database of another program"),
    ("store-other-application", _other_app, "is a database of another program (application id 0x12345678)"),
    ("store-newer-schema", _newer, "was written by a newer codomyrmex_jupyter (schema 99)"),
    ("store-empty-sqlite", lambda p: sqlite3.connect(p).execute("PRAGMA user_version=3").connection.close(),
     "is a database of another program"),
]


@pytest.mark.parametrize(("cid", "make", "text"), STORE_CASES, ids=[c[0] for c in STORE_CASES])
def test_a_file_that_is_not_ours_is_refused_byte_for_byte(
    tmp_path: Path, cid: str, make: Callable[[Path], None], text: str
) -> None:
    path = tmp_path / "codomyrmex.sqlite3"
    make(path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(StoreError) as info:
        Store(tmp_path)
    assert type(info.value) is StoreError and info.value.path == str(path)
    assert str(path) in str(info.value) and text in str(info.value) and "\n" not in str(info.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    with pytest.raises(StoreError):  # the API says the same, and leaves the file alone too
        WorkflowManager(config_dir=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize("bad", [5, None, ""], ids=["int", "none", "empty"])
def test_a_store_path_that_is_not_a_path(bad: Any) -> None:
    with pytest.raises(ArgumentTypeError, match=f"store path {bad!r} is not a path"):
        Store(bad)
