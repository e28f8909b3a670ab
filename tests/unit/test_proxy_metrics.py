"""The per-proxy series' own Prometheus text: parsed back by the client library's parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from reconciler.resource_types import TypeUrl
from reconciler.serve.proxy_metrics import ACK_NAME, ProxyFamilies


def parsed(families: ProxyFamilies) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(families.render())
        for s in family.samples
    }


def test_buckets_are_cumulative_and_a_value_on_a_bound_counts_in_it() -> None:
    families = ProxyFamilies()
    series = families.series("default.web-1")
    for seconds in (0.5, 0.5000001, 119.0, 121.0):
        series.acked(TypeUrl.LISTENER, seconds)
    series.nacked(TypeUrl.LISTENER)
    series.sent(TypeUrl.CLUSTER)
    got = parsed(families)
    lds = {("mesh", "default"), ("proxy", "default.web-1"), ("type", "LDS")}

    def bucket(le: str) -> float:
        return got[(f"{ACK_NAME}_bucket", frozenset(lds | {("le", le)}))]

    assert (bucket("0.25"), bucket("0.5"), bucket("1.0")) == (0.0, 1.0, 2.0)
    assert (bucket("120.0"), bucket("+Inf")) == (3.0, 4.0)
    assert got[(f"{ACK_NAME}_count", frozenset(lds))] == 4.0
    assert got[(f"{ACK_NAME}_sum", frozenset(lds))] == 0.5 + 0.5000001 + 119.0 + 121.0
    assert got[("reconciler_xds_proxy_nacks_total", frozenset(lds))] == 1.0
    cds = frozenset({("mesh", "default"), ("proxy", "default.web-1"), ("type", "CDS")})
    assert got[(f"{ACK_NAME}_count", cds)] == 0.0  # sent, not yet ACKed: the series exist
    assert got[("reconciler_xds_proxy_nacks_total", cds)] == 0.0


def test_label_values_are_escaped_and_a_dropped_proxy_leaves_nothing() -> None:
    families = ProxyFamilies()
    odd = 'mesh"x.web\\1\nz'
    families.series(odd).acked(TypeUrl.ROUTE, 0.1)
    families.series("default.web-2").acked(TypeUrl.ROUTE, 0.1)
    proxies = {dict(labels)["proxy"] for _, labels in parsed(families)}
    assert proxies == {odd, "default.web-2"}
    assert {dict(labels)["mesh"] for _, labels in parsed(families)} == {'mesh"x', "default"}
    families.series(odd).drop()
    assert {dict(labels)["proxy"] for _, labels in parsed(families)} == {"default.web-2"}
    families.series("default.web-2").drop()
    assert parsed(families) == {}
