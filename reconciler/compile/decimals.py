"""Kuma's int-or-string numbers: ``20``, ``"20.5"`` (percentages, factors, thresholds).

Kuma ``api/common/v1alpha1`` ``NewDecimalFromIntOrString`` reads an integer or a decimal
string; ``pkg/xds/envoy/listeners/v3`` ``ConvertPercentage`` turns a percentage into the
smallest exact ``FractionalPercent`` (HUNDRED, then TEN_THOUSAND, else MILLION).
"""

from __future__ import annotations

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
    """Kuma ``ConvertPercentage``: 20 -> 20/HUNDRED, 20.5 -> 2050/TEN_THOUSAND, else MILLION."""
    number = decimal(value)
    out = envoy_percent.FractionalPercent()
    if number == number.to_integral_value():
        out.numerator = int(number)
        out.denominator = envoy_percent.FractionalPercent.HUNDRED
    elif (number * 100) == (number * 100).to_integral_value():
        out.numerator = int(number * 100)
        out.denominator = envoy_percent.FractionalPercent.TEN_THOUSAND
    else:
        out.numerator = int((number * 10_000).quantize(Decimal(1)))
        out.denominator = envoy_percent.FractionalPercent.MILLION
    return out


def percent(value: Any) -> envoy_percent.Percent:
    """A ``Percent`` (0-100, a double) from an int-or-string value."""
    return envoy_percent.Percent(value=float(decimal(value)))
