"""Property tests: no input file, however broken, makes ``reconciler validate`` crash.

Random bytes and random YAML documents (including resource-shaped ones: ``type``, ``name``,
``mesh``, ``spec`` with random content) go through the real CLI; the exit code is always
0 or 1 (never 3, an internal error), and every diagnostic names a documented code.
"""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli.main import main
from reconciler.codes import CODES
from reconciler.model import Kind

KINDS = [k.value for k in Kind]
SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

FIELD_NAMES = st.sampled_from(
    [
        "targetRef",
        "kind",
        "name",
        "tags",
        "labels",
        "sectionName",
        "to",
        "from",
        "rules",
        "default",
        "matches",
        "backendRefs",
        "http",
        "tcp",
        "grpc",
        "local",
        "connectionTimeout",
        "idleTimeout",
        "requestTimeout",
        "networking",
        "address",
        "inbound",
        "outbound",
        "port",
        "servicePort",
        "admin",
        "mtls",
        "backends",
        "enabledBackend",
        "kuma.io/service",
        "percentage",
        "interval",
        "num",
        "action",
        "retryOn",
        "filters",
        "type",
        "value",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["Mesh", "MeshService", "Dataplane", "1s", "-1s", "0", "5XX", "default", ""]),
    st.text(max_size=12),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(FIELD_NAMES, st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=25,
)


@st.composite
def resource_documents(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.one_of(st.sampled_from(KINDS), st.text(max_size=10)))
    doc: dict[str, Any] = {"type": kind, "name": draw(st.one_of(st.text(max_size=10), VALUES))}
    if draw(st.booleans()):
        doc["mesh"] = draw(st.one_of(st.just("default"), VALUES))
    body = draw(st.dictionaries(FIELD_NAMES, VALUES, max_size=6))
    if kind in ("Mesh", "Dataplane"):
        doc.update(body)
    else:
        doc["spec"] = draw(st.one_of(st.just(body), VALUES))
    return doc


def _validate(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["validate", "--no-cache", "--format", "json", str(path)])
    assert code in (0, 1), err.getvalue()
    return code, out.getvalue()


def _check_report(output: str) -> None:
    report = json.loads(output)
    for diag in report["diagnostics"]:
        assert diag["code"] in CODES


@SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_crash(tmp_path_factory: Any, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "input.yaml"
    path.write_bytes(data)
    _check_report(_validate(path)[1])


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"%@`#, \n\tab01")), max_size=300))
def test_yaml_punctuation_soup_never_crashes(tmp_path_factory: Any, text: str) -> None:
    path = tmp_path_factory.mktemp("soup") / "input.yaml"
    path.write_text(text)
    _check_report(_validate(path)[1])


@SETTINGS
@given(docs=st.lists(st.one_of(resource_documents(), VALUES), min_size=1, max_size=4))
def test_random_yaml_documents_never_crash(tmp_path_factory: Any, docs: list[Any]) -> None:
    path = tmp_path_factory.mktemp("docs") / "input.yaml"
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    _check_report(_validate(path)[1])


@SETTINGS
@given(docs=st.lists(resource_documents(), min_size=1, max_size=6))
def test_random_resources_with_a_mesh_never_crash(tmp_path_factory: Any, docs: list[Any]) -> None:
    root = tmp_path_factory.mktemp("repo")
    (root / "mesh.yaml").write_text("type: Mesh\nname: default\n")
    (root / "resources.json").write_text(json.dumps(docs[0]))
    (root / "resources.yaml").write_text(yaml.safe_dump_all(docs))
    _check_report(_validate(root)[1])
