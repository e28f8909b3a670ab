"""HOST:PORT flags: checked like `bootstrap` does (exit 2 naming the flag), a port in use is a
clear exit-2 error naming the flag, and `status --server` takes the same HOST:PORT."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import run, running_plane

from reconciler.cli.main import main
from reconciler.errors import ServeError
from reconciler.serve.ads import bind_problem, start_ads_server

SAMPLE = Path(__file__).resolve().parents[2] / "sample-repo"
pytestmark = pytest.mark.timeout(60)  # before the checks, a bad address served forever


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process listens on (127.0.0.1, picked by the system)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _serve(tmp_path: Path, xds: str, http: str) -> list[str]:
    return [
        "serve",
        str(SAMPLE),
        "--state-dir",
        str(tmp_path / "state"),
        "--xds-address",
        xds,
        "--http-address",
        http,
    ]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--xds-address", "127.0.0.1:99999", "port 99999 is not in 0-65535"),
        ("--http-address", "127.0.0.1:99999", "port 99999 is not in 0-65535"),
        ("--http-address", "127.0.0.1:-1", "port '-1' is not a number"),
        ("--xds-address", "127.0.0.1", "is not HOST:PORT"),
        ("--http-address", ":5680", "is not HOST:PORT"),
        ("--xds-address", "::1:5678", "an IPv6 address needs brackets"),
        ("--http-address", "127.0.0.1:http", "port 'http' is not a number"),
        ("--http-address", "local host:5680", "'local host' is not a host name or IP address"),
    ],
)
def test_serve_rejects_a_bad_listen_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str
) -> None:
    other = "--http-address" if flag == "--xds-address" else "--xds-address"
    addresses = {flag: value, other: "127.0.0.1:0"}
    args = _serve(tmp_path, addresses["--xds-address"], addresses["--http-address"])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"reconciler: error: {flag} {value!r}") and message in err
    assert "This is a bug" not in err


def test_bootstrap_uses_the_same_check(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bootstrap", "--proxy", "default.web-1", "--xds-address", "127.0.0.1:0"]
    assert main(args) == 2  # a proxy cannot connect to port 0
    assert "--xds-address '127.0.0.1:0': port 0 is not in 1-65535" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--xds-address", "--http-address"])
def test_a_port_in_use_is_a_usage_error_naming_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], busy_port: int, flag: str
) -> None:
    taken = f"127.0.0.1:{busy_port}"
    xds, http = (taken, "127.0.0.1:0") if flag == "--xds-address" else ("127.0.0.1:0", taken)
    assert main(_serve(tmp_path, xds, http)) == 2
    err = capsys.readouterr().err
    assert f"reconciler: error: {flag} {taken}: cannot listen: address already in use" in err


def test_a_second_grpc_server_cannot_share_the_xds_port() -> None:
    """gRPC's default SO_REUSEPORT would let two servers split one port's connections."""

    async def body() -> None:
        async with running_plane() as plane:
            with pytest.raises(ServeError, match="address already in use"):
                await start_ads_server(plane.ctx, f"127.0.0.1:{plane.xds_port}")

    run(body)


def test_status_and_diff_accept_host_port(capsys: pytest.CaptureFixture[str]) -> None:
    async def body() -> None:
        async with running_plane() as plane:
            for server in (f"127.0.0.1:{plane.http_port}", f"http://127.0.0.1:{plane.http_port}"):
                code = await asyncio.to_thread(main, ["status", "--server", server, "--json"])
                assert code == 0
                assert '"ready": false' in capsys.readouterr().out
                args = ["diff", "--no-cache", str(SAMPLE), "--server", server, "-o", "json"]
                assert await asyncio.to_thread(main, args) == 0  # no proxy is connected
                assert '"base": "live"' in capsys.readouterr().out

    run(body)


@pytest.mark.parametrize(
    ("server", "message"),
    [("127.0.0.1", "is not HOST:PORT"), ("ftp://127.0.0.1:21", "only http:// and https://")],
)
def test_status_and_diff_reject_other_server_values(
    capsys: pytest.CaptureFixture[str], server: str, message: str
) -> None:
    assert main(["status", "--server", server]) == 2
    assert message in capsys.readouterr().err
    assert main(["diff", "--no-cache", str(SAMPLE), "--server", server]) == 2
    assert message in capsys.readouterr().err


def test_connections_of_a_stopped_server_do_not_hold_its_port() -> None:
    """A restarted server gets its port back while the old connections are in TIME_WAIT."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    accepted, _ = listener.accept()
    accepted.close()  # the server side closes first: its end of the connection is in TIME_WAIT
    listener.close()
    client.close()
    assert bind_problem(f"127.0.0.1:{port}") is None
