"""``targetRef`` checks shared by every policy: Kuma 2.14 ``ValidateTargetRef``.

Which kinds a level accepts is decided by each policy module; this module checks the kind
against that list and the fields each kind requires or forbids (name, tags, labels,
sectionName, proxyTypes, mesh, namespace), with Kuma's messages.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from reconciler import codes
from reconciler.model import MapKey
from reconciler.targetref import (  # re-exported: the rules read them as t.MESH ...
    DATAPLANE as DATAPLANE,
)
from reconciler.targetref import KIND_ORDER
from reconciler.targetref import (
    MESH as MESH,
)
from reconciler.targetref import (
    MESH_EXTERNAL_SERVICE as MESH_EXTERNAL_SERVICE,
)
from reconciler.targetref import (
    MESH_GATEWAY as MESH_GATEWAY,
)
from reconciler.targetref import (
    MESH_HTTP_ROUTE as MESH_HTTP_ROUTE,
)
from reconciler.targetref import (
    MESH_MULTI_ZONE_SERVICE as MESH_MULTI_ZONE_SERVICE,
)
from reconciler.targetref import (
    MESH_SERVICE as MESH_SERVICE,
)
from reconciler.targetref import (
    MESH_SERVICE_SUBSET as MESH_SERVICE_SUBSET,
)
from reconciler.targetref import (
    MESH_SUBSET as MESH_SUBSET,
)
from reconciler.validate.rules.findings import Findings, Path, as_map, is_set

BACKEND_KINDS = (
    MESH_SERVICE,
    MESH_SERVICE_SUBSET,
    MESH_EXTERNAL_SERVICE,
    MESH_MULTI_ZONE_SERVICE,
)
"""What a route's ``backendRefs`` may name."""

NAME_CHARACTERS = re.compile(r"^[0-9a-z.\-_]*$")
TAG_NAME_CHARACTERS = re.compile(r"^[a-zA-Z0-9.\-_:/]*$")
TAG_VALUE_CHARACTERS = re.compile(r"^[a-zA-Z0-9.\-_:]*$")
SELECTOR_VALUE_CHARACTERS = re.compile(r"^([a-zA-Z0-9.\-_:/]*|\*)$")
UNRESOLVED_BACKEND = "kuma.io/unresolved-backend"


def top_kind(spec: Mapping[str, Any]) -> str:
    """The top-level targetRef kind; an omitted targetRef means ``Mesh``."""
    ref = spec.get("targetRef")
    if ref is None:
        return MESH
    kind = as_map(ref).get("kind")
    return kind if isinstance(kind, str) else ""


def includes_gateways(ref: Mapping[str, Any] | None) -> bool:
    """Kuma ``IncludesGateways``: a target that may select builtin gateway proxies."""
    ref = ref if isinstance(ref, dict) else {"kind": MESH}
    kind = ref.get("kind")
    if kind in (MESH_GATEWAY, MESH_HTTP_ROUTE):
        return True
    if kind in (MESH, MESH_SUBSET):
        proxy_types = ref.get("proxyTypes")
        return not is_set(proxy_types) or (
            isinstance(proxy_types, list) and "Gateway" in proxy_types
        )
    return False


def check_target_ref(
    f: Findings,
    path: Path,
    ref: object,
    allowed: Collection[str],
    *,
    inbound_policy: bool = False,
    gateway_tags_allowed: bool = True,
    where: str = "here",
) -> None:
    """Check one targetRef (or backendRef) at ``path`` against the kinds ``allowed`` there."""
    if not isinstance(ref, dict):
        return  # absent or wrong type: the schema reports it
    kind = ref.get("kind")
    if not is_set(kind):
        f.add(codes.TARGETREF_KIND, (*path, "kind"), "must be defined")
        return
    if not isinstance(kind, str) or kind not in KIND_ORDER:
        return  # not a targetRef kind at all: the schema's enum reports it, with a suggestion
    if kind not in allowed:
        f.add(
            codes.TARGETREF_KIND,
            (*path, "kind"),
            f"value {kind!r} is not supported {where} (allowed: {', '.join(_ordered(allowed))})",
        )
        return
    _check_fields(f, path, kind, ref, inbound_policy, gateway_tags_allowed)


def _check_fields(
    f: Findings,
    path: Path,
    kind: str,
    ref: Mapping[str, Any],
    inbound_policy: bool,
    gateway_tags_allowed: bool,
) -> None:
    """Kuma ``ValidateTargetRef``, kind by kind (MeshMultiZoneService has no field rules)."""

    def forbid(*names: str) -> None:
        for name in names:
            if is_set(ref.get(name)):
                f.add(codes.TARGETREF_FIELD, (*path, name), f"must not be set with kind {kind}")

    has_labels = is_set(ref.get("labels"))
    has_name = is_set(ref.get("name")) or is_set(ref.get("namespace"))

    def name_or_labels(labels_message: str) -> None:
        _check_name(f, path, ref.get("name"))
        forbid("mesh", "tags", "proxyTypes")
        if not has_labels and not is_set(ref.get("name")):
            f.add(codes.TARGETREF_FIELD, path, f"name or labels must be set when kind is {kind}")
        if has_labels and has_name:
            f.add(codes.TARGETREF_FIELD, (*path, "labels"), labels_message)

    if kind == MESH:
        if is_set(ref.get("name")):
            f.add(
                codes.TARGETREF_FIELD,
                (*path, "name"),
                "using name with kind Mesh is not yet supported",
            )
        forbid("mesh", "tags", "labels", "namespace", "sectionName")
        _check_proxy_types(f, path, ref)
    elif kind == DATAPLANE:
        forbid("tags", "mesh", "proxyTypes")
        if has_labels and has_name:
            f.add(
                codes.TARGETREF_FIELD,
                (*path, "labels"),
                "either labels or name and namespace must be specified",
            )
        if not inbound_policy and is_set(ref.get("sectionName")):
            f.add(
                codes.TARGETREF_FIELD,
                (*path, "sectionName"),
                "can only be used with inbound policies",
            )
    elif kind == MESH_SUBSET:
        forbid("name", "mesh")
        check_tags(f, (*path, "tags"), ref.get("tags"), selector=False)
        forbid("labels", "namespace", "sectionName")
        _check_proxy_types(f, path, ref)
    elif kind == MESH_SERVICE:
        name_or_labels("either labels or name and namespace must be specified")
    elif kind == MESH_HTTP_ROUTE:
        name_or_labels("either labels or name and namespace must be specified")
        forbid("sectionName")
    elif kind in (MESH_SERVICE_SUBSET, MESH_GATEWAY):
        if not is_set(ref.get("name")):
            f.add(codes.TARGETREF_FIELD, (*path, "name"), f"must be set when kind is {kind}")
        _check_name(f, path, ref.get("name"))
        forbid("mesh", "proxyTypes")
        check_tags(f, (*path, "tags"), ref.get("tags"), selector=True)
        if kind == MESH_GATEWAY and not gateway_tags_allowed:
            forbid("tags")
        forbid("labels", "namespace", "sectionName")
    elif kind == MESH_EXTERNAL_SERVICE:
        name_or_labels("either labels or name must be specified")
        forbid("sectionName")


def _check_proxy_types(f: Findings, path: Path, ref: Mapping[str, Any]) -> None:
    """Kuma ``validateProxyTypes``: ``proxyTypes`` is absent or lists at least one type."""
    if ref.get("proxyTypes") == []:
        f.add(
            codes.TARGETREF_FIELD,
            (*path, "proxyTypes"),
            "must be undefined or have at least one element",
        )


def _check_name(f: Findings, path: Path, name: object) -> None:
    if isinstance(name, str) and name != UNRESOLVED_BACKEND and not NAME_CHARACTERS.match(name):
        f.add(
            codes.TARGETREF_FIELD,
            (*path, "name"),
            "invalid characters: must consist of lower case alphanumeric characters, "
            "'-', '.' and '_'.",
        )


def check_tags(f: Findings, path: Path, tags: object, *, selector: bool) -> None:
    """Kuma ``ValidateTags`` (or ``ValidateSelector``, which also allows ``*`` and '/')."""
    if not isinstance(tags, dict):
        return
    for key in sorted(tags, key=str):
        value = tags[key]
        if not isinstance(key, str):
            continue
        if key == "":
            f.add(codes.NAME_FORMAT, path, "tag name must be non-empty")
        elif not TAG_NAME_CHARACTERS.match(key):
            f.add(
                codes.NAME_FORMAT,
                (*path, MapKey(key)),
                "tag name must consist of alphanumeric characters, dots, dashes, slashes and "
                "underscores",
            )
        if not isinstance(value, str):
            continue
        if value == "":
            f.add(codes.NAME_FORMAT, (*path, MapKey(key)), "tag value must be non-empty")
        elif selector and not SELECTOR_VALUE_CHARACTERS.match(value):
            f.add(
                codes.NAME_FORMAT,
                (*path, MapKey(key)),
                "tag value must consist of alphanumeric characters, dots, dashes, slashes and "
                'underscores or be "*"',
            )
        elif not selector and not TAG_VALUE_CHARACTERS.match(value):
            f.add(
                codes.NAME_FORMAT,
                (*path, MapKey(key)),
                "tag value must consist of alphanumeric characters, dots, dashes and underscores",
            )


def check_backend_ref(f: Findings, path: Path, ref: object, kinds: Collection[str]) -> None:
    """A route's ``backendRef``: a targetRef of ``kinds``; a MeshMultiZoneService needs a port."""
    check_target_ref(f, path, ref, kinds, where="as backendRef")
    r = as_map(ref)
    if r.get("kind") == MESH_MULTI_ZONE_SERVICE and r.get("port") is None:
        f.add(
            codes.SETTING_MISSING, (*path, "port"), "must be defined with kind MeshMultiZoneService"
        )


def _ordered(kinds: Collection[str]) -> list[str]:
    """Kinds in Kuma's targetRef order (least to most specific)."""
    return sorted(kinds, key=lambda kind: KIND_ORDER.get(kind, len(KIND_ORDER)))
