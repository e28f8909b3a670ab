"""YAML parsers side by side on the validation benchmark's files: what a faster one would buy.

    .venv/bin/python bench/parsers.py [--dataplanes 1000] [--policies 3999] [--repeat 3]

Times, in this one process, over the same 5,000 files of ``bench/generate_mesh.py`` (read
into memory first; CPU time, ``time.process_time``, median of ``--repeat``):

* the reference: bare ``yaml.load_all`` with libyaml (``CSafeLoader``): no marks, no
  duplicate-key or limit checks;
* our loader (``reconciler.load.yaml_documents.parse_text``): libyaml with marks, duplicate
  keys and limits;
* our loader with its fast path (what ``load_file`` parses with): ``yaml-rs`` for the files
  where it reads as libyaml does (``reconciler.load.yaml_fast``), libyaml for the others; its
  memo of words is emptied before each run, as in a new process;
* ``yaml_rs.loads`` (Rust, a dependency) alone, and ``ryml.parse_in_arena`` (rapidyaml, C++;
  a tree only, no Python objects; not a dependency) when installed (``pip install rapidyaml``).

Then, on scalars where YAML 1.1 (libyaml, PyYAML, what ``validate`` does today) and YAML 1.2
differ, whether each parser gives the same Python values as ours: a parser that does not
cannot replace libyaml without changing what ``validate`` reports. Prints markdown.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT))

EDGE_CASES = (
    "a: on",
    "a: yes",
    "a: 010",
    "a: 0o10",
    "a: 1:20",
    "a: 1_000",
    "a: 2001-12-14",
    "a: .inf",
    "a: {b: 1, b: 2}",
)
"""Documents whose values differ between YAML 1.1 and 1.2 resolvers (the last one is a
duplicate key, an error for ``validate``)."""


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("generate_mesh", BENCH / "generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate


def _parsers() -> dict[str, Callable[[str], object]]:
    import yaml

    from reconciler.load import yaml_fast
    from reconciler.load.yaml_documents import ParsedDocument, ParsedFile, parse_text

    def fast_or_libyaml(text: str) -> ParsedFile:
        documents = yaml_fast.fast_documents(text)
        if documents is None:
            return parse_text(text, "f.yaml")
        return ParsedFile([ParsedDocument(i, d, None, p) for i, (d, p) in enumerate(documents)])

    out: dict[str, Callable[[str], object]] = {
        "bare `yaml.load_all` (CSafeLoader), the reference": lambda text: list(
            yaml.load_all(text, Loader=yaml.CSafeLoader)
        ),
        "our loader (libyaml + marks, duplicate keys, limits)": lambda text: parse_text(
            text, "f.yaml"
        ),
        "our loader, fast path (yaml-rs where it reads alike, else libyaml)": fast_or_libyaml,
    }
    try:
        import yaml_rs

        out["`yaml_rs.loads` (Rust, no marks)"] = yaml_rs.loads
    except ImportError:
        pass
    try:
        import ryml

        out["`ryml.parse_in_arena` (rapidyaml, tree only)"] = lambda text: ryml.parse_in_arena(
            text.encode()
        )
    except ImportError:
        pass
    return out


def _values(name: str, parse: Callable[[str], object], text: str) -> str:
    try:
        result = parse(text)
    except Exception as exc:  # reporting what each parser does with it
        return f"error ({type(exc).__name__})"
    if name.startswith("our"):
        parsed: Any = result
        if parsed.diagnostics:
            return "error (" + parsed.diagnostics[0].code + ")"
        return repr(parsed.documents[0].data)
    if name.startswith("`ryml"):
        return "(tree: no Python values)"
    if isinstance(result, list):
        result = result[0] if result else None
    return repr(result)


def measure(args: argparse.Namespace, work: Path) -> list[str]:
    _generator()(work, dataplanes=args.dataplanes, policies=args.policies)
    from reconciler.load import yaml_fast

    texts = [p.read_text() for p in sorted(work.rglob("*.yaml"))]
    parsers = _parsers()
    times: dict[str, float] = {}
    for name, parse in parsers.items():
        runs = []
        for _ in range(args.repeat):
            yaml_fast.forget()
            start = time.process_time()
            for text in texts:
                parse(text)
            runs.append(time.process_time() - start)
        times[name] = statistics.median(runs)
    reference = next(iter(times.values()))
    out = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}; {len(texts)} "
        f"files, median of {args.repeat}, CPU seconds in one process.",
        "",
        "| parser | CPU (s) | / bare load |",
        "|---|---:|---:|",
        *(f"| {name} | {t:.3f} | {t / reference:.2f}x |" for name, t in times.items()),
        "",
        "Values on YAML 1.1 / 1.2 edge cases (`validate` today: the second column):",
        "",
        "| document | " + " | ".join(parsers) + " |",
        "|---|" + "---|" * len(parsers),
    ]
    for case in EDGE_CASES:
        cells = [_values(name, parse, case) for name, parse in parsers.items()]
        out.append(f"| `{case}` | " + " | ".join(cells) + " |")
    out.append("")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataplanes", type=int, default=1000)
    parser.add_argument("--policies", type=int, default=3999)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-parsers-") as tmp:
        print("\n".join(measure(args, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
