"""Confidence intervals for shares (escalation rate, apology rate …), so small groups are not over-read."""
from __future__ import annotations

import numpy as np
import pandas as pd


def wilson_interval(successes, totals, confidence: float = 0.95) -> tuple[pd.Series, pd.Series]:
    """Wilson score interval of ``successes / totals`` (element-wise); NaN where ``totals`` is 0.

    Better than the normal approximation for small groups and for rates near 0 or 1.
    """
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = np.where(n > 0, centre - half, np.nan), np.where(n > 0, centre + half, np.nan)
    index = successes.index if isinstance(successes, pd.Series) else None
    return pd.Series(np.clip(low, 0, 1), index=index), pd.Series(np.clip(high, 0, 1), index=index)
