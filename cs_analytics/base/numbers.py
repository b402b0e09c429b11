"""How numbers are written for readers: chart value labels and takeaway sentences use ``number``.

Ten and above: a whole number with thousands separators (103.8 → 104, 2843 → 2,843); below ten: one
decimal (0.4 → 0.4, 9.2 → 9.2), so a small rate never prints as 0; whole numbers keep no decimal
(3 → 3). Halves round up, as people round (92.5 → 93, 0.25 → 0.3). A value too small for one decimal
is written ``<0.1`` (``≈0`` as a signed change), not 0. Missing values are ``无数据``.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MISSING = "无数据"


def _rounded(value: float, places: int) -> Decimal:
    """``value`` rounded half up to ``places`` decimals, from its shortest decimal form (92.5, not 92.4999…)."""
    try:
        return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:                 # beyond Decimal's 28 digits: no decimals to round anyway
        return Decimal(f"{value:.0f}")


def number(value, signed: bool = False) -> str:
    """``value`` as readers see it (rule above); ``signed`` writes a change with its sign (+1.5, -12)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return MISSING
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return ("-" if value < 0 else "+" if signed else "") + "∞"
    size = abs(value)
    sign = "-" if value < 0 else ("+" if signed else "")
    if size == 0:
        return "0"
    one = _rounded(size, 1)
    if one >= 10 or size == int(size):
        return sign + f"{_rounded(size, 0):,}"
    if one == 0:
        return "≈0" if signed else ("<0.1" if value > 0 else ">-0.1")
    return sign + f"{one}"


def percent(share, signed: bool = False) -> str:
    """A share (0.004) as a percentage by the same rule: 0.4%, 9.5%, 60%."""
    try:
        value = float(share) * 100
    except (TypeError, ValueError):
        return MISSING
    text = number(value, signed)
    return text if text == MISSING else text + "%"
