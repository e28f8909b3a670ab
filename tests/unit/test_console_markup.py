"""The console's HTML builder escapes every value, and its build log stays bounded."""

from __future__ import annotations

from reconciler.serve.console.markup import PAGE_SIZE, Html, esc, link, paged, path, tag
from reconciler.serve.console.records import KEEP_ATTEMPTS, KEEP_BUILDS, BuildLog

XSS = "<script>alert('x')</script>"


def test_text_and_attributes_are_escaped() -> None:
    html = tag("td", XSS, title=XSS, class_='"q"')
    assert html == (
        '<td title="&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" class="&quot;q&quot;">'
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;</td>"
    )
    assert "<script" not in link(path("proxies", XSS), XSS)


def test_built_markup_is_not_escaped_twice() -> None:
    inner = tag("b", "a & b")
    assert tag("p", inner, " & c") == "<p><b>a &amp; b</b> &amp; c</p>"
    assert esc(Html("<br>")) == "<br>"
    assert tag("input", name="q", value=XSS).startswith('<input name="q" value="&lt;script')
    assert tag("p", "x", hidden=False, id=None) == "<p>x</p>"


def test_paths_encode_every_segment() -> None:
    assert path("policies", "MeshTimeout", "default", "a/b c?") == (
        "/console/policies/MeshTimeout/default/a%2Fb%20c%3F"
    )


def test_paging_clamps_to_existing_pages() -> None:
    rows = list(range(PAGE_SIZE * 2 + 1))
    assert paged(rows, 1) == (rows[:PAGE_SIZE], 1, 3)
    assert paged(rows, 3) == (rows[PAGE_SIZE * 2 :], 3, 3)
    assert paged(rows, 99)[1:] == (3, 3)
    assert paged(rows, -5)[1:] == (1, 3)
    assert paged([], 1) == ([], 1, 1)


def test_build_log_is_bounded_and_finds_the_diff_base() -> None:
    log = BuildLog()
    for i in range(KEEP_ATTEMPTS + 5):
        sha = f"{i:040x}"
        if i % 2:
            log.refused(
                sha, {"author": "ann"}, {"code": "RC605", "message": "m", "diagnostics": []}
            )
        else:
            log.published(sha, {"message": f"commit {i}"}, (), {}, None)
    attempts = log.attempts()
    assert len(attempts) == KEEP_ATTEMPTS
    assert attempts[0].revision == f"{KEEP_ATTEMPTS + 4:040x}"  # newest first
    builds = log.builds()
    assert len(builds) == KEEP_BUILDS
    assert [b.attempt.message for b in builds[:2]] == [
        f"commit {KEEP_ATTEMPTS + 4}",
        f"commit {KEEP_ATTEMPTS + 2}",
    ]
    found = log.find(builds[0].attempt.revision)
    assert found is not None and found[1] is builds[1]
    oldest = log.find(builds[-1].attempt.revision)
    assert oldest is not None and oldest[1] is None  # its base is no longer kept
    assert log.find(f"{1:040x}") is None  # refused: never a build


def test_build_log_keeps_older_builds_only_while_they_share_their_configurations() -> None:
    from reconciler.resource_types import ProxyConfig

    nodes = [f"default.dp-{i}" for i in range(10)]

    def fleet() -> dict[str, ProxyConfig]:
        return {n: ProxyConfig(n) for n in nodes}

    log = BuildLog()
    configs = fleet()
    for i in range(KEEP_BUILDS + 2):  # one proxy changes per commit: builds share the rest
        configs = {**configs, nodes[i]: ProxyConfig(nodes[i])}
        log.published(f"{i:040x}", {}, (), configs, None)
    assert len(log.builds()) == KEEP_BUILDS

    for i in range(3):  # every proxy changes per commit: each build is a whole fleet more
        log.published(f"{100 + i:040x}", {}, (), fleet(), None)
        builds = log.builds()
        assert len(builds) == 2, [b.attempt.revision for b in builds]
        found = log.find(builds[0].attempt.revision)
        assert found is not None and found[1] is builds[1]  # the diff base is still there

    # after a mesh-wide build, one-proxy builds accumulate again within one fleet's worth
    configs = dict(log.builds()[0].configs)
    for i in range(KEEP_BUILDS):
        configs = {**configs, nodes[i]: ProxyConfig(nodes[i])}
        log.published(f"{200 + i:040x}", {}, (), configs, None)
    assert len(log.builds()) == KEEP_BUILDS
    assert [b.attempt.revision for b in log.builds()][-1] == f"{200:040x}"
