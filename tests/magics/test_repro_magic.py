"""%orchestrate why | diff | rerun | load | debug | cache | config --cache-max-bytes, and %%workflow --cache."""

from __future__ import annotations

import io
import pdb
import sys
from typing import Any

import pytest

from codomyrmex_jupyter import get_workflow_manager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus
from codomyrmex_jupyter.magics import repro_commands

CELL = '''\
def _double(x):
    return x * 2

@step(cache=True)
def load(n: int = 3):
    return list(range(n))

@step(cache=True, version="1")
def clean(load):
    scale = 10
    return [_double(x) for x in load]

def summarize(clean, divisor: int = 1):
    total = sum(clean)
    return total / divisor
'''


@pytest.fixture
def etl(ip: Any) -> Any:
    from codomyrmex_jupyter import step

    ip.user_ns["step"] = step
    ip.run_cell_magic("workflow", "etl --quiet", CELL)
    yield ip
    ip.user_ns.pop("step", None)
    for name in ("inputs", "divisor", "_double"):
        ip.user_ns.pop(name, None)


def caches(ex: Any) -> dict[str, Any]:
    return {n: r.cache for n, r in ex.step_records.items()}


def test_step_options_and_the_cell_flag(etl: Any) -> None:
    steps = {s.name: s for s in get_workflow_manager().get_workflow("etl") or []}
    assert (steps["load"].cache, steps["clean"].version, steps["summarize"].cache) == (True, "1", False)
    etl.run_cell_magic("workflow", "all --quiet --cache", "def a():\n    return 1\n")
    assert [s.cache for s in get_workflow_manager().get_workflow("all") or []] == [True]


def test_bad_step_options_are_one_line_errors(ip: Any, usage_error: Any) -> None:
    assert "@step(cache=...) must be True or False" in usage_error("w", "@step(cache=1)\ndef a():\n    pass\n")
    assert "@step(version=...) must be a string" in usage_error("w", "@step(version=[1])\ndef a():\n    pass\n")


def test_run_cache_flags_and_why(etl: Any) -> None:
    first = etl.run_line_magic("orchestrate", "run etl")
    assert caches(first) == {"load": "miss: no entry", "clean": "miss: no entry", "summarize": None}
    second = etl.run_line_magic("orchestrate", "run etl")
    assert caches(second) == {"load": "hit", "clean": "hit", "summarize": None}
    third = etl.run_line_magic("orchestrate", "run etl --cache")
    assert caches(third)["summarize"] == "miss: no entry"
    assert set(caches(etl.run_line_magic("orchestrate", "run etl --no-cache")).values()) == {None}
    assert set(caches(etl.run_line_magic("orchestrate", "run etl --force")).values()) == {"miss: forced", None}
    why = etl.run_line_magic("orchestrate", "why etl -p n=4")
    assert why["load"].outcome == "miss: parameter 'n' 3 -> 4"
    assert etl.run_line_magic("orchestrate", "why etl summarize --cache")["summarize"].hit
    etl.run_cell_magic("workflow", "etl --quiet", CELL.replace("x * 2", "x * 5"))
    text = str(etl.run_line_magic("orchestrate", "why etl clean"))
    assert "miss: code changed" in text and "+    return x * 5" in text


def test_diff_rerun_load_and_cache(etl: Any, capsys: pytest.CaptureFixture[str]) -> None:
    a = etl.run_line_magic("orchestrate", "run etl -p n=2")
    etl.run_cell_magic("workflow", "etl --quiet", CELL.replace("return total / divisor", "return total / (divisor - 1)"))
    b = etl.run_line_magic("orchestrate", "run etl -p n=2")
    assert b.status is WorkflowStatus.FAILED
    diff = etl.run_line_magic("orchestrate", f"diff {a.execution_id[:8]} {b.execution_id[:8]}")
    summary = {s.step: s for s in diff.steps}["summarize"]
    assert summary.state == ("succeeded", "failed") and summary.code_changed
    table = etl.run_line_magic("orchestrate", f"load {b.execution_id[:8]} summarize")
    assert etl.user_ns["inputs"] == {"clean": [0, 2]}  # exactly what it got: divisor kept its default
    assert etl.user_ns["clean"] == [0, 2] and "divisor" not in etl.user_ns
    assert "inputs" in repr(table)
    etl.run_cell_magic("workflow", "etl --quiet", CELL)
    fixed = etl.run_line_magic("orchestrate", f"rerun {b.execution_id[:8]} --from-failed")
    assert fixed.status is WorkflowStatus.COMPLETED and fixed.results["summarize"] == 2.0
    assert fixed.step_records["load"].status == "cached"
    assert fixed.step_records["summarize"].status == "succeeded"
    usage = etl.run_line_magic("orchestrate", "cache")
    assert "hit rate" in repr(usage) and "etl" in repr(usage)
    cleared = etl.run_line_magic("orchestrate", "cache clear etl")
    assert "removed" in repr(cleared) and "of 'etl'" in repr(cleared)
    assert get_workflow_manager().cache_usage().entries == 0


def test_errors_are_one_line_usage_errors(etl: Any, usage_error: Any) -> None:
    assert "no run with id 'deadbeef'" in usage_error("rerun deadbeef")
    assert "no run with id 'deadbeef'" in usage_error("diff deadbeef cafebabe")
    ex = etl.run_line_magic("orchestrate", "run etl")
    assert "no step 'nope'" in usage_error(f"load {ex.execution_id[:8]} nope")
    assert "did not fail" in usage_error(f"debug {ex.execution_id[:8]} load")
    assert "is not a size" in usage_error("config --cache-max-bytes lots")
    assert "invalid choice: 'etl' (choose from 'clear')" in usage_error("cache etl")
    assert "unknown workflow" in usage_error("why nope").lower() or "nope" in usage_error("why nope")


def test_config_cache_max_bytes_is_kept_for_later_kernels(etl: Any) -> None:
    table = etl.run_line_magic("orchestrate", "config --cache-max-bytes 2MiB")
    assert "2097152 (2.0 MiB)" in repr(table)
    assert get_workflow_manager().cache_max_bytes == 2 * 1024**2
    from codomyrmex_jupyter import WorkflowManager

    assert WorkflowManager(config_dir=get_workflow_manager().config_dir).cache_max_bytes == 2 * 1024**2


@pytest.mark.parametrize(("text", "size"), [
    ("5GiB", 5 * 2**30), ("500MB", 500 * 10**6), ("1e3", 1000), ("0", 0), (2048, 2048), ("1_000 kb", 10**6),
])
def test_parse_bytes(text: Any, size: int) -> None:
    assert repro_commands.parse_bytes(text) == size


def test_debug_post_mortem_with_a_scripted_debugger(etl: Any) -> None:
    etl.run_cell_magic("workflow", "etl --quiet", CELL.replace("return total / divisor", "return total / (divisor - 1)"))
    failed = etl.run_line_magic("orchestrate", "run etl")
    out = io.StringIO()
    debugger = pdb.Pdb(stdin=io.StringIO("p total, divisor\nq\n"), stdout=out)
    repro_commands.debug(manager=get_workflow_manager(), run_id=failed.execution_id, step="summarize",
                         debugger=debugger)
    text = out.getvalue()
    assert "ZeroDivisionError" in text or "(divisor - 1)" in text
    assert "(6, 1)" in text  # the failed frame's locals


def test_debug_rerun_calls_the_step_under_the_debugger(etl: Any) -> None:
    ex = etl.run_line_magic("orchestrate", "run etl")
    out = io.StringIO()
    debugger = pdb.Pdb(stdin=io.StringIO("n\np scale\nc\n"), stdout=out)
    result = repro_commands.debug(manager=get_workflow_manager(), run_id=ex.execution_id, step="clean",
                                  rerun=True, debugger=debugger)
    assert result == [0, 2, 4]
    assert "(Pdb) 10\n" in out.getvalue() and "-> scale = 10" in out.getvalue()


def test_debug_rerun_of_an_async_step(ip: Any) -> None:
    ip.run_cell_magic("workflow", "aw --quiet", "import asyncio\n\nasync def wait(n: int = 2):\n"
                      "    doubled = n * 2\n    await asyncio.sleep(0)\n    return doubled\n")
    ex = ip.run_line_magic("orchestrate", "run aw")
    out = io.StringIO()
    debugger = pdb.Pdb(stdin=io.StringIO("n\np doubled\nc\n"), stdout=out)
    result = repro_commands.debug(manager=get_workflow_manager(), run_id=ex.execution_id, step="wait",
                                  rerun=True, debugger=debugger)
    assert result == 4 and "(Pdb) 4\n" in out.getvalue()


def test_the_debug_magic_reads_the_kernel_stdin(etl: Any, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    etl.run_cell_magic("workflow", "etl --quiet", CELL.replace("return total / divisor", "return total / (divisor - 1)"))
    failed = etl.run_line_magic("orchestrate", "run etl")
    monkeypatch.setattr(sys, "stdin", io.StringIO("p total * 7\nq\n"))
    assert etl.run_line_magic("orchestrate", f"debug {failed.execution_id[:8]} summarize") is None
    assert "42" in capsys.readouterr().out
