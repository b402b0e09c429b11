"""Complaint taxonomy, message labels, session classification, escalation and temperament."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cs_analytics import check_complaint, classify_complaints, complaint_signals, label_messages, load_taxonomy
from cs_analytics.findings.complaints import TaxonomyError, talkative_sessions
from cs_analytics.textmatch.normalize import TextSpans
from cs_analytics.base.schema import conform

sys.path.insert(0, str(Path(__file__).parent))
import complaint_quality  # noqa: E402

REQUIRED_TYPES = {"logistics", "quality", "usage", "return_refund", "invoice", "price_promo", "stock_shipping",
                  "attitude", "false_advertising", "size", "account_payment", "order_change", "other"}
CASES = complaint_quality.load_cases()


def session(*turns, sid="s1", platform="taobao", start="2025-10-04 10:00:00", agent="a1") -> pd.DataFrame:
    """A hand-built session: turns are (role, text); one minute apart."""
    t0 = pd.Timestamp(start)
    rows = [{"message_id": f"{sid}-{i}", "session_id": sid, "seq": i, "ts": t0 + pd.Timedelta(minutes=i),
             "role": role, "agent_id": agent if role != "customer" else None, "platform": platform,
             "shop": "店", "sku": "SKU1", "text": text} for i, (role, text) in enumerate(turns, start=1)]
    return conform(pd.DataFrame(rows), "Asia/Shanghai")


def found(text: str, family: str = "complaint") -> set[str]:
    signals = check_complaint(text)
    return set(signals.loc[signals["family"] == family, "label"])


# ------------------------------------------------------------------------------------ taxonomy ---
def test_taxonomy_has_the_required_types_each_with_a_source():
    taxonomy = load_taxonomy()
    assert REQUIRED_TYPES <= set(taxonomy.ids)
    assert taxonomy.ids[-1] == "other"
    for t in taxonomy.types:
        assert t.source, t.id
        assert t.label and t.label != t.id, t.id
    assert {"platform_complaint", "regulator", "media", "review", "legal"} <= set(taxonomy.escalation_kinds)
    phrases = {p for k in taxonomy.escalation_kinds.values() for p in k["phrases"]}
    assert {"投诉", "12315", "消协", "工商", "曝光", "媒体", "差评", "举报", "315"} <= phrases   # the list


def _as_messages(texts: list[str]) -> pd.DataFrame:
    return conform(pd.DataFrame({"message_id": [f"m{i}" for i in range(len(texts))],
                                 "session_id": [f"s{i}" for i in range(len(texts))], "seq": 1,
                                 "role": "customer", "platform": "taobao", "text": texts}), "Asia/Shanghai")


def test_every_phrase_fires_its_type_and_every_term_alone_is_an_inquiry():
    taxonomy = load_taxonomy()
    entries = [(t.id, p, "complaint") for t in taxonomy.types for p in t.phrases]
    entries += [(t.id, p, "inquiry") for t in taxonomy.types for p in t.terms]
    signals = complaint_signals(_as_messages([p for _, p, _ in entries]), taxonomy)
    got = set(zip(signals["message_id"], signals["family"], signals["label"]))
    missing = [(type_id, phrase, family) for i, (type_id, phrase, family) in enumerate(entries)
               if (f"m{i}", family, type_id) not in got]
    assert not missing, missing


def test_every_exception_cancels_its_type():
    taxonomy = load_taxonomy()
    entries = [(t.id, e) for t in taxonomy.types for e in t.exceptions]
    signals = complaint_signals(_as_messages([e for _, e in entries]), taxonomy)
    fired = set(zip(signals.loc[signals["family"] == "complaint", "message_id"],
                    signals.loc[signals["family"] == "complaint", "label"]))
    wrong = [(type_id, e) for i, (type_id, e) in enumerate(entries) if (f"m{i}", type_id) in fired]
    assert not wrong, wrong


def test_every_escalation_signal_fires_and_its_exceptions_do_not():
    taxonomy = load_taxonomy()
    signals = [(kind, p) for kind, spec in taxonomy.escalation_kinds.items() for p in spec["phrases"]]
    found_ = complaint_signals(_as_messages([f"我要{p}" for _, p in signals]), taxonomy)
    got = set(zip(found_["message_id"], found_["label"]))
    assert all((f"m{i}", kind) in got for i, (kind, _) in enumerate(signals))
    negatives = complaint_signals(_as_messages(list(taxonomy.escalation_exceptions)), taxonomy)
    assert (negatives["family"] != "escalation").all(), negatives


# ------------------------------------------------------------------------- hand-written cases ---
@pytest.mark.parametrize("case", CASES, ids=[c["text"] for c in CASES])
def test_hand_written_case(case):
    judged = complaint_quality.judge_case(case, check_complaint(case["text"]))
    assert judged["found"] == judged["expected"]


def test_held_out_cases_stay_above_a_floor():
    """The held-out file is never tuned on; this guards against regressions, not for 100 %. The floor is
    the level measured after routine requests became inquiries (issue 13): several of these sentences
    state a problem in words no list has (盖子合不上, 印歪了), which the real-chat figures report too."""
    table, _ = complaint_quality.case_scores(complaint_quality.HELD_OUT_FILE)
    micro = complaint_quality.micro(table)
    assert micro["precision"] >= 0.5 and micro["recall"] >= 0.35, micro


def test_sample_truth_precision_and_recall(sample_load):
    messages = sample_load.messages
    signals = complaint_signals(messages)
    by_message = complaint_quality.sample_message_scores(messages, label_messages(messages, signals))
    by_session = complaint_quality.sample_session_scores(messages, classify_complaints(messages, signals=signals))
    for table in (by_message, by_session):
        assert set(REQUIRED_TYPES - {"other"}) <= set(table.index)
        assert (table["precision"] >= 0.95).all() and (table["recall"] >= 0.95).all(), table


# ------------------------------------------------------------------------------- the matching ---
def test_evidence_spans_point_at_the_matched_text():
    text = "亲，快递怎么还没到？再不处理我就去12315投诉！！"
    signals = check_complaint(text)
    for row in signals.itertuples():
        assert text[row.start:row.end] == row.matched
    term = signals[signals["via"] == "term+cue"].iloc[0]
    assert (term["label"], term["matched"], term["cue"]) == ("logistics", "快递", "怎么还")


def test_a_term_needs_a_cue_in_its_own_or_the_next_clause():
    assert found("发票怎么还没开") == {"invoice"}
    assert found("能开发票吗") == set() and found("能开发票吗", "inquiry") == {"invoice"}
    assert found("物流显示在派送，一天了还没送到") == {"logistics"}
    # the next clause names its own topic, so the cue belongs to it, not to 发票
    assert found("发票收到了，快递还没到") == {"logistics"}


def test_a_phrase_of_another_type_silences_terms_in_its_clause():
    assert found("付款三天了还没发货") == {"stock_shipping"}


def test_negated_and_reported_threats_are_not_escalation():
    assert found("我不会给差评的", "escalation") == set()
    assert found("也不是要投诉你们", "escalation") == set()
    assert found("看到差评说质量不好", "escalation") == set()
    assert found("不处理我就给差评", "escalation") == {"review"}
    assert found("我不想等了，直接投诉", "escalation") == {"platform_complaint"}   # the negator is too far away


def test_digit_signals_only_match_whole_numbers():
    assert found("3·15 见", "escalation") == {"regulator"}
    assert found("订单号 2025031512315678", "escalation") == set()
    assert found("打１２３１５", "escalation") == {"regulator"}


def test_normalisation_reads_traditional_full_width_and_spaced_text():
    assert found("質量問題") == {"quality"}
    assert found("差 评", "escalation") == {"review"}


def test_check_complaint_on_nothing():
    assert check_complaint("在吗").empty
    assert complaint_signals(session(("agent", "您好"))).empty


# ------------------------------------------------------------------------------- the sessions ---
def test_primary_is_the_type_in_most_messages_then_the_first_raised():
    frame = session(("customer", "尺码偏小"), ("customer", "快递太慢了"), ("customer", "快递一直不更新"))
    s = classify_complaints(frame).iloc[0]
    assert s["primary"] == "logistics" and s["secondary"] == ("size",)
    tie = session(("customer", "尺码偏小"), ("customer", "快递太慢了"))
    s = classify_complaints(tie).iloc[0]
    assert s["primary"] == "size" and s["secondary"] == ("logistics",)
    assert s["primary_message_id"] == "s1-1" and s["primary_matched"] == "尺码偏小"


def test_a_threat_without_a_type_is_other_and_a_question_is_not_a_complaint():
    frames = pd.concat([
        session(("customer", "你们等着，我要去12315"), sid="threat"),
        session(("customer", "能开发票吗"), ("agent", "可以的"), sid="question"),
        session(("customer", "必须赔偿我的损失"), sid="claim"),
    ])
    out = classify_complaints(frames).set_index("session_id")
    assert out.loc["threat", "primary"] == "other" and out.loc["threat", "escalation"]
    assert out.loc["threat", "escalation_kinds"] == ("regulator",)
    assert out.loc["threat", "escalation_matched"] == "12315"
    assert not out.loc["question", "is_complaint"] and pd.isna(out.loc["question", "primary"])
    assert out.loc["question", "inquiry"] == ("invoice",)
    assert out.loc["claim", "compensation"] and out.loc["claim", "primary"] == "other"


def test_session_table_carries_agent_platform_sku_and_start():
    frame = session(("customer", "质量问题"), ("agent", "抱歉"), ("customer", "太气人了！！"), agent="小王",
                    platform="jd")
    s = classify_complaints(frame).iloc[0]
    assert (s["agent_id"], s["platform"], s["sku"]) == ("小王", "jd", "SKU1")
    assert s["started"] == pd.Timestamp("2025-10-04 10:01:00", tz="Asia/Shanghai")
    assert s["anger"] and s["anger_messages"] == 1


def test_sessions_without_customer_messages_are_not_listed():
    assert classify_complaints(session(("agent", "您好"))).empty


def test_talkative_thresholds():
    burst = session(*[("customer", f"在吗{i}") for i in range(5)], sid="burst")
    repeat = session(*[("customer", "到底什么时候发货"), ("agent", "稍等")] * 3, sid="repeat")
    long = session(("customer", "啊" * 120), sid="long")
    calm = session(("customer", "在吗"), ("agent", "在的"), ("customer", "好的"), sid="calm")
    out = talkative_sessions(pd.concat([burst, repeat, long, calm]))
    assert out.loc["burst", "talkative"] and out.loc["burst", "talkative_reason"] == "burst>=5"
    assert out.loc["repeat", "talkative"] and "repeated>=3x" in out.loc["repeat", "talkative_reason"]
    assert out.loc["long", "talkative"] and "chars" in out.loc["long", "talkative_reason"]
    assert not out.loc["calm", "talkative"]


def test_inputs_are_not_modified(sample_load):
    messages = sample_load.messages.head(500)
    before = messages.copy()
    classify_complaints(messages)
    pd.testing.assert_frame_equal(messages, before)


# ------------------------------------------------------------------------------------ layers ---
def test_a_user_layer_adds_a_type_extends_one_and_adds_cues(tmp_path):
    layer = tmp_path / "mine.yaml"
    layer.write_text("""
types:
  - id: assembly
    label: 拼装问题
    phrases: [少螺丝]
    source: 我们店的售后记录
  - id: invoice
    phrases: [发票丢了]
cues:
  phrases: [咋还]
""", encoding="utf-8")
    taxonomy = load_taxonomy(layer)
    assert taxonomy.ids[-2:] == ["assembly", "other"]
    assert found_with(taxonomy, "少螺丝") == {"assembly"}
    assert found_with(taxonomy, "发票丢了") == {"invoice"}
    assert found_with(taxonomy, "补开发票") == set()            # the listed field replaced the default phrases …
    assert found_with(taxonomy, "发票怎么还没开") == {"invoice"}  # … the fields not listed (terms) are kept
    assert taxonomy.by_id("invoice").source
    assert found_with(taxonomy, "快递咋还不来") == {"logistics"}
    assert taxonomy.version != load_taxonomy().version


def found_with(taxonomy, text):
    signals = check_complaint(text, taxonomy)
    return set(signals.loc[signals["family"] == "complaint", "label"])


@pytest.mark.parametrize("content, message", [
    ("types:\n  - {id: x1, phrases: [甲乙]}\n", "needs a 'source'"),
    ("types:\n  - {id: x1, source: s}\n", "needs phrases, terms or regex"),
    ("types:\n  - {id: x1, source: s, phrase: [甲乙]}\n", "unknown field(s) ['phrase']"),
    ("types:\n  - {id: X-1, source: s, phrases: [甲乙]}\n", "ids are lower-case"),
    ("types:\n  - {id: x1, source: s, regex: ['(a+)+b']}\n", "nests unbounded repeats"),
    ("types:\n  - {id: x1, source: s, regex: ['(']}\n", "invalid regex"),
    ("typo: []\n", "unknown top-level key(s) ['typo']"),
    ("talkative: {min_burst: 0}\n", "positive whole number"),
    ("[1, 2]\n", "must be a mapping"),
])
def test_layer_errors_name_the_file_and_the_fix(tmp_path, content, message):
    layer = tmp_path / "bad.yaml"
    layer.write_text(content, encoding="utf-8")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(layer)
    assert message in str(err.value) and "bad.yaml" in str(err.value)


def test_a_missing_layer_file_is_a_clear_error(tmp_path):
    with pytest.raises(TaxonomyError, match="no such taxonomy file"):
        load_taxonomy(tmp_path / "nope.yaml")


CONTACT_CASES = yaml.safe_load((Path(__file__).parent / "cases" / "contact_reason_cases.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CONTACT_CASES, ids=[c["name"] for c in CONTACT_CASES])
def test_contact_reason_case(case):
    rows = [{"message_id": f"m{i}", "session_id": "s1", "seq": i + 1, "ts": pd.NaT, "role": role, "platform": "jd",
             "shop": "", "text": text} for i, (role, text) in enumerate(case["messages"])]
    sessions = classify_complaints(conform(pd.DataFrame(rows), "Asia/Shanghai"))
    row = sessions.iloc[0]
    assert (row["contact_reason"], bool(row["is_complaint"])) == (case["contact_reason"], case["is_complaint"])


# ------------------------------------------------------------- grouped values against references ---
from cs_analytics.findings import complaints as _complaints  # noqa: E402
from cs_analytics.textmatch.engines import PhraseSet  # noqa: E402

NAMES = ["quality", "logistics", "size", "invoice"]


def _grouped_rows(rng, groups: int, rows: int):
    """Random rows in runs of equal group (some groups without rows, repeated label sequences)."""
    group = np.sort(rng.integers(0, groups, rows))
    return group, rng.integers(0, len(NAMES), rows)


@pytest.mark.parametrize("rows", [0, 1, 7, 400])
def test_tuples_per_group_match_a_loop(rows):
    rng = np.random.default_rng(rows)
    group, value = _grouped_rows(rng, 30, rows)
    expected = [()] * 31
    for g, v in zip(group.tolist(), value.tolist()):
        expected[g] = expected[g] + (NAMES[v],)
    out = _complaints._tuples(group, value, NAMES, 31)
    assert out.dtype == object and list(out) == expected
    assert all(type(t) is tuple and all(type(x) is str for x in t) for t in out)


@pytest.mark.parametrize("rows", [0, 1, 9, 300])
def test_dicts_per_group_match_a_loop_and_are_separate_objects(rows):
    rng = np.random.default_rng(rows)
    group, key = _grouped_rows(rng, 20, rows)
    value = rng.choice([1.0, 2.0, 4.0, 0.1 + 0.2, -0.0, 0.0], rows)
    expected = [{} for _ in range(21)]
    for g, k, v in zip(group.tolist(), key.tolist(), value.tolist()):
        expected[g][NAMES[k]] = v
    out = _complaints._dicts(group, key, value, NAMES, 21)
    assert [list(d.items()) for d in out] == [list(d.items()) for d in expected]
    assert all(type(v) is float for d in out for v in d.values())
    assert [str(v) for d in out for v in d.values()] == [str(v) for d in expected for v in d.values()]  # -0.0 stays
    assert len({id(d) for d in out}) == len(out)


def test_first_of_pair_matches_a_loop():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 5, 200), rng.integers(0, 4, 200)
    seen, expected = set(), []
    for pair in zip(a.tolist(), b.tolist()):
        expected.append(pair not in seen)
        seen.add(pair)
    assert _complaints._first_of_pair(a, b).tolist() == expected
    assert _complaints._first_of_pair(a[:0], b[:0]).tolist() == []


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "str", "object"])
def test_shared_codes_number_equal_values_alike_in_both_columns(dtype):
    first = pd.Series(["a", "b", None, "a", "c"], dtype=dtype)
    second = pd.Series(["c", "d", None, "a"], dtype=dtype)
    one, two, values = _complaints._shared_codes(first, second)
    assert list(values) == ["a", "b", "c", "d"]
    assert one.tolist() == [0, 1, -1, 0, 2] and two.tolist() == [2, 3, -1, 0]
    one, two, values = _complaints._shared_codes(pd.Series([7, 8, 7]), pd.Series([8, 9]))
    assert one.tolist() == [0, 1, 0] and two.tolist() == [1, 2] and list(values) == [7, 8, 9]


def test_text_spans_cut_characters_not_bytes():
    import pyarrow as pa

    texts = ["质量问题😀好", "", None, "ab差评cd", "𠀀繁體 ok"]
    slices = TextSpans(_complaints.normalize_block(pa.array(texts, type=pa.string())))
    message = np.array([0, 0, 0, 3, 4, 4, 1, 3, 0, 4])
    start = np.array([0, 4, 5, 2, 0, 1, 0, 0, 3, 2])
    end = np.array([4, 5, 6, 4, 1, 6, 0, 6, 3, 5])
    valid = np.array([True, True, True, True, True, True, True, False, True, True])
    expected = [(texts[m] or "")[s:e] if ok else None for m, s, e, ok in zip(message, start, end, valid)]
    assert slices.take(message, start, end, valid).to_pylist() == expected
    assert slices.take(message[:0], start[:0], end[:0]).to_pylist() == []
    assert slices.take(message[6:8], start[6:8], end[6:8], valid[6:8]).to_pylist() == ["", None]
    empty = TextSpans(_complaints.normalize_block(pa.array(["", None], type=pa.string())))
    assert empty.take(np.array([0, 1]), np.array([0, 0]), np.array([0, 0])).to_pylist() == ["", ""]


@pytest.mark.parametrize("values", [
    pd.Series(["a", None, "b"], dtype="string[pyarrow]"),
    pd.Series([None, None, None], dtype="string[pyarrow]"),
    pd.Series(["x", "y", None], dtype="string[python]"),
    pd.Series(pd.to_datetime(["2025-01-01", None, "2025-01-02"]).tz_localize("Asia/Shanghai")),
    pd.Series(pd.to_datetime([None, None, None]).tz_localize("Asia/Shanghai")),
    pd.Series([1, 2, 3], dtype="int32"),
    pd.Series([1, None, 3], dtype=object),
])
@pytest.mark.parametrize("rows", [[0, 2, 2], [1], []])
def test_values_at_type_text_as_str_and_keep_times_whatever_the_rows_hold(values, rows):
    """The values at ``rows``, typed by the column and not by what the rows hold (none, or all missing,
    included): text as ``str`` (the dtype a table infers from plain text), times in their own zone."""
    rows = np.array(rows, dtype=np.int64)
    got = pd.Series(_complaints._values_at(values, rows))
    plain = pd.Series(values.iloc[rows].to_numpy(), dtype=object)
    if isinstance(values.dtype, pd.StringDtype):
        pd.testing.assert_series_equal(got, plain.astype("str"))
    elif isinstance(values.dtype, pd.DatetimeTZDtype):
        pd.testing.assert_series_equal(got, pd.Series(values.iloc[rows].array))
        assert got.dtype == values.dtype
    else:
        pd.testing.assert_series_equal(got, pd.Series(values.iloc[rows].to_numpy()))


def test_phrase_set_gives_every_label_of_a_shared_phrase_in_order():
    entries = [("a", "质量"), ("b", "质量问题"), ("c", "质量"), ("d", "差"), ("e", "差"), ("f", "退款")]
    phrase_set = PhraseSet(entries)
    block = _complaints.normalize_block(["质量问题很差", "退款", "", "没有"])
    found = phrase_set.find(block)
    # each match gives every entry of its phrase, in the order they were listed
    rows = sorted(zip(found["msg"].tolist(), found["start"].tolist(), found["end"].tolist(), found["entry"].tolist()))
    assert [(m, s, e, phrase_set.labels[i]) for m, s, e, i in rows] == [
        (0, 0, 2, "a"), (0, 0, 2, "c"), (0, 0, 4, "b"), (0, 5, 6, "d"), (0, 5, 6, "e"), (1, 0, 2, "f")]


def _reference_label_messages(messages, signals):
    """label_messages as a loop over the findings (how it was first written)."""
    customers = messages[messages["role"] == "customer"]
    ordered = signals.sort_values(["message_id", "start"], kind="stable")
    by_family = {f: {} for f in _complaints.FAMILIES}
    for message_id, family, label in zip(ordered["message_id"], ordered["family"], ordered["label"]):
        seen = by_family[family].get(message_id, ())
        if label not in seen:
            by_family[family][message_id] = seen + (label,)
    ids = customers["message_id"].tolist()
    types = [by_family["complaint"].get(i, ()) for i in ids]
    return {"types": types, "escalation_kinds": [by_family["escalation"].get(i, ()) for i in ids],
            "inquiry": [tuple(t for t in by_family["inquiry"].get(i, ()) if t not in c) for i, c in zip(ids, types)],
            "anger": [i in by_family["anger"] for i in ids]}


def test_message_labels_match_a_loop_on_tricky_messages():
    frame = pd.concat([
        session(("customer", "快递太慢了，质量问题，快递还没到"), ("customer", "能开发票吗，发票开错了"),
                ("agent", "抱歉"), ("customer", "我要投诉，还要曝光，气死了！！"), sid="a"),
        session(("agent", "您好"), sid="no-customer"),
        session(("customer", "在吗"), ("customer", "尺码偏小"), sid="b"),
        session(("customer", "尺码偏小"), sid="dup"),
    ], ignore_index=True)
    frame.loc[frame["session_id"] == "dup", "message_id"] = "b-2"      # the same message id twice
    signals = complaint_signals(frame)
    labels = label_messages(frame, signals)
    for column, expected in _reference_label_messages(frame, signals).items():
        assert labels[column].tolist() == expected, column
    assert labels["types"].tolist()[0] == ("logistics", "quality")
    assert label_messages(frame.head(0)).empty
    flags = ["escalation", "problem", "anger", "compensation"]
    assert all(pd.api.types.is_bool_dtype(labels[f]) for f in flags)
    empty = label_messages(session(("agent", "您好")))
    assert empty.empty and all(pd.api.types.is_bool_dtype(empty[f]) for f in flags), "an empty table's flags are bool too"


def test_contact_scores_keep_the_order_of_the_ranking():
    from cs_analytics.findings.complaints import contact_reasons

    frame = pd.concat([
        session(("customer", "能开发票吗"), ("agent", "退款原路返回"), ("agent", "退款原路返回"), sid="x"),
        session(("agent", "您好"), sid="quiet"),
    ], ignore_index=True)
    out = contact_reasons(frame)
    assert list(out.index) == ["x", "quiet"]
    assert list(out.loc["x", "contact_scores"].items()) == [("invoice", 4.0), ("return_refund", 2.0)]
    assert out.loc["x", "contact_secondary"] == "return_refund" and out.loc["quiet", "contact_reason"] == "other"
    assert out.loc["quiet", "contact_scores"] == {}


def test_classified_sessions_carry_the_contact_reasons_of_contact_reasons():
    """classify_complaints reads the reasons by session code; they equal contact_reasons' table, a
    non-buyer session (我是商家) included, with missing session ids and messages out of order."""
    from cs_analytics.findings.complaints import contact_reasons

    frame = pd.concat([
        session(("customer", "能开发票吗"), ("agent", "退款原路返回"), ("agent", "退款原路返回"), sid="x"),
        session(("customer", "我是商家，发票开错了"), ("agent", "好的"), sid="merchant"),
        session(("customer", "快递还没到"), ("customer", "还要退货"), sid="a"),
        session(("customer", "在吗"), sid="nothing"),
        session(("customer", "质量问题"), sid="lost"),
    ], ignore_index=True)
    frame.loc[frame["session_id"] == "lost", "session_id"] = None
    frame = frame.iloc[::-1].reset_index(drop=True)
    classified = classify_complaints(frame).set_index("session_id")
    expected = contact_reasons(frame).reindex(classified.index)
    assert classified["contact_reason"].tolist() == expected["contact_reason"].tolist()
    assert classified["contact_secondary"].isna().tolist() == expected["contact_secondary"].isna().tolist()
    assert classified["contact_secondary"].dropna().tolist() == expected["contact_secondary"].dropna().tolist()
    assert classified.loc["merchant", "contact_reason"] == "other" and classified.loc["x", "contact_reason"] == "invoice"


# ------------------------------------------------------- vectorised steps against the pandas way ---
sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
from bench_complaints import pandas_session_heads, pandas_talkative  # noqa: E402


def _awkward_sessions() -> pd.DataFrame:
    """Sessions in shuffled rows: seq ties and gaps, a missing session id, role and text, blank and
    emoji texts, repeats, bursts, bots, a session without a customer, platform/sku/time only later."""
    frame = pd.concat([
        session(("customer", "在吗"), ("customer", " 在吗 "), ("customer", "😀质量问题😀"), ("bot", "自动回复"),
                ("customer", "到底什么时候发货"), ("agent", "稍等"), ("customer", "到底什么时候发货"),
                ("customer", "到底什么时候发货"), sid="b"),
        session(("customer", "   "), ("customer", None), ("agent", "您好"), ("customer", "我要投诉"), sid="a"),
        session(("agent", "您好"), ("bot", "在的"), sid="no-customer"),
        session(("customer", "啊" * 130), ("customer", "𠀀繁體 ok"), sid="c", platform=None),
        session(("customer", "快递还没到"), ("customer", "快递还没到"), sid="d"),
    ], ignore_index=True)
    frame.loc[frame["session_id"] == "c", "seq"] = 1                       # ties: row order decides
    frame.loc[(frame["session_id"] == "d"), "sku"] = [None, "SKU9"]
    frame.loc[(frame["session_id"] == "d"), "ts"] = [pd.NaT, frame["ts"].iloc[0]]
    frame.loc[frame.index[-1], "session_id"] = None
    frame.loc[frame.index[1], "role"] = None
    frame = frame.iloc[np.random.default_rng(7).permutation(len(frame))].reset_index(drop=True)
    return frame


@pytest.mark.parametrize("rows", [slice(None), slice(0, 0), slice(0, 1)])
def test_talkative_counts_match_the_pandas_groupby(rows, tmp_path):
    layer = tmp_path / "talk.yaml"
    layer.write_text("temperament:\n  talkative: {min_burst: 2, min_repeats: 2, min_messages: 3}\n", encoding="utf-8")
    taxonomy = load_taxonomy(layer)
    frame = _awkward_sessions().iloc[rows]
    expected = pandas_talkative(frame, taxonomy.temperament["talkative"])
    pd.testing.assert_frame_equal(talkative_sessions(frame, taxonomy), expected)
    assert rows != slice(None) or expected["talkative"].sum() >= 3


def test_session_heads_match_a_sort_and_groupby():
    frame = _awkward_sessions()
    out = classify_complaints(frame).set_index("session_id")
    pd.testing.assert_frame_equal(out[["platform", "shop", "sku", "started"]], pandas_session_heads(frame))
    assert list(out.index) == ["a", "b", "c", "d"]


def test_signals_do_not_depend_on_the_order_of_rows():
    frame = _awkward_sessions()
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    key = ["message_id", "start", "family", "label"]
    one = complaint_signals(frame).sort_values(key).reset_index(drop=True)
    two = complaint_signals(shuffled).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(one, two)
    assert set(one["message_id"]) >= {"b-3", "a-4"}          # the emoji message's type, the threat


def test_covered_matches_a_merge():
    rng = np.random.default_rng(5)

    def hits(n):
        start = rng.integers(0, 20, n)
        return {"msg": rng.integers(0, 4, n), "index": rng.integers(0, 3, n), "start": start,
                "end": start + rng.integers(1, 6, n)}

    found, covers = hits(300), hits(40)
    for columns in (("msg",), ("msg", "index")):
        pairs = pd.DataFrame(found).reset_index(names="_hit").merge(pd.DataFrame(covers), on=list(columns),
                                                                     suffixes=("", "_c"))
        inside = pairs[(pairs["start_c"] <= pairs["start"]) & (pairs["end_c"] >= pairs["end"])]["_hit"].unique()
        expected = np.isin(np.arange(300), inside)
        assert (_complaints._covered(found, covers, columns) == expected).all()
    empty = {k: v[:0] for k, v in covers.items()}
    assert not _complaints._covered(found, empty, ("msg",)).any()
