"""Tick labels never print over each other: save_figure fits them and records where they landed."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from cs_analytics.outputs import artefacts, plots


def rectangle(width: float, height: float, angle: float = 0.0, centre=(0.0, 0.0)) -> list[list[float]]:
    turn = np.radians(angle)
    rotate = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    corners = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [width / 2, height / 2]
    return (corners @ rotate.T + centre).tolist()


def test_the_overlap_detector_catches_overlaps_and_reads_rotated_boxes():
    assert plots.overlapping([rectangle(10, 10), rectangle(10, 10, centre=(8, 0))]) == [(0, 1)]
    assert plots.overlapping([rectangle(10, 10), rectangle(10, 10, centre=(12, 0))]) == []
    assert plots.overlapping([rectangle(10, 10), rectangle(10, 10, centre=(12, 0))], gap=3) == [(0, 1)]
    # long labels at 45°: 20 px apart their strips stand 14 px apart (> 10 px high); 10 px apart they touch
    assert plots.overlapping([rectangle(100, 10, 45), rectangle(100, 10, 45, (20, 0))]) == []
    assert plots.overlapping([rectangle(100, 10, 45), rectangle(100, 10, 45, (10, 0))]) == [(0, 1)]


def crowded(boxes: dict) -> dict:
    return {axis: pairs for axis, labels in boxes.items() if (pairs := plots.overlapping([box for _, box in labels]))}


def test_thirty_long_chinese_labels_are_turned_until_none_overlap(tmp_path):
    plots.setup_style()
    labels = [f"第{i}个很长的中文类别标签" for i in range(30)]
    fig = plots.bar_chart(pd.Series(range(30), index=labels), "拥挤的图 Crowded chart")
    assert "0.x" in crowded(plots.tick_label_boxes(fig))          # as drawn, the labels print over each other
    saved = plots.save_figure(fig, "crowded", tmp_path)
    assert saved["label_fixes"] == ["axes 0 x: rotated 45°"] and not crowded(saved["tick_labels"])
    assert [text for text, _ in saved["tick_labels"]["0.x"]] == labels          # every label still shown
    width, height = Image.open(saved["png"]).size                               # boxes are pixels of the PNG
    corners = np.array([box for axis in saved["tick_labels"].values() for _, box in axis]).reshape(-1, 2)
    assert corners.min() >= -1 and (corners[:, 0] <= width + 1).all() and (corners[:, 1] <= height + 1).all()


def test_boxes_measured_on_the_fitting_draw_equal_a_fresh_draw(tmp_path):
    plots.setup_style()
    for fig in (plots.bar_chart(pd.Series(range(5), index=list("abcde")), "不挤 Roomy"),
                plots.bar_chart(pd.Series(range(30), index=[f"第{i}个很长的中文类别标签" for i in range(30)]), "挤 Crowded")):
        saved = plots.save_figure(fig, "chart", tmp_path)
        fig.set_dpi(200)
        assert saved["tick_labels"] == plots.tick_label_boxes(fig, 200)           # drawn again from scratch


def test_crowded_rows_get_smaller_labels_then_a_taller_figure(tmp_path):
    plots.setup_style()
    names = [f"客服{i:02d}号" for i in range(50)]
    fig = plots.bar_chart(pd.Series(range(50), index=names), "五十位客服 50 agents", horizontal=True)
    saved = plots.save_figure(fig, "rows", tmp_path)
    assert any("pt" in fix for fix in saved["label_fixes"]) and any("high" in fix for fix in saved["label_fixes"])
    assert not crowded(saved["tick_labels"]) and len(saved["tick_labels"]["0.y"]) == 50


@pytest.mark.slow
@pytest.mark.parametrize("run", ["full_report", "bare_report"])
def test_no_saved_figure_has_overlapping_tick_labels(run, request):
    out = request.getfixturevalue(run).out
    figures = artefacts.figures(out)
    assert figures
    for figure in figures:
        assert "tick_labels" in figure, figure["name"]
        assert not crowded(figure["tick_labels"]), (figure["name"], figure.get("label_fixes"))


def test_tick_labels_are_measured_the_same_with_an_image_hidden_while_measuring(tmp_path):
    # _draw_text_only hides images while measuring: the fixes and boxes equal those of a full draw
    import matplotlib.pyplot as plt
    from cs_analytics.outputs import plots as plots_module

    def chart():
        fig, ax = plt.subplots()
        ax.imshow(np.arange(100).reshape(10, 10))
        ax.set_xticks(range(10), [f"很长的标签 {i}" for i in range(10)])
        return fig

    hidden = plots_module.save_figure(chart(), "hidden", tmp_path / "a")
    real = plots_module._draw_text_only
    try:
        plots_module._draw_text_only = lambda fig: fig.draw_without_rendering()
        drawn = plots_module.save_figure(chart(), "drawn", tmp_path / "b")
    finally:
        plots_module._draw_text_only = real
    assert hidden["label_fixes"] == drawn["label_fixes"] and hidden["label_fixes"]
    assert hidden["tick_labels"] == drawn["tick_labels"]
    assert hidden["png"].read_bytes() == drawn["png"].read_bytes()
