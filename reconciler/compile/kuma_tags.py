"""The ``x-kuma-tags`` header: a client sidecar's tags, sent so its peers can tell who calls.

Kuma 2.14 sources:

* ``pkg/xds/envoy/tags`` ``Serialize``: ``&key=v1,v2&`` per tag, keys sorted, the values of
  a key sorted and joined with ``,``;
* ``MatchingRegex``: ``.*`` then, per key sorted, ``&key=[^&]*value[,&].*`` (``*`` as value:
  ``&key=.*``); dots in the value part are escaped;
* ``pkg/xds/envoy/routes`` ``TagsHeaderConfigurer``: a route configuration of an outbound
  adds the header (``request_headers_to_add``) when the proxy has tags;
* ``xds_context.MeshContext.IsXKumaTagsUsed``: only in a mesh with a ``MeshFaultInjection``
  or one of the legacy ``FaultInjection`` / ``RateLimit`` kinds (accepted, not applied here,
  but they still turn the header on, as in Kuma).
"""

from __future__ import annotations

from collections.abc import Mapping

from envoy.config.core.v3 import base_pb2 as envoy_base
from envoy.config.route.v3 import route_components_pb2 as envoy_route
from envoy.type.matcher.v3 import regex_pb2 as envoy_regex
from envoy.type.matcher.v3 import string_pb2 as envoy_string

from reconciler.compile.context import TagSet
from reconciler.compile.inventory import MeshIndex

TAGS_HEADER = "x-kuma-tags"
USING_KINDS = ("MeshFaultInjection", "FaultInjection", "RateLimit")
"""The kinds whose presence in a mesh makes clients send the header (``IsXKumaTagsUsed``)."""


def users(index: MeshIndex) -> int:
    """How many resources of the mesh make its clients send ``x-kuma-tags``."""
    return sum(
        len(index.policies.get(k, ())) + len(index.resources.get(k, ())) for k in USING_KINDS
    )


def serialize(tags: TagSet) -> str:
    """Kuma ``tags.Serialize`` of a MultiValueTagSet (values already joined with ``,``)."""
    return "".join(f"&{key}={values}&" for key, values in tags)


def header_option(tags: TagSet) -> envoy_base.HeaderValueOption:
    option = envoy_base.HeaderValueOption()
    option.header.key = TAGS_HEADER
    option.header.value = serialize(tags)
    return option


def matching_regex(tags: Mapping[str, str]) -> str:
    """Kuma ``tags.MatchingRegex`` of a SingleValueTagSet."""
    out = ""
    for key in sorted(tags):
        value = "" if tags[key] == "*" else f"[^&]*{tags[key]}[,&]"
        out += f"&{key}=" + value.replace(".", "\\.") + ".*"
    return ".*" + out


def header_matcher(tags: Mapping[str, str], *, invert: bool) -> envoy_route.HeaderMatcher:
    """Kuma ``regexHeaderMatcher`` (meshfaultinjection ``legacy_configurer.go``)."""
    return envoy_route.HeaderMatcher(
        name=TAGS_HEADER,
        string_match=envoy_string.StringMatcher(
            safe_regex=envoy_regex.RegexMatcher(regex=matching_regex(tags))
        ),
        invert_match=invert,
    )
