"""What a server keeps holds equal parts once: loaded strings, the documents' innermost maps,
the traces' merged confs, the file text (the source's bytes). The outputs read from them stay the same (the inspect and golden
tests compare them with their recorded outputs)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from reconciler.cache import FileCache
from reconciler.compile.compiler import Compiler
from reconciler.load import SourceFile
from reconciler.load.files import discover, read_files
from reconciler.load.yaml_documents import LazyLocator
from reconciler.model import Position
from reconciler.pipeline import Analysis, analyze, compile_analysis

ROOT = Path(__file__).resolve().parents[2]

DATAPLANE = """\
type: Dataplane
mesh: default
name: {name}
labels:
  app: web
networking:
  address: 127.1.0.{n}
  inbound:
  - port: 8080
    tags:
      kuma.io/service: web
      kuma.io/protocol: http
  outbound:
  - port: 10001
    tags:
      kuma.io/service: api
"""


def _files(count: int) -> list[SourceFile]:
    return [
        SourceFile(f"dp/web-{n}.yaml", DATAPLANE.format(name=f"web-{n}", n=n).encode())
        for n in range(1, count + 1)
    ]


def _generated(root: Path) -> list[SourceFile]:
    spec = importlib.util.spec_from_file_location(
        "generate_mesh", ROOT / "bench" / "generate_mesh.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(root, dataplanes=30, services=6, policies=40)
    files, problems = read_files(discover([root]))
    assert not problems
    return files


def _plain(analysis: Analysis) -> list[Any]:
    return [
        (r.kind, r.name, r.mesh, r.file, r.doc_index, r.position, json.dumps(r.data))
        for r in analysis.resources
    ]


def test_loaded_string_values_are_one_object() -> None:
    first, second = (r.data for r in analyze(_files(2)).resources)
    assert first["mesh"] is second["mesh"]
    assert first["labels"]["app"] is second["labels"]["app"]
    out_first = first["networking"]["outbound"][0]["tags"]["kuma.io/service"]
    assert out_first is second["networking"]["outbound"][0]["tags"]["kuma.io/service"]


def test_shared_leaves_hold_equal_maps_once_and_change_nothing(tmp_path: Path) -> None:
    files = _generated(tmp_path)
    plain, shared = analyze(files), analyze(files, share=True)
    assert _plain(shared) == _plain(plain)
    assert shared.diagnostics == plain.diagnostics

    first, second = (r.data for r in analyze(_files(2), share=True).resources)
    tags = [d["networking"]["outbound"][0]["tags"] for d in (first, second)]
    assert tags[0] is tags[1], "equal innermost maps of two documents: one object"
    assert first["networking"] is not second["networking"], "maps holding maps stay apart"
    assert first["labels"] is second["labels"]
    inbound = [d["networking"]["inbound"][0]["tags"] for d in (first, second)]
    assert inbound[0] is inbound[1] and list(inbound[0]) == ["kuma.io/service", "kuma.io/protocol"]

    unshared = [r.data for r in analyze(_files(2)).resources]
    assert unshared[0]["labels"] is not unshared[1]["labels"], "only when asked for"


def test_equal_values_of_other_types_or_order_are_not_merged() -> None:
    docs = [
        "type: Mesh\nname: a\nlabels: {x: '1', y: '2'}\n",
        "type: Mesh\nname: b\nlabels: {y: '2', x: '1'}\n",
        "type: Mesh\nname: c\nlabels: {x: '1', y: '2'}\n",
    ]
    files = [SourceFile(f"m{i}.yaml", d.encode()) for i, d in enumerate(docs)]
    a, b, c = (r.data["labels"] for r in analyze(files, share=True).resources)
    assert a is c
    assert a is not b and list(b) == ["y", "x"], "key order is kept"


def test_trace_confs_shared_and_explained_the_same(tmp_path: Path) -> None:
    analysis = analyze(_generated(tmp_path))
    result = compile_analysis(analysis, Compiler())
    merged = [m for t in result.traces.values() for o in t.outbounds for m in o.confs.values()]
    assert len({id(m) for m in merged}) < len(merged)
    by_content: dict[Any, int] = {}
    for m in merged:
        key = (
            m.key,
            tuple((id(c.resource), c.path) for c in m.contributions),
            tuple((p, tuple((id(o.resource), o.path) for o in os)) for p, os in m.origins.items()),
        )
        assert by_content.setdefault(key, id(m)) == id(m), "equal merged confs: one object"
    selections = [t.selected for t in result.traces.values()]
    assert len({id(s) for s in selections}) < len(selections)
    assert len({id(s) for s in selections}) == len(
        {tuple((k, id(v)) for k, v in s.items()) for s in selections}
    ), "replicas selected by the same policies: one mapping"
    paths = {id(p) for m in merged for p in m.origins}
    assert len(paths) == len({p for m in merged for p in m.origins}), "origin paths held once"


def test_resources_locate_from_the_files_own_bytes(tmp_path: Path) -> None:
    files = _files(1)
    cache = FileCache(tmp_path / "cache")
    fresh = analyze(files, cache=cache).resources[0]
    cache.save()
    warm = analyze(files, cache=FileCache(tmp_path / "cache")).resources[0]
    for resource in (fresh, warm):
        assert resource.locate(("networking", "outbound", 0, "port")) == Position(14, 5)
        assert resource.locate(("labels", "app")) == Position(5, 3)
    locator = fresh.locator
    assert isinstance(locator, LazyLocator) and locator.text is files[0].data, "no copy kept"
