"""One conversation exported in every supported format loads into the same messages table."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from cs_analytics import LoadError, load_logs

ROWS = [
    {"会话ID": "s1", "时间": "2025-10-01 10:00:00", "发送方": "买家", "客服": "", "买家": "b1", "店铺": "优品家居", "平台": "天猫", "内容": "在吗，这个有货吗"},
    {"会话ID": "s1", "时间": "2025-10-01 10:00:40", "发送方": "客服", "客服": "优品:小雅", "买家": "b1", "店铺": "优品家居", "平台": "天猫", "内容": "您好，有现货的，\"今天\"下单今天发"},
    {"会话ID": "s2", "时间": "2025-10-02 21:15:00", "发送方": "买家", "客服": "", "买家": "b2", "店铺": "优品家居", "平台": "天猫", "内容": "快递怎么还没到,都五天了"},
    {"会话ID": "s2", "时间": "2025-10-02 21:16:10", "发送方": "客服", "客服": "优品:阿杰", "买家": "b2", "店铺": "优品家居", "平台": "天猫", "内容": "抱歉久等了，我们帮您核实一下\n稍后回复您"},
]
KEY = ["message_id", "session_id", "seq", "ts", "role", "agent_id", "customer_id", "shop", "platform", "text"]


def write(fmt: str, folder):
    frame = pd.DataFrame(ROWS)
    if fmt == "csv_utf8":
        path = folder / "x.csv"
        frame.to_csv(path, index=False, encoding="utf-8")
    elif fmt == "csv_bom":
        path = folder / "x.csv"
        frame.to_csv(path, index=False, encoding="utf-8-sig")
    elif fmt == "csv_gb18030":
        path = folder / "x.csv"
        frame.to_csv(path, index=False, encoding="gb18030")
    elif fmt == "tsv":
        path = folder / "x.tsv"
        frame.to_csv(path, index=False, sep="\t", encoding="utf-8")
    elif fmt == "xlsx":
        path = folder / "x.xlsx"
        with pd.ExcelWriter(path) as writer:
            frame.iloc[:2].to_excel(writer, sheet_name="10月1日", index=False)
            frame.iloc[2:].to_excel(writer, sheet_name="10月2日", index=False)
    elif fmt == "json":
        path = folder / "x.json"
        path.write_text(json.dumps({"messages": ROWS}, ensure_ascii=False), encoding="utf-8")
    elif fmt == "json_sessions":
        path = folder / "x.json"
        sessions = []
        for sid, group in frame.groupby("会话ID"):
            msgs = group.drop(columns=["会话ID"]).to_dict("records")
            sessions.append({"会话ID": sid, "消息": msgs})
        path.write_text(json.dumps(sessions, ensure_ascii=False), encoding="utf-8")
    elif fmt == "jsonl":
        path = folder / "x.jsonl"
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS) + "\n", encoding="utf-8")
    elif fmt == "parquet":
        path = folder / "x.parquet"
        frame.to_parquet(path)
    elif fmt == "folder":
        path = folder / "daily"
        path.mkdir()
        frame.iloc[:2].to_csv(path / "day1.csv", index=False, encoding="gb18030")
        frame.iloc[2:].to_csv(path / "day2.csv", index=False, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return load_logs(write("csv_utf8", tmp_path_factory.mktemp("ref"))).messages[KEY]


@pytest.mark.parametrize("fmt", ["csv_bom", "csv_gb18030", "tsv", "xlsx", "json", "json_sessions", "jsonl",
                                 "parquet", "folder"])
def test_every_format_gives_the_same_messages(fmt, tmp_path, reference):
    result = load_logs(write(fmt, tmp_path))
    assert result.report.balanced and result.report.rows_read == 4
    got = result.messages[KEY].sort_values(["session_id", "seq"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, reference.sort_values(["session_id", "seq"]).reset_index(drop=True))


def test_xlsx_rows_and_sheets_are_recorded(tmp_path):
    result = load_logs(write("xlsx", tmp_path))
    assert set(result.messages["source_file"].str.split("!").str[1]) == {"10月1日", "10月2日"}
    assert sorted(result.messages["source_row"]) == [2, 2, 3, 3]


def test_one_sheet_only(tmp_path):
    result = load_logs(write("xlsx", tmp_path), sheet="10月2日")
    assert set(result.messages["session_id"]) == {"s2"}


def test_canonical_columns_and_dtypes(reference, tmp_path):
    from cs_analytics.base.schema import MESSAGE_COLUMNS

    messages = load_logs(write("csv_utf8", tmp_path)).messages
    assert tuple(messages.columns) == MESSAGE_COLUMNS
    assert str(messages["ts"].dt.tz) == "Asia/Shanghai"
    assert messages["text"].dtype == pd.StringDtype("pyarrow")
    assert messages["seq"].dtype == "int32"
    assert messages.loc[messages["role"] == "customer", "agent_id"].isna().all()


def test_message_ids_are_stable_across_reloads_and_formats(tmp_path):
    (tmp_path / "a").mkdir()
    a = load_logs(write("csv_utf8", tmp_path / "a")).messages
    b = load_logs(write("parquet", tmp_path)).messages
    assert a["message_id"].tolist() == b["message_id"].tolist()
    assert a["message_id"].is_unique


def test_exported_message_ids_are_kept(tmp_path):
    frame = pd.DataFrame(ROWS)
    frame.insert(0, "消息ID", ["m1", "m2", "m3", "m4"])
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    assert sorted(load_logs(path).messages["message_id"]) == ["m1", "m2", "m3", "m4"]


def test_jsonl_bad_line_is_quarantined(tmp_path):
    path = tmp_path / "x.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in ROWS]
    lines.insert(2, '{"会话ID": "s1", broken')
    path.write_text("\n".join(lines), encoding="utf-8")
    result = load_logs(path)
    assert result.report.rows_read == 5 and result.report.rows_kept == 4
    assert result.quarantine.iloc[0]["source_row"] == 3
    assert result.quarantine.iloc[0]["reason"] == "malformed_row"


def test_large_file_streams_in_chunks(tmp_path):
    frame = pd.DataFrame(ROWS * 500)
    frame["会话ID"] = [f"s{i // 4}" for i in range(len(frame))]
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    whole = load_logs(path)
    chunked = load_logs(path, chunk_rows=97)
    assert chunked.report.rows_kept == whole.report.rows_kept == 2000
    pd.testing.assert_frame_equal(whole.messages, chunked.messages)


def test_workbook_notes_sheet_is_skipped_and_reported(tmp_path):
    path = tmp_path / "with_notes.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"说明": ["导出时间 2025-10-03", "共 4 条"]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame(ROWS).to_excel(writer, sheet_name="聊天记录", index=False)
    result = load_logs(path)
    assert result.report.rows_read == 4 and result.report.rows_kept == 4
    assert result.report.files[0].skipped_parts == ["sheet '说明': 2 rows without the required columns"]


def test_workbook_without_any_usable_sheet_is_an_error(tmp_path):
    path = tmp_path / "notes_only.xlsx"
    pd.DataFrame({"说明": ["x"]}).to_excel(path, sheet_name="说明", index=False)
    with pytest.raises(LoadError, match="notes_only.xlsx.*sheet '说明'.*required column"):
        load_logs(path)


def test_a_message_that_looks_like_a_quoted_field_does_not_change_the_delimiter(tmp_path):
    # csv.Sniffer reads ";'" … "'" in the texts as a field quoted with ' after a ; delimiter; the header decides
    path = tmp_path / "export.csv"
    path.write_text("会话ID,时间,发送方,内容\ns1,2025-10-01 10:00:00,买家,\ns1,2025-10-01 10:00:00,买家,\n"
                    "s1,2025-10-01 10:00:00,买家,;'\ns1,2025-10-01 10:00:00,买家,'\n", encoding="utf-8")
    loaded = load_logs(path)
    assert loaded.report.rows_read == 4 and loaded.report.rows_kept == 2     # two empty texts set aside
    assert loaded.messages["text"].tolist() == [";'", "'"]
