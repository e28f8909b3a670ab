"""Diff of compiled proxies: per proxy, per type URL, per resource name.

Messages are compared as protos first (cheap, in C); only resources that differ are turned
into their proto JSON form (``MessageToDict(preserving_proto_field_name=True)``, the same
as ``json.loads(MessageToJson(...))``) for field-level changes. Secret values are masked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.json_format import MessageToDict

from reconciler.diff.changes import Action, ProxyChange, ResourceChange
from reconciler.diff.fields import diff_values
from reconciler.resource_types import ProxyConfig, TypeUrl

_READING_ORDER = (
    TypeUrl.LISTENER,
    TypeUrl.ROUTE,
    TypeUrl.CLUSTER,
    TypeUrl.ENDPOINT,
    TypeUrl.SECRET,
)
_TYPE_ORDER = {t: i for i, t in enumerate(_READING_ORDER)}


def proto_json(message: Any) -> dict[str, Any]:
    """The proto JSON form used for field paths (proto field names, not camelCase)."""
    result: dict[str, Any] = MessageToDict(message, preserving_proto_field_name=True)
    return result


def diff_proxies(
    before: Mapping[str, ProxyConfig], after: Mapping[str, ProxyConfig]
) -> tuple[list[ProxyChange], list[str]]:
    """Changed proxies (sorted by node id) and the node ids of unchanged ones."""
    changes: list[ProxyChange] = []
    unchanged: list[str] = []
    for node_id in sorted(before.keys() | after.keys()):
        was, now = before.get(node_id), after.get(node_id)
        if was is not None and was is now:  # an incremental compile reuses unaffected proxies
            unchanged.append(node_id)
            continue
        resources = diff_proxy(was, now)
        if was is None:
            changes.append(ProxyChange(node_id, Action.CREATED, tuple(resources)))
        elif now is None:
            changes.append(ProxyChange(node_id, Action.DELETED, tuple(resources)))
        elif resources:
            changes.append(ProxyChange(node_id, Action.CONFIGURED, tuple(resources)))
        else:
            unchanged.append(node_id)
    return changes, unchanged


def diff_proxy(before: ProxyConfig | None, after: ProxyConfig | None) -> list[ResourceChange]:
    """Resource changes of one proxy, listeners first, then routes, clusters, endpoints, secrets."""
    old = before.by_name() if before is not None else {}
    new = after.by_name() if after is not None else {}
    changes: list[ResourceChange] = []
    for type_url in sorted(old.keys() | new.keys(), key=lambda t: _TYPE_ORDER.get(t, 99)):
        old_of, new_of = old.get(type_url, {}), new.get(type_url, {})
        for name in sorted(old_of.keys() | new_of.keys()):
            was, now = old_of.get(name), new_of.get(name)
            by = _edited_by(after, type_url, name) or (
                _edited_by(before, type_url, name) if now is None else ()
            )
            if was is None:
                changes.append(ResourceChange(type_url, name, Action.CREATED, edited_by=by))
            elif now is None:
                changes.append(ResourceChange(type_url, name, Action.DELETED, edited_by=by))
            elif was is not now and was != now:
                fields = diff_values(proto_json(was), proto_json(now))
                if type_url is TypeUrl.SECRET:
                    fields = [f.masked() for f in fields]
                changes.append(ResourceChange(type_url, name, Action.CONFIGURED, tuple(fields), by))
    return changes


def _edited_by(config: ProxyConfig | None, type_url: TypeUrl, name: str) -> tuple[str, ...]:
    return config.edited_by.get((type_url, name), ()) if config is not None else ()
