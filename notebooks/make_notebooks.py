"""Write the example notebooks (``codomyrmex_jupyter/examples/``) from the cell lists below.

The ``.ipynb`` files are generated, never edited by hand: change a cell here
and run ``python notebooks/make_notebooks.py``. They are stored without
outputs and shipped in the wheel (``codomyrmex_jupyter.examples.copy_to``
copies them out; ``make lab`` does, then opens the quickstart). ``--check``
exits 1 when a stored notebook differs from what this script would write.

Every notebook starts the same way: it goes to a folder of its own
(``work_folder``), makes a store there (``%orchestrate init``), and writes the
files it analyses, so it runs from any folder and sees only its own runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

__all__ = ["NOTEBOOKS", "build", "main", "render"]

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "codomyrmex_jupyter" / "examples"
# nbformat has no type hints; going through Any keeps the type checker quiet about it
_v4: Any = nbformat.v4
_nbformat: Any = nbformat

Cell = tuple[str, str]  # ("md" | "code", source)


def md(text: str) -> Cell:
    """A markdown cell (surrounding blank lines are dropped)."""
    return ("md", text.strip("\n"))


def code(text: str) -> Cell:
    """A code cell (surrounding blank lines are dropped)."""
    return ("code", text.strip("\n"))


def setup(folder: str, more: str = "") -> Cell:
    """The first code cell of every notebook: load the extension, go to the notebook's
    own folder (``./<folder>``), and make it a project with its own store."""
    return code(f"""
%load_ext codomyrmex_jupyter
from codomyrmex_jupyter.examples import work_folder

%cd {{work_folder("{folder}")}}
%orchestrate init
{more}""")


def own_folder(folder: str) -> str:
    """What the setup cell does, for the notebook's introduction."""
    return f"""\
This notebook works in a folder of its own, `{folder}/`, next to it: it goes
there with `%cd`, and `%orchestrate init` gives it its own store
(`{folder}/.codomyrmex/`), so the runs, resources and projects you make here
stay here, whatever other notebooks do. Copy the notebook anywhere: it
writes the files it needs."""


# -- 01 quickstart ----------------------------------------------------------------------------
def quickstart() -> list[Cell]:
    """Cells of ``01_quickstart.ipynb``."""
    return [
        md("""
# Quickstart: a workflow in five minutes

Welcome! In this notebook you will write a small workflow out of plain Python
functions, look at its graph, run it, watch it run, and read its results.
Nothing needs to be started first: the engine runs inside this kernel, and
every run is recorded in a small SQLite database.

First, load the extension. It adds two magics: `%%workflow` to define a
workflow and `%orchestrate` to run and inspect them.

""" + own_folder("quickstart")),
        setup("quickstart"),
        md("""
## Define a workflow

In a `%%workflow` cell every function is a step. A parameter named after
another step is a dependency and receives that step's result, so `clean`
runs after `load` and gets what `load` returned. Any other parameter (like `n`)
is filled from the run's parameters, or keeps its default.

Running the cell defines the workflow and draws its graph.
"""),
        code("""
%%workflow etl
import time


def load(n: int = 10):
    time.sleep(0.2)  # pretend to read a file
    return list(range(n))


def clean(load):
    time.sleep(0.2)
    return [x for x in load if x % 3 != 0]


def stats(clean):
    return {"count": len(clean), "total": sum(clean)}


def preview(clean):
    return clean[:5]


def report(stats, preview):
    return f"{stats['count']} rows, total {stats['total']}, starting {preview}"
"""),
        md("""
The functions are ordinary functions in the notebook too, so you can still
call and test them one by one:
"""),
        code("clean(load(7))"),
        md("""
## Run it

`%orchestrate run` runs the workflow and shows it live: each step changes
colour as it goes from pending to running to done; under the graph, a table of
the steps with their timings and results, and a timeline.
`-p n=100` sets the run parameter `n`. The execution comes back as a Python
object.
"""),
        code("ex = %orchestrate run etl -p n=100"),
        md("""
## Read the results

The execution holds the status, every step's result, and the errors if any.
"""),
        code("""
print(ex.status.value)
print(ex.results["report"])
ex.results["stats"]
"""),
        md("""
`%orchestrate show` displays any recorded run by its id (or the first few
characters of it): the graph coloured by how each step ended, and a table of
timings. This view is stored in the notebook as a picture too, so it still
shows up when the notebook is exported to HTML or opened on GitHub.
"""),
        code("%orchestrate show {ex.run_id}"),
        md("""
## Watch a run in the background

With `--background` the cell finishes at once and hands back a run handle,
while the live view keeps updating (and has a Cancel button). Meanwhile you can
keep working in the notebook.
"""),
        code("handle = %orchestrate run etl -p n=1000 --background"),
        code("""
background_run = handle.result(timeout=30)  # wait for it to finish
background_run.results["report"]
"""),
        md("""
## Look back

Every run was recorded, with its parameters and how long each step took:
"""),
        code("%orchestrate history etl -n 5"),
        md("""
Everything the magics do is also plain Python, for scripts and tests. The same
run without magics:
"""),
        code("""
from codomyrmex_jupyter import get_workflow_manager

manager = get_workflow_manager()
execution = await manager.execute_workflow("etl", {"n": 10})
execution.results["report"]
"""),
        md("""
## Where next

* `02_seed_api_tour.ipynb`: the whole Python API, class by class.
* `03_resources_and_failures.ipynb`: resources, timeouts, retries, failures and cancelling.
* `04_reproducible_analysis.ipynb`: a real analysis whose history outlives the kernel.
* `05_scale_out_with_dask.ipynb`: the same workflows on a Dask cluster.

`%orchestrate --help` lists every subcommand; `%orchestrate dashboard` shows
the runs and resources of this kernel in one place.
"""),
        code("%orchestrate dashboard"),
    ]


# -- 02 seed API tour ---------------------------------------------------------------------------
def seed_api_tour() -> list[Cell]:
    """Cells of ``02_seed_api_tour.ipynb``: the seed document's examples, in order."""
    return [
        md("""
# A tour of the Python API

Everything the magics do is plain Python underneath. This notebook walks
through the API, one class at a time: **WorkflowManager**, **TaskOrchestrator**,
**ProjectManager**, **ResourceManager** and the **OrchestrationEngine** that ties
them together. Each example is the one from the API reference, with the
import line naming `codomyrmex_jupyter`.
"""),
        md(own_folder("seed-api-tour") + """

The tour creates projects, templates and sessions, and analyses a small sample
package (`shop/`) that it writes first with `sample_project()`.
"""),
        setup("seed-api-tour"),
        code("""
from pathlib import Path
from pprint import pprint

from codomyrmex_jupyter.examples import sample_project

sample_project("shop")
from codomyrmex_jupyter import (
    ProjectStatus,
    ProjectTemplate,
    ProjectType,
    Resource,
    ResourceType,
    Task,
    TaskPriority,
    TaskResource,
    TaskStatus,
    WorkflowStatus,
    WorkflowStep,
    action,
    get_orchestration_engine,
    get_project_manager,
    get_resource_manager,
    get_task_orchestrator,
    get_workflow_manager,
)
"""),
        md("""
The reference's task examples name actions `module1.action1` and
`module2.action2`, which no package defines. A step or task action is any function registered with
`@action(module, name)`, so here are two small ones, and the examples run as written.
"""),
        code("""
import time


@action("module1", "action1")
def action1():
    time.sleep(0.05)
    return "action1 done"


@action("module2", "action2")
def action2():
    time.sleep(0.05)
    return "action2 done"
"""),
        md("""
## WorkflowManager

A workflow is a list of `WorkflowStep`s: each names an action (`module`/`action`),
its parameters and the steps it depends on. `static_analysis.analyze_code_quality`
and `data_visualization.create_chart` are built in: the first reads Python
files with `ast`, the second draws a chart of whatever its dependency returned.
We point the analysis at the sample package: `path` is read relative to the
run's `project_path` parameter (this notebook's folder).
"""),
        code("""
manager = get_workflow_manager()

steps = [
    WorkflowStep(
        name="analyze",
        module="static_analysis",
        action="analyze_code_quality",
        parameters={"path": "shop"},
    ),
    WorkflowStep(
        name="visualize",
        module="data_visualization",
        action="create_chart",
        dependencies=["analyze"],
    ),
]

success = manager.create_workflow("code_analysis", steps)
success
"""),
        code("""
workflows = manager.list_workflows()
for name, info in workflows.items():
    print(f"Workflow: {name}")
    print(f"  Steps: {info['steps']}")
    print(f"  Modules: {', '.join(info['modules'])}")
    print(f"  Estimated Duration: {info['estimated_duration']}s")
"""),
        md("""
`execute_workflow` is a coroutine: a notebook cell can `await` it directly.
The execution that comes back holds the status, each step's result and any errors.
"""),
        code("""
execution = await manager.execute_workflow(
    "code_analysis",
    parameters={"project_path": "."},
)

if execution.status == WorkflowStatus.COMPLETED:
    print("Workflow completed successfully")
    for step_name, result in execution.results.items():
        print(f"Step {step_name}: {result!s:.110}")
else:
    print(f"Workflow failed: {execution.errors}")
"""),
        md("""
An execution also displays itself: the DAG coloured by how each step ended,
and a table of timings. The chart step's result is a figure, shown inline.
"""),
        code("execution"),
        code('execution.results["visualize"]'),
        md("""
Every run is recorded, so performance statistics come from the history:
"""),
        code("""
summary = manager.get_performance_summary()
print(f"Total executions: {summary['total_workflows_executed']}")
print(f"Success rate: {summary['successful_executions'] / summary['total_workflows_executed'] * 100:.1f}%")
"""),
        md("""
## TaskOrchestrator

Tasks are single units of work with a priority, optional dependencies
(by task name or id), a timeout and resources. They wait until
`start_execution()` is called.
"""),
        code("""
orchestrator = get_task_orchestrator()

task = Task(
    name="analyze_code",
    module="static_analysis",
    action="analyze_code_quality",
    priority=TaskPriority.HIGH,
    parameters={"path": "shop"},
)

task_id = orchestrator.add_task(task)
print(task_id)
"""),
        md("""
`create_task` builds and adds a task in one call. Its dependency must already
be known, so we add a `setup_task` (the built-in environment check) first.
"""),
        code("""
orchestrator.create_task(name="setup_task", module="environment_setup", action="check_environment")

task = orchestrator.create_task(
    name="test_task",
    module="module1",
    action="action1",
    priority=TaskPriority.NORMAL,
    timeout=300,
    dependencies=["setup_task"],
)

# List all tasks
all_tasks = orchestrator.list_tasks()

# List only pending tasks
pending_tasks = orchestrator.list_tasks(TaskStatus.PENDING)
print([t.name for t in all_tasks], [t.name for t in pending_tasks])
"""),
        md("""
Start the engine, wait until the queue is empty, stop it, and look at what each task did.
"""),
        code("""
orchestrator.start_execution()
orchestrator.wait_for_completion(timeout=30)
orchestrator.stop_execution()

for t in orchestrator.list_tasks():
    print(f"{t.name:12} {t.status.value:10} {t.result.duration:.3f}s")
"""),
        md("""
## ProjectManager

A project is a directory scaffolded from a template, plus its metadata.
Five templates are built in; `ai_analysis` is one of them. Without a `path`,
the project lives in the store's folder, under `projects/`.
"""),
        code("""
manager = get_project_manager()
print(manager.list_templates())

if manager.get_project("my_project") is not None:  # running the tour again in the same home
    manager.delete_project("my_project", remove_files=True)

project = manager.create_project(
    name="my_project",
    description="A test project",
    template_name="ai_analysis",
)
print(project.name, project.project_type.value, project.status.value)
print(sorted(p.relative_to(project.path).as_posix() for p in Path(project.path).rglob("*")))
"""),
        code("""
updated_project = manager.update_project(
    "my_project",
    description="Updated description",
    status=ProjectStatus.ACTIVE,
    metadata={"key": "value"},
)
print(updated_project.description, updated_project.status.value, updated_project.metadata)
print(manager.list_projects(ProjectStatus.ACTIVE))
"""),
        md("""
Your own templates sit beside the built-in ones:
"""),
        code("""
template = ProjectTemplate(
    name="custom_template",
    project_type=ProjectType.WEB_APPLICATION,
    description="Custom web application template",
    directory_structure=["src/", "static/", "templates/"],
    files_to_create=["README.md", "requirements.txt"],
    dependencies=["flask", "jinja2"],
    workflows=["build", "deploy"],
)

success = manager.create_template(template)
print(success, manager.list_templates())
"""),
        md("""
## ResourceManager

Resources have a capacity; tasks, steps and sessions allocate parts of it and
give them back. The gauges in the other notebooks read these same numbers.
"""),
        code("""
manager = get_resource_manager()

resource = Resource(
    id="cpu_1",
    name="CPU Core 1",
    resource_type=ResourceType.CPU,
    capacity=100.0,
    unit="cores",
)

success = manager.add_resource(resource)
success
"""),
        code("""
allocation = manager.allocate_resource("cpu_1", "task_1", 50.0)
if allocation:
    print(f"Allocated {allocation.allocated_amount} of {allocation.resource_id}")

print("available:", manager.get_available_capacity("cpu_1"))
usage = manager.get_resource_usage("cpu_1")
print(f"usage: {usage.current_usage} now, {usage.peak_usage} at peak, {usage.utilisation:.0%} used")
print("released:", manager.release_resource("task_1", "cpu_1"))
print("available:", manager.get_available_capacity("cpu_1"))
"""),
        md("""
## OrchestrationEngine: sessions

A session groups the workflows, tasks, projects and resource allocations of one
piece of work, and the engine reports on the whole system. This is the
reference's complete example. It is a coroutine, so in a notebook we `await` it
rather than call `asyncio.run` (the kernel's event loop is already running).
"""),
        code("""
async def complete_workflow_example():
    # Get orchestration engine
    engine = get_orchestration_engine()

    # Create session
    session = engine.create_session(
        name="Complete Workflow Example",
        description="Demonstrates complete orchestration workflow",
    )

    # Add resources
    cpu_resource = Resource(
        id="cpu_1",
        name="CPU Core 1",
        resource_type=ResourceType.CPU,
        capacity=100.0,
    )
    engine.resource_manager.add_resource(cpu_resource)

    # Allocate resources for session
    engine.allocate_resources_for_session(session.session_id, "cpu_1", 50.0)

    # Create workflow
    steps = [
        WorkflowStep(name="setup", module="environment_setup", action="check_environment"),
        WorkflowStep(
            name="analyze",
            module="static_analysis",
            action="analyze_code",
            parameters={"path": "shop"},
            dependencies=["setup"],
        ),
        WorkflowStep(
            name="visualize",
            module="data_visualization",
            action="create_chart",
            dependencies=["analyze"],
        ),
    ]

    engine.workflow_manager.create_workflow("complete_workflow", steps)

    # Execute workflow
    result = engine.execute_workflow_in_session(session.session_id, "complete_workflow")
    print(f"Workflow execution result: {result}")

    # Add tasks to session
    task1 = Task(
        name="session_task1",
        module="module1",
        action="action1",
        priority=TaskPriority.HIGH,
    )

    task2 = Task(
        name="session_task2",
        module="module2",
        action="action2",
        dependencies=["session_task1"],
        priority=TaskPriority.NORMAL,
    )

    engine.add_task_to_session(session.session_id, task1)
    engine.add_task_to_session(session.session_id, task2)

    # Create project in session
    project = engine.create_project_in_session(
        session.session_id,
        "example_project",
        "Example project for orchestration",
    )
    print(f"Project: {project.name if project else None}")

    # Get system status
    status = engine.get_system_status()
    print("System status:")
    pprint(status, depth=2, compact=True)

    # Get health status
    health = engine.get_health_status()
    print("Health status:")
    pprint(health, compact=True)

    # Cleanup session
    engine.cleanup_session(session.session_id)
    return session.session_id
"""),
        code("session_id = await complete_workflow_example()"),
        md("""
The reference ends with `engine.shutdown()`. In a notebook you usually keep
the engine for the next cell, so we look at what the session recorded instead.
Its two tasks had not been started, so cleaning the session up cancelled the
first, and skipped the second, which depended on it.
"""),
        code("""
engine = get_orchestration_engine()
session = engine.get_session(session_id)
print(session.name, session.status.value)
print("workflows:", session.workflows, "projects:", session.projects)
for task_id in session.tasks:
    t = engine.task_orchestrator.get_task(task_id)
    print(f"  task {t.name}: {t.status.value}")
"""),
        md("""
## Resource management example

Tasks can ask for resources. An `exclusive` request takes the whole resource,
so these two tasks each hold theirs while they run, and release it afterwards.
(The reference waits with `time.sleep(2)`; `wait_for_completion` returns as
soon as the tasks are done.)
"""),
        code("""
def resource_management_example():
    # Get managers
    resource_manager = get_resource_manager()
    task_orchestrator = get_task_orchestrator()

    # Add resources
    cpu_resource = Resource(id="cpu_1", name="CPU Core 1", resource_type=ResourceType.CPU, capacity=100.0)
    mem_resource = Resource(id="mem_1", name="Memory 1", resource_type=ResourceType.MEMORY, capacity=1024.0)

    resource_manager.add_resource(cpu_resource)
    resource_manager.add_resource(mem_resource)

    # Create tasks with resource requirements
    task1 = Task(
        name="cpu_intensive_task",
        module="module1",
        action="action1",
        resources=[TaskResource(type=ResourceType.CPU, identifier="cpu_1", mode="exclusive")],
    )

    task2 = Task(
        name="memory_intensive_task",
        module="module2",
        action="action2",
        resources=[TaskResource(type=ResourceType.MEMORY, identifier="mem_1", mode="exclusive")],
    )

    # Add tasks to orchestrator
    task_orchestrator.add_task(task1)
    task_orchestrator.add_task(task2)

    # Start execution, wait for the tasks to complete, stop
    task_orchestrator.start_execution()
    task_orchestrator.wait_for_completion(timeout=30)
    task_orchestrator.stop_execution()

    for t in (task1, task2):
        print(f"{t.name}: {t.status.value}, result {t.result.value!r}")

    # Get resource usage
    cpu_usage = resource_manager.get_resource_usage("cpu_1")
    mem_usage = resource_manager.get_resource_usage("mem_1")

    print(f"CPU usage: {cpu_usage.current_usage if cpu_usage else 0} (peak {cpu_usage.peak_usage})")
    print(f"Memory usage: {mem_usage.current_usage if mem_usage else 0} (peak {mem_usage.peak_usage})")

    # Get resource summary
    summary = resource_manager.get_resource_summary()
    print(f"Resource summary: {summary['total_resources']} resources, "
          f"{summary['active_allocations']} allocations")
    for rid, info in summary["resources"].items():
        print(f"  {rid}: {info['allocated']} of {info['capacity']} {info['unit']} allocated")


# Run the example
resource_management_example()
"""),
        md("""
That is the whole API. Notebook `03_resources_and_failures.ipynb` shows what
happens when steps compete for resources, time out, retry and fail, and
`04_reproducible_analysis.ipynb` reads the run history back from a new process.
"""),
    ]


# -- 03 resources and failures ---------------------------------------------------------------
def resources_and_failures() -> list[Cell]:
    """Cells of ``03_resources_and_failures.ipynb``."""
    return [
        md("""
# Resources, timeouts, retries, failures and cancelling

Real workflows share scarce things (a GPU, a database connection, an API
quota) and sometimes go wrong. This notebook shows what the engine does about
it: steps that wait for capacity, a step that runs out of time, one that
succeeds on a retry, a failure that skips what depends on it, and a run
cancelled while it is still going.
"""),
        md(own_folder("resources-and-failures")),
        setup("resources-and-failures", "%matplotlib inline"),
        code("""
import asyncio
import time

from codomyrmex_jupyter import Resource, ResourceType, get_resource_manager, get_workflow_manager
from codomyrmex_jupyter.widgets import ResourceGauges

manager = get_workflow_manager()
"""),
        md("""
## Steps competing for capacity

Say the machine has two GPUs. Resources are declared once, on the resource
manager; the gauges below show what is allocated against what exists, and who
holds it. They move while a run is going on.
"""),
        code("""
resources = get_resource_manager()
resources.add_resource(
    Resource(id="gpu", name="GPU", resource_type=ResourceType.GPU, capacity=2, unit="devices")
)
gauges = ResourceGauges(resources)
gauges
"""),
        md("""
Four training steps each need one GPU (`@step(resources={"gpu": 1})`), so at
most two run at once; the others wait, without holding anything, until a GPU is
given back. The `report` step depends on all four. Defining the workflow draws its DAG.
"""),
        code("""
%%workflow train
@step(resources={"gpu": 1})
def small_model():
    time.sleep(0.2)
    return 0.81


@step(resources={"gpu": 1})
def medium_model():
    time.sleep(0.2)
    return 0.86


@step(resources={"gpu": 1})
def large_model():
    time.sleep(0.2)
    return 0.89


@step(resources={"gpu": 1})
def huge_model():
    time.sleep(0.2)
    return 0.90


def report(small_model, medium_model, large_model, huge_model):
    return max(
        {"small": small_model, "medium": medium_model, "large": large_model, "huge": huge_model}.items(),
        key=lambda kv: kv[1],
    )
"""),
        md("""
Run it, and keep an eye on the gauges above.
"""),
        code("train = %orchestrate run train"),
        md("""
The timeline of the run shows the four models in two waves of two, and the
usage statistics remember the peak:
"""),
        code("""
usage = resources.get_resource_usage("gpu")
print(f"best model: {train.results['report']}")
print(f"GPUs in use now: {usage.current_usage:g}, at peak: {usage.peak_usage:g} of 2")
train.plot()
"""),
        md("""
## Timeouts, retries and failures

The next workflow goes wrong in three ways at once:

* `fetch` fails twice with a connection error, then works: `retries=3` lets it try again
  (with a short, growing pause between attempts);
* `slow_query` takes far longer than its `timeout=0.2` seconds: it is stopped and fails
  (a timeout is not retried);
* `load` raises an error outright.

A failed step does not stop the others. What depends on a failed step is
**skipped**, and says why; everything else still runs.
"""),
        code("""
attempts = []
"""),
        code("""
%%workflow fragile --quiet
@step(retries=3)
def fetch():
    attempts.append(time.monotonic())
    if len(attempts) < 3:
        raise ConnectionError("server busy, try again")
    return {"rows": 120}


def parse(fetch):
    return fetch["rows"] * 2


@step(timeout=0.2)
async def slow_query():
    await asyncio.sleep(30)
    return "never"


def summarize(slow_query):
    return f"summary of {slow_query}"


def load():
    raise ValueError("table 'sales_2031' does not exist")


def clean(load):
    return load


def publish(clean, parse):
    return "published"
"""),
        code("fragile = %orchestrate run fragile"),
        md("""
The execution keeps the details: each step's state and number of attempts, the
errors in one line each, and the full traceback of every failure.
"""),
        code("""
for name, record in fragile.step_records.items():
    why = record.reason if record.status == "skipped" else record.error
    if record.status == "succeeded":
        why = ""
    print(f"{name:11} {record.status:10} attempts={record.attempts}  {why or ''}")
print()
print("\\n".join(fragile.errors))
"""),
        code('print(fragile.tracebacks()["load"])'),
        md("""
## Cancelling a run

`--background` returns a handle at once, so the notebook stays usable while the
run goes on (in JupyterLab its view has a Cancel button). Here we cancel it
from code, with `%orchestrate cancel`, a moment after it started.
"""),
        code("""
%%workflow long_job --quiet
def warm_up():
    time.sleep(0.1)
    return "warm"


async def crunch(warm_up):
    await asyncio.sleep(30)
    return "done"


def save(crunch):
    return crunch
"""),
        code("""
handle = %orchestrate run long_job --background
time.sleep(0.5)  # the run goes on meanwhile: warm_up finishes, crunch starts
"""),
        code("%orchestrate cancel {handle.run_id}"),
        code("""
cancelled = handle.result(timeout=10)
print(cancelled.status.value)
for name, record in cancelled.step_records.items():
    print(f"  {name:8} {record.status}")
"""),
        md("""
The cancellation is recorded like any other outcome:
"""),
        code("%orchestrate history long_job -n 1"),
    ]


# -- 04 reproducible analysis -------------------------------------------------------------------
SALES = """
%%workflow sales --cache
import random
import statistics
import time


def _round(amount):
    return round(amount, 2)


def load(rows: int = 3000, seed: int = 7):
    time.sleep(0.5)  # pretend: a slow read from a database
    rng = random.Random(seed)
    regions = ["north", "south", "east", "west"]
    return [{"region": rng.choice(regions), "amount": rng.gauss(100, 30)} for _ in range(rows)]


def clean(load):
    time.sleep(0.3)
    return [{**row, "amount": _round(row["amount"])} for row in load if row["amount"] > 0]


def by_region(clean):
    groups = {}
    for row in clean:
        groups.setdefault(row["region"], []).append(row["amount"])
    return groups


def summary(by_region):
    return {region: round(statistics.fmean(a), 2) for region, a in sorted(by_region.items())}


def outliers(clean, threshold: float = 3.0):
    amounts = [row["amount"] for row in clean]
    mean, sd = statistics.fmean(amounts), statistics.stdev(amounts)
    return [row for row in clean if abs(row["amount"] - mean) > threshold * sd]


def report(summary, outliers):
    return {"mean by region": summary, "outliers": len(outliers)}
"""

STEP_STATES = """
def states(ex):
    \"\"\"Which steps ran and which came from the cache.\"\"\"
    ran = [n for n, r in ex.step_records.items() if r.status == "succeeded"]
    cached = [n for n, r in ex.step_records.items() if r.status == "cached"]
    print(f"{ex.status.value} in {ex.duration:.2f}s; ran: {ran}; from the cache: {cached}")
"""


def _edited(old: str, new: str) -> str:
    assert old in SALES
    return SALES.replace(old, new)


READER = """
from codomyrmex_jupyter import WorkflowManager

manager = WorkflowManager()  # a new process in the same folder: nothing in memory, only the store
print("read by a fresh process from", manager.store.path)
for ex in reversed(manager.history("sales", limit=10)):
    counts = ex.performance_metrics["counts"]
    print(f"  {ex.execution_id[:8]}  {ex.status.value:9}  {counts}")
print("cache:", manager.cache_usage().entries, "entries")
"""


def reproducible_analysis() -> list[Cell]:
    """Cells of ``04_reproducible_analysis.ipynb``."""
    return [
        md("""
# A reproducible analysis: edit one step, rerun only what it affects

An analysis notebook is a loop: run everything, look, change one step, run
again. With the step cache, running again recomputes only the step you
changed and the steps downstream of it; everything else comes back from the
cache in milliseconds. Every run is recorded with its code, parameters and
environment, so you can ask why a step would run again, compare two runs,
get at the inputs of the step that failed, fix it, and go on from there.

""" + own_folder("reproducible-analysis") + """ The cache's entries are kept
beside that store too (`reproducible-analysis/.codomyrmex/cache/`).
"""),
        setup("reproducible-analysis"),
        code("""
from codomyrmex_jupyter import get_workflow_manager

manager = get_workflow_manager()
print("runs and the cache live in", manager.config_dir)
"""),
        code(STEP_STATES),
        md("""
## The analysis

Six steps, two of them slow. `--cache` caches every step of the cell (one step
alone would say `@step(cache=True)`). A step's cache key is made of its code
(comments and blank lines do not count, the `_round` helper it calls does),
its parameters and the keys of the steps it depends on.
"""),
        code(SALES),
        md("""
The first run computes everything and stores each result in the cache:
"""),
        code("first = %orchestrate run sales"),
        code("states(first)\nfirst.results[\"report\"]"),
        md("""
Running again with nothing changed takes everything from the cache:
"""),
        code("again = %orchestrate run sales\nstates(again)"),
        md("""
## Edit one step

Say the summary should show the median instead of the mean. Define the cell
again with that one change, and before running, ask what the next run would
do: `why` compares each step's key with its newest cache entry and says what
changed, down to a diff of the code.
"""),
        code(_edited(
            "    return {region: round(statistics.fmean(a), 2) for region, a in sorted(by_region.items())}",
            "    return {region: round(statistics.median(a), 2) for region, a in sorted(by_region.items())}",
        ).replace("%%workflow sales --cache", "%%workflow sales --cache --quiet")),
        code("%orchestrate why sales"),
        md("""
Only `summary` and `report` run; the drawing shows the other steps in the
cached colour.
"""),
        code("edited = %orchestrate run sales"),
        code("states(edited)"),
        md("""
`diff` compares two recorded runs: steps, code, parameters, states, durations,
result summaries and the environment.
"""),
        code("%orchestrate diff {first.execution_id[:8]} {edited.execution_id[:8]}"),
        md("""
Parameters are part of the key too: asking about a stricter outlier threshold
names the parameter and both values.
"""),
        code("%orchestrate why sales outliers -p threshold=2.5"),
        md("""
## A failure, its inputs, the fix

Now a change to `report` that fails: it divides by the number of outliers per
region, and one region has none.
"""),
        code(_edited(
            '    return {"mean by region": summary, "outliers": len(outliers)}',
            '    per_region = {r: sum(o["region"] == r for o in outliers) for r in summary}\n'
            '    return {r: round(summary[r] / per_region[r], 2) for r in summary}',
        ).replace("%%workflow sales --cache", "%%workflow sales --cache --quiet").replace(
            "round(statistics.fmean(a), 2)", "round(statistics.median(a), 2)")),
        code("broken = %orchestrate run sales"),
        code("states(broken)\nprint(broken.errors[0])"),
        md("""
`load` puts the exact keyword arguments the failed step received into the
notebook: a dict named `inputs`, and each one as a variable. They come from
this kernel's memory, the cache or the stored results, so this works after a
restart too.
"""),
        code("%orchestrate load {broken.execution_id[:8]} report"),
        code("""
print("summary:", summary)
print("outliers per region:", {r: sum(o["region"] == r for o in outliers) for r in summary})
"""),
        md("""
The `east` region has no outlier. (In a live notebook,
`%orchestrate debug RUN report` opens the post-mortem debugger on the failed
step's traceback, and `--rerun` calls the step with these inputs under the
debugger, in any kernel.)

The fix: skip the regions without outliers. Define the cell again, then rerun
the failed run from its failed steps: the steps that succeeded keep their
results and only `report` runs.
"""),
        code(_edited(
            '    return {"mean by region": summary, "outliers": len(outliers)}',
            '    per_region = {r: sum(o["region"] == r for o in outliers) for r in summary}\n'
            '    return {r: round(summary[r] / per_region[r], 2) for r in summary if per_region[r]}',
        ).replace("%%workflow sales --cache", "%%workflow sales --cache --quiet").replace(
            "round(statistics.fmean(a), 2)", "round(statistics.median(a), 2)")),
        code("fixed = %orchestrate rerun {broken.execution_id[:8]} --from-failed"),
        code("states(fixed)\nfixed.results[\"report\"]"),
        md("""
## What the cache holds, and the history

`cache` shows the entries, their size and the hit rate; `cache clear sales`
would remove them (so would deleting the folder: every entry is then a miss).
"""),
        code("%orchestrate cache"),
        md("""
Runs and cache entries live in this notebook's store, not in the kernel: a
brand-new Python process started in the same folder reads them back.
"""),
        code(f"""
import subprocess
import sys

READER = \"\"\"{READER}\"\"\"

fresh = subprocess.run([sys.executable, "-c", READER], capture_output=True, text=True, check=True)
print(fresh.stdout)
"""),
    ]


# -- 05 scale out with Dask ------------------------------------------------------------------
def scale_out_with_dask() -> list[Cell]:
    """Cells of ``05_scale_out_with_dask.ipynb``."""
    return [
        md("""
# Scale out with Dask

When one machine is not enough, the same workflow runs on a Dask cluster: only
the step calls travel, while the scheduling (dependencies, retries, timeouts,
states, the record of the run) stays in this kernel. Nothing about a workflow
changes to run it elsewhere; you only say *where* with an executor:
`--executor dask://HOST:PORT` on the magic, or `executor=` in Python (an
address or a `distributed.Client`).

So that this notebook runs anywhere, the "cluster" is a `LocalCluster`: two
worker processes on this machine, listening on the loopback interface only. With a real
cluster, use its scheduler's address instead and leave the rest as it is.

""" + own_folder("scale-out-with-dask")),
        setup("scale-out-with-dask"),
        code("""
import os

import distributed

from codomyrmex_jupyter import get_workflow_manager
from codomyrmex_jupyter.examples import sample_project

sample_project("shop")
manager = get_workflow_manager()
"""),
        md("""
## Start a cluster

Two workers with one thread each, each declaring one `GPU` (a worker resource:
a label Dask counts, see below). The Dask dashboard listens on the loopback
interface only, on a free port; every run view below links to it. The magic
wants the scheduler's address as `dask://HOST:PORT`; from Python you can pass
the `Client` itself. (`--executor dask-local` starts such a cluster for the
kernel by itself, on first use.)
"""),
        code("""
cluster = distributed.LocalCluster(
    n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0",
    resources={"GPU": 1},
)
client = distributed.Client(cluster)
dask_address = cluster.scheduler_address.replace("tcp://", "dask://")

print("scheduler:", cluster.scheduler_address)
print("workers:  ", ", ".join(sorted(client.scheduler_info()["workers"])))
print("dashboard:", client.dashboard_link)
"""),
        md("""
## A workflow of plain functions

Some real CPU work: estimate π by throwing random points at a square and
counting those that land inside the quarter circle. `plan` splits the job into
four chunks (fan-out), each `chunk_N` counts its hits with its own random seed,
and `estimate` adds them up (fan-in). Functions whose name starts with `_` are
helpers, not steps.

The run records which step ran when, but not on which worker, so each chunk
also says where it ran: `distributed.get_worker()` names the worker, and
raises outside one (then the chunk ran in this kernel).
"""),
        code("""
%%workflow monte_carlo
import random

import distributed


def _where():
    try:
        return distributed.get_worker().address
    except ValueError:  # not inside a Dask worker
        return "this kernel"


def _chunk(part):
    draw = random.Random(part["seed"]).random
    hits = sum(1 for _ in range(part["samples"]) if draw() ** 2 + draw() ** 2 <= 1.0)
    return {**part, "hits": hits, "ran_on": _where()}


def plan(samples: int = 10_000_000, seed: int = 2024):
    return [{"seed": seed + i, "samples": samples // 4} for i in range(4)]


def chunk_1(plan):
    return _chunk(plan[0])


def chunk_2(plan):
    return _chunk(plan[1])


def chunk_3(plan):
    return _chunk(plan[2])


def chunk_4(plan):
    return _chunk(plan[3])


def estimate(chunk_1, chunk_2, chunk_3, chunk_4):
    chunks = [chunk_1, chunk_2, chunk_3, chunk_4]
    hits = sum(c["hits"] for c in chunks)
    samples = sum(c["samples"] for c in chunks)
    return {"hits": hits, "samples": samples, "pi": 4 * hits / samples}
"""),
        md("""
## Run it here, then on the cluster

First in this kernel, with the default local executor:
"""),
        code("local_mc = %orchestrate run monte_carlo"),
        md("""
Then on the cluster. `{dask_address}` is filled in from the variable, as in
any line magic.
"""),
        code("dask_mc = %orchestrate run monte_carlo --executor {dask_address}"),
        md("""
The seeds are fixed, so both runs must find exactly the same numbers. Only
`ran_on` differs, which is the point.
"""),
        code("""
def without_ran_on(results):
    return {
        name: {k: v for k, v in value.items() if k != "ran_on"} if isinstance(value, dict) else value
        for name, value in results.items()
    }


same = without_ran_on(local_mc.results) == without_ran_on(dask_mc.results)
print("pi is about", dask_mc.results["estimate"]["pi"])
print("monte_carlo: same results locally and on Dask:", same)
"""),
        md("""
The per-step records of both runs, side by side: state, attempts, duration,
and where each chunk ran. On the cluster the chunks are spread over the two
workers.
"""),
        code("""
print(f"{'step':8} {'local':>22}   {'dask':>22}   ran on (dask)")
for name, here in local_mc.step_records.items():
    there = dask_mc.step_records[name]
    result = dask_mc.results[name]
    ran_on = result["ran_on"] if isinstance(result, dict) and "ran_on" in result else ""
    print(
        f"{name:8} {here.status:9} x{here.attempts} {here.duration:7.3f}s"
        f"   {there.status:9} x{there.attempts} {there.duration:7.3f}s   {ran_on}"
    )
print("executors:", local_mc.performance_metrics["executor"], "and", dask_mc.performance_metrics["executor"])
"""),
        md("""
## Is it faster?

That depends on the work and on the machine, so here are this run's numbers
rather than a promise. The local executor runs plain functions on threads of
this process; a pure-Python loop holds the interpreter lock, so the four
chunks take turns. Each Dask worker is a process of its own, so two chunks can
really run at the same time: with two workers the best case is about half the
local time. Against that, every step pays for the trip to the cluster (the
function and its inputs are serialised and sent, the result comes back), the
first run on fresh workers also imports the package there, and the workers
share the CPU with this kernel and with whatever else runs on the machine. On
a busy two-core machine the cluster can well be the slower of the two. It pays
off for steps that compute for a while, on a cluster with more cores than you
have here.

A step's duration in the table above runs from the moment it is handed to
the executor until its result is back, so on a worker with one thread the
second chunk's time includes waiting for the first.
"""),
        code("""
print(f"CPU cores here: {os.cpu_count()}")
print(f"local run: {local_mc.duration:.2f}s, Dask run: {dask_mc.duration:.2f}s "
      f"({dask_mc.duration / local_mc.duration:.0%} of the local time)")
"""),
        md("""
## A declarative workflow on the cluster

Steps that name built-in actions run on the cluster in the same way, as long
as the workers can import `codomyrmex_jupyter` (and see the files the steps
read: the workers started in this folder). This one measures the sample
package with `static_analysis.analyze_code`: after an environment check, three
analyses run side by side, each on one of its folders.
"""),
        code("""
%%workflow code_size --yaml
steps:
  - name: environment
    module: environment_setup
    action: check_environment
  - name: orders
    module: static_analysis
    action: analyze_code
    parameters: {path: shop/orders}
    dependencies: [environment]
  - name: billing
    module: static_analysis
    action: analyze_code
    parameters: {path: shop/billing}
    dependencies: [environment]
  - name: reports
    module: static_analysis
    action: analyze_code
    parameters: {path: shop/reports}
    dependencies: [environment]
"""),
        md("""
This time from Python: `manager.run_workflow` runs locally by default and on
the cluster with `executor=client`.
"""),
        code("""
local_code = manager.run_workflow("code_size")
dask_code = manager.run_workflow("code_size", executor=client)

print(f"{'folder':12} {'files':>5} {'functions':>9} {'code lines':>10} {'mean cx':>7}")
for name in ("orders", "billing", "reports"):
    a = dask_code.results[name]
    mean = a["complexity"]["mean"]
    print(f"{name:12} {a['files']:5} {a['functions']:9} {a['lines']['code']:10} {mean:7.2f}")
print(dask_code.status.value, "on", dask_code.performance_metrics["executor"])
print("code_size: same results locally and on Dask:", local_code.results == dask_code.results)
"""),
        md("""
Both runs are in the history like any other:
"""),
        code("%orchestrate history -n 4"),
        md("""
## Data stays on the cluster

A step's result stays on the worker that computed it: the next step gets it
as a Dask future, so Dask moves it from worker to worker and it never passes
through this kernel. Only what you read comes back: by default the *leaves*
(results no other step consumes) when the run ends (`--fetch leaves`; `all`
and `none` are the other choices), and any other result the moment you read
it (`execution.results["name"]`).

Here a step makes 200 MB and the next one returns its length. The kernel's
peak memory (`ru_maxrss`) does not move by 200 MB, and the big result is
still on the cluster when the run has ended:
"""),
        code("""
%%workflow big_data --quiet
def blob():
    return b"x" * 200_000_000


def size(blob):
    return len(blob)
"""),
        code("""
import resource

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
big = %orchestrate run big_data --executor {dask_address}
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

print("size:", big.results["size"])
print("still on the cluster:", big.results.on_cluster())
print("blob is a", big.results.handle("blob").describe())
print(f"kernel peak memory grew by {(after - before) / 1024:.1f} MB")
"""),
        md("""
## Worker resources

A step's `resources` that this kernel's resource pool does not define go to
Dask as worker resources: a `{"GPU": 1}` step runs only on a worker that
declares `GPU`, one at a time per GPU. A resource no worker declares fails the
step at once, naming the resources the workers do declare, rather than
waiting forever:
"""),
        code("""
from codomyrmex_jupyter import WorkflowStep

small = [{"seed": s, "samples": 200_000} for s in range(4)]
manager.create_workflow("gpu_jobs", [
    WorkflowStep("train_a", "notebook.monte_carlo", "chunk_1", parameters={"plan": small},
                 resources={"GPU": 1}, priority=5),
    WorkflowStep("train_b", "notebook.monte_carlo", "chunk_2", parameters={"plan": small},
                 resources={"GPU": 1}),
    WorkflowStep("on_tpu", "notebook.monte_carlo", "chunk_3", parameters={"plan": small},
                 resources={"TPU": 1}, max_retries=0),
])
gpu = manager.run_workflow("gpu_jobs", executor=client)
print(gpu.status.value)
for name in ("train_a", "train_b"):
    print(name, "ran on", gpu.results[name]["ran_on"])
print(gpu.errors[0])
"""),
        md("""
`priority` (an int, higher runs sooner, as in Dask) orders ready steps and is
the task's priority on the cluster. The run view links to the Dask dashboard
(the link in its header), where the same tasks show up under one name per run:
"""),
        code("gpu"),
        md("""
## Clean up

Close the client and the cluster (the worker processes end with it).
"""),
        code("""
client.close()
cluster.close()
"""),
    ]


NOTEBOOKS: dict[str, Callable[[], list[Cell]]] = {
    "01_quickstart.ipynb": quickstart,
    "02_seed_api_tour.ipynb": seed_api_tour,
    "03_resources_and_failures.ipynb": resources_and_failures,
    "04_reproducible_analysis.ipynb": reproducible_analysis,
    "05_scale_out_with_dask.ipynb": scale_out_with_dask,
}


def build(filename: str, cells: list[Cell]) -> NotebookNode:
    """A v4 notebook of ``cells``, with stable cell ids so regenerating changes nothing."""
    nb: NotebookNode = _v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    stem = filename.split("_", 1)[0]
    for i, (kind, source) in enumerate(cells):
        cell = _v4.new_markdown_cell(source) if kind == "md" else _v4.new_code_cell(source)
        cell["id"] = f"nb{stem}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(filename: str) -> str:
    """The text of notebook ``filename`` as this script writes it."""
    text: str = _nbformat.writes(build(filename, NOTEBOOKS[filename]()), version=4)
    return text + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write every notebook (or, with ``--check``, report those that are out of date)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a stored notebook is stale")
    args = parser.parse_args(argv)
    stale = []
    for filename in NOTEBOOKS:
        path = OUT / filename
        text = render(filename)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(filename)
            continue
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(OUT.parents[1])}")
    for filename in stale:
        print(f"{filename} is out of date: run python notebooks/make_notebooks.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
