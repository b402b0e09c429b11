"""find_violations: hand-written cases, both engines, spans, sample truth, evasion harness, CLI."""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_analytics.base import config
from cs_analytics import load_logs
from cs_analytics.cli import main as cli_main
from cs_analytics.findings.violations import HIT_COLUMNS, check_text, find_violations
from cs_analytics.textmatch.engines import available_engines
from cs_analytics.base.privacy import mask_text
from cs_analytics.findings.rulebook import load_rulebook
from cs_analytics.textmatch.normalize import fold, normalize, normalize_block

sys.path.insert(0, str(Path(__file__).parent))
import evasion_harness  # noqa: E402
import rule_quality  # noqa: E402

CASES = yaml.safe_load(rule_quality.CASES_FILE.read_text(encoding="utf-8"))
ENGINES = available_engines()


def test_engines_installed_as_pyproject_says():
    import platform

    assert "pyahocorasick" in ENGINES, "the portable engine is always installed"
    if platform.machine() in ("x86_64", "AMD64", "arm64", "aarch64"):
        assert ENGINES == ["hyperscan", "pyahocorasick"], "hyperscan has wheels here and must be installed"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=[f"{c['text'][:14]}-{c.get('platform', 'taobao')}" for c in CASES])
def test_case(case, engine):
    hits = check_text(case["text"], case.get("platform", "taobao"), case.get("role", "agent"), engine=engine)
    assert sorted(set(hits["rule_id"].astype(str))) == sorted(set(case["fires"]))
    for start, end, matched in zip(hits["start"], hits["end"], hits["matched"]):
        assert case["text"][start:end] == matched
    if "matched" in case:
        assert sorted(hits["matched"]) == sorted(case["matched"])


@pytest.fixture(scope="module")
def sample_hits(sample_load):
    return {engine: find_violations(sample_load.messages, engine=engine) for engine in ENGINES}


def test_engines_give_identical_hits_on_the_sample(sample_hits):
    first, *others = ENGINES
    assert len(sample_hits[first]) > 1000
    for engine in others:
        pd.testing.assert_frame_equal(sample_hits[first], sample_hits[engine])


def test_hits_table_carries_evidence(sample_hits, sample_load):
    hits = sample_hits[ENGINES[0]]
    assert tuple(hits.columns) == HIT_COLUMNS
    texts = sample_load.messages.set_index("message_id")["text"]
    for hit in hits.sample(300, random_state=1).itertuples():
        assert texts[hit.message_id][hit.start:hit.end] == hit.matched
    assert set(hits["role"].astype(str)) == {"agent"}, "default rules judge agents only"
    assert hits["suggest"].notna().all()


def test_sample_truth_precision_and_recall(sample_load, sample_hits, capsys):
    table = rule_quality.sample_scores(sample_load.messages, sample_hits[ENGINES[0]])
    with capsys.disabled():
        print("\n" + table.to_string(float_format="{:.3f}".format))
    assert set(table.index) >= {"service_taboo", "absolute_claim", "third_party_platform", "privacy_leak",
                                "informal_address", "off_platform_transaction", "review_inducement", "abuse"}
    assert (table["precision"] >= 0.95).all(), table
    assert (table["recall"] >= 0.95).all(), table


def test_case_file_precision_and_recall():
    table, wrong = rule_quality.case_scores()
    assert not wrong
    assert (table["precision"] == 1).all() and (table["recall"] == 1).all()


def test_evasion_catch_rate(capsys):
    tried, caught, misses = evasion_harness.run()
    rate = sum(caught.values()) / sum(tried.values())
    with capsys.disabled():
        print(f"\nevasion catch rate {rate:.1%} over {sum(tried.values())} disguises; missed: {misses[:5]}")
    assert sum(tried.values()) > 1000
    assert rate >= 0.95
    assert all(caught[k] / tried[k] >= 0.9 for k in tried), {k: caught[k] / tried[k] for k in tried}


def test_timeless_export_is_judged(tmp_path):
    result = load_logs(config.SAMPLE_JD_TSV, "jd_tsv")
    hits = find_violations(result.messages)
    assert len(hits) > 0
    assert hits["ts"].isna().all()


def frame(texts, platform="jd", role="agent", session="s1"):
    return pd.DataFrame({"message_id": [f"m{i}" for i in range(len(texts))], "session_id": session,
                         "role": role, "platform": platform, "text": texts})


def test_filler_counts_only_when_repeated():
    once = find_violations(frame(["是这样的，已经发货了", "好的"]))
    twice = find_violations(frame(["是这样的，已经发货了", "是这样的，明天到"]))
    assert once.empty
    assert list(twice["rule_id"].astype(str)) == ["taboo.filler.shi_zheyang"] * 2


def test_effective_dates(tmp_path):
    path = tmp_path / "dated.yaml"
    path.write_text("rules:\n  - {id: shop.promo_word, label: 限时秒杀, category: absolute_claim, phrases: [限时秒杀], "
                    "effective_from: 2025-10-01, suggest: s, source: s}\n", encoding="utf-8")
    rulebook = load_rulebook(path)
    messages = frame(["限时秒杀", "限时秒杀", "限时秒杀"])
    messages["ts"] = pd.to_datetime(["2025-09-30 10:00", "2025-10-01 10:00", None]).tz_localize("Asia/Shanghai")
    hits = find_violations(messages, rulebook)
    assert list(hits["message_id"].astype(str)) == ["m1", "m2"], "before the date no hit; unknown date: judged"


def test_missing_columns_error():
    with pytest.raises(ValueError, match="no session_id, role column"):
        find_violations(pd.DataFrame({"text": ["不行"]}))


def test_empty_input_gives_empty_table():
    hits = find_violations(frame([]))
    assert hits.empty and tuple(hits.columns) == HIT_COLUMNS


def test_spans_survive_emoji_and_separators():
    texts = ["😊😊亲，加 薇-信 吧👍", "𠀀不行", "", None, "支*付*宝😊转给我"]
    messages = frame(texts, platform="pdd")
    hits = find_violations(messages)
    got = {(m, r): t for m, r, t in zip(hits["message_id"], hits["rule_id"].astype(str), hits["matched"])}
    assert got[("m0", "platform.social.wechat")] == "薇-信"
    assert got[("m1", "taboo.refusal.no")] == "不行"
    assert got[("m4", "platform.payment.alipay")] == "支*付*宝"
    assert got[("m4", "offplatform.transfer")] == "转给我"


def test_matches_do_not_cross_messages():
    hits = find_violations(frame(["这款绝", "对好用"]))
    assert hits.empty


def test_every_privacy_hit_is_masked(sample_hits):
    leaks = sample_hits[ENGINES[0]]
    leaks = leaks[leaks["category"] == "privacy_leak"]
    assert len(leaks) > 50
    for matched in leaks["matched"]:
        masked = mask_text(f"核对：{matched}。")
        assert matched not in masked, masked


# ------------------------------------------------------------------------------ normalisation ---
def test_normalize_examples():
    assert normalize("支 付 宝") == normalize("支*付*宝") == normalize("支\u200b付宝") == "支付宝"
    assert normalize("ＱＱ號碼") == "qq号码"
    assert normalize("不知道，您") == "不知道,您", "sentence punctuation stays"
    assert len(fold("ＡＢ體😊x")) == len("ＡＢ體😊x")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("您好亲，。 *-😊𠀀Ａa不行微信支付宝")), max_size=12), max_size=8))
def test_block_spans_map_back(texts):
    block = normalize_block(texts)
    assert block.original == "".join(texts)
    for i, text in enumerate(texts):
        assert block.text(i) == text
    # every compact character maps back to a character whose fold it is
    compact = block.compact
    if compact:
        import numpy as np

        positions = np.arange(len(compact))
        msg, start, end, kept = block.locate_compact(positions, positions + 1)
        assert kept.all()
        for p, m, s, e in zip(positions, msg, start, end):
            assert fold(texts[m][s:e])[-1] == compact[p] or fold(texts[m][s:e]) == compact[p]



@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("您好亲，。 *-😊𠀀Ａa不行微信支付宝")), max_size=12), max_size=8))
def test_locate_compact_spans_as_their_first_and_last_characters(texts):
    """A compact span maps to its first character's start and its last character's end (separators and
    surrogate pairs inside it or not); a span across messages is dropped."""
    import numpy as np

    block = normalize_block(texts)
    n = len(block.compact_utf16) // 2
    if not n:
        return
    one = np.arange(n)
    msg1, start1, end1, _ = block.locate_compact(one, one + 1)
    first, last = (a.ravel() for a in np.triu_indices(n))        # every span [first, last + 1)
    msg, start, end, kept = block.locate_compact(first, last + 1)
    same = msg1[first] == msg1[last]
    assert np.array_equal(kept, same)
    assert np.array_equal(msg, msg1[first][same])
    assert np.array_equal(start, start1[first][same]) and np.array_equal(end, end1[last][same])

# ------------------------------------------------------------------------------------- CLI ---
def test_cli_check_prints_hits_and_suggestions(capsys):
    assert cli_main(["check", "亲，这个宝贝绝对是全网最低价，加我V-信", "--platform", "pdd"]) == 0
    out = capsys.readouterr().out
    assert "【宝贝】" in out and "【全网最低价】" in out
    assert "称商品为宝贝 (platform.term.baobei)" in out and "建议说法" in out and "变体" in out


def test_cli_check_clean_text(capsys):
    assert cli_main(["check", "您好，很高兴为您服务", "--platform", "jd"]) == 0
    assert "没有发现违规" in capsys.readouterr().out


def test_cli_check_unknown_platform(capsys):
    assert cli_main(["check", "不行", "--platform", "wechat"]) == 2
    assert "unknown platform" in capsys.readouterr().err


def test_cli_rules_reports_bad_user_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {id: x.y, category: nope, phrases: [a], suggest: s, source: s}\n", encoding="utf-8")
    assert cli_main(["rules", "--rules", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml:2" in err and "unknown category" in err
    assert cli_main(["rules"]) == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("不行知道微信支付宝加vVxX薇 *-，。😊你们您最好第一全网滚筒qQ宝贝1380")), max_size=16),
                min_size=1, max_size=20),
       st.sampled_from(["taobao", "jd", "pdd", "douyin"]))
def test_engines_agree_on_random_text(texts, platform):
    messages = frame(texts, platform=platform)
    results = [find_violations(messages, engine=engine) for engine in ENGINES]
    for other in results[1:]:
        pd.testing.assert_frame_equal(results[0], other)


def test_a_regex_never_runs_from_one_message_into_the_next():
    """Messages are matched run together; a regex that could start in one message and end in the next
    (您…联系…商家 over 为您处理 + 您联系商家) is looked for again inside its own message."""
    messages = pd.DataFrame({"message_id": ["a", "b"], "session_id": ["s", "s"], "seq": [1, 2], "role": ["agent", "agent"],
                             "platform": ["taobao", "taobao"], "text": ["已经帮您登记了，会尽快为您处理", "您联系商家客服吧"]})
    hits = find_violations(messages)
    assert list(hits["message_id"]) == ["b"] and list(hits["matched"]) == ["您联系商家"]


def test_regex_spans_stay_inside_messages():
    import re

    import pyarrow as pa

    from cs_analytics.textmatch.normalize import normalize_block

    block = normalize_block(pa.array(["还有别的", "吗？好的", "还有其他可以帮您的吗"]))
    pattern = re.compile("还有(其他|别的)[^,.;!?。]{0,12}?(吗|么)")
    spans = block.regex_spans(pattern)
    message, start, end, _ = block.locate_folded(spans[:, 0], spans[:, 1])
    assert list(message) == [2] and block.text(2)[start[0]:end[0]] == "还有其他可以帮您的吗"
    # an optional tail stops at the message end instead of reaching into the next message
    tails = block.regex_spans(re.compile("还有别的[^。]{0,3}"))
    assert [block.original[a:b] for a, b in tails] == ["还有别的"]
    # and a match that needs the next message's words is no match (微信…工作日 over two messages)
    two = normalize_block(pa.array(["可以加我微信详聊", "1-3个工作日到账"]))
    assert not len(two.regex_spans(re.compile("微信[^,.;!?。]{0,14}?(工作日|到账)")))


# ------------------------------------------------------------------------- the numpy engine ---
ENGINE_PATTERNS = ["您好", "好", "为您", "为您服务", "很高兴为您服务", "期待再次为您服务", "您核实", "核实", "核实一下",
                   "不能", "能不能", "亲亲亲亲亲", "亲亲", "😊好", "qq", "q"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("您好为服务很高兴期待再次核实一下不能亲 *-，😊𠀀Qq")), max_size=14),
                max_size=8))
def test_numpy_engine_finds_what_the_callback_engines_find(texts):
    """The vectorised engine reports every (literal, start, end) the other engines report, by end then start;
    empty blocks, one message, emoji and astral characters (never in the compact view) included."""
    import numpy as np

    from cs_analytics.textmatch.engines import engine_class

    block = normalize_block(texts)
    (pid, start, end), _ = engine_class("numpy")(ENGINE_PATTERNS, []).scan(block)
    assert list(zip(end, start)) == sorted(zip(end, start))
    for engine in ENGINES:
        (other_pid, other_start, other_end), _ = engine_class(engine)(ENGINE_PATTERNS, []).scan(block)
        assert sorted(zip(pid, start, end)) == sorted(zip(other_pid, other_start, other_end))
    compact = block.compact
    for p, s, e in zip(pid, start, end):
        assert compact[s:e] == ENGINE_PATTERNS[p]
    assert isinstance(pid, np.ndarray)


def test_numpy_engine_on_nothing():
    from cs_analytics.textmatch.engines import engine_class

    (pid, start, end), ends = engine_class("numpy")(["您好"], []).scan(normalize_block([]))
    assert not len(pid) and ends == []
    (pid, start, end), _ = engine_class("numpy")([], []).scan(normalize_block(["您好"]))
    assert not len(pid)


def _same_block(a, b):
    import dataclasses

    import numpy as np

    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert (np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y), f.name


def test_block_slices_and_shared_blocks_equal_a_block_of_their_own():
    """A slice of a block (and a block from SharedBlocks) is the block normalize_block makes of those texts:
    empty and missing texts, emoji and other surrogate pairs, separators, full width and 繁体."""
    import numpy as np
    import pyarrow as pa

    from cs_analytics.textmatch.normalize import SharedBlocks

    texts = pa.array(["", "支 付 宝😀", None, "微-信 ＡＢＣ", "😀😀 * x", "", "繁體字 a b", "𠀀-𠀁", "plain"])
    whole = normalize_block(texts)
    for first in range(len(texts) + 1):
        for stop in range(first, len(texts) + 1):
            _same_block(whole.slice(first, stop), normalize_block(texts.slice(first, stop - first)))
    shared = SharedBlocks(texts)
    for rows in ([8, 1, 3, 4, 7], [1, 3, 4], [3, 1], [2], []):
        _same_block(shared.block(np.array(rows, dtype=np.int64)), normalize_block(texts.take(pa.array(rows, pa.int64()))))
