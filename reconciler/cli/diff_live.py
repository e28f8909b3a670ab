"""The live side of ``reconciler diff PATH --server URL``: what each connected proxy runs.

``/status`` names the connected proxies and their ACKed versions, ``/config/<proxy>`` the
configuration served to each. A proxy that has ACKed the served versions runs exactly that;
a proxy that has not (drift: a NACK, a push in flight) is compared with what is served, and
a note says so. Secrets are never compared (the server does not hand out key material).
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format

from reconciler.comparison import Live
from reconciler.resource_types import ProxyConfig, TypeUrl
from reconciler.serve.client import fetch_config, fetch_status
from reconciler.snapshot.snapshot import MESSAGE_CLASSES

COMPARED = (TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.CLUSTER, TypeUrl.ENDPOINT)


def _message(type_url: TypeUrl, raw: dict[str, Any]) -> Any:
    message = MESSAGE_CLASSES[type_url]()
    json_format.ParseDict(raw, message, ignore_unknown_fields=False)
    return message


def live_side(server: str, *, timeout: float = 10.0) -> Live:
    """Every connected proxy's configuration on ``server``, with notes about drift."""
    status = fetch_status(server, timeout=timeout)
    configs: dict[str, ProxyConfig] = {}
    notes: list[str] = []
    for proxy in status.get("proxies", []):
        if not proxy.get("connected"):
            continue
        node = str(proxy["id"])
        served = fetch_config(server, node, timeout=timeout)
        resources = {
            type_url: [
                _message(type_url, raw)
                for raw in served.get("resources", {}).get(type_url.group, [])
            ]
            for type_url in COMPARED
        }
        configs[node] = ProxyConfig(node, resources)
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
    return Live(configs, COMPARED, tuple(notes))
