"""Two inbounds or outbounds of one proxy listening on the same address:port (an error)."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler import codes
from reconciler.diagnostics import Diagnostic
from reconciler.model import FieldPath, Kind, Resource
from reconciler.validate.rules.cross_view import CrossView
from reconciler.validate.rules.findings import Findings, as_list, as_map, is_number

OUTBOUND_DEFAULT_ADDRESS = "127.0.0.1"


def check(resources: Sequence[Resource], view: CrossView) -> list[Diagnostic]:
    """``resources``: the resources of one file; one Dataplane reads nothing else."""
    diags: list[Diagnostic] = []
    for resource in resources:
        if resource.kind == Kind.DATAPLANE:
            diags.extend(check_dataplane(resource))
    return diags


def check_dataplane(dataplane: Resource) -> list[Diagnostic]:
    f = Findings(dataplane)
    networking = as_map(dataplane.data.get("networking"))
    address = networking.get("address")
    taken: dict[tuple[str, int], str] = {}
    for section, default in (("inbound", address), ("outbound", OUTBOUND_DEFAULT_ADDRESS)):
        for i, item in enumerate(as_list(networking.get(section))):
            item = as_map(item)
            port = item.get("port")
            listen = item.get("address") or default
            if not is_number(port) or not isinstance(listen, str):
                continue
            where = f"networking.{section}[{i}]"
            key = (listen, int(port))
            first = taken.get(key)
            if first is None:
                taken[key] = where
                continue
            path: FieldPath = ("networking", section, i, "port")
            f.add(
                codes.PORT_COLLISION,
                path,
                f"{where} listens on {listen}:{port}, like {first}",
            )
    return f.diagnostics
