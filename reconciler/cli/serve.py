"""``reconciler serve REPO``: load, validate, compile a mesh repository and serve it over xDS.

REPO is a git URL (https, ssh, file) or a local repository, followed on ``--branch`` (bare
cache, journal and rollback pin under ``--state-dir``), or a plain directory served as files.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

from reconciler.addresses import parse_host_port
from reconciler.cli.exit_codes import Exit
from reconciler.cli.log_format import LogFormat, configure_logging
from reconciler.compile.compiler import Compiler
from reconciler.compile.explain import TraceExplainer
from reconciler.errors import UsageError
from reconciler.identity.keypool import KeyAlgorithm
from reconciler.identity.provider import CaFiles, IdentityOptions, IdentityProvider
from reconciler.identity.serving import make_verifier, rotate_forever, with_secrets
from reconciler.journal import Journal, default_state_dir
from reconciler.pipeline import Analysis, compile_analysis
from reconciler.serve.build import Compiled, CompileFn
from reconciler.serve.events import NO_EVENTS
from reconciler.serve.following import Following
from reconciler.serve.heap import Collector, limit_arenas
from reconciler.serve.loop import Reconciler
from reconciler.serve.metrics import Metrics
from reconciler.serve.notify import Notifier, Target, parse_target, read_notify_secret
from reconciler.serve.server import ControlPlane, raise_open_files_limit
from reconciler.serve.webhook import read_secret
from reconciler.snapshot import SnapshotCache
from reconciler.source import Source
from reconciler.source.backoff import parse_duration
from reconciler.source.choose import is_url, open_source
from reconciler.source.control import default_control_ref
from reconciler.source.git import GitSource
from reconciler.source.git_safety import redact

log = logging.getLogger("reconciler.serve")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    path: Path
    xds_address: str = "127.0.0.1:5678"
    http_address: str = "127.0.0.1:5680"
    interval: float = 30.0
    expected_proxies: int = 1000
    log_level: str = "info"
    log_format: LogFormat = LogFormat.TEXT
    repo: str | None = None
    """REPO as given (a URL keeps its form); None means ``path``."""
    branch: str = "main"
    subpath: str | None = None
    state_dir: Path | None = None
    webhook_secret_file: Path | None = None
    watch: bool = False
    git_timeout: float = 60.0
    proxy_auth: str = "auto"
    """``token``: every stream must prove its node id with a proxy token; ``auto``: the streams
    of proxies in mTLS meshes (they receive private keys); ``none``: no check."""
    token_key: Path | None = None
    mesh_ca: tuple[tuple[str, Path, Path], ...] = ()
    leaf_key: str = "ecdsa-p256"
    notify: tuple[Target, ...] = ()
    notify_secret_file: Path | None = None
    allow_empty: bool = False
    """Publish a revision with no resources, or one that removes a mesh's every proxy."""
    control_ref: str | None = ""
    """The fleet control ref a git source obeys: "" = ``refs/reconciler/control/<branch>``,
    None = none (``--control-ref none``)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "repo",
        metavar="REPO",
        help="a git URL (https://, ssh://, file://), a local git repository (its --branch is "
        "followed) or a plain directory of YAML files",
    )
    parser.add_argument("--branch", default="main", help="branch to follow (default: main)")
    parser.add_argument(
        "--path", dest="subpath", default=None, metavar="SUBDIR", help="read only this directory"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"git cache, journal and rollback pin (default: {default_state_dir()})",
    )
    parser.add_argument(
        "--webhook-secret-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="enable POST /hooks/github (GitHub push events signed with this secret)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="serve REPO's working tree as files and re-read it when it changes",
    )
    parser.add_argument(
        "--git-timeout",
        type=_duration,
        default=60.0,
        metavar="DURATION",
        help="kill a git command after this long (default: 60s)",
    )
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
        type=_duration,
        default=30.0,
        metavar="DURATION",
        help="poll the source this often, ±10%% jitter (default: 30s; SIGHUP polls at once)",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="publish a revision that has no resources or removes every proxy of a mesh "
        "(refused by default, like Argo CD's allowEmpty: false)",
    )
    parser.add_argument(
        "--expected-proxies",
        type=int,
        default=1000,
        metavar="N",
        help="warn if the open-files limit cannot hold this many streams (default: 1000)",
    )
    parser.add_argument(
        "--proxy-auth",
        choices=("auto", "token", "none"),
        default="auto",
        help="which ADS streams must present a valid proxy token for their node id "
        "(`reconciler token issue`, `reconciler bootstrap --token-file`): auto = proxies of "
        "mTLS meshes, which receive private keys; token = all; none = no check (default: auto)",
    )
    parser.add_argument(
        "--token-key",
        type=Path,
        default=None,
        metavar="FILE",
        help="Ed25519 key that signs proxy tokens, shared by replicas (default: the state "
        "dir's identity/token-signing.key)",
    )
    parser.add_argument(
        "--mesh-ca",
        type=_mesh_ca,
        action="append",
        default=[],
        metavar="MESH=CERT,KEY",
        help="use this CA (PEM files, key 0600) for MESH instead of the state dir's builtin CA; "
        "replicas given the same files issue certificates every proxy trusts (repeatable)",
    )
    parser.add_argument(
        "--leaf-key",
        choices=[a.value for a in KeyAlgorithm],
        default="ecdsa-p256",
        help="key type of proxy certificates (default: ecdsa-p256; RSA keys cost tens of ms "
        "each, generated ahead in the background)",
    )
    parser.add_argument(
        "--notify",
        type=_notify_target,
        action="append",
        default=[],
        metavar="FORMAT=URL",
        help="POST a notification on revision applied/refused, proxy NACK and refused proxy "
        "token; FORMAT is slack or generic (JSON signed with --notify-secret-file); URL may be "
        "@FILE to read it from a file (repeatable; docs/notifications.md)",
    )
    parser.add_argument(
        "--notify-secret-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="HMAC-SHA256 secret signing generic notifications (X-Reconciler-Signature-256)",
    )
    parser.add_argument(
        "--control-ref",
        default="",
        metavar="REF",
        help="the ref of REPO holding the fleet's rollback/pause control, read on every poll "
        f"(default: {default_control_ref('BRANCH')}; `none` to ignore it)",
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="log verbosity on stderr (default: info)",
    )
    parser.add_argument(
        "--log-format",
        choices=[f.value for f in LogFormat],
        default="text",
        help="text: one line per record; json: one JSON object per line (time, level, logger, "
        "message and the record's fields: proxy, type, revision, code ...) (default: text)",
    )


def run(args: argparse.Namespace) -> int:
    options = ServeOptions(
        path=Path(args.repo),
        repo=args.repo,
        branch=args.branch,
        subpath=args.subpath,
        state_dir=args.state_dir,
        webhook_secret_file=args.webhook_secret_file,
        watch=args.watch,
        git_timeout=args.git_timeout,
        proxy_auth=args.proxy_auth,
        token_key=args.token_key,
        mesh_ca=tuple(args.mesh_ca),
        leaf_key=args.leaf_key,
        notify=tuple(args.notify),
        notify_secret_file=args.notify_secret_file,
        control_ref=None if args.control_ref == "none" else args.control_ref,
        xds_address=args.xds_address,
        http_address=args.http_address,
        interval=args.interval,
        allow_empty=args.allow_empty,
        expected_proxies=args.expected_proxies,
        log_level=args.log_level,
        log_format=LogFormat(args.log_format),
    )
    return serve(options)


def serve(options: ServeOptions, compile: CompileFn | None = None) -> int:
    if not is_url(options.repo or str(options.path)):
        if not options.path.exists():
            raise UsageError(f"{options.path} does not exist", hint="pass a git URL or a directory")
        served = options.path / options.subpath if options.subpath else options.path
        plain = options.watch or not (options.path / ".git").exists()
        if plain and not served.exists():
            raise UsageError(
                f"--path {options.subpath}: {served} does not exist",
                hint=f"give a directory inside {options.path}",
            )
    if options.interval <= 0:
        raise UsageError("--interval must be positive")
    xds = parse_host_port("--xds-address", options.xds_address, allow_zero=True)
    http = parse_host_port("--http-address", options.http_address, allow_zero=True)
    if xds.port == http.port != 0 and xds.host == http.host:
        raise UsageError(
            f"--xds-address and --http-address are both {xds}", hint="give them different ports"
        )
    configure_logging(options.log_level, options.log_format)
    raise_open_files_limit(options.expected_proxies)
    limit_arenas()  # before any thread allocates (gRPC's, the build's)
    source = make_source(options)
    return asyncio.run(_serve(options, source, compile or pipeline_compile()))


def make_source(options: ServeOptions) -> Source:
    return open_source(
        options.repo or str(options.path),
        state_dir=options.state_dir or default_state_dir(),
        branch=options.branch,
        subpath=options.subpath,
        watch=options.watch,
        timeout_s=options.git_timeout,
        control_ref=(
            (options.control_ref or default_control_ref(options.branch))
            if options.control_ref is not None
            else None
        ),
    )


def _notify_target(text: str) -> Target:
    try:
        return parse_target(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def make_notifier(options: ServeOptions, metrics: Metrics, journal: Journal) -> Notifier | None:
    """The webhook notifier of ``--notify`` (None without targets)."""
    if not options.notify:
        return None
    secret = read_notify_secret(options.notify_secret_file) if options.notify_secret_file else None
    last = journal.last()
    return Notifier(
        list(options.notify),
        metrics.registry,
        secret=secret,
        applied=last.sha if last is not None else None,
    )


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


async def _serve(options: ServeOptions, source: Source, compile: CompileFn) -> int:
    cache = SnapshotCache()
    metrics = Metrics()
    journal = Journal(options.state_dir or default_state_dir())
    notifier = make_notifier(options, metrics, journal)
    identity = _identity(options)
    reconciler = Reconciler(
        source,
        with_secrets(compile, identity),
        cache,
        metrics,
        journal=journal,
        interval=options.interval,
        allow_empty=options.allow_empty,
        control=source if isinstance(source, GitSource) and source.control_ref else None,
    )
    reconciler.builder.collector = Collector()  # this process's collector (see serve.heap)
    if notifier is not None:
        reconciler.events = notifier
    verifier = None
    if options.proxy_auth != "none":
        verifier = make_verifier(
            options.state_dir or default_state_dir(),
            options.token_key,
            required=None if options.proxy_auth == "token" else identity.is_protected,
        )
        log.info("proxy tokens must be signed by %s", verifier.describe_keys())
    plane = ControlPlane(
        cache=cache,
        metrics=metrics,
        reconciler=reconciler,
        verifier=verifier,
        events=notifier or NO_EVENTS,
    )
    following = Following(
        reconciler,
        webhook_secret=read_secret(options.webhook_secret_file)
        if options.webhook_secret_file
        else None,
        branch=source.branch if isinstance(source, GitSource) else None,
        control_ref=source.control_ref if isinstance(source, GitSource) else None,
        watch_root=options.path if options.watch else None,
    )
    following.install(plane)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reconciler.trigger)
    if notifier is not None:
        await notifier.start()
    await plane.start(options.xds_address, options.http_address)
    identity.start()
    rotation = asyncio.create_task(
        rotate_forever(identity, reconciler.rebuild, stop), name="cert-rotation"
    )
    log.info(
        "serving %s: xDS on port %d, status on http://%s/status",
        redact(options.repo or str(options.path)),
        plane.xds_port,
        _host(options.http_address, plane.http_port),
    )
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        rotation.cancel()
        await plane.stop(grace=1.0)
        following.close()
        identity.stop()
        if notifier is not None:
            await notifier.close(grace=2.0)
    return Exit.OK


def _mesh_ca(text: str) -> tuple[str, Path, Path]:
    mesh, eq, files = text.partition("=")
    cert, comma, key = files.partition(",")
    if not (mesh and eq and cert and comma and key):
        raise argparse.ArgumentTypeError(f"{text!r} is not MESH=CERT,KEY")
    return mesh, Path(cert), Path(key)


def _identity(options: ServeOptions) -> IdentityProvider:
    return IdentityProvider(
        IdentityOptions(
            state_dir=options.state_dir or default_state_dir(),
            key_algorithm=KeyAlgorithm(options.leaf_key),
            pool_target=min(max(options.expected_proxies, 16), 4096),
            ca_files={mesh: CaFiles(cert, key) for mesh, cert, key in options.mesh_ca},
        )
    )


def _host(address: str, port: int) -> str:
    return f"{address.rpartition(':')[0] or '127.0.0.1'}:{port}"


def pipeline_compile() -> CompileFn:
    """The compiler as the loop expects it (``Analysis -> Compiled``)."""
    compiler = Compiler()  # kept: a later revision recompiles only the proxies it affects
    last: list[tuple[Analysis, Compiled]] = []

    def compile(analysis: Analysis) -> Compiled:
        # The loop's analyzer hands back the same Analysis when no resource file changed
        # (a README-only commit, a certificate rebuild): nothing to compile.
        if last and last[0][0] is analysis:
            return last[0][1]
        result = compile_analysis(analysis, compiler)
        # Until the next compile the shared caches hold their messages encoded; the
        # configs hold theirs until the snapshots are built (RevisionBuilder.snapshots).
        compiler.shared.release()
        explain = TraceExplainer(result.traces, analysis.resources)  # the console's provenance
        compiled = Compiled(result.configs, tuple(result.diagnostics), result.hostnames, explain)
        last[:] = [(analysis, compiled)]
        return compiled

    return compile
