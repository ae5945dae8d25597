"""One precision everywhere: how every report format and the CLI show a figure.

Rates with two decimals (95.20%), money to the fen (¥48,437.50), scores with two decimals
(truncated, never rounded up across a grade boundary: 89.999 is 89.99), times to the minute in
the contract's zone (2026-11-12 09:12). The JSON carries the same figures as numbers
(``calculate.rate_value``, ``score_value``, ``money_value``), so every format shows the same.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from fractions import Fraction

from core.timefmt import parse_iso, zone

RATE_PLACES = 4  # a rate 0.9520 is 95.20 %
SCORE_PLACES = 2
_RATE_QUANTUM = Decimal(1).scaleb(-RATE_PLACES)  # made once: 50,000 devices' rates are quantized
_SCORE_QUANTUM = Decimal(1).scaleb(-SCORE_PLACES)


def _decimal(value: Fraction | float | int | Decimal) -> Decimal:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def rate_value(value: float | Fraction | None) -> float | None:
    """A rate rounded half up to 4 decimals of the fraction: 0.95204 → 0.952 (95.20 %)."""
    if value is None:
        return None
    exact = Decimal(repr(value)) if type(value) is float else _decimal(value)
    return float(exact.quantize(_RATE_QUANTUM, rounding=ROUND_HALF_UP))


def score_value(value: Fraction | float | None) -> float | None:
    """A score truncated to two decimals (never rounded up across a boundary)."""
    if value is None:
        return None
    return float(_decimal(value).quantize(_SCORE_QUANTUM, rounding=ROUND_FLOOR))


def points_value(value: Fraction | float | None) -> float | None:
    """An item's points (a deduction, a bonus): two decimals, rounded half up (−1/3 is −0.33)."""
    if value is None:
        return None
    return float(_decimal(value).quantize(_SCORE_QUANTUM, rounding=ROUND_HALF_UP))


def money_value(value: Fraction | Decimal | float | None) -> float | None:
    if value is None:
        return None
    return float(_decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def pct(value: float | Fraction | None) -> str:
    """95.20%"""
    shown = rate_value(value)
    return "-" if shown is None else f"{Decimal(repr(shown)) * 100:.2f}%"


def score_text(value: float | Fraction | None) -> str:
    """89.50"""
    shown = score_value(value)
    return "-" if shown is None else f"{shown:.2f}"


def money_text(value: float | Decimal | Fraction | None) -> str:
    """¥48,437.50"""
    shown = money_value(value)
    return "-" if shown is None else f"¥{shown:,.2f}"


def minute(value: float | str | None, tz: str) -> str:
    """2026-11-12 09:12 (no seconds, no T, no offset) from epoch seconds or an ISO time."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) >= 16 and value[10] == "T":
        return f"{value[:10]} {value[11:16]}"  # the results' times are already in the contract's zone
    epoch = parse_iso(value) if isinstance(value, str) else value
    return datetime.fromtimestamp(epoch, zone(tz)).strftime("%Y-%m-%d %H:%M")
