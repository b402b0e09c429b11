"""The rulebook as data: coverage of the seeds, validation errors, user layers."""
from __future__ import annotations

import re
import textwrap

import pandas as pd
import pytest

from cs_analytics.findings.violations import check_text, find_violations
from cs_analytics.findings.rulebook import RulebookError, check_regex, load_rulebook
from cs_analytics.base.schema import PLATFORMS
from cs_analytics.textmatch.normalize import normalize

REQUIRED_CATEGORIES = {
    "service_taboo": {"shirking", "contempt", "impatience", "rhetorical", "command", "refusal", "filler"},
    "absolute_claim": set(), "efficacy_exaggeration": set(), "third_party_platform": set(),
    "off_platform_transaction": set(), "review_inducement": set(), "abuse": set(), "privacy_leak": set(),
    "informal_address": set(),
}
# Example phrases named by the issue and the seeds; each must fire somewhere in the default rulebook.
SEED_PHRASES = [
    "不知道", "不清楚", "我也没办法", "这不是我的错", "这不是我们的问题", "你去找", "我说的您是不会理解的", "你懂不懂",
    "用不起就不要用", "刚才已经说过了怎么还问", "你问我我问谁", "您不告诉我我怎么知道", "你有没有搞错", "你自己看吧",
    "您就直接按我说的做", "不行", "这是规定", "唯一", "绝对", "顶级", "万能", "百分百", "首发", "永久", "全网", "终极", "国家级",
    "世界级", "驰名商标", "仅此一次", "最后一波", "正品", "国际品质", "行业第一", "最好的", "淘宝", "天猫", "京东", "拼多多",
    "蘑菇街", "抖音", "微信", "QQ", "支付宝", "线下", "转账", "到付", "加微信", "加V", "私聊", "刷单", "shua单", "好评返现",
    "晒图返现", "五星好评送", "宝贝",
]


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook()


def test_required_categories_and_subcategories(rulebook):
    for category, subs in REQUIRED_CATEGORIES.items():
        assert category in rulebook.categories, category
        used = {r.subcategory for r in rulebook.rules if r.category == category}
        assert used, f"no rule in category {category}"
        assert subs <= used, f"{category} lacks subcategories {subs - used}"


def test_every_rule_has_source_and_suggestion(rulebook):
    for rule in rulebook.rules:
        assert rule.source and rule.suggest, rule.id
        assert "seeds/" in rule.source or "广告法" in rule.source, f"{rule.id}: cite the seed document"


def test_every_rule_has_its_own_short_chinese_label(rulebook):
    """Charts, tables and the deck name rules by their labels, so each has one of its own, short and Chinese."""
    labels = [rule.label for rule in rulebook.rules]
    assert len(set(labels)) == len(labels), sorted(label for label in labels if labels.count(label) > 1)
    for rule in rulebook.rules:
        assert 2 <= len(rule.label) <= 12 and re.search(r"[\u4e00-\u9fff]", rule.label), (rule.id, rule.label)
    table = rulebook.table()
    assert list(table.columns[:2]) == ["rule_id", "rule_label"]
    assert dict(zip(table["rule_id"], table["rule_label"]))["taboo.shirking.dont_know"] == "推诿:不知道"


@pytest.mark.parametrize("phrase", SEED_PHRASES)
def test_seed_phrase_fires_somewhere(phrase):
    fired = {p: len(check_text(f"亲，{phrase}。", p)) for p in PLATFORMS}
    assert any(fired.values()), f"{phrase!r} fires on no platform"


def judge(rows: list[dict], rulebook) -> set[tuple[str, str]]:
    """Run find_violations once over many one-message cases; return {(case id, rule id)}."""
    frame = pd.DataFrame(rows)
    frame["message_id"] = frame.index.astype(str)
    frame["session_id"] = frame["message_id"]
    frame["role"] = "agent"
    hits = find_violations(frame, rulebook)
    return set(zip(hits["message_id"].astype(str), hits["rule_id"].astype(str)))


def test_every_phrase_fires_its_own_rule(rulebook):
    rows = [{"rule": rule.id, "phrase": phrase, "platform": sorted(rule.platforms)[0],
             "text": "。".join([f"亲，{phrase}"] * rule.min_repeats) + "。"}
            for rule in rulebook.rules for phrase in rule.phrases + rule.variants]
    fired = judge(rows, rulebook)
    failures = [(r["rule"], r["phrase"], r["platform"]) for i, r in enumerate(rows) if (str(i), r["rule"]) not in fired]
    assert not failures, failures


def test_every_exception_is_not_a_violation(rulebook):
    rows = [{"rule": rule.id, "phrase": exc.phrase, "platform": platform, "text": f"亲，{exc.phrase}。"}
            for rule in rulebook.rules for exc in rule.exceptions
            for platform in sorted(exc.platforms or rule.platforms) if platform in rule.platforms]
    assert rows
    fired = judge(rows, rulebook)
    failures = [(r["rule"], r["phrase"], r["platform"]) for i, r in enumerate(rows) if (str(i), r["rule"]) in fired]
    assert not failures, failures


def test_no_phrase_is_claimed_twice_in_one_category(rulebook):
    seen = {}
    for rule in rulebook.rules:
        for key, written, _ in rule.patterns():
            owner = seen.setdefault((rule.category, key), rule.id)
            assert owner == rule.id, f"{written!r} is in both {owner} and {rule.id}; one would shadow the other"


def test_platform_names_depend_on_platform():
    assert check_text("淘宝上也有", "taobao").empty
    assert not check_text("淘宝上也有", "pdd").empty
    assert check_text("宝贝已发出", "tmall").empty
    assert set(check_text("宝贝已发出", "pdd")["rule_id"].astype(str)) == {"platform.term.baobei"}


def test_version_changes_with_rules(rulebook, tmp_path):
    layer = tmp_path / "mine.yaml"
    layer.write_text("override:\n  taboo.refusal.no: {severity: high}\n", encoding="utf-8")
    assert load_rulebook(layer).version != rulebook.version
    assert load_rulebook().version == rulebook.version


# --------------------------------------------------------------------------------- layering ---
def write(tmp_path, text, name="mine.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_user_layer_adds_disables_and_overrides(tmp_path):
    path = write(tmp_path, """
        categories:
          shop_policy: {label: 店铺禁语, severity: medium, source: 我们店的培训手册 2026-10}
        rules:
          - id: shop.no_promise_date
            label: 保证到货日期
            category: shop_policy
            phrases: [保证明天到]
            suggest: 预计X天送达，具体以物流为准。
            source: 店铺培训手册 第3页
        disable: [taboo.refusal.no]
        override:
          absolute.unverifiable: {severity: medium, suggest: 我们有品牌授权书。}
        """)
    rulebook = load_rulebook(path)
    assert rulebook.disabled == ["taboo.refusal.no"]
    assert rulebook.by_id("absolute.unverifiable").severity == "medium"
    assert rulebook.by_id("absolute.unverifiable").suggest == "我们有品牌授权书。"
    hits = check_text("不行，保证明天到", "jd", rulebook=rulebook)
    assert list(hits["rule_id"].astype(str)) == ["shop.no_promise_date"]


def test_an_override_keeps_the_rules_label_unless_it_gives_one(tmp_path):
    path = write(tmp_path, """
        disable: [taboo.refusal.no]
        rules:
          - {id: shop.refusal, label: 生硬拒绝:不行, category: service_taboo, phrases: [不给退], suggest: s, source: s}
        override:
          absolute.unverifiable: {severity: medium}
          absolute.first: {label: 自称第一}
        """)
    rulebook = load_rulebook(path)
    assert rulebook.by_id("absolute.unverifiable").label == "无法考证:正品"          # inherited
    assert rulebook.by_id("absolute.first").label == "自称第一"
    assert rulebook.by_id("shop.refusal").label == "生硬拒绝:不行"               # the disabled rule's label is free
    hits = check_text("不给退", "jd", rulebook=rulebook)
    assert list(hits["rule_label"].astype(str)) == ["生硬拒绝:不行"]


@pytest.mark.parametrize("body, fragments", [
    ("""
     rules:
       - {id: taboo.refusal.no, label: 我的规则, category: service_taboo, phrases: [x], suggest: s, source: s}
     """, ["duplicate rule id", "taboo.refusal.no", "mine.yaml:3", "override"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: nonsense, phrases: [x], suggest: s, source: s}
     """, ["unknown category 'nonsense'", "my.rule", "mine.yaml:3"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, regex: '(abc', suggest: s, source: s}
     """, ["invalid regex", "my.rule"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, regex: '(a+)+b', suggest: s, source: s}
     """, ["nests unbounded repeats", "my.rule"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, regex: '(a)\\1', suggest: s, source: s}
     """, ["backreferences", "my.rule"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s}
     """, ["'source' is required", "my.rule"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, platform: pdd}
     """, ["unknown field", "platform"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, platforms: [wechat]}
     """, ["unknown platform", "wechat"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, severity: huge}
     """, ["severity 'huge'"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [" * "], suggest: s, source: s}
     """, ["empty after normalisation"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, effective_from: '2026-13-01'}
     """, ["effective_from", "YYYY-MM-DD"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, unless: [no_such_set]}
     """, ["unknown phrase set 'no_such_set'", "my.rule", "phrase_sets"]),
    ("""
     phrase_sets:
       empty: {source: s}
     """, ["phrase set 'empty'", "phrases"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, max_chars: 0}
     """, ["max_chars", "my.rule"]),
    ("""
     rules:
       - {id: my.rule, label: 我的规则, category: abuse, phrases: [x], suggest: s, source: s, exception_regex: [{pattern: y, platforms: [wechat]}]}
     """, ["exception_regex", "unknown platform", "wechat"]),
    ("""
     rules:
       - {id: my.rule, category: abuse, phrases: [x], suggest: s, source: s}
     """, ["'label' is required", "my.rule", "mine.yaml:3", "add `label: <short Chinese name>`"]),
    ("""
     rules:
       - {id: my.rule, label: "  ", category: abuse, phrases: [x], suggest: s, source: s}
     """, ["'label' is required", "my.rule", "mine.yaml:3", "add `label: <short Chinese name>`"]),
    ("""
     rules:
       - {id: my.rule, label: 推诿:不知道, category: abuse, phrases: [x], suggest: s, source: s}
     """, ["mine.yaml:3", "my.rule", "label '推诿:不知道' is already the label of rule 'taboo.shirking.dont_know'",
           "service_taboo.yaml", "give each rule its own label"]),
    ("""
     override:
       taboo.refusal.no: {label: ""}
     """, ["mine.yaml:3", "taboo.refusal.no", "'label' is required", "add `label: <short Chinese name>`"]),
    ("""
     override:
       taboo.refusal.no: {label: 推诿:不知道}
     """, ["mine.yaml:3", "taboo.refusal.no", "already the label of rule 'taboo.shirking.dont_know'"]),
    ("disable: [no.such.rule]\n", ["cannot disable unknown rule 'no.such.rule'"]),
    ("rules: [\n", ["not valid YAML"]),
    ("hello: 1\n", ["unknown top-level key", "hello"]),
])
def test_validation_errors_name_file_line_rule(tmp_path, body, fragments):
    path = write(tmp_path, body)
    with pytest.raises(RulebookError) as info:
        load_rulebook(path)
    message = str(info.value)
    assert "mine.yaml" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in: {message}"


def test_missing_rule_file_is_a_clear_error(tmp_path):
    with pytest.raises(RulebookError, match="no such rulebook file"):
        load_rulebook(tmp_path / "nope.yaml")


@pytest.mark.parametrize("pattern", [r"1[3-9]\d{9}", r"(?:ab|cd)+x", r"a{2,5}b*"])
def test_linear_regexes_are_accepted(pattern):
    check_regex(pattern)


@pytest.mark.parametrize("pattern", [r"(a+)+", r"(a*)*b", r"(?:x{1,50})+"])
def test_catastrophic_regexes_are_rejected(pattern):
    with pytest.raises(ValueError, match="nests unbounded repeats"):
        check_regex(pattern)


def test_pinyin_variants_are_generated(rulebook):
    wechat = rulebook.by_id("platform.social.wechat")
    assert {"weixin", "wx"} <= set(wechat.variants)
    assert normalize("ＷＸ") == "wx"


def test_rulebook_version_is_the_same_in_every_process():
    """The version traces a deck to its rules: it must not depend on Python's per-process string hashing
    (rules hold sets of platforms, also inside their exception contexts)."""
    import os
    import subprocess
    import sys

    versions = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", "from cs_analytics import load_rulebook; print(load_rulebook().version)"],
                              capture_output=True, text=True, env=env, check=True)
        versions.add(done.stdout.strip())
    assert len(versions) == 1


def test_unless_context_in_the_message_or_the_previous_one(tmp_path):
    """``unless``: context elsewhere in the message cancels a match (not context inside the match itself);
    ``unless_previous``: context in the agent's previous message of the session cancels it too."""
    path = write(tmp_path, """
        phrase_sets:
          sorry: {phrases: [抱歉], source: test}
          why: {phrases: [因为], source: test}
          can: {phrases: [可以], source: test}
        categories:
          shop_policy: {label: 店铺禁语, severity: medium, source: test}
        rules:
          - {id: my.refusal, label: 我的拒绝, category: shop_policy, phrases: [不可以], unless: [sorry, can], unless_previous: [why],
             max_chars: 12, suggest: s, source: s}
        """)
    rulebook = load_rulebook(path)
    fired = lambda text: "my.refusal" in set(check_text(text, "jd", rulebook=rulebook)["rule_id"].astype(str))  # noqa: E731
    assert fired("不可以的哦")                      # 可以 inside 不可以 is not an alternative
    assert not fired("抱歉，不可以的哦")
    assert not fired("不可以，您可以换个颜色")
    assert not fired("这个不可以的哦，订单已经出库了好几天了")   # longer than max_chars: not a bare reply
    messages = pd.DataFrame({
        "message_id": ["a1", "a2", "b1", "b2"], "session_id": ["s1", "s1", "s2", "s2"], "seq": [1, 2, 1, 2],
        "role": ["agent"] * 4, "platform": ["jd"] * 4,
        "text": ["因为已经出库了", "不可以的哦", "请稍等", "不可以的哦"]})
    hits = find_violations(messages, rulebook)
    assert set(hits.loc[hits["rule_id"].astype(str) == "my.refusal", "message_id"]) == {"b2"}


def test_phrase_sets_of_later_files_extend_earlier_ones(tmp_path):
    path = write(tmp_path, """
        phrase_sets:
          offer_to_check: {phrases: [等我问问], source: 我们店}
        """)
    rulebook = load_rulebook(path)
    assert "等我问问" in rulebook.phrase_sets["offer_to_check"].phrases
    assert "帮您核实" in rulebook.phrase_sets["offer_to_check"].phrases
    assert not check_text("不知道，等我问问", "jd", rulebook=rulebook)["rule_id"].astype(str).str.startswith("taboo.shirking.dont").any()
    assert check_text("不知道，等我问问", "jd")["rule_id"].astype(str).str.startswith("taboo.shirking.dont").any()


def test_exception_regex_limited_to_platforms():
    assert check_text("微信零钱3个工作日到账", "jd").empty
    assert set(check_text("微信零钱3个工作日到账", "pdd")["rule_id"].astype(str)) == {"platform.social.wechat"}


def test_a_rulebook_read_from_the_disk_cache_equals_the_one_built(tmp_path, monkeypatch):
    from cs_analytics.findings import rulebook as rb

    monkeypatch.setenv("CS_ANALYTICS_CACHE", str(tmp_path / "cache"))
    layer = tmp_path / "mine.yaml"
    layer.write_text(textwrap.dedent("""
        override:
          absolute.first: {severity: low}
    """), encoding="utf-8")
    files = rb.layer_files(rb.default_rule_files(), [layer], True)[0]
    built = rb._build(files)
    rb._load.cache_clear()
    first = rb._load(files, (0,))                     # builds and writes the cache
    assert len(list((tmp_path / "cache").glob("rulebook-*.pickle"))) == 1
    rb._load.cache_clear()
    again = rb._load(files, (0,))                     # read back
    assert again is not first and again.rules == built.rules and again.version == built.version
    assert again.categories == built.categories and again.phrase_sets == built.phrase_sets
    layer.write_text(layer.read_text(encoding="utf-8").replace("low", "medium"), encoding="utf-8")
    rb._load.cache_clear()
    changed = rb._load(files, (1,))
    assert changed.by_id("absolute.first").severity == "medium", "a changed file is another cache entry"
    assert len(list((tmp_path / "cache").glob("rulebook-*.pickle"))) == 2
    monkeypatch.setenv("CS_ANALYTICS_CACHE", str(layer / "not-a-folder"))        # unwritable: built each time
    rb._load.cache_clear()
    assert rb._load(files, (2,)).rules == changed.rules
    with pytest.raises(RulebookError, match="no such rulebook file"):
        load_rulebook(tmp_path / "missing.yaml")
    rb._load.cache_clear()


def test_a_compiled_rulebook_read_from_the_disk_cache_judges_as_the_one_compiled(tmp_path, monkeypatch):
    """The compiled rulebook (automata, Hyperscan databases, regexes) is kept on disk by the rules' version,
    engine and code; read back in a later process it finds the same hits, and a corrupt file is rebuilt."""
    from cs_analytics.findings import violations

    monkeypatch.setenv("CS_ANALYTICS_CACHE", str(tmp_path / "cache"))
    rulebook = load_rulebook()
    texts = ["加我微信吧", "你好，不知道哦", "我的邮箱是[邮箱x]", "13812345678", "", "亲，给个好评哦!!"]
    frame = pd.DataFrame({"message_id": [f"m{i}" for i in range(len(texts))], "session_id": "s", "role": "agent",
                          "platform": "taobao", "text": texts})
    violations._compile.cache_clear()
    built = violations.find_violations(frame, rulebook)
    files = list((tmp_path / "cache").glob("compiled-rulebook-*.pickle"))
    assert len(files) == 1
    violations._compile.cache_clear()
    compiled = violations.compile_rulebook(rulebook)
    assert compiled.rulebook is rulebook
    pd.testing.assert_frame_equal(violations.find_violations(frame, rulebook), built)
    files[0].write_bytes(b"not a pickle")
    violations._compile.cache_clear()
    pd.testing.assert_frame_equal(violations.find_violations(frame, rulebook), built)
    violations._compile.cache_clear()


def test_matched_is_the_original_text_of_the_span_around_emoji_and_astral_characters():
    """The matched texts are cut out of the original texts as code points, at once: spans after emoji,
    astral characters and full-width or spaced evasions read back exactly as ``text[start:end]``."""
    texts = ["😊😊加我 微 信吧", "𠀀加我vx", "加我ｗｘ好吗🙂", "", "你好你好"]
    frame = pd.DataFrame({"message_id": [f"m{i}" for i in range(len(texts))], "session_id": "s", "role": "agent",
                          "platform": "taobao", "text": texts})
    hits = find_violations(frame)
    assert len(hits) >= 4
    for _, hit in hits.iterrows():
        text = texts[int(hit["message_id"][1:])]
        assert hit["matched"] == text[hit["start"]:hit["end"]]
        assert hit["evasion"] == (hit["matched"] != hit["phrase"]) or hit["evasion"]
    assert str(hits["matched"].dtype) == "string" and hits["evasion"].dtype == bool
