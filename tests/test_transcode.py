"""GB18030 cells split on the raw bytes and decoded a column at a time read as decoding the whole file.

``transcode.to_utf8`` is checked against decoding each value with a line end after it (what the
whole-file decoder sees), and ``read_delimited`` on the raw bytes against decoding the file first
(``splits_raw`` off), on awkward files: emoji and other four-byte characters, empty cells, quoted
cells holding newlines, commas and quotes, undecodable and unfinished byte sequences in every place
(mid-cell, at a cell's end, before a delimiter, at a line end, at the end of the file), blank lines,
CRLF, and blocks cut anywhere.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_analytics import load_logs
from cs_analytics.ingest import readers
from cs_analytics.ingest.readers import read_delimited
from cs_analytics.ingest.transcode import splits_raw, to_utf8

# pieces of cells: ASCII, two-byte hanzi, four-byte characters (emoji, U+20000, U+0080), full-width
# punctuation, U+FFFD itself, and undecodable or unfinished sequences
TEXT_PIECES = ["a", "1", " ", "在吗", "，", "😀", "\U00020000", "\x80", "\u3000", "\ufffd", "€"]
BAD_PIECES = [b"\x81", b"\xff", b"\x80", b"\x81\x30", b"\x81\x30\x81", b"\xfe\x39\xfe", b"\xa1"]

cell_bytes = st.lists(st.one_of(st.sampled_from(TEXT_PIECES).map(lambda t: t.encode("gb18030")),
                                st.sampled_from(BAD_PIECES)), max_size=6).map(b"".join)


def decoded_alone(value: bytes, encoding: str = "gb18030") -> str:
    """The value as the whole-file decoder reads it: a line end (or delimiter) comes after it."""
    return (value + b"\n\n\n").decode(encoding, errors="replace")[:-3]


@settings(max_examples=150, deadline=None)
@given(values=st.lists(cell_bytes, max_size=30), cut=st.integers(0, 2))
def test_column_decoded_as_each_value_alone(values, cut):
    column = pa.array([b"pad"] * cut + values, pa.large_binary()).slice(cut)
    strings, replaced = to_utf8(column, "gb18030")
    expected = [decoded_alone(v) for v in values]
    assert strings.type == pa.large_string()
    assert strings.to_pylist() == expected
    assert replaced == any("\ufffd" in e for e in expected)


def test_ascii_column_kept_and_empty_cells():
    column = pa.array([b"s1", b"", b"2025-10-01 10:00:00"], pa.large_binary())
    strings, replaced = to_utf8(column, "gb18030")
    assert strings.to_pylist() == ["s1", "", "2025-10-01 10:00:00"] and not replaced
    assert strings.buffers()[2].address == column.buffers()[2].address          # no copy
    assert to_utf8(pa.array([], pa.large_binary()), "gb18030")[0].to_pylist() == []
    assert to_utf8(pa.array([b"", b"\xc4\xe3"], pa.large_binary()), "gbk")[0].to_pylist() == ["", "你"]


def test_raw_split_only_where_it_holds():
    assert splits_raw("gb18030", ",") and splits_raw("GBK", "\t") and splits_raw("gb2312", ";")
    assert not splits_raw("gb18030", "|")          # | (0x7C) can be the second byte of a character
    assert not splits_raw("utf-8", ",") and not splits_raw("utf-16", ",") and not splits_raw("nope", ",")


def text_path(monkeypatch):
    """read_delimited as before: the file decoded first, then split."""
    monkeypatch.setattr(readers, "splits_raw", lambda encoding, delimiter: False)


def flattened(path: Path, chunk_rows: int) -> tuple:
    """Everything read_delimited yields, batches laid end to end; and whether every batch holding a
    U+FFFD says it may."""
    fields, rows, columns, malformed, flagged = None, [], [], [], True
    for batch in read_delimited(path, encoding="gb18030", delimiter=",", quoting="minimal", header=True,
                                fields=[], chunk_rows=chunk_rows):
        fields = batch.fields
        rows += [int(r) for r in batch.rows]
        cells = [c.to_pylist() for c in batch.columns] if batch.columns is not None else []
        columns += [list(record) for record in zip(*cells)]
        malformed += [(m.source_row, m.reason, m.detail, m.raw) for m in batch.malformed]
        holds = any("\ufffd" in (v or "") for c in cells for v in c)
        flagged = flagged and (batch.may_hold_replacement or not holds)
    return fields, rows, columns, malformed, flagged


def rows_of(draw_cells: list[list[bytes]]) -> bytes:
    return b"".join(b",".join(cells) + b"\n" for cells in draw_cells)


quoted_cell = st.lists(st.sampled_from(["在", ",", "\n", '""', "😀", "a", "\r\n"]), max_size=5).map(
    lambda parts: b'"' + "".join(parts).encode("gb18030") + b'"')
row = st.tuples(st.sampled_from([b"s1", b"s2", b""]), st.sampled_from([b"2025-10-01 10:00:00", b"bad", b""]),
                st.sampled_from(["买家", "客服", "路人"]).map(lambda r: r.encode("gb18030")),
                st.one_of(cell_bytes, quoted_cell)).map(list)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=25), extra=st.sampled_from([b"", b"\n", b"   \n", b"s3,2025-10-01 10:00:00,\xc2\xf2,\x81",
                                                                b"s3,x,y,\x81\x30\n", b"s3,x,y,\xa1\r\n", b"s3,x,y"]),
       chunk_rows=st.sampled_from([1, 3, 1000]))
def test_raw_split_reads_as_decoding_first(tmp_path, monkeypatch, rows, extra, chunk_rows):
    path = tmp_path / "export.csv"
    path.write_bytes("会话ID,时间,发送方,内容\n".encode("gb18030") + rows_of(rows) + extra)
    raw = flattened(path, chunk_rows)
    with monkeypatch.context() as patch:
        text_path(patch)
        assert raw == flattened(path, chunk_rows)


@pytest.mark.parametrize("ending", [b"", b"\r\n", b"\x81", b"\x81\x30", b"\xa1\n", b"\x81\x30\n"])
def test_load_same_both_ways(tmp_path, monkeypatch, ending):
    lines = ["s1,2025-10-01 10:00:00,买家,在吗😀", "s1,2025-10-01 10:00:05,客服,\"您好，\n\"\"在的\"\"\"",
             "s1,2025-10-01 10:00:06,客服,", "s2,2025-10-01 10:00:07,买家,\U00020000好"]
    body = ("会话ID,时间,发送方,内容\r\n" + "\r\n".join(lines) + "\r\n").encode("gb18030")
    path = tmp_path / "export.csv"
    broken = b"s2,2025-10-01 10:00:08,\xff,\xc4\xe3\x81,x\n"          # a bad role, an unfinished character, a field too many
    last = "s2,2025-10-01 10:00:09,买家,ok".encode("gb18030")
    path.write_bytes(body + broken + last + ending)
    raw = load_logs(path, encoding="gb18030", chunk_rows=2)
    text_path(monkeypatch)
    reference = load_logs(path, encoding="gb18030", chunk_rows=2)
    pd.testing.assert_frame_equal(raw.messages, reference.messages)
    pd.testing.assert_frame_equal(raw.quarantine, reference.quarantine)
    assert raw.report.to_dict() == reference.report.to_dict()
    assert "\U00020000好" in raw.messages["text"].tolist()
