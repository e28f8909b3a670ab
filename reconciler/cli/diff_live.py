"""``reconciler diff PATH --server URL``: what a push of PATH would change on each connected
proxy, compared with what that proxy runs now.

The live side comes from the running server: ``/status`` names the connected proxies and
their ACKed versions, ``/config/<proxy>`` the configuration served to each. A proxy that has
ACKed the served versions runs exactly that; a proxy that has not (drift: a NACK, a push in
flight) is compared with what is served, and a note says so. Secrets are never compared
(the server does not hand out key material). Same formats and exit codes as ``diff``:
0 nothing would change, 1 changes, 2 invalid input.
"""

from __future__ import annotations

import json
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from reconciler.cache import FileCache
from reconciler.cli.diff import DiffOptions, exit_code, render
from reconciler.codes import PROXY_COMPILE_FAILED
from reconciler.diagnostics import sorted_diagnostics
from reconciler.diff import diff_revisions
from reconciler.errors import UsageError
from reconciler.load import DEFAULT_MAX_FILE_SIZE
from reconciler.model import DEFAULT_MESH
from reconciler.names import node_id
from reconciler.pipeline import (
    Comparison,
    Side,
    analyze,
    compile_analysis,
    left_out,
    read_commit,
    read_directory,
)
from reconciler.resource_types import ProxyConfig, TypeUrl

COMPARED = (TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.CLUSTER, TypeUrl.ENDPOINT)


def _get(server: str, path: str, timeout: float) -> Any:
    if not server.startswith(("http://", "https://")):
        raise UsageError(f"--server {server!r} is not an http:// URL")
    url = server.rstrip("/") + path
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise UsageError(
            f"cannot read {url}: {getattr(exc, 'reason', exc)}",
            hint="is `reconciler serve` running? pass its --http-address as --server",
        ) from exc


def _message(type_url: TypeUrl, raw: dict[str, Any]) -> Any:
    from reconciler.snapshot.snapshot import MESSAGE_CLASSES

    message = MESSAGE_CLASSES[type_url]()
    json_format.ParseDict(raw, message, ignore_unknown_fields=False)
    return message


def live_configs(server: str, *, timeout: float = 10.0) -> tuple[dict[str, ProxyConfig], list[str]]:
    """``{node id: what it runs}`` for every connected proxy, and notes about drift."""
    status = _get(server, "/status", timeout)
    configs: dict[str, ProxyConfig] = {}
    notes: list[str] = []
    for proxy in status.get("proxies", []):
        if not proxy.get("connected"):
            continue
        node = str(proxy["id"])
        served = _get(server, "/config/" + urllib.parse.quote(node, safe=""), timeout)
        config = ProxyConfig(node)
        for type_url in COMPARED:
            items = served.get("resources", {}).get(type_url.group, [])
            config.resources[type_url] = [_message(type_url, raw) for raw in items]
        configs[node] = config
        versions = proxy.get("versions", {})
        behind = [
            t.short
            for t in COMPARED
            if t.short in versions
            and versions[t.short].get("acked") != served.get("versions", {}).get(t.short)
        ]
        if behind:
            notes.append(
                f"{node} has not ACKed the served version of {', '.join(behind)}; "
                "compared with what the server serves it"
            )
    revision = status.get("lastAppliedRevision")
    if revision:
        notes.insert(0, f"live: {len(configs)} connected proxies at revision {revision[:12]}")
    return configs, notes


def connected_only(
    configs: dict[str, ProxyConfig], connected: dict[str, ProxyConfig]
) -> dict[str, ProxyConfig]:
    """The new revision's configs of connected proxies, secrets left out like the live side."""
    out: dict[str, ProxyConfig] = {}
    for node, config in configs.items():
        if node in connected:
            out[node] = ProxyConfig(node, {t: list(config.of(t)) for t in COMPARED})
    return out


def diff_against_live(options: DiffOptions) -> tuple[str, int]:
    """``diff PATH --server URL`` or ``diff --repo DIR [--head REV] --server URL``."""
    if options.repo is not None:
        if options.old or options.new or options.base:
            raise UsageError("with --server and --repo give only --head REV (default HEAD)")
        after = read_commit(options.repo, options.head or "HEAD", options.path)
    else:
        if not options.old or options.new or options.base or options.head or options.path:
            raise UsageError("with --server give one PATH (or --repo DIR [--head REV])")
        after = read_directory(options.old, options.max_file_size)
    assert options.server is not None
    comparison = compare_live(
        after, options.server, max_file_size=options.max_file_size, cache_dir=options.cache_dir
    )
    return render(comparison, options.format, max_size=options.max_size), exit_code(comparison)


def compare_live(
    after: Side,
    server: str,
    *,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    cache_dir: Path | None = None,
) -> Comparison:
    live, notes = live_configs(server)
    with tempfile.TemporaryDirectory(prefix="reconciler-diff-") as tmp:
        new = analyze(
            after.files,
            extra=after.read_diagnostics,
            max_file_size=max_file_size,
            cache=FileCache(cache_dir if cache_dir is not None else Path(tmp)),
        )
    compiled = compile_analysis(new)
    proposed = connected_only(dict(compiled.configs), live)
    failed = {
        node_id(d.resource.mesh or DEFAULT_MESH, d.resource.name)
        for d in compiled.diagnostics
        if d.code == PROXY_COMPILE_FAILED and d.resource is not None
    }
    compared_live = {n: c for n, c in live.items() if n not in failed}
    changes = diff_revisions(
        sources=((), ()),
        proxies=(compared_live, proposed),
        partial=left_out(new),
        base="live",
        head=after.label,
        notes=notes,
    )
    diagnostics = tuple(sorted_diagnostics((*new.diagnostics, *compiled.diagnostics)))
    return Comparison(changes, diagnostics, new)
