"""The loader's shortcuts give what the plain pandas way gives, on awkward input.

Each shortcut of the 1M-row speed work is checked against the way it replaced: Arrow strptime for
zero-padded times (against pandas alone), Arrow strip/null/blank checks (against ``str.strip``), the
blank-row prefilter (against every whitespace character), duplicates among neighbours in the sorted
order (against ``DataFrame.duplicated``), the reader running ahead in a thread (order, errors, stopping early), the
distinct-id check, and the U+FFFD check skipped for batches the reader saw none in.
"""
from __future__ import annotations

import functools
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_analytics import load_logs
from cs_analytics.base import timeparse
from cs_analytics.ingest import load as load_module
from cs_analytics.ingest.load import (LoadReport, _all_distinct, _blank, _chunk_take, _joined, _may_have_edge_space,
                                      _read_ahead, _string_hashes, _sorted_codes, _stripped_or_missing, _taken,
                                      _unique_ids, _with_codes, _with_strings)
from cs_analytics.ingest.profiles import load_profile
from cs_analytics.ingest.readers import _may_be_blank, read_delimited

WHITESPACE = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
AWKWARD = ["", " ", "\u3000", "\t在吗\n", "😀", " 😀 ", "a\u200bb", "NULL", " null ", "-", "N/A ", "在吗",
           "\ufffd", "\x00", None, *WHITESPACE]
FORMATS = load_profile("generic").time_formats


def pandas_only(monkeypatch):
    """parse_times as it was: every format by pandas (no Arrow shortcut)."""
    monkeypatch.setattr(timeparse, "_plain_shape", lambda fmt: None)


def time_text():
    digits = lambda n: st.integers(0, 10 ** n - 1).map(lambda v: f"{v:0{n}d}")  # noqa: E731
    year = st.one_of(st.sampled_from(["1899", "1900", "1986", "1988", "1991", "2024", "2025", "2099", "2100", "0000"]),
                     digits(4))
    two = st.one_of(st.sampled_from(["00", "01", "02", "12", "13", "23", "24", "28", "29", "30", "31", "59", "60"]),
                    digits(2), st.integers(1, 9).map(str))
    sep = st.sampled_from(["-", "/", ":", " ", "年", ""])
    parts = st.tuples(year, sep, two, sep, two, st.sampled_from([" ", "T", ""]), two, st.sampled_from([":", ""]), two,
                      st.sampled_from([":", ""]), st.one_of(two, st.just("")))
    return st.one_of(parts.map("".join), st.sampled_from(["", " ", "昨天", "1759284010", "45000", "2025-10-01T10:00:00Z"]))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(time_text(), st.none()), min_size=1, max_size=60),
       formats=st.sampled_from([FORMATS, FORMATS[::-1], ["%d/%m/%Y %H:%M", "%Y-%m-%d"], []]))
def test_times_parse_as_pandas_alone(values, formats):
    series = pd.Series(values, dtype="string")
    fast = outcome(timeparse.parse_times, series, formats, "Asia/Shanghai")
    with pytest.MonkeyPatch.context() as mp:
        pandas_only(mp)
        slow = outcome(timeparse.parse_times, series, formats, "Asia/Shanghai")
    if isinstance(slow, pd.Series):
        pd.testing.assert_series_equal(fast, slow)
    else:                                   # pandas' own general parser can fail on odd text: so must we
        assert fast == slow


def outcome(function, *args):
    """The result, or the type of error raised (pandas' general parser has bugs on some odd text)."""
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001
        return type(exc)


def test_impossible_dates_and_daylight_saving_gaps_as_pandas_alone(monkeypatch):
    values = pd.Series(["2025-02-29 10:00:00", "2024-02-29 10:00:00", "2025-04-31 01:00:00", "2025-12-31 23:59:59",
                        "1988-04-10 02:30:00", "1986-05-04 02:30:00", "1991-09-15 01:30:00", "2025/02/30 10:00",
                        " 2025-10-01 10:00:00 ", "2025-10-01 10:00", "2025-10-1\u0660 10:00:00", "\uff12025-10-10 10:00:00",
                        "1900-01-01 00:00:00", "2099-12-31 23:59:59", "2000-02-29 12:00:00", "2100-02-29 12:00:00",
                        None], dtype="string")
    fast = timeparse.parse_times(values, FORMATS, "Asia/Shanghai")
    pandas_only(monkeypatch)
    pd.testing.assert_series_equal(fast, timeparse.parse_times(values, FORMATS, "Asia/Shanghai"))
    assert fast.isna().tolist()[:4] == [True, False, True, False]


def test_plain_shape_only_for_fixed_width_ascii_formats():
    assert timeparse._plain_shape("%Y-%m-%d %H:%M:%S")[1] == 8
    assert timeparse._plain_shape("%d/%m/%Y %H:%M")[1] == 0
    assert timeparse._plain_shape("%H:%M")[1] is None
    for fmt in ("%Y年%m月%d日 %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z", "%b %d %Y", "%Y-%m-%d %H:%M:%S.%f", "", "100%%"):
        assert timeparse._plain_shape(fmt) is None


@pytest.mark.parametrize("values", [AWKWARD, [], [None], ["一条消息"], ["m1", "s-2", None, ""], ["m1 ", "x"],
                                    ["\x1fm1", "x"], ["m1", "x\x85"], ["NULL", "id7"],
                                    ["m12345", "order-77", None], ["  NULL  ", "abcdefg"], ["\u3000N/A\u3000", "xxxxxx"]])
def test_strip_and_nulls_as_pandas(values):
    series = pd.Series(values, dtype="string")
    nulls = load_profile("generic").null_values
    stripped = series.str.strip()
    expected = stripped.mask(stripped.isin(set(nulls)))
    got = _stripped_or_missing(series, pa.array(nulls, pa.large_string()))
    pd.testing.assert_series_equal(got, expected)


@pytest.mark.parametrize("nulls", [["无", "暂无", "😀"], ["无"], [], [""]])
def test_null_check_skipped_only_when_every_value_is_longer_than_the_markers(nulls):
    """Columns whose values are all longer than every null marker skip the lookup: same result."""
    for values in (["无", "暂无x", None], ["暂无", " 无 "], ["无无无", "xxxxxxxxx"], ["😀", "😀😀"], [None, None], []):
        series = pd.Series(values, dtype="string")
        stripped = series.str.strip()
        expected = stripped.mask(stripped.isin(set(nulls)))
        pd.testing.assert_series_equal(_stripped_or_missing(series, pa.array(nulls, pa.large_string())), expected)


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(
    ["a", "7", "-", "在", "😀", "\u3001", "\u00e9", "\u00a9", "\u2013", "\u1681", "\u0100", "\u30a2", *WHITESPACE]),
    max_size=4)), max_size=8))
def test_strip_skipped_only_when_nothing_to_strip(values):
    series = pd.Series(values, dtype="string")
    nulls = load_profile("generic").null_values
    stripped = series.str.strip()
    expected = stripped.mask(stripped.isin(set(nulls)))
    pd.testing.assert_series_equal(_stripped_or_missing(series, pa.array(nulls, pa.large_string())), expected)


@pytest.mark.parametrize("values", [AWKWARD, [], [None], ["一条消息"]])
def test_blank_text_as_strip(values):
    series = pd.Series(values, dtype="string")
    stripped = series.str.strip()
    assert _blank(series).tolist() == (stripped.isna() | (stripped == "")).tolist()


def test_blank_row_prefilter_sees_every_whitespace_character():
    cells = ["", *WHITESPACE, *(c * 3 + " " for c in WHITESPACE)]
    assert all(_may_be_blank(pa.array([cell, "s1"], pa.large_string())) for cell in cells)
    assert not _may_be_blank(pa.array(["s1", "a b", "0", "~"], pa.large_string()))


def test_read_ahead_keeps_order_and_raises_the_readers_error():
    assert list(_read_ahead(iter(range(50)))) == list(range(50))
    assert list(_read_ahead(iter([]))) == []

    def failing():
        yield 1
        raise ValueError("bad block")

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for item in _read_ahead(failing()):
            got.append(item)
    assert got == [1]


def test_read_ahead_stopped_early_closes_the_reader():
    closed = []

    def endless():
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.append(True)

    reader = _read_ahead(endless(), depth=2)
    assert [next(reader) for _ in range(3)] == [0, 1, 2]
    reader.close()
    assert closed == [True]


def test_ids_distinct_or_suffixed():
    assert _all_distinct(pd.Series(["a", "b", "😀"], dtype="string"))
    assert not _all_distinct(pd.Series(["a", "a"], dtype="string"))
    assert not _all_distinct(pd.Series(["a", None], dtype="string"))
    assert not _all_distinct(pd.Series(["a", "b"], dtype=object))
    assert _all_distinct(pd.Series([], dtype="string"))
    assert not _all_distinct(pd.Series(["x" * 100, "x" * 100], dtype="string"))      # too long to hash: Arrow
    assert _all_distinct(pd.Series(["x" * 100, "x" * 99 + "y"], dtype="string"))
    report = LoadReport(profile="generic")
    ids = _unique_ids(pd.Series(["m1", "m2", "m1"], dtype="string"), report)
    assert ids.tolist() == ["m1", "m2", "m1~2"] and report.warnings
    assert _unique_ids(pd.Series([], dtype="string"), LoadReport(profile="generic")).tolist() == []


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.text(alphabet=st.sampled_from(["a", "b", "\x00", "é", "😀", "在"]), max_size=20), max_size=30),
       cut=st.integers(0, 3))
def test_string_hashes_equal_for_equal_values_and_distinct_check_exact(values, cut):
    array = pa.array(["pad"] * cut + values, pa.large_string()).slice(cut)       # an offset into the buffers
    hashes = _string_hashes(array)
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            if a == b:
                assert hashes[i] == hashes[j]
    assert _all_distinct(pd.Series(pd.arrays.ArrowStringArray(array))) == (len(set(values)) == len(values))


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "在吗", "😀"])), max_size=5), min_size=1,
                       max_size=5), data=st.data())
def test_chunk_take_as_arrow_take(chunks, data):
    column = pa.chunked_array([pa.array(c, pa.large_string()) for c in chunks], pa.large_string())
    positions = np.array(data.draw(st.lists(st.integers(0, max(len(column) - 1, 0)), max_size=12))
                         if len(column) else [], dtype=np.int64)
    assert _chunk_take(column, positions).to_pylist() == column.take(pa.array(positions, pa.int64())).to_pylist()


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "B", "b", "在吗", "😀", "\uffff", "s10", "s9"])),
                                max_size=6), min_size=1, max_size=4))
def test_sorted_codes_as_factorize(chunks):
    values = pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([pa.array(c, pa.large_string()) for c in chunks],
                                                                    pa.large_string())))
    codes = _sorted_codes(values)
    assert codes.dtype == np.int32
    assert codes.tolist() == pd.factorize(values.astype(object), sort=True)[0].tolist()


@pytest.mark.parametrize("values", [["a", None, "在", "😀"] * 10, [f"v{i}" for i in range(40)], [None] * 40, []])
@pytest.mark.parametrize("cuts", [[], [7], [7, 20], [3, 7, 20, 21, 33]])
def test_take_of_joined_chunks_as_arrow_take(values, cuts):
    bounds = [0, *[c for c in cuts if c <= len(values)], len(values)]
    chunks = [pa.array(values[a:b], pa.large_string()) for a, b in itertools.pairwise(bounds)]
    column = pd.arrays.ArrowStringArray(pa.chunked_array(chunks, pa.large_string()))
    positions = np.random.default_rng(0).permutation(len(values))
    plain = _taken(pd.DataFrame({"c": column}), "c", positions, pa.array(positions, pa.int64()))
    arrow = pa.chunked_array(chunks, pa.large_string()).take(pa.array(positions, pa.int64()))
    assert plain.array.__arrow_array__().combine_chunks().equals(arrow.combine_chunks())
    assert plain.tolist() == [values[p] if values[p] is not None else pd.NA for p in positions]


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "B", "在吗", "😀", "𠀀x"])),
                                 max_size=6), min_size=1, max_size=4),
       without=st.sets(st.integers(0, 3)), data=st.data())
def test_batches_with_codes_as_concat(batches, without, data):
    """Batches whose few-valued columns are codes, joined, taken and made text again: pd.concat's
    table, taken (a batch without the column: missing there)."""
    def batch(i, values):
        frame = pd.DataFrame({"text": pd.array([f"t{i}"] * len(values), dtype="string[pyarrow]")})
        if i not in without:
            frame["shop"] = pd.array(values, dtype="string[pyarrow]")
        frame["role"] = pd.array(values[::-1], dtype="string[pyarrow]")
        frame["source_file"] = f"f{i}.csv"
        return frame
    plain = pd.concat([batch(i, v) for i, v in enumerate(batches)], ignore_index=True)
    if "shop" not in plain:
        return
    joined = _joined([_with_codes(batch(i, v)) for i, v in enumerate(batches)])
    positions = np.array(data.draw(st.permutations(list(range(len(plain))))), dtype=np.int64)
    expected = plain.take(positions).reset_index(drop=True)
    expected["source_file"] = expected["source_file"].astype("string[pyarrow]")
    got = _with_strings(joined.take(positions).reset_index(drop=True))
    pd.testing.assert_frame_equal(got, expected[list(joined.columns)])


def write(path: Path, rows: list[str], encoding: str = "gb18030") -> Path:
    path.write_bytes(("消息ID,会话ID,时间,发送方,内容\n" + "".join(rows)).encode(encoding, errors="replace"))
    return path


@pytest.mark.parametrize("rows", [
    [],
    ["m1,s1,2025-10-01 10:00:00,买家,在吗\n"],
    ["m1,s1,2025-10-01 10:00:00,买家,😀表情𠀀\n", "m2,s1,2025-10-01 10:00:05,客服,\n", "m3,s1,,客服,在的\n",
     "m1,s2,2025-02-30 10:00:00,客服, \u3000\n", "m4,s2,2025-10-01 10:00:09,买家,\ufffd坏字\n"],
])
def test_loads_as_the_reference_reader(tmp_path, monkeypatch, rows):
    path = write(tmp_path / "x.csv", rows)
    fast = load_logs(path, chunk_rows=2)
    monkeypatch.setattr(load_module, "read_delimited", functools.partial(read_delimited, fast=False))
    pandas_only(monkeypatch)
    reference = load_logs(path, chunk_rows=2)
    pd.testing.assert_frame_equal(fast.messages, reference.messages)
    pd.testing.assert_frame_equal(fast.quarantine, reference.quarantine)
    assert fast.report.to_dict() == reference.report.to_dict()


def test_replacement_character_in_text_or_file_name_still_set_aside(tmp_path):
    clean = write(tmp_path / "clean.csv", ["m1,s1,2025-10-01 10:00:00,买家,在吗\n"])
    assert load_logs(clean).report.by_reason == {}
    broken = tmp_path / "broken.csv"
    broken.write_bytes(clean.read_bytes() + b"m2,s1,2025-10-01 10:00:01,\xff\xfe,x\n")
    assert load_logs(broken, encoding="gb18030").report.by_reason.get("encoding_error") == 1
    odd_name = write(tmp_path / "名\ufffd.csv", ["m1,s1,2025-10-01 10:00:00,买家,在吗\n"])
    assert load_logs(odd_name).report.by_reason == {"encoding_error": 1}


def test_time_beyond_nanoseconds_is_a_bad_timestamp_not_a_crash(tmp_path):
    path = write(tmp_path / "x.csv", ["m1,s1,2500/12/02 13:23:12,买家,在吗\n", "m2,s1,1500-01-01 10:00:00,买家,在吗\n",
                                      "m3,s1,2025-10-01 10:00:00,客服,在的\n"])
    result = load_logs(path)
    assert result.report.by_reason == {"bad_timestamp": 2} and len(result.messages) == 1


@pytest.mark.parametrize("limit", [1, 3, 4, 9, 12, 100])
def test_text_length_check_skipped_only_when_no_text_has_more_bytes_than_the_limit(tmp_path, limit):
    """Texts are counted in characters; a batch none of whose texts has more bytes than the limit skips the count."""
    texts = ["abc", "abcd", "在吗啊", "在吗啊啊", "😀😀😀", "😀😀😀😀", "a在😀", "", "x" * 12]
    path = write(tmp_path / "x.csv", [f"m{i},s1,2025-10-01 10:00:0{i},买家,{t}\n" for i, t in enumerate(texts)])
    result = load_logs(path, max_text_chars=limit, chunk_rows=4)
    long = [i for i, t in enumerate(texts) if len(t) > limit]
    got = result.quarantine.loc[result.quarantine["reason"] == "text_too_long"]
    assert sorted(got["text"].tolist()) == sorted(texts[i] for i in long)
    assert got["detail"].tolist() == [f"text of {len(t)} characters (limit {limit})" for t in got["text"]]


def test_every_character_python_or_arrow_strips_is_seen_at_a_value_edge():
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    arrow_strips = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(pa.array(chars, pa.large_string()))), 0)
    spaces = [c for c, arrow in zip(chars, arrow_strips.to_pylist()) if arrow or not c.strip()]
    assert "\u3000" in spaces and "\x85" in spaces
    for space in spaces:
        for value in (space, "x" + space, space + "x", "在" + space, space + "😀", "é" + space):
            column = pa.chunked_array([pa.array(["", "ab", value, "在", ""], pa.large_string())])
            assert _may_have_edge_space(column), repr(value)
    assert not _may_have_edge_space(pa.chunked_array([pa.array(["", "京东", "ab😀", "é", None, "在吗？"], pa.large_string())]))
