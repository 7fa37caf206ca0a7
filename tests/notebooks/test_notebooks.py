"""Each tutorial notebook runs top to bottom in a fresh kernel and shows what it promises."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.kernel

DAG_MIME = "application/vnd.codomyrmex.dag+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
Runner = Callable[[str], Any]


def _ran_cleanly(executed: Any) -> None:
    report = executed.error_report()
    assert not report, f"error output in {executed.name}:\n{report}"


def test_quickstart(run_notebook: Runner, examples: Path) -> None:
    nb = run_notebook("01_quickstart.ipynb")
    _ran_cleanly(nb)
    assert (examples / "quickstart" / ".codomyrmex" / "codomyrmex.sqlite3").is_file()  # its own store
    board = nb.data("application/vnd.codomyrmex.dashboard+json")[-1]
    assert {r["workflow"] for r in board["runs"]} == {"etl"} and len(board["runs"]) == 3  # its runs only
    docs = nb.data(DAG_MIME)
    assert {d["kind"] for d in docs} == {"workflow", "run"}
    assert all(d["workflow"] == "etl" for d in docs)
    run_doc = next(d for d in docs if d["kind"] == "run")
    assert run_doc["status"] == "completed"
    assert {n["state"] for n in run_doc["nodes"]} == {"succeeded"}
    assert any("<svg" in html for html in nb.data("text/html"))
    assert not nb.data(WIDGET_MIME), "an output needs a live widget: it would not reopen without a kernel"
    assert all("live" not in d for d in docs), "a run output did not settle into its final document"
    text = nb.text()
    assert "66 rows, total 3267, starting [1, 2, 4, 5, 7]" in text  # n=100
    assert "666 rows, total 332667" in text  # the background run, n=1000
    assert "6 rows, total 27" in text  # the plain-Python run, n=10


def test_seed_api_tour(run_notebook: Runner, examples: Path) -> None:
    nb = run_notebook("02_seed_api_tour.ipynb")
    _ran_cleanly(nb)
    text = nb.text()
    for line in (
        "Workflow: code_analysis",
        "Workflow completed successfully",
        "Success rate: 100.0%",
        "Allocated 50.0 of cpu_1",
        "available: 50.0",
        "released: True",
        "Workflow execution result: True",
        "Project: example_project",
        "Updated description active {'key': 'value'}",
        "cpu_intensive_task: completed, result 'action1 done'",
        "memory_intensive_task: completed, result 'action2 done'",
        "CPU usage: 0.0 (peak 100.0)",
    ):
        assert line in text, f"{line!r} not printed by the tour"
    assert re.search(r"setup_task\s+completed", text)
    assert re.search(r"task session_task1: cancelled", text)
    # the tour kept its projects in its own store, in its own folder
    assert (examples / "seed-api-tour" / ".codomyrmex" / "projects" / "my_project" / "README.md").is_file()
    assert (examples / "seed-api-tour" / "shop" / "orders" / "cart.py").is_file()


def test_resources_and_failures(run_notebook: Runner) -> None:
    nb = run_notebook("03_resources_and_failures.ipynb")
    _ran_cleanly(nb)
    text = nb.text()
    assert "GPUs in use now: 0, at peak: 2 of 2" in text
    assert "best model: ('huge', 0.9)" in text
    for pattern in (
        r"fetch\s+succeeded\s+attempts=3",
        r"slow_query\s+failed\s+attempts=1\s+StepTimeout",
        r"summarize\s+skipped\s+attempts=0\s+dependency 'slow_query' failed",
        r"load\s+failed\s+attempts=1\s+ValueError: table 'sales_2031' does not exist",
        r"clean\s+skipped",
        r"publish\s+skipped",
        r"^cancelled$",
        r"warm_up\s+succeeded",
        r"crunch\s+cancelled",
    ):
        assert re.search(pattern, text, re.MULTILINE), f"{pattern!r} not in the outputs"
    statuses = {(d["workflow"], d.get("status")) for d in nb.data("application/vnd.codomyrmex.dag+json")}
    assert ("fragile", "failed") in statuses
    assert ("long_job", "cancelled") in statuses


def test_reproducible_analysis(run_notebook: Runner, examples: Path, kernel_env: Path) -> None:
    nb = run_notebook("04_reproducible_analysis.ipynb")
    _ran_cleanly(nb)
    text = nb.text()
    everything = "['load', 'clean', 'by_region', 'summary', 'outliers', 'report']"
    assert f"ran: {everything}; from the cache: []" in text
    assert f"ran: []; from the cache: {everything}" in text
    # the edit of one step: only it and its descendant run
    assert ("ran: ['summary', 'report']; from the cache: ['load', 'clean', 'by_region', 'outliers']"
            in text)
    assert "summary: miss: code changed" in text
    assert "+    return {region: round(statistics.median(a), 2)" in text
    assert "report: miss: upstream 'summary' changed" in text
    assert "outliers: miss: parameter 'threshold' 3.0 -> 2.5" in text
    assert "failed in" in text and "ZeroDivisionError" in text
    assert "outliers per region: {'east': 0," in text
    # from the failed steps: what succeeded is kept, only report runs
    assert re.search(r"completed in [0-9.]+s; ran: \['report'\]; from the cache: "
                     r"\['load', 'clean', 'by_region', 'summary', 'outliers'\]", text)
    fresh = text[text.index("read by a fresh process from") :]
    store = examples / "reproducible-analysis" / ".codomyrmex"
    assert str(store) in fresh.splitlines()[0]  # the notebook's own store, found from its folder
    assert not (kernel_env / ".codomyrmex").exists()  # the home folder was left alone
    assert any((store / "cache").iterdir())  # the cache's entries beside the store
    assert len(re.findall(r"^  [0-9a-f]{8}  (completed|failed)", fresh, re.MULTILINE)) == 5
    assert re.search(r"^cache: \d+ entries", fresh, re.MULTILINE)
    runs = [d for d in nb.data(DAG_MIME) if d["kind"] == "run"]
    edited = [d for d in runs if sorted(n["state"] for n in d["nodes"]).count("cached") == 4]
    assert edited, "no run drawing shows the four cached steps"
    assert {n["cache"] for n in edited[0]["nodes"] if n["state"] == "cached"} == {"hit"}
    assert all("live" not in d for d in runs), "a run output did not settle into its final document"
    assert any("cached" in html and "diff" in html for html in nb.data("text/html"))


@pytest.mark.dask
def test_scale_out_with_dask(run_notebook: Runner) -> None:
    pytest.importorskip("distributed")
    nb = run_notebook("05_scale_out_with_dask.ipynb")
    _ran_cleanly(nb)
    text = nb.text()
    assert "monte_carlo: same results locally and on Dask: True" in text
    assert "code_size: same results locally and on Dask: True" in text
    assert "executors: local and dask" in text
    assert "completed on dask" in text
    listed = re.search(r"^workers: +(.+)$", text, re.MULTILINE)
    assert listed, "the notebook did not list the cluster's workers"
    workers = set(listed[1].split(", "))
    assert len(workers) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in workers)
    ran_on = dict(re.findall(r"^(chunk_\d) +succeeded x1 .+ (tcp://\S+)$", text, re.MULTILINE))
    assert sorted(ran_on) == ["chunk_1", "chunk_2", "chunk_3", "chunk_4"]
    assert set(ran_on.values()) <= workers  # every chunk ran on a worker of the cluster
    for row in ("plan", "estimate"):
        assert re.search(rf"^{row} +succeeded x1 +[\d.]+s +succeeded x1 +[\d.]+s *$", text, re.MULTILINE)
    runs = [d for d in nb.data(DAG_MIME) if d["kind"] == "run"]
    assert [(d["workflow"], d["status"]) for d in runs[:2]] == [("monte_carlo", "completed")] * 2
    # the 200 MB case: the length came back, the blob stayed on the cluster, the kernel did not grow
    assert "size: 200000000" in text
    assert "still on the cluster: ['blob']" in text
    assert "blob is a bytes on the Dask cluster, 200.0 MB" in text
    grew = re.search(r"kernel peak memory grew by ([\d.]+) MB", text)
    assert grew and float(grew[1]) < 100, grew
    # worker resources: GPU steps ran on workers, the TPU step failed at once naming GPU
    assert re.search(r"^train_a ran on tcp://127\.0\.0\.1:\d+$", text, re.MULTILINE)
    assert "'TPU', which no Dask worker declares (workers declare: GPU)" in text
    # the dashboard link: printed, and carried by the run documents of the Dask runs
    link = re.search(r"^dashboard: (http://127\.0\.0\.1:\d+/status)$", text, re.MULTILINE)
    assert link, "the notebook did not print the dashboard link"
    dask_runs = [d for d in runs if d["workflow"] in ("big_data", "gpu_jobs")]
    assert dask_runs and all(d.get("dashboard") == link[1] for d in dask_runs)
