"""Charts show Chinese: a CJK font is found, every glyph is drawn (no tofu), and figures save as PNG + SVG."""
from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.font_manager import FontProperties

from cs_analytics.outputs import plots

CHINESE = "客服质检：禁语、投诉、响应时长、您好、周末愉快、节日快乐"


def render_text(text: str, font_path: str) -> np.ndarray:
    fig = plt.figure(figsize=(1, 1), dpi=60)
    fig.text(0.1, 0.3, text, fontproperties=FontProperties(fname=font_path, size=30))
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., 0].copy()
    plt.close(fig)
    return pixels


def test_font_covers_chinese_text():
    path = plots.cjk_font_path()
    from matplotlib.ft2font import FT2Font

    font = FT2Font(path)
    missing = [ch for ch in CHINESE if not font.get_char_index(ord(ch))]
    assert not missing, f"{path} lacks {missing}"


def test_distinct_characters_render_distinct_glyphs():
    # missing glyphs all render as the same empty box; real glyphs differ
    path = plots.cjk_font_path()
    a, b = render_text("客", path), render_text("您", path)
    assert (a < 250).sum() > 20 and (b < 250).sum() > 20
    assert not np.array_equal(a, b)


def test_chart_with_chinese_labels_renders_without_missing_glyph_warnings(tmp_path):
    plots.setup_style()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" is a UserWarning
        fig = plots.bar_chart(pd.Series({"淘宝": 3, "京东": 5, "拼多多": 2}), CHINESE, "平台", "会话数")
        paths = plots.save_figure(fig, "chinese_chart", tmp_path, formats=("png", "svg"))
    plt.close(fig)
    assert paths["png"].stat().st_size > 5_000
    svg = paths["svg"].read_text(encoding="utf-8")
    assert "<path" in svg  # glyphs embedded as outlines, so the SVG renders without our font


def test_missing_glyph_would_be_caught():
    # the guard above is real: DejaVu Sans has no hanzi and matplotlib warns about it
    with matplotlib.rc_context({"font.family": "DejaVu Sans"}):
        fig, ax = plt.subplots()
        ax.set_title("客服")
        with pytest.warns(UserWarning, match="missing from font"):
            fig.canvas.draw()
        plt.close(fig)


def test_daily_chart_and_heatmap(tmp_path, sample_load):
    from cs_analytics.tables import overview

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fig = plots.daily_chart(overview.daily_volume(sample_load.messages), "每日消息量")
        plots.save_figure(fig, "daily", tmp_path)
        fig2 = plots.heatmap(overview.hour_weekday_matrix(sample_load.messages), "小时 × 星期")
        plots.save_figure(fig2, "heat", tmp_path, formats=("svg",))
    plt.close("all")
    assert (tmp_path / "daily.png").exists() and not (tmp_path / "daily.svg").exists()     # PNG only by default
    assert (tmp_path / "heat.png").exists() and (tmp_path / "heat.svg").exists()           # the PNG always


def test_word_cloud_is_the_same_picture_with_fonts_loaded_once(tmp_path):
    from wordcloud import WordCloud

    plots.setup_style()
    words = {"快递": 30, "发票": 12, "退款": 9, "质量问题": 7, "客服": 5, "包装": 3, "尺码": 2}
    fig = plots.word_cloud(words, "词云")
    cached = fig.axes[0].get_images()[0].get_array()
    plain = WordCloud(font_path=plots.cjk_font_path(), width=1600, height=1024, background_color="white",
                      max_words=80, colormap="tab10", prefer_horizontal=1.0, random_state=7)
    assert np.array_equal(cached, plain.generate_from_frequencies(words).to_array())   # wordcloud's own loading
    plt.close("all")


def test_platform_ids_are_drawn_by_name():
    """A chart by platform shows 京东, not the id jd: bar and heatmap ticks, trend and ECDF legends."""
    plots.setup_style()
    platforms = pd.Index(["jd", "pdd"], name="platform")

    def ticks(fig, axis="x"):
        fig.canvas.draw()
        labels = fig.axes[0].get_xticklabels() if axis == "x" else fig.axes[0].get_yticklabels()
        plt.close(fig)
        return [label.get_text() for label in labels]

    def legend(fig):
        texts = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
        plt.close(fig)
        return texts

    assert ticks(plots.bar_chart(pd.Series([3, 5], index=platforms), "平台")) == ["京东", "拼多多"]
    assert ticks(plots.heatmap(pd.DataFrame([[1.0], [2.0]], index=platforms, columns=["物流"]), "热力"), "y") == ["京东", "拼多多"]
    weekly = pd.DataFrame({"jd": [0.5, 0.6], "pdd": [0.7, 0.8]}, index=pd.to_datetime(["2025-09-15", "2025-09-22"]))
    assert legend(plots.trend_chart(weekly.rename_axis(columns="platform"), "每周")) == ["京东", "拼多多"]
    assert legend(plots.trend_chart(weekly, "每周")) == ["jd", "pdd"]          # columns not said to be platforms
    assert legend(plots.ecdf_chart({"jd": [1, 5, 30], "pdd": [2, 40]}, "ECDF", "秒", by="platform")) == ["京东", "拼多多"]
