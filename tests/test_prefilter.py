"""textmatch.prefilter: RE2 tells which messages can match; Python then scans only those, with the same spans."""
import re

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st

from cs_analytics.findings.service_phrases import load_service_phrases
from cs_analytics.findings.process import process_spec
from cs_analytics.textmatch.normalize import fold, fold_table, normalize_block, spans_within
from cs_analytics.textmatch.engines import PhraseSet
from cs_analytics.textmatch.prefilter import (_unfolded, block_candidates, candidate_messages, candidate_spans,
                                              has_lookarounds, match_reach, prefiltered_spans, prefiltered_spans_each,
                                              re2_superset, required_literals)

PATTERNS = [
    r"(?:\d{1,3}|[一二三]{1,3}|\[数字x\])\s{0,2}(?:个)?\s{0,2}(?:小时|天|h(?![a-z]))",
    r"\d{1,2}\s?点(?:前|之前)",
    r"(?<=您)好[^,.;!?。]{0,3}?(吗|呢)",
    r"还有[^,.;!?。]{0,4}?(帮|吗)",
    r"\bok\b",
    r"^您",
    r"好$",
    r"[^\D]h",
    r"\W{2}",
    r"您.{1,5}?吗",
    r"x+y",                                   # unbounded: scanned whole
]


def _texts():
    return st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("您好吗呢还有帮一二三个小时天点前之 h ok x y12٣\n，。😊𠀀[数字]")),
                                                  max_size=12)), max_size=10)


@settings(max_examples=200, deadline=None)
@given(_texts())
def test_prefiltered_spans_equal_the_whole_scan(texts):
    """On awkward input (empty and missing texts, emoji, astral characters, newlines, matches that could run
    from one message into the next, lookarounds at message ends) scanning only RE2's candidates gives the
    whole scan's spans."""
    block = normalize_block(pa.array(texts, type=pa.string()))
    for pattern in map(re.compile, PATTERNS):
        whole = block.regex_spans(pattern)
        assert np.array_equal(prefiltered_spans(block, pattern, sparse_below=2.0), whole), pattern.pattern
        found = candidate_messages(block.folded_texts, pattern.pattern)
        if found is not None and len(whole):                  # a superset: every message with a match
            owner = np.searchsorted(block.starts, whole[:, 0], side="right") - 1
            assert set(owner) <= set(found.tolist())


# characters that fold into others (full width, upper case, traditional) next to what they fold into
FOLDING = list("１２Ｈ個時點天日ｘ×Ｘ？？，,．HＸ\u3000\t")


def _folding_texts():
    return st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(
        list("您好吗呢还有帮一二三个小时天点前之 h ok x y12٣\n，。😊𠀀[数字]") + FOLDING), max_size=12)), max_size=10)


@settings(max_examples=300, deadline=None)
@given(_folding_texts())
def test_candidates_of_the_original_texts_equal_the_whole_scan(texts):
    """RE2 asked of the texts before folding (classes widened to what folds into them), for every pattern at
    once and then each: a superset of the messages with a match, and the spans of the whole scan; the
    same for a block made from a list (asked of its folded texts) and for a slice of a block."""
    patterns = list(map(re.compile, PATTERNS))
    block = normalize_block(pa.array(texts, type=pa.string()))
    assert block.source is not None
    listed = normalize_block([t or "" for t in texts])
    assert listed.source is None
    for made in (block, listed, block.slice(1, max(1, len(texts) - 1)) if len(texts) > 1 else block):
        wholes = [made.regex_spans(pattern) for pattern in patterns]
        spans = prefiltered_spans_each(made, patterns, sparse_below=2.0)
        assert all(np.array_equal(a, b) for a, b in zip(spans, wholes))
        for pattern, whole, found in zip(patterns, wholes, block_candidates(made, [p.pattern for p in patterns])):
            one = candidate_messages(made.folded_texts, pattern.pattern)
            assert (found is None) == (one is None), pattern.pattern
            if found is not None and len(whole):
                owner = np.searchsorted(made.starts, whole[:, 0], side="right") - 1
                assert set(owner) <= set(found.tolist()), pattern.pattern


def test_slices_keep_their_source_texts():
    texts = ["ＡＢ體😊x", "", None, "您好\n", "𠀀亲"]
    block = normalize_block(pa.chunked_array([texts[:2], texts[2:]], type=pa.string()))
    assert block.source.to_pylist() == texts
    assert block.slice(1, 4).source.to_pylist() == texts[1:4] and block.slice(2, 2).source.to_pylist() == []


def test_unfolded_ranges_are_every_character_folding_into_them():
    table = fold_table()
    for ranges in (((ord("h"), ord("h")),), ((ord("0"), ord("9")), (ord("5"), ord("6"))), ((ord("个"), ord("个")),),
                   ((0, 0x2FF), (0x1F600, 0x1F64F)), ()):
        inside = lambda c: any(a <= c <= b for a, b in ranges)          # noqa: E731
        unfolded = _unfolded(ranges)
        expected = {c for c in range(0x10000) if inside(int(table[c]))}
        assert {c for a, b in unfolded for c in range(a, min(b, 0xFFFF) + 1)} == expected
        assert [r for r in unfolded if r[1] > 0xFFFF] == [r for r in ranges if r[0] > 0xFFFF]
    assert fold("Ｈ個") == "h个" and re2_superset("h个", unfold=True) != re2_superset("h个")


def test_folded_texts_are_each_messages_folded_text():
    texts = ["ＡＢ體😊x", "", None, "您好\n", "𠀀亲"]
    block = normalize_block(pa.array(texts, type=pa.string()))
    assert block.folded_texts.to_pylist() == [block.folded[a:a + n] for a, n in zip(block.starts, block.lengths)]
    assert normalize_block(pa.array([], type=pa.string())).folded_texts.to_pylist() == []


def test_folded_runs_are_the_messages_folded_texts_run_together():
    texts = ["ＡＢ體😊x", "", None, "您好\n", "𠀀亲"]
    block = normalize_block(pa.array(texts, type=pa.string()))
    for messages in ([0, 1, 2, 3, 4], [4, 0], [3], [], [2, 2]):
        messages = np.array(messages, dtype=np.int64)
        assert block.folded_runs(messages) == "".join(block.folded[a:a + n] for a, n in
                                                       zip(block.starts[messages], block.lengths[messages]))
    lone = normalize_block(["a\ud800b", "😊"])                 # a list may hold a lone surrogate
    assert lone.folded_runs(np.array([1, 0])) == "😊a\ud800b"


def test_superset_translation():
    assert re2_superset(r"(a)\1") is None, "back-references have no RE2 form"
    assert re2_superset(r"(?i)ab") is None
    assert re2_superset(r"a(?=b)") == "[a]" and re2_superset(r"^a\b$") == "[a]"
    assert match_reach(r"x+") is None and match_reach(r"a$") is None
    assert match_reach(r"ab(?!c)") == 4 and match_reach(r"a{1,3}") == 4


@pytest.mark.parametrize("pattern", [p for spec in (load_service_phrases(), process_spec()["phrases"])
                                     for entry in spec.values() for p in entry.get("regex") or []])
def test_every_packaged_regex_has_an_re2_form(pattern):
    assert re2_superset(pattern) is not None
    assert pa.compute.match_substring_regex(pa.array(["x"]), re2_superset(pattern)) is not None


# required literals: each match holds one literal of every set; the phrase scan's messages holding them are
# the only ones a literal-prefiltered scan looks at (complaints' taxonomy regexes, and awkward ones)
LITERAL_PATTERNS = [
    r"[0-9一二三]+天了", r"[0-9一二三]+天(了|都)?(还)?(没|不)", r"(一直|总是)(没|不)", r"!{2,}", r"[?][!]|[!][?]",
    r"改[^，。!?,]{0,4}地址", r"(支持|能用)[^,.!?。]{0,3}?(退|换货)[^,.!?。]{0,4}", r"x+y", r"(ab|cd)+e?",
    r"a(b|c){0,2}d", r"您.{1,5}?吗", r"(?<=您)好[^,]{0,3}", r"好$", r"\bok\b", r"(长|短)了[0-9]+(厘米|cm)",
]


LITERAL_ALPHABET = list("天了都还没不一二三12直总是!?改地址，。,支持能用退换货xyabcde您好吗ok长短厘米cm 😊𠀀\n")


def _literal_texts():
    return st.lists(st.one_of(st.none(), st.text(alphabet=st.sampled_from(LITERAL_ALPHABET), max_size=14)), max_size=10)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("天了都还没不一二三12直总是!?改地址，支持能用退换货xyabcde您好吗ok长短厘米cm ")),
               max_size=40))
def test_every_match_holds_a_literal_of_each_required_set(text):
    for pattern in LITERAL_PATTERNS:
        sets = required_literals(pattern)
        for match in re.finditer(pattern, text):
            assert all(any(literal in match.group() for literal in literals) for literals in sets), (pattern, match)


@settings(max_examples=300, deadline=None)
@given(_literal_texts())
def test_scanning_the_messages_holding_required_literals_equals_the_whole_scan(texts):
    """On awkward input (empty and missing texts, emoji, astral characters, matches that run from one
    message into the next, unbounded repeats, lookarounds) scanning only the messages where the phrase
    scan found a literal of every required set gives the whole scan's spans."""
    block = normalize_block(pa.array(texts, type=pa.string()))
    for pattern in map(re.compile, LITERAL_PATTERNS):
        sets = [s for s in required_literals(pattern.pattern) if all(map(PhraseSet.finds_every, s))]
        holding = None
        if sets:
            found = PhraseSet([(k, literal) for k, literals in enumerate(sets) for literal in literals]).find(block)
            label = np.array(PhraseSet([(k, literal) for k, literals in enumerate(sets)
                                        for literal in literals]).labels, dtype=np.int64)[found["entry"]]
            holding = np.arange(len(block))
            for k in range(len(sets)):
                holding = np.intersect1d(holding, found["msg"][label == k])
        assert np.array_equal(candidate_spans(block, pattern, holding, sparse_below=2.0), block.regex_spans(pattern)), \
            pattern.pattern


def test_required_literals():
    assert required_literals(r"改[^，]{0,4}地址") == [("改",), ("地址",)]
    assert required_literals(r"(一直|总是)(没|不)") == [("一直不", "一直没", "总是不", "总是没")]
    assert required_literals(r"天(了)?(没|不)") == [("天不", "天了不", "天了没", "天没")]
    assert required_literals(r"!{2,}") == [("!!",)] and required_literals(r"[?][!]|[!][?]") == [("!?", "?!")]
    assert required_literals(r"(?i)abc") == [] and required_literals(r"a?") == [] and required_literals(r"(ab)*c") == [("c",)]
    assert has_lookarounds(r"a(?=b)") and has_lookarounds(r"\bok") and has_lookarounds(r"好$") and not has_lookarounds(r"x+y")
    assert PhraseSet.finds_every("天了") and not PhraseSet.finds_every("cm") and not PhraseSet.finds_every("a b")


def _each_message_scanned(pattern, text, starts, lengths, messages=None):
    """What ``spans_within`` promises, the slow way: each message scanned from its own start over the whole
    text (lookarounds see the neighbours); a match running past the message's end is looked for again
    inside the message, and the message is done."""
    out = []
    for i in range(len(starts)) if messages is None else messages.tolist():
        start, end = int(starts[i]), int(starts[i] + lengths[i])
        for m in pattern.finditer(text, start):
            if m.start() > end or (m.start() == end and m.end() > end):
                break
            if m.end() <= end:
                out.append(m.span())
                continue
            out.extend(n.span() for n in pattern.finditer(text, m.start(), end))
            break
    return out


def _spans(found, starts, lengths) -> set:
    """Spans as a set, without empty matches at a message's edge (which message such a match belongs to
    is a matter of convention)."""
    edges = set(starts.tolist()) | set((starts + lengths).tolist())
    return {tuple(span) for span in np.asarray(found).reshape(-1, 2).tolist() if span[0] != span[1] or span[0] not in edges}


@settings(max_examples=300, deadline=None)
@given(_folding_texts(), st.lists(st.integers(0, 9), max_size=6))
def test_spans_within_scans_each_message_from_its_start(texts, chosen):
    """The scan (whole text, or runs of some messages each as far as the pattern's reach) finds what
    scanning each message from its own start finds, on awkward input: empty and missing texts, emoji,
    astral characters, lookarounds, anchors, matches running from one message into the next (the scan
    then starts again at the next message: no two spans overlap), unbounded repeats, empty matches.
    (No one scans an empty block.)"""
    if not texts:
        return
    block = normalize_block(pa.array(texts, type=pa.string()))
    messages = np.unique(np.array([c for c in chosen if c < len(texts)], dtype=np.int64))
    for pattern in map(re.compile, PATTERNS + [r"\s*", r"(?<=\d)天|天(?=\d)", r"x*", r"(?!a).{2}", r"\W{2}"]):
        for within, reach in ((None, None), (messages, match_reach(pattern.pattern)), (messages, None)):
            found = spans_within(pattern, block.folded, block.starts, block.lengths, within, reach)
            assert np.all(np.diff(found[:, 0]) >= 0) and np.all(found[1:, 0] >= found[:-1, 1]), pattern.pattern
            wanted = _each_message_scanned(pattern, block.folded, block.starts, block.lengths, within)
            assert _spans(found, block.starts, block.lengths) == _spans(wanted, block.starts, block.lengths), \
                pattern.pattern


def test_a_match_across_messages_does_not_leave_overlapping_spans():
    """``\\W{2}`` over "，" then "[[，": the whole scan's "，[" runs across the boundary, so the second
    message is scanned from its start ("[[") and "[，" (which overlaps it) is no match."""
    block = normalize_block(pa.array(["，", "[[，"], type=pa.string()))
    pattern = re.compile(r"\W{2}")
    assert block.regex_spans(pattern).tolist() == [[1, 3]]
    assert prefiltered_spans(block, pattern, sparse_below=2.0).tolist() == [[1, 3]]


def test_a_block_of_non_string_arrow_texts_is_asked_through_its_folded_texts():
    texts = pa.array(["3天", None, "３天"]).dictionary_encode()
    block = normalize_block(texts)
    assert block.source is None
    pattern = re.compile(PATTERNS[0])
    assert np.array_equal(prefiltered_spans(block, pattern, sparse_below=2.0), block.regex_spans(pattern))
