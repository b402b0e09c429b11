"""Overview tables on hand-built messages whose answers are known."""
from __future__ import annotations

import pandas as pd
import pytest

from cs_analytics.base.privacy import export_safe
from cs_analytics import filter_messages, load_logs
from cs_analytics.tables import overview

EXPORT = """会话ID,时间,发送方,客服,买家,店铺,平台,内容
a,2025-09-30 23:58:00,买家,,b1,店A,天猫,在吗
a,2025-09-30 23:59:00,客服,客服1,b1,店A,天猫,您好
a,2025-10-01 00:03:00,买家,,b1,店A,天猫,好的
b,2025-09-28 10:00:00,买家,,b2,店B,京东,发票
b,2025-09-28 10:00:05,机器人,店B:机器人,b2,店B,京东,您好，稍候
b,2025-09-28 10:01:00,客服,客服2,b2,店B,京东,可以开
b,2025-09-28 10:02:00,客服,客服3,b2,店B,京东,还有吗
b,2025-09-28 10:03:00,客服,客服2,b2,店B,京东,再见
"""


@pytest.fixture
def messages(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text(EXPORT, encoding="utf-8")
    return load_logs(path).messages


def test_session_table(messages):
    s = overview.session_table(messages).set_index("session_id")
    assert s.loc["a", "messages"] == 3 and s.loc["a", "customer_messages"] == 2
    assert s.loc["b", "bot_messages"] == 1 and s.loc["b", "agent_messages"] == 3
    assert s.loc["b", "agent_id"] == "客服2"                       # most messages wins
    assert s.loc["a", "duration_min"] == pytest.approx(5.0)        # crosses midnight


def test_session_table_role_counts_equal_a_crosstab(messages):
    extra = messages.iloc[[0]].assign(session_id="c", role="system", message_id="c#1")   # a session of one message
    both = pd.concat([messages, extra], ignore_index=True)
    s = overview.session_table(both).set_index("session_id")
    expected = pd.crosstab(both["session_id"], both["role"])
    for role in expected.columns:
        assert s[f"{role}_messages"].to_dict() == expected[role].to_dict()
    assert s.loc["c", "messages"] == 1 and s.loc["c", "system_messages"] == 1 and s.loc["c", "customer_messages"] == 0


def test_daily_volume_labels_the_official_calendar(messages):
    daily = overview.daily_volume(messages).set_index("date")
    assert daily.loc["2025-09-28", "day_type"] == "makeup_workday"   # a Sunday worked for 国庆
    assert daily.loc["2025-09-29", "messages"] == 0                  # gaps are filled with zero
    assert daily.loc["2025-10-01", "day_type"] == "holiday"
    assert daily["messages"].sum() == len(messages)


def test_volume_by_and_hour_matrix(messages):
    by = overview.volume_by(messages, "platform").set_index("platform")
    assert by.loc["jd", "messages"] == 5 and by.loc["tmall", "sessions"] == 1
    assert by["share_of_messages"].sum() == pytest.approx(1.0)
    matrix = overview.hour_weekday_matrix(messages)
    assert matrix.shape == (24, 7) and matrix.to_numpy().sum() == 3
    assert matrix.loc[10, "周日"] == 1


def test_filter_messages(messages):
    assert set(filter_messages(messages, platforms="jd")["session_id"]) == {"b"}
    oct_first = filter_messages(messages, date_from="2025-10-01", date_to="2025-10-01")
    assert oct_first["text"].tolist() == ["好的"]
    no_times = messages.assign(ts=pd.Series(pd.NaT, index=messages.index, dtype=messages["ts"].dtype))
    with pytest.raises(ValueError, match="no send times"):
        filter_messages(no_times, date_from="2025-10-01")


def test_quarantine_examples_are_masked(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("会话ID,时间,发送方,内容\ns1,2025-10-01 10:00:00,路人,我电话13812345678\n"
                    "s1,2025-10-01 10:00:01,路人,第二条\ns1,2025-10-01 10:00:02,路人,第三条\n", encoding="utf-8")
    examples = overview.quarantine_examples(load_logs(path).quarantine, per_reason=2)
    assert export_safe(examples)["text"].tolist() == ["我电话[手机号]", "第二条"]   # as every output shows it
    assert set(examples["reason_label"]) == {"发送方无法识别"}          # the reason by its label, not its id
