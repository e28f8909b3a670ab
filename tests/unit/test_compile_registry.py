"""Registry completeness: every policy kind has a schema, a sample, a golden case, a compiler."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.compile.policies import POLICIES
from reconciler.model import POLICY_KINDS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_TYPES = {
    line.split(":", 1)[1].strip()
    for path in (ROOT / "sample-repo").rglob("*.yaml")
    for line in path.read_text().splitlines()
    if line.startswith("type:")
}


@pytest.mark.parametrize("kind", [str(k) for k in POLICY_KINDS])
def test_every_policy_kind_is_complete(kind: str) -> None:
    assert (ROOT / "reconciler" / "schemas" / f"{kind}.schema.json").is_file(), "schema"
    assert kind in SAMPLE_TYPES, f"no `type: {kind}` example in sample-repo/"
    golden = ROOT / "tests" / "golden" / "policies" / kind
    assert (golden / "input.yaml").is_file(), f"no focused golden mesh {golden}/input.yaml"
    assert list(golden.glob("*.golden.yaml")), f"no golden output in {golden}"
    assert kind in POLICIES, f"{kind} has no module in reconciler/compile/policies"
    assert POLICIES[kind].kind == kind


def test_registry_holds_only_known_kinds() -> None:
    assert set(POLICIES) <= {str(k) for k in POLICY_KINDS}
