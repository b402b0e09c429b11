"""Pickles of tables that send columns of Python dates as small integer codes into their distinct dates.

A column of ``datetime.date`` objects (the reply rounds' ``week``, the politeness checks' ``day``) is an
object array: plain pickle writes every date through its ``__reduce__``, about a microsecond each, and
reading it back builds every date again. Here such an array is written as its codes, its few distinct
dates and its missing values (each missing value as it was: None, NaN or NaT), and read back as the
same array: equal values, the same dtype, shape and missing objects (a block of several object
columns, as pandas may hold them, column by column). Everything else is pickled as
pickle pickles it. The file is an ordinary pickle: ``pickle.load`` reads it.
"""
from __future__ import annotations

import copyreg
import datetime
import io
import pickle

import numpy as np
import pandas as pd

# at most this many distinct dates in one array (weeks, days: a few hundred): more, and the array is
# pickled as it is (the distinct values' types are checked one by one)
MAX_DISTINCT_DATES = 4096


def _reduce_array(values: np.ndarray):
    """How the pickler writes an ndarray: an object array of dates as codes, a block of object columns
    column by column (when one holds dates), anything else as numpy writes it."""
    if values.dtype == object:
        if values.ndim == 2 and len(values) > 1 and values.flags.c_contiguous and any(map(_dates, values)):
            return np.stack, (list(values),)
        encoded = date_codes(values)
        if encoded is not None:
            return dates_from_codes, encoded
    return values.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


class _Pickler(pickle.Pickler):
    # looked up by exact type, in C: no Python call for the other objects pickled
    dispatch_table = {**copyreg.dispatch_table, np.ndarray: _reduce_array}


def _dates(values: np.ndarray) -> bool:
    return pd.api.types.infer_dtype(values, skipna=True) == "date"


def dump(obj, file) -> None:
    """Pickle ``obj`` into the open binary ``file`` (highest protocol), date columns as codes."""
    _Pickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)


def dumps(obj) -> bytes:
    """``obj`` pickled as ``dump`` pickles it."""
    buffer = io.BytesIO()
    dump(obj, buffer)
    return buffer.getvalue()


def date_codes(values: np.ndarray) -> tuple | None:
    """An object array of dates (and missing values) as ``(codes, distinct dates, missing positions,
    missing values, shape)``; None when it holds anything but ``datetime.date`` objects and missing
    values, or too many distinct dates, or is not one C-ordered block."""
    if values.size == 0 or not values.flags.c_contiguous:
        return None
    flat = values.reshape(-1)
    if not _dates(flat):                                               # dates, or datetimes: checked below
        return None
    codes, distinct = pd.factorize(flat)                               # missing values: -1
    if len(distinct) > MAX_DISTINCT_DATES or any(type(day) is not datetime.date for day in distinct):
        return None                              # datetimes: equal instants in other zones would merge
    missing = np.flatnonzero(codes < 0)
    small = np.int16 if len(distinct) < 2**15 else np.int32
    # the distinct dates as a tuple: an array would come back here
    return codes.astype(small), tuple(distinct), missing, flat[missing], values.shape


def dates_from_codes(codes: np.ndarray, distinct: tuple, missing: np.ndarray, missing_values: np.ndarray,
                     shape: tuple) -> np.ndarray:
    """The object array ``date_codes`` encoded."""
    days = np.empty(len(distinct), dtype=object)
    days[:] = distinct
    flat = days.take(codes) if len(days) else np.empty(len(codes), dtype=object)
    flat[missing] = missing_values
    return flat.reshape(shape)
