"""How numbers are written for readers (base.numbers): chart value labels and takeaways use the same rule."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from cs_analytics.base.numbers import number, percent
from cs_analytics.outputs import plots
from cs_analytics.tables import takeaways


@pytest.mark.parametrize("value, shown", [
    (0.4, "0.4"),              # under one: a decimal, never "0"
    (103.8, "104"),            # ten and above: whole
    (9.2, "9.2"),
    (9.96, "10"),              # rounds to ten: whole
    (92.5, "93"),              # halves round up, as people round
    (0.25, "0.3"),
    (2843, "2,843"),           # thousands separator
    (1234.5, "1,235"),
    (3, "3"),                  # a whole count keeps no decimal
    (3.0, "3"),
    (0, "0"),
    (0.04, "<0.1"),            # too small for one decimal: not 0
    (-2.35, "-2.4"),
    (-0.01, ">-0.1"),
    (np.int64(15), "15"),
    (np.float32(0.4), "0.4"),
    (math.nan, "无数据"),
    (None, "无数据"),
    (pd.NA, "无数据"),
])
def test_number(value, shown):
    assert number(value) == shown


@pytest.mark.parametrize("value, shown", [(10.0, "+10"), (-53.2, "-53"), (0.23, "+0.2"), (-1.5, "-1.5"), (0.01, "≈0"), (0, "0")])
def test_signed_number(value, shown):
    assert number(value, signed=True) == shown


@pytest.mark.parametrize("share, shown", [(0.004, "0.4%"), (0.6, "60%"), (0.925, "93%"), (0.095, "9.5%"), (0.0003, "<0.1%"),
                                          (-0.053, "-5.3%"), (math.nan, "无数据")])
def test_percent(share, shown):
    assert percent(share) == shown


def test_bar_chart_values_are_written_like_the_takeaways():
    """A bar of 0.4 per 1,000 reads 0.4 on the chart, as in the sentence under it (it was printed as 0)."""
    values = pd.Series({"a": 103.8, "b": 9.2, "c": 0.4, "d": 2843.0})
    for horizontal in (True, False):
        fig = plots.bar_chart(values, "t", horizontal=horizontal)
        assert [t.get_text() for t in fig.axes[0].texts] == ["104", "9.2", "0.4", "2,843"]
        plt.close(fig)
    assert takeaways.extremes(values, "违规率", " 次/千条", ratio=False) == "违规率最高:d(2,843 次/千条),最低:c(0.4 次/千条)。"


def test_heatmap_cells_keep_a_decimal_below_ten():
    fig = plots.heatmap(pd.DataFrame({"x": [0.4, 55.0], "y": [12.5, float("nan")]}, index=["r1", "r2"]), "t")
    assert sorted(t.get_text() for t in fig.axes[0].texts) == sorted(["0.4", "55", "13"])
    plt.close(fig)


def test_an_unknown_agent_count_is_not_zero():
    assert takeaways.agent_count(15) == "15 位客服"
    assert takeaways.agent_count(pd.NA) == "客服人数未知"
    assert takeaways.agent_count(None) == "客服人数未知"
