"""Politeness checks on hand-built sessions (one per check; a weekend, a holiday, a 调休 make-up
workday, a date the calendar does not cover) and against the sample's planted truth."""
from __future__ import annotations

import pandas as pd
import pytest

from cs_analytics.base.privacy import export_safe
from cs_analytics.base import config
from cs_analytics import load_logs
from cs_analytics.findings import politeness as po
from cs_analytics.tables import politeness_stats as pstats
from test_timing import chat

WEDNESDAY, SATURDAY, HOLIDAY, MAKEUP = "2025-10-15 ", "2025-10-18 ", "2025-10-03 ", "2025-10-11 "


def checks_of(*frames) -> pd.DataFrame:
    return po.politeness_checks(pd.concat(frames)).set_index("session_id")


def polite(day=WEDNESDAY, sid="s1", closing="请问还有其他可以帮您的吗？感谢您的支持，再见~", **kw):
    return chat((day + "10:00:00", "customer", "在吗"), (day + "10:00:20", "agent", "您好，很高兴为您服务，请问有什么可以帮您？"),
                (day + "10:01:00", "customer", "有货吗"), (day + "10:01:30", "agent", "有的，请放心下单"),
                (day + "10:02:00", "customer", "好的"), (day + "10:02:20", "agent", closing), sid=sid, **kw)


def test_a_polite_workday_session_passes_every_check_that_applies():
    row = checks_of(polite()).loc["s1"]
    assert row["greeting"] and row["closing"] and row["anything_else"] and row["no_taboo"] and not row["fatal"]
    assert row["honorific"] == 1.0 and row["please"] == 1.0         # 请问 / 请放心 / 请问 in all three replies
    for not_applicable in ("complaint_apology", "complaint_empathy", "wait_apology", "festive_closing"):
        assert pd.isna(row[not_applicable]), not_applicable
    assert row["score"] == 100


def test_the_score_is_the_weighted_mean_of_the_checks_that_apply():
    frame = polite(closing="好的，再见")         # closing yes, anything_else no, 请 in 2 of 3 replies
    row = checks_of(frame).loc["s1"]
    weights = {k: v["weight"] for k, v in po.politeness_spec()["checks"].items()}
    values = {"greeting": 1, "closing": 1, "anything_else": 0, "honorific": 1, "please": 2 / 3, "no_taboo": 1}
    expected = 100 * sum(weights[c] * v for c, v in values.items()) / sum(weights[c] for c in values)
    assert row["please"] == pytest.approx(2 / 3) and row["score"] == pytest.approx(expected)


def test_greeting_must_open_the_first_reply():
    late = chat((WEDNESDAY + "10:00:00", "customer", "在吗"), (WEDNESDAY + "10:00:20", "agent", "这款支持7天无理由退换的，你好"),
                sid="late")
    after_apology = chat((WEDNESDAY + "10:00:00", "customer", "在吗"),
                         (WEDNESDAY + "10:09:00", "agent", "对不起，让您久等了。您好，在的"), sid="sorry")
    out = checks_of(late, after_apology)
    assert not out.loc["late", "greeting"] and out.loc["sorry", "greeting"]


def test_closing_and_anything_else_look_at_the_last_agent_messages():
    abrupt = polite(closing="好的", sid="abrupt")
    out = checks_of(abrupt).loc["abrupt"]
    assert not out["closing"] and not out["anything_else"]


def test_honorific_rate_counts_messages_that_say_ni():
    frame = chat((WEDNESDAY + "10:00:00", "customer", "在吗"), (WEDNESDAY + "10:00:10", "agent", "您好"),
                 (WEDNESDAY + "10:01:00", "customer", "有货吗"), (WEDNESDAY + "10:01:10", "agent", "你要的有货"),
                 (WEDNESDAY + "10:01:20", "agent", "好的"))
    assert checks_of(frame).loc["s1", "honorific"] == 0.5       # 好的 addresses no one and is not counted


def test_complaint_sessions_owe_an_apology_and_empathy():
    sorry = chat((WEDNESDAY + "10:00:00", "customer", "收到的东西有质量问题"),
                 (WEDNESDAY + "10:00:30", "agent", "非常抱歉给您添麻烦了，我理解您的心情"), sid="sorry")
    cold = chat((WEDNESDAY + "10:00:00", "customer", "收到的东西有质量问题"), (WEDNESDAY + "10:00:30", "agent", "您申请售后吧"),
                sid="cold")
    out = checks_of(sorry, cold)
    assert out.loc["sorry", "complaint_apology"] and out.loc["sorry", "complaint_empathy"]
    assert not out.loc["cold", "complaint_apology"] and not out.loc["cold", "complaint_empathy"]


def test_wait_apology_is_the_share_of_long_waits_apologised():
    frame = chat((WEDNESDAY + "10:00:00", "customer", "在吗"), (WEDNESDAY + "10:10:00", "agent", "抱歉久等了，您好"),
                 (WEDNESDAY + "10:11:00", "customer", "有货吗"), (WEDNESDAY + "10:20:00", "agent", "有的"))
    row = checks_of(frame).loc["s1"]
    assert row["long_waits"] == 2 and row["wait_apology"] == 0.5


@pytest.mark.parametrize("day, closing, expected, passed", [
    (SATURDAY, "感谢您的支持，祝您周末愉快，再见~", "weekend", True),
    (SATURDAY, "感谢您的支持，再见~", "weekend", False),
    (SATURDAY, "祝您节日快乐，再见~", "weekend", False),            # the wrong wish for a weekend
    (HOLIDAY, "感谢您的支持，祝您国庆快乐，再见~", "holiday", True),   # a named holiday's wish counts
    (HOLIDAY, "感谢您的支持，祝您周末愉快，再见~", "holiday", False),
    (MAKEUP, "感谢您的支持，再见~", None, None),                      # a 调休 Saturday is a workday
    (WEDNESDAY, "感谢您的支持，再见~", None, None),
])
def test_weekend_and_holiday_closings_follow_the_official_calendar(day, closing, expected, passed):
    row = checks_of(polite(day=day, closing=closing)).loc["s1"]
    assert (row["festive_expected"] if pd.notna(row["festive_expected"]) else None) == expected
    assert (bool(row["festive_closing"]) if pd.notna(row["festive_closing"]) else None) == passed


def test_dates_the_calendar_does_not_cover_are_reported_not_guessed():
    row = checks_of(polite(day="2031-06-07 ")).loc["s1"]       # a Saturday, after the calendar's last year
    assert row["day_type"] == "unknown" and pd.isna(row["festive_closing"])


def test_sanbu_breaches_and_fatal_items_reuse_the_forbidden_phrase_hits():
    shirk = polite(closing="不知道，你自己看吧", sid="shirk")
    abuse = polite(closing="你有病吧，再见", sid="abuse")
    out = checks_of(shirk, abuse)
    assert not out.loc["shirk", "no_taboo"] and "shirking" in out.loc["shirk", "taboo_rules"] + "shirk"
    assert out.loc["abuse", "fatal"] and out.loc["abuse", "score"] == 0
    assert not out.loc["shirk", "fatal"] and out.loc["shirk", "score"] > 0


def test_bots_are_not_judged_and_sessions_without_a_human_agent_are_left_out():
    bot_only = chat((WEDNESDAY + "10:00:00", "customer", "在吗"), (WEDNESDAY + "10:00:01", "bot", "您好，欢迎光临"), sid="bot")
    out = checks_of(bot_only, polite())
    assert list(out.index) == ["s1"]


def test_an_export_without_times_leaves_time_checks_missing():
    result = load_logs(config.SAMPLE_JD_TSV, "jd_tsv")
    checks = po.politeness_checks(result.messages)
    assert len(checks) > 10
    assert checks["festive_closing"].isna().all() and checks["wait_apology"].isna().all()
    assert checks["greeting"].any() and checks["score"].between(0, 100).all()


# ------------------------------------------------------------------------- summaries, trends ---
def test_scorecards_rank_agents_and_name_the_weakest_check():
    frame = pd.concat([polite(sid="a1", agent="好客服"), polite(sid="b1", agent="差客服", closing="好的")])
    cards = pstats.scorecards(po.politeness_checks(frame))
    assert list(cards.index) == ["好客服", "差客服"] and cards["rank"].tolist() == [1, 2]
    assert cards.loc["差客服", "weakest_check"] in ("closing", "anything_else")


def test_before_after_finds_a_real_change_and_not_noise():
    before = [polite(day=f"2025-09-{d:02d} ", sid=f"b{d}", closing="好的") for d in range(1, 28)]
    after = [polite(day=f"2025-10-{d:02d} ", sid=f"a{d}") for d in range(13, 31)]
    checks = po.politeness_checks(pd.concat(before + after))
    table = pstats.before_after(checks, "2025-10-01")
    assert table.loc["closing", "before"] == 0 and table.loc["closing", "after"] == 1
    assert table.loc["closing", "significant"]
    assert not table.loc["greeting", "significant"]                 # unchanged
    assert (table["p_holm"].dropna() >= table["p_value"].dropna()).all()


def test_holm_adjustment():
    adjusted = pstats._holm(pd.Series([0.01, 0.04, 0.03, None], index=list("abcd")))
    assert adjusted[["a", "b", "c"]].round(4).to_dict() == {"a": 0.03, "b": 0.06, "c": 0.06}
    assert pd.isna(adjusted["d"])


def test_weekly_check_rates(sample_checks):
    weekly = pstats.check_rates(sample_checks, "week")
    assert weekly["sessions"].sum() == len(sample_checks)
    assert weekly["greeting"].between(0, 1).all()


def test_examples_are_masked_and_ordered(sample_load, sample_checks):
    worst = pstats.example_sessions(sample_load.messages, sample_checks, n=3, best=False)
    assert worst["score"].is_monotonic_increasing and len(worst) == 3
    assert not export_safe(worst)["transcript"].str.contains(r"1[3-9]\d{9}").any()   # as every output shows it


# ---------------------------------------------------------------------------------- the sample ---
@pytest.fixture(scope="module")
def sample_checks(sample_load):
    return po.politeness_checks(sample_load.messages)


def test_sample_truth(sample_checks):
    truth = pd.read_csv(config.SAMPLE_TRUTH_SESSIONS, keep_default_na=False).set_index("session_id")
    joined = sample_checks.set_index("session_id").join(truth.add_suffix("_truth"), how="inner")
    assert len(joined) == len(truth)
    for check in ("greeting", "closing", "anything_else"):
        assert (joined[check] == joined[f"{check}_truth"].astype(str).eq("True")).all(), check
    festive = joined[joined["festive_expected_truth"] != ""]
    same_day = festive[festive["festive_expected"].astype(str) == festive["festive_expected_truth"]]
    assert len(same_day) >= 0.99 * len(festive)                      # sessions that end after midnight differ
    assert (same_day["festive_closing"].astype(bool) == same_day["festive_given_truth"].astype(str).eq("True")).all()
    waits = joined[joined["long_waits_truth"].astype(int) > 0]
    planted = waits["long_waits_apologized_truth"].astype(int) / waits["long_waits_truth"].astype(int)
    assert (waits["wait_apology"] == planted).mean() >= 0.99             # a quarantined first message shifts a few


def test_every_check_has_a_weight_and_a_label():
    spec = po.politeness_spec()
    assert set(po.CHECKS) <= set(spec["checks"]) and set(po.CHECKS) <= set(po.check_labels())
    assert spec["source"]


def test_interval_chart_marks_significant_rows():
    from cs_analytics.outputs import plots

    table = pd.DataFrame({"diff": [1.0, -2.0], "ci_low": [0.5, -5.0], "ci_high": [1.5, 1.0], "significant": [True, False]},
                         index=["欢迎语", "结束语"])
    fig = plots.interval_chart(table, "前后变化", "百分点")
    colors = fig.axes[0].collections[-1].get_facecolors()
    assert len(colors) == 2 and tuple(colors[0]) != tuple(colors[1])


def test_filler_words_are_a_taboo_but_not_a_sanbu_breach():
    filler = polite(closing="是这样的，是这样的，再见", sid="filler")
    row = checks_of(filler).loc["filler"]
    assert row["no_taboo"]


def test_midpoint_date():
    checks = pd.DataFrame({"started": pd.to_datetime(["2025-10-01 10:00", "2025-10-11 10:00", None]).tz_localize("Asia/Shanghai")})
    assert pstats.midpoint_date(checks) == "2025-10-06"


def test_checks_read_the_agents_turns():
    """A turn is the agent's messages with no customer message between them: a 您好 opening the second
    template of the first turn greets, an offer of help anywhere in the first turn greets, the closing
    may sit in any message of the last turn, and anything-else in the last two turns (README C)."""
    d = WEDNESDAY
    templates = chat((d + "10:00:00", "customer", "在吗"),
                     (d + "10:00:10", "agent", "正在为您查询，请稍等~ 您好，订单已经发出"),
                     (d + "10:01:00", "customer", "好的"),
                     (d + "10:01:10", "agent", "请问还有其他还可以帮到您的吗?"),
                     (d + "10:02:00", "customer", "没有了"),
                     (d + "10:02:10", "agent", "好的"), (d + "10:02:12", "agent", "祝您生活愉快"), sid="templates")
    offer = chat((d + "10:00:00", "customer", "你好"), (d + "10:00:10", "agent", "亲爱的，风和日丽的一天，请问有什么问题我可以帮您处理呢?"),
                 sid="offer")
    straight = chat((d + "10:00:00", "customer", "你好"), (d + "10:00:10", "agent", "请提供一下订单号"),
                    (d + "10:00:12", "agent", "这款支持7天无理由退换的，你好"), sid="straight")
    out = checks_of(templates, offer, straight)
    assert out.loc["templates", "greeting"] and out.loc["templates", "closing"] and out.loc["templates", "anything_else"]
    assert out.loc["offer", "greeting"]
    assert not out.loc["straight", "greeting"]      # a comma does not open a template; an order-number request is no greeting


def test_tricky_batches_single_messages_no_replies_and_missing_times():
    from test_process import tricky_messages

    frame = tricky_messages()
    out = po.politeness_checks(frame).set_index("session_id")
    assert list(out.index) == ["a", "c", "d", "e"]                   # b has no human agent reply
    assert out.loc["c", "greeting"] and not out.loc["c", "closing"]   # one message is the first and the last turn
    assert out.loc["d", "closing"] and out.loc["a", "closing"] and out.loc["a", "anything_else"]
    assert out.loc["a", "agent_id"] == "王" and out.loc["d", "agent_id"] == "孙"   # 赵 wrote without a send time
    assert pd.isna(out.loc["e", "day"]) and pd.isna(out.loc["e", "started"]) and pd.isna(out.loc["e", "day_type"])
    untimed = po.politeness_checks(frame.drop(columns=["ts"])).set_index("session_id")
    assert untimed["day"].isna().all() and untimed["started"].isna().all() and untimed["wait_apology"].isna().all()
    only_buyers = po.politeness_checks(frame[frame["role"] == "customer"])
    assert only_buyers.empty and list(only_buyers.columns) == list(po.CHECK_COLUMNS)
    no_agent_times = frame.assign(ts=frame["ts"].where(frame["role"] == "customer"))
    kinds = po.politeness_checks(no_agent_times)
    assert kinds["day"].isna().all() and kinds["day_type"].isna().all() and kinds["festive_closing"].isna().all()


def test_taboo_rules_are_joined_once_each_in_hit_order():
    taboo = pd.DataFrame({"session_id": ["s2", "s1", "s2", "s2", "x"], "rule_id": ["r2", "r1", "r1", "r2", "r9"]})
    joined = po._joined_rules(taboo, pd.Index(["s1", "s2", "s3"]))
    assert joined.tolist() == ["r1", "r2;r1", ""] and joined.dtype == "str"
    assert po._joined_rules(taboo.iloc[:0], pd.Index(["s1"])).tolist() == [""]
