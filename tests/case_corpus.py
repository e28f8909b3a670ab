"""Where the validation cases are: each kind's folder, plus the file-level loader cases.

Kind cases live in ``reconciler/kinds/<kind>/cases/{positive,negative}/``; the cases of the
loader (files, YAML, unknown types) in ``tests/cases/_loader/negative/``. Every case is
validated from the repository root together with the shared fixture ``tests/cases/_mesh.yaml``,
so diagnostics name paths relative to the root, as CI annotations do.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ROOT / "reconciler" / "kinds"
LOADER = ROOT / "tests" / "cases" / "_loader"
FIXTURE = "tests/cases/_mesh.yaml"


def case_files(polarity: str) -> list[Path]:
    """Every ``positive`` or ``negative`` case file (not the expected outputs), sorted."""
    found = list(KINDS.glob(f"*/cases/{polarity}/*.yaml"))
    found += list(LOADER.parent.glob(f"_loader/{polarity}/*.yaml"))
    return sorted(found)


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def expected_files() -> list[Path]:
    return sorted([*KINDS.glob("*/cases/negative/*.expected.txt"), *LOADER.rglob("*.expected.txt")])
