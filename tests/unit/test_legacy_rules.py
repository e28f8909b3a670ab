"""Helpers of the legacy kinds' rules that reproduce Go behaviour Kuma relies on."""

from __future__ import annotations

import pytest

from reconciler.kinds.external_service.validator import split_host_port
from reconciler.kinds.proxy_template import envoy_yaml
from reconciler.kinds.virtual_outbound.validator import TemplateError, Unsupported, evaluate
from reconciler.model import MapKey, format_path
from reconciler.validate.rules.selectors import is_dns_name, proto_field


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("httpbin.org:443", ("httpbin.org", "443")),
        ("[::1]:80", ("::1", "80")),
        ("10.0.0.1:", ("10.0.0.1", "")),
        ("example.com", None),  # missing port
        ("::1:80", None),  # too many colons
        ("[::1]80", None),
        ("a]b:80", None),
    ],
)
def test_split_host_port_follows_go(address: str, expected: tuple[str, str] | None) -> None:
    assert split_host_port(address) == expected


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("httpbin.org", True),
        ("my_service.mesh", True),
        ("a-b", True),
        ("dummy.mesh", True),
        ("10.0.0.1", False),
        ("", False),
        ("-a.org", False),
        ("a..org", False),
    ],
)
def test_dns_name_is_govalidator_is_dns_name(name: str, valid: bool) -> None:
    assert is_dns_name(name) is valid


def test_protojson_reads_the_json_name_first_then_the_protobuf_name() -> None:
    assert (
        proto_field({"loadBalancer": 1, "load_balancer": 2}, "loadBalancer", "load_balancer") == 1
    )
    assert proto_field({"load_balancer": 2}, "loadBalancer", "load_balancer") == 2
    assert proto_field({}, "loadBalancer", "load_balancer") is None


def test_virtual_outbound_templates_evaluate_fields_as_go_does() -> None:
    values = {"service": "backend", "port": "8080"}
    assert evaluate("{{.service}}.mesh", values) == "backend.mesh"
    assert evaluate("{{ .service }}-{{.port}}", values) == "backend-8080"
    assert evaluate("a {{- .port -}} b", values) == "a8080b"
    # a key the parameters do not define prints as Go's "<no value>"
    assert evaluate("{{.service}}.{{.version}}", values) == "backend.<no value>"
    with pytest.raises(TemplateError, match="unclosed action"):
        evaluate("{{.service", values)
    with pytest.raises(Unsupported):
        evaluate('{{ printf "%s" .service }}', values)


def test_envoy_values_parse_as_their_message() -> None:
    cluster = envoy_yaml.MESSAGES["cluster"]
    assert envoy_yaml.problem("name: c\nconnectTimeout: 5s\n", cluster) is None
    assert envoy_yaml.problem("unknownField: 1\n", cluster) is None  # Kuma drops unknown fields
    problem = envoy_yaml.problem("connectTimeout: 5\n", cluster)
    assert problem is not None and "connectTimeout" in problem
    assert envoy_yaml.problem("", cluster) == "the resource must be a YAML mapping"
    assert envoy_yaml.problem("name: [", cluster) is not None


def test_raw_resources_need_a_known_type() -> None:
    good = "'@type': type.googleapis.com/envoy.config.cluster.v3.Cluster\nname: c\n"
    assert envoy_yaml.problem(good, None) is None
    assert envoy_yaml.problem("name: c\n", None) == "the resource must name its type in '@type'"
    # a type this build does not know cannot be judged: accepted, not guessed
    assert envoy_yaml.problem("'@type': type.googleapis.com/acme.Custom\n", None) is None


def test_map_keys_are_written_as_kuma_writes_them() -> None:

    assert format_path(("sources", 0, "match", MapKey("region"))) == 'sources[0].match["region"]'
    assert format_path(("tags", MapKey("kuma.io/service"))) == 'tags["kuma.io/service"]'
    assert format_path(("sources", 0, "match", "region")) == "sources[0].match.region"


def test_any_types_resolve_like_kumas_envoy_api() -> None:
    http_filter = envoy_yaml.MESSAGES["httpFilter"]
    router = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
    # the package of a nested Any is loaded on demand, then its fields are checked
    assert envoy_yaml.problem(f"name: r\ntypedConfig:\n  '@type': {router}\n", http_filter) is None
    bad = f"name: r\ntypedConfig:\n  '@type': {router}\n  dynamicStats: 5\n"
    assert "dynamicStats" in str(envoy_yaml.problem(bad, http_filter))
    # Envoy's v2 API is gone from Kuma 2.14, and a made-up Envoy type does not exist
    v2 = "'@type': type.googleapis.com/envoy.api.v2.Cluster\nname: c\n"
    assert envoy_yaml.problem(v2, None) == (
        'unable to resolve "type.googleapis.com/envoy.api.v2.Cluster": "not found"'
    )
    made_up = "name: r\ntypedConfig:\n  '@type': type.googleapis.com/envoy.extensions.nope.v3.X\n"
    assert "not found" in str(envoy_yaml.problem(made_up, http_filter))


def test_undefined_template_functions_fail_as_go_parses_them() -> None:
    with pytest.raises(TemplateError, match=r'function \\"mesh\\" not defined'):
        evaluate("foo.{{mesh", {})
    with pytest.raises(TemplateError, match=r'function \\"upper\\" not defined'):
        evaluate("{{upper .service}}", {"service": "a"})
    with pytest.raises(Unsupported):
        evaluate("{{if .service}}a{{end}}", {"service": "a"})
