"""Parse export time columns into timezone-aware timestamps, vectorised, reporting what fails."""
from __future__ import annotations

import re
import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_EARLIEST, _LATEST = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_NUMBER = r"^\d+(?:\.\d+)?$"


_NAT = np.iinfo(np.int64).min
_KNOWN_LIMIT = 10_000   # leftover values remembered per (formats, zone) across batches


def parse_times(values: pd.Series, formats: list[str], timezone: str, known: dict | None = None) -> pd.Series:
    """Parse strings into ``datetime64[ns, timezone]``; unparseable or missing values become NaT.

    Tried in order: the profile's ``formats``; Unix epoch seconds / milliseconds and Excel serial
    days for plain numbers; ISO times with an offset (converted to ``timezone``); then a general
    parser for anything else. Times without an offset are taken to be in ``timezone``.

    Values of the first format's zero-padded shape are read by NumPy; the others are parsed once per
    distinct value. ``known`` (a dict kept by the caller across batches) remembers those others'
    results, so a bad value repeated in every batch is parsed once.
    """
    text = values.astype("string").str.strip().reset_index(drop=True)     # labels are positions
    stamps = np.full(len(text), _NAT, dtype=np.int64)                      # UTC nanoseconds; NaT until parsed
    todo = (text.notna() & (text != "")).to_numpy(dtype=bool)
    if formats and _plain_shape(formats[0]) is not None and todo.any():
        parsed = _fixed_width_times(text, formats[0])
        rows = parsed.index.to_numpy()
        utc = _local_to_utc(parsed.to_numpy(dtype="datetime64[s]"), timezone)
        ok = utc != _NAT
        stamps[rows[ok]] = utc[ok]
        todo[rows[ok]] = False
    if todo.any():
        rest = text[todo]
        codes, distinct = pd.factorize(rest)
        first = np.empty(len(distinct), dtype=np.int64)
        first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)          # each distinct value's first row
        memo = {} if known is None else known.setdefault((tuple(formats), timezone), {})
        keys = rest.iloc[first].tolist()
        results = np.array([memo.get(key, _NAT) for key in keys], dtype=np.int64)
        new = np.array([key not in memo for key in keys], dtype=bool)
        if new.any():
            results[new] = _parse_in_order(rest.iloc[first[new]].reset_index(drop=True), formats, timezone)
            if len(memo) + int(new.sum()) <= _KNOWN_LIMIT:
                memo.update(zip(np.array(keys, dtype=object)[new].tolist(), results[new].tolist()))
        stamps[np.flatnonzero(todo)] = results[codes]
    utc = pd.DatetimeIndex(stamps.view("datetime64[ns]")).tz_localize("UTC")
    return pd.Series(utc.tz_convert(timezone).array, index=values.index)


def _local_to_utc(naive: np.ndarray, timezone: str) -> np.ndarray:
    """UTC nanoseconds (int64; NaT as int64 min) of naive local times, NaT for a local time the zone
    skips or repeats (as ``_localize``, without a Series around it)."""
    naive = pd.DatetimeIndex(naive.astype("datetime64[ns]"))
    return naive.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT").asi8


def _parse_in_order(text: pd.Series, formats: list[str], timezone: str) -> np.ndarray:
    """UTC nanoseconds (NaT as int64 min) of stripped, non-empty strings (positional labels), each tried
    in the order ``parse_times`` describes: the reference way, run on the values the shortcut left."""
    stamps = np.full(len(text), _NAT, dtype=np.int64)
    todo = np.ones(len(text), dtype=bool)

    def fill(parsed: pd.Series) -> None:
        ok = parsed.notna().to_numpy(dtype=bool)
        if ok.any():                      # a time nanoseconds cannot hold (year 2500) is no time: NaT
            ok = ok & ((parsed >= _EARLIEST) & (parsed <= _LATEST)).to_numpy(dtype=bool)
        positions = parsed.index.to_numpy()[ok]
        stamps[positions] = parsed.array[ok].as_unit("ns").asi8
        todo[positions] = False

    for fmt in formats:
        if not todo.any():
            break
        sub = text[todo]
        if _plain_shape(fmt) is not None:   # values of the format's zero-padded shape: read by NumPy
            parsed = _fixed_width_times(sub, fmt)
            if len(parsed):
                fill(_localize(parsed, timezone))
                sub = text[todo]
                if not len(sub):
                    continue
        parsed = pd.to_datetime(sub, format=fmt, errors="coerce")
        fill(_localize(parsed, timezone))

    if todo.any():
        sub = text[todo]
        numeric = sub.str.fullmatch(_NUMBER).fillna(False).astype(bool)
        if numeric.any():
            nums = pd.to_numeric(sub[numeric], errors="coerce")
            parsed = pd.Series(pd.NaT, index=nums.index, dtype="datetime64[ns, UTC]")
            secs = nums.between(1e9, 4e9)
            millis = nums.between(1e12, 4e12)
            serial = nums.between(20000, 80000)
            parsed[secs] = pd.to_datetime(nums[secs], unit="s", utc=True)
            parsed[millis] = pd.to_datetime(nums[millis], unit="ms", utc=True)
            fill(parsed.dt.tz_convert(timezone))
            if serial.any():
                days = pd.to_datetime("1899-12-30") + pd.to_timedelta(nums[serial], unit="D")
                fill(_localize(days.dt.round("s"), timezone))

    if todo.any():
        sub = text[todo]
        with_offset = sub.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if with_offset.any():
                parsed = pd.to_datetime(sub[with_offset], errors="coerce", utc=True, format="mixed")
                fill(parsed.dt.tz_convert(timezone))
            rest = sub[~with_offset]
            if len(rest):
                parsed = pd.to_datetime(rest, errors="coerce", format="mixed")
                fill(_localize(parsed, timezone))
    return stamps


# strptime directives of a fixed width; values of that shape (zero-padded, in range, a year 1900-2099
# so nanoseconds can hold it) are read the same by Arrow's strptime and by pandas
_PLAIN_DIRECTIVES = {"%Y": r"(?:19|20)\d\d", "%m": r"(?:0[1-9]|1[0-2])", "%d": r"(?:0[1-9]|[12]\d|3[01])",
                     "%H": r"(?:[01]\d|2[0-3])", "%M": r"[0-5]\d", "%S": r"[0-5]\d"}


@lru_cache(maxsize=64)
def _plain_shape(fmt: str) -> tuple[str, int | None] | None:
    """For a format made of %Y %m %d %H %M %S and ASCII punctuation or spaces (such as
    ``%Y-%m-%d %H:%M:%S``): a regex for its zero-padded values and where the day sits in them;
    else None."""
    parts = re.split(r"(%.)", fmt)
    if any(p not in _PLAIN_DIRECTIVES for p in parts[1::2]) or len(parts) < 2:
        return None
    if any(not lit.isascii() or any(ch.isalnum() or ch == "%" for ch in lit) for lit in parts[0::2]):
        return None
    widths = [(4 if p == "%Y" else 2) if i % 2 else len(p) for i, p in enumerate(parts)]
    day = parts.index("%d") if "%d" in parts else None
    return ("".join(_PLAIN_DIRECTIVES[p] if i % 2 else re.escape(p) for i, p in enumerate(parts)),
            None if day is None else sum(widths[:day]))


# the values each fixed-width directive may take (as _PLAIN_DIRECTIVES), and its width
_DIRECTIVE_RANGES = {"%Y": (1900, 2099, 4), "%m": (1, 12, 2), "%d": (1, 31, 2), "%H": (0, 23, 2), "%M": (0, 59, 2),
                     "%S": (0, 59, 2)}


def _fixed_width_times(values: pd.Series, fmt: str) -> pd.Series:
    """Naive datetimes of the values of ``fmt``'s zero-padded shape (``_plain_shape``), read from the
    bytes with NumPy, indexed by their labels; other values are left out. An impossible date such as
    02-30 is left out too (as Arrow's strptime followed by the day check). Formats without a year,
    month and day go through Arrow's strptime."""
    parts = re.split(r"(%.)", fmt)
    if not {"%Y", "%m", "%d"} <= set(parts[1::2]):
        plain = _plain_shape(fmt)
        strict = values.str.fullmatch(plain[0]).fillna(False).astype(bool)
        return _arrow_strptime(values[strict], fmt, plain[1]) if strict.any() else values[:0]
    column = pa.chunked_array(values.array.__arrow_array__())
    text = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()     # one chunk: no copy
    width = sum(_DIRECTIVE_RANGES[p][2] if i % 2 else len(p.encode()) for i, p in enumerate(parts))
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int64)[text.offset:text.offset + len(text) + 1]
    rows = np.diff(offsets) == width
    if text.null_count:
        rows &= pc.is_valid(text).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(rows)
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8) if len(rows) else np.zeros(0, dtype=np.uint8)
    first = offsets[rows[0]] if len(rows) else 0
    if len(rows) == len(text) and offsets[-1] - first == len(rows) * width:     # values laid end to end
        block = data[first:first + len(rows) * width].reshape(len(rows), width)
    else:
        block = data[offsets[rows][:, None] + np.arange(width)]
    lowest = np.full(width, ord("0"), dtype=np.uint8)     # per byte: the digits allowed, or the literal
    spread = np.full(width, 9, dtype=np.uint8)
    fields: dict[str, slice] = {}                  # where each directive's digits sit
    at = 0
    for i, part in enumerate(parts):
        if i % 2 == 0:                      # a literal: the same bytes
            size = len(part.encode())
            lowest[at:at + size] = np.frombuffer(part.encode(), dtype=np.uint8)
            spread[at:at + size] = 0
        else:
            size = _DIRECTIVE_RANGES[part][2]
            fields[part] = slice(at, at + size)
        at += size
    # column by column, in place: NumPy is slow on rows of a few bytes and on fresh large temporaries
    ok = np.ones(len(rows), dtype=bool)
    for at in range(width):
        ok &= block[:, at] - lowest[at] <= spread[at]                   # wraps around below ``lowest``
    numbers: dict[str, np.ndarray] = {}
    for part, where in fields.items():
        low, high, size = _DIRECTIVE_RANGES[part]
        number = np.zeros(len(rows), dtype=np.int32)
        for column in range(where.start, where.stop):
            number *= 10
            number += block[:, column]
            number -= ord("0")              # a row with a non-digit here is already not ok
        ok &= (number >= low) & (number <= high)
        numbers[part] = number
    month_at = np.clip((numbers["%Y"] - _FIRST_YEAR) * 12 + numbers["%m"] - 1, 0, len(_MONTH_STARTS) - 2)
    ok &= numbers["%d"] <= _MONTH_STARTS[month_at + 1] - _MONTH_STARTS[month_at]      # no 02-30
    seconds = ((_MONTH_STARTS[month_at] + numbers["%d"] - 1).astype(np.int64) * 86400
               + (numbers.get("%H", 0) * 3600 + numbers.get("%M", 0) * 60 + numbers.get("%S", 0)))[ok]
    return pd.Series(seconds.astype("datetime64[s]"), index=values.index[rows[ok]])


def _days_since_epoch(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 to each proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    year = year - (month <= 2)
    era = year // 400
    of_era = year - era * 400
    of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    of_era_days = of_era * 365 + of_era // 4 - of_era // 100 + of_year
    return era * 146097 + of_era_days - 719468


# days from 1970-01-01 to the first of each month of the years %Y may take, and of the month after them
_FIRST_YEAR, _LAST_YEAR = _DIRECTIVE_RANGES["%Y"][:2]
_MONTH_STARTS = _days_since_epoch(np.arange(_FIRST_YEAR, _LAST_YEAR + 2).repeat(12)[:-11],
                                  np.tile(np.arange(1, 13), _LAST_YEAR - _FIRST_YEAR + 2)[:-11], 1).astype(np.int32)


def _arrow_strptime(values: pd.Series, fmt: str, day_at: int | None) -> pd.Series:
    """Naive datetimes of values of ``fmt``'s zero-padded shape. Arrow rolls an impossible date such
    as 02-30 over into the next month; those (their day of month is not the one written) give NaT."""
    text = pa.chunked_array(values.array.__arrow_array__())
    parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
    if day_at is not None:
        written = pc.cast(pc.utf8_slice_codeunits(text, day_at, day_at + 2), pa.int64())
        parsed = pc.if_else(pc.equal(pc.day(parsed), written), parsed, pa.scalar(None, parsed.type))
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=values.index)


def _localize(parsed: pd.Series, timezone: str) -> pd.Series:
    parsed = pd.to_datetime(parsed, errors="coerce")
    if getattr(parsed.dt, "tz", None) is None:
        return parsed.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
    return parsed.dt.tz_convert(timezone)


def has_times(messages: pd.DataFrame) -> bool:
    """True when the messages carry send times (an export without a time column gives False)."""
    return "ts" in messages and bool(messages["ts"].notna().any())


class NoTimestampsError(ValueError):
    """Raised by analyses that need send times when the export has none."""


def require_times(messages: pd.DataFrame, what: str) -> None:
    """Raise NoTimestampsError with a plain explanation when ``messages`` has no send times."""
    if not has_times(messages):
        raise NoTimestampsError(
            f"{what} needs message send times, and this export has none (e.g. the JD-style TSV); "
            f"use an export with a time column (时间/发送时间) to compute it."
        )


__all__ = ["parse_times", "has_times", "require_times", "NoTimestampsError"]


WEEKDAY_NAMES = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]   # Monday first, as pandas day_of_week


def week_start(ts: pd.Series) -> pd.Series:
    """Monday of the week of each time (local calendar date)."""
    local = ts.dt.tz_localize(None) if ts.dt.tz is not None else ts
    return (local.dt.normalize() - pd.to_timedelta(local.dt.day_of_week, unit="D")).dt.date
