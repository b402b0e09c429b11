"""Profiles validate with clear errors; times parse in every form exports use; masking hides PII."""
from __future__ import annotations

import pandas as pd
import pytest

from cs_analytics import ProfileError, available_profiles, load_logs, load_profile
from cs_analytics.base.privacy import export_safe, mask_series, mask_text
from cs_analytics.base.timeparse import NoTimestampsError, parse_times, require_times


def test_shipped_profiles_validate():
    assert {"generic", "jd_tsv"} <= set(available_profiles())
    for name in available_profiles():
        prof = load_profile(name)
        assert prof.source, f"profile {name} must say where its mapping comes from"


@pytest.mark.parametrize("body, fragment", [
    ("name: x\ncolums: {}\n", "unknown key"),
    ("name: x\nroles: {buyer: [买家]}\n", "'buyer' is not a role"),
    ("name: x\ncolumns: {texts: [内容]}\n", "'texts' is not a canonical column"),
    ("name: x\nsender_roles: {agent: ['([']}\n", "invalid regular expression"),
    ("name: x\nheader: false\n", "must list the column order"),
    ("name: x\ntimezone: Mars/Base\n", "unknown time zone"),
    ("name: x\nplatforms: {taobao: 淘宝}\n", "must map a name to a list"),
    ("name: [x\n", "not valid YAML"),
])
def test_bad_profiles_name_file_and_key(tmp_path, body, fragment):
    path = tmp_path / "my_profile.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert "my_profile.yaml" in str(info.value) and fragment in str(info.value)


def test_user_profile_maps_own_headers_without_code(tmp_path):
    (tmp_path / "shop.yaml").write_text(
        "name: shop\nsource: our ERP export\ncolumns:\n  session_id: [对话编号]\n  ts: [发送于]\n"
        "  role: [谁发的]\n  text: [说了什么]\nroles:\n  customer: [客人]\n  agent: [我们]\n"
        "time_formats: ['%d.%m.%Y %H:%M']\ndefaults: {platform: douyin}\n", encoding="utf-8")
    (tmp_path / "export.csv").write_text(
        "对话编号,发送于,谁发的,说了什么\nA,01.10.2025 10:00,客人,在吗\nA,01.10.2025 10:01,我们,您好\n",
        encoding="utf-8")
    m = load_logs(tmp_path / "export.csv", tmp_path / "shop.yaml").messages
    assert m["role"].tolist() == ["customer", "agent"]
    assert set(m["platform"]) == {"douyin"}
    assert m["ts"].iloc[0] == pd.Timestamp("2025-10-01 10:00", tz="Asia/Shanghai")


TIME_CASES = [
    ("2025-10-01 10:00:00", "2025-10-01 10:00:00"),
    ("2025/10/01 10:00:00", "2025-10-01 10:00:00"),
    ("2025-10-01 10:00", "2025-10-01 10:00:00"),
    ("2025年10月01日 10:00:00", "2025-10-01 10:00:00"),
    ("1759284000", "2025-10-01 10:00:00"),           # epoch seconds
    ("1759284000000", "2025-10-01 10:00:00"),        # epoch milliseconds
    ("45931.4166666667", "2025-10-01 10:00:00"),     # Excel serial day
    ("2025-10-01T02:00:00Z", "2025-10-01 10:00:00"),  # UTC, converted
    ("2025-10-01T10:00:00+08:00", "2025-10-01 10:00:00"),
    ("2025-10-01 23:30:00", "2025-10-01 23:30:00"),
]


@pytest.mark.parametrize("raw, expected", TIME_CASES)
def test_time_forms(raw, expected):
    formats = load_profile("generic").time_formats
    got = parse_times(pd.Series([raw]), formats, "Asia/Shanghai").iloc[0]
    assert got == pd.Timestamp(expected, tz="Asia/Shanghai")


@pytest.mark.parametrize("raw", ["昨天", "2025-13-01 10:00:00", "25:61", ""])
def test_bad_times_are_missing(raw):
    assert pd.isna(parse_times(pd.Series([raw]), [], "Asia/Shanghai").iloc[0])


def test_analyses_needing_times_say_so():
    frame = pd.DataFrame({"ts": pd.Series([pd.NaT, pd.NaT], dtype="datetime64[ns, Asia/Shanghai]")})
    with pytest.raises(NoTimestampsError, match="首次响应|needs message send times"):
        require_times(frame, "first response time")


@pytest.mark.parametrize("raw, masked", [
    ("我电话13812345678", "我电话[手机号]"),
    ("手机 138 1234 5678 到了打我", "手机 [手机号] 到了打我"),
    ("+86 139-1234-5678", "[手机号]"),
    ("电话１３９１２３４５６７８", "电话[手机号]"),
    ("身份证110101199003071234", "身份证[身份证号]"),
    ("收件人张伟，电话13912345678", "收件人[姓名]，电话[手机号]"),
    ("寄到上海市浦东新区张江路12号吧，王芳收", "[地址]吧，[姓名]收"),
    ("138****1234", "138****1234"),                  # already masked
    ("订单号1234567890123456", "订单号1234567890123456"),  # order numbers are not phones
])
def test_mask_text(raw, masked):
    assert mask_text(raw) == masked


def test_masking_a_mixed_column_keeps_booleans_and_numbers_apart():
    """A load summary's value column holds True, 1, False, 0 and texts: each keeps its own type."""
    values = pd.Series([True, 1, False, 0, "电话13812345678", "电话13812345678", None], dtype=object)
    masked = mask_series(values).tolist()
    assert [type(v) for v in masked[:4]] == [bool, int, bool, int]
    assert masked[:4] == [True, 1, False, 0] and masked[4:6] == ["电话[手机号]"] * 2 and masked[6] is None
    shown = export_safe(pd.DataFrame({"what": ["has timestamps", "rows"], "value": [True, 1]}))
    assert shown["value"].tolist()[0] is True
