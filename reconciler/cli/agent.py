"""``reconciler agent``: the per-Envoy data-plane agent (MeshAccessLog Tcp relay)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import FrameType

from reconciler import names
from reconciler.agent.relay import DEFAULT_BUFFER, Relay
from reconciler.cli.exit_codes import Exit
from reconciler.errors import UsageError
from reconciler.model import DEFAULT_MESH


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataplane", required=True, help="the Dataplane name of the Envoy it runs beside"
    )
    parser.add_argument("--mesh", default=DEFAULT_MESH, help="its mesh (default: %(default)s)")
    parser.add_argument(
        "--pipe",
        help="the named pipe to read (default: Kuma's /tmp/kuma-al-<dataplane>-<mesh>.sock, "
        "which the control plane configures Envoy to write)",
    )
    parser.add_argument(
        "--buffer",
        type=int,
        default=DEFAULT_BUFFER,
        help="lines kept per TCP address while it is unreachable; the oldest are dropped "
        "beyond (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    if args.buffer < 1:
        raise UsageError("--buffer must be at least 1")
    path = args.pipe or names.access_log_pipe(args.dataplane, args.mesh)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s agent %(message)s")
    relay = Relay(path, args.buffer)

    def terminate(signum: int, frame: FrameType | None) -> None:
        relay.stop.set()

    signal.signal(signal.SIGTERM, terminate)
    print(f"relaying Tcp access-log lines from {path}", file=sys.stderr, flush=True)
    try:
        relay.run()
    finally:
        relay.close()
        c = relay.counters
        print(
            f"relayed {c.relayed} lines, dropped {c.dropped} (buffer full), "
            f"{c.malformed} malformed",
            file=sys.stderr,
        )
    return Exit.OK
