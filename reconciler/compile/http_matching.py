"""MeshHTTPRoute matches: Envoy route matches and Kuma's match precedence.

Sources: Kuma ``pkg/plugins/policies/meshhttproute/api/v1alpha1/compare.go`` (order) and
``pkg/plugins/policies/meshhttproute/xds`` (Envoy shapes): ``PathPrefix /foo`` matches ``/foo``
and ``/foo/bar`` but not ``/foobar`` (``path_separated_prefix``); a method is a ``:method``
header match; Present / Absent headers are ``present_match`` (inverted for Absent).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envoy.config.route.v3 import route_components_pb2 as envoy_route

from reconciler.compile.merge import mapping

ROOT_MATCH: Mapping[str, Any] = {"path": {"type": "PathPrefix", "value": "/"}}


def specificity(match: Mapping[str, Any]) -> tuple[int, int, int, int, int]:
    """Sort key of Kuma's ``CompareMatch`` (meshhttproute/api/v1alpha1/compare.go).

    A match with a path precedes one without; Exact precedes PathPrefix precedes
    RegularExpression, a longer value first among prefixes and among regexes; then a method
    match; then more header matches; then more query parameter matches.
    """
    path = mapping(match.get("path"))
    ptype = path.get("type") if path else None
    rank = {"Exact": 0, "PathPrefix": 1, "RegularExpression": 2}.get(str(ptype), 3)
    length = len(str(path.get("value", ""))) if ptype in ("PathPrefix", "RegularExpression") else 0
    headers = match.get("headers")
    query = match.get("queryParams")
    return (
        rank,
        -length,
        0 if match.get("method") else 1,
        -(len(headers) if isinstance(headers, list) else 0),
        -(len(query) if isinstance(query, list) else 0),
    )


def catches_all(match: Mapping[str, Any]) -> bool:
    """``PathPrefix /`` and nothing else: every later route is unreachable."""
    return dict(match) == dict(ROOT_MATCH)


def route_match(match: Mapping[str, Any]) -> envoy_route.RouteMatch:
    out = envoy_route.RouteMatch()
    path = mapping(match.get("path")) or None
    value = str(path.get("value", "/")) if path else "/"
    ptype = path.get("type") if path else "PathPrefix"
    if ptype == "Exact":
        out.path = value
    elif ptype == "RegularExpression":
        out.safe_regex.regex = value
    elif value == "/" or not value.rstrip("/"):
        out.prefix = "/"
    else:
        out.path_separated_prefix = value.rstrip("/")
    method = match.get("method")
    if isinstance(method, str):
        header = out.headers.add(name=":method")
        header.string_match.exact = method
    for h in match.get("headers") or ():
        if isinstance(h, dict):
            header_matcher(out.headers.add(name=str(h.get("name", ""))), h)
    for q in match.get("queryParams") or ():
        if isinstance(q, dict):
            param = out.query_parameters.add(name=str(q.get("name", "")))
            if q.get("type") == "RegularExpression":
                param.string_match.safe_regex.regex = str(q.get("value", ""))
            else:
                param.string_match.exact = str(q.get("value", ""))
    return out


def header_matcher(out: envoy_route.HeaderMatcher, h: Mapping[str, Any]) -> None:
    """A Kuma ``HeaderMatch`` (Exact, Prefix, RegularExpression, Present, Absent)."""
    htype = h.get("type", "Exact")
    value = str(h.get("value", ""))
    if htype == "Present":
        out.present_match = True
    elif htype == "Absent":
        out.present_match = True
        out.invert_match = True
    elif htype == "Prefix":
        out.string_match.prefix = value
    elif htype == "RegularExpression":
        out.string_match.safe_regex.regex = value
    else:
        out.string_match.exact = value
