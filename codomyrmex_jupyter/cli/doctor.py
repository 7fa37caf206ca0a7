"""``doctor``: check what a new user trips over, and say how to fix each thing.

Checks, each ``ok``, ``warn`` (works, but something is missing) or ``fail``:

* the store: where it is and why (``--home``, ``$CODOMYRMEX_HOME`` or the
  default), that its directory can be written, that the file is a
  codomyrmex database of a schema this package reads, and that SQLite finds
  it sound (``PRAGMA quick_check``). The file is opened read-only: the doctor
  never changes it.
* the JupyterLab extension: installed and enabled in the ``jupyter`` on PATH
  (``jupyter labextension list``).
* the kernel notebooks use (``python3`` unless ``--kernel``): its Python can
  import this package (``jupyter kernelspec list``, then that Python).
* what optional features need: ``distributed`` (the ``dask`` extra, for
  ``--executor dask://``) and ``nest_asyncio2`` (``%orchestrate config --loop
  nested``).

Exit code 1 when a check fails, else 0.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import click

from .. import __version__
from ..engine.store import APPLICATION_ID, SCHEMA_VERSION
from .common import State, echo_json, state

__all__ = ["Check", "doctor", "run_checks"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXTENSION = "codomyrmex-jupyter"
_TIMEOUT = 120


@dataclass
class Check:
    """One check: its status, what was found, and how to fix it."""

    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


# -- store ------------------------------------------------------------------------------------
def check_store(st: State) -> list[Check]:
    """Location, permissions, identity, schema version and soundness of the store."""
    home, db = st.home, st.database
    checks = [Check("store location", "ok", f"{db} ({st.location.why})")]
    if not home.exists():
        checks.append(Check("store directory", "warn", f"{home} does not exist yet",
                            "nothing to do: the first run creates it (or pass --home DIR)"))
        return checks
    if not os.access(home, os.W_OK | os.X_OK):
        checks.append(Check("store directory", "fail", f"{home} is not writable by this user",
                            f"chmod u+rwx {home}, or point --home / $CODOMYRMEX_HOME elsewhere"))
    else:
        checks.append(Check("store directory", "ok", f"{home} is writable"))
    if not db.exists():
        checks.append(Check("store file", "warn", f"{db.name} does not exist yet",
                            "nothing to do: the first run or %%workflow creates it"))
        return checks
    checks.append(_check_database(db))
    return checks


def _check_database(db: Path) -> Check:
    if not os.access(db, os.R_OK | os.W_OK):
        return Check("store file", "fail", f"{db} is not readable and writable by this user",
                     f"chmod u+rw {db}")
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return Check("store file", "fail", f"cannot open {db}: {exc}", "check the path and permissions")
    try:
        return _inspect(conn, db)
    except sqlite3.DatabaseError as exc:
        return Check("store file", "fail", f"{db} is not a readable SQLite database ({exc})",
                     "move it away (it is never overwritten) and let the next run start a new one")
    finally:
        conn.close()


def _inspect(conn: sqlite3.Connection, db: Path) -> Check:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != APPLICATION_ID:
        return Check("store file", "fail", f"{db} is a database of another program",
                     "point --home / $CODOMYRMEX_HOME at another directory; the file is left untouched")
    if version > SCHEMA_VERSION:
        return Check("store file", "fail",
                     f"schema {version} is newer than this package reads ({SCHEMA_VERSION})",
                     "upgrade: pip install -U codomyrmex_jupyter (in every environment that uses it)")
    sound = conn.execute("PRAGMA quick_check").fetchone()[0]
    if sound != "ok":
        return Check("store file", "fail", f"SQLite reports damage: {sound}",
                     "copy what you need with sqlite3 .recover, then move the file away")
    runs = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    workflows = conn.execute("SELECT COUNT(*) FROM workflows").fetchone()[0]
    size = db.stat().st_size
    detail = f"schema {version}, {workflows} workflow(s), {runs} run(s), {size / 1024:.0f} KiB"
    if version < SCHEMA_VERSION:
        return Check("store file", "warn", detail + f" (older than {SCHEMA_VERSION})",
                     "nothing to do: it is migrated when a kernel or a run next opens it")
    return Check("store file", "ok", detail)


# -- Jupyter ----------------------------------------------------------------------------------------
def _jupyter() -> str | None:
    return shutil.which("jupyter")


def _output(argv: list[str]) -> tuple[int, str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    return proc.returncode, _ANSI.sub("", proc.stdout + proc.stderr)


def _python_of(jupyter: str) -> str:
    """The interpreter that runs ``jupyter`` (its shebang), else the one beside it."""
    try:
        with open(jupyter, "rb") as fh:
            first = fh.readline().decode("utf-8", "replace").strip()
    except OSError:
        first = ""
    if first.startswith("#!") and "python" in first:
        return first[2:].strip().split()[0]
    return str(Path(jupyter).with_name("python"))


def check_lab_extension() -> Check:
    """The lab extension is listed, enabled and OK by the ``jupyter`` on PATH."""
    jupyter = _jupyter()
    if jupyter is None:
        return Check("lab extension", "warn", "no `jupyter` on PATH",
                     "pip install jupyterlab (or activate the environment that has it)")
    code, text = _output([jupyter, "labextension", "list"])
    line = next((ln for ln in text.splitlines() if ln.strip().startswith(_EXTENSION + " ")), None)
    install = f"{_python_of(jupyter)} -m pip install codomyrmex_jupyter"
    if line is None:
        detail = f"not installed in the Jupyter at {jupyter}"
        return Check("lab extension", "fail", detail if code == 0 else f"{detail} ({text.strip()[:200]})",
                     install)
    if "disabled" in line:
        return Check("lab extension", "fail", f"installed but disabled in {jupyter}",
                     f"jupyter labextension enable {_EXTENSION}")
    if "OK" not in line:
        return Check("lab extension", "fail", f"installed but not loadable: {line.strip()}", install)
    return Check("lab extension", "ok", f"{line.strip()} ({jupyter})")


def check_kernel(kernel: str) -> Check:
    """The kernel's Python imports this package (and which version)."""
    jupyter = _jupyter()
    if jupyter is None:
        return Check(f"kernel {kernel}", "warn", "no `jupyter` on PATH to find kernels",
                     "pip install jupyterlab (or activate the environment that has it)")
    code, text = _output([jupyter, "kernelspec", "list", "--json"])
    try:
        specs = json.loads(text[text.index("{"):]).get("kernelspecs", {}) if code == 0 else {}
    except ValueError:
        specs = {}
    spec = specs.get(kernel)
    if spec is None:
        known = ", ".join(sorted(specs)) or "none"
        return Check(f"kernel {kernel}", "fail", f"no kernel named {kernel!r} (kernels: {known})",
                     "python -m ipykernel install --user (from the environment that has this package)")
    argv = spec.get("spec", {}).get("argv") or ["python"]
    python = argv[0]
    if python in ("python", "python3") or not os.path.isabs(python):
        python = _python_of(jupyter)  # Jupyter runs a bare "python" with its own interpreter
    code, text = _output([python, "-c", "import codomyrmex_jupyter as c; print(c.__version__)"])
    if code != 0:
        return Check(f"kernel {kernel}", "fail", f"its Python ({python}) cannot import codomyrmex_jupyter",
                     f"{python} -m pip install codomyrmex_jupyter")
    version = text.strip().splitlines()[-1] if text.strip() else "?"
    if version != __version__:
        return Check(f"kernel {kernel}", "warn", f"{python} has codomyrmex_jupyter {version}, "
                     f"this command is {__version__}", f"{python} -m pip install -U codomyrmex_jupyter")
    return Check(f"kernel {kernel}", "ok", f"{python} has codomyrmex_jupyter {version}")


def check_extras() -> list[Check]:
    """Packages that enable a feature, and what they enable."""
    extras = [
        ("distributed", "extra dask", "--executor dask://HOST:PORT",
         "pip install 'codomyrmex_jupyter[dask]'"),
        ("nest_asyncio2", "nested loop mode", "%orchestrate config --loop nested",
         "pip install nest-asyncio2 (a dependency of codomyrmex_jupyter: reinstall it)"),
    ]
    out = []
    for module, name, feature, fix in extras:
        found = importlib.util.find_spec(module) is not None
        out.append(Check(name, "ok" if found else "warn",
                         f"{module} {'installed' if found else 'missing'}: {feature}", "" if found else fix))
    return out


def run_checks(st: State, kernel: str = "python3") -> list[Check]:
    """Every check, in the order they are shown."""
    return [*check_store(st), check_lab_extension(), check_kernel(kernel), *check_extras()]


_MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


@click.command()
@click.option("--kernel", default="python3", show_default=True, metavar="NAME",
              help="The kernel your notebooks use.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx: click.Context, kernel: str, as_json: bool) -> int:
    """Check the store, the JupyterLab extension, the kernel and the extras; say how to fix each."""
    checks = run_checks(state(ctx), kernel)
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        echo_json({"ok": not failed, "checks": [asdict(c) for c in checks]})
    else:
        width = max(len(c.name) for c in checks)
        for c in checks:
            click.echo(f"[{_MARKS[c.status]}] {c.name.ljust(width)}  {c.detail}")
            if c.fix:
                click.echo(f"       {' ' * width}  fix: {c.fix}")
        click.echo("problems found: see the fix lines above" if failed else "no problems found")
    return 1 if failed else 0

