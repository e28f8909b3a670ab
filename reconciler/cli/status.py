"""``reconciler status [--server URL ...]``: what a running server serves, as a table.

With several ``--server`` (the replicas of one fleet), their answers are merged: each proxy
once, with the replica it is connected to.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from reconciler.cli.exit_codes import Exit
from reconciler.serve.client import DEFAULT_SERVER, fetch_fleet_status, fetch_status

_TYPES = ("CDS", "EDS", "LDS", "RDS", "SDS")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="URL",
        help=f"the server's HTTP address (default: {DEFAULT_SERVER}); repeat it for each "
        "replica to see them merged",
    )
    parser.add_argument("--json", action="store_true", help="print the raw /status JSON")
    parser.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 even when the server reports a problem (for scripts that only print)",
    )


def run(args: argparse.Namespace) -> int:
    if len(args.server) > 1:
        return _run_fleet(args.server, as_json=args.json, exit_zero=args.exit_zero)
    status = fetch_status(args.server[0] if args.server else DEFAULT_SERVER)
    if args.json:
        sys.stdout.write(json.dumps(status, indent=2) + "\n")
    else:
        sys.stdout.write(render(status))
    failing = bool(status.get("lastError")) or any(_problem(p) for p in status.get("proxies", []))
    return Exit.FINDINGS if failing and not args.exit_zero else Exit.OK


def _run_fleet(servers: list[str], *, as_json: bool, exit_zero: bool) -> int:
    merged = fetch_fleet_status(servers)
    sys.stdout.write(json.dumps(merged, indent=2) + "\n" if as_json else render_fleet(merged))
    problems = any(s["error"] or s.get("lastError") for s in merged["servers"]) or any(
        _problem(p) for p in merged.get("proxies", [])
    )
    failing = problems or not merged["revisionsAgree"]
    return Exit.FINDINGS if failing and not exit_zero else Exit.OK


def render_fleet(merged: dict[str, Any]) -> str:
    """Several replicas: one line per replica, then each proxy once, with where it is."""
    lines = []
    for server in merged["servers"]:
        if server["error"]:
            lines.append(f"{server['server']}  unreachable: {server['error']}")
            continue
        state = f"  {_holding(server)}" if not server.get("following", True) else ""
        error = server.get("lastError")
        lines.append(
            f"{server['server']}  applied {_short(server.get('lastAppliedRevision'))}"
            f"  attempted {_short(server.get('lastAttemptedRevision'))}{state}"
            + (f"  error [{error.get('code', '')}]" if error else "")
        )
    if not merged["revisionsAgree"]:
        lines.append("the replicas serve different revisions")
    lines.append("")
    rows = [["PROXY", "SERVER", "PROTO", *_TYPES, "PROBLEM"]]
    for proxy in merged["proxies"]:
        versions = proxy.get("versions", {})
        rows.append(
            [
                proxy["id"],
                proxy.get("server") or "-",
                proxy.get("protocol") or "-",
                *(_cell(versions.get(t)) for t in _TYPES),
                _problem(proxy),
            ]
        )
    lines.extend(_table(rows))
    lines.append("")
    lines.append("SERVER: the replica the proxy is connected to ('-': none)")
    lines.append("versions: acked version (short); '*' pending ACK; '!' NACKed")
    return "\n".join(lines) + "\n"


def _holding(status: dict[str, Any]) -> str:
    """Why a server does not follow its branch: a local pin or the fleet control."""
    pinned = status.get("pinned")
    if pinned:
        return f"pinned {_short(pinned.get('sha'))} (local)"
    control = status.get("control") or {}
    if control.get("mode") in ("paused", "pinned"):
        return f"{control['mode']} {_short(control.get('revision'))} by {control.get('by')}"
    return "not following"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def render(status: dict[str, Any]) -> str:
    lines = [
        f"revision  applied {_short(status.get('lastAppliedRevision'))}"
        f"  attempted {_short(status.get('lastAttemptedRevision'))}",
    ]
    source = status.get("source") or {}
    if source:
        stale = "  STALE" if source.get("stale") else ""
        when = source.get("lastSuccessTime")
        ago = f"  fetched {time.time() - when:.0f}s ago" if when else ""
        lines.append(
            f"source    {source.get('url')}{' @ ' + source['branch'] if source.get('branch') else ''}{ago}{stale}"
        )
        if source.get("error"):
            reason = f"[{source['reason']}] " if source.get("reason") else ""
            lines.append(f"          {reason}{source['error']}")
        reached = source.get("lastReachedTime")
        if reached and source.get("stale"):
            lines.append(f"          remote last reached {time.time() - reached:.0f}s ago")
    pinned = status.get("pinned")
    if pinned:
        lines.append(
            f"pinned    {_short(pinned.get('sha'))} by `reconciler rollback` "
            f"({pinned.get('reason') or 'no reason given'}); `reconciler resume` to follow again"
        )
    control = status.get("control") or {}
    if control.get("mode") in ("paused", "pinned"):
        reason = f" ({control['reason']})" if control.get("reason") else ""
        lines.append(
            f"fleet     {_holding(status)}{reason}; `reconciler resume --repo ...` to follow again"
        )
    if control.get("error"):
        lines.append(f"          control unreadable, the last known applies: {control['error']}")
    error = status.get("lastError")
    if error:
        lines.append(f"error     [{error.get('code', '')}] {error.get('message', '')}")
        lines.extend(
            f"          {d.get('text') or d.get('message')}" for d in error.get("diagnostics", [])
        )
    lines.append("")
    rows = [["PROXY", "CONN", "PROTO", *_TYPES, "PROBLEM"]]
    for proxy in status.get("proxies", []):
        versions = proxy.get("versions", {})
        rows.append(
            [
                proxy["id"],
                "yes" if proxy.get("connected") else "no",
                proxy.get("protocol") or "-",
                *(_cell(versions.get(t)) for t in _TYPES),
                _problem(proxy),
            ]
        )
    lines.extend(_table(rows))
    lines.append("")
    lines.append("versions: acked version (short); '*' pending ACK; '!' NACKed")
    return "\n".join(lines) + "\n"


def _short(version: str | None) -> str:
    """A commit sha or a version (a content hash) as its first 12 characters."""
    return version[:12] if version else "-"


def _cell(versions: dict[str, str] | None) -> str:
    if not versions:
        return "-"
    cell = _short(versions.get("acked")) if versions.get("acked") else "-"
    if versions.get("sent") and versions["sent"] != versions.get("acked"):
        cell += "!" if versions.get("nacked") == versions["sent"] else "*"
    return cell


def _problem(proxy: dict[str, Any]) -> str:
    """What is wrong with a proxy now: an unknown node, a refused stream (its token), or a
    type whose latest version it NACKed; "" when nothing is."""
    if proxy.get("error"):
        return str(proxy["error"]).split(";")[0]
    if proxy.get("authError"):
        return "refused: " + str(proxy["authError"]).splitlines()[0][:100]
    nack = proxy.get("lastNack")
    versions = proxy.get("versions") or {}
    nacking = [
        t
        for t, v in sorted(versions.items())
        if v.get("nacked") and v.get("nacked") == v.get("sent")
    ]
    if nack and nacking:
        message = str(nack.get("message", "")).strip().splitlines()
        return f"NACK {nack.get('type')}: {message[-1][:80] if message else ''}"
    return ""
