"""The five modifications of MeshProxyPatch, as Kuma 2.14 applies them
(``meshproxypatch/plugin/v1alpha1/*_mod.go``), on a proxy's :class:`ResourceSet`.

* ``cluster``, ``listener``: ``Add`` (or replace the one of the same name), ``Remove`` and
  ``Patch`` every resource whose ``match`` (``name``, ``origin``; listeners also ``tags``)
  fits; a patch is a ``value`` merged into the resource (proto merge) or ``jsonPatches``
  applied to its JSON form. Kuma gives an added cluster the origin
  ``proxy-template-modifications`` and an added listener ``mesh-proxy-patch``.
* ``networkFilter``: on every filter chain of every listener whose ``listenerName``,
  ``origin`` and ``listenerTags`` fit: ``AddFirst``, ``AddLast``, ``AddBefore`` /
  ``AddAfter`` the first filter named ``match.name``, ``Remove`` or ``Patch`` (the
  ``typed_config``) the filters named ``match.name`` (all filters without a name).
* ``httpFilter``: the same on the HTTP filters of every HTTP connection manager.
* ``virtualHost``: on the route configuration of every HTTP connection manager of the
  listeners whose ``origin`` fits and whose route configuration is named
  ``routeConfigurationName``: ``Add`` (appended), ``Remove`` and ``Patch`` the virtual hosts
  named ``match.name``. Kuma's sidecar listeners embed their route configurations; here an
  outbound's route configuration is served by RDS (``outbound:<service>``), so the
  modification edits that RouteConfiguration (once, however many listeners use it).

A ``value`` that does not parse or a patch that does not apply raises :class:`PatchFailure`
(naming the field); fields Kuma drops while parsing are reported in ``notes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.listener.v3 import listener_components_pb2 as envoy_listener_components
from envoy.config.listener.v3 import listener_pb2 as envoy_listener
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.extensions.filters.network.http_connection_manager.v3 import (
    http_connection_manager_pb2 as envoy_hcm,
)
from google.protobuf import any_pb2
from google.protobuf.message import Message

from reconciler.compile.resource_set import ResourceSet
from reconciler.kinds.mesh_proxy_patch.json_patch import JsonPatchError, apply_patch
from reconciler.kinds.mesh_proxy_patch.plugin import envoy_values
from reconciler.model import FieldPath
from reconciler.resource_types import TypeUrl

HCM = "envoy.filters.network.http_connection_manager"
ADDED_CLUSTER_ORIGIN = "proxy-template-modifications"
ADDED_LISTENER_ORIGIN = "mesh-proxy-patch"
ANY_VALUE = "*"


class PatchFailure(Exception):
    """A modification that cannot be applied; ``field`` is relative to the modification."""

    def __init__(self, field: FieldPath, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


Notes = list[tuple[FieldPath, str]]


def apply(rs: ResourceSet, kind: str, mod: Mapping[str, Any], notes: Notes) -> None:
    """Apply one modification (``kind`` its key: ``cluster``, ``listener``, ...)."""
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise PatchFailure((kind,), f"unknown modification {kind!r}")
    handler(rs, mod, (kind,), notes)


def _value(
    mod: Mapping[str, Any], message_type: type[Message], where: FieldPath, notes: Notes
) -> Message:
    """The parsed ``value`` (an empty message when there is none, as Kuma)."""
    text = mod.get("value")
    if text is None:
        return message_type()
    try:
        parsed = envoy_values.parse_yaml(str(text), message_type)
    except envoy_values.NotEnvoyValue as exc:
        raise PatchFailure(
            (*where, "value"),
            f"native Envoy resource is not valid: {exc} "
            f"(a {message_type.DESCRIPTOR.full_name} in YAML or JSON)",
        ) from exc
    if parsed.ignored:
        notes.append(((*where, "value"), _ignored(parsed.ignored)))
    return parsed.message


def _ignored(reason: str) -> str:
    return f"a field is not part of the Envoy message and is ignored, as Kuma ignores it: {reason}"


def _json_patched(
    message: Message, patches: Sequence[Any], where: FieldPath, notes: Notes
) -> Message:
    """Kuma ``MergeJsonPatch``: to JSON, patch, back to a new message of the same type."""
    document = envoy_values.to_json(message)
    try:
        patched = apply_patch(document, [p for p in patches if isinstance(p, Mapping)])
    except JsonPatchError as exc:
        at = (*where, "jsonPatches", exc.index) if exc.index is not None else where
        raise PatchFailure(at, f"the JSON patch does not apply: {exc}") from exc
    try:
        parsed = envoy_values.from_json(patched, type(message))
    except envoy_values.NotEnvoyValue as exc:
        raise PatchFailure(
            (*where, "jsonPatches"),
            f"the patched {message.DESCRIPTOR.full_name} is not valid: {exc}",
        ) from exc
    if parsed.ignored:
        notes.append(((*where, "jsonPatches"), _ignored(parsed.ignored)))
    return parsed.message


def _patch_message(
    target: Message, mod: Mapping[str, Any], value: Message, where: FieldPath, notes: Notes
) -> Message:
    patches = mod.get("jsonPatches")
    if isinstance(patches, list) and patches:
        return _json_patched(target, patches, where, notes)
    envoy_values.merge(target, value)
    return target


def _patch_any(
    typed: any_pb2.Any, mod: Mapping[str, Any], value: any_pb2.Any, where: FieldPath, notes: Notes
) -> any_pb2.Any:
    """Kuma ``MergeJsonPatchAny`` / ``MergeAnys`` on a filter's ``typed_config``."""
    patches = mod.get("jsonPatches")
    try:
        if isinstance(patches, list) and patches:
            if not envoy_values.ensure_type(typed.type_url):
                raise envoy_values.NotEnvoyValue(f"unknown message type {typed.type_url!r}")
            inner = envoy_values.message_class(typed.type_url)()
            typed.Unpack(inner)
            patched = _json_patched(inner, patches, where, notes)
            out = any_pb2.Any()
            out.Pack(patched, deterministic=True)
            return out
        return envoy_values.merge_any(typed, value)
    except envoy_values.NotEnvoyValue as exc:
        raise PatchFailure(where, f"could not patch the resource: {exc}") from exc


def _match(mod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    match = mod.get("match")
    return match if isinstance(match, Mapping) else None


def _tags_match(selector: Any, tags: Mapping[str, str]) -> bool:
    """Kuma ``TagSelector.Matches`` (``*`` matches any value of a present tag)."""
    if not isinstance(selector, Mapping) or not selector:
        return True
    return all(k in tags and v in (tags[k], ANY_VALUE) for k, v in selector.items())


def _listener_fits(
    rs: ResourceSet, name: str, origin: str, match: Mapping[str, Any] | None, *, keys: str
) -> bool:
    """``keys`` = ``listener`` (``name``/``tags``) or ``filter`` (``listenerName``/``listenerTags``)."""
    if match is None:
        return True
    name_key, tags_key = (
        ("name", "tags") if keys == "listener" else ("listenerName", "listenerTags")
    )
    wanted = match.get(name_key)
    if wanted is not None and wanted != name:
        return False
    if match.get("origin") is not None and match["origin"] != origin:
        return False
    return _tags_match(match.get(tags_key), rs.listener_tags.get(name, {}))


# --- cluster and listener ---------------------------------------------------------------


def _resource(
    rs: ResourceSet,
    mod: Mapping[str, Any],
    where: FieldPath,
    notes: Notes,
    *,
    type_url: TypeUrl,
    message_type: type[Message],
    added_origin: str,
    fits: Callable[[str, str], bool],
) -> None:
    value = _value(mod, message_type, where, notes)
    operation = mod.get("operation")
    if operation == "Add":
        rs.add(type_url, str(getattr(value, "name", "")), value, added_origin)
        return
    for name, entry in rs.of(type_url):
        if not fits(name, entry.origin):
            continue
        if operation == "Remove":
            rs.remove(type_url, name)
        elif operation == "Patch":
            entry.message = _patch_message(entry.message, mod, value, where, notes)
        else:
            raise PatchFailure((*where, "operation"), f"invalid operation: {operation}")


def _cluster(rs: ResourceSet, mod: Mapping[str, Any], where: FieldPath, notes: Notes) -> None:
    match = _match(mod)

    def fits(name: str, origin: str) -> bool:
        if match is None:
            return True
        if match.get("name") is not None and match["name"] != name:
            return False
        return match.get("origin") is None or match["origin"] == origin

    _resource(
        rs,
        mod,
        where,
        notes,
        type_url=TypeUrl.CLUSTER,
        message_type=envoy_cluster.Cluster,
        added_origin=ADDED_CLUSTER_ORIGIN,
        fits=fits,
    )


def _listener(rs: ResourceSet, mod: Mapping[str, Any], where: FieldPath, notes: Notes) -> None:
    match = _match(mod)
    _resource(
        rs,
        mod,
        where,
        notes,
        type_url=TypeUrl.LISTENER,
        message_type=envoy_listener.Listener,
        added_origin=ADDED_LISTENER_ORIGIN,
        fits=lambda name, origin: _listener_fits(rs, name, origin, match, keys="listener"),
    )


# --- filters ----------------------------------------------------------------------------


def _insert(items: Any, operation: object, name: object, new: Message) -> bool:
    """Kuma's AddFirst/AddLast/AddBefore/AddAfter on a repeated field; False for another op."""
    if operation == "AddFirst":
        items.insert(0, new)
    elif operation == "AddLast":
        items.append(new)
    elif operation in ("AddBefore", "AddAfter"):
        index = next((i for i, f in enumerate(items) if f.name == name), -1)
        if index != -1:
            items.insert(index + (operation == "AddAfter"), new)
    else:
        return False
    return True


def _filters(
    items: Any,
    mod: Mapping[str, Any],
    value: Any,
    where: FieldPath,
    notes: Notes,
) -> None:
    """One list of filters (network filters of a chain, HTTP filters of an HCM)."""
    operation = mod.get("operation")
    name = (_match(mod) or {}).get("name")
    copy = type(value)()
    copy.CopyFrom(value)
    if _insert(items, operation, name, copy):
        return
    fits = [name is None or f.name == name for f in items]
    if operation == "Remove":
        kept = [f for f, hit in zip(items, fits, strict=True) if not hit]
        del items[:]
        items.extend(kept)
    elif operation == "Patch":
        for item, hit in zip(items, fits, strict=True):
            if hit:
                merged = _patch_any(item.typed_config, mod, value.typed_config, where, notes)
                item.typed_config.CopyFrom(merged)
    else:
        raise PatchFailure((*where, "operation"), f"invalid operation: {operation}")


def _network_filter(
    rs: ResourceSet, mod: Mapping[str, Any], where: FieldPath, notes: Notes
) -> None:
    value = _value(mod, envoy_listener_components.Filter, where, notes)
    match = _match(mod)
    for name, entry in rs.of(TypeUrl.LISTENER):
        if _listener_fits(rs, name, entry.origin, match, keys="filter"):
            for chain in entry.message.filter_chains:
                _filters(chain.filters, mod, value, where, notes)


def _hcms(listener: envoy_listener.Listener) -> list[tuple[Any, envoy_hcm.HttpConnectionManager]]:
    """Each HTTP connection manager network filter of the listener's chains, unpacked."""
    out = []
    for chain in listener.filter_chains:
        for network_filter in chain.filters:
            if network_filter.name == HCM and network_filter.HasField("typed_config"):
                hcm = envoy_hcm.HttpConnectionManager()
                network_filter.typed_config.Unpack(hcm)
                out.append((network_filter, hcm))
    return out


def _repack(network_filter: Any, hcm: envoy_hcm.HttpConnectionManager) -> None:
    network_filter.typed_config.Pack(hcm, deterministic=True)


def _http_filter(rs: ResourceSet, mod: Mapping[str, Any], where: FieldPath, notes: Notes) -> None:
    value = _value(mod, envoy_hcm.HttpFilter, where, notes)
    match = _match(mod)
    for name, entry in rs.of(TypeUrl.LISTENER):
        if _listener_fits(rs, name, entry.origin, match, keys="filter"):
            for network_filter, hcm in _hcms(entry.message):
                _filters(hcm.http_filters, mod, value, where, notes)
                _repack(network_filter, hcm)


# --- virtual hosts ----------------------------------------------------------------------


def _virtual_host(rs: ResourceSet, mod: Mapping[str, Any], where: FieldPath, notes: Notes) -> None:
    value = _value(mod, envoy_route.VirtualHost, where, notes)
    match = _match(mod) or {}
    done: set[str] = set()
    for _, entry in rs.of(TypeUrl.LISTENER):
        if match.get("origin") is not None and match["origin"] != entry.origin:
            continue
        for network_filter, hcm in _hcms(entry.message):
            if hcm.HasField("route_config"):
                _route_config(hcm.route_config, mod, value, where, notes)
                _repack(network_filter, hcm)
            elif hcm.HasField("rds") and hcm.rds.route_config_name not in done:
                done.add(hcm.rds.route_config_name)
                served = rs.get(TypeUrl.ROUTE, hcm.rds.route_config_name)
                if served is not None:
                    _route_config(served.message, mod, value, where, notes)


def _route_config(
    route_config: Any, mod: Mapping[str, Any], value: Message, where: FieldPath, notes: Notes
) -> None:
    match = _match(mod) or {}
    wanted = match.get("routeConfigurationName")
    if wanted is not None and wanted != route_config.name:
        return
    operation = mod.get("operation")
    name = match.get("name")
    hosts = route_config.virtual_hosts
    if operation == "Add":
        hosts.add().CopyFrom(value)
    elif operation == "Remove":
        kept = [h for h in hosts if name is not None and h.name != name]
        del hosts[:]
        hosts.extend(kept)
    elif operation == "Patch":
        for position, host in enumerate(hosts):
            if name is None or host.name == name:
                patched = _patch_message(host, mod, value, where, notes)
                if patched is not host:
                    hosts[position].CopyFrom(patched)
    else:
        raise PatchFailure((*where, "operation"), f"invalid operation: {operation}")


_HANDLERS: Mapping[str, Callable[[ResourceSet, Mapping[str, Any], FieldPath, Notes], None]] = {
    "cluster": _cluster,
    "listener": _listener,
    "networkFilter": _network_filter,
    "httpFilter": _http_filter,
    "virtualHost": _virtual_host,
}
