"""Charts: one CJK font resolved once, the house style, and save_figure() for deck-ready output.

Font choice: an installed system CJK font when present (Noto Sans CJK SC, Source Han Sans SC,
WenQuanYi, Microsoft YaHei, PingFang SC, SimHei), else the Noto Sans CJK SC that the ``mplfonts``
package ships (a dependency, so every install has one). ``cjk_font_path()`` also serves word clouds.
"""
from __future__ import annotations

import math
import re
import warnings
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.image import AxesImage

from ..base.numbers import number
from .columns import shown, shown_labels

PREFERRED_FONTS = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "Hiragino Sans GB", "SimHei",
)
# Characters every chart must be able to draw (checked when the font is chosen).
PROBE_TEXT = "客服质检禁语投诉响应时长礼貌您好周末愉快节日快乐"

# Every chart is drawn at the aspect of the deck's chart box (outputs/deck.py CHART_BOX, 9.0 × 5.8 in),
# so a chart fills its slide without distortion.
FIGSIZE = (10, 6.4)
LABEL_GAP_PX = 4.0          # tick labels of one axis must stay this far apart (pixels at the save dpi)
MIN_LABEL_SIZE = 7          # shrinking tick labels stops here (points)
MAX_GROWTH = 2.0            # a figure grows at most this much to make room for its labels
ORDERED_LABEL = re.compile(r"^[\d\s.,:%+\-−/WT]+$")    # numbers, hours, dates, weeks: every other one may go

PALETTE = ["#1f5fa8", "#e4572e", "#29a36a", "#f3a712", "#7d4e9f", "#5b8e7d", "#c1666b", "#4a4a4a"]


def _covers(path: str, text: str = PROBE_TEXT) -> bool:
    try:
        font = matplotlib.ft2font.FT2Font(path)
    except Exception:
        return False
    return all(font.get_char_index(ord(ch)) for ch in text)


def bundled_font() -> Path | None:
    """The Noto Sans CJK SC file the ``mplfonts`` package ships, or None."""
    try:
        import mplfonts
    except ImportError:
        return None
    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    return path if path.exists() else None


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """Path of the CJK font used for charts and word clouds (system font first, bundled fallback)."""
    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for name in PREFERRED_FONTS:
        path = by_name.get(name)
        if path and _covers(path):
            return path
    bundled = bundled_font()
    if bundled and _covers(str(bundled)):
        return str(bundled)
    raise RuntimeError(
        "no font with Chinese glyphs found: reinstall the package (it depends on mplfonts, which ships "
        "Noto Sans CJK SC) or install one, e.g. `apt-get install fonts-noto-cjk`"
    )


@lru_cache(maxsize=1)
def setup_style() -> str:
    """Register the CJK font and apply the house style to matplotlib; returns the font family name."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(path)
    family = font_manager.FontProperties(fname=path).get_name()
    plt.rcParams.update({
        "font.family": "sans-serif",
        "font.sans-serif": [family, "DejaVu Sans"],
        "axes.unicode_minus": False,
        "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "figure.figsize": FIGSIZE,
        "figure.dpi": 100,
        "savefig.bbox": "tight",
        "svg.fonttype": "path",           # SVGs carry glyph outlines: they render without our font
    })
    return family


def _drawn_labels(axis) -> list:
    """The tick labels ``axis`` draws: visible, non-empty, of ticks inside the view (major and minor)."""
    labels = []
    for tick in axis._update_ticks():         # the ticks the next draw shows (matplotlib's own choice)
        for label in (tick.label1, tick.label2):
            if label.get_visible() and label.get_text().strip():
                labels.append(label)
    return labels


def _corners(label, renderer) -> np.ndarray:
    """The four corners (pixels) of a tick label's text box, rotated with the text."""
    outer = label.get_window_extent(renderer)
    angle = label.get_rotation() % 180
    if min(angle % 90, 90 - angle % 90) < 0.5:            # upright or sideways: the box is the extent
        return np.array([[outer.x0, outer.y0], [outer.x1, outer.y0], [outer.x1, outer.y1], [outer.x0, outer.y1]])
    label.set_rotation(0)                                  # the text's own width and height …
    flat = label.get_window_extent(renderer)
    label.set_rotation(angle)
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [flat.width / 2, flat.height / 2]
    turn = np.radians(angle)
    rotate = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    return half @ rotate.T + [(outer.x0 + outer.x1) / 2, (outer.y0 + outer.y1) / 2]   # … around the extent's centre


def box_overlap(a, b) -> float:
    """How deep two convex boxes (corner lists) overlap, in pixels (separating-axis test); ≤ 0 when apart."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    depth = np.inf
    for shape in (a, b):
        for i in range(len(shape)):
            edge = shape[(i + 1) % len(shape)] - shape[i]
            normal = np.array([-edge[1], edge[0]]) / (np.hypot(*edge) or 1.0)
            pa, pb = a @ normal, b @ normal
            depth = min(depth, min(pa.max(), pb.max()) - max(pa.min(), pb.min()))
    return float(depth)


def overlapping(boxes: list, gap: float = 0.0) -> list[tuple[int, int]]:
    """Pairs of boxes (corner lists) closer than ``gap`` pixels (overlapping when ``gap`` is 0)."""
    if len(boxes) < 2:
        return []
    corners = np.asarray(boxes, dtype=float)
    low, high = corners.min(axis=1), corners.max(axis=1)      # upright extents first: only their close pairs
    near = ((low[:, None, :] - gap < high[None, :, :]) & (low[None, :, :] - gap < high[:, None, :])).all(axis=2)
    return [(i, j) for i, j in zip(*np.nonzero(np.triu(near, k=1)))
            if box_overlap(corners[i], corners[j]) > -gap]


def _axes_labels(fig, renderer) -> dict[tuple[int, str], tuple]:
    """(axes number, "x"|"y") → (axis, labels, corner boxes) for every axis that draws tick labels."""
    found = {}
    for number, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison:
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = _drawn_labels(axis)
            if labels:
                found[(number, name)] = (axis, labels, [_corners(label, renderer) for label in labels])
    return found


def _relayout(fig) -> None:
    """Redo the tight layout after labels changed (figures laid out by hand have no tick labels)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig.tight_layout()


def _next_fix(fig, which: str, axis, labels, done: set, crowding: float, start_size) -> str | None:
    """Apply the next fix for crowded tick labels on ``axis`` (``which`` "x"/"y"); returns what it did.
    Preference: rotate x labels (45°, then 90°), drop every other label of an ordered axis (hours,
    dates), smaller labels, a larger figure."""
    texts = [label.get_text() for label in labels]
    if which == "x" and "rotate45" not in done and labels[0].get_rotation() % 180 < 45:
        done.add("rotate45")
        for label in axis.get_ticklabels(which="both"):
            label.set(rotation=45, ha="right", va="top", rotation_mode="anchor")
        return "rotated 45°"
    if which == "x" and "rotate90" not in done and abs(labels[0].get_rotation() % 180 - 90) > 0.5:
        done.add("rotate90")
        for label in axis.get_ticklabels(which="both"):
            label.set(rotation=90, ha="right", va="center", rotation_mode="anchor")
        return "rotated 90°"
    if all(ORDERED_LABEL.match(t.strip()) for t in texts) and len(labels) > 3 and "thin" not in done:
        done.add("thin")
        for k, label in enumerate(labels):
            label.set_visible(k % 2 == 0)
        return "every other label"
    size = labels[0].get_fontsize()
    if size > MIN_LABEL_SIZE:
        smaller = max(MIN_LABEL_SIZE, min(size - 1, math.floor(size / crowding)))
        for label in axis.get_ticklabels(which="both"):
            label.set_fontsize(smaller)
        return f"labels {smaller:g}pt"
    width, height = fig.get_size_inches()
    factor = min(max(crowding * 1.1, 1.15), 1.5)             # margins do not grow: ask a little more
    if which == "x" and width * factor <= start_size[0] * MAX_GROWTH:
        fig.set_size_inches(width * factor, height)
        return f"figure {width * factor:.1f} in wide"
    if which == "y" and height * factor <= start_size[1] * MAX_GROWTH:
        fig.set_size_inches(width, height * factor)
        return f"figure {height * factor:.1f} in high"
    return None


def fit_tick_labels(fig, dpi: int = 200, rounds: int = 20) -> list[str]:
    """Draw ``fig`` at ``dpi`` and, while tick labels of one axis overlap, fix them (``_next_fix``);
    returns what was done, e.g. ``["axes 0 x: rotated 45°"]``."""
    return _fit_tick_labels(fig, rounds)[0]


def _draw_text_only(fig) -> None:
    """``fig.draw_without_rendering()`` with its images hidden: tick labels are placed as when drawn,
    and a big image (a word cloud) is not resampled just to measure them."""
    images = [image for image in fig.findobj(AxesImage) if image.get_visible()]
    for image in images:
        image.set_visible(False)
    try:
        fig.draw_without_rendering()
    finally:
        for image in images:
            image.set_visible(True)


def _fit_tick_labels(fig, rounds: int = 20) -> tuple[list[str], bool]:
    """``fit_tick_labels``, also saying whether the figure is unchanged since its last draw (so
    ``tick_label_boxes`` can measure it without drawing it again)."""
    done: dict[tuple[int, str], set] = {}
    actions: list[str] = []
    start_size = tuple(fig.get_size_inches())
    for _ in range(rounds):
        _draw_text_only(fig)
        renderer = fig.canvas.get_renderer()
        crowded = {key: value for key, value in _axes_labels(fig, renderer).items()
                   if overlapping(value[2], LABEL_GAP_PX)}
        if not crowded:
            return actions, True
        changed = False
        for key, (axis, labels, boxes) in crowded.items():
            along = 0 if key[1] == "x" else 1                  # how much room the labels need / have
            needed = max(np.ptp(b[:, along]) for b in boxes) + LABEL_GAP_PX
            spacing = np.diff(sorted(b[:, along].mean() for b in boxes))
            crowding = needed / max(float(spacing.min()) if len(spacing) else needed, 1.0)
            action = _next_fix(fig, key[1], axis, labels, done.setdefault(key, set()), crowding, start_size)
            if action:
                actions.append(f"axes {key[0]} {key[1]}: {action}")
                changed = True
        if not changed:
            return actions, True
        _relayout(fig)
    return actions, False


def tick_label_boxes(fig, dpi: int = 200, drawn: bool = False) -> dict[str, list]:
    """The drawn tick labels of ``fig`` at ``dpi`` as ``{"<axes>.<x|y>": [[text, [[x, y] × 4]], …]}``,
    corners in pixels of the saved PNG (origin top left), as ``savefig(bbox_inches="tight")`` crops it.
    ``drawn``: the figure was drawn at ``dpi`` and not changed since (no need to draw it again)."""
    if not drawn:
        _draw_text_only(fig)
    renderer = fig.canvas.get_renderer()
    left, top = 0.0, fig.bbox.height
    if plt.rcParams["savefig.bbox"] == "tight":
        tight = fig.get_tightbbox(renderer).padded(plt.rcParams["savefig.pad_inches"])
        left, top = tight.x0 * dpi, tight.y1 * dpi
    return {f"{number}.{name}": [[label.get_text(), [[round(float(x - left), 1), round(float(top - y), 1)] for x, y in box]]
                                 for label, box in zip(labels, boxes)]
            for (number, name), (_, labels, boxes) in _axes_labels(fig, renderer).items()}


FIGURE_FORMATS = ("png",)           # what save_figure writes unless asked for more (e.g. ("png", "svg"))


def save_figure(fig, name: str, out_dir: str | Path, dpi: int = 200, formats=FIGURE_FORMATS) -> dict:
    """Save ``fig`` as ``<out_dir>/<name>.png`` (deck resolution), and ``.svg`` when ``formats`` has
    it, after fitting its tick labels (``fit_tick_labels``); returns the path of each format saved,
    the fixes made (``label_fixes``) and the final tick-label boxes (``tick_labels``, pixels of the PNG)."""
    formats = tuple(dict.fromkeys(("png", *formats)))       # the PNG always: decks and pages show it
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {kind: out / f"{name}.{kind}" for kind in formats}
    shown_dpi = fig.dpi
    fig.set_dpi(dpi)
    try:
        fixes, drawn = _fit_tick_labels(fig)
        boxes = tick_label_boxes(fig, dpi, drawn=drawn)
    finally:
        fig.set_dpi(shown_dpi)
    for kind, path in paths.items():
        fig.savefig(path, dpi=dpi) if kind == "png" else fig.savefig(path)
    return {**paths, "label_fixes": fixes, "tick_labels": boxes}


def bar_chart(series, title: str, xlabel: str = "", ylabel: str = "", horizontal: bool = False,
              color: str | None = None):
    """A labelled bar chart of a Series (index = categories), each bar's value printed by ``base.numbers.number``
    (104, 0.4: a small value is not printed as 0), ids shown by name (``columns.shown``: jd → 京东);
    returns the figure."""
    setup_style()
    series = shown(series)
    fig, ax = plt.subplots()
    kind = "barh" if horizontal else "bar"
    series.plot(kind=kind, ax=ax, color=color or PALETTE[0])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if horizontal:
        ax.invert_yaxis()
        for p in ax.patches:
            ax.annotate(number(p.get_width()), (p.get_width(), p.get_y() + p.get_height() / 2),
                        va="center", ha="left", fontsize=9, xytext=(3, 0), textcoords="offset points")
    else:
        for p in ax.patches:
            ax.annotate(number(p.get_height()), (p.get_x() + p.get_width() / 2, p.get_height()),
                        ha="center", va="bottom", fontsize=9)
        ax.tick_params(axis="x", labelrotation=0)
    fig.tight_layout()
    return fig


DAY_TYPE_COLORS = {"weekend": "#dfe8f5", "holiday": "#fbe3d6", "makeup_workday": "#e8f3e8"}


def daily_chart(daily, title: str, column: str = "messages"):
    """Line of ``column`` per day from ``overview.daily_volume``, weekends/holidays/调休 shaded."""
    import pandas as pd
    from matplotlib.patches import Patch

    from ..base.holidays import DAY_TYPE_LABELS

    setup_style()
    fig, ax = plt.subplots()
    for _, row in daily.iterrows():
        color = DAY_TYPE_COLORS.get(row["day_type"])
        if color:
            ax.axvspan(row["date"] - pd.Timedelta(hours=12), row["date"] + pd.Timedelta(hours=12),
                       color=color, lw=0)
    ax.plot(daily["date"], daily[column], marker="o", ms=3, color=PALETTE[0])
    ax.set_title(title)
    ax.set_ylabel(column)
    handles = [Patch(color=c, label=DAY_TYPE_LABELS[k]) for k, c in DAY_TYPE_COLORS.items()
               if (daily["day_type"] == k).any()]
    if handles:
        ax.legend(handles=handles, loc="upper left", frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def heatmap(table, title: str, xlabel: str = "", ylabel: str = "", fmt: str | None = None):
    """A labelled heatmap of a DataFrame (rows × columns); cell values printed when they fit, by
    ``base.numbers.number`` or ``fmt``; ids shown by name (``columns.shown``)."""
    import numpy as np

    setup_style()
    table = shown(table)
    fig, ax = plt.subplots()                     # column labels are turned by save_figure when they crowd
    image = ax.imshow(table.to_numpy(), aspect="auto", cmap="Blues")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    values = table.to_numpy(dtype=float)
    if values.size and values.shape[0] <= 25 and values.shape[1] <= 16:   # numbers in cells when they fit
        finite = values[~np.isnan(values)]
        middle = (finite.min() + finite.max()) / 2 if finite.size else 0
        for (row, col), value in np.ndenumerate(values):
            if not np.isnan(value):
                text = number(value) if fmt is None else fmt.format(value)
                ax.text(col, row, text, ha="center", va="center", fontsize=8, color="white" if value > middle else "#333333")
    fig.colorbar(image, ax=ax, shrink=0.6)
    fig.tight_layout()
    return fig


def histogram(values, title: str, xlabel: str, bins=30, log_x: bool = False):
    """A histogram with the median marked."""
    import numpy as np

    setup_style()
    fig, ax = plt.subplots()
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    if log_x and len(data):
        data = data[data > 0]
        bins = np.logspace(np.log10(data.min()), np.log10(data.max()), bins) if len(data) else bins
        ax.set_xscale("log")
    ax.hist(data, bins=bins, color=PALETTE[0], alpha=0.85)
    if len(data):
        median = float(np.median(data))
        ax.axvline(median, color=PALETTE[1], ls="--", label=f"中位数 median = {median:.1f}")
        ax.legend(frameon=False)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("数量 count")
    fig.tight_layout()
    return fig


def ecdf_chart(groups: dict, title: str, xlabel: str, marks=(30, 180), log_x: bool = True, by: str | None = None):
    """Cumulative share of values at or below x, one line per group ({name: values}, the names ids of
    column ``by`` when given: platform jd is drawn as 京东); ``marks`` draws vertical lines at the
    platforms' thresholds (seconds)."""
    import numpy as np

    setup_style()
    fig, ax = plt.subplots()
    names = shown_labels(pd.Index(list(groups), name=by))
    for i, (name, values) in enumerate(zip(names, groups.values())):
        data = np.sort(np.asarray(values, dtype=float))
        data = data[~np.isnan(data)]
        if log_x:
            data = data[data > 0]
        if len(data):
            ax.step(data, np.arange(1, len(data) + 1) / len(data), where="post", label=str(name),
                    color=PALETTE[i % len(PALETTE)])
    for mark in marks:
        ax.axvline(mark, color="#999999", ls=":", lw=1)
        ax.annotate(f"{mark:g}s", (mark, 0.02), fontsize=8, color="#666666", xytext=(3, 0), textcoords="offset points")
    if log_x:
        ax.set_xscale("log")
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("累计占比 cumulative share")
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


def interval_chart(table, title: str, xlabel: str = "", value: str = "diff", low: str = "ci_low",
                   high: str = "ci_high", flag: str | None = "significant"):
    """One horizontal interval per row (index = labels): the point ``value`` with a [low, high] whisker,
    a line at 0, and rows where ``flag`` is True drawn in the accent colour (before/after panels)."""
    import numpy as np

    setup_style()
    data = shown(table.dropna(subset=[value]))
    fig, ax = plt.subplots(figsize=(10, 0.45 * max(len(data), 4) + 1.5))
    y = np.arange(len(data))
    colors = [PALETTE[1] if flag and bool(f) else PALETTE[0] for f in (data[flag] if flag else [False] * len(data))]
    ax.errorbar(data[value], y, xerr=[data[value] - data[low], data[high] - data[value]], fmt="none",
                ecolor="#999999", elinewidth=2, capsize=3)
    ax.scatter(data[value], y, color=colors, zorder=3)
    ax.axvline(0, color="#333333", lw=1)
    ax.set_yticks(y, [str(i) for i in data.index])
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    fig.tight_layout()
    return fig


def trend_chart(table, title: str, ylabel: str = "", top: int | None = 6):
    """Lines over time: one per column of ``table`` (index = week or day); the ``top`` largest columns,
    ids shown by name (``columns.shown``: columns named "platform" draw jd as 京东)."""
    setup_style()
    table = shown(table)
    if top is not None and table.shape[1] > top:
        table = table[table.sum().sort_values(ascending=False).index[:top]]
    fig, ax = plt.subplots()
    for i, column in enumerate(table.columns):
        ax.plot(list(table.index), table[column].to_numpy(), marker="o", ms=3, label=str(column),
                color=PALETTE[i % len(PALETTE)])
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize=9, ncols=2)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


@lru_cache(maxsize=1)
def _font_loader():
    """PIL's ``ImageFont`` with ``truetype`` remembering each (file, size) it loaded, for wordcloud."""
    from types import SimpleNamespace

    from PIL import ImageFont

    return SimpleNamespace(truetype=lru_cache(maxsize=512)(ImageFont.truetype), TransposedFont=ImageFont.TransposedFont)


@contextmanager
def _fonts_loaded_once():
    """wordcloud loads the font file anew for every size it tries (thousands of loads of the 16 MB CJK
    font for one cloud); inside this block each (file, size) is loaded once and the font reused."""
    import wordcloud.wordcloud as module

    own = module.ImageFont
    module.ImageFont = _font_loader()
    try:
        yield
    finally:
        module.ImageFont = own


def word_cloud(frequencies: dict[str, float], title: str, max_words: int = 80):
    """A word cloud of {phrase: weight} drawn with the CJK font (wordcloud's default font has no hanzi)."""
    from wordcloud import WordCloud

    setup_style()
    fig, ax = plt.subplots()
    ax.set_title(title)
    ax.axis("off")
    if frequencies:
        cloud = WordCloud(font_path=cjk_font_path(), width=1600, height=round(1600 * FIGSIZE[1] / FIGSIZE[0]), background_color="white",
                          max_words=max_words, colormap="tab10", prefer_horizontal=1.0, random_state=7)
        with _fonts_loaded_once():
            ax.imshow(cloud.generate_from_frequencies(frequencies), interpolation="bilinear")
    else:
        ax.text(0.5, 0.5, "没有命中 no hits", ha="center", va="center")
    fig.tight_layout()
    return fig


def scorecard_chart(cards, trends, columns: dict[str, str], title: str, name_column: str | None = None,
                    max_rows: int = 20):
    """A ranked table with a sparkline per agent and measure: ``cards`` (index = agent; columns
    ``rank`` and ``composite`` plus the keys of ``columns``) and ``trends`` (index = agent, week) with
    the same measure columns. Each cell draws the weekly line (one y range per measure, so rows
    compare) and prints the period value; rows are the first ``max_rows`` agents in ``cards``' order."""
    import numpy as np
    import pandas as pd

    setup_style()
    shown = cards.head(max_rows)
    measures = list(columns)
    n_rows = len(shown)
    fig = plt.figure(figsize=(11, 0.42 * n_rows + 1.3))
    grid = fig.add_gridspec(n_rows + 1, len(measures) + 1, width_ratios=[2.6] + [2] * len(measures),
                            hspace=0.25, wspace=0.15, left=0.02, right=0.98, top=1 - 0.75 / fig.get_figheight(),
                            bottom=0.2 / fig.get_figheight())
    header = fig.add_subplot(grid[0, 0])
    header.axis("off")
    header.text(0, 0.3, "排名 · 客服", fontsize=10, va="center")
    for j, measure in enumerate(measures, start=1):
        ax = fig.add_subplot(grid[0, j])
        ax.axis("off")
        ax.text(0.5, 0.3, columns[measure], fontsize=10, ha="center", va="center")
    limits = {}                                       # one y range per measure, so rows compare
    for measure in measures:
        values = trends[measure].dropna() if measure in trends else []
        if len(values):
            pad = max((values.max() - values.min()) * 0.08, 0.5)
            limits[measure] = (values.min() - pad, values.max() + pad)
    for i, (agent, row) in enumerate(shown.iterrows(), start=1):
        label = fig.add_subplot(grid[i, 0])
        label.axis("off")
        rank = "—" if pd.isna(row.get("rank")) else f"{int(row['rank'])}"
        label.text(0, 0.5, f"{rank:>3}  {agent}", fontsize=9, va="center")
        own = trends.xs(agent, level=0) if agent in trends.index.get_level_values(0) else None
        for j, measure in enumerate(measures, start=1):
            ax = fig.add_subplot(grid[i, j])
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            values = own[measure].dropna() if own is not None and measure in own else None
            if values is not None and len(values) > 1:
                ax.plot(range(len(values)), values.to_numpy(), color=PALETTE[0], lw=1.2)
                ax.plot(len(values) - 1, values.iloc[-1], "o", ms=3, color=PALETTE[1])
                ax.set_xlim(-0.5, len(values) + 2.5)
                ax.set_ylim(*limits[measure])
            value = row.get(measure, np.nan)
            ax.text(0.98, 0.5, "—" if not np.isfinite(value) else f"{value:.0f}", transform=ax.transAxes,
                    ha="right", va="center", fontsize=9)
    fig.suptitle(title, fontsize=12)
    return fig
