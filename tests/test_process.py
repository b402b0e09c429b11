"""process_checks: every check on hand-written chats (tests/cases/process_cases.yaml), hard negatives
included; the registry (switch a check off, add one); the sample; missing never means passed."""
from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cs_analytics import process_checks
from cs_analytics.findings import process as pr
from cs_analytics.findings.session_checks import REGISTRY, session_check

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "process_cases.yaml").read_text(encoding="utf-8"))


def chat_frame(case: dict) -> pd.DataFrame:
    rows = []
    for i, line in enumerate(case["chat"]):
        side, text = line.split(": ", 1)
        role = "customer" if side == "C" else "agent"
        rows.append({"session_id": "s", "message_id": f"m{i}", "seq": i + 1, "role": role, "text": text,
                     "ts": pd.Timestamp("2025-10-08 10:00", tz="Asia/Shanghai") + pd.Timedelta(minutes=i),
                     "agent_id": (case.get("agents") or {}).get(i, "小王") if role == "agent" else None,
                     "is_transfer": bool((case.get("flags") or {}).get(i, False))})
    return pd.DataFrame(rows)


def complaints_of(case: dict, frame: pd.DataFrame) -> pd.DataFrame:
    first = frame[frame["role"] == "customer"]["message_id"].iloc[0]
    return pd.DataFrame({"session_id": ["s"], "is_complaint": [case["complaint"]], "primary": ["quality"],
                         "primary_message_id": [first if case["complaint"] else None], "escalation_message_id": [None]})


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_process_case(case):
    frame = chat_frame(case)
    row = process_checks(frame, complaints=complaints_of(case, frame)).set_index("session_id").loc["s"]
    for check, expected in case["expect"].items():
        got = row[check]
        if expected is None:
            assert pd.isna(got), f"{check} should not apply, got {got}"
        else:
            assert not pd.isna(got) and bool(got) == expected, f"{check}: expected {expected}, got {got}"
        if expected is not None and f"{check}_message_id" in row and check not in ("long_complaint",):
            if expected and check not in ("transferred",):
                assert isinstance(row[f"{check}_message_id"], str), f"{check} carries its evidence"


def test_every_check_in_the_spec_has_a_function_and_a_source():
    spec = pr.process_spec()
    assert set(spec["checks"]) <= set(REGISTRY["process"])
    assert all(entry["source"] for entry in spec["checks"].values())
    assert all(entry["source"] for entry in spec["phrases"].values())


def test_a_check_switched_off_is_left_out_and_the_others_stay():
    case = next(c for c in CASES if c["name"] == "apology_first_and_a_remedy")
    frame = chat_frame(case)
    spec = copy.deepcopy(pr.process_spec())
    spec["checks"]["solution_offered"]["enabled"] = False
    row = process_checks(frame, complaints=complaints_of(case, frame), spec=spec).iloc[0]
    assert "solution_offered" not in row and bool(row["first_reply_apology"])


def test_a_shop_can_add_a_check():
    @session_check("process", "asks_order_number")
    def asks_order_number(data):
        """The agent asks for the order number (a shop's own step)."""
        flags = data.agents["text"].str.contains("订单号")
        value = flags.groupby(data.agents["session_id"]).any()
        return pd.DataFrame({"value": value})

    try:
        case = next(c for c in CASES if c["name"] == "first_reply_without_apology")
        frame = chat_frame(case)
        spec = copy.deepcopy(pr.process_spec())
        spec["checks"]["asks_order_number"] = {"label": "索要订单号", "weight": 5, "applies": "all", "source": "our shop"}
        row = process_checks(frame, complaints=complaints_of(case, frame), spec=spec).iloc[0]
        assert bool(row["asks_order_number"])
    finally:
        del REGISTRY["process"]["asks_order_number"]


def test_an_unregistered_check_is_named():
    case = CASES[0]
    frame = chat_frame(case)
    spec = copy.deepcopy(pr.process_spec())
    spec["checks"]["no_such_step"] = {"label": "x", "weight": 1, "applies": "all", "source": "x"}
    with pytest.raises(ValueError, match="no_such_step.*register"):
        process_checks(frame, complaints=complaints_of(case, frame), spec=spec)


def test_long_complaint_needs_times():
    case = next(c for c in CASES if c["name"] == "apology_first_and_a_remedy")
    frame = chat_frame(case).drop(columns=["ts"])
    row = process_checks(frame, complaints=complaints_of(case, frame)).iloc[0]
    assert pd.isna(row["long_complaint"]) and pd.isna(row["resolution_s"])


def test_on_the_sample(sample_load):
    from cs_analytics import analyze

    found = analyze(sample_load)
    table = found.process
    assert len(table) == len(found.politeness)
    complaint = table["is_complaint"]
    assert table.loc[~complaint, "first_reply_apology"].isna().all()
    assert table.loc[complaint, "first_reply_apology"].notna().all()
    assert table["handling_score"].between(0, 100).all()
    with_evidence = table[table["solution_offered"].fillna(False).astype(bool)]
    texts = sample_load.messages.set_index("message_id")["text"]
    for message_id, matched in zip(with_evidence["solution_offered_message_id"], with_evidence["solution_offered_matched"]):
        assert matched in texts[message_id]
    from cs_analytics.tables import process_stats as ps

    by_type = ps.labelled(ps.funnel(table, found.politeness, "primary"), found.taxonomy)   # types by their labels
    assert by_type.columns[0] == "label" and by_type.index.name == "primary"
    assert set(by_type["label"]) <= set(found.taxonomy.labels.values())
    assert "label" not in ps.labelled(ps.funnel(table, found.politeness, "agent_id"), found.taxonomy)


# ------------------------------------------------------------- the vectorised session helpers ---
from cs_analytics.base.schema import conform  # noqa: E402
from cs_analytics.findings import session_checks as sc  # noqa: E402
from cs_analytics.findings.sessions import HUMAN, message_kinds, session_owner  # noqa: E402
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402


def tricky_messages(timed: bool = True) -> pd.DataFrame:
    """Sessions with and without agent replies, a single message, a bot, an auto-reply, an agent without
    an id, missing send times, and messages out of order."""
    t = lambda m: pd.Timestamp("2025-10-08 10:00", tz="Asia/Shanghai") + pd.Timedelta(minutes=m)  # noqa: E731
    rows = [("a", 2, t(1), "agent", "您好 😀 请问", "王"), ("a", 1, t(0), "customer", "在吗", None),
            ("a", 3, t(2), "agent", "稍等", "王"), ("a", 4, t(3), "customer", "好", None),
            ("a", 5, t(4), "agent", "还有别的吗", "李"),
            ("b", 1, t(0), "customer", "有人吗", None),                               # no agent reply
            ("c", 1, t(5), "agent", "您好", "张"),                                   # a single message
            ("d", 1, pd.NaT, "agent", "在的", "赵"), ("d", 2, t(1), "customer", "嗯", None),
            ("d", 3, t(2), "agent", "【自动回复】当前咨询人数较多，请稍候", "钱"), ("d", 4, t(3), "bot", "您好", None),
            ("d", 5, t(3), "agent", "好的", None), ("d", 6, t(3), "agent", "再见", "孙"),
            ("e", 1, pd.NaT, "agent", "在", "周"), ("e", 2, pd.NaT, "agent", "好", "吴")]
    frame = pd.DataFrame([{"session_id": s, "seq": q, "ts": ts, "role": r, "text": x, "agent_id": a,
                           "message_id": f"{s}{q}"} for s, q, ts, r, x, a in rows])
    frame = conform(frame, "Asia/Shanghai")
    return frame if timed else frame.drop(columns=["ts"])


def reference_owner(messages: pd.DataFrame) -> pd.Series:
    """session_owner as a sort of the human agent messages (its former implementation)."""
    from cs_analytics.base.schema import as_messages
    from cs_analytics.base.timeparse import has_times

    messages = as_messages(messages)
    sessions = pd.Index(messages["session_id"].unique(), name="session_id")
    human = messages[(message_kinds(messages) == HUMAN) & messages["agent_id"].notna().to_numpy()]
    order = ["session_id", "ts", "seq"] if has_times(messages) else ["session_id", "seq"]
    first = human.sort_values(order, kind="stable", na_position="last").drop_duplicates("session_id")
    return first.set_index("session_id")["agent_id"].reindex(sessions).rename("agent_id")


@pytest.mark.parametrize("timed", [True, False])
def test_session_owner_matches_the_sorting_reference(timed):
    frame = tricky_messages(timed)
    pd.testing.assert_series_equal(session_owner(frame), reference_owner(frame))
    pd.testing.assert_series_equal(session_owner(frame.iloc[::-1]), reference_owner(frame.iloc[::-1]))
    pd.testing.assert_series_equal(session_owner(frame.iloc[:0]), reference_owner(frame.iloc[:0]))


@pytest.mark.parametrize("timed", [True, False])
def test_session_data_helpers_match_groupby_references(timed):
    data = sc.SessionData(tricky_messages(timed), pd.DataFrame(columns=["message_id"]))
    ordered, agents = data.ordered, data.agents
    assert list(data.sessions) == ["a", "c", "d", "e"]               # b has no human agent reply
    rows = agents.index.to_numpy()
    first, last = data.first_rows(rows), data.first_rows(rows, last=True)
    by = agents.groupby("session_id", sort=False)
    for sid, group in by:
        code = list(data.session_ids).index(sid)
        assert first[code] == group.index[0] and last[code] == group.index[-1]
    assert first[list(data.session_ids).index("b")] == -1
    rank = agents.groupby("session_id", sort=False)["turn"].rank(method="dense", ascending=False).to_numpy()
    assert data.agent_turn_rank().tolist() == rank.astype(int).tolist()
    expected_first = agents.groupby("session_id", sort=False)["agent_id"].first().reindex(data.sessions)
    pd.testing.assert_series_equal(data.first_values("agent_id", rows), expected_first, check_names=False)
    pd.testing.assert_series_equal(data.owners(), reference_owner(ordered).reindex(data.sessions))
    assert data.rows_of(["d3", "zz", "a1", "d3"]).tolist() == [
        ordered.index[ordered["message_id"] == "d3"][0], -1, ordered.index[ordered["message_id"] == "a1"][0],
        ordered.index[ordered["message_id"] == "d3"][0]]
    assert data.rows_of([]).tolist() == []
    assert data.count_rows(rows).tolist() == np.bincount(data.code[rows], minlength=len(data.session_ids)).tolist()


def test_sessions_without_any_reply_give_empty_helpers():
    frame = tricky_messages()
    data = sc.SessionData(frame[frame["role"] == "customer"], pd.DataFrame(columns=["message_id"]))
    assert len(data.sessions) == 0 and data.agent_turn_rank().tolist() == []
    assert (data.first_rows([]) == -1).all()


@pytest.mark.parametrize("texts, start, end", [
    ([], [], []),
    (["您好 😀 请问"], [0], [0]),
    (["您好 😀 请问", None, "abc", "𠀀x"], [3, 0, 1, 0], [6, 2, 9, 1]),
    (["", "ab"], [0, 1], [0, 1]),
])
def test_cut_texts_is_python_slicing(texts, start, end):
    got = sc.cut_texts(pa.array(texts, type=pa.string()), np.array(start), np.array(end))
    assert got.tolist() == [("" if t is None else t)[a:b] for t, a, b in zip(texts, start, end)]


def test_text_slices_of_one_text():
    text = "亲😀，您好~ab"
    spans = [(0, 1), (1, 2), (2, 7), (3, 3), (0, len(text))]
    got = sc.text_slices(text, np.array([a for a, _ in spans]), np.array([b for _, b in spans]))
    assert got.tolist() == [text[a:b] for a, b in spans]


def test_first_evidence_takes_the_earliest_row_and_cuts_its_text():
    data = sc.SessionData(tricky_messages(), pd.DataFrame(columns=["message_id"]))
    row_of = {m: i for i, m in enumerate(data.ordered["message_id"])}
    frame = data.located(pd.DataFrame({"row": [row_of["a5"], row_of["a2"], row_of["a2"], row_of["c1"]],
                                       "start": [0, 3, 0, np.nan], "end": [2, 4, 2, np.nan],
                                       "matched": [None, None, None, "given"]}))
    value = data.by_code(np.ones(len(data.session_ids), dtype=bool))
    out = sc.first_evidence(frame, value, data)
    assert out.loc["a", "message_id"] == "a2" and out.loc["a", "matched"] == "😀"     # same message: frame order
    assert out.loc["c", "matched"] == "given" and pd.isna(out.loc["d", "message_id"])
    empty = sc.first_evidence(frame.iloc[:0], value, data)
    assert empty["message_id"].isna().all() and empty["matched"].isna().all()


def test_lean_phrase_matches_agree_with_the_full_ones():
    from cs_analytics.findings.service_phrases import find_phrases, load_service_phrases

    frame = tricky_messages()
    spec = load_service_phrases()
    lists = ("apology", "greeting", "help_offer", "please")
    full = find_phrases(frame, spec, lists, roles=("agent",))
    lean = find_phrases(frame, spec, lists, roles=("agent",), lean=True)
    assert list(lean["purpose"].cat.categories) == list(lists)
    assert lean["purpose"].astype(str).tolist() == full["purpose"].tolist()
    assert lean[["start", "end", "row"]].values.tolist() == full[["start", "end", "row"]].values.tolist()
    texts = frame["text"]
    assert full["matched"].tolist() == [texts[r][a:b] for r, a, b in zip(full["row"], full["start"], full["end"])]
    none = find_phrases(frame[frame["role"] == "customer"], spec, lists, roles=("agent",), lean=True)
    assert none.empty and list(none["purpose"].cat.categories) == list(lists)


@pytest.mark.parametrize("only", ["all", "agents", "one"])
def test_side_matches_are_find_phrases_on_the_side_s_messages(only):
    """side_matches scans the batch's texts by row; the same as find_phrases on the agents' or customers'
    frame (its former way), with a missing text, an emoji, no customers or a single message."""
    from cs_analytics.findings.rulebook import load_rulebook
    from cs_analytics.findings.service_phrases import find_phrases

    frame = tricky_messages()
    frame.loc[frame["message_id"] == "a3", "text"] = None
    frame = {"all": frame, "agents": frame[frame["role"] == "agent"], "one": frame[frame["message_id"] == "c1"]}[only]
    data = sc.SessionData(frame, pd.DataFrame(columns=["message_id"]))
    spec, rulebook = pr.process_spec(), load_rulebook()
    for side, messages, role in (("agent", data.agents, "agent"), ("customer", data.customers, "customer")):
        lists = pr.side_lists(side, spec)
        got = pr.side_matches(data, side, spec, rulebook)
        expected = data.located(find_phrases(messages, lists, tuple(lists), roles=(role,), lean=True, name="reference"))
        for name in lists:
            want = expected[expected["purpose"] == name].drop(columns="purpose").reset_index(drop=True)
            pd.testing.assert_frame_equal(got[name].drop(columns="purpose").reset_index(drop=True), want,
                                          check_index_type=False)
    assert data.customer_rows().tolist() == data.customers.index.tolist()


def test_customer_abuse_on_the_whole_batch_is_the_customers_own():
    """The buyers' abuse rules run on the whole batch (they judge customer messages only): the same
    hits as on a copy of the customers' messages, shuffled sessions and an agent using the same words."""
    import dataclasses

    from cs_analytics.findings.rulebook import Rulebook, load_rulebook
    from cs_analytics.findings.violations import find_violations

    frame = tricky_messages()
    extra = pd.DataFrame({"session_id": ["a", "f", "f", "d"], "seq": [6, 1, 2, 7], "role": ["customer", "customer", "agent", "customer"],
                          "text": ["傻逼客服", "东西坏了，你们客服就是傻*逼", "傻逼", None], "agent_id": [None, None, "王", None],
                          "message_id": ["a6", "f1", "f2", "d7"]})
    frame = pd.concat([frame, conform(extra, "Asia/Shanghai")], ignore_index=True).iloc[::-1]
    data = sc.SessionData(frame, pd.DataFrame(columns=["message_id"]))
    data.extra = {"rulebook": load_rulebook(), "spec": pr.process_spec()}
    found = pr._customer_abuse(data)
    rulebook = data.extra["rulebook"]
    rules = [dataclasses.replace(r, roles=frozenset({"customer"})) for r in rulebook.rules
             if r.category in set(pr.process_spec()["customer_abuse_categories"])]
    buyers = Rulebook(rules=rules, categories=rulebook.categories, phrase_sets=rulebook.phrase_sets)
    expected = find_violations(data.customers, buyers).drop_duplicates("message_id")
    assert sorted(found["message_id"]) == ["a6", "f1"]
    assert found["message_id"].tolist() == expected["message_id"].tolist()
    assert found["matched"].tolist() == expected["matched"].tolist()


def test_a_phrase_in_two_lists_is_found_for_both():
    from cs_analytics.textmatch.engines import PhraseSet
    from cs_analytics.textmatch.normalize import normalize_block

    phrases = PhraseSet([("a", "您好"), ("b", "您好"), ("b", "再见"), ("c", "请")])
    found = phrases.find(normalize_block(["您好，再见", "请 您好"]))
    pairs = sorted((int(m), phrases.labels[e], int(s)) for m, e, s in zip(found["msg"], found["entry"], found["start"]))
    assert pairs == [(0, "a", 0), (0, "b", 0), (0, "b", 3), (1, "a", 2), (1, "b", 2), (1, "c", 0)]


def test_analyze_shares_one_session_batch_and_gives_what_the_functions_give(sample_load):
    from cs_analytics import analyze, politeness_checks

    found = analyze(sample_load)
    messages = sample_load.messages
    pd.testing.assert_frame_equal(found.process, process_checks(messages, found.hits, found.complaint_sessions,
                                                                rulebook=found.rulebook))
    pd.testing.assert_frame_equal(found.politeness, politeness_checks(messages, found.hits, found.complaint_sessions,
                                                                      found.long_waits))


@pytest.mark.parametrize("timed", [True, False])
def test_session_order_is_sort_values_order_sorted_or_not(timed):
    frame = tricky_messages(timed)
    order = ["session_id", "ts", "seq"] if timed else ["session_id", "seq"]
    for batch in (frame, frame.sort_values(order, kind="stable", na_position="first"), frame.iloc[::-1]):
        expected = batch.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
        got = sc.SessionData(batch, pd.DataFrame(columns=["message_id"])).ordered[list(batch.columns)]
        pd.testing.assert_frame_equal(got, expected)


def test_refusal_softeners_count_in_the_refusal_turn_or_the_one_before_only():
    """The rulebook's softener sets are looked for only in refusal turns and the turns before them
    (``_softener_rows``); softeners further back or in other sessions do not count."""
    chats = {
        "previous": ["C: 能改地址吗", "A: 很抱歉，订单已出库", "C: 那怎么办", "A: 这个不能改"],
        "two_back": ["C: 在吗", "A: 很抱歉，订单已出库", "C: 嗯", "A: 好的", "C: 能改地址吗", "A: 这个不能改"],
        "same_turn": ["C: 能便宜点吗", "A: 很抱歉", "A: 这个价格不能再改了，因为已经是活动价"],
        "no_refusal": ["C: 有货吗", "A: 很抱歉，订单已出库，您可以拒收"],
    }
    rows = [{"session_id": sid, "message_id": f"{sid}{i}", "seq": i + 1, "role": "customer" if line[0] == "C" else "agent",
             "text": line[3:], "agent_id": None if line[0] == "C" else "小王"}
            for sid, lines in chats.items() for i, line in enumerate(lines)]
    out = process_checks(pd.DataFrame(rows)).set_index("session_id")["refusal_softened"]
    assert out["previous"] == True  # noqa: E712
    assert out["two_back"] == False  # noqa: E712
    assert out["same_turn"] == True  # noqa: E712
    assert pd.isna(out["no_refusal"])
