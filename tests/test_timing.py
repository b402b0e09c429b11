"""Reply rounds, response statistics, platform recipes, long waits and workload on hand-built sessions
whose numbers are known, and against the sample's planted waits."""
from __future__ import annotations

import pandas as pd
import pytest

from cs_analytics.base.privacy import export_safe
from cs_analytics.base import config
from cs_analytics import load_logs
from cs_analytics.findings import timing as tm
from cs_analytics.tables import timing_stats as tstats
from cs_analytics.base.schema import conform
from cs_analytics.base.timeparse import NoTimestampsError

TZ = "Asia/Shanghai"


def chat(*turns, sid="s1", platform="taobao", shop="店", buyer="b1", agent="a1") -> pd.DataFrame:
    """Turns are (time, role, text); time 'YYYY-MM-DD HH:MM:SS' local (Asia/Shanghai, no DST)."""
    rows = [{"message_id": f"{sid}-{i}", "session_id": sid, "seq": i, "ts": pd.Timestamp(t, tz=TZ), "role": role,
             "agent_id": (agent if role == "agent" else "bot" if role == "bot" else None), "customer_id": buyer,
             "platform": platform, "shop": shop, "text": text} for i, (t, role, text) in enumerate(turns, start=1)]
    return conform(pd.DataFrame(rows), TZ)


D = "2025-10-09 "   # a Thursday, a normal workday


def test_a_burst_is_one_round_and_the_next_human_reply_closes_it():
    frame = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:20", "customer", "这个有货吗"),
                 (D + "10:01:00", "agent", "您好，有的"), (D + "10:01:05", "agent", "还需要别的吗"),
                 (D + "10:02:00", "customer", "好的"), (D + "10:02:30", "agent", "好的亲"))
    rounds = tm.reply_rounds(frame)
    assert rounds["round"].tolist() == [1, 2]
    assert rounds["customer_messages"].tolist() == [2, 1]
    assert rounds["response_s"].tolist() == [60.0, 30.0]
    assert rounds["first_message_id"].tolist() == ["s1-1", "s1-5"]
    assert rounds["reply_message_id"].tolist() == ["s1-3", "s1-6"] and rounds["agent_id"].tolist() == ["a1", "a1"]


def test_bots_and_auto_replies_are_reported_but_do_not_close_a_round():
    frame = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:02", "bot", "您好，客服马上为您服务"),
                 (D + "10:00:10", "agent", "【自动回复】当前咨询人数较多，请稍候"), (D + "10:02:00", "agent", "您好"))
    rounds = tm.reply_rounds(frame)
    assert len(rounds) == 1
    row = rounds.iloc[0]
    assert row["response_s"] == 120.0 and row["bot_response_s"] == 2.0 and row["reply_message_id"] == "s1-4"
    with_bots = tm.reply_rounds(frame, count_bots=True)
    assert with_bots["response_s"].tolist() == [2.0]


def test_proactive_agent_messages_open_no_round_and_unanswered_rounds_stay_open():
    frame = chat((D + "09:59:00", "agent", "您好，您的快递已发出"), (D + "10:00:00", "customer", "好的谢谢"))
    rounds = tm.reply_rounds(frame)
    assert len(rounds) == 1 and not rounds["answered"].iloc[0] and pd.isna(rounds["response_s"].iloc[0])


def test_overnight_and_midnight_rounds_and_local_hours():
    overnight = chat((D + "22:50:00", "customer", "在吗"), ("2025-10-10 09:05:00", "agent", "您好"), sid="night")
    midnight = chat((D + "23:59:30", "customer", "在吗"), ("2025-10-10 00:00:30", "agent", "在的"), sid="mid")
    rounds = tm.reply_rounds(pd.concat([overnight, midnight])).set_index("session_id")
    assert rounds.loc["night", "response_s"] == 10 * 3600 + 15 * 60
    assert rounds.loc["mid", "response_s"] == 60.0
    assert rounds.loc["mid", "hour"] == 23 and rounds.loc["mid", "weekday"] == 3      # local time, Thursday
    assert str(rounds.loc["mid", "week"]) == "2025-10-06"


def test_row_order_in_the_export_does_not_matter():
    frame = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:40", "agent", "在的"),
                 (D + "10:01:00", "customer", "有货吗"), (D + "10:03:00", "agent", "有的"))
    shuffled = frame.iloc[[3, 1, 2, 0]].assign(seq=[1, 2, 3, 4])      # rows and seq out of time order
    pd.testing.assert_frame_equal(tm.reply_rounds(frame), tm.reply_rounds(shuffled))


def test_response_summary_numbers():
    turns = []
    for i, wait in enumerate([10, 20, 30, 40, 400]):
        turns += [(f"{D}1{i}:00:00", "customer", "在吗"), (f"{D}1{i}:{wait // 60:02d}:{wait % 60:02d}", "agent", "在")]
    turns.append((D + "19:00:00", "customer", "还在吗"))                       # unanswered
    rounds = tm.reply_rounds(chat(*turns))
    summary = tstats.response_summary(rounds, thresholds=(30, 180)).iloc[0]
    assert summary["rounds"] == 6 and summary["answered"] == 5
    assert summary["median_s"] == 30 and summary["mean_s"] == 100
    assert summary["p90_s"] == pytest.approx(40 + 0.6 * 360)
    assert summary["within_30s"] == pytest.approx(3 / 6) and summary["within_180s"] == pytest.approx(4 / 6)
    by_hour = tstats.response_summary(rounds, "hour")
    assert by_hour.loc[14, "median_s"] == 400


def test_session_times():
    frame = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:45", "agent", "在"), (D + "10:05:00", "customer", "好"))
    row = tm.session_times(frame).iloc[0]
    assert row["first_response_s"] == 45 and row["duration_s"] == 300 and row["rounds"] == 2
    assert row["unanswered_rounds"] == 1 and row["agent_id"] == "a1"


# ---------------------------------------------------------------------------- platform recipes ---
def metric(frame, recipe_id, **kwargs):
    table = tm.platform_metrics(frame, **kwargs)
    return table[table["recipe"] == recipe_id]


def test_taobao_three_minutes_counts_rounds_opening_between_8_and_23():
    frame = pd.concat([
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:02:00", "agent", "在"), sid="fast"),
        chat((D + "11:00:00", "customer", "在吗"), (D + "11:05:00", "agent", "在"), sid="slow"),
        chat((D + "23:30:00", "customer", "在吗"), (D + "23:59:00", "agent", "在"), sid="late"),     # outside
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:01", "bot", "稍等"), (D + "10:04:00", "agent", "在"),
             sid="bot", platform="tmall"),
    ])
    row = metric(frame, "taobao_3min_human_response").iloc[0]
    assert row["units"] == 3 and row["value"] == pytest.approx(1 / 3)   # the bot reply does not count
    assert row["version"] == tm.load_recipes()["version"]


def test_jd_excludes_night_sessions_and_merges_a_return_within_ten_minutes():
    first = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:20", "agent", "在"), sid="j1", platform="jd", buyer="b")
    back = chat((D + "10:05:00", "customer", "还有个问题"), (D + "10:06:00", "agent", "您说"), sid="j2",
                platform="jd", buyer="b")
    other = chat((D + "12:00:00", "customer", "在吗"), (D + "12:01:00", "agent", "在"), sid="j3", platform="jd", buyer="c")
    night = chat((D + "23:30:00", "customer", "在吗"), (D + "23:30:10", "agent", "在"), sid="j4", platform="jd", buyer="d")
    frame = pd.concat([first, back, other, night])
    row = metric(frame, "jd_30s_first_response").iloc[0]
    assert row["units"] == 2 and row["value"] == 0.5          # j1 (+ j2 merged) answered in 20 s; j3 in 60 s
    mean = metric(frame, "jd_mean_response").iloc[0]
    assert mean["units"] == 3 and mean["value"] == pytest.approx((20 + 60 + 60) / 3)
    merged = tm.merge_sessions(frame, 600)
    assert merged.loc[merged["message_id"] == "j2-1", "session_id"].item() == "j1"
    assert merged.loc[merged["message_id"] == "j3-1", "session_id"].item() == "j3"


def test_merging_with_untimed_messages_and_a_recipes_rounds_from_its_columns_alone():
    """A message without a time goes with its session; the rounds a recipe computes from the columns
    rounds need (``ROUND_INPUTS``) are those of the whole messages."""
    first = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:20", "agent", "在"), sid="j1", platform="jd", buyer="b")
    back = chat((D + "10:05:00", "customer", "还有个问题"), (D + "10:06:00", "agent", "您说"), sid="j2",
                platform="jd", buyer="b")
    frame = pd.concat([first, back], ignore_index=True).assign(sku="S1", order_id="O1")
    untimed = frame.assign(ts=frame["ts"].where(frame["message_id"] != "j2-2"))
    merged = tm.merge_sessions(untimed, 600)
    assert list(merged["session_id"]) == ["j1"] * 4
    for table in (frame, untimed):
        whole = tm.reply_rounds(tm.merge_sessions(table, 600))
        narrow = tm.reply_rounds(tm.merge_sessions(table[list(tm.ROUND_INPUTS)], 600))
        pd.testing.assert_frame_equal(narrow, whole)


def test_message_kinds_of_some_rows_with_and_without_the_whole_tables():
    from cs_analytics.findings.sessions import message_kinds

    messages = pd.concat([chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:05", "bot", "您好"),
                               (D + "10:00:20", "agent", "在"), sid=f"s{i}") for i in range(3)], ignore_index=True)
    rows = (messages["session_id"] != "s1").to_numpy()
    expected = message_kinds(messages.copy())[rows]
    other = messages.assign(text=messages["text"] + "。")       # other arrays: this table's kinds are not kept
    assert (message_kinds(messages, rows) == expected).all()
    assert (message_kinds(messages, rows) == message_kinds(messages)[rows]).all()         # kept now
    assert (message_kinds(messages, rows[:0].nonzero()[0]) == expected[:0]).all()
    message_kinds(other)
    assert (message_kinds(messages, rows.nonzero()[0]) == expected).all()


def test_pdd_valid_reply_judges_each_buyer_day():
    good = chat((D + "10:00:00", "customer", "在吗"), (D + "10:30:00", "agent", "在"), sid="p1", platform="pdd", buyer="b1")
    late = chat((D + "10:00:00", "customer", "在吗"), (D + "10:01:00", "agent", "在"), (D + "12:00:00", "customer", "发货了吗"),
                (D + "13:30:00", "agent", "发了"), sid="p2", platform="pdd", buyer="b2")
    unanswered = chat((D + "15:00:00", "customer", "在吗"), sid="p3", platform="pdd", buyer="b3")
    night = chat((D + "23:10:00", "customer", "在吗"), ("2025-10-10 08:30:00", "agent", "在"), sid="p4", platform="pdd", buyer="b4")
    row = metric(pd.concat([good, late, unanswered, night]), "pdd_valid_reply").iloc[0]
    assert row["units"] == 3 and row["value"] == pytest.approx(1 / 3)      # b4's round opened after 23:00


def test_platform_metrics_by_group_and_recipes_without_sessions_are_left_out():
    frame = pd.concat([
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:01:00", "agent", "在"), sid="a", shop="A"),
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:09:00", "agent", "在"), sid="b", shop="B"),
    ])
    table = tm.platform_metrics(frame, by="shop")
    assert set(table["recipe"]) == {"taobao_3min_human_response"}
    assert table.set_index("shop")["value"].to_dict() == {"A": 1.0, "B": 0.0}


def test_windows_wrap_midnight():
    times = pd.Series(pd.to_datetime(["2025-10-09 23:30", "2025-10-09 08:59", "2025-10-09 09:00"]).tz_localize(TZ))
    assert tm._in_window(times, {"from": "23:00", "to": "09:00"}).tolist() == [True, True, False]


@pytest.mark.parametrize("content, message", [
    ("recipes: [{id: x, label: x, platforms: [jd], unit: hour, metric: share_within, threshold_s: 3, source: s}]", "unit 'hour'"),
    ("recipes: [{id: x, label: x, platforms: [jd], unit: round, metric: share_within, source: s}]", "threshold_s"),
    ("recipes: [{id: x, label: x, platforms: [jd], unit: round, metric: valid_share, threshold_s: 3, source: s}]", "needs unit buyer_day"),
    ("recipes: [{id: x, label: x, platforms: [jd], unit: round, metric: mean_response_s, source: s, window: {from: '8am', to: '23:00'}}]", "window from"),
    ("recipes: [{id: x, label: x, platforms: [jd], unit: round, metric: mean_response_s}]", "'source' is required"),
    ("recipes: [{id: x, label: x, platforms: [jd], unit: round, metric: mean_response_s, source: s, treshold: 3}]", "unknown field"),
    ("version: 1\n", "a list under 'recipes'"),
    ("units: {hour: {zh: 小时, en: hours}}\nrecipes: []", "'hour' is not one of"),
    ("units: {round: {zh: '', en: rounds}}\nrecipes: []", "'round' needs zh and en"),
    ("metrics: [share_within]\nrecipes: []", "'metrics' is a mapping"),
])
def test_recipe_errors_name_the_file_recipe_and_fix(tmp_path, content, message):
    path = tmp_path / "mine.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(tm.RecipeError) as err:
        tm.load_recipes(path)
    assert message in str(err.value) and "mine.yaml" in str(err.value)


def test_units_and_metrics_are_named_and_the_table_carries_the_names(tmp_path):
    """The recipe file names each unit and metric (zh, en); a file of your own may rename some and
    leave the rest to the packaged names; the metrics table carries them, its reader view splits shares
    from seconds."""
    recipes = tm.load_recipes()
    assert set(recipes["units"]) == set(tm.UNITS) and set(recipes["metrics"]) == set(tm.METRICS)
    assert recipes["units"]["first_round"]["zh"] == "会话首轮" and recipes["units"]["round"]["zh"] == "轮"
    mine = tmp_path / "mine.yaml"
    mine.write_text("version: x\nunits: {round: {zh: 回合, en: turns}}\nrecipes: []\n", encoding="utf-8")
    own = tm.load_recipes(mine)
    assert own["units"]["round"]["zh"] == "回合" and own["units"]["buyer_day"] == recipes["units"]["buyer_day"]
    assert own["metrics"] == recipes["metrics"]
    frame = pd.concat([chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:20", "agent", "在"), sid="j1", platform="jd"),
                       chat((D + "10:00:00", "customer", "在吗"), (D + "10:02:00", "agent", "在"), sid="t1")])
    table = tm.platform_metrics(frame).set_index("recipe")
    assert table.loc["jd_30s_first_response", ["unit_label", "metric_label"]].tolist() == ["会话首轮", "限时内回复占比"]
    assert table.loc["jd_mean_response", "metric_label"] == recipes["metrics"]["mean_response_s"]["zh"]
    shown = tstats.metrics_table(tm.platform_metrics(frame)).set_index("recipe")
    assert shown.loc["jd_30s_first_response", "share"] == 1.0 and pd.isna(shown.loc["jd_30s_first_response", "mean_s"])
    assert shown.loc["jd_mean_response", "mean_s"] == 20 and pd.isna(shown.loc["jd_mean_response", "share"])
    assert "value" not in shown and "source" not in shown and list(shown.columns[-2:]) == ["unit", "metric"]
    shares = tstats.metric_shares(tm.platform_metrics(frame))        # the chart's bars: shares in %, named by unit
    label = table.loc["jd_30s_first_response", "label"]
    assert shares[f"{label}(按会话首轮计)"] == 100.0
    assert table.loc["jd_mean_response", "label"] + "(按" not in " ".join(shares.index)


def test_an_analyst_can_follow_a_rule_change(tmp_path):
    recipes = tm.load_recipes()
    changed = {**recipes, "version": "2026-01", "recipes": [{**recipes["recipes"][0], "threshold_s": 600}]}
    frame = chat((D + "11:00:00", "customer", "在吗"), (D + "11:05:00", "agent", "在"))
    assert metric(frame, "taobao_3min_human_response")["value"].item() == 0.0
    assert tm.platform_metrics(frame, changed)["value"].item() == 1.0


# ------------------------------------------------------------------------- long waits, workload ---
def test_long_waits_and_apologies():
    frame = pd.concat([
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:10:00", "agent", "抱歉久等了，您说"), sid="sorry"),
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:10:00", "agent", "您说"), sid="silent", agent="a2"),
        chat((D + "10:00:00", "customer", "在吗"), (D + "10:01:00", "agent", "您说"), sid="quick"),
    ])
    waits = tm.long_waits(frame, threshold_s=300).set_index("session_id")
    assert set(waits.index) == {"sorry", "silent"}
    assert waits.loc["sorry", "apologized"] and waits.loc["sorry", "apology"] == "抱歉久等"
    assert not waits.loc["silent", "apologized"]
    rates = tstats.wait_apology_rates(waits.reset_index())
    assert rates.loc["a1", "apology_rate"] == 1.0 and rates.loc["a2", "apology_rate"] == 0.0


def test_concurrency_counts_the_agents_open_sessions():
    a = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:30", "agent", "在"), (D + "10:20:00", "agent", "再见"), sid="a")
    b = chat((D + "10:05:00", "customer", "在吗"), (D + "10:06:00", "agent", "在"), sid="b")
    c = chat((D + "10:30:00", "customer", "在吗"), (D + "10:31:00", "agent", "在"), sid="c")
    other = chat((D + "10:05:00", "customer", "在吗"), (D + "10:06:00", "agent", "在"), sid="o", agent="a2")
    frame = pd.concat([a, b, c, other])
    rounds = tm.reply_rounds(frame)
    open_sessions = tm.concurrency(frame, rounds)
    got = dict(zip(rounds["session_id"], open_sessions))
    assert got == {"a": 1, "b": 2, "c": 1, "o": 1}
    table = tstats.workload_response(rounds, open_sessions)
    assert table.loc["2", "rounds"] == 1 and table.loc["1", "rounds"] == 3


# ------------------------------------------------------------------------------ without times ---
def test_an_export_without_times_gets_a_clear_error():
    result = load_logs(config.SAMPLE_JD_TSV, "jd_tsv")
    for call in (tm.reply_rounds, tm.platform_metrics, tm.session_times):
        with pytest.raises(NoTimestampsError, match="needs message send times"):
            call(result.messages)


# ---------------------------------------------------------------------------------- the sample ---
@pytest.fixture(scope="module")
def sample_rounds(sample_load):
    return tm.reply_rounds(sample_load.messages)


def _clean_truth():
    truth = pd.read_csv(config.SAMPLE_TRUTH, dtype={"message_id": str}, keep_default_na=False)
    dirty_sessions = set(truth.loc[truth["dirty"] != "", "session_id"])
    return truth[~truth["session_id"].isin(dirty_sessions) & (truth["dirty"] == "")]


def test_rounds_match_the_planted_waits(sample_rounds):
    truth = _clean_truth()
    planted = truth[(truth["role"] == "agent") & (truth["reply_wait_s"] != "")]
    planted = planted[planted["reply_wait_s"].astype(float) > 0].set_index("message_id")["reply_wait_s"].astype(float)
    ours = sample_rounds.dropna(subset=["reply_message_id"]).set_index("reply_message_id")["response_s"]
    ours = ours[ours.index.isin(set(truth["message_id"]))]
    assert set(ours.index) == set(planted.index)
    assert (ours.reindex(planted.index) - planted).abs().max() <= 1.0      # the export keeps whole seconds


def test_wait_apologies_match_the_planted_ones(sample_load, sample_rounds):
    truth = _clean_truth().drop_duplicates("message_id").set_index("message_id")
    waits = tm.long_waits(sample_load.messages, sample_rounds, threshold_s=300)
    waits = waits[waits["reply_message_id"].isin(truth.index)]
    planted = truth.loc[waits["reply_message_id"], "apology_wait"].astype(str).eq("True").to_numpy()
    assert len(waits) > 100 and (waits["apologized"].to_numpy() == planted).all()


def test_sample_platform_metrics_cover_every_platform(sample_load):
    table = tm.platform_metrics(sample_load.messages)
    assert set(table["recipe"]) == {r["id"] for r in tm.load_recipes()["recipes"]}
    shares = table[table["metric"] != "mean_response_s"]["value"]
    assert shares.between(0, 1).all() and (table["units"] > 100).all()


def test_hour_weekday_median_and_weekly_sla(sample_rounds):
    matrix = tstats.hour_weekday_median(sample_rounds)
    assert matrix.shape == (24, 7) and list(matrix.columns)[0] == "周一"
    answered = sample_rounds.dropna(subset=["response_s"])
    cell = answered[(answered["hour"] == 10) & (answered["weekday"] == 2)]["response_s"].median()
    assert matrix.loc[10, "周三"] == cell
    weekly = tstats.weekly_sla(sample_rounds, 180, "platform")
    assert weekly.loc[weekly.index[0], "jd"] == pytest.approx(
        sample_rounds[(sample_rounds["week"] == weekly.index[0]) & (sample_rounds["platform"] == "jd")]["response_s"]
        .le(180).mean())


def test_worst_waits_are_masked():
    frame = chat((D + "10:00:00", "customer", "我电话13812345678，快回我"), (D + "11:00:00", "agent", "好的13812345678"))
    worst = tstats.worst_waits(frame, tm.reply_rounds(frame), 5)
    assert worst["wait_min"].tolist() == [60.0]
    shown = export_safe(worst)                                  # as every output shows it
    assert "13812345678" not in shown["customer"].iloc[0] + shown["reply"].iloc[0]


def test_ecdf_chart_draws_one_line_per_group():
    from cs_analytics.outputs import plots

    fig = plots.ecdf_chart({"淘宝": [10, 20, 30], "京东": [5, None, 50]}, "累计分布", "秒")
    assert len([line for line in fig.axes[0].get_lines() if line.get_label() in ("淘宝", "京东")]) == 2


def test_an_unanswered_round_is_held_against_the_agent_who_owned_the_session():
    frame = chat((D + "10:00:00", "customer", "在吗"), (D + "10:00:30", "agent", "在"), (D + "10:01:00", "customer", "发货了吗"),
                 agent="小王")
    rounds = tm.reply_rounds(frame)
    assert rounds["agent_id"].isna().tolist() == [False, True]
    assert rounds["responsible_agent"].tolist() == ["小王", "小王"]
    summary = tstats.response_summary(rounds, "responsible_agent", thresholds=(60,))
    assert summary.loc["小王", "rounds"] == 2 and summary.loc["小王", "within_60s"] == 0.5


def test_metrics_from_the_whole_tables_rounds_equal_the_metrics_computed_per_recipe(sample_load):
    """``platform_metrics(..., rounds=)`` takes the rounds of recipes without a merge from the whole table's
    rounds when sessions keep one platform; a session that changes platform (or has none) makes it
    compute per recipe. Either way the metrics are the ones computed from scratch."""
    messages = sample_load.messages
    mixed = messages.copy()
    first = mixed["session_id"].iloc[0]
    in_first = (mixed["session_id"] == first).to_numpy()
    other = "jd" if mixed["platform"].iloc[0] != "jd" else "pdd"
    mixed.loc[in_first & (mixed["role"] == "agent").to_numpy(), "platform"] = other   # one session, two platforms
    missing = messages.copy()
    missing.loc[missing["session_id"] == first, "platform"] = None
    one = messages.iloc[:1]
    for frame in (messages, mixed, missing, one):
        for by in (None, "shop"):
            expected = tm.platform_metrics(frame, by=by)
            pd.testing.assert_frame_equal(tm.platform_metrics(frame, by=by, rounds=tm.reply_rounds(frame)), expected)
    assert not tm._one_platform_per_session(mixed) and tm._one_platform_per_session(missing)


def test_session_times_with_known_owners_equal_the_computed_ones(sample_load):
    from cs_analytics.findings.sessions import session_owner

    messages = sample_load.messages
    rounds = tm.reply_rounds(messages)
    pd.testing.assert_frame_equal(tm.session_times(messages, rounds, owners=session_owner(messages)),
                                  tm.session_times(messages, rounds))


def session_times_by_groupby(messages: pd.DataFrame) -> pd.DataFrame:
    """``session_times`` as it was first written (pandas groupby and index alignment): the reference."""
    from cs_analytics.findings.sessions import session_owner

    rounds = tm.reply_rounds(messages)
    timed = messages[messages["ts"].notna()]
    group = timed.groupby("session_id", sort=False)
    out = pd.DataFrame({"platform": group["platform"].first(), "shop": group["shop"].first(),
                        "started": group["ts"].min(), "ended": group["ts"].max()})
    out["duration_s"] = (out["ended"] - out["started"]).dt.total_seconds()
    out["rounds"] = rounds.groupby("session_id", sort=False).size().reindex(out.index).fillna(0).astype(int)
    first = rounds[rounds["round"] == 1].set_index("session_id")
    out["first_response_s"] = first["response_s"].reindex(out.index)
    out["agent_id"] = session_owner(messages).reindex(out.index)
    out["unanswered_rounds"] = (~rounds["answered"]).groupby(rounds["session_id"]).sum().reindex(out.index) \
        .fillna(0).astype(int)
    out.index.name = "session_id"
    return out.reset_index()


def test_session_times_equal_the_groupby_reference_on_awkward_tables(sample_load):
    messages = sample_load.messages
    awkward = pd.concat([
        chat((D + "10:00:00", "customer", "在吗😀"), (D + "10:00:45", "agent", "在"), sid="z-last"),
        chat((D + "09:00:00", "agent", "您好"), (D + "09:00:05", "customer", ""), sid="a-first", platform=None),
        chat((D + "11:00:00", "customer", "在吗"), sid="only-one", shop=None),
        chat((D + "12:00:00", "customer", "在吗"), (D + "12:01:00", "agent", "在"), sid="untimed-part"),
    ], ignore_index=True)
    awkward.loc[awkward["session_id"] == "untimed-part", "ts"] = [pd.NaT, awkward["ts"].iloc[-1]]
    awkward.loc[awkward.index[0], "platform"] = None                      # the first message's platform missing
    shuffled = messages.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for frame in (awkward, messages, shuffled, messages.iloc[:1]):
        pd.testing.assert_frame_equal(tm.session_times(frame), session_times_by_groupby(frame))
