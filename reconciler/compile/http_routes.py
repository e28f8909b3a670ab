"""MeshHTTPRoute: HTTP routes of an outbound (matches, weighted backends, filters).

Kuma 2.14 behaviour (``pkg/plugins/policies/meshhttproute``):

* rules of all applicable ``to[]`` entries merge by deep-equal ``matches``
  (:func:`reconciler.compile.merge.merge_rules_by_matches`); a rule with several matches
  becomes one Envoy route per match;
* routes are ordered by Kuma's ``CompareMatch``: a match with a path first; Exact, then
  PathPrefix, then RegularExpression (longer values first); then a method match, then more
  header matches, then more query matches; ties keep rule order (stable sort). A rule
  without a path therefore comes after ``PathPrefix /`` and is never reached when such a
  rule exists: reported as RC504;
* a rule without ``backendRefs`` sends traffic to the destination service; the implicit rule
  ``PathPrefix /`` to the destination service is the least specific default;
* ``PathPrefix /foo`` matches ``/foo`` and ``/foo/bar`` but not ``/foobar``
  (``path_separated_prefix``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.type.v3 import percent_pb2 as envoy_percent

from reconciler.compile import names
from reconciler.compile.builders.values import enum_value
from reconciler.compile.http_matching import (
    ROOT_MATCH,
    catches_all,
    header_matcher,
    route_match,
    specificity,
)
from reconciler.compile.merge import KeyedRule, Merged, mapping
from reconciler.compile.trace import Skip

__all__ = [
    "ROOT_MATCH",
    "Backend",
    "RoutePlan",
    "backend_of",
    "build_route",
    "catches_all",
    "forward",
    "header_matcher",
    "plan",
    "ref_skips",
    "route_match",
    "specificity",
]

_REDIRECT_CODES = {
    301: "MOVED_PERMANENTLY",
    302: "FOUND",
    303: "SEE_OTHER",
    307: "TEMPORARY_REDIRECT",
    308: "PERMANENT_REDIRECT",
}


@dataclass(frozen=True, slots=True)
class Backend:
    """An upstream cluster a route needs: a service, or the subset of it with ``tags``."""

    service: str
    tags: tuple[tuple[str, str], ...]

    @property
    def cluster(self) -> str:
        return names.subset_cluster(self.service, dict(self.tags))


def backend_of(ref: Mapping[str, Any], default_service: str) -> Backend | None:
    kind = ref.get("kind", "MeshService")
    if kind not in ("MeshService", "MeshServiceSubset"):
        return None
    tags = ref.get("tags") if kind == "MeshServiceSubset" else None
    pairs = (
        tuple(sorted((str(k), str(v)) for k, v in tags.items())) if isinstance(tags, dict) else ()
    )
    return Backend(str(ref.get("name", default_service)), pairs)


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """One Envoy route to build: a single match and the merged rule it came from."""

    match: Mapping[str, Any]
    rule: KeyedRule | None
    """None for the implicit default route to the destination service."""


def plan(rules: Sequence[KeyedRule]) -> list[RoutePlan]:
    """Routes in Envoy order (first match wins)."""
    plans: list[RoutePlan] = []
    has_root = False
    for rule in rules:
        for match in rule.matches or (ROOT_MATCH,):
            has_root = has_root or dict(match) == ROOT_MATCH
            plans.append(RoutePlan(match, rule))
    if not has_root:
        plans.append(RoutePlan(ROOT_MATCH, None))
    plans.sort(key=lambda p: specificity(p.match))
    return plans


def ref_skips(merged: Merged | None, field_name: str, refs: Any) -> list[Skip]:
    """backendRefs this compiler cannot send traffic to, as reportable skips."""
    origins = merged.origin(field_name) if merged is not None else ()
    if not origins or not isinstance(refs, list):
        return []
    origin = origins[-1]
    out: list[Skip] = []
    for j, ref in enumerate(refs):
        kind = mapping(ref).get("kind", "MeshService")
        if kind not in ("MeshService", "MeshServiceSubset"):
            out.append(
                Skip(
                    origin.resource,
                    (*origin.path, j, "kind"),
                    f"backendRef kind {kind} is not compiled yet; this backend gets no traffic",
                )
            )
    if refs and all(mapping(r).get("weight", 1) == 0 for r in refs):
        out.append(
            Skip(
                origin.resource, origin.path, "every backendRef has weight 0: the route answers 503"
            )
        )
    return out


def build_route(
    plan_: RoutePlan, service: str, name: str
) -> tuple[envoy_route.Route, list[Backend], list[Skip]]:
    """The Envoy route for ``plan_``, the backend clusters it needs, and what it skipped."""
    route = envoy_route.Route(name=name, match=route_match(plan_.match))
    conf = plan_.rule.default.conf if plan_.rule is not None else {}
    filters = [f for f in conf.get("filters") or () if isinstance(f, dict)]
    needed: list[Backend] = []
    redirect = next((f for f in filters if f.get("type") == "RequestRedirect"), None)
    if redirect is not None:
        _redirect(route, redirect.get("requestRedirect") or {})
    else:
        needed.extend(forward(route, conf.get("backendRefs"), service))
    for f in filters:
        needed.extend(_apply_filter(route, f, service))
    merged = plan_.rule.default if plan_.rule is not None else None
    skips = (
        [] if redirect is not None else ref_skips(merged, "backendRefs", conf.get("backendRefs"))
    )
    return route, needed, skips


def forward(route: envoy_route.Route, refs: Any, service: str) -> list[Backend]:
    refs = refs if isinstance(refs, list) and refs else [{"kind": "MeshService", "name": service}]
    weighted: list[tuple[Backend, int]] = []
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        backend = backend_of(ref, service)
        weight = ref.get("weight", 1)
        if backend is not None and isinstance(weight, int) and weight > 0:
            weighted.append((backend, weight))
    if not weighted:
        route.direct_response.status = 503
        return []
    if len(weighted) == 1:
        route.route.cluster = weighted[0][0].cluster
    else:
        for backend, weight in weighted:
            wc = route.route.weighted_clusters.clusters.add(name=backend.cluster)
            wc.weight.value = weight
    return [b for b, _ in weighted]


def _redirect(route: envoy_route.Route, conf: Mapping[str, Any]) -> None:
    redirect = route.redirect
    if isinstance(conf.get("scheme"), str):
        redirect.scheme_redirect = conf["scheme"]
    if isinstance(conf.get("hostname"), str):
        redirect.host_redirect = conf["hostname"]
    if isinstance(conf.get("port"), int):
        redirect.port_redirect = conf["port"]
    path = mapping(conf.get("path"))
    if path.get("type") == "ReplaceFullPath":
        redirect.path_redirect = str(path.get("replaceFullPath", "/"))
    elif path.get("type") == "ReplacePrefixMatch":
        redirect.prefix_rewrite = str(path.get("replacePrefixMatch", "/"))
    code = _REDIRECT_CODES.get(int(conf.get("statusCode", 302)), "FOUND")
    redirect.response_code = enum_value(envoy_route.RedirectAction.RedirectResponseCode, code)


def _headers(add: Any, set_: Any, into: Any, action_add: int, action_set: int) -> None:
    for entries, action in ((set_, action_set), (add, action_add)):
        for h in entries or ():
            if isinstance(h, dict):
                option = into.add(append_action=action)
                option.header.key = str(h.get("name", ""))
                option.header.value = str(h.get("value", ""))


def _apply_filter(route: envoy_route.Route, f: Mapping[str, Any], service: str) -> list[Backend]:
    ftype = f.get("type")
    add_action = envoy_base.HeaderValueOption.APPEND_IF_EXISTS_OR_ADD
    set_action = envoy_base.HeaderValueOption.OVERWRITE_IF_EXISTS_OR_ADD
    if ftype == "RequestHeaderModifier":
        conf = f.get("requestHeaderModifier") or {}
        _headers(
            conf.get("add"), conf.get("set"), route.request_headers_to_add, add_action, set_action
        )
        route.request_headers_to_remove.extend(str(n) for n in conf.get("remove") or ())
    elif ftype == "ResponseHeaderModifier":
        conf = f.get("responseHeaderModifier") or {}
        _headers(
            conf.get("add"), conf.get("set"), route.response_headers_to_add, add_action, set_action
        )
        route.response_headers_to_remove.extend(str(n) for n in conf.get("remove") or ())
    elif ftype == "URLRewrite" and route.HasField("route"):
        conf = f.get("urlRewrite") or {}
        if isinstance(conf.get("hostname"), str):
            route.route.host_rewrite_literal = conf["hostname"]
        elif conf.get("hostToBackendHostname"):
            route.route.auto_host_rewrite.value = True
        path = mapping(conf.get("path"))
        if path.get("type") == "ReplaceFullPath":
            route.route.regex_rewrite.pattern.regex = ".*"
            route.route.regex_rewrite.substitution = str(path.get("replaceFullPath", "/"))
        elif path.get("type") == "ReplacePrefixMatch":
            route.route.prefix_rewrite = str(path.get("replacePrefixMatch", "/"))
    elif ftype == "RequestMirror" and route.HasField("route"):
        conf = f.get("requestMirror") or {}
        ref = mapping(conf.get("backendRef"))
        backend = backend_of(ref, service)
        if backend is None:
            return []
        mirror = route.route.request_mirror_policies.add(cluster=backend.cluster)
        fraction = mirror.runtime_fraction.default_value
        fraction.denominator = envoy_percent.FractionalPercent.MILLION
        fraction.numerator = _per_million(conf.get("percentage", 100))
        return [backend]
    return []


def _per_million(value: Any) -> int:
    try:
        percent = float(str(value).rstrip("%"))
    except ValueError:
        percent = 100.0
    return max(0, min(1_000_000, round(percent * 10_000)))
