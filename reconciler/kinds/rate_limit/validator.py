"""RateLimit (Kuma 2.14 ``rate_limit_validator.go``): selectors and the HTTP limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler import codes
from reconciler.model import MapKey, Resource
from reconciler.validate.rules.findings import Findings, Path, as_list, as_map
from reconciler.validate.rules.selectors import ANY_TAGS, check_selectors


def check(f: Findings, resource: Resource) -> None:
    data = resource.spec
    check_selectors(f, ("sources",), data.get("sources"), ANY_TAGS)
    check_selectors(f, ("destinations",), data.get("destinations"), ANY_TAGS)
    conf = data.get("conf")
    if conf is None:
        f.add(codes.SETTING_MISSING, ("conf",), "must have conf")
        return
    http = as_map(conf).get("http")
    if isinstance(http, dict):
        _http(f, ("conf", "http"), http)


def _http(f: Findings, path: Path, http: Mapping[str, Any]) -> None:
    if http.get("requests") in (None, 0):
        f.add(codes.SETTING_MISSING, (*path, "requests"), "requests must be set")
    if http.get("interval") is None:
        f.add(codes.SETTING_MISSING, (*path, "interval"), "interval must be set")
    on_limit = http.get("onRateLimit")
    if not isinstance(on_limit, dict):
        return
    for i, header in enumerate(as_list(on_limit.get("headers"))):
        header = as_map(header)
        # Kuma reports these at onRateLimit.header["<index>"]
        where = (*path, "onRateLimit", "header", MapKey(str(i)))
        if header.get("key") in (None, ""):
            f.add(codes.SETTING_MISSING, where, "key must be set")
        if header.get("value") in (None, ""):
            f.add(codes.SETTING_MISSING, where, "value must be set")
