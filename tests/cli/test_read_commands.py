"""codomyrmex_jupyter.cli.read_commands: list, show, history, dag, with and without --json."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from cli_helpers import Cli, cli_env
from import_blocker import blocking_script


def test_list(cli: Cli, recorded: dict[str, str]) -> None:
    table = cli("list")
    assert table.code == 0
    lines = table.out.splitlines()
    assert lines[0].startswith("2 workflow(s) in ")
    assert lines[1].split() == ["name", "steps", "version", "origin", "runs", "last", "run", "updated"]
    assert lines[2].split()[:6] == ["broken", "2", "1", "api", "1", "failed"]
    assert lines[3].split()[:6] == ["etl", "2", "1", "api", "2", "completed"]
    data = cli("list", "--json").json()
    assert [(w["name"], w["steps"], w["runs"], w["last_status"]) for w in data] == [
        ("broken", 2, 1, "failed"), ("etl", 2, 2, "completed"),
    ]
    assert data[1]["step_names"] == ["load", "clean"]
    assert data[1]["modules"] == ["t"]
    datetime.fromisoformat(data[1]["updated"])


def test_history(cli: Cli, recorded: dict[str, str]) -> None:
    table = cli("history")
    assert table.code == 0
    rows = table.out.splitlines()[2:]
    assert [r.split()[0] for r in rows] == [recorded[k][:8] for k in ("bad", "second", "first")]
    assert rows[0].split()[2] == "failed"
    data = cli("history", "etl", "-n", "1", "--json").json()
    assert len(data) == 1
    (run,) = data
    assert run["run_id"] == recorded["second"]
    assert (run["workflow"], run["status"], run["parameters"]) == ("etl", "completed", {"n": 4})
    assert run["counts"] == {"succeeded": 2}
    assert run["duration"] >= 0
    assert datetime.fromisoformat(run["end"]) >= datetime.fromisoformat(run["start"])
    assert cli("history", "broken", "--json").json()[0]["errors"][0].startswith("Step a failed")


def test_show(cli: Cli, recorded: dict[str, str]) -> None:
    text = cli("show", recorded["bad"][:8])
    assert text.code == 0
    assert text.out.splitlines()[0] == f"run {recorded['bad']}"
    assert "  status      failed" in text.out
    assert "ZeroDivisionError" in text.out  # the step's error and its traceback
    assert "traceback of a:\n" in text.out
    data = cli("show", recorded["bad"], "--json").json()
    assert data["run_id"] == recorded["bad"]
    steps = {s["name"]: s for s in data["steps"]}
    assert steps["a"]["status"] == "failed"
    assert "ZeroDivisionError" in steps["a"]["error"]
    assert steps["b"]["status"] == "skipped"
    ok = cli("show", recorded["first"], "--json").json()
    assert {s["name"]: s["result"] for s in ok["steps"]} == {"load": 3, "clean": 3}
    assert ok["metrics"]["steps"] == 2


def test_dag(cli: Cli, recorded: dict[str, str], tmp_path: Path) -> None:
    text = cli("dag", "etl")
    assert text.code == 0
    assert text.out.splitlines() == [
        "etl: 2 step(s) in 2 layer(s)", "    1  load", "    2  clean  <- load",
    ]
    doc = cli("dag", "etl", "--json").json()
    assert doc["workflow"] == "etl"
    assert [n["id"] for n in doc["nodes"]] == ["load", "clean"]
    assert doc["edges"] == [["load", "clean"]]
    svg = tmp_path / "out" / "etl.svg"
    svg.parent.mkdir()
    assert cli("dag", "etl", "-o", str(svg)).out.strip() == f"wrote {svg}"
    assert svg.read_text().startswith("<svg") and ">clean<" in svg.read_text()
    png = tmp_path / "etl.png"
    assert cli("dag", "etl", "-o", str(png)).code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


_NO_HEAVY = blocking_script(
    ("ipywidgets", "matplotlib", "networkx", "IPython", "traitlets", "asyncio"),
    """
    from codomyrmex_jupyter.cli import main
    code = main(sys.argv[1:])
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(BLOCKED))
    print("LOADED", loaded, file=sys.stderr)
    sys.exit(code)
    """,
)


@pytest.mark.parametrize(
    "args",
    [("list",), ("list", "--json"), ("history",), ("history", "etl", "--json"), ("show", "{first}"),
     ("show", "{first}", "--json"), ("dag", "etl"), ("dag", "etl", "--json"), ("dag", "etl", "-o", "x.svg")],
)
def test_read_commands_import_no_widget_plot_graph_or_event_loop_library(
    recorded: dict[str, str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    argv = [a.format(**recorded) for a in args]
    proc = subprocess.run([sys.executable, "-c", _NO_HEAVY, *argv], capture_output=True, text=True,
                          env=cli_env(), cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stderr


def test_show_names_an_ambiguous_prefix(cli: Cli, _isolated_home: Path) -> None:
    from store_builders import big_store

    big_store(_isolated_home, 3)  # ids run000000xx..., run000001xx..., run000002xx...
    result = cli("show", "run0")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "run id prefix 'run0' matches 3 runs (run000000" in line
    assert cli("show", "run000001", "--json").json()["run_id"].startswith("run000001")



def test_diff(cli: Cli, recorded: dict[str, str]) -> None:
    text = cli("diff", recorded["first"][:8], recorded["second"][:8])
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    assert lines[0] == (f"diff etl [{recorded['first'][:8]}] v1 completed -> "
                        f"etl [{recorded['second'][:8]}] v1 completed")
    assert "  run parameter 'n': 3 -> 4" in lines
    data = cli("diff", recorded["first"], recorded["bad"], "--json").json()
    assert (data["a"]["workflow"], data["b"]["workflow"], data["identical"]) == ("etl", "broken", False)
    datetime.fromisoformat(data["a"]["start"])
    assert {s["step"]: s["change"] for s in data["steps"]} == {
        "load": "removed", "clean": "removed", "a": "added", "b": "added",
    }
    missing = cli("diff", recorded["first"], "ffffffff")
    assert missing.code == 2
    assert len(missing.err.splitlines()) == 1 and "ffffffff" in missing.err
