"""``reconciler bootstrap --proxy MESH.NAME``: an Envoy bootstrap that connects to the server."""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from reconciler.addresses import parse_host_port
from reconciler.cli.exit_codes import Exit
from reconciler.errors import UsageError
from reconciler.serve.bootstrap import AdsBootstrap, bootstrap_yaml

DEFAULT_XDS_ADDRESS = "127.0.0.1:5678"


@dataclass(frozen=True, slots=True)
class BootstrapOptions:
    proxy: str
    xds_address: str | tuple[str, ...] = DEFAULT_XDS_ADDRESS
    """The server, or every replica of it (one endpoint each of the ADS cluster)."""
    admin_port: int = 9901
    sotw: bool = False
    token: str | None = None
    """Proxy token (``reconciler token issue``), sent as gRPC metadata on the ADS stream."""
    service: str | None = None
    """``node.cluster``: the proxy's service (Kuma's bootstrap); None: the Dataplane name."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--proxy", required=True, metavar="MESH.NAME", help="the Dataplane this Envoy runs as"
    )
    parser.add_argument(
        "--xds-address",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help=f"the xDS server (default: {DEFAULT_XDS_ADDRESS}); repeat it for each replica: "
        "the proxy connects to one and moves to another when it goes away",
    )
    parser.add_argument(
        "--admin-port",
        type=int,
        default=9901,
        metavar="P",
        help="Envoy admin port on 127.0.0.1 (default: 9901; 0 picks a free one)",
    )
    parser.add_argument(
        "--sotw", action="store_true", help="State-of-the-World ADS instead of Delta"
    )
    parser.add_argument(
        "--service",
        metavar="NAME",
        help="the proxy's kuma.io/service, as Envoy's node.cluster (Kuma's bootstrap sets it; "
        "Zipkin spans of MeshTrace name it as their service); default: the Dataplane name",
    )
    parser.add_argument(
        "--token-file",
        type=Path,
        metavar="FILE",
        help="proxy token from `reconciler token issue`: Envoy presents it to the server "
        "(authorization metadata) to prove it is this Dataplane",
    )
    parser.add_argument("-o", "--output", type=Path, help="write to a file instead of stdout")


def run(args: argparse.Namespace) -> int:
    token = _read_token(args.token_file) if args.token_file else None
    addresses = tuple(args.xds_address) or DEFAULT_XDS_ADDRESS
    text = render(
        BootstrapOptions(args.proxy, addresses, args.admin_port, args.sotw, token, args.service)
    )
    if args.output is not None:
        try:
            args.output.write_text(text)
            if token:
                args.output.chmod(0o600)  # the token is a credential
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    else:
        sys.stdout.write(text)
    return Exit.OK


def render(options: BootstrapOptions) -> str:
    """The bootstrap YAML (raises UsageError for a bad proxy id or address)."""
    mesh, dot, dataplane = options.proxy.partition(".")
    if not dot or not mesh or not dataplane:
        raise UsageError(
            f"--proxy {options.proxy!r} is not MESH.NAME",
            hint="e.g. --proxy default.frontend-1 (the node id is '<mesh>.<dataplane name>')",
        )
    given = options.xds_address
    servers = [_host_port(a) for a in ((given,) if isinstance(given, str) else given)]
    if not servers:
        raise UsageError("no --xds-address given")
    if len(set(servers)) != len(servers):
        raise UsageError("an --xds-address is given twice", hint="list each replica once")
    (host, port), *replicas = servers
    if not 0 <= options.admin_port < 65536:
        raise UsageError(f"--admin-port {options.admin_port} is not a port (0-65535)")
    return bootstrap_yaml(
        AdsBootstrap(
            mesh=mesh,
            dataplane=dataplane,
            xds_host=host,
            xds_port=port,
            admin_port=options.admin_port,
            sotw=options.sotw,
            token=options.token,
            replicas=tuple(replicas),
            service=options.service,
        )
    )


def _host_port(address: str) -> tuple[str, int]:
    parsed = parse_host_port("--xds-address", address)
    return parsed.host, parsed.port


def _read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read token file {path}: {exc}") from exc
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", token):
        raise UsageError(
            f"{path} does not hold a proxy token",
            hint="make one with: reconciler token issue --proxy MESH.NAME -o FILE",
        )
    return token
