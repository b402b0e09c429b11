"""Readable tables: the column dictionary (resources/columns.yaml) gives each column id a Chinese header,
an English secondary and a format; the notebook HTML, the workbook and the deck all head and format
their tables with it.

``header(id, style)`` is a column's header ("每千条违规 per 1,000 msgs", or HTML); ``format_value`` one value;
``flat(frame)`` a frame with its index as columns (a bare 0..n index dropped); ``measured`` heads
columns named by a value (a platform, a type) by the measure their cells hold; ``html_table`` the
HTML a notebook shows, ``readable_styler`` the same for a styled frame; ``excel_format`` the number
format the workbook gives a column.
"""
from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import config
from ..base.layering import load_yaml

DICTIONARY = config.RESOURCES_DIR / "columns.yaml"
FORMATS = ("percent", "decimal1", "decimal2", "decimal3", "integer", "yesno", "text", "label", "date", "datetime", "auto")
EXCEL_FORMATS = {"percent": "0.0%", "decimal1": "#,##0.0", "decimal2": "#,##0.00", "decimal3": "0.000",
                 "integer": "#,##0", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
MISSING = "—"
YES_NO = ("是", "否")
STYLES = ("plain", "zh", "html")
SHORT_TEXT = 24                 # characters: a column of values no longer than this is not wrapped in HTML
_CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
_MEASURE = re.compile(r"[a-z0-9_]+")        # the id before the colon of a `measured` column
_ENGLISH_TAIL = re.compile(r"^(?P<zh>.*[\u2e80-\u9fff\uff00-\uffef][^ ]*) (?P<en>[ -~]+)$")


class ColumnDictionaryError(ValueError):
    """The column dictionary has a bad entry (the message names the file and the column)."""


@dataclass(frozen=True)
class Column:
    """How one column is headed and formatted."""

    id: str
    zh: str
    en: str
    format: str


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern
    zh: str
    en: str
    format: str


class _Named(str):
    """A pattern group's text that also offers ``.zh`` / ``.en``: the header of the column it names."""

    def __getattr__(self, name: str) -> str:
        if name in ("zh", "en"):
            found = _lookup(str(self))
            return getattr(found, name) if found else str(self)
        raise AttributeError(name)


def _entry(path: Path, column: str, spec, what: str = "column") -> tuple[str, str, str]:
    where = f"{path}: {what} {column!r}"
    if not isinstance(spec, dict):
        raise ColumnDictionaryError(f"{where}: must be a mapping with zh, en and format")
    missing = [k for k in ("zh", "en", "format") if not isinstance(spec.get(k), str) or not spec[k].strip()]
    if missing:
        raise ColumnDictionaryError(f"{where}: needs {', '.join(missing)} (non-empty text)")
    unknown = set(spec) - {"zh", "en", "format", "match"}
    if unknown:
        raise ColumnDictionaryError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if spec["format"] not in FORMATS:
        raise ColumnDictionaryError(f"{where}: format {spec['format']!r} is not one of {', '.join(FORMATS)}")
    return spec["zh"].strip(), spec["en"].strip(), spec["format"]


@lru_cache(maxsize=4)
def load_dictionary(path: str | Path = DICTIONARY) -> tuple[dict[str, Column], tuple[_Pattern, ...], dict[str, Column]]:
    """The dictionary's columns by id, its patterns, and its columns by Chinese header;
    ``ColumnDictionaryError`` naming the file and the column for a bad entry."""
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ColumnDictionaryError(f"{path}: no such column dictionary") from None
    except Exception as exc:        # a YAML error
        raise ColumnDictionaryError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
        raise ColumnDictionaryError(f"{path}: must be a mapping with `columns` (and optionally `patterns`)")
    columns, by_zh = {}, {}
    for column, spec in data["columns"].items():
        zh, en, fmt = _entry(path, str(column), spec)
        if zh in by_zh:
            raise ColumnDictionaryError(f"{path}: column {column!r}: zh {zh!r} is already the header of {by_zh[zh].id!r}")
        columns[str(column)] = by_zh[zh] = Column(str(column), zh, en, fmt)
    patterns = []
    for i, spec in enumerate(data.get("patterns") or [], start=1):
        name = spec.get("match") if isinstance(spec, dict) else None
        if not isinstance(name, str):
            raise ColumnDictionaryError(f"{path}: pattern {i}: needs `match`, a regex")
        zh, en, fmt = _entry(path, name, spec, "pattern")
        try:
            regex = re.compile(name)
        except re.error as exc:
            raise ColumnDictionaryError(f"{path}: pattern {name!r}: not a valid regex: {exc}") from None
        for text in (zh, en):
            fields = set(re.findall(r"\{(\w+)", text))
            if fields - set(regex.groupindex):
                raise ColumnDictionaryError(f"{path}: pattern {name!r}: {text!r} names a group the regex lacks")
        patterns.append(_Pattern(regex, zh, en, fmt))
    return columns, tuple(patterns), by_zh


def _lookup(name: str, path: str | Path = DICTIONARY) -> Column | None:
    columns, patterns, by_zh = load_dictionary(path)
    if name in columns:
        return columns[name]
    for p in patterns:
        m = p.regex.fullmatch(name)
        if m:
            groups = {k: _Named(v) for k, v in m.groupdict().items()}
            return Column(name, p.zh.format(**groups), p.en.format(**groups), p.format)
    return by_zh.get(name)


def column(name, path: str | Path = DICTIONARY) -> Column:
    """The dictionary's entry for column ``name`` (by id, by pattern, or by its Chinese header); a name
    it does not know is headed as it is ("中文 English" split in two) and formatted ``auto``. A tuple
    (MultiIndex columns) is headed level by level, formatted as its last known level. A ``measured``
    name ``<measure>:<value>`` is headed by the value over the measure's English, formatted as the measure."""
    if isinstance(name, tuple):
        parts = [column(n, path) for n in name if str(n) != ""]
        known = [p for p in parts if p.format != "auto"]
        return Column(" ".join(map(str, name)), " · ".join(p.zh for p in parts), " · ".join(p.en for p in parts if p.en),
                      known[-1].format if known else "auto")
    text = "" if name is None else str(name)
    found = _lookup(text, path)
    if found:
        return found
    measured_as = _measure(text, path)
    if measured_as:                                     # `measured`: within_180s:jd
        shown = column(text.partition(":")[2], path)
        return Column(text, shown.zh, measured_as.en, measured_as.format)
    split = _ENGLISH_TAIL.match(text)
    if split:
        return Column(text, split["zh"], split["en"], "auto")
    return Column(text, text, "", "auto")


def measured(frame: pd.DataFrame, measure: str, names=None) -> pd.DataFrame:
    """``frame`` with its columns (or ``names`` of them) renamed ``<measure>:<column>``: a column named
    by a value (a platform, a complaint type) whose cells are one measure (``within_180s``,
    ``share_of_complaints``) is then headed by the value (京东) and formatted as the measure (percent)."""
    names = list(frame.columns) if names is None else list(names)
    return frame.rename(columns={c: f"{measure}:{c}" for c in names})


def is_chinese(name) -> bool:
    """Whether a header is already Chinese (has a CJK character)."""
    return bool(_CJK.search(str(name)))


def header(name, style: str = "plain") -> str:
    """A column's header: ``plain`` "违规率 per 1,000" (the workbook, the deck), ``zh`` "违规率" (a narrow
    deck table), ``html`` the Chinese with the English small under it (escaped, for a <th>)."""
    if style not in STYLES:
        raise ValueError(f"style is one of {STYLES}")
    c = column(name)
    if style == "zh" or not c.en:
        return html.escape(c.zh) if style == "html" else c.zh
    if style == "html":
        return f"{html.escape(c.zh)}<br><small>{html.escape(c.en)}</small>"
    return f"{c.zh} {c.en}"


# ------------------------------------------------------------------------------------- values ---
def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def format_value(value, fmt: str, decimals: int = 2) -> str:
    """``value`` as text in format ``fmt`` (``decimals``: for ``auto`` numbers); a missing value is —,
    True/False are 是/否 in every format."""
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return "、".join(format_value(v, "text") for v in value)
    if _missing(value):
        return MISSING
    if isinstance(value, (bool, np.bool_)):
        return YES_NO[0] if value else YES_NO[1]
    if fmt == "label" and isinstance(value, str):          # an id the dictionary heads: fatal → 致命
        found = load_dictionary()[0].get(value)
        return found.zh if found else value
    if isinstance(value, pd.Timestamp) or (fmt in ("date", "datetime") and hasattr(value, "strftime")):
        value = pd.Timestamp(value)
        if fmt == "date" or (fmt == "auto" and value == value.normalize()):
            return f"{value:%Y-%m-%d}"
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if _is_number(value):
        if fmt == "percent":
            return f"{value:.1%}"
        if fmt in ("decimal1", "decimal2", "decimal3"):
            return f"{value:,.{fmt[-1]}f}" if fmt != "decimal3" else f"{value:.3f}"
        if fmt == "integer":
            return f"{value:,.0f}"
        if fmt == "auto":
            return f"{value:,.{decimals}f}"
    return str(value)


def auto_decimals(values: pd.Series) -> int:
    """How many decimals (at most 3) the numbers of a column need: as many as they were rounded to
    (text and True/False in the column are left out)."""
    numbers = [float(v) for v in values if _is_number(v) and not _missing(v) and math.isfinite(v)]
    for decimals in range(3):
        if all(abs(v - round(v, decimals)) < 1e-9 for v in numbers):
            return decimals
    return 3


def column_format(values: pd.Series) -> str:
    """The format of a column: the dictionary's, else ``auto``."""
    return column(values.name).format


def excel_format(values: pd.Series) -> str | None:
    """The Excel number format for a column of the workbook (None: General)."""
    fmt = column_format(values)
    if fmt == "auto":
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            return "yyyy-mm-dd hh:mm:ss" if pd.api.types.is_datetime64_any_dtype(values) else None
        decimals = auto_decimals(values.head(10_000))
        return "#,##0" + ("." + "0" * decimals if decimals else "")
    return EXCEL_FORMATS.get(fmt)


def value_formatter(values: pd.Series):
    """A function formatting one value of this column: its format, and for ``auto`` the column's decimals."""
    fmt = column_format(values)
    decimals = auto_decimals(values) if fmt == "auto" else 2
    return lambda value: format_value(value, fmt, decimals)


def formatted(values: pd.Series) -> pd.Series:
    """A column's values as display text, in its format."""
    show = value_formatter(values)
    return pd.Series([show(v) for v in values.astype(object)], index=values.index, name=values.name, dtype=object)


def _label_axis(labels: pd.Index) -> bool:
    """Whether an axis holds ids the dictionary heads (its name's column is formatted ``label``)."""
    return labels.nlevels == 1 and labels.name is not None and column(labels.name).format == "label"


def shown_labels(labels: pd.Index) -> list[str]:
    """Category labels as a chart or a sentence shows them: the ids of an axis whose column the
    dictionary formats as ``label`` (platform jd → 京东, severity fatal → 致命) by their Chinese, any
    other label as text."""
    as_label = _label_axis(labels)
    return [format_value(v, "label") if as_label and isinstance(v, str) else str(v) for v in labels]


def shown(value: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """``value`` with the ids of its index (and, for a table, its columns) shown as ``shown_labels``
    gives them (jd → 京东) where the axis holds such ids, the axes' names kept; other axes (dates,
    numbers) are left as they are. What a chart's categories and its takeaway read."""
    axes = [value.index] + ([value.columns] if isinstance(value, pd.DataFrame) else [])
    for number, labels in enumerate(axes):
        if _label_axis(labels):
            value = value.set_axis(pd.Index(shown_labels(labels), name=labels.name), axis=number)
    return value


# ------------------------------------------------------------------------------------- frames ---
def flat(value: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """``value`` as a table to show: a series becomes a one-column frame, its index the first
    column(s) under its name. An unnamed index of row numbers (0..n, or what is left of it after a
    filter) is dropped; an unnamed index of labels keeps them under an empty header."""
    frame = value.to_frame(name=value.name if value.name is not None else "") if isinstance(value, pd.Series) else value
    if frame.index.nlevels == 1 and frame.index.name is None and pd.api.types.is_integer_dtype(frame.index):
        return frame.reset_index(drop=True)
    if frame.index.nlevels == 1 and frame.index.name is None:
        frame = frame.rename_axis(index="")
    return frame.reset_index(allow_duplicates=True)


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def html_table(value: pd.DataFrame | pd.Series, note: str = "") -> str:
    """``value`` as an HTML table: headers from the dictionary (Chinese, the English small under it,
    the id as the tooltip), values in their formats, no bare index; ``note`` under it."""
    frame = flat(value)
    aligns = ["right" if _numeric(frame.iloc[:, i]) else "left" for i in range(frame.shape[1])]
    ids = [" ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
    heads = "".join(f'<th title="{html.escape(i)}" style="text-align: {a}; white-space: nowrap">{header(c, "html")}</th>'
                    for i, c, a in zip(ids, frame.columns, aligns))
    cells = [formatted(frame.iloc[:, i]) for i in range(frame.shape[1])]
    # short values (numbers, names, ids) stay on one line; long text wraps, keeping its line breaks
    styles = [f"text-align: {a}; white-space: " + ("pre-wrap" if col.map(len).max() > SHORT_TEXT else "nowrap")
              if len(col) else f"text-align: {a}" for a, col in zip(aligns, cells)]
    body = "".join("<tr>" + "".join(f'<td style="{s}">{html.escape(str(col.iloc[r]))}</td>'
                                     for col, s in zip(cells, styles)) + "</tr>" for r in range(len(frame)))
    table = (f'<table border="1" class="dataframe cs-table"><thead><tr>{heads}</tr></thead>'
             f"<tbody>{body}</tbody></table>")
    if not len(frame):
        note = "没有数据行 (no rows)" + (f" · {note}" if note else "")
    return f"<div>{table}" + (f'<p class="cs-table-note"><small>{html.escape(note)}</small></p>' if note else "") + "</div>"


def readable_styler(styler):
    """A pandas ``Styler`` headed and formatted from the dictionary (its own styles kept), an unnamed
    index of row numbers hidden; changes and returns ``styler``."""
    data = styler.data
    styler.format({name: value_formatter(data[name]) for name in data.columns}, escape="html")
    styler.format_index(lambda name: header(name, "html"), axis=1)
    text = [i for i, name in enumerate(data.columns) if not _numeric(data.iloc[:, i])]
    if text:                                              # text reads from the left, headers above it
        styler.set_properties(subset=[data.columns[i] for i in text], **{"text-align": "left"})
        styler.set_table_styles([{"selector": f"th.col_heading.col{i}", "props": "text-align: left"} for i in text],
                                overwrite=False)
    if data.index.nlevels == 1 and data.index.name is None and pd.api.types.is_integer_dtype(data.index):
        styler.hide(axis="index")
    return styler


def _measure(text: str, path: str | Path = DICTIONARY) -> Column | None:
    """The measure's entry of a ``measured`` name (within_180s:jd → within_180s), else None."""
    measure, _, value = text.partition(":")
    return _lookup(measure, path) if value and _MEASURE.fullmatch(measure) else None


def known(name) -> bool:
    """Whether the dictionary has an entry for ``name`` (by id, pattern or Chinese header; for a
    ``measured`` name, its measure)."""
    text = "" if name is None else str(name)
    return _lookup(text) is not None or _measure(text) is not None
