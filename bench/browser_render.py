"""The lab extension's run view drawing a big run document in Chromium.

The component JupyterLab mounts for a run output (``labextension/lib/runview.js``,
built by ``make setup``) is loaded as ES modules into a blank page served from
this checkout on 127.0.0.1, and draws a run document of a layered 2,000-step
run (every step with its state, timing and result summary): parse, build the
DOM, lay it out (forced), and the first paint. A second row is the live
update of that view when 5 % of the steps changed. Headless Debian Chromium,
driven by Playwright; the row says why when either is missing.
"""

from __future__ import annotations

import functools
import http.server
import threading
import time
from pathlib import Path
from typing import Any

from .measure import Sample
from .report import Row
from .shapes import layered

__all__ = ["CHROMIUM", "browser_rows", "run_document"]

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/labextension/style/base.css"></head>
<body><div id="host" class="cdm-host" style="width:1100px"></div>
<script type="module">
import { parseDag } from '/labextension/lib/model.js';
import { RunDocView } from '/labextension/lib/runview.js';
const frame = () => new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
window.draw = async (doc, later) => {
  const host = document.getElementById('host');
  host.textContent = '';
  const t0 = performance.now();
  const view = new RunDocView(host, parseDag(doc).model);
  host.getBoundingClientRect();
  const built = performance.now() - t0;
  await frame();
  const painted = performance.now() - t0;
  const t1 = performance.now();
  view.update(parseDag(later).model);
  host.getBoundingClientRect();
  const updated = performance.now() - t1;
  view.dispose();
  return [built, painted, updated];
};
window.ready = true;
</script></body></html>"""


_TRACEBACK = (
    "Traceback (most recent call last):\n  Cell In[3], line 7, in f\n    raise ValueError\nValueError: bad\n"
)


def run_document(n: int, changed: float = 0.0) -> dict[str, Any]:
    """The document of a finished layered run of ``n`` steps (``changed``: steps marked running)."""
    from codomyrmex_jupyter.display.dag_json import dag_document
    from codomyrmex_jupyter.engine.graph import compile_graph
    from codomyrmex_jupyter.engine.state import StepRecord

    graph = compile_graph(layered(n, width=100))
    t0 = 1_800_000_000.0
    records = []
    for i, name in enumerate(graph.names):
        state = "failed" if i % 97 == 5 else "succeeded"
        if i < n * changed:
            state = "running"
        end = None if state == "running" else t0 + 0.01 * i + 0.004
        failed = state == "failed"
        rec = StepRecord(name, state, t0 + 0.01 * i, end, 1, "ValueError: bad" if failed else None,
                         _TRACEBACK if failed else None, list(range(i % 7)))
        records.append(rec)
    return dag_document(graph, workflow="big", records=records, run_id="b" * 32, status="failed")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def _serve(page: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(ROOT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "render-bench.html").write_text(page)
    return server, f"http://127.0.0.1:{server.server_address[1]}/build/render-bench.html"


def _missing() -> str | None:
    if not (ROOT / "labextension" / "lib" / "runview.js").exists():
        return "labextension/lib is not built (make setup)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


def browser_rows(n: int, repeats: int) -> list[Row]:
    """Rows: the 2,000-step document drawn until painted, built, and updated live."""
    label = f"{n:,} nodes: run view drawn in Chromium"
    why = _missing()
    if why is not None:
        what = f"{label} (parse, DOM, layout, first paint)"
        return [Row(what, None, "ms", 1e3, status=f"not measured: {why}")]
    from playwright.sync_api import sync_playwright

    doc, later = run_document(n), run_document(n, changed=0.05)
    built, painted, updated = Sample(), Sample(), Sample()
    server, url = _serve(_PAGE)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            page.wait_for_function("() => window.ready === true")
            page.evaluate("([d, l]) => draw(d, l)", [doc, later])  # warm-up: JIT, fonts
            for _ in range(repeats):
                b, p, u = page.evaluate("([d, l]) => draw(d, l)", [doc, later])
                built.values.append(b / 1e3)
                painted.values.append(p / 1e3)
                updated.values.append(u / 1e3)
                time.sleep(0.05)
            browser.close()
    finally:
        server.shutdown()
    return [
        Row(f"{label} (parse, DOM, layout, first paint)", painted, "ms", 1e3, limit=500.0, on="value"),
        Row(f"{label} (parse, DOM, layout; before paint)", built, "ms", 1e3),
        Row(f"{n:,} nodes: run view live update in Chromium, 5% of the steps changed", updated, "ms", 1e3),
    ]
