"""The proxies pages: every proxy's xDS state, and one proxy's effective configuration
with provenance (``reconciler inspect``) beside what it is served (``/config``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.serve.console.markup import (
    Html,
    esc,
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
from reconciler.serve.console.revisions import when


def _version(value: str | None) -> str:
    return value[:10] if value else "-"


def _versions_cell(versions: Mapping[str, Mapping[str, Any]]) -> Html:
    lines = []
    for type_short, v in versions.items():
        state = "ok" if v.get("acked") and v.get("acked") == v.get("sent") else "warn"
        if v.get("nacked") and v.get("nacked") == v.get("sent"):
            state = "bad"
        lines.append(
            tag(
                "div",
                tag("strong", type_short),
                f" sent {_version(v.get('sent'))} acked {_version(v.get('acked'))}",
                f" nacked {_version(v.get('nacked'))}" if v.get("nacked") else "",
                class_=state,
            )
        )
    return Html("".join(lines)) if lines else esc("-")


def _problems_cell(proxy: Mapping[str, Any]) -> Html:
    parts: list[object] = []
    nack = proxy.get("lastNack")
    if nack:
        parts.append(
            tag(
                "div",
                f"NACK {nack['type']} {_version(nack.get('version'))}: ",
                _last_line(nack.get("message", "")),
                class_="bad",
            )
        )
    auth = proxy.get("authError")
    if auth:
        parts.append(
            tag(
                "div",
                f"stream refused ({auth.get('problem')}): {auth.get('message')}",
                class_="bad",
            )
        )
    if proxy.get("error"):
        parts.append(tag("div", proxy["error"], class_="warn"))
    return Html("".join(esc(p) for p in parts))


def _last_line(message: str) -> str:
    lines = message.strip().splitlines()
    return lines[-1] if lines else ""


def proxies_page(
    proxies: Sequence[Mapping[str, Any]], query: str = "", page_number: int = 1
) -> str:
    connected = sum(1 for p in proxies if p.get("connected"))
    nacking = sum(1 for p in proxies if p.get("lastNack"))
    refused = sum(1 for p in proxies if p.get("authError"))
    matching = [p for p in proxies if query.lower() in p["id"].lower()]
    shown, number, pages = paged(matching, page_number)
    rows = [
        (
            link(path("proxies", p["id"]), p["id"]),
            tag("span", "connected", class_="ok")
            if p.get("connected")
            else tag("span", "not connected", class_="muted"),
            p.get("protocol") or "-",
            _versions_cell(p.get("versions") or {}),
            _problems_cell(p),
        )
        for p in shown
    ]
    return page(
        "Proxies",
        tag(
            "p",
            f"{len(proxies)} proxies, {connected} connected, {nacking} with a NACK, "
            f"{refused} with a refused stream",
            id="counts",
        ),
        search_form(path("proxies"), query, "node id contains"),
        pager(path("proxies"), query, number, pages, len(matching)),
        table(
            ("proxy", "connection", "protocol", "versions (per type)", "problems"),
            rows,
            id="proxies",
        ),
    )


def _status_block(entry: Mapping[str, Any] | None) -> list[object]:
    if entry is None:
        return [tag("p", "This proxy never connected.", class_="muted")]
    served = entry.get("served") or {}
    versions = entry.get("versions") or {}
    rows = []
    for type_short in [*versions, *(t for t in served if t not in versions)]:
        v = versions.get(type_short) or {}
        current = (served.get(type_short) or {}).get("version")
        rows.append(
            (
                type_short,
                _version(v.get("sent")),
                _version(v.get("acked")),
                _version(v.get("nacked")),
                _version(current),
                short((served.get(type_short) or {}).get("commit")),
            )
        )
    out: list[object] = [
        fields(
            [
                (
                    "connection",
                    f"connected ({entry.get('streams')} stream(s)) from {entry.get('peer') or '?'}"
                    if entry.get("connected")
                    else "not connected",
                ),
                ("protocol", entry.get("protocol") or "-"),
            ],
        ),
        table(
            ("type", "sent", "acked", "nacked", "served now", "introduced by"), rows, id="versions"
        ),
    ]
    nack = entry.get("lastNack")
    if nack:
        out += [
            tag(
                "h3",
                f"Last NACK: {nack['type']} version {nack.get('version')} at {when(nack.get('time'))}",
                class_="bad",
            ),
            tag("pre", nack.get("message", ""), id="nack"),
        ]
    auth = entry.get("authError")
    if auth:
        out.append(
            tag(
                "p",
                f"Last refused stream ({auth.get('code')}, {auth.get('problem')}) at "
                f"{when(auth.get('time'))}: {auth.get('message')}",
                class_="bad",
            )
        )
    if entry.get("error"):
        out.append(tag("p", entry["error"], class_="warn"))
    return out


def _refs(refs: Sequence[Mapping[str, Any]], mesh: str, kind: str | None = None) -> Html:
    if not refs:
        return esc("none")
    items = []
    for r in refs:
        target = path("policies", kind or r["kind"], mesh, r["name"])
        items.append(Html(link(target, r["name"]) + esc(f" ({r['at']})")))
    return Html(esc(", ").join(items))


def _merged(blocks: Sequence[Mapping[str, Any]], mesh: str) -> Html:
    out = []
    for block in blocks:
        rows = [
            (
                tag("code", v["field"]),
                tag("code", json.dumps(v["value"], sort_keys=True)),
                Html(
                    tag("br").join(
                        esc(f"{o['policy']} {o['field']} at {o['at']}") for o in v["from"]
                    )
                ),
            )
            for v in block["values"]
        ]
        out.append(
            tag(
                "div",
                tag(
                    "p",
                    tag("strong", block["kind"]),
                    ": merged in order: ",
                    _refs(block["policies"], mesh, block["kind"]),
                ),
                table(("field", "value", "set by"), rows) if rows else "",
            )
        )
    return Html("".join(out))


def provenance_block(data: Mapping[str, Any], mesh: str) -> list[object]:
    out: list[object] = [
        tag("p", "Dataplane at ", tag("code", data["dataplane"]["at"])),
        tag("h3", "Policies selecting this proxy (merge order, least specific first)"),
        table(
            ("kind", "policies"),
            [(kind, _refs(refs, mesh, kind)) for kind, refs in data["selected"].items()],
            id="selected",
        ),
    ]
    for ib in data["inbounds"]:
        out += [
            tag(
                "h3",
                f"inbound {ib['listener']} ({ib['service']}, {ib['protocol']}) -> {ib['cluster']}",
            ),
            _merged(ib["policies"], mesh),
        ]
    for ob in data["outbounds"]:
        out += [
            tag("h3", f"outbound {ob['listener']} -> {ob['service']} ({ob['protocol']})"),
            _merged(ob["policies"], mesh),
        ]
        if "tcpRoute" in ob:
            out.append(_merged([ob["tcpRoute"]], mesh))
        for route in ob["routes"]:
            out.append(
                tag(
                    "h4",
                    f"route {route['name']} match {json.dumps(route['match'], sort_keys=True)}",
                )
            )
            if isinstance(route["rule"], str):
                out.append(tag("p", route["rule"], class_="muted"))
            else:
                out.append(_merged([route["rule"]], mesh))
        for cluster in ob["clusters"]:
            out += [tag("h4", f"cluster {cluster['name']}"), _merged(cluster["policies"], mesh)]
    if data["skipped"]:
        out += [tag("h3", "Not applied"), tag("ul", *(tag("li", s) for s in data["skipped"]))]
    return out


def proxy_page(
    node: str,
    entry: Mapping[str, Any] | None,
    provenance: Mapping[str, Any] | None,
    served: Mapping[str, Any] | None,
    revision: str | None,
) -> str:
    mesh = node.split(".", 1)[0]
    body: list[object] = [tag("h2", "xDS state"), *_status_block(entry)]
    body.append(tag("h2", "Effective configuration and where each value comes from"))
    if provenance is not None:
        body += [
            tag(
                "p",
                "Revision ",
                link(path("revisions", revision or ""), short(revision)),
                class_="muted",
            ),
            *provenance_block(provenance, mesh),
        ]
    else:
        body.append(
            tag(
                "p",
                "The served revision has no compiled configuration for this proxy.",
                class_="muted",
            )
        )
    body.append(tag("h2", "Served configuration"))
    if served is not None:
        body += [
            tag(
                "p",
                "As ",
                link("/config/" + path(node).rsplit("/", 1)[1], f"/config/{node}"),
                " serves it (private keys redacted).",
                class_="muted",
            ),
            pre_json(served),
        ]
    else:
        body.append(tag("p", "Nothing is served to this proxy.", class_="muted"))
    return page(f"Proxy {node}", *body)
