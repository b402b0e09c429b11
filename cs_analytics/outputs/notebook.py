"""What every notebook does first: load the export (or read the run's stored load), apply the
parameters, get the findings (the run's stored ones, or computed here when asked), set up charts."""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pandas.io.formats.style import Styler

from ..base import config
from ..base.privacy import export_safe, mask_text
from . import columns
from .artefacts import figure_title, record_figure, record_summary, record_table, sheet_name
from ..findings.analyze import Findings
from ..ingest.filters import filter_messages
from ..ingest.load import LoadResult, load_logs
from .plots import FIGURE_FORMATS, save_figure, setup_style

OUTPUT_ENV = "CS_ANALYTICS_OUTPUT_DIR"
ROWS_SHOWN = 25            # a longer table shows its first rows in the HTML, with a note of the rest
SHEET_ATTR = "cs_analytics.sheet"   # frame.attrs key: the workbook sheet of a table kept with ctx.table
LOAD_FOLDER, FINDINGS_FOLDER = "load", "findings"      # under a report run's data/ folder


@dataclass
class Context:
    """A notebook's data and output folder."""

    result: LoadResult
    messages: pd.DataFrame
    out_dir: Path
    findings: Findings | None = None
    figure_formats: tuple[str, ...] = FIGURE_FORMATS

    @property
    def figures_dir(self) -> Path:
        return self.out_dir / "figures"

    @property
    def tables_dir(self) -> Path:
        return self.out_dir / "tables"

    def save(self, fig, name: str, takeaway: str | None = None) -> Path:
        """Save a figure for decks (PNG, plus SVG when ``figure_formats`` asks for it) under the run's
        figures folder, with the one-line ``takeaway`` the deck shows under it (computed from the data);
        returns the PNG path."""
        saved = save_figure(fig, name, self.figures_dir, formats=self.figure_formats)
        record_figure(self.figures_dir, name, figure_title(fig), takeaway,
                      layout={k: saved[k] for k in ("tick_labels", "label_fixes")})
        _show_saved(fig, saved["png"])
        return saved["png"]

    def summary(self, name: str):
        """A ``print`` for a notebook's takeaways that also keeps each line (masked) in
        ``<out>/summaries/<name>.json`` for the deck's 本期要点 slide."""
        lines: list[str] = []

        def say(*values, **options) -> None:
            text = " ".join(map(str, values))
            print(mask_text(text), **options)
            lines.append(text)
            record_summary(self.out_dir / "summaries", name, lines)

        return say

    def table(self, frame: pd.DataFrame, name: str, title: str, sheet: str | None = None) -> pd.DataFrame:
        """Keep ``frame`` as a key table for the run's workbook (buyer accounts dropped, text masked);
        returns ``frame`` (its data unchanged) so a cell can end with it. The frame's ``attrs`` name
        the sheet, so a long table shown (or a part of it) says where all its rows are."""
        record_table(self.tables_dir, frame, name, title, sheet)
        frame.attrs[SHEET_ATTR] = sheet_name(sheet or title)
        return frame


def shown_rows(value: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    """``value`` cut to rows pandas can show (the first and last ``display.max_rows``) when it is
    longer than that, so masking a million-row frame shown by accident masks a few dozen rows; pandas
    then prints the cut frame, with its own row count note replaced by the real one."""
    limit = pd.get_option("display.max_rows")
    if limit is None or len(value) <= limit:
        return value
    return pd.concat([value.iloc[:limit], value.iloc[-limit:]])


def _shape_note(value) -> str:
    return f"{len(value):,} rows × {value.shape[1]} columns" if isinstance(value, pd.DataFrame) else f"{len(value):,} rows"


def _more_note(value, shown) -> str:
    more = len(value) - len(shown)
    if more <= 0:
        return ""
    sheet = value.attrs.get(SHEET_ATTR)
    where = f"完整表见 workbook.xlsx 工作表「{sheet}」" if sheet else "此处未显示"
    return f"另有 {more:,} 行,{where}(first {len(shown):,} of {len(value):,} rows shown)"


def _masked_html(value: pd.DataFrame | pd.Series) -> str:
    """A frame or series as a readable table (``columns.html_table``): its first ``ROWS_SHOWN`` rows
    (the index made columns, then masked), with a note of the rows left out."""
    shown = value.head(ROWS_SHOWN)
    return columns.html_table(export_safe(columns.flat(shown)), _more_note(value, shown))


def _masked_text(value) -> str:
    cut = shown_rows(value)
    text = repr(export_safe(cut))
    if cut is not value:
        text = text.replace(f"[{len(cut)} rows x {cut.shape[1]} columns]" if isinstance(cut, pd.DataFrame)
                            else f"Length: {len(cut)}", f"[{_shape_note(value)}]")
    return text


def _masked_styler_html(styler) -> str:
    shown = copy.deepcopy(styler)                               # headers and formats go on the copy
    shown.data = export_safe(styler.data, keep_columns=True)   # the styles may name any column
    return columns.readable_styler(shown)._repr_html_()


_SAVED_TO_SHOW: list[Path] = []         # charts saved in the running cell, shown when it ends


def _show_saved(fig, png: Path) -> None:
    """In IPython, show the chart as the PNG just saved (at half its pixel size: the deck's picture,
    sharp on any screen) instead of drawing it a third time for the notebook; shown when the cell
    ends, where the inline backend would have put it. Outside IPython the figure is left alone."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):          # a kernel (notebook), not a terminal shell
        return
    import matplotlib.pyplot as plt

    if _show_pending not in shell.events.callbacks["post_execute"]:
        shell.events.register("post_execute", _show_pending)
    _SAVED_TO_SHOW.append(Path(png))
    plt.close(fig)


def _show_pending() -> None:
    from IPython.display import Image, display

    while _SAVED_TO_SHOW:
        display(Image(filename=str(_SAVED_TO_SHOW.pop(0)), retina=True))


def show_masked() -> bool:
    """Show every table in this notebook through ``privacy.export_safe`` (buyer accounts dropped, text
    masked): a frame, series or styled frame displayed, or left as a cell's last value, is an output.
    The HTML is readable (``columns``: Chinese headers, formatted values, no bare index, long tables
    cut to their first rows). Returns False outside IPython (nothing is shown there)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, _masked_html)
    formatters["text/html"].for_type(pd.Series, _masked_html)
    formatters["text/html"].for_type(Styler, _masked_styler_html)
    for kind in (pd.DataFrame, pd.Series):
        formatters["text/plain"].for_type(kind, lambda value, printer, cycle: printer.text(_masked_text(value)))
    return True


def output_dir(requested: str | Path | None) -> Path:
    """The run folder: the parameter, else $CS_ANALYTICS_OUTPUT_DIR, else reports/interactive."""
    chosen = requested or os.environ.get(OUTPUT_ENV) or (config.REPORTS_DIR / "interactive")
    path = Path(chosen)
    path.mkdir(parents=True, exist_ok=True)
    return path


def prepare(logs, profile=None, platforms=None, date_from=None, date_to=None, output=None, *, rules=None,
            taxonomy=None, recipes=None, scorecard=None, stored=None, figure_formats=None) -> Context:
    """Load ``logs`` with ``profile`` (or, when ``stored`` names a report run's data folder, read the load
    and the findings the runner stored there), keep the requested platforms and dates, set the chart
    style. ``ctx.findings`` holds the findings under ``rules``/``taxonomy``/``recipes`` (your YAML layers),
    computed when first asked unless stored ones of the same messages and layers were read.
    ``figure_formats``: what ``ctx.save`` writes, e.g. ``["png", "svg"]`` (default PNG only)."""
    setup_style()
    show_masked()
    pd.set_option("display.max_colwidth", 80)
    pd.set_option("display.width", 160)
    layers = {"rulebook": rules, "taxonomy": taxonomy, "recipes": recipes, "scorecard": scorecard}
    if stored:
        result = LoadResult.read(Path(stored) / LOAD_FOLDER)
    else:
        result = load_logs(logs, profile)
    messages = filter_messages(result.messages, platforms=platforms, date_from=date_from, date_to=date_to)
    findings = Findings.read(Path(stored) / FINDINGS_FOLDER, messages, **layers) if stored \
        else Findings(messages, **layers)
    return Context(result, findings.messages, output_dir(output), findings,
                   tuple(figure_formats) if figure_formats else FIGURE_FORMATS)
