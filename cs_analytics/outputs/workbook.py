"""The run's Excel workbook: a 说明 sheet (what the run read and which rules it used, every sheet
listed), then one sheet per key table the notebooks kept (``ctx.table``), the evidence sheet among them.

A table longer than ``SHEET_ROWS`` (a million-message export has over a hundred thousand hits) keeps
its first ``SHEET_ROWS`` rows in its sheet, with a note, and is written whole as
``tables/<name>.csv`` (UTF-8 with BOM, opens in Excel): a cell costs a few µs even with XlsxWriter
(openpyxl, used before, about 30 µs), so the whole evidence of a million messages would take far longer
in the workbook than as CSV.

Every table was made export-safe when it was stored (``artefacts.record_table``: buyer accounts
dropped, text masked), so it is written as stored, headed and formatted from the column dictionary
(``columns``: "违规率 per 1,000" headers, 0.0% / #,##0 / 0.0 number formats, 是/否 for True/False).
The column ids stay in ``tables/<name>.parquet``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from . import artefacts, columns

EXCEL_MAX_ROWS = 1_048_576
SHEET_ROWS = 10_000                # rows of a table written to its sheet; a longer table goes whole to CSV
HEADER_ROW = 3                     # title in row 1, a note in row 2, the table from row 3
MAX_COLUMN_WIDTH = 60


def _display_width(value) -> int:
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Values Excel can hold: time zones dropped (local wall-clock kept), nullable types to objects."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            out[column] = values.dt.tz_localize(None)
        elif pd.api.types.is_extension_array_dtype(values.dtype) and not isinstance(values.dtype, pd.CategoricalDtype):
            out[column] = values.astype(object).where(values.notna(), None)
    return out


# what ``pandas.api.types.infer_dtype`` calls a column that cannot hold a True or False
WITHOUT_FLAGS = {"string", "empty", "integer", "floating", "mixed-integer-float", "decimal", "complex", "bytes",
                 "datetime", "datetime64", "date", "timedelta", "timedelta64", "time", "period", "interval"}


def _yes_no(values: pd.Series) -> pd.Series:
    """True/False as 是/否 (``columns.format_value``): a bool column at once, a column of text or
    numbers untouched, a mixed one value by value."""
    if values.dtype == bool and len(values):
        yes, no = (columns.format_value(flag, "yesno") for flag in (True, False))
        return pd.Series(np.where(values.to_numpy(), yes, no), index=values.index, name=values.name, dtype=object)
    if not (pd.api.types.is_bool_dtype(values) or values.dtype == object):
        return values
    if values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in WITHOUT_FLAGS:
        return values
    flags = values.map(lambda v: isinstance(v, (bool, np.bool_)))
    return values.astype(object).where(~flags, values.map(lambda v: columns.format_value(v, "yesno"))) if flags.any() else values


def _labels(values: pd.Series) -> pd.Series:
    """A ``label`` column's ids as the dictionary heads them (fatal → 致命)."""
    if columns.column_format(values) != "label":
        return values
    codes, ids = pd.factorize(values.astype(object))        # each id named once (a column holds a few)
    names = columns.formatted(pd.Series(ids, name=values.name, dtype=object)).to_numpy(dtype=object)
    shown = np.where(codes >= 0, names[codes] if len(names) else None, None)
    return pd.Series(shown, index=values.index, name=values.name, dtype=object)


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` for a reader: headers from the column dictionary, True/False as 是/否, ids of a
    ``label`` column by their names."""
    out = pd.concat([_labels(_yes_no(frame.iloc[:, i])) for i in range(frame.shape[1])], axis=1) if frame.shape[1] else frame.copy()
    out.columns = [columns.header(c) for c in frame.columns]
    return out


# pandas' defaults for what it writes (``DataFrame.to_excel``), kept so the workbook reads as it did
HEADER_STYLE = {"bold": True, "border": 1, "align": "center", "valign": "top"}
DATE_FORMATS = {"datetime": "YYYY-MM-DD HH:MM:SS", "date": "YYYY-MM-DD"}


class _Formats:
    """One XlsxWriter format per number format (a workbook keeps each once)."""

    def __init__(self, book):
        self.book, self.known = book, {}
        self.header = book.add_format(HEADER_STYLE)

    def __call__(self, number_format: str | None):
        if not number_format:
            return None
        if number_format not in self.known:
            self.known[number_format] = self.book.add_format({"num_format": number_format})
        return self.known[number_format]


def _write_column(ws, column: int, values: pd.Series, cell_format, formats: _Formats) -> None:
    """One column's values from ``HEADER_ROW`` down, as ``to_excel`` wrote them: missing values blank,
    ±inf as text, numbers as numbers, times and dates in ``cell_format`` (or pandas' formats)."""
    first = HEADER_ROW                     # 0-based row of the first value
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values) and values.dtype != object:
        numbers = values.to_numpy(dtype=float)
        for row in np.flatnonzero(np.isfinite(numbers)):
            ws.write_number(first + row, column, numbers[row], cell_format)
        for row in np.flatnonzero(np.isinf(numbers)):
            ws.write_string(first + row, column, "inf" if numbers[row] > 0 else "-inf", cell_format)
        return
    when = cell_format or formats(DATE_FORMATS["datetime"])
    day = cell_format or formats(DATE_FORMATS["date"])
    for row, value in enumerate(values.tolist()):
        if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            continue
        if isinstance(value, str):
            if value:                      # an empty text stays a blank cell, as openpyxl left it
                ws.write_string(first + row, column, value, cell_format)
        elif isinstance(value, (bool, np.bool_)):
            ws.write_boolean(first + row, column, bool(value), cell_format)
        elif isinstance(value, dt.datetime):
            ws.write_datetime(first + row, column, value, when)
        elif isinstance(value, dt.date):
            ws.write_datetime(first + row, column, value, day)
        elif isinstance(value, (int, float, np.integer, np.floating)):
            number = float(value)
            if np.isinf(number):
                ws.write_string(first + row, column, "inf" if number > 0 else "-inf", cell_format)
            elif not np.isnan(number):
                ws.write_number(first + row, column, number, cell_format)
        else:
            ws.write_string(first + row, column, str(value), cell_format)


def _write_sheet(book, formats: _Formats, frame: pd.DataFrame, sheet: str, title: str, note: str = ""):
    """One table as a sheet (title, note, headed table with its number formats); returns the sheet."""
    frame = _plain(frame)
    number_formats = [columns.excel_format(frame.iloc[:, i]) for i in range(frame.shape[1])]
    frame = _readable(frame)
    ws = book.add_worksheet(sheet)
    ws.write_string(0, 0, title)
    if note:
        ws.write_string(1, 0, note)
    for i, (column, number_format) in enumerate(zip(frame.columns, number_formats)):
        ws.write_string(HEADER_ROW - 1, i, str(column), formats.header)
        _write_column(ws, i, frame.iloc[:, i], formats(number_format), formats)
        sample = frame.iloc[:, i].head(200)
        width = max([_display_width(column)] + [_display_width(v) for v in sample if v is not None])
        ws.set_column(i, i, min(width + 2, MAX_COLUMN_WIDTH))
    ws.freeze_panes(HEADER_ROW, 0)
    if len(frame.columns) and len(frame):
        ws.autofilter(HEADER_ROW - 1, 0, HEADER_ROW - 1 + len(frame), len(frame.columns) - 1)
    return ws


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        suffix = f" {n}"
        candidate = name[:artefacts.SHEET_NAME_MAX - len(suffix)] + suffix
        n += 1
    taken.add(candidate)
    return candidate


def readme_frame(manifest: dict) -> pd.DataFrame:
    """The 说明 sheet's rows: what the run read, which rules and versions it used, how it went."""
    load = manifest.get("load", {})
    rows = [("报告 report", manifest.get("out_dir", "")), ("生成时间 created", manifest.get("created", "")),
            ("cs-analytics 版本", manifest.get("package_version", "")),
            ("规则库版本 rulebook", manifest.get("rulebook_version", "")),
            ("投诉分类版本 taxonomy", manifest.get("taxonomy_version", "")),
            ("平台指标口径 metric recipes", manifest.get("metric_recipes_version", ""))]
    for item in manifest.get("inputs", []):
        rows.append((f"输入文件 {item['name']}", f"sha256 {item['sha256']}, {item['bytes']:,} bytes"))
    if load:
        rows += [("读入行数 rows read", load.get("rows_read")), ("保留行数 rows kept", load.get("rows_kept")),
                 ("隔离行数 rows set aside", load.get("rows_set_aside")), ("会话数 sessions", load.get("sessions"))]
    for key, value in manifest.get("parameters", {}).items():
        if value not in (None, [], "") and key != "OUTPUT_DIR":
            rows.append((f"参数 {key}", str(value)))
    for run in manifest.get("notebooks", []):
        rows.append((f"笔记本 {run['notebook']}", "ok" if run["ok"] else f"失败 failed: {run['error']}"))
    return pd.DataFrame(rows, columns=["项目 item", "值 value"])


def full_table_csv(out_dir: Path, entry: dict, frame: pd.DataFrame) -> Path:
    """Write a stored (export-safe) table whole as ``tables/<name>.csv`` for Excel, headed as its sheet;
    returns the path."""
    path = Path(out_dir) / "tables" / f"{entry['name']}.csv"
    _readable(_plain(frame)).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def write_workbook(out_dir: str | Path, manifest: dict, path: str | Path | None = None) -> Path:
    """Write ``<out_dir>/workbook.xlsx`` from the run's stored tables; returns its path."""
    out_dir = Path(out_dir)
    path = Path(path) if path else out_dir / "workbook.xlsx"
    entries = artefacts.tables(out_dir)
    taken = {"说明", "目录"}
    limit = max(1, min(SHEET_ROWS, EXCEL_MAX_ROWS - HEADER_ROW - 1))
    plan = [(_unique(entry["sheet"], taken), entry) for entry in entries]
    contents = pd.DataFrame([(sheet, entry["title"], entry["rows"], f"notebook {entry['notebook']}")
                             for sheet, entry in plan], columns=["工作表 sheet", "内容 content", "行数 rows", "来源 from"])
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False})
    try:
        formats = _Formats(book)
        readme = pd.concat([readme_frame(manifest), pd.DataFrame([("", "")], columns=["项目 item", "值 value"])])
        _write_sheet(book, formats, readme, "说明", "客服质检报告 说明 (run facts)",
                     "每个数字都可追溯到输入文件的 sha256、规则库版本和参数。")
        listing = _write_sheet(book, formats, contents, "目录", "工作表目录 sheets")
        for row, sheet in enumerate(contents["工作表 sheet"], start=HEADER_ROW):   # each name links to its sheet
            listing.write_url(row, 0, f"internal:'{sheet}'!A1", string=sheet)
        for sheet, entry in plan:
            frame = artefacts.read_table(entry)
            note = f"{entry['name']} · notebook {entry['notebook']}"
            if len(frame) > limit:
                csv = full_table_csv(out_dir, entry, frame)
                note += (f" · 此处为前 {limit:,} 行,共 {len(frame):,} 行;完整表见 {csv.relative_to(out_dir).as_posix()}"
                         f" (first {limit:,} of {len(frame):,} rows; the whole table is in that CSV)")
                frame = frame.head(limit)
            _write_sheet(book, formats, frame, sheet, entry["title"], note)
    finally:
        book.close()
    return path
