"""MeshHTTPRoute: HTTP routes of an outbound (matches, weighted backends, filters).

Kuma 2.14 behaviour (``pkg/plugins/policies/meshhttproute/plugin/v1alpha1/listeners.go``
``prepareRoutes``, ``core/xds/meshroute`` ``MakeHTTPSplit`` and ``meshhttproute/xds``):

* rules of all applicable ``to[]`` entries merge by deep-equal ``matches``
  (:func:`reconciler.compile.merge.merge_rules_by_matches`); a rule with several matches
  becomes one route per match;
* the user's routes are stable-sorted by ``CompareMatch`` (a match with a path first; Exact,
  then PathPrefix, then RegularExpression, longer values first; then a method match, then
  more header matches, then more query matches); then the implicit catch-all ``PathPrefix /``
  to the destination service is appended **last**, unless a rule has exactly that match. A
  rule without a path is therefore reached unless the user wrote a ``PathPrefix /`` rule,
  which sorts before it (reported as RC504);
* a rule without ``backendRefs`` sends traffic to the destination service; a backend with
  weight 0, or whose service no Dataplane provides over HTTP, is left out of the split, and
  a rule left with no backend is dropped (traffic falls through);
* ``PathPrefix /foo`` is two Envoy routes, ``path: /foo`` and ``prefix: /foo/`` (so
  ``/foobar`` does not match); ``ReplacePrefixMatch`` rewrites the first with a regex of the
  whole path and the second with ``prefix_rewrite``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.route.v3 import route_components_pb2 as envoy_route

from reconciler import names
from reconciler.compile.builders.values import enum_value, set_duration
from reconciler.compile.decimals import fractional_percent
from reconciler.compile.http_matching import (
    ROOT_MATCH,
    catches_all,
    header_matcher,
    route_matches,
    specificity,
)
from reconciler.compile.merge import KeyedRule, Merged, mapping
from reconciler.compile.mesh_services import MESH_EXTERNAL_SERVICE, references_real_resource
from reconciler.compile.trace import Skip
from reconciler.kinds.mesh_http_route import all_weights_zero

__all__ = [
    "ROOT_MATCH",
    "Backend",
    "Resolve",
    "RoutePlan",
    "backend_of",
    "build_route",
    "catches_all",
    "header_matcher",
    "plan",
    "ref_skips",
    "route_action",
    "route_matches",
    "specificity",
    "split",
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


Resolve = Callable[[Mapping[str, Any]], tuple[str | None, str]]
"""A real-resource backendRef (MeshService port, MeshExternalService) to its destination key,
or None and why (:func:`reconciler.compile.mesh_services.route_backend`)."""

COMPILED_KINDS = ("MeshService", "MeshServiceSubset", MESH_EXTERNAL_SERVICE)


def backend_of(ref: Mapping[str, Any], default_service: str, resolve: Resolve) -> Backend | None:
    """Kuma ``makeSplits``: a real resource is its destination's cluster (``handleRealResources``,
    named ``destinationname.MustResolve``), anything else a ``kuma.io/service`` with tags."""
    if references_real_resource(ref):
        key, _ = resolve(ref)
        return Backend(key, ()) if key is not None else None
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
    """Kuma's ``prepareRoutes``: a route per match of every merged rule, stable-sorted by
    ``CompareMatch``, then the implicit catch-all ``PathPrefix /`` to the destination service
    appended last, unless a rule has exactly that match."""
    plans = [RoutePlan(match, rule) for rule in rules for match in rule.matches or (ROOT_MATCH,)]
    plans.sort(key=lambda p: specificity(p.match))
    if not any(catches_all(p.match) for p in plans):
        plans.append(RoutePlan(ROOT_MATCH, None))
    return plans


Routable = Callable[[str], bool]
"""Whether an HTTP route may send to a service: Kuma's ``MakeHTTPSplit`` keeps a backend only
when its service is known with an HTTP, HTTP/2 or gRPC protocol."""


def ref_skips(merged: Merged | None, field_name: str, refs: Any, resolve: Resolve) -> list[Skip]:
    """backendRefs this compiler cannot send traffic to, as reportable skips."""
    origins = merged.origin(field_name) if merged is not None else ()
    if not origins or not isinstance(refs, list):
        return []
    origin = origins[-1]
    out: list[Skip] = []
    for j, ref in enumerate(refs):
        kind = mapping(ref).get("kind", "MeshService")
        if references_real_resource(mapping(ref)):
            key, why = resolve(mapping(ref))
            if key is None:
                out.append(Skip(origin.resource, (*origin.path, j), why))
        elif kind not in COMPILED_KINDS:
            out.append(
                Skip(
                    origin.resource,
                    (*origin.path, j, "kind"),
                    f"backendRef kind {kind} is not compiled yet; this backend gets no traffic",
                )
            )
    return out


def build_route(
    plan_: RoutePlan, service: str, name: str, routable: Routable, resolve: Resolve
) -> tuple[list[envoy_route.Route], list[Backend], list[Skip]]:
    """The Envoy routes of ``plan_`` (none when Kuma drops the rule), the clusters they need,
    and what was skipped. A rule none of whose backends can take traffic (weight 0, or a
    service no Dataplane provides over HTTP) is dropped, as Kuma does: requests fall through
    to the next matching route."""
    conf = plan_.rule.default.conf if plan_.rule is not None else {}
    merged = plan_.rule.default if plan_.rule is not None else None
    refs = conf.get("backendRefs")
    skips = ref_skips(merged, "backendRefs", refs, resolve)
    weighted = split(refs, service, routable, resolve)
    if not weighted:
        if merged is not None and not all_weights_zero(refs):  # RC503 at validation
            skips.append(_dropped(merged))
        return [], [], skips
    filters = [f for f in conf.get("filters") or () if isinstance(f, dict)]
    needed = [b for b, _ in weighted]
    routes: list[envoy_route.Route] = []
    for match, prefix in route_matches(plan_.match):
        route = envoy_route.Route(name=name, match=match)
        route_action(route.route, weighted)
        for f in filters:
            needed.extend(_apply_filter(route, f, service, prefix, resolve))
        routes.append(route)
    return routes, list(dict.fromkeys(needed)), skips


def _dropped(merged: Merged) -> Skip:
    origins = merged.origin("backendRefs")
    last = origins[-1] if origins else merged.contributions[-1]
    return Skip(
        last.resource,
        last.path,
        "no backend of this rule can take traffic (weight 0, or no Dataplane provides the "
        "service over HTTP): Kuma drops the rule and requests fall through to the next route",
    )


def split(
    refs: Any, service: str, routable: Routable, resolve: Resolve
) -> list[tuple[Backend, int]]:
    """Kuma's split: the backends with a weight above 0 that can take traffic (an empty or
    absent ``backendRefs`` means the destination service itself, weight 1)."""
    refs = refs if isinstance(refs, list) and refs else [{"kind": "MeshService", "name": service}]
    weighted: list[tuple[Backend, int]] = []
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        backend = backend_of(ref, service, resolve)
        weight = ref.get("weight", 1)
        if (
            backend is not None
            and isinstance(weight, int)
            and weight > 0
            and routable(backend.service)
        ):
            weighted.append((backend, weight))
    return weighted


def route_action(action: envoy_route.RouteAction, weighted: Sequence[tuple[Backend, int]]) -> None:
    """Kuma's ``routeAction``: one cluster or weighted clusters; no timeout unless a policy
    sets one (``timeout: 0s``)."""
    set_duration(action.timeout, 0)
    if len(weighted) == 1:
        action.cluster = weighted[0][0].cluster
        return
    for backend, weight in weighted:
        action.weighted_clusters.clusters.add(name=backend.cluster).weight.value = weight


def _redirect(route: envoy_route.Route, conf: Mapping[str, Any], prefix: bool) -> None:
    """Kuma's ``RequestRedirectConfigurer``: the redirect replaces the route action."""
    redirect = envoy_route.RedirectAction()
    if isinstance(conf.get("hostname"), str):
        redirect.host_redirect = conf["hostname"]
    if isinstance(conf.get("port"), int):
        redirect.port_redirect = conf["port"]
    if isinstance(conf.get("scheme"), str):
        redirect.scheme_redirect = conf["scheme"]
    path = mapping(conf.get("path"))
    if path.get("type") == "ReplaceFullPath":
        _regex_rewrite(redirect.regex_rewrite, path.get("replaceFullPath"))
    elif path.get("type") == "ReplacePrefixMatch" and prefix:
        if route.match.path:
            _regex_rewrite(redirect.regex_rewrite, path.get("replacePrefixMatch"))
        elif route.match.prefix:
            redirect.prefix_rewrite = str(path.get("replacePrefixMatch", ""))
    code = _REDIRECT_CODES.get(_int(conf.get("statusCode"), 302), "FOUND")
    redirect.response_code = enum_value(envoy_route.RedirectAction.RedirectResponseCode, code)
    route.redirect.CopyFrom(redirect)


def _regex_rewrite(out: Any, substitution: Any) -> None:
    out.pattern.regex = ".*"
    out.substitution = str(substitution if substitution is not None else "")


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _headers(add: Any, set_: Any, into: Any, action_add: int, action_set: int) -> None:
    for entries, action in ((set_, action_set), (add, action_add)):
        for h in entries or ():
            if isinstance(h, dict):
                option = into.add(append_action=action)
                option.header.key = str(h.get("name", ""))
                option.header.value = str(h.get("value", ""))


def _apply_filter(
    route: envoy_route.Route, f: Mapping[str, Any], service: str, prefix: bool, resolve: Resolve
) -> list[Backend]:
    """One filter of Kuma's ``RoutesConfigurer`` on one Envoy route (``prefix``: the Kuma
    match was a ``PathPrefix``, which ``ReplacePrefixMatch`` needs)."""
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
    elif ftype == "RequestRedirect":
        _redirect(route, mapping(f.get("requestRedirect")), prefix)
    elif ftype == "URLRewrite" and route.HasField("route"):
        conf = mapping(f.get("urlRewrite"))
        if isinstance(conf.get("hostname"), str):
            route.route.host_rewrite_literal = conf["hostname"]
        path = mapping(conf.get("path"))
        if path.get("type") == "ReplaceFullPath":
            _regex_rewrite(route.route.regex_rewrite, path.get("replaceFullPath"))
        elif path.get("type") == "ReplacePrefixMatch" and prefix:
            if route.match.path:
                _regex_rewrite(route.route.regex_rewrite, path.get("replacePrefixMatch"))
            elif route.match.prefix:
                route.route.prefix_rewrite = str(path.get("replacePrefixMatch", ""))
    elif ftype == "RequestMirror" and route.HasField("route"):
        conf = mapping(f.get("requestMirror"))
        backend = backend_of(mapping(conf.get("backendRef")), service, resolve)
        if backend is None:
            return []
        mirror = route.route.request_mirror_policies.add(cluster=backend.cluster)
        if conf.get("percentage") is not None:
            mirror.runtime_fraction.default_value.CopyFrom(fractional_percent(conf["percentage"]))
        return [backend]
    return []
