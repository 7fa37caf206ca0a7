"""The run recorder: metrics, and an API that imports where POSIX-only modules do not exist."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from codomyrmex_jupyter import WorkflowStep

ROOT = Path(__file__).resolve().parents[2]

# Import every module of the package with the POSIX-only modules missing, as on
# Windows, then record a run (the recorder reads peak memory where it can).
WITHOUT_POSIX = textwrap.dedent(
    """
    import importlib, pkgutil, sys, tempfile

    class NoPosix:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {"resource", "fcntl", "termios", "pwd", "grp"}:
                raise ImportError(f"No module named {name!r} (as on Windows)")
            return None

    for name in ("resource", "fcntl", "termios", "pwd", "grp"):
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, NoPosix())
    import codomyrmex_jupyter
    failed = []
    for mod in pkgutil.walk_packages(codomyrmex_jupyter.__path__, "codomyrmex_jupyter."):
        try:
            importlib.import_module(mod.name)
        except ImportError as exc:
            if "as on Windows" in str(exc):  # only the blocked modules count (not a missing extra)
                failed.append(f"{mod.name}: {exc}")
    from codomyrmex_jupyter import WorkflowManager, WorkflowStep
    m = WorkflowManager(config_dir=tempfile.mkdtemp())
    m.register_action("w", "one", lambda: 1)
    m.create_workflow("w", [WorkflowStep("a", "w", "one")])
    ex = m.run_workflow("w")
    print(failed, ex.status.value, "max_rss_kb" in ex.performance_metrics, "cpu_time" in ex.performance_metrics)
    """
)


def test_the_package_imports_and_records_without_posix_only_modules() -> None:
    done = subprocess.run([sys.executable, "-c", WITHOUT_POSIX], capture_output=True, text=True,
                          cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] completed False True"


def test_monitoring_records_cpu_time_and_peak_memory(manager) -> None:
    manager.register_action("w", "one", lambda: 1)
    manager.create_workflow("w", [WorkflowStep("a", "w", "one")])
    metrics = manager.run_workflow("w").performance_metrics
    assert metrics["cpu_time"] >= 0 and metrics["max_rss_kb"] > 1000
    assert metrics["counts"] == {"succeeded": 1} and metrics["slowest_steps"].keys() == {"a"}
