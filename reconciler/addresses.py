"""``HOST:PORT`` flag values, checked once, the same way for every command: listen addresses
(``serve``), the server a proxy connects to (``bootstrap``) and the server a command reads
(``status --server``, ``diff --server``). Bottom layer: imports no stage."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from reconciler.errors import UsageError


@dataclass(frozen=True, slots=True)
class HostPort:
    host: str
    """A name or an IP address, without the brackets of an IPv6 literal."""
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?")
"""A DNS name or an IPv4 address (IPv6 goes in brackets and is checked by ``ipaddress``)."""


def _is_ipv6(host: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False


def parse_host_port(flag: str, text: str, *, allow_zero: bool = False) -> HostPort:
    """``text`` as HOST:PORT, or a UsageError naming ``flag`` and saying what is wrong.

    ``allow_zero``: port 0 (the system picks a free port) is accepted, as for listen addresses.
    """
    example = "e.g. 127.0.0.1:5678 or [::1]:5678"
    host, colon, port_text = text.rpartition(":")
    if not colon or not host:
        raise UsageError(f"{flag} {text!r} is not HOST:PORT", hint=example)
    if host.startswith("["):
        if not host.endswith("]") or len(host) < 3:
            raise UsageError(f"{flag} {text!r}: unbalanced brackets around the host", hint=example)
        host = host[1:-1]
    elif ":" in host and _is_ipv6(host):
        raise UsageError(
            f"{flag} {text!r}: an IPv6 address needs brackets", hint=f"[{host}]:{port_text}"
        )
    if not _HOST.fullmatch(host) and not _is_ipv6(host):
        raise UsageError(
            f"{flag} {text!r}: {host!r} is not a host name or IP address", hint=example
        )
    if not port_text.isascii() or not port_text.isdigit():
        raise UsageError(f"{flag} {text!r}: port {port_text!r} is not a number", hint=example)
    port = int(port_text)
    lowest = 0 if allow_zero else 1
    if not lowest <= port <= 65535:
        raise UsageError(
            f"{flag} {text!r}: port {port} is not in {lowest}-65535",
            hint="0 picks a free port" if allow_zero else example,
        )
    return HostPort(host, port)


def server_url(server: str, flag: str = "--server") -> str:
    """A running server's HTTP base URL from ``flag``'s value: an ``http(s)://`` URL, or
    HOST:PORT (the server's ``--http-address``, as its log prints it)."""
    if server.startswith(("http://", "https://")):
        return server.rstrip("/")
    if "://" in server:
        raise UsageError(f"{flag} {server!r}: only http:// and https:// are served")
    return f"http://{parse_host_port(flag, server.rstrip('/'))}"
