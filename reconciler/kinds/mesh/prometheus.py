"""A Prometheus metrics backend's ``conf`` (Kuma 2.14 ``validatePrometheusConfig``).

Shared by Mesh ``metrics.backends[].conf`` and Dataplane ``metrics.conf``. Kuma stops at the
first problem found, in this order: ``skipMTLS`` against ``tls``, ``envoy.filterRegex``, then
duplicate ``aggregate`` names.
"""

from __future__ import annotations

from reconciler import codes
from reconciler.validate.rules import go_regexp
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map

TLS_MODES = {"activeMTLSBackend": 0, "providedTLS": 1, "disabled": 2}


def _tls_mode(tls: object) -> int | None:
    mode = as_map(tls).get("mode")
    if mode is None:
        return 0
    if isinstance(mode, str):
        return TLS_MODES.get(mode)
    return mode if isinstance(mode, int) else None


def _equal_configuration(skip_mtls: object, tls: object) -> bool:
    """Kuma ``hasEqualConfiguration``: ``skipMTLS`` says what ``tls.mode`` says."""
    mode = _tls_mode(tls)
    return (skip_mtls is not True and mode == 0) or (skip_mtls is True and mode == 2)


def check_prometheus(f: Findings, path: Path, conf: object) -> None:
    c = as_map(conf)
    skip_mtls, tls = c.get("skipMTLS"), c.get("tls")
    if skip_mtls is not None and tls is not None and not _equal_configuration(skip_mtls, tls):
        f.add(
            codes.SETTINGS_CONFLICT,
            path,
            "skipMTLS and tls configuration cannot be defined together",
        )
        return
    regex = as_map(c.get("envoy")).get("filterRegex")
    if isinstance(regex, str) and not go_regexp.is_valid(regex):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            (*path, "envoy", "filterRegex"),
            f"provided regexp isn't correct: {regex!r} is not a valid RE2 expression",
        )
        return
    seen: set[str] = set()
    for i, item in enumerate(as_list(c.get("aggregate"))):
        name = as_map(item).get("name")
        name = name if isinstance(name, str) else ""
        if name in seen:
            f.add(
                codes.SETTINGS_CONFLICT,
                (*path, "aggregate", i, "name"),
                f"duplicate entry: {name}, values have to be unique",
            )
            continue
        seen.add(name)
