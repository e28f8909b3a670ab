"""The fidelity suite: Envoy values each policy kind must produce, written from Kuma's code.

A case is a file ``reconciler/kinds/<kind>/fidelity/<case>.yaml``; a new case needs no new
test function. Its expected values come from Kuma 2.14.3's plugin sources (the ``source``
field names the file and function), never from our own output::

    source: meshretry/plugin/xds/configurer.go genHttpRetryPolicy
    description: numRetries 0 configures no retry policy
    resources: |            # appended to tests/fidelity/fixture.yaml (fixture: false: alone)
      type: MeshRetry
      ...
    expect:
      - proxy: default.web-1
        type: routes            # listeners | routes | clusters | endpoints
        name: outbound:api
        path: virtual_hosts[0].routes[0].route.retry_policy   # a["dotted.key"] for map keys
        absent: true            # or `equals: <value>`, or `contains: <value>` for a list

Values are compared on the proto-field-name rendering (``reconciler render``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.compile.compiler import compile_resources
from reconciler.compile.render_dict import proxy_dict
from reconciler.load import SourceFile
from reconciler.pipeline import analyze

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fidelity" / "fixture.yaml"
CASES = sorted((ROOT / "reconciler" / "kinds").glob("*/fidelity/*.yaml"))
_STEP = re.compile(r'([^.\[\]"]+)|\[(\d+)\]|\["([^"]+)"\]')


@cache
def _compiled(text: str) -> dict[str, dict[str, Any]]:
    analysis = analyze([SourceFile("mesh.yaml", text.encode())])
    errors = [d.format_text() for d in analysis.diagnostics if d.severity == "error"]
    assert not errors, errors
    result = compile_resources(list(analysis.resources))
    return {node: proxy_dict(config) for node, config in result.configs.items()}


def _lookup(value: Any, path: str) -> tuple[bool, Any]:
    for plain, index, quoted in _STEP.findall(path):
        name = plain or quoted
        if index:
            if not isinstance(value, list) or int(index) >= len(value):
                return False, None
            value = value[int(index)]
        elif isinstance(value, dict) and name in value:
            value = value[name]
        else:
            return False, None
    return True, value


def _case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.stem}"


def test_every_applied_policy_kind_has_fidelity_cases() -> None:
    from reconciler.kinds import CATALOG

    kinds = {p.parent.parent.name for p in CASES}
    applied = {s.package for s in CATALOG.values() if s.is_policy and s.applied}
    assert applied <= kinds, sorted(applied - kinds)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(p) for p in CASES])
def test_fidelity_case(case: Path) -> None:
    spec = yaml.safe_load(case.read_text())
    assert spec.get("source"), f"{case}: name the Kuma source the values come from"
    documents = spec.get("resources", "")
    text = (
        documents if spec.get("fixture") is False else FIXTURE.read_text() + "\n---\n" + documents
    )
    proxies = _compiled(text)
    for expect in spec["expect"]:
        proxy = proxies[expect["proxy"]]
        group = proxy[expect["type"]]
        names = [r.get("name", r.get("cluster_name")) for r in group]
        assert expect["name"] in names, f"{expect['name']} not in {names}"
        resource = group[names.index(expect["name"])]
        found, value = _lookup(resource, expect.get("path", ""))
        where = f"{expect['proxy']} {expect['type']} {expect['name']} {expect.get('path', '')}"
        if expect.get("absent"):
            assert not found, f"{where}: expected absent, got {value!r}"
        elif "contains" in expect:
            assert found and expect["contains"] in value, f"{where}: {value!r}"
        else:
            assert found, f"{where}: missing"
            assert value == expect["equals"], f"{where}: {value!r} != {expect['equals']!r}"
