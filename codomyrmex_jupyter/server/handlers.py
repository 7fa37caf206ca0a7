"""The REST handlers: ``APIHandler`` subclasses behind ``@authenticated`` and ``@authorized``.

Authentication (the server's token or login) and XSRF checks are the
server's own: an unauthenticated request gets 403 before any handler code
runs. Authorization asks the server's authorizer for ``read`` (GET) or
``write`` (POST, the cancel request) on the resource ``codomyrmex``.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..api.run_diff import diff_stored_runs
from ..display.run_document import stored_row_document
from ..engine.cancel_requests import CancelRefused, pending_cancel_requests, request_cancel
from ..engine.run_query import page_runs, resolve_run_id
from ..engine.store import Store, decode_json
from ..engine.validation import check_run_prefix
from ..errors import AmbiguousRunError, ArgumentError, StoreError
from . import API_PREFIX
from .params import BadQuery, parse_runs_query
from .serialize import iso, run_summary
from .store_access import StoreAccess

__all__ = ["AUTH_RESOURCE", "handlers"]

AUTH_RESOURCE = "codomyrmex"


class _AmbiguousRunId(web.HTTPError):
    """400: a run id prefix that names several runs (``matches``: the first ones)."""

    def __init__(self, error: AmbiguousRunError) -> None:
        super().__init__(400, str(error), reason="Ambiguous run id")
        self.matches = error.matches


class _StoreHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    def initialize(self, access: StoreAccess) -> None:
        self.access = access

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Jupyter's JSON error, plus the runs an ambiguous id matches."""
        error = (kwargs.get("exc_info") or (None, None, None))[1]
        if not isinstance(error, _AmbiguousRunId):
            super().write_error(status_code, **kwargs)
            return
        self.set_header("Content-Type", "application/json")
        body = {"message": error.log_message, "reason": error.reason, "matches": error.matches}
        self.finish(json.dumps(body))

    def find_runs(self, *given: str) -> tuple[Store, list[str]]:
        """The store and the ids of the runs ``given`` (ids or unique prefixes) name.

        400 for an id too short or a prefix of several runs (with the
        matches), 404 for no such run (or no store yet).
        """
        try:
            for run_id in given:
                check_run_prefix(run_id)
        except ArgumentError as exc:
            raise web.HTTPError(400, str(exc), reason="Bad run id") from exc
        store = self.open_store()
        if store is None:
            raise web.HTTPError(404, f"no run {given[0]!r}: there is no store yet", reason="Unknown run")
        try:
            found = [resolve_run_id(store, run_id) for run_id in given]
        except AmbiguousRunError as exc:
            raise _AmbiguousRunId(exc) from exc
        for run_id, full in zip(given, found, strict=True):
            if full is None:
                message = f"no run {run_id!r} in {self.access.describe()}"
                raise web.HTTPError(404, message, reason="Unknown run")
        return store, [str(full) for full in found]

    def open_store(self) -> Store | None:
        try:
            return self.access.store()
        except StoreError as exc:
            raise web.HTTPError(500, str(exc), reason="Store unreadable") from exc

    def reply(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(value, default=str))

    def store_info(self) -> dict[str, Any]:
        return {"path": self.access.describe(), "exists": self.access.db_path().exists()}


class RunsHandler(_StoreHandler):
    """``GET runs``: a page of runs, newest first."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        raw = self.request.query_arguments
        args = {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in raw.items()}
        try:
            query = parse_runs_query(args, self.access.root_dir)
        except BadQuery as exc:
            raise web.HTTPError(400, str(exc), reason="Bad query") from exc
        store = self.open_store()
        root = self.access.root_dir
        if store is None:
            runs, total, active = [], 0, 0
        else:
            page = page_runs(store, query.filters, limit=query.limit, offset=query.offset)
            runs, total, active = [run_summary(r, root) for r in page.runs], page.total, page.active
        self.reply({
            "runs": runs, "total": total, "active": active,
            "limit": query.limit, "offset": query.offset, "store": self.store_info(),
        })


class RunHandler(_StoreHandler):
    """``GET runs/<id>``: the run and its run document (the renderer's input)."""

    @web.authenticated
    @authorized
    def get(self, run_id: str) -> None:
        store, (full,) = self.find_runs(run_id)
        row = store.get_run(full, exact=True)
        if row is None:  # deleted since
            raise web.HTTPError(404, f"no run {run_id!r} in {self.access.describe()}", reason="Unknown run")
        document = stored_row_document(store, row)
        row["cancel_requested"] = bool(pending_cancel_requests(store, [row["run_id"]]))
        row["counts"] = (row.get("metrics") or {}).get("counts")
        summary = run_summary(row, self.access.root_dir)
        summary["parameters"] = (document or {}).get("parameters", {})
        self.reply({"run": summary, "document": document})


class RunDiffHandler(_StoreHandler):
    """``GET runs/<a>/diff/<b>``: how run ``b`` differs from run ``a`` (:meth:`RunDiff.to_dict`)."""

    @web.authenticated
    @authorized
    def get(self, a: str, b: str) -> None:
        store, ids = self.find_runs(a, b)
        self.reply(diff_stored_runs(store, *ids, resolved=True).to_dict())


class CancelHandler(_StoreHandler):
    """``POST runs/<id>/cancel``: record a cancel request for the owning kernel."""

    @web.authenticated
    @authorized
    def post(self, run_id: str) -> None:
        store = self.open_store()
        if store is None:
            raise web.HTTPError(404, f"no run {run_id!r}: there is no store yet", reason="Unknown run")
        user = self.current_user
        name = getattr(user, "display_name", None) or getattr(user, "username", None) or "a user"
        try:
            request = request_cancel(store, run_id, by=f"cancelled from the Runs panel by {name}")
        except CancelRefused as exc:
            status = 404 if exc.reason == "unknown" else 409
            raise web.HTTPError(status, str(exc), reason="Cannot cancel") from exc
        request["requested"] = iso(request["requested_at"])
        self.reply(request, status=202)


class WorkflowsHandler(_StoreHandler):
    """``GET workflows``: every workflow with its current version and version history."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        store = self.open_store()
        if store is None:
            self.reply({"workflows": [], "store": self.store_info()})
            return
        current = {w["name"]: w for w in store.list_workflows()}
        counts = store.runs_per_workflow()
        versions: dict[str, list[dict[str, Any]]] = {}
        for v in store.query(
            "SELECT name, version, origin, created_at FROM workflow_versions ORDER BY name, version"
        ):
            versions.setdefault(v["name"], []).append(
                {"version": v["version"], "origin": v["origin"], "created": iso(v["created_at"])}
            )
        out = []
        for name in sorted(set(versions) | set(current)):
            cur = current.get(name)
            steps = [str(s.get("name")) for s in (cur["definition"] if cur else []) if isinstance(s, dict)]
            out.append({
                "name": name, "version": cur["version"] if cur else None, "steps": steps,
                "updated": iso(cur["updated_at"]) if cur else None, "runs": counts.get(name, 0),
                "versions": versions.get(name, []),
            })
        self.reply({"workflows": out, "store": self.store_info()})


class WorkflowHandler(_StoreHandler):
    """``GET workflows/<name>``: every stored version of one definition."""

    @web.authenticated
    @authorized
    def get(self, name: str) -> None:
        store = self.open_store()
        rows = [] if store is None else store.query(
            "SELECT version, definition, source, origin, created_at FROM workflow_versions "
            "WHERE name=? ORDER BY version", (name,),
        )
        if not rows:
            message = f"no workflow {name!r} in {self.access.describe()}"
            raise web.HTTPError(404, message, reason="Unknown workflow")
        current = store.load_workflow(name) if store is not None else None
        self.reply({
            "name": name,
            "version": current["version"] if current else None,
            "versions": [
                {"version": r["version"], "origin": r["origin"], "created": iso(r["created_at"]),
                 "definition": decode_json(r["definition"]), "source": r["source"]}
                for r in rows
            ],
        })


def handlers(base_url: str, access: StoreAccess) -> list[tuple[str, type[APIHandler], dict[str, Any]]]:
    """The URL patterns under ``<base_url>codomyrmex/api/``."""
    prefix = url_path_join(base_url, API_PREFIX)
    kwargs = {"access": access}
    return [
        (url_path_join(prefix, "runs"), RunsHandler, kwargs),
        (url_path_join(prefix, "runs", "(?P<run_id>[^/]+)", "cancel"), CancelHandler, kwargs),
        (url_path_join(prefix, "runs", "(?P<a>[^/]+)", "diff", "(?P<b>[^/]+)"), RunDiffHandler, kwargs),
        (url_path_join(prefix, "runs", "(?P<run_id>[^/]+)"), RunHandler, kwargs),
        (url_path_join(prefix, "workflows"), WorkflowsHandler, kwargs),
        (url_path_join(prefix, "workflows", "(?P<name>[^/]+)"), WorkflowHandler, kwargs),
    ]
