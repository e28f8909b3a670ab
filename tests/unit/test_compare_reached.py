"""Compiling only the proxies a change reaches (the GitHub Action's comparison) reports what
compiling both revisions in full reports.

Many one-file and multi-file changes (every policy kind retargeted, edited, added, removed;
Dataplanes moved between services, re-addressed, added, removed; the Mesh; a MeshService;
the last MeshFaultInjection removed) are applied to a generated mesh and to the sample
repository. For each, ``compare(..., reached_only=True)`` must give:

* the per-proxy diff of two full compiles (every proxy created, configured, deleted or
  unchanged alike), and the same rendered change set as the default comparison;
* the same diagnostics as the default comparison, except RC5xx compile diagnostics, which
  are those of the compiled proxies: none a full compile would not give, and every one a
  full compile gives on the new revision and not on the old one (a new problem);
* the same exit code under every ``fail-on`` when no proxy left out has a compile problem.

And every proxy it leaves out compiles, in full, to the same configuration and the same
compile problems on both sides.
"""

from __future__ import annotations

import copy
import importlib.util
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.cache import FileCache
from reconciler.comparison import Comparison, compare
from reconciler.compile.compiler import Compiler, CompileResult
from reconciler.diagnostics import Diagnostic, fails
from reconciler.diff import diff_proxies
from reconciler.load import SourceFile
from reconciler.pipeline import Side, analyze, compilable
from reconciler.report import diff_json, diff_text

ROOT = Path(__file__).resolve().parents[2]
Files = dict[str, list[dict[str, Any]]]
"""path -> YAML documents."""
Change = Callable[[Files], None]


_FULL: dict[tuple[SourceFile, ...], CompileResult] = {}
"""Full compiles of the unedited revisions (the base of every case), kept for the module."""


def _full_compile(files: tuple[SourceFile, ...], cache: Path) -> CompileResult:
    found = _FULL.get(files)
    if found is None:
        found = Compiler().compile(compilable(analyze(files, cache=FileCache(cache))))
    return found


def _base(files: Files, cache: Path) -> Files:
    """``files``, its full compile kept for the cases that start from it."""
    sources = _sources(files)
    _FULL[sources] = _full_compile(sources, cache)
    return files


def _generated(tmp: Path) -> Files:
    spec = importlib.util.spec_from_file_location("generate_mesh", ROOT / "bench/generate_mesh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(tmp, dataplanes=40, services=10, policies=88, seed=3)
    return _read(tmp)


def _read(root: Path) -> Files:
    return {
        p.relative_to(root).as_posix(): [d for d in yaml.safe_load_all(p.read_text()) if d]
        for p in sorted(root.rglob("*.yaml"))
    }


def _sources(files: Files) -> tuple[SourceFile, ...]:
    return tuple(
        SourceFile(path, yaml.safe_dump_all(docs, sort_keys=False).encode())
        for path, docs in sorted(files.items())
    )


def _docs(files: Files, kind: str | None = None) -> Iterator[tuple[str, int, dict[str, Any]]]:
    for path, docs in sorted(files.items()):
        for i, doc in enumerate(docs):
            if kind is None or doc.get("type") == kind:
                yield path, i, doc


# --- changes -------------------------------------------------------------------------------


def bump(value: Any) -> bool:
    """Change the first number (or duration) found in ``value``, in place."""
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, bool):
                continue
            if isinstance(item, int):
                value[key] = item + 1
                return True
            if isinstance(item, str) and item[:-1].isdigit() and item[-1] in "smh":
                value[key] = f"{int(item[:-1]) + 1}{item[-1]}"
                return True
            if bump(item):
                return True
    elif isinstance(value, list):
        return any(bump(item) for item in value)
    return False


def nth(kind: str, n: int, how: Callable[[Files, str, int, dict[str, Any]], None]) -> Change:
    def apply(files: Files) -> None:
        found = list(_docs(files, kind))
        path, i, doc = found[n % len(found)]
        how(files, path, i, doc)

    return apply


def retext(value: Any) -> bool:
    """Change the first free-text value (a path, a format) found in ``value``, in place."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("targetRef", "kind", "type", "name", "mode"):
                continue
            if isinstance(item, str) and item.startswith("/"):
                value[key] = item + ".2"
                return True
            if key == "action" and isinstance(item, str):
                value[key] = "Deny" if item != "Deny" else "Allow"
                return True
            if retext(item):
                return True
    elif isinstance(value, list):
        return any(retext(item) for item in value)
    return False


def edit_value(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
    part = doc.get("spec") or doc.get("networking")
    assert bump(part) or retext(part), (path, doc)


def to_mesh(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
    doc["spec"]["targetRef"] = {"kind": "Mesh"}


def to_service(service: str) -> Callable[[Files, str, int, dict[str, Any]], None]:
    def apply(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
        doc["spec"]["targetRef"] = {"kind": "MeshService", "name": service}

    return apply


def other_to(service: str) -> Callable[[Files, str, int, dict[str, Any]], None]:
    def apply(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
        for entry in doc["spec"].get("to") or doc["spec"].get("from") or ():
            if entry["targetRef"].get("kind") in ("MeshService", "MeshServiceSubset"):
                entry["targetRef"]["name"] = service
                return
        doc["spec"]["targetRef"] = {"kind": "MeshService", "name": service}

    return apply


def remove(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
    del files[path][i]
    if not files[path]:
        del files[path]


def duplicate(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
    twin = copy.deepcopy(doc)
    twin["name"] = f"{doc['name']}-twin"
    if twin["type"] == "Dataplane":
        net = twin["networking"]
        net["address"] = "127.9.9.9"
        net.setdefault("admin", {})["port"] = 49999
        for n, inbound in enumerate(net.get("inbound") or ()):
            inbound["port"] = 29990 + n
            inbound["servicePort"] = 39990 + n
        for n, outbound in enumerate(net.get("outbound") or ()):
            outbound["port"] = 19990 + n
    files[f"{path}.twin.yaml"] = [twin]


def inbound_tag(key: str, value: str) -> Callable[[Files, str, int, dict[str, Any]], None]:
    def apply(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
        doc["networking"]["inbound"][0]["tags"][key] = value

    return apply


def outbound_service(service: str) -> Callable[[Files, str, int, dict[str, Any]], None]:
    def apply(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
        outbound = doc["networking"]["outbound"][0]
        outbound["tags"] = {"kuma.io/service": service}

    return apply


def readdress(files: Files, path: str, i: int, doc: dict[str, Any]) -> None:
    doc["networking"]["address"] = "127.8.8.8"


def remove_all(kind: str) -> Change:
    def apply(files: Files) -> None:
        for path, i, _ in reversed(list(_docs(files, kind))):
            del files[path][i]
            if not files[path]:
                del files[path]

    return apply


def add_file(path: str, document: dict[str, Any]) -> Change:
    return lambda files: files.__setitem__(path, [copy.deepcopy(document)])


def both(*changes: Change) -> Change:
    def apply(files: Files) -> None:
        for change in changes:
            change(files)

    return apply


POLICY_KINDS = (
    "MeshTrafficPermission",
    "MeshHTTPRoute",
    "MeshTCPRoute",
    "MeshTimeout",
    "MeshRetry",
    "MeshCircuitBreaker",
    "MeshHealthCheck",
    "MeshLoadBalancingStrategy",
    "MeshFaultInjection",
    "MeshRateLimit",
    "MeshAccessLog",
)

MESH_SERVICE = {
    "type": "MeshService",
    "name": "svc-001",
    "mesh": "default",
    "spec": {
        "selector": {"dataplaneTags": {"kuma.io/service": "svc-001"}},
        "ports": [{"port": 10001, "targetPort": 20001, "appProtocol": "http"}],
    },
}


def generated_changes() -> dict[str, Change]:
    out: dict[str, Change] = {}
    for kind in POLICY_KINDS:
        out[f"{kind} value"] = nth(kind, 0, edit_value)
        out[f"{kind} to another service"] = nth(kind, 3, other_to("svc-004"))
        out[f"{kind} targets the Mesh"] = nth(kind, 1, to_mesh)
        out[f"{kind} targets a service"] = nth(kind, 2, to_service("svc-002"))
        out[f"{kind} removed"] = nth(kind, 4, remove)
        out[f"{kind} added"] = nth(kind, 5, duplicate)
    out.update(
        {
            "Dataplane value": nth("Dataplane", 0, edit_value),
            "Dataplane protocol": nth("Dataplane", 1, inbound_tag("kuma.io/protocol", "tcp")),
            "Dataplane to another service": nth(
                "Dataplane", 2, inbound_tag("kuma.io/service", "svc-005")
            ),
            "Dataplane to a new service": nth(
                "Dataplane", 3, inbound_tag("kuma.io/service", "svc-new")
            ),
            "Dataplane tag": nth("Dataplane", 4, inbound_tag("version", "v9")),
            "Dataplane outbound": nth("Dataplane", 5, outbound_service("svc-009")),
            "Dataplane address": nth("Dataplane", 6, readdress),
            "Dataplane removed": nth("Dataplane", 7, remove),
            "Dataplane added": nth("Dataplane", 8, duplicate),
            "Mesh": nth(
                "Mesh", 0, lambda f, p, i, d: d["mtls"]["backends"][0].update(mode="PERMISSIVE")
            ),
            "MeshService added": add_file("services/svc-001.yaml", MESH_SERVICE),
            "every MeshFaultInjection removed": remove_all("MeshFaultInjection"),
            "policy without a mesh field added": add_file(
                "policies/no-mesh.yaml",
                {
                    "type": "MeshTimeout",
                    "name": "no-mesh",
                    "spec": {
                        "targetRef": {"kind": "Mesh"},
                        "to": [
                            {
                                "targetRef": {"kind": "MeshService", "name": "svc-002"},
                                "default": {"connectionTimeout": "4s"},
                            }
                        ],
                    },
                },
            ),
            "every MeshHTTPRoute removed": remove_all("MeshHTTPRoute"),
        }
    )
    rng = random.Random(7)
    singles = sorted(out)
    for n in range(12):
        picked = rng.sample(singles, 3)
        out[f"together {n}: " + " + ".join(picked)] = both(*(out[p] for p in picked))
    return out


def sample_changes() -> dict[str, Change]:
    """Every document of the sample repository edited, removed, or retargeted in turn."""
    docs = list(_docs(_read(ROOT / "sample-repo")))
    out: dict[str, Change] = {}
    for path, i, doc in docs:
        kind, name = doc["type"], doc["name"]

        def pick(files: Files, path: str = path, i: int = i) -> tuple[str, int, dict[str, Any]]:
            return path, i, files[path][i]

        out[f"{path} {kind} {name} removed"] = lambda f, pick=pick: remove(f, *pick(f))
        if bump(copy.deepcopy(doc.get("spec") or doc.get("networking"))):
            out[f"{path} {kind} {name} value"] = lambda f, pick=pick: edit_value(f, *pick(f))
        if kind.startswith("Mesh") and "targetRef" in (doc.get("spec") or {}):
            out[f"{path} {kind} {name} targets the Mesh"] = lambda f, pick=pick: to_mesh(
                f, *pick(f)
            )
    return out


# --- the check -------------------------------------------------------------------------------


def _compile_problems(result: CompileResult, node: str) -> list[tuple[object, ...]]:
    trace = result.traces.get(node)
    if trace is None:
        return [("not compiled",)]
    return [(s.resource.key, s.path, s.message, s.code) for s in trace.skipped]


def _key(diag: Diagnostic) -> tuple[object, ...]:
    return (diag.code, diag.severity, diag.resource, diag.field, diag.file, diag.line)


def _compile_diag(diag: Diagnostic) -> bool:
    return diag.code.startswith("RC5")


def check(before: Files, after: Files, cache: Path) -> Comparison:
    old_files, new_files = _sources(before), _sources(after)
    reached = compare(
        Side("base", old_files), Side("head", new_files), cache_dir=cache, reached_only=True
    )
    default = compare(Side("base", old_files), Side("head", new_files), cache_dir=cache)
    assert reached.scope is not None and default.scope is None

    full_old = _full_compile(old_files, cache)
    full_new = _full_compile(new_files, cache)
    proxy_changes, unchanged = diff_proxies(full_old.configs, full_new.configs)
    expected = default.changes
    if not any(d.code == "RC501" for d in full_new.diagnostics):
        # the full path's change set, from two full compiles (no incremental compile)
        expected = replace(
            expected, proxies=tuple(proxy_changes), unchanged_proxies=tuple(unchanged)
        )
    assert reached.changes == expected
    assert diff_json.as_json(reached.changes, ()) == diff_json.as_json(expected, ())
    assert diff_text.as_text(reached.changes) == diff_text.as_text(expected)

    # the proxies left out compile the same on both sides, problems included
    left_out = (set(full_old.configs) & set(full_new.configs)) - reached.scope.compiled
    for node in sorted(left_out):
        assert full_old.configs[node].resources == full_new.configs[node].resources, node
        assert full_old.configs[node].notes == full_new.configs[node].notes, node
        assert _compile_problems(full_old, node) == _compile_problems(full_new, node), node

    # RC5xx: only true ones, and every new one
    shown = {_key(d) for d in reached.diagnostics if _compile_diag(d)}
    full_new_keys = {_key(d) for d in full_new.diagnostics}
    full_old_keys = {_key(d) for d in full_old.diagnostics}
    assert shown <= full_new_keys
    assert full_new_keys - full_old_keys <= shown
    others = [d for d in reached.diagnostics if not _compile_diag(d)]
    assert others == [d for d in default.diagnostics if not _compile_diag(d)]
    if full_new_keys <= shown:  # no compile problem on a proxy left out
        for level in ("error", "warning", "info", "never"):
            assert fails(reached.diagnostics, level) == fails(default.diagnostics, level)
    return reached


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return _base(
        _generated(tmp_path_factory.mktemp("mesh")), tmp_path_factory.getbasetemp() / "cache"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(generated_changes()))
def test_generated_mesh(
    name: str, generated: Files, tmp_path_factory: pytest.TempPathFactory
) -> None:
    after = copy.deepcopy(generated)
    generated_changes()[name](after)
    check(generated, after, tmp_path_factory.getbasetemp() / "cache")


@pytest.mark.parametrize("name", sorted(sample_changes()))
def test_sample_repository(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    before = _base(_read(ROOT / "sample-repo"), tmp_path_factory.getbasetemp() / "cache")
    after = copy.deepcopy(before)
    sample_changes()[name](after)
    check(before, after, tmp_path_factory.getbasetemp() / "cache")


NARROW = (
    "MeshRetry value",
    "MeshTimeout to another service",
    "Dataplane tag",
    "MeshHealthCheck removed",
)


@pytest.mark.parametrize("name", NARROW)
def test_reach_is_narrow(
    name: str, generated: Files, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A change scoped to a few services compiles a few proxies, not the mesh."""
    after = copy.deepcopy(generated)
    generated_changes()[name](after)
    reached = check(generated, after, tmp_path_factory.getbasetemp() / "cache")
    assert reached.scope is not None
    assert 0 < len(reached.scope.compiled) < reached.scope.proxies // 2


def _policy(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": kind, "name": name, "mesh": "default", "spec": spec}


SPLIT = _policy(
    "MeshHTTPRoute",
    "split-to-another-service",
    {
        "targetRef": {"kind": "Mesh"},
        "to": [
            {
                "targetRef": {"kind": "MeshService", "name": "svc-001"},
                "rules": [
                    {
                        "matches": [{"path": {"type": "PathPrefix", "value": "/moved"}}],
                        "default": {"backendRefs": [{"kind": "MeshService", "name": "svc-006"}]},
                    }
                ],
            }
        ],
    },
)
TCP_SPLIT = _policy(
    "MeshTCPRoute",
    "tcp-to-another-service",
    {
        "targetRef": {"kind": "Mesh"},
        "to": [
            {
                "targetRef": {"kind": "MeshService", "name": "svc-004"},
                "rules": [
                    {"default": {"backendRefs": [{"kind": "MeshService", "name": "svc-009"}]}}
                ],
            }
        ],
    },
)


def of_service(service: str, how: Callable[[Files, str, int, dict[str, Any]], None]) -> Change:
    """``how`` applied to the first Dataplane of ``service``."""

    def apply(files: Files) -> None:
        for path, i, doc in _docs(files, "Dataplane"):
            if doc["networking"]["inbound"][0]["tags"]["kuma.io/service"] == service:
                how(files, path, i, doc)
                return
        raise AssertionError(f"no Dataplane of {service}")

    return apply


def _callers(files: Files, service: str) -> set[str]:
    return {
        f"default.{doc['name']}"
        for _, _, doc in _docs(files, "Dataplane")
        if any(
            (o.get("tags") or {}).get("kuma.io/service") == service
            for o in doc["networking"].get("outbound") or ()
        )
    }


ROUTED = {
    # a Dataplane of a service reached only as another service's route backend
    "backend's Dataplane readdressed": of_service("svc-006", readdress),
    "backend's Dataplane removed": of_service("svc-006", remove),
    "TCP backend's Dataplane readdressed": of_service("svc-009", readdress),
    # a policy towards the backend only
    "timeout towards the backend": add_file(
        "policies/backend-timeout.yaml",
        _policy(
            "MeshTimeout",
            "backend-timeout",
            {
                "targetRef": {"kind": "Mesh"},
                "to": [
                    {
                        "targetRef": {"kind": "MeshService", "name": "svc-006"},
                        "default": {"connectionTimeout": "3s"},
                    }
                ],
            },
        ),
    ),
    "circuit breaker towards the TCP backend": add_file(
        "policies/backend-breaker.yaml",
        _policy(
            "MeshCircuitBreaker",
            "backend-breaker",
            {
                "targetRef": {"kind": "Mesh"},
                "to": [
                    {
                        "targetRef": {"kind": "MeshService", "name": "svc-009"},
                        "default": {"connectionLimits": {"maxConnections": 7}},
                    }
                ],
            },
        ),
    ),
    "route moved to another backend": lambda files: files["policies/split.yaml"][0]["spec"]["to"][
        0
    ]["rules"][0]["default"]["backendRefs"][0].update(name="svc-007"),
}


@pytest.mark.parametrize("name", sorted(ROUTED))
def test_route_backends(
    name: str, generated: Files, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Callers reach a service through another service's routes: its Dataplanes and the
    policies towards it reach them too."""
    before = copy.deepcopy(generated)
    before["policies/split.yaml"] = [copy.deepcopy(SPLIT)]
    before["policies/tcp-split.yaml"] = [copy.deepcopy(TCP_SPLIT)]
    after = copy.deepcopy(before)
    ROUTED[name](after)
    reached = check(before, after, tmp_path_factory.getbasetemp() / "cache")
    backend = "svc-009" if "TCP" in name else "svc-006"
    routed = _callers(before, "svc-004" if "TCP" in name else "svc-001")
    changed = {c.node_id for c in reached.changes.proxies}
    # the case changes a proxy that sends to the backend through the route only
    assert changed & (routed - _callers(before, backend)), changed


GENERATED_SERVICES = {
    "Dataplane to a new service": of_service("svc-003", inbound_tag("kuma.io/service", "svc-new")),
    "Dataplane port": of_service("svc-002", edit_value),
    "Dataplane removed": of_service("svc-005", remove),
    "Dataplane added": nth("Dataplane", 8, duplicate),
    "Dataplane outbound": nth("Dataplane", 5, outbound_service("svc-009")),
}


@pytest.mark.parametrize("name", sorted(GENERATED_SERVICES))
def test_mesh_services_generated(
    name: str, generated: Files, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With ``meshServices.mode`` on, Dataplanes also make the mesh's MeshServices."""
    before = copy.deepcopy(generated)
    before["mesh.yaml"][0]["meshServices"] = {"mode": "Everywhere"}
    after = copy.deepcopy(before)
    GENERATED_SERVICES[name](after)
    check(before, after, tmp_path_factory.getbasetemp() / "cache")


CHECKOUT = {
    "type": "MeshService",
    "name": "checkout",
    "mesh": "default",
    "spec": {
        "selector": {"dataplaneTags": {"kuma.io/service": "svc-001"}},
        "ports": [{"name": "main", "port": 10001, "targetPort": "main", "appProtocol": "http"}],
    },
}


def _with_checkout(files: Files) -> None:
    """A MeshService named apart from its Dataplanes' service, and a caller through it."""
    files["services/checkout.yaml"] = [copy.deepcopy(CHECKOUT)]
    for _, _, doc in _docs(files, "Dataplane"):
        if doc["name"] == "svc-002-0":  # not a caller of svc-001 otherwise
            doc["networking"]["outbound"].append(
                {
                    "port": 19001,
                    "address": doc["networking"]["address"],
                    "backendRef": {"kind": "MeshService", "name": "checkout", "port": 10001},
                }
            )


@pytest.mark.parametrize("how", ["readdressed", "removed"])
def test_backend_ref_to_a_mesh_service_named_apart(
    how: str, generated: Files, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A Dataplane reaches the callers of the MeshService ports whose endpoints it is, even
    when the MeshService's name is not its service's."""
    before = copy.deepcopy(generated)
    _with_checkout(before)
    after = copy.deepcopy(before)
    of_service("svc-001", readdress if how == "readdressed" else remove)(after)
    reached = check(before, after, tmp_path_factory.getbasetemp() / "cache")
    assert "default.svc-002-0" in {c.node_id for c in reached.changes.proxies}
