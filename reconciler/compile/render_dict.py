"""Proto messages -> plain data for ``render`` and golden files (proto field names)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import json_format

from reconciler.resource_types import ProxyConfig, TypeUrl

GROUP_ORDER = (TypeUrl.LISTENER, TypeUrl.ROUTE, TypeUrl.CLUSTER, TypeUrl.ENDPOINT, TypeUrl.SECRET)


def message_dict(message: Any, *, proto_names: bool = True) -> dict[str, Any]:
    """``MessageToJson`` then ``json.loads``: plain dicts (``MessageToDict`` leaves OrderedDicts)."""
    text = json_format.MessageToJson(message, preserving_proto_field_name=proto_names)
    data: dict[str, Any] = json.loads(text)
    return data


def proxy_dict(config: ProxyConfig) -> dict[str, Any]:
    """``{proxy, listeners, routes, clusters, endpoints, secrets, notes}``."""
    out: dict[str, Any] = {"proxy": config.node_id}
    for type_url in GROUP_ORDER:
        out[type_url.group] = [message_dict(m) for m in config.of(type_url)]
    out["notes"] = list(config.notes)
    return out
