"""Kuma's address checks as its validators make them (Go ``net/url``, govalidator, RE2).

Each case is a value whose verdict in Go is known: the reconciler must accept what Kuma
accepts and reject what it rejects (MeshTrace collector URLs, MeshPassthrough destinations,
MeshMetric endpoints and regex selectors).
"""

from __future__ import annotations

import pytest

from reconciler.validate.rules import go_regexp
from reconciler.validate.rules.addresses import (
    is_cidr,
    is_dns_name,
    is_ip,
    is_url,
    parse_request_uri,
)
from reconciler.validate.rules.otel import split_host_port


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("http://jaeger-collector.observability:9411/api/v2/spans", True),
        ("http://zipkin:9411/api/v2/spans", True),
        ("jaeger:9411", True),  # govalidator prepends http:// when there is a port
        ("https://127.0.0.1:9411", True),
        ("http://[::1]:9411/api", True),
        ("not a url", False),
        ("zipkin", False),  # no scheme, no dot, no port: a bare word is not a URL
        ("http://", False),
        ("://zipkin:9411", False),
        (".zipkin.local", False),
        ("http://zipkin:abc", False),  # Go: invalid port
        ("a" * 40 + "!", False),  # must fail fast (no catastrophic backtracking)
    ],
)
def test_is_url_is_govalidators(value: str, valid: bool) -> None:
    assert is_url(value) is valid


def test_parse_request_uri_splits_like_go() -> None:
    """Kuma's Datadog URL rule reads scheme, port and the parts that must be empty."""
    url = parse_request_uri("http://datadog-agent:8126")
    assert url is not None and (url.scheme, url.port, url.path) == ("http", "8126", "")
    url = parse_request_uri("HTTPS://u:p@agent:99999/p?q=1")
    assert url is not None
    assert (url.scheme, url.user, url.port, url.path, url.raw_query) == (
        "https",
        True,
        "99999",
        "/p",
        "q=1",
    )
    opaque = parse_request_uri("datadog:8126")  # a scheme and a rootless path: opaque
    assert opaque is not None and (opaque.scheme, opaque.opaque, opaque.port) == (
        "datadog",
        "8126",
        "",
    )
    assert parse_request_uri("127.0.0.1:8126") is None  # neither absolute URI nor path
    assert parse_request_uri("") is None
    assert parse_request_uri("http://agent:12ab") is None
    assert parse_request_uri("http://agent/%zz") is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("api.example.com", True),
        ("httpbin.org", True),
        ("under_score.example", True),
        ("xn--80ak6aa92e.com", True),
        ("1.1.1.1", False),  # an IP is not a DNS name
        ("not a domain", False),
        ("-leading.example", False),
        ("a..b", False),
        ("a" * 64 + ".com", False),  # a label has at most 63 characters
    ],
)
def test_is_dns_name(value: str, valid: bool) -> None:
    assert is_dns_name(value) is valid


def test_ip_and_cidr_follow_go_net() -> None:
    assert is_ip("10.240.15.39") and is_ip("fd00::1") and is_ip("::ffff:1.2.3.4")
    assert not is_ip("300.1.1.1") and not is_ip("fe80::1%eth0") and not is_ip("010.0.0.1")
    assert is_cidr("10.250.0.0/16") and is_cidr("10.0.0.1/8") and is_cidr("::/0")
    assert not is_cidr("10.0.0.0") and not is_cidr("10.0.0.0/33") and not is_cidr("::/129")
    assert not is_cidr("10.0.0.0/255.0.0.0")  # Go takes a prefix length only


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("otel-collector:4317", ("otel-collector", "4317")),
        ("[::1]:4317", ("::1", "4317")),
        ("collector:", ("collector", "")),
        ("otel-collector", None),  # missing port
        ("::1:4317", None),  # too many colons
        ("[::1]4317", None),
    ],
)
def test_split_host_port_is_gos(address: str, parts: tuple[str, str] | None) -> None:
    assert split_host_port(address) == parts


@pytest.mark.parametrize(
    ("pattern", "valid"),
    [
        ("^envoy_cluster_.*", True),
        (r"\pL+\z", True),  # RE2 classes and end of text
        ("(?i)abc(?s:.)", True),
        (r"(?<name>x)\Q.*\E", True),
        ("(unclosed", False),
        ("envoy_(?!cluster)", False),  # no lookaround in RE2
        (r"(a)\1", False),  # no backreferences
        ("a**", False),
        ("abc\\", False),
    ],
)
def test_go_regexp(pattern: str, valid: bool) -> None:
    assert go_regexp.is_valid(pattern) is valid
