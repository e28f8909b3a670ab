"""OpenTelemetry collector references: Kuma 2.14 ``ValidateOtelBackendRefOrEndpoint``.

Observability policies (MeshTrace, MeshMetric) name their collector either by ``endpoint``
(``host:port``) or by ``backendRef`` (a MeshOpenTelemetryBackend selected by labels), never
both. Messages and field paths are Kuma's (``pkg/core/validators/common_validators.go``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from reconciler import codes
from reconciler.validate.rules.addresses import split_host_port
from reconciler.validate.rules.findings import Findings, Path, as_map, is_set

EndpointCheck = Callable[[Findings, Path, str], None]


def check_backend_ref_or_endpoint(
    f: Findings, path: Path, conf: Mapping[str, Any], *extra: EndpointCheck
) -> None:
    """``conf`` is the ``openTelemetry`` block at ``path``; ``extra`` checks an endpoint."""
    endpoint = conf.get("endpoint")
    ref = conf.get("backendRef")
    has_endpoint = isinstance(endpoint, str) and endpoint != ""
    if has_endpoint and ref is not None:
        f.add(
            codes.SETTINGS_CONFLICT,
            path,
            "openTelemetry must have only one type defined: endpoint, backendRef",
        )
    elif not has_endpoint and ref is None:
        f.add(
            codes.SETTING_MISSING,
            path,
            "openTelemetry must have exactly one defined: endpoint, backendRef",
        )
    elif ref is not None:
        # a kind other than MeshOpenTelemetryBackend is reported by the schema's enum
        if isinstance(ref, dict) and not is_set(as_map(ref).get("labels")):
            f.add(
                codes.SETTING_MISSING,
                (*path, "backendRef"),
                "backendRef must have exactly one defined: labels",
            )
    elif isinstance(endpoint, str) and any(c in endpoint for c in "/?#"):
        f.add(
            codes.VALUE_NOT_ALLOWED, (*path, "endpoint"), "must be in host:port format, not a URL"
        )
    elif isinstance(endpoint, str):
        for check in extra:
            check(f, (*path, "endpoint"), endpoint)


def check_attribute_name(f: Findings, path: Path, key: str) -> None:
    """Kuma ``ValidateOtelAttributeName``: a static, lowercase, dotted name, not ``otel.*``.

    The grammar itself is also the schema's ``pattern``; the rules report what it lets
    through (the reserved prefix) and the cases Kuma words differently.
    """
    if key == "":
        return  # the schema's pattern reports it
    if "%" in key:
        return  # the schema's pattern reports it (Kuma: a static name, no placeholders)
    if key.startswith("otel."):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            path,
            "must not use the reserved OpenTelemetry prefix 'otel.'",
        )


def check_host_port(f: Findings, path: Path, endpoint: str) -> None:
    """MeshMetric's extra rule: the endpoint splits into host and port."""
    if split_host_port(endpoint) is None:
        f.add(codes.VALUE_NOT_ALLOWED, path, "must be in host:port format")
