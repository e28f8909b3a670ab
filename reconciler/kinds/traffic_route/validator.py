"""TrafficRoute (Kuma 2.14 ``traffic_route_validator.go``): selectors, split or destination,
HTTP matches and modifications, load balancer.

Presence follows protojson: an empty list (``split: []``) is unset, an empty map
(``destination: {}``) and an empty message (``method: {}``) are set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler import codes
from reconciler.model import MapKey, Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map
from reconciler.validate.rules.selectors import (
    ONLY_SERVICE,
    SOURCES,
    check_selector,
    check_selectors,
    oneof_member,
    proto_field,
    proto_number,
    sub_message,
)

HASH_FUNCTIONS = ("XX_HASH", "MURMUR_HASH_2")
EMPTY = "cannot be empty"


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), SOURCES)
    check_selectors(f, ("destinations",), data.get("destinations"), ONLY_SERVICE)
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), EMPTY)
        return
    if not isinstance(conf, dict):
        return
    _split_and_destination(f, ("conf",), conf)
    for i, http in enumerate(as_list(conf.get("http"))):
        if isinstance(http, dict):
            _http(f, ("conf", "http", i), http)
    _load_balancer(f, sub_message(conf, "loadBalancer", "load_balancer"))


def _split_and_destination(f: Findings, path: Path, section: Mapping[str, Any]) -> None:
    split = section.get("split")
    destination = section.get("destination")
    has_split = isinstance(split, list) and len(split) > 0
    has_destination = isinstance(destination, dict)
    if split is not None and not isinstance(split, list):
        return  # the schema reports the type
    if destination is not None and not has_destination:
        return
    if not has_split and not has_destination:
        f.add(codes.SETTING_MISSING, path, 'requires either "destination" or "split"')
    if has_split and has_destination:
        f.add(
            codes.SETTINGS_CONFLICT,
            path,
            '"split" cannot be defined at the same time as "destination"',
        )
    if has_split:
        _split(f, (*path, "split"), as_list(split))
    if isinstance(destination, dict):
        check_selector(f, (*path, "destination"), destination, SOURCES)


def _split(f: Findings, path: Path, split: Sequence[Any]) -> None:
    total = 0
    for i, entry in enumerate(split):
        entry = as_map(entry)
        weight = entry.get("weight")
        if weight is None:
            f.add(codes.SETTING_MISSING, (*path, i, "weight"), "needs to be defined")
        elif (number := proto_number(weight)) is not None:
            total += int(number)
        destination = entry.get("destination")
        if destination is None or isinstance(destination, dict):
            check_selector(f, (*path, i, "destination"), destination or {}, SOURCES)
    if total == 0:
        f.add(
            codes.NUMBER_RANGE, path, "there must be at least one split entry with weight above 0"
        )


def _http(f: Findings, path: Path, http: Mapping[str, Any]) -> None:
    match = sub_message(http, "match")
    _match(f, (*path, "match"), match)
    modify = http.get("modify")
    if isinstance(modify, dict):
        _modify(f, (*path, "modify"), modify, match)
    _split_and_destination(f, path, http)


def _match(f: Findings, path: Path, match: Mapping[str, Any]) -> None:
    method, route_path, headers = match.get("method"), match.get("path"), match.get("headers")
    if method is None and route_path is None and headers is None:
        f.add(
            codes.SETTING_MISSING,
            path,
            'must be present and contain at least one of the elements: "method", "path" or '
            '"headers"',
        )
        return
    if isinstance(method, dict):
        _string_matcher(f, (*path, "method"), method)
    if isinstance(route_path, dict):
        _string_matcher(f, (*path, "path"), route_path)
    if not isinstance(headers, dict):
        return
    if not headers:
        f.add(codes.SETTING_MISSING, (*path, "headers"), "must contain at least one element")
    for key in sorted(headers):
        if key == "":
            f.add(codes.SETTING_MISSING, (*path, "headers", MapKey(key)), EMPTY)
        if isinstance(headers[key], dict):
            _string_matcher(f, (*path, "headers", MapKey(key)), headers[key])


STRING_MATCHER = (("prefix", "prefix"), ("exact", "exact"), ("regex", "regex"))
"""``TrafficRoute.Http.Match.StringMatcher`` ``matcherType``, in declaration order."""
MODIFY_PATH = (("rewritePrefix", "rewritePrefix"), ("regex", "regex"))
MODIFY_HOST = (("value", "value"), ("fromPath", "fromPath"))
LOAD_BALANCERS = (
    ("roundRobin", "round_robin"),
    ("leastRequest", "least_request"),
    ("ringHash", "ring_hash"),
    ("random", "random"),
    ("maglev", "maglev"),
)


def _string_matcher(f: Findings, path: Path, matcher: Mapping[str, Any]) -> None:
    member = oneof_member(matcher, STRING_MATCHER)
    if member is None:
        f.add(
            codes.SETTING_MISSING,
            path,
            'cannot be empty. Available options: "exact", "split" or "regex"',
        )
        return
    name, value = member
    if name != "exact" and value == "":
        f.add(codes.SETTING_MISSING, (*path, name), EMPTY)


def _modify(f: Findings, path: Path, modify: Mapping[str, Any], match: Mapping[str, Any]) -> None:
    route_path = modify.get("path")
    if isinstance(route_path, dict):
        _modify_path(f, (*path, "path"), route_path, match)
    host = modify.get("host")
    if isinstance(host, dict):
        _modify_host(f, (*path, "host"), host)
    for section in ("requestHeaders", "responseHeaders"):
        headers = modify.get(section)
        if isinstance(headers, dict):
            _modify_headers(f, (*path, section), headers)


def _modify_path(
    f: Findings, path: Path, modify: Mapping[str, Any], match: Mapping[str, Any]
) -> None:
    member = oneof_member(modify, MODIFY_PATH)
    if member is None:
        f.add(codes.SETTING_MISSING, path, 'either "rewritePrefix" or "regex" has to be set')
    elif member[0] == "regex":
        _regex_replace(f, (*path, "regex"), as_map(member[1]))
    elif member[1] == "":
        f.add(codes.SETTING_MISSING, (*path, "rewritePrefix"), EMPTY)
    elif proto_field(sub_message(match, "path"), "prefix") in (None, ""):
        f.add(
            codes.SETTINGS_CONFLICT,
            (*path, "rewritePrefix"),
            "can only be set when .http.match.path.prefix is not empty",
        )


def _modify_host(f: Findings, path: Path, host: Mapping[str, Any]) -> None:
    member = oneof_member(host, MODIFY_HOST)
    if member is None:
        f.add(codes.SETTING_MISSING, path, 'either "value" or "fromPath" has to be set')
    elif member[0] == "fromPath":
        _regex_replace(f, (*path, "fromPath"), as_map(member[1]))
    elif member[1] == "":
        f.add(codes.SETTING_MISSING, (*path, "value"), EMPTY)


def _regex_replace(f: Findings, path: Path, regex: Mapping[str, Any]) -> None:
    for field in ("pattern", "substitution"):
        if regex.get(field) in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, field), EMPTY)


def _modify_headers(f: Findings, path: Path, headers: Mapping[str, Any]) -> None:
    for i, add in enumerate(as_list(headers.get("add"))):
        add = as_map(add)
        _header_name(f, (*path, "add", i, "name"), add.get("name"))
        if add.get("value") in (None, ""):
            f.add(codes.SETTING_MISSING, (*path, "add", i, "value"), EMPTY)
    for i, remove in enumerate(as_list(headers.get("remove"))):
        _header_name(f, (*path, "remove", i, "name"), as_map(remove).get("name"))


def _header_name(f: Findings, path: Path, name: object) -> None:
    if name is None or name == "":
        f.add(codes.SETTING_MISSING, path, EMPTY)
        return
    if isinstance(name, str) and (name.startswith(":") or name in ("host", "Host")):
        f.add(
            codes.VALUE_NOT_ALLOWED,
            path,
            "host header and HTTP/2 pseudo-headers are not allowed to be modified",
        )


def _load_balancer(f: Findings, lb: Mapping[str, Any]) -> None:
    path: Path = ("conf", "loadBalancer")
    member = oneof_member(lb, LOAD_BALANCERS)
    kind, body = member if member is not None else ("", None)
    least = body if kind == "leastRequest" else None
    if isinstance(least, dict):
        if proto_field(least, "choiceCount", "choice_count") == 1:
            f.add(
                codes.NUMBER_RANGE,
                (*path, "leastRequest", "choiceCount"),
                "value must be greater than or equal to 2",
            )
        return
    ring = body if kind == "ringHash" else None
    if isinstance(ring, dict):
        function = proto_field(ring, "hashFunction", "hash_function")
        if function is None or function not in HASH_FUNCTIONS:
            f.add(
                codes.VALUE_NOT_ALLOWED,
                (*path, "ringHash", "hashFunction"),
                "must have a valid hash function",
            )
