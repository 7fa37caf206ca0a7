"""The step cache and run records across kernels, and the debugger in a real kernel.

Two kernels run one after the other on the same ``$CODOMYRMEX_HOME``: the
second finds the first one's cache entries and history (a kernel restart).
The debugger tests answer the kernel's input requests with scripted lines,
as a user types them in the notebook.
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from jupyter_core.utils import run_sync  # noqa: E402  # after the importorskip guards

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]

ETL = """\
%%workflow etl --quiet --cache
def _scale(x):
    return x * 2

def load(n: int = 4):
    return list(range(n))

def clean(load):
    return [_scale(x) for x in load]

def summarize(clean, divisor: int = 1):
    total = sum(clean)
    return total / divisor
"""


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CODOMYRMEX_HOME"] = str(home)
    return env


class Kernel:
    """A kernel started by nbclient, run cell by cell."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def run(self, source: str) -> Any:
        cell = nbformat.v4.new_code_cell(source)
        self.client.nb.cells.append(cell)
        done = self.client.execute_cell(cell, len(self.client.nb.cells) - 1)
        errors = [o for o in done.outputs if o.output_type == "error"]
        assert errors == [], (source, errors)
        return done

    def out(self, source: str) -> str:
        return "".join(o.get("text", "") for o in self.run(source).outputs if o.get("name") == "stdout")

    def with_stdin(self, source: str, answers: list[str], timeout: float = 60) -> str:
        """Run ``source``, answering each input request with the next line; return all text."""
        kc, left = self.client.kc, list(answers)
        msg_id = kc.execute(source, allow_stdin=True)
        text: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                request = run_sync(kc.get_stdin_msg)(timeout=0.05)
            except queue.Empty:
                pass
            else:
                text.append(request["content"].get("prompt", ""))
                kc.input(left.pop(0) if left else "q")
            try:
                msg = run_sync(kc.get_iopub_msg)(timeout=0.05)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "stream":
                text.append(content["text"])
            elif msg["msg_type"] == "error":
                text.append("\n".join(content["traceback"]))
            elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
                assert not left, f"the debugger asked for fewer lines than scripted: {left}"
                return "".join(text)
        raise AssertionError("the cell did not finish")


def kernel(tmp_path: Path, home: Path) -> Iterator[Kernel]:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    with client.setup_kernel(env=_env(home)):
        k = Kernel(client)
        k.run("%load_ext codomyrmex_jupyter\nfrom codomyrmex_jupyter import get_workflow_manager")
        yield k


def test_cache_and_history_survive_a_kernel_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for first in kernel(tmp_path, home):
        first.run(ETL)
        ids = first.out(
            "a = %orchestrate run etl\n"
            "b = %orchestrate run etl -p divisor=0\n"
            "print(a.execution_id, b.execution_id, b.status.value)"
        ).split()
        assert ids[2] == "failed"
    run_a, run_b = ids[0], ids[1]
    for second in kernel(tmp_path, home):
        second.run(ETL)  # the cell is run again in the new kernel: same code
        hit = second.out("ex = %orchestrate run etl\n"
                         "print({n: (r.status, r.cache) for n, r in ex.step_records.items()})")
        assert hit.strip() == ("{'load': ('cached', 'hit'), 'clean': ('cached', 'hit'), "
                               "'summarize': ('cached', 'hit')}")
        history = second.out("print(sorted(r.execution_id[:8] for r in get_workflow_manager().history('etl')))")
        assert run_a[:8] in history and run_b[:8] in history
        assert second.out("w = %orchestrate why etl\nprint(w)").splitlines()[0].endswith("compute 0")
        loaded = second.out(f"t = %orchestrate load {run_b[:8]} summarize\nprint(inputs, clean)")
        assert loaded.strip() == "{'clean': [0, 2, 4, 6], 'divisor': 0} [0, 2, 4, 6]"  # signature order
        diff = second.out(f"d = %orchestrate diff {run_a[:8]} {run_b[:8]}\nprint(d)")
        assert "run parameter 'divisor': (unset) -> 0" in diff and "state succeeded -> failed" in diff
        fixed = second.out(f"r = %orchestrate rerun {run_b[:8]} --from-failed\n"
                           "print(r.status.value, [r.step_records[n].status for n in ('load', 'clean', 'summarize')])")
        assert fixed.strip() == "failed ['cached', 'cached', 'failed']"  # divisor=0 again: same parameters
        usage = second.out("u = %orchestrate cache\nprint(u)")
        assert "hit rate" in usage and "etl" in usage
        text = second.with_stdin(f"%orchestrate debug {run_b[:8]} summarize", [])
        assert "did not run in this kernel" in text and "--rerun" in text
        stepped = second.with_stdin(f"%orchestrate debug {run_b[:8]} summarize --rerun",
                                    ["n", "p total, divisor", "c"])
        assert "(12, 0)" in stepped and "ZeroDivisionError" in stepped


def test_post_mortem_in_the_kernel_where_it_failed(tmp_path: Path) -> None:
    for k in kernel(tmp_path, tmp_path / "home"):
        k.run(ETL)
        run_id = k.out("b = %orchestrate run etl -p divisor=0\nprint(b.execution_id)").strip()
        text = k.with_stdin(f"%orchestrate debug {run_id[:8]} summarize", ["p total * 10", "q"])
        assert "ZeroDivisionError" in text or "total / divisor" in text
        assert "120" in text
