"""The bundled sample: deterministic, realistic in shape, and its planted truth matches what the loader sees."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cs_analytics.base import config
from cs_analytics import generate_sample, load_logs, write_sample
from cs_analytics.base.holidays import day_type


@pytest.fixture(scope="module")
def truth():
    return pd.read_csv(config.SAMPLE_TRUTH, dtype={"message_id": str}, keep_default_na=False)


@pytest.fixture(scope="module")
def truth_sessions():
    return pd.read_csv(config.SAMPLE_TRUTH_SESSIONS, keep_default_na=False)


def test_generator_is_deterministic(tmp_path):
    a = write_sample(tmp_path / "a", n_sessions=40, seed=7)
    b = write_sample(tmp_path / "b", n_sessions=40, seed=7)
    for kind in a:
        assert a[kind].read_bytes() == b[kind].read_bytes(), kind
    c = generate_sample(n_sessions=40, seed=8)
    assert not c.export.equals(generate_sample(n_sessions=40, seed=7).export)


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    fresh = write_sample(tmp_path, n_sessions=3000, seed=20251001)
    assert fresh["export"].read_bytes() == config.SAMPLE_EXPORT.read_bytes(), (
        "data/sample is stale: run `make sample` and commit the result")
    for kind, path in fresh.items():
        assert path.read_bytes() == (config.SAMPLE_DIR / path.name).read_bytes(), f"{kind} is stale"


def test_sample_is_gb18030_with_chinese_headers():
    raw = config.SAMPLE_EXPORT.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header = raw.decode("gb18030").splitlines()[0]
    assert header.split(",")[:4] == ["消息ID", "会话ID", "时间", "平台"]


def test_loader_sets_aside_exactly_the_planted_dirty_rows(sample_load, truth):
    planted = truth[truth["dirty"] != ""]
    got = sample_load.quarantine[["source_row", "reason"]].astype({"source_row": int, "reason": str})
    expected = planted[["source_row", "dirty"]].rename(columns={"dirty": "reason"})
    key = ["source_row", "reason"]
    assert got.sort_values(key).reset_index(drop=True).equals(expected.sort_values(key).reset_index(drop=True))
    assert sample_load.report.balanced
    assert sample_load.report.rows_read == len(truth)


def test_kept_messages_keep_their_exported_ids(sample_load, truth):
    clean = truth[truth["dirty"] == ""]
    assert set(sample_load.messages["message_id"]) == set(clean["message_id"])


def test_shape_of_the_sample(sample_load, truth_sessions):
    m = sample_load.messages
    assert set(m["platform"]) == {"taobao", "tmall", "jd", "pdd", "douyin"}
    assert m["shop"].nunique() == 5 and m["agent_id"].nunique() >= 15
    assert set(m["role"]) == {"customer", "agent", "bot"}
    days = m["ts"].dt.date.unique()
    kinds = {day_type(d) for d in days}
    assert {"workday", "weekend", "holiday", "makeup_workday"} <= kinds
    assert (m["ts"].max() - m["ts"].min()) >= pd.Timedelta(days=35)
    assert 2500 <= len(truth_sessions) <= 3500
    assert truth_sessions["long_waits"].sum() > 50           # some long waits
    assert truth_sessions["escalation"].mean() > 0.05        # escalation threats happen
    assert set(truth_sessions["scenario"]) >= {"presale", "logistics", "quality", "return_refund", "invoice"}


def test_violation_rates_follow_agent_habits(truth, truth_sessions):
    agent_rows = truth[(truth["role"] == "agent") & (truth["dirty"] == "")]
    habit = truth_sessions.set_index("session_id")["agent_habit"]
    rate = (agent_rows["violations"] != "").groupby(agent_rows["session_id"].map(habit)).mean()
    assert rate["careless"] > rate["steady"] > rate["model"]
    categories = agent_rows["violations"].str.split(";").explode().str.split(":").str[0]
    assert {"service_taboo", "absolute_claim", "third_party_platform", "off_platform_transaction",
            "review_inducement", "abuse", "privacy_leak"} <= set(categories)


def test_festive_expectation_follows_the_official_calendar(truth_sessions, sample_load):
    start = sample_load.messages.groupby("session_id")["ts"].min().dt.date
    frame = truth_sessions.set_index("session_id").join(start.rename("day"))
    for _, row in frame.iterrows():
        kind = day_type(row["day"])
        expected = {"holiday": "holiday", "weekend": "weekend"}.get(kind, "")
        assert row["festive_expected"] == expected
    assert day_type(dt.date(2025, 9, 28)) == "makeup_workday"


def test_jd_style_tsv_loads_without_timestamps():
    result = load_logs(config.SAMPLE_JD_TSV, "jd_tsv")
    assert result.report.balanced and result.report.rows_quarantined == 0
    assert not result.report.has_timestamps and result.messages["ts"].isna().all()
    assert set(result.messages["platform"]) == {"jd"}
    assert result.report.sessions == 300
    text = " ".join(result.messages["text"])
    assert "[电话x]" in text or "[姓名x]" in text
    assert result.messages["is_repeat"].dtype == "boolean"
