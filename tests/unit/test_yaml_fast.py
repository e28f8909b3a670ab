"""The fast path (``yaml-rs``) gives exactly what libyaml gives: values and their types,
documents, resources, diagnostics and every position, or it steps aside.

Both paths of ``load_file`` run over every YAML or JSON file of the repository (each kind's
cases, the loader's cases, the sample repository, the schemas and test data), a generated mesh,
and a generated corpus of scalars and layouts where YAML 1.1 and 1.2, or libyaml and
``yaml-rs``, read differently. For a file the fast path takes, :func:`fast_documents` must
give libyaml's documents exactly, and libyaml must have had nothing to report at load.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler import pipeline
from reconciler.load import LoadedFile, SourceFile, load_file, yaml_fast
from reconciler.load.yaml_documents import parse_text
from reconciler.load.yaml_fast import AVAILABLE, fast_documents, forget

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="yaml-rs is not installed")

SETTINGS = settings(
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def typed(value: Any) -> Any:
    """``value`` with the type of every scalar: 1, 1.0 and True are told apart, NaN is NaN."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else repr(value))
    return (type(value).__name__, value)


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every field path of ``value``, and one that does not exist under each collection."""
    out = [prefix]
    if isinstance(value, dict):
        out.append((*prefix, "absent-field"))
        for key, child in value.items():
            out.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        out.append((*prefix, len(value)))
        for i, child in enumerate(value):
            out.extend(paths(child, (*prefix, i)))
    return out


def view(loaded: LoadedFile) -> tuple[object, ...]:
    resources = [
        (
            r.kind,
            r.name,
            r.mesh,
            typed(r.data),
            r.file,
            r.doc_index,
            r.position,
            [(p, r.locator(p)) for p in paths(r.data)],
        )
        for r in loaded.resources
    ]
    diagnostics = [(d.format_text(), d) for d in loaded.diagnostics]
    return loaded.text, resources, diagnostics


def same_as_libyaml(path: str, data: bytes) -> bool:
    """Both paths of ``load_file`` agree on ``data``; True when the fast path took it."""
    file = SourceFile(path, data)
    assert view(load_file(file)) == view(load_file(file, fast=False)), path
    text = data.decode("utf-8-sig", errors="replace")
    fast = fast_documents(text)
    if fast is None:
        return False
    parsed = parse_text(text, path)
    assert parsed.diagnostics == [], path
    assert [(typed(d.data), d.position) for d in parsed.documents] == [
        (typed(data), position) for data, position in fast
    ], path
    return True


def repository_files() -> list[Path]:
    skip = {".git", ".venv", "node_modules", "build", "dist"}
    found = []
    for directory, dirs, names in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in skip and not d.startswith("wt-"))
        found += [
            Path(directory) / n for n in sorted(names) if n.endswith((".yaml", ".yml", ".json"))
        ]
    return found


def test_every_file_of_the_repository() -> None:
    files = repository_files()
    assert len(files) > 400
    fast = sum(same_as_libyaml(p.relative_to(ROOT).as_posix(), p.read_bytes()) for p in files)
    # most resource files are plain YAML: the comparison above did cover the fast path
    assert fast > 200


def test_a_generated_mesh(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_mesh", ROOT / "bench" / "generate_mesh.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(tmp_path, dataplanes=60, services=12, policies=120)
    files = sorted(tmp_path.rglob("*.yaml"))
    fast = sum(same_as_libyaml(p.name, p.read_bytes()) for p in files)
    assert fast == len(files) == 181


def words(line: str) -> list[str]:
    return line.split()


SCALARS = [
    # booleans and nulls, YAML 1.1 and 1.2 spellings
    *words("y Y n N yes Yes YES yEs no No NO on On ON oN off Off OFF true True TRUE tRUE false"),
    *words("False FALSE null Null NULL nULL ~ Yes. on_ off- true1"),
    # integers: octal, hexadecimal, binary, underscores, signs, sexagesimal, big
    *words("0 00 010 08 09 0777 0o10 0O10 0o 0o8 0x1F 0X1f 0x 0x_1 0b101 0B1 0b 0b2 -0b1 +0x1"),
    *words("1_000 1__0 _1 1_ +1 -1 +0 -0 -00 1:20 -1:20 190:20:30 1:60 9223372036854775807"),
    *words("9223372036854775808 -9223372036854775809 123456789012345678901234567890 1,000"),
    # floats: exponents with and without sign or dot, leading or trailing dot, inf, nan
    *words("1.0 1. .5 -.5 +.5 ._5 0.1 1e3 1E3 1e+3 1e-3 1.0e3 1.0e+3 1.0E-3 1_0.5 1.5_0 1e"),
    *words("1e400 -1e400 .inf -.inf +.inf .Inf .INF .iNf inf -inf .nan .NaN .NAN -.nan nan"),
    *words("1:20.5 190:20:30.15 3.14159265358979323846 0.0.1 1.2.3 10.0.0.1 1.0.0-rc1"),
    # timestamps (text in both), values, merge, indicators inside words
    *words("2001-12-14 2001-12-14t21:59:43.10-05:00 2002-12-14T00:00:00Z 12:30:45 2001-1-1"),
    *words("= == <<  - -- --- ... .. . + +- -+ ~x x~ a=b a!b a&b a*b a#b a?b 50% @x `x"),
    *words("v1 1-2 x1e3 0x1G 1_ 2001-12-14x port:80 a:b http://h:80/p *.x.y /api/*"),
    *words("::1 ::ffff:10.0.0.1 fe80::1 :method :path : :: a: :a"),
]


LAYOUTS = [
    "k: {s}\n",
    "- {s}\n",
    "k:\n  - {s}\n",
    "k:\n- {s}\n",
    "{s}: v\n",
    "k: '{s}'\n",
    'k: "{s}"\n',
    "k: |\n  {s}\n",
    "k: >-\n  {s}\n",
    "k: {s} # comment\n",
    "k: x {s}\n",
    "k: {s}\n  {s}\n",
    "k: [{s}]\n",
    "k: {{a: {s}}}\n",
    "k:{s}\n",
    "k: - {s}\n",
]


def document(body: str) -> str:
    return f"type: Mesh\nname: m\nlabels:\n  x: y\nspec:\n{_indent(body)}"


def _indent(body: str) -> str:
    return "".join("  " + line if line.strip() else line for line in body.splitlines(True))


def test_scalars_in_every_layout() -> None:
    fast = 0
    for scalar, layout in itertools.product(SCALARS, LAYOUTS):
        text = document(layout.format(s=scalar))
        fast += same_as_libyaml("s.yaml", text.encode())
    assert fast > len(SCALARS) * 3  # the fast path took many of them: the comparison ran


DOUBLE_QUOTED = [
    r"\/",
    r"\x41",
    r"\u00e9",
    r"\U0001F600",
    r"\t",
    r"\ ",
    r"\N",
    r"\_",
    r"\L",
    r"\P",
    r"\e",
    r"\0",
    r"\a",
    r"\v",
    r"\b",
    r"\f",
    r"\r",
    r"\"",
    r"\\",
    r"\q",
    r"\x4",
    "a\\\n  b",
    "a\n  b",
    "a\n\n  b",
    "a  \n  b",
    " a ",
]

LAYOUT_FILES = [
    # documents and markers
    "---\ntype: Mesh\nname: a\n",
    "# head\n---\ntype: Mesh\nname: a\n",
    "type: Mesh\nname: a\n---\ntype: Mesh\nname: b\n",
    "---\ntype: Mesh\nname: a\n---\n\n# c\n  \ntype: Mesh\nname: b\n",
    "type: Mesh\nname: a\n---\n",
    "---\n---\ntype: Mesh\nname: a\n",
    "--- # c\ntype: Mesh\nname: a\n",
    "--- {type: Mesh, name: a}\n",
    "--- |\n  x\n",
    "type: Mesh\nname: a\n...\n",
    "type: Mesh\nname: a\n...\n---\ntype: Mesh\nname: b\n",
    "%YAML 1.1\n---\ntype: Mesh\nname: a\n",
    "%YAML 1.2\n---\ntype: Mesh\nname: a\n",
    "",
    "# only a comment\n",
    "\n\n  \n",
    "- type: Mesh\n  name: a\n",
    "---\n- type: Mesh\n  name: a\n- type: Mesh\n  name: b\n",
    "type: Mesh\nname: a\n---\n- x\n",
    "just a string\n",
    "42\n",
    # positions of the root
    "\n\n   type: Mesh\n   name: a\n",
    "# a\n  # b\n\n  type: Mesh\n  name: a\n",
    "---   \n\n type: Mesh\n name: a\n",
    # envelope problems, reported with positions
    "name: a\n",
    "type: Mesh\n",
    "type: MeshTimeOut\nname: a\n",
    "type: 1\nname: a\n",
    "type: Mesh\nname: ''\n",
    "type: Mesh\nname: 010\n",
    "type: Mesh\nname: a\nmesh: 1e3\n",
    "type: MeshTimeout\nname: a\nmesh: on\n",
    "kind: Mesh\napiVersion: v1\nname: a\n",
    # keys
    "type: Mesh\nname: a\n1: x\n",
    "type: Mesh\nname: a\n'1': x\n",
    "type: Mesh\nname: a\nnull: x\n~: y\n",
    "type: Mesh\nname: a\non: x\n",
    "type: Mesh\nname: a\n'': x\n",
    "type: Mesh\nname: a\n: x\n",
    "type: Mesh\nname: a\n? k\n: v\n",
    "type: Mesh\nname: a\n? [a]\n: v\n",
    "type: Mesh\nname: a\n" + "k" * 1100 + ": v\n",
    "type: Mesh\nname: a\n" + "k" * 101 + ": v\n",
    "type: Mesh\nname: a\n'" + "\\x41" * 30 + "': v\n",
    "type: Mesh\nname: a\n" + '"' + "\\x41" * 300 + '": v\n',
    # duplicate keys, merge keys, anchors, tags
    "type: Mesh\nname: a\nname: b\n",
    "type: Mesh\nname: a\nx:\n  k: 1\n  'k': 2\n",
    "type: Mesh\nname: a\nx:\n  1: a\n  '1': b\n",
    "type: Mesh\nname: a\nbase: &b {k: 1}\nx:\n  <<: *b\n  j: 2\n",
    "type: Mesh\nname: a\nx: &a 1\ny: *a\n",
    "type: Mesh\nname: a\nx: !!str 1\n",
    "type: Mesh\nname: a\nx: !!binary aGk=\n",
    "type: Mesh\nname: a\nx: !custom 1\n",
    "type: Mesh\nname: a\nx: '*'\ny: '&'\nz: 'a!'\n",
    # whitespace and characters
    "type: Mesh\nname: a\nx:\n\ty: 1\n",
    "type: Mesh\nname: a\nx: a\tb\n",
    "type: Mesh\r\nname: a\r\nx: |\r\n  a\r\n  b\r\n",
    "type: Mesh\rname: a\r",
    "\ufefftype: Mesh\nname: a\n",
    "type: Mesh\nname: caf\u00e9\n",
    "type: Mesh\nname: a\nx: a\u2028b\n",
    "type: Mesh\nname: a\nx: a\x85b\n",
    "type: Mesh\nname: a\nx: a\x07b\n",
    "type: Mesh\nname: a\nx: a\x7fb\n",
    "type: Mesh\nname: a\nx: '\U0001f600'\n",
    # block scalars
    "type: Mesh\nname: a\nx: |\n  a\n\n  b\n\n\ny: 1\n",
    "type: Mesh\nname: a\nx: |+\n  a\n\n\ny: 1\n",
    "type: Mesh\nname: a\nx: |-\n  a\n  b\n",
    "type: Mesh\nname: a\nx: |2\n    a\n  b\n",
    "type: Mesh\nname: a\nx: >\n  a\n  b\n\n  c\n    d\n  e\n",
    "type: Mesh\nname: a\nx: >\n\n  a\n",
    "type: Mesh\nname: a\nx: |\n    \n  a\n",
    "type: Mesh\nname: a\nx: |\n  a\n    \n  b\n",
    "type: Mesh\nname: a\nx: | # c\n  a\n",
    "type: Mesh\nname: a\nx: |\n",
    "type: Mesh\nname: a\nx: >2-\n   a\n",
    "type: Mesh\nname: a\nx: |10\n  a\n",
    # plain and quoted multi-line scalars
    "type: Mesh\nname: a\nx: a\n  b\n\n  c\n",
    "type: Mesh\nname: a\nx: a\n b\n",
    "type: Mesh\nname: a\nx: 'a\n  b\n\n  c'\n",
    "type: Mesh\nname: a\nx: 'it''s'\n",
    "type: Mesh\nname: a\nx: a # b\n  c\n",
    "type: Mesh\nname: a\nx: a#b\n",
    "type: Mesh\nname: a\nx: a:b\ny: a: b\n",
    "type: Mesh\nname: a\nx: 'a' b\n",
    "type: Mesh\nname: a\nx: a\n- b\n",
    "type: Mesh\nname: a\nx:\n  - a\n  -b\n  - - c\n    - d\n  -\n  - \n",
    "type: Mesh\nname: a\nx:\n  y: 1\n   z: 2\n",
    "type: Mesh\nname: a\nx:\n    y: 1\n  z: 2\n",
    "type: Mesh\nname: a\nx: {}\ny: []\nz: {}x\n",
    "type: Mesh\nname: a\nx: @a\n",
    "type: Mesh\nname: a\nx: `a\n",
    "type: Mesh\nname: a\nx: ---\ny: ...\n",
    "type: Mesh\nname: a\nx: |\n---\n",
    "type: Mesh\nname: a\nx: 'a\n---\n  b'\n",
    "type: Mesh\nname: a\nx: =\n",
    "type: Mesh\nname: a\nx: <<\n",
    "type: Mesh\nname: a\n" + "x:\n" + "".join("  " * i + "a:\n" for i in range(1, 70)),
    "type: Mesh\nname: a\nx:\n"
    + "".join("  " * i + "a:\n" for i in range(1, 60))
    + "  " * 60
    + "b: 1\n",
    "type: Mesh\nname: a\nx:\n" + "  - 1\n" * 200_001,
    "type: Mesh\nname: a\nx:\n" + " " * 300 + "y: 1\n",
]


def test_layouts_and_characters() -> None:
    texts = list(LAYOUT_FILES)
    texts += [f'type: Mesh\nname: a\nx: "{e}"\n' for e in DOUBLE_QUOTED]
    fast = sum(same_as_libyaml("l.yaml", t.encode()) for t in texts)
    assert fast > 30


def test_what_the_memo_knows_does_not_depend_on_the_order() -> None:
    """A word first met in a sentence, a comment or a quoted string (where it is a string in
    both), then as a whole plain value (where it is not): the second file is still compared."""
    texts = [
        document(layout.format(s=scalar))
        for scalar in ("on", "No", "yes", "010", "1e3", "1:20", "0o10", "~", "True")
        for layout in ("k: x {s} y\n", "k: 'x {s}'\n", "k: '{s}'\n", "k: x # {s}\n", "k: {s}\n")
    ]
    for order in (texts, texts[::-1]):
        forget()
        fast = [same_as_libyaml("m.yaml", text.encode()) for text in order]
        assert any(fast)
        assert not all(fast)


WORD = st.text(
    alphabet="01789abeEfnoOxXyY_.:+-~ '\"#&*!?=<>|%@`,[]{}\\/$^();", min_size=1, max_size=8
)
LINE = st.builds(
    lambda indent, key, sep, value, comment: f"{' ' * indent}{key}{sep}{value}{comment}",
    st.integers(0, 6),
    st.sampled_from(["k", "k2", "- k", "-", "'q'", "kk", ""]),
    st.sampled_from([": ", ":", " ", ":\n", "- ", ""]),
    st.one_of(WORD, st.sampled_from(["|", "|-", "|+", ">", ">-", "|2", "", "'a b'", '"a\\tb"'])),
    st.sampled_from(["", " # c", "#c", "  "]),
)


@SETTINGS
@given(st.lists(LINE, min_size=1, max_size=8), st.sampled_from(["", "---\n", "\n", "# c\n"]))
def test_generated_documents(lines: list[str], head: str) -> None:
    text = head + "type: Mesh\nname: m\nspec:\n" + "".join("  " + line + "\n" for line in lines)
    same_as_libyaml("g.yaml", text.encode())


@SETTINGS
@given(WORD, st.sampled_from(LAYOUTS))
def test_generated_scalars(scalar: str, layout: str) -> None:
    same_as_libyaml("w.yaml", document(layout.format(s=scalar)).encode())


FLOW_SCALAR = st.one_of(
    WORD, st.sampled_from(SCALARS), st.sampled_from(["'a, b'", '"x: y"', "a b", "'[x]'"])
)
SEPARATOR = st.sampled_from([", ", ",", " , ", ",\n    ", "\n  , ", ",\n", ", # c\n    "])
COLON = st.sampled_from([": ", ":", " : ", ":\n    "])


def _flow(draw: Any, depth: int) -> str:
    kind = draw(st.sampled_from(["scalar", "seq", "map"] if depth < 3 else ["scalar"]))
    if kind == "scalar":
        return str(draw(FLOW_SCALAR))
    items = []
    for _ in range(draw(st.integers(0, 3))):
        if kind == "seq" or draw(st.booleans()):
            items.append(_flow(draw, depth + 1))
        else:
            items.append(draw(FLOW_SCALAR) + draw(COLON) + _flow(draw, depth + 1))
    body = draw(SEPARATOR).join(items) + draw(st.sampled_from(["", ",", " "]))
    return ("[" + body + "]") if kind == "seq" else ("{" + body + "}")


@st.composite
def flow_documents(draw: Any) -> str:
    lines = [f"  k{i}: {_flow(draw, 0)}\n" for i in range(draw(st.integers(1, 3)))]
    return "type: Mesh\nname: m\nspec:\n" + "".join(lines)


@SETTINGS
@given(flow_documents())
def test_generated_flow_collections(text: str) -> None:
    same_as_libyaml("f.yaml", text.encode())


def test_flow_collections_take_the_fast_path() -> None:
    texts = [
        "type: Mesh\nname: m\nspec:\n  tags: {kuma.io/service: web, version: v1}\n",
        "type: Mesh\nname: m\nspec:\n  list: [a, 1, 1.5, true, null, 'x, y']\n",
        'type: Mesh\nname: m\nspec:\n  "k": {"a": [1, 2], "b": {}}\n',
        "type: Mesh\nname: m\nspec:\n  k: [\n    a,\n    b,\n  ]\n",
    ]
    assert all(same_as_libyaml("f.yaml", text.encode()) for text in texts)


def test_validation_reports_the_same_without_yaml_rs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every kind's cases and the sample repository, validated as one revision: the same
    resources, diagnostics and positions with and without ``yaml-rs`` (the fallback)."""
    roots = [ROOT / "sample-repo", ROOT / "tests" / "cases", ROOT / "reconciler" / "kinds"]

    def analysis() -> tuple[object, ...]:
        result = pipeline.analyze_paths(roots, workers=1)
        resources = [
            (r.key, typed(r.data), r.position, r.locator(("spec",))) for r in result.resources
        ]
        return result.files, resources, [d.format_text() for d in result.diagnostics]

    with_fast = analysis()
    monkeypatch.setattr(yaml_fast, "_loads", None)
    assert yaml_fast.fast_documents("type: Mesh\nname: a\n") is None
    without = analysis()
    assert with_fast == without
    assert len(with_fast[2]) > 100  # the cases' diagnostics were compared


def test_only_the_main_thread_takes_the_fast_path() -> None:
    """The server parses in executor threads: there, libyaml (see ``_MAIN_THREAD``)."""
    text = "type: Mesh\nname: a\n"
    assert fast_documents(text) is not None
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(fast_documents, text).result() is None
