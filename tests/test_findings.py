"""analyze(): each finding computed once, every layer passed through, stored and read back unchanged;
session_owner and as_messages, the single definitions every step uses."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest

import cs_analytics
from cs_analytics import Findings, MessagesError, analyze, as_messages, session_owner
from cs_analytics.findings import analyze as analyze_module
from cs_analytics.findings.analyze import FINDINGS, TIMED_FINDINGS

DAY = "2025-10-08 "     # a Wednesday


def chat(*rows, sid="s1", agent="小王"):
    """A hand-built table with only the columns an analyst would type, plus times and agents."""
    return pd.DataFrame([{"session_id": sid, "ts": DAY + t, "role": r, "text": x,
                          "agent_id": agent if r in ("agent", "bot") else None} for t, r, x in rows])


CUSTOM = "鞋带扣松脱"      # a complaint no packaged type knows; a one-phrase taxonomy layer adds it


def complaint_chat():
    return chat(("10:00:00", "customer", f"收到的鞋子{CUSTOM}了"),
                ("10:00:20", "agent", "您好，很高兴为您服务"),
                ("10:01:00", "customer", "怎么处理"),
                ("10:01:30", "agent", "请您拍照发给我们看一下"))


@pytest.fixture
def custom_layer(tmp_path):
    path = tmp_path / "shoes.yaml"
    path.write_text(f"types:\n  - id: lace_fault\n    label: 鞋带故障\n    phrases: [{CUSTOM}]\n"
                    "    source: 测试用的店铺层\n", encoding="utf-8")
    return path


def test_each_finding_is_computed_once_and_only_when_asked(monkeypatch, sample_load):
    calls = {"find_violations": 0, "classify_complaints": 0}
    for name in calls:
        real = getattr(analyze_module, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)
        monkeypatch.setattr(analyze_module, name, counting)
    found = analyze(sample_load)
    assert found.computed() == [] and calls == {"find_violations": 0, "classify_complaints": 0}
    found.politeness, found.hits, found.politeness, found.complaint_sessions
    assert calls == {"find_violations": 1, "classify_complaints": 1}
    assert found.politeness is found.politeness


def test_a_taxonomy_layer_reaches_the_politeness_checks(custom_layer):
    """The bug this replaced: politeness classified complaints with the packaged taxonomy, so a shop's
    layer changed notebook 03 but not 05/06."""
    plain, layered = analyze(complaint_chat()), analyze(complaint_chat(), taxonomy=custom_layer)
    assert not plain.complaint_sessions.set_index("session_id").loc["s1", "is_complaint"]
    assert layered.complaint_sessions.set_index("session_id").loc["s1", "primary"] == "lace_fault"
    assert pd.isna(plain.politeness.set_index("session_id").loc["s1", "complaint_apology"])
    assert layered.politeness.set_index("session_id").loc["s1", "complaint_apology"] == False  # noqa: E712 (owed, not given)


def test_a_rulebook_layer_reaches_the_politeness_checks(tmp_path):
    layer = tmp_path / "rules.yaml"
    layer.write_text("rules:\n  - id: shop.rude_photo\n    label: 让买家拍照\n    category: service_taboo\n    subcategory: shirking\n"
                     "    severity: high\n    phrases: [拍照发给我们]\n    suggest: 麻烦您拍张照片，我们马上为您处理\n"
                     "    source: 测试用的店铺层\n", encoding="utf-8")
    plain, layered = analyze(complaint_chat()), analyze(complaint_chat(), rulebook=layer)
    assert "shop.rude_photo" in set(layered.hits["rule_id"].astype(str))
    assert plain.politeness.set_index("session_id").loc["s1", "no_taboo"]
    assert not layered.politeness.set_index("session_id").loc["s1", "no_taboo"]


def _same(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), obj=name)
    for column in a.columns:
        kinds = lambda f: f[column].dropna().map(type).value_counts().to_dict()  # noqa: E731
        assert kinds(a) == kinds(b), f"{name}.{column}: Python types change on the way through Parquet"


def test_stored_findings_read_back_unchanged(tmp_path, sample_load):
    found = analyze(sample_load)
    found.save(tmp_path)
    read = Findings.read(tmp_path, sample_load.messages)
    assert read.computed() == list(FINDINGS), "every finding is read, none recomputed"
    for name in FINDINGS:
        _same(getattr(found, name), getattr(read, name), name)


def test_stored_findings_of_other_layers_are_not_used(tmp_path, sample_load, custom_layer):
    analyze(sample_load).save(tmp_path)
    with pytest.warns(UserWarning, match="other taxonomy"):
        read = Findings.read(tmp_path, sample_load.messages, taxonomy=custom_layer)
    assert read.computed() == []
    with pytest.warns(UserWarning, match="other message_ids_hash, messages"):
        Findings.read(tmp_path, sample_load.messages.iloc[:100])


def test_without_times_the_time_findings_are_none_and_the_rest_work():
    found = analyze(complaint_chat().drop(columns=["ts"]))
    assert not found.timed
    for name in TIMED_FINDINGS:
        assert getattr(found, name) is None
    assert len(found.politeness) == 1 and found.politeness["wait_apology"].isna().all()


def test_session_owner_is_the_first_human_agent_who_replied():
    messages = pd.concat([
        chat(("10:00:00", "customer", "在吗"), ("10:00:01", "bot", "您好，欢迎光临"),
             ("10:00:40", "agent", "亲，您好，我是小张"), ("10:01:00", "customer", "退货"),
             ("10:02:00", "agent", "为您转接售后，请稍等"), sid="transfer", agent="小张"),
        chat(("10:03:00", "agent", "您好，我是售后小李，这就为您处理"), sid="transfer", agent="小李"),
        chat(("11:00:00", "customer", "有货吗"), ("11:00:05", "agent", "您好，欢迎光临本店，客服稍后为您服务"),
             ("11:01:00", "agent", "有的亲"), sid="auto", agent="小王"),
        chat(("12:00:00", "customer", "在吗"), sid="unanswered"),
    ])
    owner = session_owner(messages)
    assert owner["transfer"] == "小张", "the first agent stays responsible after a transfer (首问负责)"
    assert owner["auto"] == "小王"
    assert pd.isna(owner["unanswered"]) and set(owner.index) == {"transfer", "auto", "unanswered"}


def test_session_owner_skips_auto_replies_of_an_agent_account():
    messages = pd.concat([
        chat(("10:00:00", "customer", "在吗"), ("10:00:01", "agent", "【自动回复】您好，欢迎光临本店"), agent="自动"),
        chat(("10:01:00", "agent", "您好，我来帮您看看"), agent="小赵"),
    ])
    assert session_owner(messages)["s1"] == "小赵"


def test_the_shared_sessions_go_once_politeness_and_process_are_computed(sample_load):
    found = analyze(sample_load.messages.iloc[:3000], workers=1)
    found.politeness
    assert "_sessions" in found.__dict__, "kept for the process checks"
    found.process
    assert "_sessions" not in found.__dict__
    again = analyze(sample_load.messages.iloc[:3000], workers=1)
    pd.testing.assert_frame_equal(again.process, found.process)
    pd.testing.assert_frame_equal(again.politeness, found.politeness)


def test_in_order_of_agrees_with_a_stable_sort(sample_load):
    import numpy as np

    from cs_analytics.findings.sessions import in_order_of

    def by_sort(frame, keys):
        if any(frame[key].isna().any() for key in keys):
            return False
        index = frame[keys].reset_index(drop=True).sort_values(keys, kind="stable").index.to_numpy()
        return bool((index == np.arange(len(index))).all())

    keys = ["session_id", "ts", "seq"]
    messages = sample_load.messages.sort_values(keys, kind="stable").reset_index(drop=True)
    emoji = messages.iloc[:4].assign(session_id=["a", "a😀", "a😀", "b"], seq=[1, 1, 2, 1])
    swapped = messages.iloc[[0, 2, 1, *range(3, 50)]]
    tied = messages.iloc[:20].assign(ts=messages["ts"].iloc[0], seq=1)
    for frame in (messages, messages.iloc[::-1], emoji, emoji.iloc[[0, 2, 1, 3]], swapped, tied, messages.iloc[:1],
                  messages.iloc[:0], messages.iloc[:30].assign(ts=pd.NaT), messages.sample(frac=1.0, random_state=2)):
        assert in_order_of(frame, keys) == by_sort(frame, keys)
        assert in_order_of(frame, ["session_id", "seq"]) == by_sort(frame, ["session_id", "seq"])


def test_message_kinds_are_kept_for_the_same_table_and_computed_for_another():
    from cs_analytics.findings.sessions import BOT, HUMAN, message_kinds

    messages = chat(("10:00:00", "customer", "在吗"), ("10:00:01", "agent", "【自动回复】您好，欢迎光临本店"),
                    ("10:01:00", "agent", "您好"), agent="小赵")
    kinds = message_kinds(messages)
    assert message_kinds(messages.reset_index(drop=True)) is kinds, "a table sharing the columns is the same table"
    assert not kinds.flags.writeable
    changed = messages.assign(text=["在吗", "您好", "【自动回复】稍等"])
    assert list(message_kinds(changed)[1:]) == [HUMAN, BOT] and list(kinds[1:]) == [BOT, HUMAN]
    as_objects = messages.astype({"role": object, "text": object})      # no Arrow arrays: computed each time
    assert list(message_kinds(as_objects)) == list(kinds)
    assert list(message_kinds(messages.iloc[:0])) == [] and list(message_kinds(messages.iloc[2:])) == [HUMAN]


def test_a_table_with_only_the_required_columns_is_enough():
    frame = pd.DataFrame({"session_id": ["a", "a", "b"], "role": ["customer", "agent", "customer"],
                          "text": ["快递怎么还没到，我要投诉", "亲，您好，非常抱歉，马上为您催促", "在吗"]})
    made = as_messages(frame)
    assert list(made.columns[:14]) == list(cs_analytics.base.schema.MESSAGE_COLUMNS)
    assert list(made["seq"]) == [1, 2, 1] and list(made["message_id"]) == ["a#1", "a#2", "b#1"]
    found = analyze(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in FINDINGS:
            getattr(found, name)
    assert found.complaint_sessions.set_index("session_id").loc["a", "is_complaint"]


def test_a_missing_required_column_is_named():
    with pytest.raises(MessagesError, match="no role column"):
        analyze(pd.DataFrame({"session_id": ["a"], "text": ["在吗"]}))
    with pytest.raises(MessagesError, match="no session_id, role, text"):
        cs_analytics.classify_complaints(pd.DataFrame({"content": ["在吗"]}))


def test_is_in_agrees_with_isin_on_arrow_and_object_columns():
    import numpy as np
    import pyarrow as pa

    from cs_analytics.base.schema import is_in

    chunked = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array([["a", "b😀"], ["c", "a"]])))
    objects = pd.Series(["a", "😀", "x", ""], dtype=object)
    for values, wanted in ((chunked, pd.Series(["a", "c"])), (objects, chunked.astype(object)),
                           (objects, pd.Series(["😀", ""], dtype="string[pyarrow]")), (objects.iloc[:0], objects),
                           (objects, objects.iloc[:0])):
        assert np.array_equal(is_in(values, wanted), values.astype(object).isin(list(wanted.astype(object))).to_numpy())


@pytest.mark.parametrize("shuffled", [False, True])
def test_texts_normalised_once_give_the_findings_of_each_step_on_its_own(sample_load, shuffled):
    """analyze() normalises each side's texts once (SharedBlocks) and labels the customers' messages once
    for every finding: the same tables as each step computing its own, on messages out of session order
    (the checks' sorted copy maps back to them) or in it, with emoji, missing texts and a one-message session."""
    from cs_analytics import (
        classify_complaints,
        complaint_signals,
        find_violations,
        label_messages,
        politeness_checks,
        process_checks,
    )

    messages = sample_load.messages.iloc[:1500].copy()
    messages["text"] = messages["text"].astype(object)
    messages.iloc[::7, messages.columns.get_loc("text")] = None
    messages.iloc[3::11, messages.columns.get_loc("text")] = "😀 加微-信 𠀀 退款 投诉 😡"
    lone = messages.iloc[[0]].assign(session_id="lone", message_id="lone#1")
    messages = pd.concat([lone, messages])
    if shuffled:
        messages = messages.sample(frac=1.0, random_state=3)
    messages = messages.reset_index(drop=True)
    messages = as_messages(messages)
    found = analyze(messages, workers=1).compute()
    hits = find_violations(messages, found.rulebook)
    signals = complaint_signals(messages, found.taxonomy)
    sessions = classify_complaints(messages, found.taxonomy, signals=signals)
    pd.testing.assert_frame_equal(found.hits, hits)
    pd.testing.assert_frame_equal(found.complaint_signals, signals)
    pd.testing.assert_frame_equal(found.message_labels, label_messages(messages, signals, found.taxonomy))
    pd.testing.assert_frame_equal(found.complaint_sessions, sessions)
    pd.testing.assert_frame_equal(found.politeness, politeness_checks(messages, hits, sessions, found.long_waits,
                                                                        rulebook=found.rulebook, taxonomy=found.taxonomy))
    pd.testing.assert_frame_equal(found.process, process_checks(messages, hits, sessions, rulebook=found.rulebook,
                                                                    taxonomy=found.taxonomy))


def _subsets(messages: pd.DataFrame, whole) -> dict:
    """Parts of a loaded export that leave some finding with nothing to show."""
    def sessions(ids):
        return messages[messages["session_id"].isin(set(ids))].reset_index(drop=True)

    judged = whole.complaint_sessions
    quiet = judged.loc[~judged["is_complaint"] & ~judged["session_id"].isin(whole.hits["session_id"]), "session_id"].head(3)
    untimed = sessions(quiet)
    return {"one session": sessions(messages["session_id"].unique()[:1]),
            "no complaint, no hit": sessions(quiet),
            "customers only": messages[messages["role"].eq("customer")].head(5).reset_index(drop=True),
            "agents only": messages[messages["role"].eq("agent")].head(5).reset_index(drop=True),
            "no times": untimed.assign(ts=pd.Series(pd.NaT, index=untimed.index, dtype=messages["ts"].dtype))}


def test_every_finding_has_the_same_columns_and_dtypes_whatever_the_messages_hold(sample_load):
    """A finding's columns and their dtypes do not depend on what the messages hold: a shop with no
    complaint, no hit, no agent reply or no send times gets the tables the whole export gets, empty
    or missing where there is nothing (so parts combine, and a notebook's code runs on any of them)."""
    whole = analyze(sample_load).compute()
    for case, part in _subsets(sample_load.messages, whole).items():
        found = analyze(part).compute()
        for name in FINDINGS:
            expected, got = getattr(whole, name), getattr(found, name)
            if got is None:                                  # a time finding of the part without times
                assert case == "no times" and name in TIMED_FINDINGS, (case, name)
                continue
            assert list(got.columns) == list(expected.columns), (case, name)
            assert got.dtypes.astype(str).to_dict() == expected.dtypes.astype(str).to_dict(), (case, name)


def test_every_public_name_is_there_and_imported_when_first_used():
    """``cs_analytics`` names each public name once with its module (imported when first used): every
    name in ``__all__`` resolves, and no name is public without a module."""
    assert set(cs_analytics.__all__) == set(cs_analytics._PUBLIC) | {"__version__"}
    for name in cs_analytics.__all__:
        assert getattr(cs_analytics, name) is not None, name
    with pytest.raises(AttributeError):
        cs_analytics.no_such_name
