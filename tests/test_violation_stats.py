"""Tables behind notebook 02, on hand-built messages whose numbers are known; masked excerpts."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cs_analytics import find_violations, load_rulebook
from cs_analytics.outputs import plots
from cs_analytics.tables import violation_stats as vs
from cs_analytics.base.privacy import cut, export_safe, mask_excerpt, mask_text


@pytest.fixture(scope="module")
def data():
    rows = [
        # agent A on pdd: 4 messages, 2 with violations (one says 你 twice -> 1 violation, 2 hits)
        ("a1", "A", "pdd", "agent", "你好，你要的这款有货", "2025-10-06 10:00"),
        ("a2", "A", "pdd", "agent", "这个宝贝绝对好", "2025-10-06 10:01"),
        ("a3", "A", "pdd", "agent", "您好，请稍等", "2025-10-13 10:00"),
        ("a4", "A", "pdd", "agent", "感谢您的支持", "2025-10-13 10:01"),
        # agent B on jd: 2 messages, 1 violation
        ("b1", "B", "jd", "agent", "不行", "2025-10-13 11:00"),
        ("b2", "B", "jd", "agent", "您好", "2025-10-13 11:01"),
        # customers are not judged
        ("c1", None, "jd", "customer", "你们滚吧", "2025-10-13 11:02"),
    ]
    messages = pd.DataFrame(rows, columns=["message_id", "agent_id", "platform", "role", "text", "ts"])
    messages["ts"] = pd.to_datetime(messages["ts"]).dt.tz_localize("Asia/Shanghai")
    messages["session_id"] = messages["agent_id"].fillna("B")
    messages["shop"] = messages["platform"] + "店"
    return messages, find_violations(messages)


def test_hits_are_as_expected(data):
    _, hits = data
    assert sorted(zip(hits["message_id"], hits["rule_id"].astype(str))) == [
        ("a1", "informal.ni"), ("a1", "informal.ni"), ("a2", "absolute.absolutely"), ("a2", "platform.term.baobei"),
        ("b1", "taboo.refusal.no")]


def test_rate_by_agent(data):
    messages, hits = data
    table = vs.rate_by(messages, hits, "agent_id")
    assert table.loc["A", "agent_messages"] == 4
    assert table.loc["A", "hits"] == 4
    assert table.loc["A", "violations"] == 3          # a1 informal, a2 absolute, a2 third party
    assert table.loc["A", "flagged_messages"] == 2
    assert table.loc["A", "per_1000"] == pytest.approx(750)
    assert table.loc["B", "per_1000"] == pytest.approx(500)
    assert table.loc["A", "share_flagged"] == pytest.approx(0.5)
    assert list(table.index) == ["A", "B"], "largest rate first"


def test_rate_by_week(data):
    messages, hits = data
    table = vs.rate_by(messages, hits, "week").sort_index()
    assert [str(w) for w in table.index] == ["2025-10-06", "2025-10-13"]
    assert list(table["agent_messages"]) == [2, 4]
    assert list(table["violations"]) == [3, 1]


def test_category_rates_count_messages_once(data):
    messages, hits = data
    table = vs.category_rates(messages, hits)
    assert table.loc["informal_address", "hits"] == 2
    assert table.loc["informal_address", "flagged_messages"] == 1
    assert table.loc["informal_address", "per_1000"] == pytest.approx(1000 / 6)
    assert table.loc["abuse", "hits"] == 0, "every category is listed, customers are not judged"


def test_rate_matrix(data):
    messages, hits = data
    matrix = vs.rate_matrix(messages, hits, "agent_id", "category")
    assert matrix.loc["A", "informal_address"] == pytest.approx(250)
    assert matrix.loc["B", "service_taboo"] == pytest.approx(500)
    assert matrix.loc["B", "informal_address"] == 0


def test_rule_summary_and_top_phrases(data):
    _, hits = data
    summary = vs.rule_summary(hits)
    assert summary.iloc[0]["rule_id"] == "informal.ni" and summary.iloc[0]["hits"] == 2
    assert list(summary.columns[:3]) == ["rule_label", "rule_id", "label"]       # label: the category's
    assert summary.iloc[0]["rule_label"] == "用「你」不用「您」" and summary.iloc[0]["label"] == "称呼不当（你/您）"
    assert summary["suggest"].str.len().gt(0).all()
    assert summary.set_index("rule_id").loc["informal.ni", "agents"] == 1
    anonymous = vs.rule_summary(hits.assign(agent_id=None))
    assert anonymous["agents"].isna().all(), "no agent accounts: the count is unknown, not 0"
    top = vs.top_phrases(hits)
    assert dict(zip(top["phrase"], top["hits"])) == {"你": 2, "绝对": 1, "宝贝": 1, "不行": 1}
    named = vs.top_phrases(hits, rulebook=load_rulebook())              # the category by its label too
    assert list(named.columns) == ["phrase", "category", "label", "hits", "evasions"]
    assert named.set_index("phrase").loc["你", "label"] == "称呼不当（你/您）"


def test_examples_mark_the_match(data):
    messages, hits = data
    table = vs.examples(messages, hits)
    assert "这个宝贝【绝对】好" in set(table["excerpt"]) or "这个【宝贝】绝对好" in set(table["excerpt"])
    evidence = vs.evidence(messages, hits)
    assert list(evidence.columns) == vs.EVIDENCE_COLUMNS
    assert dict(zip(evidence["rule_id"], evidence["rule_label"]))["platform.term.baobei"] == "称商品为宝贝"
    assert (evidence["rule_label"].to_numpy() == hits["rule_label"].astype(str).to_numpy()).all()


def test_privacy_never_leaks_from_excerpts_or_summaries():
    """Tables keep raw evidence; what leaves for an output goes through export_safe, and an excerpt is
    never cut inside a number, so the masking catches every one."""
    text = "收货人杨磊，手机175 9900 7961，地址成都市武侯区人民南路353号，身份证110101199003071234"
    messages = pd.DataFrame({"message_id": ["m"], "session_id": ["s"], "role": ["agent"], "platform": ["jd"],
                             "text": [text], "agent_id": ["A"], "ts": [pd.NaT]})
    hits = find_violations(messages)
    assert {"privacy.phone", "privacy.address", "privacy.id_card"} <= set(hits["rule_id"].astype(str))
    for context in (1, 3, 7, 100):
        shown = export_safe(vs.examples(messages, hits, context=context))
        outputs = list(shown["excerpt"]) + list(export_safe(vs.rule_summary(hits))["top_matched"])
        outputs += list(vs.top_phrases(hits)["phrase"]) + list(vs.phrase_frequencies(hits))
        for out in outputs:
            for secret in ("杨磊", "7961", "9900", "人民南路", "110101199003071234", "0307"):
                assert secret not in out, out


@pytest.mark.parametrize("width", range(1, 40))
def test_a_cut_never_ends_inside_a_phone_number(width):
    text = "手机175 9900 7961，谢谢"
    assert "[手机号]" in mask_text(text) and "99" not in mask_text(cut(text, width))


@pytest.mark.parametrize("start, end, context, expected", [
    (8, 21, 3, "…，手机【[手机号]】，[地址]，…"),
    (0, 3, 2, "【收货人[姓名]】，手…"),
])
def test_mask_excerpt_cuts_after_masking(start, end, context, expected):
    text = "收货人杨磊，手机175 9900 7961，地址成都市武侯区人民南路353号，谢谢"
    assert mask_excerpt(text, start, end, context) == expected
    assert "杨磊" not in mask_text(text) and "7961" not in mask_text(text)


def test_word_cloud_draws_hanzi():
    import matplotlib.pyplot as plt

    def pixels(word):
        fig = plots.word_cloud({word: 10}, "")
        fig.canvas.draw()
        data = np.asarray(fig.canvas.buffer_rgba()).copy()
        plt.close(fig)
        return data

    first, second = pixels("微信"), pixels("宝贝")
    assert (first[..., :3] < 200).any(), "the word cloud drew nothing"
    assert not np.array_equal(first, second), "two different words must not render as the same boxes"


def test_rule_summary_rate_and_full_evidence_table(data):
    messages, hits = data
    summary = vs.rule_summary(hits, messages=messages).set_index("rule_id")
    assert summary.loc["informal.ni", "per_1000"] == pytest.approx(1000 / 6)
    evidence = vs.examples(messages, hits, per_rule=None)
    assert len(evidence) == len(hits)
    assert evidence["excerpt"].str.contains("【").all()


def test_subcategory_rates_and_evasion_summary(data):
    messages, hits = data
    kinds = vs.subcategory_rates(messages, hits, "service_taboo")
    assert dict(kinds) == {"否定/生硬拒绝": pytest.approx(1000 / 6)}
    summary = vs.evasion_summary(hits)
    assert summary.loc["informal_address", "hits"] == 2
    assert vs.evasion_summary(hits, load_rulebook()).loc["informal_address", "label"] == "称呼不当（你/您）"
    assert (summary["disguised"] == 0).all()
    disguised = find_violations(messages.assign(text=messages["text"].str.replace("宝贝", "宝 贝")))
    assert vs.evasion_summary(disguised).loc["third_party_platform", "share_disguised"] == 1.0


@pytest.mark.parametrize("values", [
    pd.Series(["m1", None, "😀亲", "𠮷"], dtype="string"),
    pd.Series([None, None], dtype="string"),
    pd.Series([], dtype="string"),
    pd.Series(["fatal", None, "minor"], dtype="category").astype(pd.CategoricalDtype(pd.Index(["fatal", "minor"], dtype="string"))),
    pd.Series(["a", None, "b"], dtype="str"),
    pd.Series(["a", None, 3], dtype=object),
    pd.Series(pd.to_datetime(["2026-01-02 03:04:05", None]).tz_localize("Asia/Shanghai")),
    pd.Series(pd.to_datetime([None, None]).tz_localize("Asia/Shanghai")),
], ids=["text", "text-all-missing", "empty", "category", "str", "object", "times", "times-all-missing"])
def test_an_evidence_column_is_typed_as_the_objects_round_trip_typed_it(values):
    # the old way: every column went through to_numpy() (one Python object per value) into the frame
    old = pd.DataFrame({"x": values.to_numpy()})["x"]
    pd.testing.assert_series_equal(pd.DataFrame({"x": vs._kept(values)})["x"], old)
