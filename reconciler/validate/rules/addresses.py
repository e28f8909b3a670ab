"""Address checks as Kuma's validators make them: Go's ``net/url`` and govalidator.

Kuma validates collector URLs with ``url.ParseRequestURI`` (MeshTrace Datadog) and
govalidator's ``IsURL`` (MeshTrace Zipkin), and passthrough destinations with ``IsDNSName``,
``IsIP`` and ``IsCIDR`` (MeshPassthrough). What they accept decides what Kuma accepts, so
these follow their code (Go 1.24 ``net/url``, govalidator v11), not a URL RFC.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_USERINFO_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._:~!$&'()*+,;=%@"
)
_HOST_CHARS = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:[]<>\"%"
)
_HEX = frozenset("0123456789abcdefABCDEF")
_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class GoURL:
    """The parts of a URL as Go's ``url.URL`` holds them."""

    scheme: str = ""
    opaque: str = ""
    user: bool = False
    host: str = ""
    path: str = ""
    raw_query: str = ""
    fragment: str = ""

    @property
    def port(self) -> str:
        """``URL.Port()``: the port after the last colon of the host, if it is all digits."""
        colon = self.host.rfind(":")
        if colon != -1 and _valid_optional_port(self.host[colon:]):
            return self.host[colon + 1 :]
        return ""


def parse_request_uri(raw: str) -> GoURL | None:
    """Go ``url.ParseRequestURI``: an absolute URI or an absolute path; None on error."""
    return _parse(raw, via_request=True)


def parse_url(raw: str) -> GoURL | None:
    """Go ``url.Parse``: a URL with an optional ``#fragment``; None on error."""
    head, _, fragment = raw.partition("#")
    parsed = _parse(head, via_request=False)
    if parsed is None or not _unescapes(fragment):
        return None
    return GoURL(
        parsed.scheme,
        parsed.opaque,
        parsed.user,
        parsed.host,
        parsed.path,
        parsed.raw_query,
        fragment,
    )


def _parse(raw: str, *, via_request: bool) -> GoURL | None:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None
    if raw == "" and via_request:
        return None
    if raw == "*":
        return GoURL(path="*")
    split = _scheme(raw)
    if split is None:
        return None
    scheme, rest = split
    raw_query = ""
    if rest.endswith("?") and rest.count("?") == 1:
        rest = rest[:-1]
    else:
        rest, _, raw_query = rest.partition("?")
    if not rest.startswith("/"):
        if scheme:
            return GoURL(scheme=scheme.lower(), opaque=rest, raw_query=raw_query)
        if via_request:
            return None
        if ":" in rest.split("/", 1)[0]:
            return None  # "first path segment in URL cannot contain colon"
    user, host = False, ""
    if (scheme or not via_request) and rest.startswith("//") and not rest.startswith("///"):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        parsed = _authority(authority)
        if parsed is None:
            return None
        user, host = parsed
    elif scheme and rest.startswith("///"):
        rest = rest[2:]
    if not _unescapes(rest):
        return None
    return GoURL(scheme=scheme.lower(), user=user, host=host, path=rest, raw_query=raw_query)


def _scheme(raw: str) -> tuple[str, str] | None:
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c in _DIGITS or c in "+-.":
            if i == 0:
                return "", raw
            continue
        if c == ":":
            return None if i == 0 else (raw[:i], raw[i + 1 :])
        return "", raw
    return "", raw


def _authority(authority: str) -> tuple[bool, str] | None:
    at = authority.rfind("@")
    host = _host(authority[at + 1 :] if at >= 0 else authority)
    if host is None:
        return None
    if at >= 0 and not set(authority[:at]) <= _USERINFO_CHARS:
        return None
    return at >= 0, host


def _host(host: str) -> str | None:
    if host.startswith("["):
        close = host.rfind("]")
        if close < 0 or not _valid_optional_port(host[close + 1 :]):
            return None
    elif (colon := host.rfind(":")) != -1 and not _valid_optional_port(host[colon:]):
        return None
    if any(c.isascii() and c not in _HOST_CHARS for c in host) or not _unescapes(host):
        return None
    return host


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and set(port[1:]) <= _DIGITS


def _unescapes(text: str) -> bool:
    """Every ``%`` starts a two-digit hex escape (Go ``unescape``)."""
    i = text.find("%")
    while i != -1:
        if len(text) < i + 3 or text[i + 1] not in _HEX or text[i + 2] not in _HEX:
            return False
        i = text.find("%", i + 3)
    return True


# govalidator v11 patterns.go, with `(W+-?-?)*W+` written as the equivalent `W+(-{1,2}W+)*`
# (Python's backtracking engine would take exponential time on the original) and `$` as `\Z`
# (Python's `$` also matches before a final newline, Go's does not).
_IP6 = (
    r"(([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|"
    r"([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|"
    r"([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|"
    r"([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|"
    r"([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|"
    r":((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|"
    r"::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}"
    r"(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:"
    r"((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9]))"
)
_URL_SCHEMA = r"((ftp|tcp|udp|wss?|https?):\/\/)"
_URL_USERNAME = r"(\S+(:\S*)?@)"
_URL_PATH = r"((\/|\?|#)[^\s]*)"
_URL_PORT = r"(:(\d{1,5}))"
_URL_IP = (
    r"([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}"
    r"(?:\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5]))"
)
_URL_SUBDOMAIN = r"((www\.)|([a-zA-Z0-9]+([-_\.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+))"
_WORD = "[a-zA-Z\u00a1-\uffff0-9]"
_URL = re.compile(
    rf"^{_URL_SCHEMA}?{_URL_USERNAME}?(({_URL_IP}|(\[{_IP6}\])|"
    rf"(([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-\.][a-zA-Z0-9]+)*)|({_URL_SUBDOMAIN}?))?"
    rf"({_WORD}+(-{{1,2}}{_WORD}+)*)(?:\.([a-zA-Z\u00a1-\uffff]{{1,}}))?))\.?"
    rf"{_URL_PORT}?{_URL_PATH}?\Z"
)
_DNS_NAME = re.compile(
    r"^([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[\._]?\Z"
)


def is_url(value: str) -> bool:
    """govalidator ``IsURL`` (Kuma's MeshTrace Zipkin ``url``)."""
    if value == "" or len(value) >= 2083 or len(value.encode()) <= 3 or value.startswith("."):
        return False
    parsed = parse_url(
        "http://" + value if ":" in value and "://" not in value else value,
    )
    if parsed is None or parsed.host.startswith("."):
        return False
    if parsed.host == "" and parsed.path != "" and "." not in parsed.path:
        return False
    return _URL.match(value) is not None


def is_ip(value: str) -> bool:
    """Go ``net.ParseIP`` accepts it (no IPv6 zone)."""
    if "%" in value:
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_cidr(value: str) -> bool:
    """Go ``net.ParseCIDR`` accepts it: an IP, ``/``, a decimal prefix length in range."""
    address, slash, prefix = value.partition("/")
    if not slash or not prefix or not set(prefix) <= _DIGITS or not is_ip(address):
        return False
    bits = 32 if ipaddress.ip_address(address).version == 4 else 128
    return int(prefix) <= bits


def is_dns_name(value: str) -> bool:
    """govalidator ``IsDNSName``: a host name (not an IP), labels of at most 63 characters."""
    if value == "" or len(value.replace(".", "")) > 255:
        return False
    return not is_ip(value) and _DNS_NAME.match(value) is not None


def split_host_port(value: str) -> tuple[str, str] | None:
    """Go ``net.SplitHostPort``: ``host:port`` or ``[host]:port``; None on error."""
    colon = value.rfind(":")
    if colon < 0:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or end + 1 != colon:
            return None
        host, inner_from, port_from = value[1:end], 1, end + 1
    else:
        host, inner_from, port_from = value[:colon], 0, 0
        if ":" in host:
            return None
    if "[" in value[inner_from:] or "]" in value[port_from:]:
        return None
    return host, value[colon + 1 :]
