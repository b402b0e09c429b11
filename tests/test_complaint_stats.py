"""Tables for notebook 03: computed from the sessions and messages given, masked where they show text."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from cs_analytics.base.privacy import export_safe
from cs_analytics import classify_complaints, find_violations, load_logs
from cs_analytics.base import config
from cs_analytics.tables import complaint_stats as cst
from cs_analytics.findings.complaints import label_messages
from cs_analytics.findings.service_phrases import find_service_phrases, load_service_phrases
from test_complaints import session

MOBILE = re.compile(r"1[3-9]\d{9}")


@pytest.fixture(scope="module")
def sample(sample_load):
    messages = sample_load.messages
    return messages, classify_complaints(messages)


def test_distribution_counts_every_complaint_session_once(sample):
    _, sessions = sample
    table = cst.type_distribution(sessions)
    assert table["sessions"].sum() == sessions["is_complaint"].sum()
    assert table["share_of_complaints"].sum() == pytest.approx(1.0)
    assert table["label"].str.contains(r"[\u4e00-\u9fff]").all()


def test_weekly_tables_add_up(sample):
    _, sessions = sample
    weekly = cst.weekly_types(sessions)
    rates = cst.weekly_rates(sessions)
    assert int(weekly.to_numpy().sum()) == int(rates["complaints"].sum()) == int(sessions["is_complaint"].sum())
    assert (weekly.index == rates.index).all()
    shares = cst.weekly_types(sessions, share=True)
    assert shares.sum(axis=1).round(6).equals(rates["complaint_rate"].round(6))


def test_types_by_group_shares_sum_to_one(sample):
    _, sessions = sample
    table = cst.types_by(sessions, "platform")
    type_columns = [c for c in table.columns if c not in ("sessions", "complaint_rate")]
    assert table[type_columns].sum(axis=1).round(6).eq(1).all()
    assert table["sessions"].sum() == len(sessions)


def test_top_skus_and_escalation(sample):
    _, sessions = sample
    skus = cst.top_skus(sessions, 5)
    assert len(skus) == 5 and skus["complaints"].is_monotonic_decreasing
    escalation = cst.escalation_by_type(sessions)
    assert escalation["escalations"].sum() == sessions.loc[sessions["is_complaint"], "escalation"].sum()


def test_top_terms_are_from_the_type_and_never_a_phone_number(sample):
    messages, _ = sample
    terms = cst.top_terms(messages, n=20)
    assert set(terms["rank"]) <= set(range(1, 21))
    assert "发票" in set(terms.loc[terms["type"] == "invoice", "term"])
    assert not terms["term"].str.fullmatch(r"\d+").any()
    assert not any(MOBILE.search(t) for t in terms["term"])
    assert cst.term_frequencies(terms, "invoice")["发票"] > 0


def test_handling_finds_apologies_empathy_and_forbidden_phrases():
    frames = pd.concat([
        session(("customer", "质量问题"), ("agent", "非常抱歉给您添麻烦了，我理解您的心情"), sid="good"),
        session(("customer", "质量问题"), ("agent", "这不是我们的问题，你自己看吧"), sid="bad"),
        session(("customer", "有现货吗"), ("agent", "有的"), sid="presale"),
    ])
    sessions = classify_complaints(frames)
    handled = cst.handling(frames, sessions, find_violations(frames)).set_index("session_id")
    assert set(handled.index) == {"good", "bad"}                       # only complaint sessions
    assert handled.loc["good", "apologized"] and handled.loc["good", "empathized"]
    assert handled.loc["good", "first_apology"] == "抱歉" and handled.loc["good", "violations"] == 0
    assert not handled.loc["bad", "apologized"] and handled.loc["bad", "violations"] >= 1
    assert "service_taboo" in handled.loc["bad", "violation_categories"]
    summary = cst.handling_summary(handled.reset_index(), "primary")
    assert summary.loc["quality", "apology_rate"] == 0.5 and summary.loc["quality", "violation_rate"] == 0.5
    without_hits = cst.handling(frames, sessions)
    assert without_hits["violations"].isna().all()


def test_violation_categories_are_joined_in_first_seen_order_like_the_per_session_join():
    keys = pd.Series(["s2", "s1", "s2", "s2", "s1", "s3", "s2"], name="session_id")
    values = pd.Series(["b", "a", "a", "b", "a", "nan", "c"])
    expected = pd.Series({k: ";".join(dict.fromkeys(values[keys == k])) for k in ["s1", "s2", "s3"]})
    joined = cst._joined_in_order(keys, values)
    assert joined.to_dict() == expected.to_dict() and joined.index.name == "session_id"
    assert joined["s2"] == "b;a;c"
    assert cst._joined_in_order(keys.head(1), values.head(1)).to_dict() == {"s2": "b"}
    assert cst._joined_in_order(keys.head(0), values.head(0)).empty


def test_service_phrases_have_sources_and_are_found():
    spec = load_service_phrases()
    assert {"apology", "empathy"} <= set(spec) and all(v["source"] for v in spec.values())
    found = find_service_phrases(session(("agent", "對不起，讓您久等了"), ("customer", "对不起")))
    assert list(found["purpose"]) == ["apology", "apology"] and list(found["matched"]) == ["對不起", "久等了"]
    assert set(found["message_id"]) == {"s1-1"}                        # customers are not judged


def test_example_sessions_are_masked(sample):
    messages, sessions = sample
    examples = cst.example_sessions(messages, sessions, per_type=3)
    assert len(examples) == 3 * sessions.loc[sessions["is_complaint"], "primary"].nunique()
    text = "\n".join(export_safe(examples)["transcript"])     # as every output shows it
    assert "买家:" in text and "客服:" in text
    assert not MOBILE.search(text.replace(" ", "").replace("-", ""))
    again = cst.example_sessions(messages, sessions, per_type=3)
    assert examples["session_id"].tolist() == again["session_id"].tolist()      # reruns pick the same sessions


def test_an_export_without_times_skips_weekly_tables():
    result = load_logs(config.SAMPLE_JD_TSV, "jd_tsv")
    sessions = classify_complaints(result.messages)
    assert sessions["started"].isna().all() and len(sessions) > 10
    assert cst.weekly_types(sessions).empty and cst.weekly_rates(sessions).empty
    assert cst.type_distribution(sessions)["sessions"].sum() == sessions["is_complaint"].sum()


def test_labels_cover_every_customer_message(sample):
    messages, _ = sample
    labels = label_messages(messages)
    assert len(labels) == int((messages["role"] == "customer").sum())


def test_wilson_interval_matches_known_values():
    from cs_analytics.base.proportions import wilson_interval

    low, high = wilson_interval(pd.Series([0, 5, 10]), pd.Series([10, 10, 10]))
    assert low.round(4).tolist() == [0.0, 0.2366, 0.7225] and high.round(4).tolist() == [0.2775, 0.7634, 1.0]
    low, high = wilson_interval([1], [0])
    assert low.isna().all() and high.isna().all()


def test_escalation_rates_carry_an_interval(sample):
    _, sessions = sample
    table = cst.escalation_by_type(sessions)
    assert ((table["ci_low"] <= table["escalation_rate"]) & (table["escalation_rate"] <= table["ci_high"])).all()


def test_inquiry_topics_come_from_sessions_that_are_not_complaints():
    frames = pd.concat([session(("customer", "能开发票吗"), sid="a"), session(("customer", "有现货吗，能开发票吗"), sid="b"),
                        session(("customer", "发票怎么还没开"), sid="c")])
    table = cst.inquiry_topics(classify_complaints(frames))
    assert table.loc["invoice", "sessions"] == 2 and table.loc["stock_shipping", "sessions"] == 1
    assert table.loc["invoice", "share_of_non_complaint_sessions"] == 1.0


def test_temperament_by_type_is_labelled_and_bounded(sample):
    _, sessions = sample
    table = cst.temperament_by_type(sessions)
    assert list(table.columns) == ["情绪激动 (易怒)", "反复/长篇 (喋喋不休)", "索赔 (要求补偿)"]
    assert ((table >= 0) & (table <= 1)).all().all() and "物流问题" in table.index
