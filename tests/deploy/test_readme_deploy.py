"""The README's deploy how-to works as written: its openssl commands make files the server
loads, its `kubectl create secret` commands make the Secrets the base reads, and its overlay
renders into valid objects in the namespace, with the image and repository it names."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import check_deploy
import pytest
import yaml

from reconciler.identity.ca import load_ca_files
from reconciler.identity.tokens import load_signer
from reconciler.serve.webhook import read_secret

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEPLOY_SECTION = README[README.index("## Deploy") : README.index("## In pull requests")]


def code_blocks() -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", DEPLOY_SECTION, re.S)


def block_with(needle: str) -> str:
    [block] = [b for b in code_blocks() if needle in b]
    return block


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_documented_openssl_commands_make_files_the_server_loads(tmp_path: Path) -> None:
    script = block_with("openssl req")
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, check=True, timeout=60)
    ca = load_ca_files("default", tmp_path / "mesh-ca.crt", tmp_path / "mesh-ca.key")
    assert ca.mesh == "default"
    assert load_signer(tmp_path / "token-signing.key").key_id
    assert len(read_secret(tmp_path / "webhook-secret")) == 64


def secret_sources(docs: list[dict[str, Any]]) -> dict[str, set[str]]:
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    [projected] = [v["projected"] for v in volumes if "projected" in v]
    return {
        s["secret"]["name"]: {i["key"] for i in s["secret"]["items"]} for s in projected["sources"]
    }


def test_the_documented_secrets_are_the_ones_the_base_reads() -> None:
    docs = check_deploy.render_kustomize(ROOT / "deploy" / "kubernetes")
    created: dict[str, set[str]] = {}
    for line in block_with("create secret").splitlines():
        words = line.split()
        kind, name = words[words.index("secret") + 1 : words.index("secret") + 3]
        if kind == "tls":
            created[name] = {"tls.crt", "tls.key"}
        else:
            files = [w.removeprefix("--from-file=") for w in words if w.startswith("--from-file=")]
            created[name] = {f.split("=")[0] if "=" in f else Path(f).name for f in files}
    assert created == secret_sources(docs)


def test_the_documented_overlay_renders_valid_objects(tmp_path: Path) -> None:
    overlay = yaml.safe_load(block_with("# kustomization.yaml"))
    [remote] = overlay["resources"]
    assert remote.startswith("github.com/OWNER/reconciler//deploy/kubernetes?ref=")
    overlay["resources"] = [os.path.relpath(ROOT / "deploy" / "kubernetes", tmp_path)]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump(overlay))
    docs = check_deploy.render_kustomize(tmp_path)
    assert check_deploy.check_manifests(docs) == []
    assert {d["metadata"].get("namespace") for d in docs} == {"mesh-system"}
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    images = {c["image"] for c in pod["containers"] + pod["initContainers"]}
    assert images == {"ghcr.io/OWNER/reconciler:0.1.0"}
    [config] = [d for d in docs if d["kind"] == "ConfigMap"]
    assert config["data"] == {
        "RECONCILER_REPO": "https://github.com/OWNER/mesh-config.git",
        "RECONCILER_BRANCH": "main",
    }
    [main] = pod["containers"]
    refs = {e["valueFrom"]["configMapKeyRef"]["name"] for e in main["env"]}
    assert refs == {config["metadata"]["name"]}, "the hashed name follows the merge"
