"""Start-up stays cheap by structure: a command imports only what it runs.

Each case runs the command in a fresh interpreter and reads ``sys.modules`` afterwards
(``-X importtime`` does not list a module imported by ``importlib.import_module``, so it
serves only the entry-point check). No timing is asserted (figures are in BENCHMARKS.md, ``bench/startup.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import __version__
from reconciler.cli.main import COMMANDS, load_command

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("grpc", "google.protobuf", "envoy", "cryptography", "jsonschema", "yaml", "aiohttp")
"""Packages a command that does not need them must not import (each costs 10-500 ms)."""


_RUN = """
import json, sys
from reconciler.cli.main import main
code = main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def _imported(cwd: Path, *args: str) -> tuple[str, set[str]]:
    """stdout and every module in ``sys.modules`` after ``reconciler ARGS`` ran."""
    proc = subprocess.run(
        [sys.executable, "-c", _RUN, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    names: set[str] = set(json.loads(proc.stderr.splitlines()[-1]))
    return proc.stdout, names


def _of(names: set[str], package: str) -> list[str]:
    return sorted(n for n in names if n == package or n.startswith(package + "."))


def _command_modules(names: set[str]) -> list[str]:
    modules = {c.module for c in COMMANDS.values()}
    return sorted(n for n in names if n in modules)


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_version_and_help_import_no_subcommand(tmp_path: Path, flag: str) -> None:
    out, names = _imported(tmp_path, flag)
    assert (f"reconciler {__version__}" in out) if flag == "--version" else ("validate" in out)
    for package in HEAVY:
        assert not _of(names, package), f"reconciler {flag} imports {package}"
    assert not _command_modules(names)
    assert not _of(names, "reconciler.pipeline")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_imports_no_other_command(tmp_path: Path, command: str) -> None:
    out, names = _imported(tmp_path, command, "--help")
    assert f"usage: reconciler {command}" in out
    assert _command_modules(names) == [COMMANDS[command].module]


def test_validate_imports_neither_grpc_nor_protobuf() -> None:
    out, names = _imported(ROOT, "validate", "sample-repo", "--no-cache")
    assert out.splitlines()[-1].startswith("ok: ")  # after the info lines of the services
    assert not _of(names, "grpc")
    assert not _of(names, "google.protobuf")
    assert not _of(names, "reconciler.compile")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_module_has_arguments_and_run(command: str) -> None:
    module = load_command(command)
    assert callable(module.add_arguments)
    assert callable(module.run)


def test_the_entry_point_imports_neither_grpc_nor_protobuf(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "reconciler", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert proc.stdout == f"reconciler {__version__}\n"
    names = {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    }
    assert "reconciler.cli.main" in names  # the report was read
    assert not _of(names, "grpc")
    assert not _of(names, "google.protobuf")
