"""Value checks shared by the policy rules: durations, counts, percentages, status codes.

Each mirrors one of Kuma's ``pkg/core/validators`` helpers and its message. A value of the
wrong type is skipped (the schema reports it); an absent value passes the ``*_or_nil`` forms.
"""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation

from reconciler import codes
from reconciler.durations import format_seconds, parse_duration
from reconciler.validate.rules.findings import Findings, Path, is_number

BANDWIDTH = re.compile(r"^(\d*)\s?([GMk]+bps)$")
FILE_PATH = re.compile(r"^((?:/[a-zA-Z0-9.:]+(?:_[a-zA-Z0-9:.]+)*(?:-[:a-zA-Z0-9.]+)*)+/?)$")
"""govalidator ``IsFilePath`` for Unix paths, which Kuma uses for log file paths."""


def _duration(f: Findings, path: Path, value: object) -> float | None:
    if not isinstance(value, str):
        return None
    seconds = parse_duration(value)
    if seconds is None:
        f.add(
            codes.DURATION_INVALID,
            path,
            f"invalid duration {value!r}: write a number with a unit, e.g. 300ms, 1s, 1h30m",
        )
    return seconds


def duration_gt_zero_or_nil(f: Findings, path: Path, value: object) -> None:
    seconds = _duration(f, path, value)
    if seconds is not None and seconds <= 0:
        f.add(codes.DURATION_INVALID, path, "must be greater than zero when defined")


def duration_not_negative_or_nil(f: Findings, path: Path, value: object) -> None:
    seconds = _duration(f, path, value)
    if seconds is not None and seconds < 0:
        f.add(codes.DURATION_INVALID, path, "must not be negative when defined")


def duration_valid_or_nil(f: Findings, path: Path, value: object) -> None:
    _duration(f, path, value)


def duration_not_negative(f: Findings, path: Path, value: object) -> None:
    """Required by the schema (which reports absence); checks the value only."""
    duration_not_negative_or_nil(f, path, value)


def duration_gt_zero(f: Findings, path: Path, value: object) -> None:
    if value is None:
        f.add(codes.SETTING_MISSING, path, "must be defined and greater than zero")
        return
    seconds = _duration(f, path, value)
    if seconds is not None and seconds <= 0:
        f.add(codes.DURATION_INVALID, path, "must be defined and greater than zero")


def duration_greater_than(f: Findings, path: Path, value: object, minimum: float) -> None:
    """Required by the schema (which reports absence); checks the value only."""
    seconds = _duration(f, path, value)
    if seconds is not None and seconds <= minimum:
        f.add(codes.DURATION_INVALID, path, f"must be greater than: {format_seconds(minimum)}")


def int_greater_than(f: Findings, path: Path, value: object, minimum: int = 0) -> None:
    if is_number(value) and value <= minimum:
        f.add(codes.NUMBER_RANGE, path, f"must be greater than {minimum}")


def value_gt_zero_or_nil(f: Findings, path: Path, value: object) -> None:
    if is_number(value) and value <= 0:
        f.add(codes.NUMBER_RANGE, path, "must be greater than zero when defined")


def uint_percentage_or_nil(f: Findings, path: Path, value: object) -> None:
    if is_number(value) and not 0 <= value <= 100:
        f.add(codes.NUMBER_RANGE, path, "must be in inclusive range [0, 100]")


def decimal_value(value: object) -> Decimal | None:
    """An int-or-string number (Kuma ``NewDecimalFromIntOrString``); None if not a number."""
    if is_number(value):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def percentage(f: Findings, path: Path, value: object, *, allow_zero: bool = True) -> None:
    """Kuma ``ValidatePercentage`` (int or decimal string in [0, 100])."""
    if value is None:
        return  # required ones are in the schema's required lists
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return
    number = decimal_value(value)
    if number is None:
        f.add(codes.NUMBER_RANGE, path, "string must be a valid number")
    elif number < 0 or number > 100:
        f.add(codes.NUMBER_RANGE, path, "must be in inclusive range [0.0, 100.0]")
    elif not allow_zero and number == 0:
        f.add(codes.NUMBER_RANGE, path, "must be greater than 0")


def status_code(f: Findings, path: Path, value: object) -> None:
    if is_number(value) and not 100 <= value < 600:
        f.add(codes.NUMBER_RANGE, path, "must be in inclusive range [100, 599]")


def port(f: Findings, path: Path, value: object, *, what: str = "port") -> None:
    if is_number(value) and not 1 <= value <= 65535:
        f.add(codes.NUMBER_RANGE, path, f"{what} must be in the range [1, 65535]")


def bandwidth(f: Findings, path: Path, value: object) -> None:
    if isinstance(value, str) and value and not BANDWIDTH.match(value):
        f.add(codes.VALUE_NOT_ALLOWED, path, "must be in kbps/Mbps/Gbps units")


def file_path(f: Findings, path: Path, value: object, message: str) -> None:
    if isinstance(value, str) and value and not FILE_PATH.match(value):
        f.add(codes.VALUE_NOT_ALLOWED, path, message)


def is_ip(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


_GO_DNS_NAME = re.compile(
    r"^([a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})(\.[a-zA-Z0-9_][a-zA-Z0-9_-]{0,62})*[._]?$"
)
DISPLAY_NAME_LABEL = "kuma.io/display-name"


def is_go_ip(value: object) -> bool:
    """Go ``net.ParseIP`` (govalidator ``IsIP``): an IPv4 or IPv6 address, no zone."""
    return isinstance(value, str) and "%" not in value and is_ip(value)


def is_dns_name(value: object) -> bool:
    """govalidator ``IsDNSName``: labels of letters, digits, '_' and '-'; never an IP."""
    if not isinstance(value, str) or value == "" or len(value.replace(".", "")) > 255:
        return False
    return not is_go_ip(value) and _GO_DNS_NAME.match(value) is not None


def display_name(f: Findings) -> str:
    """Kuma ``GetDisplayName``: the ``kuma.io/display-name`` label, else the name."""
    label = f.resource.labels.get(DISPLAY_NAME_LABEL)
    return label if isinstance(label, str) and label else f.resource.name


def name_length(f: Findings, maximum: int) -> None:
    """Kuma ``ValidateLength(RootedAt("name"), maximum, displayName)``, at the resource's name."""
    if len(display_name(f)) > maximum:
        f.add_at_root(codes.NAME_FORMAT, ("name",), f"must not be longer than {maximum} characters")


def one_of(entity: str, allowed: tuple[str, ...]) -> str:
    """Kuma ``MustBeOneOf``: ``entity must be one of: a, b``."""
    return f"{entity} must be one of: {', '.join(allowed)}"
