"""The Tokenizer: own jieba instance, domain dictionary, stopwords, rjieba parity; quiet at import."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from cs_analytics.tables.terms import Tokenizer, default_tokenizer

ENGINES = ["jieba", "rjieba"]


@pytest.fixture(scope="module", params=ENGINES)
def tokenizer(request):
    return Tokenizer(engine=request.param)


def test_rjieba_is_installed_so_the_fast_path_is_tested():
    import rjieba  # noqa: F401  (a dependency in pyproject.toml; the parity test below needs it)

    assert default_tokenizer().engine == "rjieba"


def test_domain_words_stay_whole(tokenizer):
    tokens = tokenizer.cut("运费险怎么赔，好评返现还有吗，价保申请了没收到")
    for word in ("运费险", "好评返现", "价保", "没收到"):
        assert word in tokens, (word, tokens)


def test_text_is_folded_and_punctuation_dropped(tokenizer):
    assert tokenizer.cut("質量問題！！ＯＫ") == ["质量问题", "ok"]
    assert tokenizer.cut("型号A1B2，3天") == ["型号", "a1b2", "3", "天"]


def test_terms_drop_stopwords_digits_and_single_characters(tokenizer):
    terms = tokenizer.terms("亲，我的快递怎么还没到啊，都3天了")
    assert "的" not in terms and "亲" not in terms and "3" not in terms and "啊" not in terms
    assert "快递" in terms


def test_term_counts_are_sorted(tokenizer):
    counts = tokenizer.term_counts(["快递在哪", "快递几点到", "发票", None])
    assert counts.index[0] == "快递" and counts.iloc[0] == 2


def test_term_counts_cut_each_distinct_text_once_and_count_like_every_text(tokenizer):
    from collections import Counter

    texts = ["快递在哪", None, "发票", "快递在哪", "", "🙂快递几点到🙂", float("nan"), "发票", "快递在哪"]
    naive: Counter = Counter()
    for text in texts:
        if isinstance(text, str):
            naive.update(tokenizer.terms(text))
    expected = pd.Series(naive, dtype="int64", name="count").sort_values(ascending=False, kind="stable")
    expected.index.name = "term"
    pd.testing.assert_series_equal(tokenizer.term_counts(texts), expected)     # counts and the order of ties
    assert tokenizer.term_counts([]).empty and tokenizer.term_counts([None]).empty


def test_extra_words_and_own_stopwords():
    t = Tokenizer(extra_words=["小鹿母婴"], stopwords={"小鹿母婴"}, engine="jieba")
    assert "小鹿母婴" in t.cut("小鹿母婴专营店")
    assert "小鹿母婴" not in t.terms("小鹿母婴专营店")


def test_unknown_engine():
    with pytest.raises(ValueError, match="unknown tokenizer engine"):
        Tokenizer(engine="thulac")


def test_jieba_and_rjieba_give_identical_tokens_on_the_sample(sample_load):
    texts = sample_load.messages["text"].dropna().astype(str).drop_duplicates().tolist()
    slow, fast = Tokenizer(engine="jieba"), Tokenizer(engine="rjieba")
    different = [(t, slow.cut(t), fast.cut(t)) for t in texts if slow.cut(t) != fast.cut(t)]
    assert len(texts) > 500 and not different, different[:3]


def test_import_and_first_use_are_quiet():
    code = ("import cs_analytics; from cs_analytics.tables.terms import Tokenizer; "
            "print(Tokenizer(engine='jieba').cut('快递还没到'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == "", done.stderr
    assert "快递" in done.stdout


def test_own_instance_leaves_the_global_jieba_alone():
    import jieba

    Tokenizer(engine="jieba", extra_words=["测试专用词语"]).cut("测试专用词语")
    assert "测试专用词语" not in jieba.dt.FREQ
