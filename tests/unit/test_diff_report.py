"""The diff formatters: text, json, markdown (bounded size)."""

from __future__ import annotations

import json

from reconciler.diagnostics import Diagnostic, Severity
from reconciler.diff import (
    Action,
    ChangeSet,
    FieldChange,
    Partial,
    ProxyChange,
    ResourceChange,
    SourceChange,
)
from reconciler.diff.fields import MISSING
from reconciler.model import ResourceKey
from reconciler.report.diff_json import as_json
from reconciler.report.diff_markdown import as_markdown, md_text
from reconciler.report.diff_text import as_text, format_field
from reconciler.resource_types import TypeUrl

TIMEOUT = ResourceKey("MeshTimeout", "default", "timeout-1")


def proxy_change(i: int, fields: int = 1) -> ProxyChange:
    return ProxyChange(
        f"default.web-{i}",
        Action.CONFIGURED,
        (
            ResourceChange(
                TypeUrl.ROUTE,
                "outbound:backend",
                Action.CONFIGURED,
                tuple(
                    FieldChange(f"virtual_hosts[0].routes[{j}].route.timeout", "10s", "20s")
                    for j in range(fields)
                ),
            ),
            ResourceChange(TypeUrl.CLUSTER, "backend-v2", Action.CREATED),
        ),
    )


def sample(proxies: int = 2, fields: int = 1, partial: bool = False) -> ChangeSet:
    return ChangeSet(
        sources=(
            SourceChange(
                TIMEOUT,
                Action.CONFIGURED,
                "policies/timeouts.yaml",
                3,
                (FieldChange("spec.to[0].default.idleTimeout", "10s", "20s"),),
            ),
        ),
        proxies=tuple(proxy_change(i, fields) for i in range(proxies)),
        unchanged_proxies=("default.db-1", "default.db-2"),
        partial=Partial((ResourceKey("MeshRetry", "default", "bad"),), ()) if partial else None,
        base="1111111",
        head="2222222",
    )


def test_format_field_shows_absent_sides() -> None:
    assert format_field(FieldChange("a.b", MISSING, {"x": 1})) == 'a.b: <absent> -> {"x": 1}'
    assert format_field(FieldChange("a", "1s", MISSING)) == 'a: "1s" -> <absent>'


def test_text_lists_changes_and_summarises_unchanged() -> None:
    text = as_text(sample())
    assert "  configured  MeshTimeout default/timeout-1 (policies/timeouts.yaml:3)" in text
    assert '      spec.to[0].default.idleTimeout: "10s" -> "20s"' in text
    assert "Proxy default.web-0 (configured):" in text
    assert '      virtual_hosts[0].routes[0].route.timeout: "10s" -> "20s"' in text
    assert "  created     CDS backend-v2" in text
    assert "default.db-1" not in text and "2 proxies unchanged" in text
    assert text.rstrip().endswith("2 configured, 0 deleted, 2 unchanged")


def test_text_prints_diagnostics_first_then_partial_marker() -> None:
    diag = Diagnostic("RC204", Severity.ERROR, "bad value", "p.yaml", 4, 9, "spec.x")
    text = as_text(sample(partial=True), [diag])
    first, *_ = text.splitlines()
    assert first == "p.yaml:4:9: error[RC204] spec.x: bad value"
    assert text.index("PARTIAL DIFF") > text.index("RC204")
    assert "left out: MeshRetry default/bad" in text


def test_no_changes_text() -> None:
    text = as_text(ChangeSet(unchanged_proxies=("m.a",)))
    assert text.splitlines()[-1].startswith("no changes: ")


def test_json_is_the_changeset_form_plus_diagnostics() -> None:
    data = json.loads(as_json(sample(), []))
    assert data["version"] == 1
    assert data["diagnostics"] == []
    assert data["summary"]["sources"] == {"created": 0, "configured": 1, "deleted": 0}
    del data["diagnostics"]
    assert ChangeSet.from_json(data) == sample()


def test_markdown_has_table_sources_and_details_per_proxy() -> None:
    md = as_markdown(sample())
    assert "| Proxies | 0 | 2 | 0 | 2 |" in md
    assert md.count("<details>") == 2 and md.count("</details>") == 2
    assert "<summary><code>default.web-0</code>: configured, 2 resources</summary>" in md
    assert "2 proxies unchanged." in md
    assert "truncated" not in md


def test_markdown_partial_warning() -> None:
    md = as_markdown(sample(partial=True))
    assert "**Partial diff**" in md and "MeshRetry default/bad" in md


def test_markdown_is_bounded_with_a_truncation_note() -> None:
    big = sample(proxies=500, fields=20)
    md = as_markdown(big, max_chars=20_000)
    assert len(md) <= 20_000
    assert md.count("<details>") == md.count("</details>")
    shown = md.count("<details>")
    assert 0 < shown < 500
    assert f"truncated: {500 - shown} more proxies" in md
    assert len(as_markdown(big)) <= 60_000


def test_markdown_caps_fields_per_proxy() -> None:
    md = as_markdown(sample(proxies=1, fields=1000), max_chars=1_000_000)
    assert "... 802 more lines" in md  # 1000 fields + 2 resource lines, 200 shown


def test_markdown_escapes_untrusted_text() -> None:
    assert md_text("a|b <script> *x*") == "a\\|b &lt;script&gt; \\*x\\*"
    cs = ChangeSet(proxies=(ProxyChange("m.<b>", Action.CREATED, ()),))
    assert "<code>m.&lt;b&gt;</code>" in as_markdown(cs)


def test_markdown_code_fence_longer_than_backticks_in_values() -> None:
    change = FieldChange("a", "x", "```evil```")
    cs = ChangeSet(
        proxies=(
            ProxyChange(
                "m.p",
                Action.CONFIGURED,
                (ResourceChange(TypeUrl.CLUSTER, "c", Action.CONFIGURED, (change,)),),
            ),
        )
    )
    assert "````text" in as_markdown(cs)
