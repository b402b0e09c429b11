"""Word segmentation for term counts and word clouds (never for rule matching): jieba, or rjieba when
installed, with the domain dictionary, the rulebook's and the taxonomy's short terms, and stopwords."""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import config
from ..findings.complaints import load_taxonomy
from ..findings.rulebook import load_rulebook
from ..textmatch.normalize import fold

_HAN_OR_WORD = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff]+)|([a-z][a-z0-9]*|[0-9]+)")
DEFAULT_WORD_FREQ = 5000
TOKENIZER_ENGINES = ("auto", "jieba", "rjieba")


def _word_list(path: Path) -> list[tuple[str, int | None]]:
    """`word [freq]` lines of a dictionary file, without comments and blank lines."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        out.append((parts[0], freq))
    return out


def _domain_words() -> list[str]:
    """Short terms from the rulebook and the complaint taxonomy: 2-4 Chinese characters, no regex."""
    words: list[str] = []
    for rule in load_rulebook().rules:
        words += list(rule.phrases)
    words += load_taxonomy().vocabulary()
    return [w for w in dict.fromkeys(words) if re.fullmatch(r"[\u4e00-\u9fff]{2,4}", w)]


class Tokenizer:
    """Word segmentation for term counts and word clouds (never for rule matching).

    An own ``jieba.Tokenizer`` instance (the module-level jieba functions share global state and
    print at first use) loaded from jieba's dictionary by absolute path, quiet, plus the domain
    dictionary ``resources/dictionary/user_dict.txt``, the rulebook's and the complaint taxonomy's
    short terms, and ``extra_words``. When rjieba (jieba-rs, an exact port) is installed it is used
    instead, fed the same words with the same frequencies; a test checks both give identical tokens.

    Text is folded first (full width, Traditional, case; see ``fold``). Only runs of Chinese
    characters go to the segmenter; runs of ASCII letters/digits are one token each (the two engines
    differ on those, and a product code is one word anyway). Punctuation and symbols are dropped.
    """

    def __init__(self, extra_words=(), stopwords: set[str] | None = None, engine: str = "auto",
                 domain_words: bool = True):
        if engine not in TOKENIZER_ENGINES:
            raise ValueError(f"unknown tokenizer engine {engine!r}; choose one of {TOKENIZER_ENGINES}")
        words = _word_list(config.RESOURCES_DIR / "dictionary" / "user_dict.txt")
        if domain_words:
            words += [(w, None) for w in _domain_words()]
        words += [(w, None) for w in extra_words]
        self.words = {w: (f or DEFAULT_WORD_FREQ) for w, f in words}
        if stopwords is None:
            stopwords = {w for w, _ in _word_list(config.RESOURCES_DIR / "dictionary" / "stopwords.txt")}
        self.stopwords = frozenset(stopwords)
        self.engine = self._pick_engine(engine)
        self._segmenter = None

    @staticmethod
    def _pick_engine(engine: str) -> str:
        if engine != "auto":
            return engine
        try:
            import rjieba  # noqa: F401
            return "rjieba"
        except ImportError:
            return "jieba"

    def _segment(self):
        if self._segmenter is not None:
            return self._segmenter
        if self.engine == "rjieba":
            import rjieba

            seg = rjieba.Jieba()
            for word, freq in self.words.items():
                seg.add_word(word, freq, None)
            self._segmenter = lambda run: seg.cut(run, True)
        else:
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            seg = jieba.Tokenizer(dictionary=str(Path(jieba.__file__).parent / "dict.txt"))
            seg.initialize()
            for word, freq in self.words.items():
                seg.add_word(word, freq)
            self._segmenter = lambda run: seg.lcut(run, HMM=True)
        return self._segmenter

    def cut(self, text: str) -> list[str]:
        """All tokens of ``text``, in order (folded; punctuation and symbols dropped)."""
        segment = self._segment()
        tokens: list[str] = []
        for match in _HAN_OR_WORD.finditer(fold(text or "")):
            if match.group(1):
                tokens += segment(match.group(1))
            else:
                tokens.append(match.group(2))
        return tokens

    def terms(self, text: str, min_chars: int = 2) -> list[str]:
        """Tokens worth counting: no stopwords, no bare numbers, at least ``min_chars`` characters."""
        return [t for t in self.cut(text)
                if len(t) >= min_chars and t not in self.stopwords and not t.isdigit()]

    def term_counts(self, texts, min_chars: int = 2) -> pd.Series:
        """How often each term occurs in ``texts`` (an iterable of str), most frequent first (ties in
        the order the terms first occur). Each distinct text is cut once and counted as often as it occurs."""
        codes, distinct = pd.factorize(pd.Series(list(texts), dtype=object))   # in the order they first occur
        times = np.bincount(codes[codes >= 0], minlength=len(distinct))           # missing values are -1
        counts: Counter = Counter()
        for text, n in zip(distinct, times.tolist()):
            if isinstance(text, str):
                for term in self.terms(text, min_chars):
                    counts[term] += n
        series = pd.Series(counts, dtype="int64", name="count")
        series.index.name = "term"
        return series.sort_values(ascending=False, kind="stable")


@lru_cache(maxsize=4)
def default_tokenizer(engine: str = "auto") -> Tokenizer:
    """A shared Tokenizer with the default dictionary and stopwords (built on first use)."""
    return Tokenizer(engine=engine)
