"""The demo finds its sample mesh in a checkout, or is told where it is (an installed wheel)."""

from __future__ import annotations

import http.client
import json
import shutil
from pathlib import Path

import pytest

from reconciler.demo import run
from reconciler.demo.apps import ZipkinCollector
from reconciler.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_uses_its_sample_repo() -> None:
    assert run.sample_repo(None) == ROOT / "sample-repo"


def test_repo_names_a_copy(tmp_path: Path) -> None:
    copy = tmp_path / "mesh"
    shutil.copytree(ROOT / "sample-repo", copy)
    assert run.sample_repo(copy) == copy


def test_without_a_sample_the_error_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(run, "CHECKOUT_SAMPLE", tmp_path / "site-packages" / "sample-repo")
    with pytest.raises(UsageError, match="no source checkout"):
        run.sample_repo(None)
    assert run.main(["--repo", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "policies/routes.yaml" in err
    assert "--repo PATH/TO/sample-repo" in err


def test_the_zipkin_collector_keeps_posted_spans_by_trace() -> None:
    """Envoy's Zipkin tracer POSTs a JSON list to /api/v2/spans, sized or chunked."""
    collector = ZipkinCollector(0)
    port = int(collector.server.server_address[1])
    try:
        spans = [{"traceId": "t1", "id": "a"}, {"traceId": "t1", "id": "b"}]
        for chunked in (False, True):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            body = json.dumps(spans).encode()
            conn.request(
                "POST",
                "/api/v2/spans",
                body=iter([body]) if chunked else body,
                headers={"Content-Type": "application/json"},
                encode_chunked=chunked,
            )
            assert conn.getresponse().status == 202
            conn.close()
        assert [s["id"] for s in collector.traces()["t1"]] == ["a", "b", "a", "b"]
    finally:
        collector.stop()
