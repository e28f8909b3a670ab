"""Relay MeshAccessLog Tcp lines from Envoy's named pipe to their TCP addresses.

Contract (Kuma's kuma-dp ``accesslogs/streamer.go``, with buffers and reconnects added):

* The pipe: created when missing (a regular file left by an Envoy that started first is
  replaced); an existing pipe is reused, so an Envoy that still holds it open keeps logging
  to a restarted agent. It is opened read-write, so opening never waits for Envoy and an
  Envoy restart is no end of input. It is left in place on exit.
* Each line is JSON ``{address, message}``: a string message is sent as it is (Envoy's
  plain line already ends with ``\\n``); an object message is sent as compact JSON with
  sorted keys (Go's ``json.Marshal``, as kuma-dp) plus ``\\n`` (kuma-dp adds none, so its
  JSON lines run together). A line that is not such JSON is counted and dropped.
* One sender per address, each with its own bounded queue (``buffer`` lines): when the
  address is down, lines wait and the sender reconnects with backoff (0.1 s doubling to
  5 s, 5 s connect timeout); when the queue is full the oldest line is dropped and
  counted. A failed send closes the connection and keeps the line for the next one. The
  pipe is read without ever waiting on TCP, so a slow or dead address never blocks Envoy.
"""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import stat
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from reconciler.errors import ReconcilerError

LOG = logging.getLogger("reconciler.agent")
DEFAULT_BUFFER = 10_000
CONNECT_TIMEOUT_S = 5.0
BACKOFF_START_S = 0.1
BACKOFF_MAX_S = 5.0
READ_SIZE = 65536


@dataclass(slots=True)
class Counters:
    relayed: int = 0
    dropped: int = 0
    """Lines dropped because their address's queue was full."""
    malformed: int = 0


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` (a scheme such as ``tcp://`` is ignored)."""
    rest = address.split("://", 1)[-1].split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not host:port: {address!r}")
    return host.strip("[]"), int(port)


def encode(message: object) -> bytes | None:
    if isinstance(message, str):
        return message.encode()
    if isinstance(message, dict):
        return (json.dumps(message, sort_keys=True, separators=(",", ":")) + "\n").encode()
    return None


class Sender:
    """One TCP address: a bounded queue and a thread that connects and sends."""

    def __init__(self, address: str, buffer: int, counters: Counters, stop: threading.Event):
        self.address = address
        self.queue: deque[bytes] = deque()
        self.buffer = buffer
        self.counters = counters
        self.stop = stop
        self.ready = threading.Condition()
        self.thread = threading.Thread(target=self._run, name=f"relay {address}", daemon=True)
        self.thread.start()

    def put(self, line: bytes) -> None:
        with self.ready:
            if len(self.queue) >= self.buffer:
                self.queue.popleft()
                self.counters.dropped += 1
            self.queue.append(line)
            self.ready.notify()

    def _next(self) -> bytes | None:
        with self.ready:
            while not self.queue and not self.stop.is_set():
                self.ready.wait(0.5)
            return self.queue[0] if self.queue else None

    def _run(self) -> None:
        conn: socket.socket | None = None
        backoff = BACKOFF_START_S
        while not self.stop.is_set():
            line = self._next()
            if line is None:
                continue
            if conn is None:
                try:
                    conn = socket.create_connection(
                        split_address(self.address), timeout=CONNECT_TIMEOUT_S
                    )
                    LOG.info("connected to TCP log destination %s", self.address)
                    backoff = BACKOFF_START_S
                except (OSError, ValueError) as exc:
                    LOG.warning("TCP log destination %s: %s; retrying", self.address, exc)
                    self.stop.wait(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    continue
            try:
                conn.sendall(line)
            except OSError as exc:
                LOG.warning("TCP log destination %s: %s; reconnecting", self.address, exc)
                conn.close()
                conn = None
                continue
            with self.ready:
                if self.queue and self.queue[0] is line:
                    self.queue.popleft()
                self.counters.relayed += 1
        if conn is not None:
            conn.close()


def open_pipe(path: str) -> int:
    """Create (or reuse) the named pipe and open it for reading without waiting for Envoy."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISFIFO(mode):
        os.unlink(path)  # a regular file Envoy created before the agent ran
        mode = None
    try:
        if mode is None:
            os.mkfifo(path, 0o666)
        return os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError as exc:
        raise ReconcilerError(f"access-log pipe {path}: {exc.strerror}") from exc


class Relay:
    """Reads the pipe, hands each line to its address's sender."""

    def __init__(self, path: str, buffer: int = DEFAULT_BUFFER) -> None:
        self.path = path
        self.buffer = buffer
        self.counters = Counters()
        self.stop = threading.Event()
        self.senders: dict[str, Sender] = {}
        self.fd = open_pipe(path)
        self.running = threading.Lock()

    def handle(self, raw: bytes) -> None:
        try:
            entry = json.loads(raw)
            address, line = entry["address"], encode(entry["message"])
        except (ValueError, KeyError, TypeError):
            address, line = None, None
        if not isinstance(address, str) or line is None:
            self.counters.malformed += 1
            LOG.warning("dropped a line that is not {address, message} JSON: %.200r", raw)
            return
        sender = self.senders.get(address)
        if sender is None:
            sender = self.senders[address] = Sender(address, self.buffer, self.counters, self.stop)
        sender.put(line)

    def run(self, until: Callable[[], bool] = lambda: False) -> None:
        """Relay until :meth:`close` or ``until()`` (checked at least every 0.2 s)."""
        with self.running:
            self._loop(until)

    def _loop(self, until: Callable[[], bool]) -> None:
        pending = b""
        while not self.stop.is_set() and not until():
            readable, _, _ = select.select([self.fd], [], [], 0.2)
            if not readable:
                continue
            try:
                chunk = os.read(self.fd, READ_SIZE)
            except BlockingIOError:
                continue
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                if raw.strip():
                    self.handle(raw)

    def close(self) -> None:
        self.stop.set()
        with self.running:  # the reading loop has ended: the pipe can be closed
            pass
        for sender in self.senders.values():
            with sender.ready:
                sender.ready.notify_all()
            sender.thread.join(CONNECT_TIMEOUT_S + 1)
        os.close(self.fd)
