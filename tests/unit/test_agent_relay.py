"""``reconciler agent``: Tcp access-log lines from a real named pipe to real TCP listeners
on loopback (Kuma's kuma-dp ``accesslogs/streamer.go``, with bounded buffers and reconnects)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reconciler.agent.relay import Relay, encode, split_address

pytestmark = pytest.mark.timeout(60)


class Receiver:
    """A TCP server on 127.0.0.1 that keeps every byte it receives."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.create_server(("127.0.0.1", port))
        self.port = self.server.getsockname()[1]
        self.data = b""
        self.lock = threading.Lock()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        with conn:
            try:
                while chunk := conn.recv(65536):
                    with self.lock:
                        self.data += chunk
            except OSError:
                return

    def text(self) -> str:
        with self.lock:
            return self.data.decode()

    def close(self) -> None:
        """Stop listening (waking the accepting thread) and drop every connection."""
        for sock in (self.server, *self.conns):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


def wait(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[Relay]:
    found = Relay(str(tmp_path / "kuma-al-web-1-default.sock"), buffer=3)
    thread = threading.Thread(target=found.run, daemon=True)
    thread.start()
    yield found
    found.close()
    thread.join(5)


def write(relay: Relay, *entries: object) -> None:
    fd = os.open(relay.path, os.O_WRONLY)
    try:
        for entry in entries:
            text = entry if isinstance(entry, str) else json.dumps(entry)
            os.write(fd, text.encode() + b"\n")
    finally:
        os.close(fd)


def test_plain_and_json_messages_reach_their_address(relay: Relay) -> None:
    """A string message is sent as it is; an object as compact sorted JSON plus a newline."""
    receiver = Receiver()
    address = f"127.0.0.1:{receiver.port}"
    write(
        relay,
        {"address": address, "message": "GET / 200\n"},
        {"address": address, "message": {"status": "200", "mesh": "default"}},
    )
    wait(lambda: receiver.text().count("\n") == 2)
    assert receiver.text() == 'GET / 200\n{"mesh":"default","status":"200"}\n'
    assert relay.counters.relayed == 2
    receiver.close()


def test_lines_wait_for_a_down_address_and_the_oldest_are_dropped(relay: Relay) -> None:
    """Address down: lines queue (3 here), the oldest beyond are dropped and counted; once
    the address listens, the sender reconnects and delivers the rest in order."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    address = f"127.0.0.1:{port}"
    write(relay, *({"address": address, "message": f"line {i}\n"} for i in range(5)))
    wait(lambda: relay.counters.dropped == 2)
    receiver = Receiver(port)
    wait(lambda: receiver.text().count("\n") == 3)
    assert receiver.text() == "line 2\nline 3\nline 4\n"
    receiver.close()


def test_reconnects_after_the_address_restarts(relay: Relay) -> None:
    """A closed connection is reopened; the line that failed is sent on the new one."""
    first = Receiver()
    port = first.port
    address = f"127.0.0.1:{port}"
    write(relay, {"address": address, "message": "one\n"})
    wait(lambda: first.text() == "one\n")
    first.close()
    second = Receiver(port)
    for i in range(50):  # a send on a connection the peer closed fails on a later write
        write(relay, {"address": address, "message": f"two {i}\n"})
        if "two" in second.text():
            break
        time.sleep(0.1)
    wait(lambda: "two" in second.text())
    second.close()


def test_malformed_lines_are_counted_and_dropped(relay: Relay) -> None:
    write(relay, "not json", '{"message": "no address"}')
    wait(lambda: relay.counters.malformed == 2)
    assert relay.senders == {}


def test_pipe_replaces_a_regular_file_and_reuses_a_pipe(tmp_path: Path) -> None:
    """A regular file (Envoy started first and created it) becomes a pipe; an existing pipe
    is kept (an Envoy holding it open keeps logging to a restarted agent)."""
    path = tmp_path / "p.sock"
    path.write_text("stale\n")
    first = Relay(str(path))
    assert stat.S_ISFIFO(path.stat().st_mode)
    inode = path.stat().st_ino
    first.close()
    second = Relay(str(path))
    assert path.stat().st_ino == inode
    second.close()


def test_addresses_and_encoding() -> None:
    assert split_address("127.0.0.1:5170") == ("127.0.0.1", 5170)
    assert split_address("tcp://logs.example:514") == ("logs.example", 514)
    assert split_address("[::1]:9000") == ("::1", 9000)
    with pytest.raises(ValueError):
        split_address("no-port")
    assert encode(["a"]) is None
