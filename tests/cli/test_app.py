"""codomyrmex_jupyter.cli.app: the group, --home, exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import SCRIPT, Cli, cli_env

from codomyrmex_jupyter import __version__

COMMANDS = ("list", "show", "history", "dag", "diff", "run", "prune", "gc", "doctor")


def test_help_lists_every_command(cli: Cli) -> None:
    result = cli("--help")
    assert result.code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.out
    for name in COMMANDS:
        sub = cli(name, "--help")
        assert sub.code == 0, name
        assert sub.out.startswith(f"Usage: codomyrmex-jupyter {name}")


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert (result.code, result.out.strip()) == (0, f"codomyrmex-jupyter, version {__version__}")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("frobnicate",), "No such command 'frobnicate'"),
        (("history", "-n", "zero"), "'zero' is not a valid integer"),
        (("history", "-n", "0"), "0 is not in the range x>=1"),
        (("run",), "Missing argument 'NAME'"),
        (("run", "sum", "--bogus"), "No such option '--bogus'"),
        (("run", "sum", "-p", "1x=2"), "parameter '1x=2' must look like name=value"),
        (("run", "sum", "--import", "flows", "-p", "m=2"), "no step of workflow 'sum' takes the run parameter 'm'; it accepts: n"),
        (("run", "sum", "--timeout", "-1"), "-1.0 is not in the range x>0"),
        (("run", "sum", "--executor", "tcp://x"), "--executor must be 'local', 'dask-local' or dask://HOST:PORT"),
        (("run", "sum", "--import", "no_such_module_here"), "no module named 'no_such_module_here'"),
        (("prune",), "say which runs to remove: --keep N and/or --older-than DAYS"),
        (("prune", "--keep", "-3"), "-3 is not in the range x>=0"),
        (("dag", "x", "-o", "out.gif"), "write a .svg or a .png file"),
    ],
)
def test_usage_errors_are_one_line_with_exit_2(
    cli: Cli, recorded: dict[str, str], flows: Path, args: tuple[str, ...], fragment: str
) -> None:
    if args[0] == "dag":
        args = ("dag", "etl", *args[2:])
    result = cli(*args)
    assert result.code == 2, result
    assert result.out == ""
    (line,) = result.err.splitlines()
    assert fragment in line
    assert line.startswith("codomyrmex-jupyter")
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("show", "zzzzzz"), "no run with id 'zzzzzz'; see `codomyrmex-jupyter history` for run ids"),
        (("show", "ab"), "run id 'ab' is too short: give at least 4 characters"),
        (("history", "nope"), "Workflow 'nope' not found; defined: broken, etl"),
        (("dag", "nope"), "Workflow 'nope' not found"),
        (("run", "nope"), "Workflow 'nope' not found"),
    ],
)
def test_unknown_names_exit_2(cli: Cli, recorded: dict[str, str], args: tuple[str, ...], fragment: str) -> None:
    result = cli(*args)
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert fragment in line


def test_missing_store_is_named_and_not_created(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "nowhere"
    result = cli("--home", str(home), "list")
    assert result.code == 2
    assert f"no codomyrmex store at {home / 'codomyrmex.sqlite3'}" in result.err
    assert not home.exists()


def test_a_foreign_file_is_a_one_line_error_and_left_alone(cli: Cli, tmp_path: Path) -> None:
    home = tmp_path / "foreign"
    home.mkdir()
    db = home / "codomyrmex.sqlite3"
    db.write_bytes(b"not a database at all" * 100)
    result = cli("--home", str(home), "list")
    assert result.code == 1
    (line,) = result.err.splitlines()
    assert "is not a readable codomyrmex database" in line
    assert db.read_bytes() == b"not a database at all" * 100


def test_home_option_wins_over_the_environment(cli: Cli, recorded: dict[str, str], tmp_path: Path) -> None:
    from_env = cli("list", "--json")
    assert [w["name"] for w in from_env.json()] == ["broken", "etl"]
    other = tmp_path / "other"
    result = cli("--home", str(other), "list")
    assert result.code == 2
    assert str(other / "codomyrmex.sqlite3") in result.err


def test_without_home_or_environment_the_package_default_is_used(cli: Cli, tmp_path: Path) -> None:
    result = cli("list", env={"HOME": str(tmp_path / "user"), "CODOMYRMEX_HOME": None})
    assert result.code == 2
    assert str(tmp_path / "user" / ".codomyrmex" / "codomyrmex.sqlite3") in result.err


def test_a_project_store_is_found_as_a_kernel_finds_it(cli: Cli, tmp_path: Path) -> None:
    from codomyrmex_jupyter.engine.store import Store

    Store(tmp_path / "project" / ".codomyrmex").close()
    below = tmp_path / "project" / "notebooks" / "deep"
    below.mkdir(parents=True)
    env: dict[str, str | None] = {"CODOMYRMEX_HOME": None, "HOME": str(tmp_path / "user")}
    assert cli("list", "--json", cwd=below, env=env).json() == []
    data = cli("doctor", "--json", cwd=below, env={**env, "PATH": str(tmp_path / "no-bin")}).json()
    location = next(c for c in data["checks"] if c["name"] == "store location")
    assert location["detail"].startswith(str(tmp_path / "project" / ".codomyrmex" / "codomyrmex.sqlite3"))
    assert "the nearest .codomyrmex/ folder" in location["detail"]


def test_python_dash_m_is_the_same_command_line(recorded: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "codomyrmex_jupyter", "history", "etl", "--json"],
        capture_output=True, text=True, env=cli_env(), cwd=tmp_path, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert {r["run_id"] for r in __import__("json").loads(proc.stdout)} == {
        recorded["first"], recorded["second"]
    }


def test_broken_pipe_is_quiet(recorded: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.Popen([SCRIPT, "history", "-n", "100"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env(), cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()  # the reader goes away, as `| head` does
    assert proc.wait(timeout=60) == 0
    assert b"Traceback" not in proc.stderr.read()
