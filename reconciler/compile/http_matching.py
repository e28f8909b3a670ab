"""MeshHTTPRoute matches: Envoy route matches and Kuma's match precedence.

Sources: Kuma ``pkg/plugins/policies/meshhttproute/api/v1alpha1/compare.go`` (order) and
``pkg/plugins/policies/meshhttproute/xds/{configurer,match}.go`` (Envoy shapes): ``PathPrefix
/foo`` matches ``/foo`` and ``/foo/bar`` but not ``/foobar`` (two Envoy routes, ``path`` and
``prefix: /foo/``); a method is a ``:method`` header match; Present / Absent headers are
``present_match: true`` / ``false``.
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


def route_matches(match: Mapping[str, Any]) -> list[tuple[envoy_route.RouteMatch, bool]]:
    """Kuma's ``routeMatch``: the Envoy matches of one Kuma match, each with "is a prefix match".

    ``PathPrefix /foo`` becomes two Envoy matches, ``path: /foo`` and ``prefix: /foo/`` (a
    trailing slash of the value is dropped first); ``PathPrefix /`` stays ``prefix: /``; a
    match without a path is ``PathPrefix /``. A method is a ``:method`` header match that
    comes first; a repeated header or query parameter name keeps its first match.
    """
    path = mapping(match.get("path")) or dict(ROOT_MATCH["path"])
    value = str(path.get("value", "/"))
    ptype = path.get("type")
    prefix = ptype == "PathPrefix"
    shapes: list[envoy_route.RouteMatch] = []
    if ptype == "Exact":
        shapes.append(envoy_route.RouteMatch(path=value))
    elif ptype == "RegularExpression":
        regex = envoy_route.RouteMatch()
        regex.safe_regex.regex = value
        shapes.append(regex)
    elif value == "/":
        shapes.append(envoy_route.RouteMatch(prefix="/"))
    else:
        trimmed = value.removesuffix("/")
        shapes += [
            envoy_route.RouteMatch(path=trimmed),
            envoy_route.RouteMatch(prefix=trimmed + "/"),
        ]
    for out in shapes:
        method = match.get("method")
        if isinstance(method, str):
            out.headers.add(name=":method").string_match.exact = method
        seen: set[str] = set()
        for q in match.get("queryParams") or ():
            name = str(mapping(q).get("name", ""))
            if not isinstance(q, dict) or name in seen:
                continue
            seen.add(name)
            param = out.query_parameters.add(name=name)
            if q.get("type") == "RegularExpression":
                param.string_match.safe_regex.regex = str(q.get("value", ""))
            else:
                param.string_match.exact = str(q.get("value", ""))
        seen.clear()
        for h in match.get("headers") or ():
            name = str(mapping(h).get("name", ""))
            if not isinstance(h, dict) or name in seen:
                continue
            seen.add(name)
            header_matcher(out.headers.add(name=name), h)
    return [(out, prefix) for out in shapes]


def header_matcher(out: envoy_route.HeaderMatcher, h: Mapping[str, Any]) -> None:
    """A Kuma ``HeaderMatch`` (Exact, Prefix, RegularExpression, Present, Absent)."""
    htype = h.get("type", "Exact")
    value = str(h.get("value", ""))
    if htype == "Present" or (htype == "Prefix" and not value):
        out.present_match = True  # Envoy rejects an empty prefix: Kuma checks presence
    elif htype == "Absent":
        out.present_match = False
    elif htype == "Prefix":
        out.string_match.prefix = value
    elif htype == "RegularExpression":
        out.string_match.safe_regex.regex = value
    else:
        out.string_match.exact = value
