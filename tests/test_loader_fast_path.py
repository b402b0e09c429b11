"""The CSV/TSV fast path (pyarrow.csv on plain lines) reads exactly what the csv module reads line by line.

``read_delimited(..., fast=False)`` sends every line through the csv module: the reference. Tricky
files (quotes, records over several lines, blank and whitespace lines, wrong field counts, CRLF and
lone CR line ends, undecodable bytes, a BOM, blocks cut inside a quoted field) must give the same
records, line numbers and malformed rows both ways, and the same load.
"""
from __future__ import annotations

import functools
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_analytics import load_logs
from cs_analytics.ingest import load as load_module
from cs_analytics.ingest.load import _duplicated, _numbers_within_runs, _SortKeys
from cs_analytics.ingest.readers import read_delimited

HEADER = "会话ID,时间,发送方,内容\n"
TRICKY_LINES = [
    "s1,2025-10-01 10:00:00,买家,在吗\n",
    "s1,2025-10-01 10:00:15,买家,\"引号没有闭合\n",                     # unclosed quote: runs on, then re-read
    "s1,2025-10-01 10:00:05,客服,\"您好，\"\"在的\"\"\"\n",            # quoted, doubled quotes
    "s1,2025-10-01 10:00:10,客服,\"第一行\n第二行\"\n",                # a record over two lines
    "\n",                                                              # blank line
    "   \n",                                                           # whitespace only
    " , ,\u3000, \n",                                                  # blank fields (Python whitespace)
    "s1,2025-10-01 10:00:20,买家,好的,谢谢\n",                          # one field too many
    "s1,2025-10-01 10:00:25,买家\n",                                   # one field short
    "s2,2025-10-01 10:00:30,客服,CRLF 结尾\r\n",
    "s2,2025-10-01 10:00:35,客服,lone CR\r",
    "s2,2025/10/01 10:00:40,买家,斜杠日期\n",
    "s2,1759284010,买家,时间戳\n",
    "s2,昨天,买家,坏时间\n",
    "s2,,买家,没有时间\n",
    "s2,2025-10-01 10:00:45,路人,未知角色\n",
    "s2,2025-10-01 10:00:45,买家,重复\n",
    "s2,2025-10-01 10:00:45,买家,重复\n",
    ",2025-10-01 10:00:50,买家,没有会话\n",
    "s2,2025-10-01 10:00:55,客服,a\"b 中间的引号\n",
    "s3,2025-10-01 11:00:00,买家,普通的一行\n",
    "s3,2025-10-01 11:00:05,买家,\"  \"\n",                            # empty text
]


def batches(path: Path, fast: bool, chunk_rows: int = 50_000, encoding: str = "utf-8", **options) -> dict:
    """Everything read_delimited yields, flattened: fields, rows, records, malformed rows."""
    rows, records, malformed, fields = [], [], [], None
    for batch in read_delimited(path, encoding=encoding, delimiter=options.get("delimiter", ","),
                                quoting=options.get("quoting", "minimal"), header=options.get("header", True),
                                fields=options.get("fields", []), chunk_rows=chunk_rows, fast=fast):
        fields = batch.fields
        rows += [int(r) for r in batch.rows]
        if batch.columns is not None:
            records += [list(r) for r in zip(*(c.to_pylist() for c in batch.columns))]
        else:
            records += batch.records
        malformed += [(m.source_row, m.reason, m.detail, m.raw) for m in batch.malformed]
    return {"fields": fields, "rows": rows, "records": records, "malformed": malformed}


def write(tmp_path: Path, lines: list[str], name: str = "x.csv", encoding: str = "utf-8",
          header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_bytes((header + "".join(lines)).encode(encoding, errors="replace"))
    return path


def test_tricky_lines_read_the_same_both_ways(tmp_path):
    path = write(tmp_path, TRICKY_LINES)
    fast, reference = batches(path, True), batches(path, False)
    assert fast == reference
    assert reference["malformed"] and reference["rows"][0] == 2


def test_blocks_cut_inside_quoted_records_read_the_same(tmp_path):
    # ~300 KB: several 64 KB blocks, with multi-line and unclosed-quote records falling on block ends
    rng = random.Random(7)
    lines = [rng.choice(TRICKY_LINES) for _ in range(8000)]
    path = write(tmp_path, lines)
    assert path.stat().st_size > 4 * (1 << 16)
    assert batches(path, True, chunk_rows=1) == batches(path, False, chunk_rows=1)


def test_plain_file_is_read_by_the_fast_path_with_line_numbers(tmp_path):
    lines = [f"s{i // 3},2025-10-01 10:{i % 60:02d}:00,买家,第{i}句\n" for i in range(5000)]
    path = write(tmp_path, lines)
    fast = batches(path, True, chunk_rows=1)
    assert fast == batches(path, False, chunk_rows=1)
    assert fast["rows"] == list(range(2, 5002))
    assert fast["records"][-1] == ["s1666", "2025-10-01 10:19:00", "买家", "第4999句"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_encodings_and_undecodable_bytes(tmp_path, encoding):
    path = write(tmp_path, TRICKY_LINES * 3, encoding=encoding)
    with open(path, "ab") as fh:                      # a GBK line in a UTF-8 file, or stray bytes
        fh.write("s9,2025-10-01 12:00:00,买家,国标编码\n".encode("gb18030") + b"s9,x,\xff\xfe,y\n")
    assert batches(path, True, encoding=encoding) == batches(path, False, encoding=encoding)


def test_bom_kept_when_the_encoding_says_so_and_no_trailing_newline(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "s1\t2025\t0\t在吗\ns1\t2025\t1\t您好".encode())
    options = dict(delimiter="\t", header=False, fields=["session_id", "ts", "role", "text"])
    fast = batches(path, True, **options)
    assert fast == batches(path, False, **options)
    assert fast["records"][0][0] == "\ufeffs1" and fast["records"][-1][-1] == "您好"


def test_quoting_none_reads_quotes_as_text(tmp_path):
    path = write(tmp_path, ['s1\t1\t"引号开头\n', 's1\t2\t正常\n'], name="x.tsv",
                 header="会话ID\t时间\t内容\n")
    fast = batches(path, True, delimiter="\t", quoting="none")
    assert fast == batches(path, False, delimiter="\t", quoting="none")
    assert fast["records"][0][2] == '"引号开头'


line_st = st.lists(st.sampled_from(["s1", "s2", "", " ", '"', '""', ",", "\n", "\r\n", "\r", "在吗", "a b",
                                    "2025-10-01 10:00:00", "\u3000", "\t"]), max_size=12).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line_st, max_size=30),
       header=st.sampled_from([HEADER, "\n\n" + HEADER, '"会话ID",时间,"发送方",内容\n']))
def test_any_text_reads_the_same_both_ways(tmp_path_factory, lines, header):
    path = write(tmp_path_factory.mktemp("prop"), [line + "\n" for line in lines], header=header)
    assert batches(path, True) == batches(path, False)


def test_whole_load_is_the_same_with_the_reference_reader(tmp_path, monkeypatch):
    rng = random.Random(3)
    lines = [rng.choice(TRICKY_LINES) for _ in range(3000)]
    path = write(tmp_path, lines)
    fast = load_logs(path, chunk_rows=500)
    monkeypatch.setattr(load_module, "read_delimited", functools.partial(read_delimited, fast=False))
    reference = load_logs(path, chunk_rows=500)
    pd.testing.assert_frame_equal(fast.messages, reference.messages)
    pd.testing.assert_frame_equal(fast.quarantine, reference.quarantine)
    assert fast.report.to_dict() == reference.report.to_dict()
    assert {"duplicate", "bad_timestamp", "missing_timestamp", "unknown_role", "malformed_row",
            "missing_session_id", "empty_text"} <= set(fast.report.by_reason)


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["s1", "s2", None]), st.sampled_from([1, 2, None]),
                               st.sampled_from(["a", "b"]), st.sampled_from(["x", "y", None])), max_size=40),
       data=st.data())
def test_duplicates_found_in_two_stages_match_pandas(rows, data):
    frame = pd.DataFrame(rows, columns=["session_id", "ts", "role", "text"]).astype("string")
    frame["ts"] = pd.to_datetime(frame["ts"].map({"1": "2025-10-01", "2": "2025-10-02"}, na_action="ignore"))
    chosen = np.array(sorted(data.draw(st.sets(st.integers(0, max(len(frame) - 1, 0)), max_size=len(frame)))
                             if len(frame) else []), dtype=np.int64)
    key = ["session_id", "ts", "role", "text"]
    expected = frame.iloc[chosen].duplicated(subset=key, keep="first").to_numpy()
    session = pd.factorize(frame["session_id"], sort=True)[0]
    assert (_duplicated(frame, key, chosen, session) == expected).all()
    # as load_logs calls it: time-zone-aware times, rows compared only next to their neighbours in the final order
    aware = frame.assign(ts=frame["ts"].dt.tz_localize("Asia/Shanghai"), _order=np.arange(len(frame)))
    keys = _SortKeys.of(aware, chosen, session)
    assert (_duplicated(aware, key, chosen, session, keys, keys.sorted_positions()) == expected).all()


def test_numbers_within_runs_is_cumcount():
    codes = np.array([0, 0, 0, 3, 3, 5, 7, 7, 7, 7])
    expected = pd.Series(codes).groupby(codes).cumcount().to_numpy() + 1
    assert (_numbers_within_runs(codes) == expected).all()
    assert len(_numbers_within_runs(np.array([], dtype=np.int64))) == 0


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3), st.one_of(st.none(), st.integers(-5, 5))), max_size=40),
       seconds=st.booleans(), far=st.booleans(), shuffled=st.booleans(), data=st.data())
def test_one_sort_key_sorts_as_the_separate_keys(rows, seconds, far, shuffled, data):
    missing_stamp = np.iinfo(np.int64).min
    sessions = np.array([r[0] for r in rows], dtype=np.int32)
    stamps = np.array([missing_stamp if r[1] is None else r[1] * (10**9 if seconds else 1) + (10**18 if far else 0)
                       for r in rows], dtype=np.int64)
    order = np.arange(len(rows))
    if shuffled:
        order = np.array(data.draw(st.permutations(list(range(len(rows))))), dtype=np.int64)
    keys = _SortKeys(sessions, order, stamps if (stamps != missing_stamp).any() else None)
    missing = stamps == missing_stamp
    expected = np.lexsort((order, np.where(missing, 0, stamps), missing, sessions))
    assert (keys.sorted_positions() == expected).all()


def _out_of_order_before(sessions, order, stamps, missing):
    """The count as it was computed before (on the kept rows' own arrays)."""
    export = np.arange(len(order)) if (np.diff(order) > 0).all() else np.argsort(order, kind="stable")
    by_session = export[np.argsort(sessions[export], kind="stable")]
    s, t, m = sessions[by_session], stamps[by_session], missing[by_session]
    return int(((s[1:] == s[:-1]) & ~m[1:] & ~m[:-1] & (t[1:] < t[:-1])).sum())


@settings(max_examples=80, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 3), st.one_of(st.none(), st.integers(-5, 5)), st.booleans()), max_size=40),
       shuffled=st.booleans(), data=st.data())
def test_out_of_order_among_taken_rows(rows, shuffled, data):
    missing_stamp = np.iinfo(np.int64).min
    sessions = np.array([r[0] for r in rows], dtype=np.int32)
    stamps = np.array([missing_stamp if r[1] is None else r[1] for r in rows], dtype=np.int64)
    taken = np.array([r[2] for r in rows], dtype=bool)
    order = np.arange(len(rows))
    if shuffled:
        order = np.array(data.draw(st.permutations(list(range(len(rows))))), dtype=np.int64)
    keys = _SortKeys(sessions, order, stamps)
    kept = np.flatnonzero(taken)
    expected = _out_of_order_before(sessions[kept], order[kept], stamps[kept], keys.missing[kept])
    assert keys.out_of_order(kept) == expected
