"""What ``reconciler serve`` wires around the GitOps loop: webhook, watch, pid file, drift.

:class:`Following` installs ``POST /hooks/github`` (a signed push only triggers a poll), the
``--watch`` observer (debounced changes trigger a poll) and the state directory's pid file
that ``reconciler rollback``/``resume`` signal with SIGHUP; :func:`drift` lists the proxies
whose ACKed configuration is not the current snapshot (``/status`` and a gauge).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from reconciler.serve.loop import Reconciler
from reconciler.serve.webhook import PushEvent, github_handler
from reconciler.snapshot import SnapshotCache

if TYPE_CHECKING:
    from reconciler.serve.proxies import ProxyRegistry
    from reconciler.serve.server import ControlPlane
    from reconciler.serve.watch import TreeWatcher

log = logging.getLogger("reconciler.serve")


def webhook_route(
    loop: Reconciler, secret: bytes, *, branch: str | None, control_ref: str | None = None
) -> Callable[[web.Application], None]:
    """An ``http_hooks`` entry adding ``POST /hooks/github`` that triggers ``loop``."""

    def poll_now(push: PushEvent) -> None:
        log.info("webhook: push to %s (%s), polling now", push.ref, push.after[:8])
        # the branch's own push names its new commit (fetched without ls-remote); a push
        # to the control ref names no branch commit
        followed = branch is not None and push.ref == f"refs/heads/{branch}"
        loop.trigger(push.after if followed and push.after else None)

    handler = github_handler(
        secret,
        poll_now,
        branch=branch,
        control_ref=control_ref,
        record=lambda outcome: loop.source_metrics.webhooks.labels(outcome.value).inc(),
    )

    def add(app: web.Application) -> None:
        app.router.add_post("/hooks/github", handler)

    return add


class Following:
    """Everything ``reconciler serve`` adds around a :class:`Reconciler`: the webhook
    route, the ``--watch`` observer and the pid file that ``rollback``/``resume`` signal.

    Call :meth:`install` before the control plane starts, :meth:`close` after it stopped.
    """

    def __init__(
        self,
        loop: Reconciler,
        *,
        webhook_secret: bytes | None = None,
        branch: str | None = None,
        control_ref: str | None = None,
        watch_root: Path | None = None,
    ) -> None:
        self.loop = loop
        self.control_ref = control_ref
        self.webhook_secret = webhook_secret
        self.branch = branch
        self.watch_root = watch_root
        self._watcher: TreeWatcher | None = None

    def install(self, plane: ControlPlane) -> None:
        self.loop.drift_fn = lambda: drift(plane.registry, plane.cache)
        self.loop.source_metrics.drifted.set_function(
            lambda: len(drift(plane.registry, plane.cache))
        )
        if self.webhook_secret is not None:
            plane.http_hooks.append(
                webhook_route(
                    self.loop, self.webhook_secret, branch=self.branch, control_ref=self.control_ref
                )
            )
        if self.watch_root is not None:
            # watchdog (1.6 MB resident) is loaded only by a server that watches a tree
            from reconciler.serve.watch import TreeWatcher

            event_loop = asyncio.get_running_loop()

            def changed() -> None:  # on the watchdog thread
                event_loop.call_soon_threadsafe(self.loop.trigger)

            self._watcher = TreeWatcher(self.watch_root, changed)
            self._watcher.start()
            log.info("watching %s for changes", self.watch_root)
        # the pid file invites SIGHUP from `rollback`/`resume`: handle it before writing it
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.loop.trigger)
        journal = self.loop.journal
        if journal is not None:
            try:
                journal.write_pid()
            except OSError as exc:
                log.warning("cannot write %s: %s", journal.pid_path, exc)

    def close(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
        if self.loop.journal is not None:
            self.loop.journal.clear_pid()


def drift(registry: ProxyRegistry, cache: SnapshotCache) -> list[dict[str, Any]]:
    """Connected proxies whose ACKed version of a type is not the current snapshot's.

    Right after a publish this lists the proxies still applying it; a proxy that stays here
    NACKed the new configuration or is stuck (its ``lastNack`` says why).
    """
    drifted: list[dict[str, Any]] = []
    for state in sorted(registry.connected(), key=lambda s: s.node_id):
        snap = cache.get(state.node_id)
        if snap is None:
            continue
        types = {
            t.short: {"acked": v.acked, "current": snap.version(t)}
            for t, v in state.versions.items()
            if v.sent and v.acked != snap.version(t)
        }
        if types:
            drifted.append({"id": state.node_id, "types": types})
    return drifted
