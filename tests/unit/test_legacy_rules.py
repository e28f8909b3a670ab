"""Helpers of the legacy kinds' rules that reproduce Go behaviour Kuma relies on."""

from __future__ import annotations

import pytest

from reconciler.kinds.external_service.validator import split_host_port
from reconciler.kinds.proxy_template import envoy_text
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


def test_envoy_values_are_yaml_mappings() -> None:
    assert envoy_text.problem("name: c\nconnectTimeout: 5s\n", raw=False) is None
    assert envoy_text.problem("", raw=False) == "the resource must be a YAML mapping"
    assert envoy_text.problem("- a\n", raw=False) == "the resource must be a YAML mapping"
    assert str(envoy_text.problem("name: [", raw=False)).startswith("invalid YAML: ")


def test_raw_resources_name_a_type_of_envoys_v3_api() -> None:
    good = "'@type': type.googleapis.com/envoy.config.cluster.v3.Cluster\nname: c\n"
    assert envoy_text.problem(good, raw=True) is None
    assert envoy_text.problem("name: c\n", raw=True) == (
        "the resource must name its type in '@type'"
    )
    v2 = "'@type': type.googleapis.com/envoy.api.v2.Cluster\nname: c\n"
    assert envoy_text.problem(v2, raw=True) == (
        'unable to resolve "type.googleapis.com/envoy.api.v2.Cluster": "not found"'
    )
    nested = (
        "name: tcp\ntypedConfig:\n"
        "  '@type': type.googleapis.com/envoy.config.filter.network.tcp_proxy.v2.TcpProxy\n"
    )
    assert "not found" in str(envoy_text.problem(nested, raw=False))
    # a type outside Envoy's API may be an extension Kuma was built with: accepted
    assert envoy_text.problem("'@type': type.googleapis.com/acme.Custom\n", raw=True) is None


def test_map_keys_are_written_as_kuma_writes_them() -> None:

    assert format_path(("sources", 0, "match", MapKey("region"))) == 'sources[0].match["region"]'
    assert format_path(("tags", MapKey("kuma.io/service"))) == 'tags["kuma.io/service"]'
    assert format_path(("sources", 0, "match", "region")) == "sources[0].match.region"


def test_undefined_template_functions_fail_as_go_parses_them() -> None:
    with pytest.raises(TemplateError, match=r'function \\"mesh\\" not defined'):
        evaluate("foo.{{mesh", {})
    with pytest.raises(TemplateError, match=r'function \\"upper\\" not defined'):
        evaluate("{{upper .service}}", {"service": "a"})
    with pytest.raises(Unsupported):
        evaluate("{{if .service}}a{{end}}", {"service": "a"})
