"""Arrow binary columns in a Chinese legacy encoding (GB18030, GBK, GB2312) as UTF-8 strings, one codec
call per column instead of one per value.

These encodings are "CSV-safe": every byte below 0x30 (among them ``,`` ``"`` TAB CR LF) stands for
itself, never as part of a two- or four-byte character. So a CSV file in them can be split into cells
on its raw bytes, and only cells holding a byte >= 0x80 need decoding. A column is decoded whole: its
values laid end to end with a newline after each (a byte no cell parsed without quotes holds), decoded
by Python's C codec with ``errors="replace"``, encoded to UTF-8, and cut again at the newlines.

A byte below 0x30 after a value ends any character the value leaves unfinished, exactly as the
delimiter or line end after the cell does in the file, so every value decodes as it does when the whole
file is decoded as one stream: undecodable bytes become U+FFFD in the same places.
"""
from __future__ import annotations

import codecs

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SAFE_CODECS = {"gb18030", "gbk", "gb2312"}
_SEPARATOR = 0x0A          # put after each value; never in a cell parsed without quotes


def splits_raw(encoding: str, delimiter: str) -> bool:
    """True when a file in ``encoding`` can be split into cells at ``delimiter`` on its raw bytes."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    if name not in _SAFE_CODECS or len(delimiter) != 1:
        return False
    byte = ord(delimiter)      # below 0x30 or 0x3A-0x3F: never a later byte of a GB18030 character
    return byte != _SEPARATOR and (byte < 0x30 or 0x3A <= byte < 0x40)


def to_utf8(column: pa.Array, encoding: str) -> tuple[pa.Array, bool]:
    """A large_binary column without nulls (cells parsed without quotes: no newline in them) as a
    large_string column decoded from ``encoding`` with undecodable bytes as U+FFFD; and whether the
    decoded text holds a U+FFFD. Columns of ASCII bytes only are reused as they are (no copy)."""
    n = len(column)
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int64)[column.offset:column.offset + n + 1]
    start, end = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[start:end] if end > start else np.zeros(0, np.uint8)
    if not len(data) or data.max() < 0x80:
        return column.view(pa.large_string()), False
    lengths = np.diff(offsets)
    # the values laid end to end, a newline after each, and three more so no character is cut short
    spaced = np.full(len(data) + n + 3, _SEPARATOR, dtype=np.uint8)
    is_value = np.ones(len(spaced), dtype=bool)
    is_value[np.cumsum(lengths + 1) - 1] = False
    is_value[-3:] = False
    spaced[is_value] = data
    text = spaced.tobytes().decode(encoding, errors="replace")
    del spaced, is_value
    utf8 = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    saw_replacement = "\ufffd" in text
    del text
    ends = np.flatnonzero(utf8 == _SEPARATOR)
    if len(ends) != n + 3:
        raise AssertionError("a newline inside a value given to to_utf8")
    # each value with the newline after it, then that newline sliced off by Arrow (one copy of each value,
    # faster than NumPy's compaction of every byte)
    with_newline = np.empty(n + 1, dtype=np.int64)
    with_newline[0] = 0
    with_newline[1:] = ends[:n] + 1
    spaced = pa.Array.from_buffers(pa.large_binary(), n, [None, pa.py_buffer(with_newline), pa.py_buffer(utf8)])
    return pc.binary_slice(spaced, 0, -1).view(pa.large_string()), saw_replacement
