"""The loader against a corpus of realistic bad files, kept as data in cases/loader_cases.yaml."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cs_analytics import LoadError, load_logs

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "loader_cases.yaml").read_text(encoding="utf-8"))


def write_case(case: dict, folder: Path) -> Path:
    path = folder / case["file"]
    if "raw_lines" in case:
        path.write_bytes(b"".join(line["text"].encode(line["encoding"]) for line in case["raw_lines"]))
    else:
        content = case["content"].replace("{BIG}", "长" * 1_000_000)
        path.write_bytes(content.encode(case.get("encoding", "utf-8")))
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_loader_case(case, tmp_path):
    path = write_case(case, tmp_path)
    options = case.get("options", {})
    if "error" in case:
        with pytest.raises(LoadError) as info:
            load_logs(path, case.get("profile"), **options)
        for fragment in case["error"]:
            assert fragment in str(info.value), f"error message should mention {fragment!r}: {info.value}"
        return
    result = load_logs(path, case.get("profile"), **options)
    report, expect = result.report, case["expect"]
    assert report.rows_read == report.rows_kept + report.rows_quarantined
    assert len(result.messages) == report.rows_kept
    assert len(result.quarantine) == report.rows_quarantined
    assert report.rows_read == expect["rows_read"]
    assert report.rows_kept == expect["rows_kept"]
    assert report.by_reason == expect["by_reason"]
    if "encoding" in expect:
        assert report.files[0].encoding == expect["encoding"]
    if "roles" in expect:
        assert result.messages["role"].value_counts().to_dict() == expect["roles"]
    if "sessions" in expect:
        assert report.sessions == expect["sessions"]
    if "has_timestamps" in expect:
        assert report.has_timestamps == expect["has_timestamps"]
    if "out_of_order_rows" in expect:
        assert report.out_of_order_rows == expect["out_of_order_rows"]
    for session, texts in expect.get("texts_in_order", {}).items():
        got = result.messages[result.messages["session_id"] == session].sort_values("seq")["text"].tolist()
        assert got == texts
    # every quarantined row says where it came from and why
    if len(result.quarantine):
        assert result.quarantine["reason"].notna().all()
        assert (result.quarantine["source_row"] > 0).all()
        assert result.quarantine["source_file"].str.endswith(case["file"]).all()


def test_quarantine_keeps_the_raw_text_of_broken_rows(tmp_path):
    case = next(c for c in CASES if c["name"] == "broken_quoting")
    result = load_logs(write_case(case, tmp_path))
    row = result.quarantine.iloc[0]
    assert row["source_row"] == 3
    assert "这一行的引号没有闭合" in row["text"]
    assert "unclosed quote" in row["detail"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        load_logs(tmp_path / "nope.csv")


def test_folder_without_exports_is_a_clear_error(tmp_path):
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(LoadError, match="holds no export files"):
        load_logs(tmp_path)


def test_unreadable_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(LoadError, match="broken.xlsx.*re-save"):
        load_logs(path)


def test_invalid_json_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('[{"会话ID": "s1", ', encoding="utf-8")
    with pytest.raises(LoadError, match=r"broken.json: not valid JSON \(line 1"):
        load_logs(path)


def test_every_reason_the_loader_gives_has_a_label_and_every_label_a_case():
    """resources/quarantine_reasons.yaml names exactly the reasons the loader's checks give (each has
    a bad file in loader_cases.yaml), each with a Chinese label, English and a meaning."""
    from cs_analytics.base.schema import quarantine_reasons, reason_label

    given = {reason for case in CASES for reason in case.get("expect", {}).get("by_reason", {})}
    assert given == set(quarantine_reasons())
    for reason, names in quarantine_reasons().items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in names["zh"]) and names["en"] and names["meaning"], reason
        assert reason_label(reason) == names["zh"] and reason_label(reason, english=True) == f"{names['zh']} {names['en']}"
    assert len({names["zh"] for names in quarantine_reasons().values()}) == len(quarantine_reasons())
    assert reason_label("not_a_reason") == "not_a_reason"
