"""The ADS bootstrap is a typed message; its YAML reads back into the same message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from envoy.config.bootstrap.v3 import bootstrap_pb2 as envoy_bootstrap
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as envoy_http_options
from google.protobuf import json_format

from reconciler.cli.bootstrap import BootstrapOptions, render
from reconciler.cli.main import main
from reconciler.errors import UsageError
from reconciler.serve.bootstrap import AdsBootstrap, ads_bootstrap, bootstrap_yaml


def _read_back(text: str) -> envoy_bootstrap.Bootstrap:
    message = envoy_bootstrap.Bootstrap()
    json_format.ParseDict(yaml.safe_load(text), message, ignore_unknown_fields=False)
    return message


def test_the_yaml_is_the_message() -> None:
    spec = AdsBootstrap("payments", "api-1", "10.0.0.5", 15678, admin_port=9902, token="t.k")
    text = bootstrap_yaml(spec)
    assert _read_back(text) == ads_bootstrap(spec)
    assert text.startswith("# Envoy bootstrap for proxy payments.api-1 ")


def test_fields_of_the_contract() -> None:
    message = ads_bootstrap(AdsBootstrap("payments", "api-1", "10.0.0.5", 15678, admin_port=0))
    assert message.node.id == "payments.api-1"
    assert message.node.cluster == "api-1"
    assert dict(message.node.metadata) == {"mesh": "payments", "dataplane": "api-1"}
    assert message.admin.address.socket_address.address == "127.0.0.1"
    ads = message.dynamic_resources.ads_config
    assert ads.api_type == envoy_config_source.ApiConfigSource.DELTA_GRPC
    assert [s.envoy_grpc.cluster_name for s in ads.grpc_services] == ["xds_cluster"]
    assert not ads.grpc_services[0].initial_metadata
    assert message.dynamic_resources.cds_config.HasField("ads")
    assert message.dynamic_resources.lds_config.HasField("ads")
    (cluster,) = message.static_resources.clusters
    assert cluster.type == envoy_cluster.Cluster.STATIC
    endpoint = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint
    assert (
        endpoint.address.socket_address.address,
        endpoint.address.socket_address.port_value,
    ) == (
        "10.0.0.5",
        15678,
    )
    options = envoy_http_options.HttpProtocolOptions()
    packed = cluster.typed_extension_protocol_options[
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert packed.Unpack(options)
    keepalive = options.explicit_http_config.http2_protocol_options.connection_keepalive
    assert (keepalive.interval.seconds, keepalive.timeout.seconds) == (30, 5)


def test_sotw_token_and_host_name() -> None:
    message = ads_bootstrap(
        AdsBootstrap("default", "web-1", "cp.mesh.internal", 5678, sotw=True, token="abc.def")
    )
    ads = message.dynamic_resources.ads_config
    assert ads.api_type == envoy_config_source.ApiConfigSource.GRPC
    metadata = [(h.key, h.value) for h in ads.grpc_services[0].initial_metadata]
    assert metadata == [("authorization", "Bearer abc.def")]
    assert message.static_resources.clusters[0].type == envoy_cluster.Cluster.STRICT_DNS


def test_a_value_cannot_change_the_document() -> None:
    """The template this replaces pasted values into YAML text; a host that is no host name
    or address is refused before it reaches the document, and the message quotes it."""
    host = 'evil"\nadmin: {}\n# '
    with pytest.raises(UsageError, match="is not a host name or IP address"):
        render(BootstrapOptions("default.web-1", f"{host}:5678"))
    for host, expected in (("xds.example.com", "xds.example.com"), ("[::1]", "::1")):
        read = _read_back(render(BootstrapOptions("default.web-1", f"{host}:5678")))
        cluster = read.static_resources.clusters[0]
        endpoint = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint
        assert endpoint.address.socket_address.address == expected
        assert read.admin.address.socket_address.address == "127.0.0.1"


def test_cli_writes_the_file_and_keeps_a_token_private(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "token"
    token.write_text("abc.def-ghi_1\n", encoding="ascii")
    out = tmp_path / "bootstrap.yaml"
    argv = ["bootstrap", "--proxy", "default.web-1", "--token-file", str(token), "-o", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().out == ""
    assert out.stat().st_mode & 0o777 == 0o600
    read = _read_back(out.read_text())
    header = read.dynamic_resources.ads_config.grpc_services[0].initial_metadata[0]
    assert header.value == "Bearer abc.def-ghi_1"
    assert json.loads(json_format.MessageToJson(read))["node"]["id"] == "default.web-1"


def test_replicas_are_endpoints_of_one_ads_cluster() -> None:
    replicas = ["127.0.0.1:5678", "127.0.0.2:5678", "xds-3.mesh.internal:5679"]
    read = _read_back(render(BootstrapOptions("default.web-1", tuple(replicas))))
    (cluster,) = read.static_resources.clusters
    endpoints = [
        (e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value)
        for e in cluster.load_assignment.endpoints[0].lb_endpoints
    ]
    assert endpoints == [("127.0.0.1", 5678), ("127.0.0.2", 5678), ("xds-3.mesh.internal", 5679)]
    assert cluster.type == envoy_cluster.Cluster.STRICT_DNS  # a host name among them
    # a refused connection ejects the replica at once; the stream is re-opened after 0.25 s
    assert cluster.outlier_detection.consecutive_local_origin_failure.value == 1
    assert cluster.outlier_detection.split_external_local_origin_errors
    backoff = read.dynamic_resources.ads_config.grpc_services[0].envoy_grpc.retry_policy
    assert backoff.retry_back_off.base_interval.ToMilliseconds() == 250
    two = _read_back(render(BootstrapOptions("default.web-1", tuple(replicas[:2]))))
    assert two.static_resources.clusters[0].type == envoy_cluster.Cluster.STATIC


def test_cli_takes_every_replica_once(capsys: pytest.CaptureFixture[str]) -> None:
    twice = ["--xds-address", "127.0.0.1:5678"] * 2
    assert main(["bootstrap", "--proxy", "default.web-1", *twice]) == 2
    assert "given twice" in capsys.readouterr().err
    flags = ["--xds-address", "127.0.0.1:5678", "--xds-address", "127.0.0.2:5678"]
    assert main(["bootstrap", "--proxy", "default.web-1", *flags]) == 0
    lb = yaml.safe_load(capsys.readouterr().out)["static_resources"]["clusters"][0]
    assert len(lb["load_assignment"]["endpoints"][0]["lb_endpoints"]) == 2


def test_node_cluster_is_the_service_when_given() -> None:
    """Kuma's bootstrap sets ``node.cluster`` to the proxy's service (Envoy's Zipkin tracer
    names its spans after it); without ``--service`` it is the Dataplane name."""
    named = _read_back(render(BootstrapOptions("default.web-1", "127.0.0.1:5678", service="web")))
    assert named.node.cluster == "web"
    assert _read_back(render(BootstrapOptions("default.web-1"))).node.cluster == "web-1"
