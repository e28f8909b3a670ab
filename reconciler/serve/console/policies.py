"""The policies pages: which proxies each policy of the served revision selects (its
top-level ``targetRef``; ``kumactl inspect <policy>``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.model import DEFAULT_MESH, Kind, Resource
from reconciler.serve.console.markup import (
    fields,
    link,
    page,
    paged,
    pager,
    path,
    pre_json,
    search_form,
    short,
    table,
    tag,
)
from reconciler.serve.console.records import Build

NOT_POLICIES = (Kind.MESH, Kind.DATAPLANE)

PolicyKey = tuple[str, str, str]


def policies_of(build: Build) -> dict[PolicyKey, Resource | None]:
    """Every policy of the revision, and the initial defaults the compile applied (no file)."""
    found: dict[PolicyKey, Resource | None] = {
        (r.kind, r.mesh or DEFAULT_MESH, r.name): r
        for r in build.resources
        if r.kind not in NOT_POLICIES
    }
    if build.explain is not None:
        for key in build.explain.selecting():
            found.setdefault(key, None)
    return dict(sorted(found.items()))


def _where(resource: Resource | None) -> str:
    if resource is None:
        return "initial default policy"
    return f"{resource.file}:{resource.position.line}"


def policies_page(build: Build, query: str = "", page_number: int = 1) -> str:
    selecting = build.explain.selecting() if build.explain is not None else {}
    every = policies_of(build)
    needle = query.lower()
    matching = [(k, r) for k, r in every.items() if needle in " ".join(k).lower()]
    shown, number, pages = paged(matching, page_number)
    rows = [
        (
            link(path("policies", *key), key[2]),
            key[0],
            key[1],
            tag("code", _where(resource)),
            len(selecting.get(key, ())),
        )
        for key, resource in shown
    ]
    return page(
        "Policies",
        tag(
            "p",
            f"Revision {short(build.attempt.revision)}: {len(every)} policies",
            class_="muted",
        ),
        search_form(path("policies"), query, "kind, mesh or name contains"),
        pager(path("policies"), query, number, pages, len(matching)),
        table(("policy", "kind", "mesh", "where", "proxies selected"), rows, id="policies"),
    )


def policy_page(build: Build, key: PolicyKey, resource: Resource | None) -> str:
    selecting = build.explain.selecting() if build.explain is not None else {}
    nodes = selecting.get(key, ())
    spec: Mapping[str, Any] = resource.data.get("spec") or {} if resource is not None else {}
    body: list[object] = [
        fields(
            [
                ("kind", key[0]),
                ("mesh", key[1]),
                ("where", tag("code", _where(resource))),
                (
                    "revision",
                    link(path("revisions", build.attempt.revision), short(build.attempt.revision)),
                ),
            ],
        ),
    ]
    if "targetRef" in spec:
        body += [tag("h2", "targetRef"), pre_json(spec["targetRef"])]
    body.append(tag("h2", f"Proxies selected ({len(nodes)})"))
    if nodes:
        body.append(
            tag("ul", *(tag("li", link(path("proxies", n), n)) for n in nodes), id="selected")
        )
    else:
        body.append(tag("p", "This policy selects no proxy.", class_="muted", id="selected"))
    return page(f"{key[0]} {key[1]}/{key[2]}", *body)
