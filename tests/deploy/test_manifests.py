"""The deployable artifacts agree with the program: every flag they pass parses with
``reconciler serve``'s own parser, ports, probes, paths and secrets line up, and the offline
validation of ``make check`` rejects what it should."""

from __future__ import annotations

import copy
import re
import shlex
from pathlib import Path
from typing import Any

import check_deploy
import check_install
import pytest

from reconciler.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return check_deploy.render_kustomize(DEPLOY / "kubernetes")


def one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    [found] = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    return found


def serve_args(argv: list[str]) -> Any:
    assert argv[0] == "serve", argv
    return build_parser(["serve"]).parse_args(argv)


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def test_the_deployment_passes_flags_serve_accepts(rendered: list[dict[str, Any]]) -> None:
    deployment = one(rendered, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [main] = pod["containers"]
    config = one(rendered, "ConfigMap")["data"]
    env = {e["name"]: config[e["valueFrom"]["configMapKeyRef"]["key"]] for e in main["env"]}
    for e in main["env"]:
        assert (
            e["valueFrom"]["configMapKeyRef"]["name"]
            == one(rendered, "ConfigMap")["metadata"]["name"]
        )
    argv = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], a) for a in main["args"]]
    args = serve_args(argv)
    assert args.repo == "https://github.com/OWNER/mesh-config.git" and args.branch == "main"
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert port_of(args.xds_address) == ports["xds"]
    assert port_of(args.http_address) == ports["http"]
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert deployment["spec"]["replicas"] == 3
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts[str(args.state_dir)]]
    assert "emptyDir" in volumes[mounts["/tmp"]]
    # every secret file the server reads is copied there by the init container
    [init] = pod["initContainers"]
    copied = {Path(init["command"][-1]) / Path(f).name for f in init["command"][3:-1]}
    [(_mesh, cert, key)] = args.mesh_ca
    assert {cert, key, args.token_key, args.webhook_secret_file} == copied
    assert volumes[mounts[init["command"][-1].rstrip("/")]]["emptyDir"]["medium"] == "Memory"
    projected = volumes["secret-files"]["projected"]["sources"]
    provided = {
        f"/etc/reconciler/secrets/{i['path']}" for s in projected for i in s["secret"]["items"]
    }
    assert provided == set(init["command"][3:-1])


def test_pods_run_unprivileged_on_a_read_only_root(rendered: list[dict[str, Any]]) -> None:
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"] + pod["initContainers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f"USER {pod['securityContext']['runAsUser']}:" in dockerfile


def test_services_monitor_budget_and_policy_select_the_pods(rendered: list[dict[str, Any]]) -> None:
    deployment = one(rendered, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    [main] = deployment["spec"]["template"]["spec"]["containers"]
    port_names = {p["name"] for p in main["ports"]}

    def selects(selector: dict[str, str]) -> bool:
        return selector.items() <= labels.items()

    assert selects(deployment["spec"]["selector"]["matchLabels"])
    services = {s["metadata"]["name"]: s for s in rendered if s["kind"] == "Service"}
    assert sorted(services) == ["reconciler-http", "reconciler-xds"]
    for service in services.values():
        assert selects(service["spec"]["selector"])
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= port_names
    assert services["reconciler-xds"]["spec"]["ports"][0]["appProtocol"] == "grpc"
    monitor = one(rendered, "ServiceMonitor")["spec"]
    [http] = [
        s
        for s in services.values()
        if monitor["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    assert monitor["endpoints"][0]["port"] in {p["name"] for p in http["spec"]["ports"]}
    assert monitor["endpoints"][0]["path"] == "/metrics"
    assert selects(one(rendered, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"])
    policy = one(rendered, "NetworkPolicy")["spec"]
    assert selects(policy["podSelector"]["matchLabels"])
    allowed = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    assert allowed == port_names


def test_the_validation_rejects_unknown_fields_and_kinds(rendered: list[dict[str, Any]]) -> None:
    assert check_deploy.check_manifests(rendered) == []
    broken = copy.deepcopy(rendered)
    one(broken, "Deployment")["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    one(broken, "ServiceMonitor")["spec"]["endpoints"][0]["interval"] = "30 seconds"
    broken.append({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    problems = check_deploy.check_manifests(broken)
    assert any("'readinesProbe' was unexpected" in p for p in problems)
    assert any(
        p.startswith("ServiceMonitor/reconciler: spec/endpoints/0/interval") for p in problems
    )
    assert any(p.startswith("Widget/w: no schema") for p in problems)


def exec_start(unit: str) -> list[str]:
    text = unit.replace("\\\n", " ")
    [line] = [
        row for row in text.splitlines() if row.startswith("ExecStart=") and row != "ExecStart="
    ]
    return shlex.split(line.removeprefix("ExecStart="))


def systemd_expand(words: list[str], env: dict[str, str]) -> list[str]:
    """systemd's rules: ``${VAR}`` within a word keeps one word; a lone ``$VAR`` splits."""
    out: list[str] = []
    for word in words:
        if re.fullmatch(r"\$\w+", word):
            out += env[word[1:]].split()
        else:
            out.append(re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], word))
    return out


@pytest.mark.parametrize("unit", ["reconciler.service", "credentials.conf.example"])
def test_the_systemd_unit_passes_flags_serve_accepts(unit: str) -> None:
    env_file = (DEPLOY / "systemd" / "reconciler.env").read_text()
    env = dict(row.split("=", 1) for row in env_file.splitlines() if row and row[0] != "#")
    env |= {"STATE_DIRECTORY": "/var/lib/reconciler", "CREDENTIALS_DIRECTORY": "/run/credentials/x"}
    argv = systemd_expand(exec_start((DEPLOY / "systemd" / unit).read_text()), env)
    assert argv[0] == "/opt/reconciler/bin/reconciler"
    args = serve_args(argv[1:])
    assert str(args.state_dir) == "/var/lib/reconciler"
    assert args.interval == 30.0
    if unit.startswith("credentials"):
        assert args.token_key == Path("/run/credentials/x/token-signing.key")
        loaded = re.findall(
            r"^LoadCredential=([\w.-]+):", env_file + (DEPLOY / "systemd" / unit).read_text(), re.M
        )
        used = {p.name for p in (args.token_key, args.webhook_secret_file, *args.mesh_ca[0][1:])}
        assert used == set(loaded)


def test_the_image_healthcheck_and_state_dir_match_the_server() -> None:
    stages = check_install.parse((DEPLOY / "Dockerfile").read_text())
    runtime = stages[-1]
    env = {
        key: value
        for i in runtime.instructions
        if i.name == "ENV"
        for key, value in check_install.env_pairs(i.args).items()
    }
    assert env["XDG_STATE_HOME"] + "/reconciler" == "/var/lib/reconciler"
    [check] = [i for i in runtime.instructions if i.name == "HEALTHCHECK"]
    assert "http://127.0.0.1:5680/healthz" in check.args
    exposed = {i.args for i in runtime.instructions if i.name == "EXPOSE"}
    assert exposed == {"5678 5680"}
    assert [s.name for s in stages] == ["build", "stage-1"]
