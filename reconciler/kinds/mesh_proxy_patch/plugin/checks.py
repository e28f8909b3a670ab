"""Would Envoy accept a proxy's resources after its MeshProxyPatch modifications?

Checked, for every resource a modification added or changed: its typed configs name message
types Envoy knows and decode; Envoy's proto validation rules
(:mod:`reconciler.snapshot.proto_rules`). For the whole proxy: no two listeners on one
address and port, and the snapshot consistency check (every route's cluster, every RDS route
configuration, every EDS assignment exists). The first problem is blamed on the last
modification that touched the resource it concerns, else on the last one that removed a
resource, else on the last modification.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.protobuf import any_pb2
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message

from reconciler.compile.resource_set import Edit, EditAction, ResourceSet
from reconciler.kinds.mesh_proxy_patch.plugin import envoy_values
from reconciler.resource_types import ProxyConfig, TypeUrl
from reconciler.snapshot.consistency import check_consistency
from reconciler.snapshot.proto_rules import violations


def first_problem(rs: ResourceSet) -> tuple[Edit, str] | None:
    if not rs.edits:
        return None
    for edit in reversed(rs.edits):
        if edit.action is EditAction.REMOVED:
            continue
        entry = rs.get(edit.type_url, edit.name)
        if entry is None:
            continue
        problem = _message_problem(entry.message)
        if problem is not None:
            return edit, f"{edit.type_url.short} {edit.name!r}: {problem}"
    for (type_url, name), problem in _proxy_problems(rs):
        return _blame(rs.edits, type_url, name), f"{type_url.short} {name!r}: {problem}"
    return None


def _message_problem(message: Message) -> str | None:
    for type_url in _any_types(message):
        if not envoy_values.ensure_type(type_url):
            return f"Envoy knows no message type {type_url!r}"
    for found in violations(message):
        return f"breaks Envoy's validation rule at {found}"
    return None


def _any_types(message: Message) -> Iterator[str]:
    """The type URLs of every ``Any`` in ``message``, depth first (after loading them)."""
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            items: list[Any] = [v for v in value.values() if isinstance(v, Message)]
        elif field.is_repeated:
            items = list(value)
        else:
            items = [value]
        for item in items:
            if isinstance(item, any_pb2.Any):
                yield item.type_url
                if envoy_values.ensure_type(item.type_url):
                    inner = envoy_values.message_class(item.type_url)()
                    try:
                        item.Unpack(inner)
                    except DecodeError:
                        continue
                    yield from _any_types(inner)
            else:
                yield from _any_types(item)


def _proxy_problems(rs: ResourceSet) -> Iterator[tuple[tuple[TypeUrl, str], str]]:
    bound: dict[tuple[str, int], str] = {}
    for name, entry in rs.of(TypeUrl.LISTENER):
        socket = entry.message.address.socket_address
        key = (socket.address, socket.port_value)
        if entry.message.address.HasField("socket_address") and key in bound:
            yield (
                (TypeUrl.LISTENER, name),
                f"listens on {key[0]}:{key[1]} like listener {bound[key]!r}",
            )
        bound.setdefault(key, name)
    for problem in check_consistency(ProxyConfig("", rs.resources())):
        yield (problem.type_url, problem.name), problem.message


def _blame(edits: list[Edit], type_url: TypeUrl, name: str) -> Edit:
    touching = [e for e in edits if e.type_url == type_url and e.name == name]
    removing = [e for e in edits if e.action is EditAction.REMOVED]
    return (touching or removing or edits)[-1]
