"""Envoy unified matchers on the peer certificate's URI SAN (Kuma 2.14
``pkg/envoy/builders/xds/matchers``: ``SpiffeIDPredicate``, ``CombinedPredicate``,
``NotPredicate``, ``Matches`` / ``NotMatches``, ``SkipFilterAction``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envoy.extensions.filters.common.matcher.action.v3 import skip_action_pb2 as envoy_skip
from envoy.extensions.matching.common_inputs.ssl.v3 import ssl_inputs_pb2 as envoy_ssl_inputs
from xds.type.matcher.v3 import matcher_pb2 as xds_matcher
from xds.type.matcher.v3 import string_pb2 as xds_string

URI_SAN_INPUT = "envoy.matching.inputs.uri_san"
SKIP_ACTION = "skip"


def spiffe_predicate(spiffe: Mapping[str, Any]) -> xds_matcher.Matcher.MatcherList.Predicate:
    """``SpiffeIDPredicate``: the URI SAN input against ``exact`` / ``prefix``."""
    value = str(spiffe.get("value", ""))
    string = (
        xds_string.StringMatcher(prefix=value)
        if spiffe.get("type") == "Prefix"
        else xds_string.StringMatcher(exact=value)
    )
    predicate = xds_matcher.Matcher.MatcherList.Predicate()
    single = predicate.single_predicate
    single.input.name = URI_SAN_INPUT
    single.input.typed_config.Pack(envoy_ssl_inputs.UriSanInput(), deterministic=True)
    single.value_match.CopyFrom(string)
    return predicate


def matches_predicate(
    matches: Sequence[Mapping[str, Any]],
) -> xds_matcher.Matcher.MatcherList.Predicate | None:
    """``CombinedPredicate`` of the matches' spiffeIDs: one predicate or an ``or_matcher``;
    None when no match names a spiffeID."""
    predicates = [
        spiffe_predicate(m["spiffeID"]) for m in matches if isinstance(m.get("spiffeID"), Mapping)
    ]
    if not predicates:
        return None
    if len(predicates) == 1:
        return predicates[0]
    out = xds_matcher.Matcher.MatcherList.Predicate()
    out.or_matcher.predicate.extend(predicates)
    return out


def skip_unless(matches: Sequence[Mapping[str, Any]]) -> xds_matcher.Matcher:
    """The matcher of a filter that runs only for peers ``matches`` names:
    ``NotMatches(matches, SkipFilterAction)``; empty (the filter always runs) without
    matches."""
    matcher = xds_matcher.Matcher()
    predicate = matches_predicate(matches)
    if predicate is None:
        return matcher
    field = matcher.matcher_list.matchers.add()
    field.predicate.not_matcher.CopyFrom(predicate)
    field.on_match.action.name = SKIP_ACTION
    field.on_match.action.typed_config.Pack(envoy_skip.SkipFilter(), deterministic=True)
    return matcher
