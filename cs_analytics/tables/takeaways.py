"""One-line takeaways for charts, computed from the table the chart draws (Chinese, for the deck).

Each function takes the same Series / DataFrame the chart was drawn from and returns one sentence;
``ctx.save(fig, name, takeaway=...)`` stores it next to the figure and the deck prints it under the
chart. Only wording lives here; every number comes from the data passed in. Numbers are written by
``base.numbers.number`` (ten and above whole, below ten one decimal: 104, 0.4).
"""
from __future__ import annotations

import pandas as pd

from ..base.numbers import number, percent

__all__ = ["agent_count", "extremes", "half_change", "hotspot", "number", "percent", "spread", "top_share", "trend"]


def agent_count(count) -> str:
    """'n 位客服', or '客服人数未知' when the export names no agent accounts (a missing count, not 0)."""
    return "客服人数未知" if pd.isna(count) else f"{int(count):,} 位客服"


def top_share(counts: pd.Series, what: str, unit: str = "") -> str:
    """'<what>最多的是 X:n<unit>,占 p%(共 k 项)' for a count per category."""
    counts = pd.Series(counts).dropna()
    counts = counts[counts > 0]
    if counts.empty:
        return f"没有{what}。"
    total = counts.sum()
    top = counts.sort_values(ascending=False)
    line = f"{what}最多的是 {top.index[0]}:{number(top.iloc[0])}{unit},占 {percent(top.iloc[0] / total)}"
    if len(top) > 1:
        line += f";其次 {top.index[1]}({percent(top.iloc[1] / total)})"
    return line + f"。共 {len(top)} 项,合计 {number(total)}{unit}。"


def extremes(values: pd.Series, what: str, unit: str = "", ratio: bool = True) -> str:
    """'<what>最高 X(v<unit>),最低 Y(v<unit>)' for one value per category; ``ratio`` adds '相差 N 倍'
    when the values share a scale (not for a list of different metrics)."""
    values = pd.Series(values).dropna()
    if values.empty:
        return f"没有可比较的{what}。"
    ordered = values.sort_values(ascending=False)
    high = f"{what}最高:{ordered.index[0]}({number(ordered.iloc[0])}{unit})"
    if len(ordered) == 1:
        return high + "。"
    low = f"最低:{ordered.index[-1]}({number(ordered.iloc[-1])}{unit})"
    spread = ""
    if ratio and ordered.iloc[-1] > 0 and ordered.iloc[0] / ordered.iloc[-1] >= 1.5:
        spread = f",相差 {ordered.iloc[0] / ordered.iloc[-1]:.1f} 倍"
    return f"{high},{low}{spread}。"


def spread(values: pd.Series, what: str, unit: str = "") -> str:
    """'<what>中位数 m,90% 不超过 p90,最大 max' for a distribution."""
    values = pd.Series(values).dropna()
    if values.empty:
        return f"没有{what}数据。"
    return (f"{what}中位数 {number(values.median())}{unit},90% 不超过 {number(values.quantile(0.9))}{unit},"
            f"最大 {number(values.max())}{unit}(共 {len(values):,} 个)。")


def half_change(table: pd.DataFrame) -> tuple[int, pd.Series]:
    """(n, change): each column's mean over the last ``n`` rows minus its mean over the first ``n``,
    n = half the rows. Edge weeks may be partial, so halves are compared rather than single weeks."""
    frame = table.sort_index()
    half = max(len(frame) // 2, 1)
    return half, frame.iloc[-half:].mean() - frame.iloc[:half].mean()


def trend(table: pd.DataFrame | pd.Series, what: str, unit: str = "", combine: str = "sum") -> str:
    """Compare the later half of the weeks with the earlier half (edge weeks may be partial, so no
    single week is compared); name the series that moved most. ``combine``: how columns add up
    to the total (``sum`` for counts and per-1,000 rates, ``mean`` for shares)."""
    frame = table.to_frame() if isinstance(table, pd.Series) else table
    frame = frame.sort_index()
    if len(frame) < 2:
        return f"只有 {len(frame)} 周数据,看不出{what}的趋势。"
    total = frame.sum(axis=1) if combine == "sum" else frame.mean(axis=1)
    half, total_change = half_change(total.to_frame())
    late = total.iloc[-half:].mean()
    line = (f"{what}:后 {half} 周平均 {number(late)}{unit},前 {half} 周平均 {number(late - total_change.iloc[0])}{unit}"
            f"({number(total_change.iloc[0], signed=True)})")
    if frame.shape[1] > 1:
        change = half_change(frame)[1].dropna()
        if len(change):
            mover = change.abs().idxmax()
            line += f";变化最大的是 {mover}({number(change[mover], signed=True)})"
    return line + "。"


def hotspot(matrix: pd.DataFrame, what: str, unit: str = "", lowest: bool = False,
            row_suffix: str = "") -> str:
    """The highest (or lowest) cell of a row × column table: '<what>最高:行 × 列(v)';
    ``row_suffix`` names the row unit (点 for an hour-of-day row)."""
    stacked = matrix.stack().dropna() if len(matrix) else pd.Series(dtype=float)
    if stacked.empty:
        return f"没有{what}数据。"
    row, column = stacked.idxmin() if lowest else stacked.idxmax()
    word = "最低" if lowest else "最高"
    line = f"{what}{word}:{row}{row_suffix} × {column}({number(stacked[(row, column)])}{unit})"
    return line + f";全表中位数 {number(stacked.median())}{unit}。"
