"""The Envoy bootstrap that connects one proxy to this server over ADS (the xDS contract).

A typed ``Bootstrap`` message, so every value is a proto field (a host name or a token cannot
change the document's structure), and :func:`bootstrap_yaml` turns it into the YAML that
``reconciler bootstrap`` prints (proto field names, ``envoy -c FILE`` reads it).
The fields are described in the repository's ``xds/README.md``.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

import yaml
from envoy.config.bootstrap.v3 import bootstrap_pb2 as envoy_bootstrap
from envoy.config.cluster.v3 import cluster_pb2 as envoy_cluster
from envoy.config.core.v3 import config_source_pb2 as envoy_config_source
from envoy.extensions.upstreams.http.v3 import http_protocol_options_pb2 as envoy_http_options
from google.protobuf import json_format

XDS_CLUSTER = "xds_cluster"
ADMIN_ADDRESS = "127.0.0.1"
CONNECT_TIMEOUT_S = 1
KEEPALIVE_INTERVAL_S = 30
KEEPALIVE_TIMEOUT_S = 5
RETRY_BASE_S = 0.25
RETRY_MAX_S = 5
"""A broken ADS stream is re-opened after RETRY_BASE_S, doubling (jittered) up to RETRY_MAX_S."""
EJECTION_S = 5
"""A replica that refused a connection is left alone this long (outlier detection)."""
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


@dataclass(frozen=True, slots=True)
class AdsBootstrap:
    """What varies between proxies; everything else is fixed by the contract."""

    mesh: str
    dataplane: str
    xds_host: str
    xds_port: int
    admin_port: int = 9901
    sotw: bool = False
    token: str | None = None
    """Proxy token, sent as ``authorization: Bearer <token>`` on the ADS stream."""
    replicas: tuple[tuple[str, int], ...] = ()
    """Further replicas of the server (host, port): one more endpoint each of the ADS cluster."""
    service: str | None = None
    """``node.cluster``: the proxy's ``kuma.io/service`` as Kuma's bootstrap sets it (Envoy's
    Zipkin tracer names its spans' service after it); None: the Dataplane name."""

    @property
    def servers(self) -> tuple[tuple[str, int], ...]:
        return ((self.xds_host, self.xds_port), *self.replicas)

    @property
    def node_id(self) -> str:
        return f"{self.mesh}.{self.dataplane}"


def ads_bootstrap(spec: AdsBootstrap) -> envoy_bootstrap.Bootstrap:
    bootstrap = envoy_bootstrap.Bootstrap()
    bootstrap.node.id = spec.node_id
    bootstrap.node.cluster = spec.service or spec.dataplane
    bootstrap.node.metadata.update({"mesh": spec.mesh, "dataplane": spec.dataplane})
    admin = bootstrap.admin.address.socket_address
    admin.address = ADMIN_ADDRESS
    admin.port_value = spec.admin_port
    dynamic = bootstrap.dynamic_resources
    ads = dynamic.ads_config
    ads.api_type = (
        envoy_config_source.ApiConfigSource.GRPC
        if spec.sotw
        else envoy_config_source.ApiConfigSource.DELTA_GRPC
    )
    ads.transport_api_version = envoy_config_source.V3
    ads.set_node_on_first_message_only = True
    service = ads.grpc_services.add()
    service.envoy_grpc.cluster_name = XDS_CLUSTER
    backoff = service.envoy_grpc.retry_policy.retry_back_off
    backoff.base_interval.FromMilliseconds(int(RETRY_BASE_S * 1000))
    backoff.max_interval.FromSeconds(RETRY_MAX_S)
    if spec.token is not None:
        service.initial_metadata.add(key="authorization", value=f"Bearer {spec.token}")
    for source in (dynamic.cds_config, dynamic.lds_config):
        source.ads.SetInParent()
        source.resource_api_version = envoy_config_source.V3
    bootstrap.static_resources.clusters.append(_xds_cluster(spec.servers))
    return bootstrap


def _xds_cluster(servers: tuple[tuple[str, int], ...]) -> envoy_cluster.Cluster:
    """HTTP/2 to the server, one endpoint per replica: STATIC for IP addresses, STRICT_DNS
    when a host name is among them. A replica that refuses a connection is ejected at once
    (outlier detection on local-origin failures), so the re-opened ADS stream goes to another
    one."""
    cluster = envoy_cluster.Cluster(name=XDS_CLUSTER)
    names = any(not _is_ip(host) for host, _ in servers)
    cluster.type = envoy_cluster.Cluster.STRICT_DNS if names else envoy_cluster.Cluster.STATIC
    cluster.connect_timeout.FromSeconds(CONNECT_TIMEOUT_S)
    options = envoy_http_options.HttpProtocolOptions()
    keepalive = options.explicit_http_config.http2_protocol_options.connection_keepalive
    keepalive.interval.FromSeconds(KEEPALIVE_INTERVAL_S)
    keepalive.timeout.FromSeconds(KEEPALIVE_TIMEOUT_S)
    cluster.typed_extension_protocol_options[_HTTP_OPTIONS].Pack(options, deterministic=True)
    outlier = cluster.outlier_detection
    outlier.split_external_local_origin_errors = True
    outlier.consecutive_local_origin_failure.value = 1
    outlier.enforcing_consecutive_local_origin_failure.value = 100
    outlier.base_ejection_time.FromSeconds(EJECTION_S)
    outlier.interval.FromSeconds(1)
    outlier.max_ejection_percent.value = 100
    cluster.load_assignment.cluster_name = XDS_CLUSTER
    endpoints = cluster.load_assignment.endpoints.add()
    for host, port in servers:
        endpoint = endpoints.lb_endpoints.add().endpoint
        endpoint.address.socket_address.address = host
        endpoint.address.socket_address.port_value = port
    return cluster


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def bootstrap_yaml(spec: AdsBootstrap) -> str:
    """The bootstrap as YAML: proto field names, in field-number order, with a header."""
    message = ads_bootstrap(spec)
    data = json.loads(json_format.MessageToJson(message, preserving_proto_field_name=True))
    header = (
        f"# Envoy bootstrap for proxy {spec.node_id} (mesh {spec.mesh}, Dataplane "
        f"{spec.dataplane}), made by `reconciler bootstrap`.\n"
        "# It connects to the reconciler's xDS server over ADS; run: envoy -c FILE\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
