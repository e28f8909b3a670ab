"""`reconciler inspect`: one merge order, only what applies to the protocol, a checked --source."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconciler.cli.inspect import InspectOptions, inspect

SAMPLE = str(Path(__file__).resolve().parents[2] / "sample-repo")
PROXIES = ("default.frontend-1", "default.backend-v1-1", "default.payments-1")


def test_the_header_claims_no_order_that_a_section_contradicts() -> None:
    for proxy in PROXIES:
        text, code = inspect(InspectOptions((SAMPLE,), proxy))
        assert code == 0
        assert "(merge order, least specific first):" not in text
        header = text.split("\n\n")[1].splitlines()
        assert header[0].startswith("policies selecting this proxy (by name;")
        for line in header[1:]:
            names = re.findall(r"(?:^  \w+: |, )([\w-]+) \(", line)
            assert names == sorted(names), line
        data = json.loads(inspect(InspectOptions((SAMPLE,), proxy, "json"))[0])
        for refs in data["selected"].values():
            assert [r["name"] for r in refs] == sorted(r["name"] for r in refs)


def test_a_tcp_outbound_shows_no_http_settings() -> None:
    data = json.loads(inspect(InspectOptions((SAMPLE,), "default.backend-v1-1", "json"))[0])
    [tcp] = [ob for ob in data["outbounds"] if ob["protocol"] == "tcp"]
    blocks = [*tcp["policies"], *(b for c in tcp["clusters"] for b in c["policies"])]
    timeouts = [b for b in blocks if b["kind"] == "MeshTimeout"]
    assert timeouts
    for block in timeouts:
        fields = [v["field"] for v in block["values"]]
        assert "connectionTimeout" in fields and "idleTimeout" in fields
        assert not any(f.startswith("http.") for f in fields), fields
        assert block["notApplied"] == {"protocol": "tcp", "sections": ["http"]}
    text, _ = inspect(InspectOptions((SAMPLE,), "default.backend-v1-1"))
    section = text.split("-> db (tcp)")[1].split("\n\n")[0]
    assert "http.requestTimeout" not in section and "(http.*: not applied to tcp)" in section
    http = next(ob for ob in data["outbounds"] if ob["protocol"] == "http")
    http_fields = [v["field"] for b in http["policies"] for v in b["values"]]
    assert "http.requestTimeout" in http_fields


def test_an_unknown_source_service_is_flagged() -> None:
    text, code = inspect(InspectOptions((SAMPLE,), "default.backend-v1-1", source="fronted"))
    assert code == 0
    assert text.endswith(
        "warning: --source 'fronted': no Dataplane of mesh default provides this service, so no "
        "proxy makes such calls; did you mean 'frontend'? services: backend, db, frontend, "
        "inventory, payments\n"
    )
    data = json.loads(
        inspect(InspectOptions((SAMPLE,), "default.backend-v1-1", "json", "fronted"))[0]
    )
    assert "did you mean 'frontend'" in data["sourceWarning"]
    known, _ = inspect(InspectOptions((SAMPLE,), "default.backend-v1-1", source="frontend"))
    assert "warning:" not in known


def test_a_dataplane_without_inbounds_is_inspected_with_its_outbounds(tmp_path: Path) -> None:
    """Kuma 2.14 accepts an outbound-only Dataplane: inspect lists its outbounds, no inbound."""
    (tmp_path / "mesh.yaml").write_text(
        "type: Mesh\nname: default\n---\n"
        "type: Dataplane\nmesh: default\nname: api-1\nnetworking:\n  address: 10.0.0.1\n"
        "  inbound:\n    - port: 8080\n      tags:\n        kuma.io/service: api\n---\n"
        "type: Dataplane\nmesh: default\nname: client-1\nnetworking:\n  address: 10.0.0.2\n"
        "  outbound:\n    - port: 10001\n      tags:\n        kuma.io/service: api\n"
    )
    data = json.loads(inspect(InspectOptions((str(tmp_path),), "default.client-1", "json"))[0])
    assert data["inbounds"] == []
    assert [ob["service"] for ob in data["outbounds"]] == ["api"]
