"""An incremental `validate` (warm cache, cross-resource rules re-run only where a change
reaches) reports exactly what a run without cache reports, change after change; and so does
the serving loop's analysis, revision after revision."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.cli.validate import ValidateOptions, validate
from reconciler.pipeline import analyze, read_paths
from reconciler.validate.cross import CrossState

MESH = "type: Mesh\nname: {name}\n"
MESH_MTLS = """\
type: Mesh
name: {name}
mtls:
  enabledBackend: ca-1
  backends:
    - name: ca-1
      type: builtin
"""
DATAPLANE = """\
type: Dataplane
name: {name}
mesh: {mesh}
labels:
  app: {app}
networking:
  address: 10.0.{n}.1
  inbound:
    - port: 8080
      tags:
        kuma.io/service: {service}
        version: {version}
  outbound:
    - port: 9000
      tags:
        kuma.io/service: {upstream}
"""
GATEWAY = """\
type: Dataplane
name: {name}
mesh: default
networking:
  address: 10.1.0.1
  gateway:
    type: BUILTIN
    tags:
      kuma.io/service: {service}
"""
TIMEOUT = """\
type: MeshTimeout
name: {name}
{mesh}spec:
  targetRef:
{target}
  to:
    - targetRef:
        kind: MeshService
        name: {upstream}
      default:
        connectionTimeout: 2s
"""
ROUTE = """\
type: MeshHTTPRoute
name: {name}
mesh: default
spec:
  targetRef:
    kind: Mesh
  to:
    - targetRef:
        kind: MeshService
        name: {upstream}
      rules:
        - matches:
            - path:
                type: PathPrefix
                value: /
          default:
            backendRefs:
              - kind: MeshService
                name: {backend}
"""
TARGETS = {
    "mesh": "    kind: Mesh",
    "web": "    kind: MeshService\n    name: web",
    "nope": "    kind: MeshService\n    name: nope",
    "dp-web-1": "    kind: Dataplane\n    name: web-1",
    "dp-ghost": "    kind: Dataplane\n    name: ghost-1",
    "labels": "    kind: Dataplane\n    labels:\n      app: web",
    "subset": "    kind: MeshSubset\n    tags:\n      version: v2",
    "gateway-only": "    kind: Mesh\n    proxyTypes: [Gateway]",
}


def dataplane(name: str, service: str, *, mesh: str = "default", n: int = 1, **kw: str) -> str:
    fields = {"app": service, "version": "v1", "upstream": "api", **kw}
    return DATAPLANE.format(name=name, mesh=mesh, service=service, n=n, **fields)


def timeout(name: str, target: str, *, upstream: str = "api", mesh: str | None = "default") -> str:
    line = f"mesh: {mesh}\n" if mesh is not None else ""
    return TIMEOUT.format(name=name, mesh=line, target=TARGETS[target], upstream=upstream)


def initial() -> dict[str, str]:
    return {
        "mesh.yaml": MESH.format(name="default"),
        "meshes/prod.yaml": MESH.format(name="prod"),
        "dp/web-1.yaml": dataplane("web-1", "web", n=1),
        "dp/web-2.yaml": dataplane("web-2", "web", n=2, version="v2", upstream="ghost-svc"),
        "dp/api-1.yaml": dataplane("api-1", "api", n=3, upstream="web"),
        "dp/db-1.yaml": dataplane("db-1", "db", mesh="prod", n=4, upstream="api"),
        "dp/gw-1.yaml": GATEWAY.format(name="gw-1", service="edge"),
        "p/mt-mesh.yaml": timeout("mt-mesh", "mesh"),
        "p/mt-missing.yaml": timeout("mt-missing", "nope", upstream="nope"),
        "p/mt-dp-name.yaml": timeout("mt-dp-name", "dp-web-1", upstream="edge"),
        "p/mt-labels.yaml": timeout("mt-labels", "labels"),
        "p/mt-subset.yaml": timeout("mt-subset", "subset"),
        "p/mt-prod.yaml": timeout("mt-prod", "mesh", mesh="prod", upstream="db"),
        "p/mt-ghost.yaml": timeout("mt-ghost", "mesh", mesh="ghost"),
        "p/mt-no-mesh.yaml": timeout("mt-no-mesh", "web", mesh=None),
        "p/multi.yaml": timeout("mt-x", "web") + "---\n" + timeout("mt-mesh", "subset"),
        "p/gw.yaml": timeout("mt-gw", "gateway-only"),
        "p/route.yaml": ROUTE.format(name="r", upstream="web", backend="api"),
    }


Change = Callable[[dict[str, str]], None]


def put(path: str, text: str) -> Change:
    def change(files: dict[str, str]) -> None:
        files[path] = text

    return change


def drop(path: str) -> Change:
    def change(files: dict[str, str]) -> None:
        files.pop(path, None)

    return change


def rename(old: str, new: str) -> Change:
    def change(files: dict[str, str]) -> None:
        if old in files:
            files[new] = files.pop(old)

    return change


def swap_documents(path: str) -> Change:
    def change(files: dict[str, str]) -> None:
        if path in files:
            files[path] = "---\n".join(reversed(files[path].split("---\n")))

    return change


SCRIPTED: list[tuple[str, Change]] = [
    ("edit a Dataplane's service", put("dp/web-1.yaml", dataplane("web-1", "web2", n=1))),
    ("remove the only provider of a service", drop("dp/api-1.yaml")),
    ("add it back at another path", put("dp/z/api-1.yaml", dataplane("api-1", "api", n=3))),
    ("rename the first of a duplicate pair", rename("p/mt-mesh.yaml", "p/zz-mt-mesh.yaml")),
    ("remove a Mesh", drop("meshes/prod.yaml")),
    ("add it back, with mTLS", put("meshes/prod.yaml", MESH_MTLS.format(name="prod"))),
    ("remove the default Mesh", drop("mesh.yaml")),
    ("add it back", put("mesh.yaml", MESH.format(name="default"))),
    ("define the undefined mesh", put("meshes/ghost.yaml", MESH.format(name="ghost"))),
    ("target a missing Dataplane", put("p/mt-dp-name.yaml", timeout("mt-dp-name", "dp-ghost"))),
    ("add that Dataplane", put("dp/ghost-1.yaml", dataplane("ghost-1", "ghost", n=9))),
    ("a duplicate Dataplane first", put("a/web-1.yaml", dataplane("web-1", "other", n=7))),
    (
        "duplicate in one file",
        put("p/two.yaml", timeout("t2", "mesh") + "---\n" + timeout("t2", "web")),
    ),
    ("swap documents", swap_documents("p/multi.yaml")),
    ("invalid YAML", put("dp/web-2.yaml", "type: Dataplane\nname: [web-2\n")),
    ("fix it", put("dp/web-2.yaml", dataplane("web-2", "web", n=2, version="v2"))),
    ("the subset's proxy changes", put("dp/web-2.yaml", dataplane("web-2", "web", n=2))),
    ("a gateway loses its service", put("dp/gw-1.yaml", GATEWAY.format(name="gw-1", service="x"))),
    ("remove a Dataplane's mesh", drop("meshes/ghost.yaml")),
    ("empty file", put("p/mt-labels.yaml", "")),
    (
        "a port collision",
        put(
            "dp/api-1b.yaml",
            dataplane("api-1b", "api", n=5)
            + "    - port: 9000\n      tags: {kuma.io/service: web}\n",
        ),
    ),
    ("no Dataplane left for web", drop("dp/web-1.yaml")),
]


def random_changes(seed: int, count: int) -> list[tuple[str, Change]]:
    rng = random.Random(seed)
    services = ["web", "api", "db", "edge", "nope", "web2"]
    meshes = ["default", "prod", "ghost"]
    out: list[tuple[str, Change]] = []
    for step in range(count):
        name = f"r{rng.randrange(6)}"
        folder = rng.choice(["dp", "p", "q"])
        path = f"{folder}/{name}.yaml"
        op = rng.randrange(6)
        if op == 0:
            text = dataplane(
                f"{name}-dp",
                rng.choice(services),
                mesh=rng.choice(meshes),
                n=step % 200,
                upstream=rng.choice(services),
                version=rng.choice(["v1", "v2"]),
            )
            out.append((f"{path}: a Dataplane", put(path, text)))
        elif op == 1:
            text = timeout(
                rng.choice(["mt-mesh", "mt-x", name]),
                rng.choice(sorted(TARGETS)),
                upstream=rng.choice(services),
                mesh=rng.choice([*meshes, None]),
            )
            out.append((f"{path}: a policy", put(path, text)))
        elif op == 2:
            out.append((f"{path}: removed", drop(path)))
        elif op == 3:
            other = f"{rng.choice(['dp', 'p', 'q'])}/{name}.yaml"
            out.append((f"{path} renamed {other}", rename(path, other)))
        elif op == 4:
            mesh_path = rng.choice(["mesh.yaml", "meshes/prod.yaml", "meshes/ghost.yaml"])
            mesh_name = {"mesh.yaml": "default"}.get(mesh_path, mesh_path[7:-5])
            if rng.random() < 0.5:
                out.append((f"{mesh_path} removed", drop(mesh_path)))
            else:
                out.append((f"{mesh_path} added", put(mesh_path, MESH.format(name=mesh_name))))
        else:
            service = rng.choice(services)
            text = GATEWAY.format(name=f"{name}-gw", service=service)
            out.append((f"{path}: a gateway", put(path, text)))
    return out


class Tree:
    """A directory whose files get distinct, increasing mtimes in the past (so a warm run
    trusts their stat rather than re-reading every recent file)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clock = time.time() - 100_000
        self.files: dict[str, str] = {}

    def apply(self, files: dict[str, str]) -> None:
        for path in self.files.keys() - files.keys():
            (self.root / path).unlink()
        for path, text in files.items():
            if self.files.get(path) == text:
                continue
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            self.clock += 1
            os.utime(target, (self.clock, self.clock))
        self.files = dict(files)


def _report(repo: Path, cache: Path | None, fmt: str) -> tuple[str, int]:
    return validate(ValidateOptions(paths=(str(repo),), format=fmt, cache_dir=cache))


@pytest.mark.parametrize("seed", [1, 2])
def test_warm_incremental_validate_equals_a_run_without_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    monkeypatch.chdir(tmp_path)
    repo, cache = Path("repo"), tmp_path / "cache"
    tree = Tree(tmp_path / "repo")
    files = initial()
    tree.apply(files)
    steps = [("initial", put("mesh.yaml", files["mesh.yaml"]))]
    steps += SCRIPTED if seed == 1 else []
    steps += random_changes(seed, 40)
    codes: set[str] = set()
    for label, change in steps:
        change(files)
        tree.apply(files)
        for fmt in ("json", "text"):
            warm = _report(repo, cache, fmt)
            cold = _report(repo, None, fmt)
            assert warm == cold, label
        codes.update(
            code
            for code in ("RC401", "RC402", "RC403", "RC404", "RC405", "RC406", "RC407")
            if code in cold[0]
        )
        again = _report(repo, cache, "json")  # nothing changed: the state answers
        assert again == _report(repo, None, "json"), label
    if seed == 1:  # the scripted changes reach every cross-resource finding
        assert codes == {"RC401", "RC402", "RC403", "RC404", "RC405", "RC406", "RC407"}


def test_serving_analysis_keeps_the_cross_resource_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``analyze`` with the previous revision's :class:`CrossState` (as the server runs it)
    gives what a fresh ``analyze`` gives, and a one-policy edit checks that file only."""
    monkeypatch.chdir(tmp_path)
    tree = Tree(tmp_path / "repo")
    files = initial()
    state = CrossState()
    for label, change in [("initial", drop("none")), *SCRIPTED, *random_changes(3, 30)]:
        change(files)
        tree.apply(files)
        read, _ = read_paths(["repo"])
        kept = analyze(read, cross=state)
        fresh = analyze(read)
        assert kept.diagnostics == fresh.diagnostics, label
    files["p/mt-subset.yaml"] = timeout("mt-subset", "subset", upstream="web")
    tree.apply(files)
    read, _ = read_paths(["repo"])
    assert analyze(read, cross=state).diagnostics == analyze(read).diagnostics
    assert state.checked == 1


def test_a_warm_run_builds_resources_only_where_a_rule_looks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One policy edited: that file is parsed, and of the unchanged files only the Dataplane
    its selection rule looks at is built from the cache (the other files are not read)."""
    from reconciler import pipeline

    monkeypatch.chdir(tmp_path)
    tree = Tree(tmp_path / "repo")
    files = {"mesh.yaml": MESH.format(name="default")}
    for n in range(20):
        files[f"dp/web-{n:02}.yaml"] = dataplane(f"web-{n:02}", "web", n=n)
        files[f"p/t-{n:02}.yaml"] = timeout(f"t-{n:02}", "mesh", upstream="web")
    tree.apply(files)
    cache = tmp_path / "cache"
    first = _report(Path("repo"), cache, "json")
    built: list[str] = []
    real = pipeline.cached_resources

    def spy(path: str, entry: object) -> object:
        built.append(path)
        return real(path, entry)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "cached_resources", spy)
    files["p/t-07.yaml"] = timeout("t-07", "web", upstream="web")
    tree.apply(files)
    assert _report(Path("repo"), cache, "json") == _report(Path("repo"), None, "json")
    assert built == ["repo/dp/web-00.yaml"]
    assert first[1] == 0
