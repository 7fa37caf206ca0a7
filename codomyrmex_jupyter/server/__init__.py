"""The Jupyter server extension: the store over REST, for the Runs panel.

Enabled on install (``etc/jupyter/jupyter_server_config.d/codomyrmex_jupyter.json``
in the wheel). It serves, under the server's base URL and behind its
authentication (token or login) and XSRF checks:

``GET  codomyrmex/api/runs``                 a page of runs, newest first, filtered
``GET  codomyrmex/api/runs/<id>``            one run and its run document
``GET  codomyrmex/api/runs/<a>/diff/<b>``    how run b differs from run a
``POST codomyrmex/api/runs/<id>/cancel``     ask the run's kernel to cancel it
``GET  codomyrmex/api/workflows``            workflow definitions and their versions
``GET  codomyrmex/api/workflows/<name>``     every version of one definition

Everything is read-only except the cancel request; nothing here can run
code. The store is the one a kernel started in the server's root folder
would use (``store_access.py``). See ``docs/runs-panel.md``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["API_PREFIX"]

API_PREFIX = "codomyrmex/api"


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Add the handlers to a running ``ServerApp`` (called by jupyter_server)."""
    from .handlers import handlers
    from .store_access import StoreAccess

    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    access = StoreAccess(serverapp.root_dir)
    web_app.add_handlers(".*$", handlers(base_url, access))
    serverapp.log.info(
        "codomyrmex_jupyter: Runs API at %s%s/ (store: %s)", base_url, API_PREFIX, access.describe()
    )
