"""``reconciler serve PATH``: load, validate, compile a mesh repository and serve it over xDS."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.cli.exit_codes import Exit
from reconciler.errors import ServeError, UsageError
from reconciler.pipeline import Analysis
from reconciler.serve.loop import Compiled, CompileFn, Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.serve.server import ControlPlane, raise_open_files_limit
from reconciler.snapshot import SnapshotCache
from reconciler.source import Source
from reconciler.source.directory import DirectorySource

NAME = "serve"
HELP = "serve a mesh repository to Envoy proxies over xDS (ADS, SotW and Delta)"

log = logging.getLogger("reconciler.serve")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    path: Path
    xds_address: str = "127.0.0.1:5678"
    http_address: str = "127.0.0.1:5680"
    interval: float = 30.0
    expected_proxies: int = 1000
    log_level: str = "info"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, metavar="PATH", help="the mesh repository directory")
    parser.add_argument(
        "--xds-address",
        default="127.0.0.1:5678",
        metavar="HOST:PORT",
        help="gRPC ADS listen address (default: 127.0.0.1:5678)",
    )
    parser.add_argument(
        "--http-address",
        default="127.0.0.1:5680",
        metavar="HOST:PORT",
        help="status, metrics and health listen address (default: 127.0.0.1:5680)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="re-read the source this often (default: 30; SIGHUP re-reads at once)",
    )
    parser.add_argument(
        "--expected-proxies",
        type=int,
        default=1000,
        metavar="N",
        help="warn if the open-files limit cannot hold this many streams (default: 1000)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="log verbosity on stderr (default: info)",
    )


def run(args: argparse.Namespace) -> int:
    options = ServeOptions(
        path=args.path,
        xds_address=args.xds_address,
        http_address=args.http_address,
        interval=args.interval,
        expected_proxies=args.expected_proxies,
        log_level=args.log_level,
    )
    return serve(options)


def serve(options: ServeOptions, compile: CompileFn | None = None) -> int:
    if not options.path.is_dir():
        raise UsageError(f"{options.path} is not a directory", hint="pass the mesh repository")
    if options.interval <= 0:
        raise UsageError("--interval must be positive")
    logging.basicConfig(
        level=options.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    raise_open_files_limit(options.expected_proxies)
    source = make_source(options)
    return asyncio.run(_serve(options, source, compile or pipeline_compile()))


def make_source(options: ServeOptions) -> Source:
    return DirectorySource([options.path])


async def _serve(options: ServeOptions, source: Source, compile: CompileFn) -> int:
    cache = SnapshotCache()
    metrics = Metrics()
    reconciler = Reconciler(source, compile, cache, metrics, interval=options.interval)
    plane = ControlPlane(cache=cache, metrics=metrics, reconciler=reconciler)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reconciler.trigger)
    await plane.start(options.xds_address, options.http_address)
    log.info(
        "serving %s: xDS on port %d, status on http://%s/status",
        options.path,
        plane.xds_port,
        _host(options.http_address, plane.http_port),
    )
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        await plane.stop(grace=1.0)
    return Exit.OK


def _host(address: str, port: int) -> str:
    return f"{address.rpartition(':')[0] or '127.0.0.1'}:{port}"


def pipeline_compile() -> CompileFn:
    """The compiler as the loop expects it (``Analysis -> Compiled``)."""
    from reconciler import pipeline

    compile_mesh = getattr(pipeline, "compile", None)
    if compile_mesh is None:
        raise ServeError("this build has no compiler (reconciler.pipeline.compile is missing)")

    def compile(analysis: Analysis) -> Compiled:
        result: Any = compile_mesh(analysis)
        if isinstance(result, Mapping):
            return Compiled(result)
        configs = getattr(result, "proxies", None) or getattr(result, "configs", {})
        return Compiled(configs, tuple(getattr(result, "diagnostics", ())))

    return compile
