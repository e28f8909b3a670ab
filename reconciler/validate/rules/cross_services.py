"""References to services that no Dataplane provides (warnings: deploy order makes them normal).

In Kuma 2.x ``MeshService{name: X}`` means the service whose inbounds are tagged
``kuma.io/service: X`` (or a gateway's tags). Each reference is one lookup in the view.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.kinds import POLICY_KINDS
from reconciler.model import FieldPath, Kind, Resource
from reconciler.targetref import SERVICE_TAG
from reconciler.validate.rules.cross_view import CrossView
from reconciler.validate.rules.findings import Findings, as_list, as_map

SERVICE_KINDS = ("MeshService", "MeshServiceSubset")


def service_refs(spec: Mapping[str, Any]) -> Iterator[tuple[FieldPath, Mapping[str, Any]]]:
    """Every to/from targetRef and backendRef of a policy spec, with its path (relative to spec).

    The top-level targetRef is left to ``cross_selection`` (a policy that selects no proxy).
    """
    for section in ("to", "from"):
        for i, entry in enumerate(as_list(spec.get(section))):
            entry = as_map(entry)
            yield (section, i, "targetRef"), as_map(entry.get("targetRef"))
            for j, rule in enumerate(as_list(entry.get("rules"))):
                default = as_map(as_map(rule).get("default"))
                for k, ref in enumerate(as_list(default.get("backendRefs"))):
                    yield (section, i, "rules", j, "default", "backendRefs", k), as_map(ref)
                for k, flt in enumerate(as_list(default.get("filters"))):
                    mirror = as_map(as_map(flt).get("requestMirror"))
                    path = (section, i, "rules", j, "default", "filters", k, "requestMirror")
                    yield (*path, "backendRef"), as_map(mirror.get("backendRef"))


def check(resources: Sequence[Resource], view: CrossView) -> list[Diagnostic]:
    """``resources``: the resources of one file, in their order."""
    diags: list[Diagnostic] = []
    for resource in resources:
        if resource.kind == Kind.DATAPLANE:
            diags.extend(_outbounds(resource, view))
        elif resource.kind in POLICY_KINDS:
            f = Findings(resource)
            for path, ref in service_refs(resource.spec):
                name = ref.get("name")
                if (
                    ref.get("kind") in SERVICE_KINDS
                    and isinstance(name, str)
                    and not view.provides_service(resource.mesh, name)
                ):
                    f.add(
                        codes.UNKNOWN_SERVICE,
                        (*path, "name"),
                        f"no Dataplane in mesh {resource.mesh!r} provides service {name!r}",
                    )
            diags.extend(f.diagnostics)
    return diags


def _outbounds(dataplane: Resource, view: CrossView) -> list[Diagnostic]:
    f = Findings(dataplane)
    networking = as_map(dataplane.data.get("networking"))
    for i, outbound in enumerate(as_list(networking.get("outbound"))):
        outbound = as_map(outbound)
        tags = as_map(outbound.get("tags"))
        service = tags.get(SERVICE_TAG, outbound.get("service"))
        if (
            isinstance(service, str)
            and service
            and not view.provides_service(dataplane.mesh, service)
        ):
            path: FieldPath = ("networking", "outbound", i, "tags", SERVICE_TAG)
            if SERVICE_TAG not in tags:
                path = ("networking", "outbound", i, "service")
            f.add(
                codes.UNKNOWN_OUTBOUND_SERVICE,
                path,
                f"no Dataplane in mesh {dataplane.mesh!r} provides service {service!r}",
            )
    return f.diagnostics
