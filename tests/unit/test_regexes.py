"""Regular expressions Kuma accepts and Envoy rejects: found in every kind's regex fields."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import codes
from reconciler.kinds import CATALOG
from reconciler.kinds.mesh_metric.sidecar import stats_query
from reconciler.load import SourceFile, load_file
from reconciler.validate import check_resource
from reconciler.validate.regexes import ENVOY_MAX_PROGRAM_SIZE, regex_problem

SCHEMAS = Path(__file__).resolve().parents[2] / "reconciler" / "schemas"
BAD = "/api/(unclosed"


def _regex_objects(schema: Any, path: tuple[str | int, ...]) -> Iterator[tuple[str | int, ...]]:
    """Instance paths of every object whose ``type`` may be ``RegularExpression``."""
    if not isinstance(schema, dict):
        return
    kind = schema.get("properties", {}).get("type", {})
    if "RegularExpression" in kind.get("enum", ()):
        yield path
    for name, sub in schema.get("properties", {}).items():
        yield from _regex_objects(sub, (*path, name))
    if "items" in schema:
        yield from _regex_objects(schema["items"], (*path, 0))
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, ()):
            yield from _regex_objects(sub, path)


def _schema_regex_fields() -> list[tuple[str, tuple[str | int, ...]]]:
    found = []
    for file in sorted(SCHEMAS.glob("*.schema.json")):
        kind = file.name.removesuffix(".schema.json")
        found += [(kind, p) for p in _regex_objects(json.loads(file.read_text()), ())]
    return found


def _document(kind: str, path: tuple[str | int, ...], pattern: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": kind, "name": "r", "mesh": "default"}
    node: Any = doc
    for step, following in zip(path, (*path[1:], None), strict=True):
        child: Any = [] if isinstance(following, int) else {}
        if isinstance(step, int):
            node.append(child)
        else:
            node[step] = child
        node = child
    node.update({"name": "x-a", "type": "RegularExpression", "value": pattern})
    return doc


def test_the_schemas_have_regex_fields_in_the_kinds_expected() -> None:
    kinds = sorted({kind for kind, _ in _schema_regex_fields()})
    assert kinds == ["MeshHTTPRoute", "MeshRetry"]
    assert len(_schema_regex_fields()) >= 5  # route path, headers, query; retry request/response


def test_kinds_with_regexes_in_another_shape_never_send_them_to_envoy() -> None:
    """TrafficRoute, MeshGatewayRoute and MeshMetric write regexes otherwise (``regex:``,
    ``match: REGEX``, ``type: Regex``); the first two are not applied, and MeshMetric's
    ``Regex`` profile selectors are not compiled (Envoy's stats filter cannot express them)."""
    other = sorted(
        f.name.removesuffix(".schema.json")
        for f in SCHEMAS.glob("*.schema.json")
        if "regex" in f.read_text().lower() and "RegularExpression" not in f.read_text()
    )
    assert other == ["MeshGatewayRoute", "MeshMetric", "TrafficRoute"]
    assert not any(CATALOG[kind].applied for kind in other if kind != "MeshMetric")
    selectors = {"appendProfiles": [{"name": "All"}], "exclude": [{"type": "Regex", "match": "x"}]}
    assert stats_query({"profiles": selectors}).filter is None


@pytest.mark.parametrize(
    ("kind", "path"), _schema_regex_fields(), ids=lambda v: v if isinstance(v, str) else None
)
def test_every_regex_field_of_every_schema_is_checked(
    kind: str, path: tuple[str | int, ...]
) -> None:
    text = yaml.safe_dump(_document(kind, path, BAD), sort_keys=False)
    loaded = load_file(SourceFile("policy.yaml", text.encode()))
    (resource,) = loaded.resources
    found = [d for d in check_resource(resource) if d.code == codes.REGEX_REJECTED_BY_ENVOY]
    assert len(found) == 1, found
    diag = found[0]
    assert diag.severity == "warning"  # Kuma accepts it
    assert diag.refuses_serving  # serve does not publish it
    assert diag.file == "policy.yaml" and diag.line is not None and diag.line > 1
    assert diag.field is not None and diag.field.endswith(".value")
    assert "missing )" in diag.message


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("/api/(unclosed", "missing )"),
        ("(?=lookahead)", "invalid perl operator"),
        (r"a\Z", "invalid escape sequence"),
        ("(a)\\1", "invalid escape sequence"),
        ("/(" + "|".join(f"s{i}[a-z]{{1,20}}" for i in range(10)) + ")", "program size"),
    ],
)
def test_what_envoy_refuses(pattern: str, why: str) -> None:
    problem = regex_problem(pattern)
    assert problem is not None and why in problem


@pytest.mark.parametrize("pattern", ["/api/.*", "^/v[0-9]+/users/[^/]+$", "(?i)x-.*", ".*"])
def test_what_envoy_accepts(pattern: str) -> None:
    assert regex_problem(pattern) is None


def test_the_size_limit_is_envoys_default() -> None:
    assert ENVOY_MAX_PROGRAM_SIZE == 100
