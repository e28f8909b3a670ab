"""Which Envoy metrics a scrape returns: ``sidecar`` as Envoy's admin ``/stats/prometheus``
query.

Kuma serves the scrape from ``kuma-dp`` (``app/kuma-dp/pkg/dataplane/metrics``): it asks
Envoy for ``/stats/prometheus`` (``?usedonly`` unless ``includeUnused``) and then filters the
Prometheus metric families by name: the broadest of ``appendProfiles`` (All > Basic > None,
Basic when none is given), then ``exclude`` removes families, then ``include`` adds them back
(``profiles.go`` ``ProfileMutatorGenerator``). Here Envoy serves the scrape itself, and its
only name filter is one RE2 regex on Envoy *stat* names (``cluster.backend.upstream_rq_total``),
not on Prometheus names (``envoy_cluster_upstream_rq_total``, the cluster in a label). So:

* ``includeUnused`` is honoured exactly (``usedonly``);
* profile ``All`` without ``exclude`` is exact (no filter), and ``None`` without ``include``
  is exact (a filter no stat name matches: no Envoy metric);
* profile ``Basic`` (the default), ``exclude`` under ``All`` and ``include`` under ``None``
  select by Prometheus names, which a stat-name regex cannot express: they are not applied,
  every Envoy metric is served, and the render says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reconciler.model import FieldPath

ALL, BASIC, NONE = "All", "Basic", "None"
_BREADTH = {ALL: 0, BASIC: 1, NONE: 2}
"""Kuma's ``profileOrder``: the first after sorting is the effective profile."""
MATCH_NOTHING = "^$"
"""No Envoy stat has an empty name: the filter of profile ``None``."""
STATS_PATH = "/stats/prometheus"


@dataclass(frozen=True, slots=True)
class StatsQuery:
    """The admin query of one scrape, and the parts of ``sidecar`` it cannot express."""

    used_only: bool
    filter: str | None
    skipped: tuple[tuple[FieldPath, str], ...] = ()

    def rewrite(self) -> str:
        """The admin path a scrape is rewritten to. It always ends in the query (``?`` and a
        trailing ``&`` when there are parameters), so whatever follows the matched prefix in
        the scraper's request (a longer path, its own query) lands in an ignored parameter."""
        params = []
        if self.filter is not None:
            params.append(f"filter={quote(self.filter, safe='')}")
        if self.used_only:
            params.append("usedonly")
        return f"{STATS_PATH}?" + "".join(f"{p}&" for p in params)


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def effective_profile(profiles: Mapping[str, Any]) -> str:
    names = [
        mapping(p).get("name")
        for p in profiles.get("appendProfiles") or ()
        if mapping(p).get("name") in _BREADTH
    ]
    if not names:
        return BASIC
    return min((str(n) for n in names), key=lambda n: _BREADTH[n])


def stats_query(sidecar: Mapping[str, Any]) -> StatsQuery:
    used_only = sidecar.get("includeUnused") is not True
    profiles = mapping(sidecar.get("profiles"))
    profile = effective_profile(profiles)
    include, exclude = profiles.get("include") or [], profiles.get("exclude") or []
    where: FieldPath = ("sidecar", "profiles")
    if profile == ALL and not exclude:
        return StatsQuery(used_only, None)
    if profile == NONE and not include:
        return StatsQuery(used_only, MATCH_NOTHING)
    skipped: list[tuple[FieldPath, str]] = []
    if profile == BASIC:
        path: FieldPath = (*where, "appendProfiles") if "appendProfiles" in profiles else where
        skipped.append((path, _not_applied("profile Basic (Kuma's default)")))
    if exclude and profile != NONE:
        skipped.append(((*where, "exclude"), _not_applied("exclude")))
    if include and profile != ALL:
        skipped.append(((*where, "include"), _not_applied("include")))
    return StatsQuery(used_only, None, tuple(skipped))


def _not_applied(what: str) -> str:
    return (
        f"{what} is not applied: Kuma's kuma-dp selects Prometheus metric names, Envoy's "
        "stats filter only matches Envoy stat names; every Envoy metric is served"
    )
