"""Mesh (Kuma 2.14 ``mesh_validator.go``): mTLS backends and the backend lists."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.durations import parse_duration
from reconciler.kinds.mesh import backends as mesh_backends
from reconciler.kinds.mesh import not_applied
from reconciler.model import Resource
from reconciler.validate.rules.findings import Findings, as_list, as_map, is_set

_DAYS_OR_YEARS = re.compile(r"^(\d+)([dy])$")
MAX_MTLS_BACKENDS = 1
_DNS_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def parse_mesh_duration(text: object) -> float | None:
    """Kuma's mesh ``ParseDuration``: Go durations plus whole days and years (``1d``, ``2y``)."""
    if isinstance(text, str):
        match = _DAYS_OR_YEARS.match(text)
        if match:
            days = int(match.group(1)) * (365 if match.group(2) == "y" else 1)
            return days * 86400.0
    return parse_duration(text)


def check(f: Findings, resource: Resource) -> None:
    _check_own(f, resource)
    not_applied.check(f, resource)


def _check_own(f: Findings, resource: Resource) -> None:
    data = resource.data
    mtls = data.get("mtls")
    if isinstance(mtls, dict):
        _check_mtls(f, mtls)
    for section, default_field, message in (
        ("logging", "defaultBackend", "has to be set to one of the logging backend in mesh"),
        ("tracing", "defaultBackend", "has to be set to one of the tracing backend in mesh"),
        ("metrics", "enabledBackend", "has to be set to one of the backends in the mesh"),
    ):
        conf = data.get(section)
        if isinstance(conf, dict):
            _check_backend_names(f, section, conf, default_field, message, codes.MESH_BACKENDS)
    mesh_backends.check(f, data)


def _check_backend_names(
    f: Findings, section: str, conf: Mapping[str, Any], default_field: str, message: str, code: str
) -> set[str]:
    names: set[str] = set()
    for i, backend in enumerate(as_list(conf.get("backends"))):
        name = as_map(backend).get("name")
        name = name if isinstance(name, str) else ""
        if name in names:
            f.add(
                code,
                (section, "backends", i, "name"),
                f"{json.dumps(name)} name is already used for another backend",
            )
        names.add(name)
    chosen = conf.get(default_field)
    if isinstance(chosen, str) and chosen and chosen not in names:
        f.add(code, (section, default_field), message)
    return names


def _check_mtls(f: Findings, mtls: Mapping[str, Any]) -> None:
    _check_backend_names(
        f,
        "mtls",
        mtls,
        "enabledBackend",
        "has to be set to one of the backends in the mesh",
        codes.MESH_MTLS,
    )
    if len(as_list(mtls.get("backends"))) > MAX_MTLS_BACKENDS:
        f.add(
            codes.MESH_MTLS,
            ("mtls", "backends"),
            f"cannot have more than {MAX_MTLS_BACKENDS} backends",
        )
    for i, backend in enumerate(as_list(mtls.get("backends"))):
        if not isinstance(backend, dict):
            continue
        path = ("mtls", "backends", i)
        name = backend.get("name")
        if isinstance(name, str) and backend.get("type") == "builtin" and not _DNS_NAME.match(name):
            f.add(codes.MESH_MTLS, (*path, "name"), f"{name!r} name must be valid dns name")
        dp_cert = backend.get("dpCert")
        expiration = as_map(as_map(dp_cert).get("rotation")).get("expiration")
        if dp_cert is not None and parse_mesh_duration(expiration or "") is None:
            # Kuma reports it at "mtls.dpcert.rotation.expiration", without the backend index
            found = Findings(f.resource)
            found.add(
                codes.MESH_MTLS,
                (*path, "dpCert", "rotation", "expiration"),
                "has to be a valid format",
            )
            f.merge_renamed(found, f"backends[{i}].dpCert", "dpcert")
        ca_expiration = as_map(as_map(backend.get("conf")).get("caCert")).get("expiration")
        if (
            isinstance(ca_expiration, str)
            and is_set(ca_expiration)
            and parse_mesh_duration(ca_expiration) is None
        ):
            f.add(
                codes.MESH_MTLS,
                (*path, "conf", "caCert", "expiration"),
                f"has to be a valid format: {ca_expiration!r} (e.g. 10y, 365d)",
            )
