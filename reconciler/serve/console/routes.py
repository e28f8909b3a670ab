"""The console's routes on the control plane's aiohttp app (``GET /console/...`` only).

Handlers read the plane's state on the event loop (status, the builder's log, the cache)
and build pages and diffs in a worker thread, so a large mesh never holds up the ADS
streams. Responses forbid scripts, framing and referrers (the pages need none of them).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Protocol

from aiohttp import web

from reconciler.diff import ChangeSet
from reconciler.serve.console.markup import page, path, tag
from reconciler.serve.console.policies import policies_of, policies_page, policy_page
from reconciler.serve.console.proxies import proxies_page, proxy_page
from reconciler.serve.console.records import Build, BuildLog
from reconciler.serve.console.revisions import (
    change_set,
    diff_page,
    journal_page,
    refused_page,
    revisions_page,
)
from reconciler.serve.loop import Reconciler
from reconciler.snapshot import SnapshotCache

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
KEEP_DIFFS = 4


class ConsolePlane(Protocol):
    """What the console reads (a :class:`~reconciler.serve.server.ControlPlane`)."""

    @property
    def cache(self) -> SnapshotCache: ...

    @property
    def reconciler(self) -> Reconciler | None: ...

    def status_json(self) -> dict[str, Any]: ...


class Console:
    def __init__(self, plane: ConsolePlane) -> None:
        self.plane = plane
        self._diffs: OrderedDict[tuple[str, str | None, int], ChangeSet] = OrderedDict()

    def log(self) -> BuildLog | None:
        loop = self.plane.reconciler
        return loop.builder.log if loop is not None else None

    def current(self) -> Build | None:
        log = self.log()
        return log.current() if log is not None else None

    # -- handlers -----------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(path("revisions"))

    async def revisions(self, request: web.Request) -> web.Response:
        status = self.plane.status_json()
        return _html(await asyncio.to_thread(revisions_page, status, self.log()))

    async def revision(self, request: web.Request) -> web.Response:
        sha = request.match_info["sha"].lower()
        log = self.log()
        found = log.find(sha) if log is not None and len(sha) >= 4 else None
        if found is not None:
            build, base = found
            changes = await self._diff(build, base)
            return _html(await asyncio.to_thread(diff_page, build, base, changes))
        refused = next(
            (
                a
                for a in (log.attempts() if log is not None else ())
                if a.revision.startswith(sha) and a.rejection is not None and len(sha) >= 4
            ),
            None,
        )
        if refused is not None:
            return _html(refused_page(refused))
        loop = self.plane.reconciler
        journal = loop.journal if loop is not None else None
        entry = journal.find(sha) if journal is not None else None
        if entry is not None:
            return _html(journal_page(entry.to_json()))
        return _not_found(f"No revision {sha!r} is known to this server.", "revisions")

    async def proxies(self, request: web.Request) -> web.Response:
        proxies = self.plane.status_json()["proxies"]
        query, number = _listing(request)
        return _html(await asyncio.to_thread(proxies_page, proxies, query, number))

    async def proxy(self, request: web.Request) -> web.Response:
        node = request.match_info["proxy"]
        entry = next((p for p in self.plane.status_json()["proxies"] if p["id"] == node), None)
        snap = self.plane.cache.get(node)
        build = self.current()
        if entry is None and snap is None:
            return _not_found(f"No proxy {node!r} is served or connected.", "proxies")
        explain = build.explain if build is not None else None

        def render() -> str:
            provenance = explain.proxy(node) if explain is not None else None
            served = snap.to_json() if snap is not None else None
            revision = build.attempt.revision if build is not None else None
            return proxy_page(node, entry, provenance, served, revision)

        return _html(await asyncio.to_thread(render))

    async def policies(self, request: web.Request) -> web.Response:
        build = self.current()
        if build is None:
            return _not_found("No revision is served yet.", "revisions")
        query, number = _listing(request)
        return _html(await asyncio.to_thread(policies_page, build, query, number))

    async def policy(self, request: web.Request) -> web.Response:
        build = self.current()
        info = request.match_info
        key = (info["kind"], info["mesh"], info["name"])
        if build is None:
            return _not_found("No revision is served yet.", "revisions")
        policies = await asyncio.to_thread(policies_of, build)
        if key not in policies:
            return _not_found(f"The served revision has no {key[0]} {key[1]}/{key[2]}.", "policies")
        return _html(await asyncio.to_thread(policy_page, build, key, policies[key]))

    async def _diff(self, build: Build, base: Build | None) -> ChangeSet:
        key = (build.attempt.revision, base.attempt.revision if base else None, id(build))
        found = self._diffs.get(key)
        if found is None:
            found = self._diffs[key] = await asyncio.to_thread(change_set, build, base)
            while len(self._diffs) > KEEP_DIFFS:
                self._diffs.popitem(last=False)
        return found


def _listing(request: web.Request) -> tuple[str, int]:
    """``?q=`` (a substring filter, at most 200 characters) and ``?page=`` (from 1)."""
    query = request.query.get("q", "").strip()[:200]
    try:
        number = int(request.query.get("page", "1"))
    except ValueError:
        number = 1
    return query, number


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", headers=HEADERS)


def _not_found(message: str, back: str) -> web.Response:
    body = page(
        "Not found", tag("p", message), tag("p", tag("a", f"Back to {back}", href=path(back)))
    )
    return _html(body, status=404)


def add_console(app: web.Application, plane: ConsolePlane) -> None:
    """Register the console's GET routes on ``app``."""
    console = Console(plane)
    app.router.add_get("/console", console.index)
    app.router.add_get("/console/", console.index)
    app.router.add_get("/console/revisions", console.revisions)
    app.router.add_get("/console/revisions/{sha}", console.revision)
    app.router.add_get("/console/proxies", console.proxies)
    app.router.add_get("/console/proxies/{proxy}", console.proxy)
    app.router.add_get("/console/policies", console.policies)
    app.router.add_get("/console/policies/{kind}/{mesh}/{name}", console.policy)
