"""Kuma's int-or-string numbers: ``20``, ``"20.5"`` (percentages, factors, thresholds).

Kuma ``api/common/v1alpha1`` ``NewDecimalFromIntOrString`` reads an integer or a decimal
string; ``pkg/xds/envoy/listeners/v3`` ``ConvertPercentage`` turns a percentage into the
smallest exact ``FractionalPercent`` (HUNDRED, then TEN_THOUSAND, else MILLION).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from envoy.type.v3 import percent_pb2 as envoy_percent

from reconciler.errors import CompileError


def decimal(value: Any) -> Decimal:
    """An int-or-string value as a Decimal; a clear error for anything else."""
    if isinstance(value, bool):
        raise CompileError(f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(value)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CompileError(f"{value!r} is not a decimal number") from exc


def fractional_percent(value: Any) -> envoy_percent.FractionalPercent:
    """Kuma ``ConvertPercentage`` on the value as a float64, as Kuma computes it: a whole
    number -> n/HUNDRED; 100x a whole number -> 100n/TEN_THOUSAND; else
    round(10000n)/MILLION (rounding half away from zero, like Go's ``math.Round``). Float
    arithmetic is kept on purpose: ``0.07`` is 700/MILLION in Kuma, not 7/TEN_THOUSAND."""
    number = float(decimal(value))
    out = envoy_percent.FractionalPercent()
    if number.is_integer():
        out.numerator = int(number)
        out.denominator = envoy_percent.FractionalPercent.HUNDRED
    elif (100 * number).is_integer():
        out.numerator = int(100 * number)
        out.denominator = envoy_percent.FractionalPercent.TEN_THOUSAND
    else:
        scaled = 10_000 * number
        out.numerator = int(math.floor(scaled + 0.5) if scaled >= 0 else math.ceil(scaled - 0.5))
        out.denominator = envoy_percent.FractionalPercent.MILLION
    return out


def percent(value: Any) -> envoy_percent.Percent:
    """A ``Percent`` (0-100, a double) from an int-or-string value."""
    return envoy_percent.Percent(value=float(decimal(value)))
