"""Multi-pattern engines over a block of normalised messages, and the helpers every phrase finder shares.

An engine finds every occurrence of every literal in a block's compact view (and the messages where
each prefilter regex occurs): Hyperscan when installed (the fast engine), else pyahocorasick (the
portable engine); tests check both report the same matches. A third, ``numpy``, compares code units
by array arithmetic: no Python call per match, so it is the fastest where a few short phrases occur
millions of times (``PhraseSet``'s default); Hyperscan stays the rulebook's. ``PhraseSet`` finds
labelled phrase lists with an engine; ``drop_nested`` keeps the longest of overlapping matches;
``RegexScope`` runs regexes over some messages of a block without crossing a message's end. Nothing here knows a rulebook or a
taxonomy: findings build on these.
"""
from __future__ import annotations

import re
import threading
from array import array

import numpy as np

from ..base.arrays import ranges
from .normalize import NormalizedBlock, normalization_spec, normalize, spans_within
from .safe_regex import sre_parse

ENGINES = ("auto", "hyperscan", "pyahocorasick", "numpy")
ASCII_WORD = re.compile(r"[a-z0-9]")
ASCII_LETTER = re.compile(r"[a-z]")


EMPTY = np.zeros(0, dtype=np.int64)


class _AhoCorasickEngine:
    """The portable engine: pyahocorasick for literals, Python ``re`` for prefilters (wheels everywhere)."""

    name = "pyahocorasick"

    def __init__(self, patterns: list[str], prefilters: list[str]):
        import ahocorasick

        self._lengths = np.array([len(p) for p in patterns], dtype=np.int64)
        self._automaton = ahocorasick.Automaton()
        for pid, pattern in enumerate(patterns):
            self._automaton.add_word(pattern, pid)
        if patterns:
            self._automaton.make_automaton()
        self._prefilters = [re.compile(p, re.ASCII) for p in prefilters]

    def scan(self, block: NormalizedBlock):
        found = [(pid, end) for end, pid in self._automaton.iter(block.compact)] if len(self._lengths) else []
        if found:
            pid, last = np.array(found, dtype=np.int64).T
            literal = (pid, last + 1 - self._lengths[pid], last + 1)
        else:
            literal = (EMPTY, EMPTY, EMPTY)
        ends = [np.fromiter((m.end() for m in p.finditer(block.compact)), dtype=np.int64) for p in self._prefilters]
        return literal, ends


class _NumpyEngine:
    """Literals found by array arithmetic on the compact view's UTF-16 code units (no Python call per
    match). Every position is read as a 64-bit key of its next four code units (an overlapping view of
    the bytes); a hash of a position's first two units (read as one overlapping 32-bit view; a table lookup)
    marks the positions where some literal can start, found once for every group of literals, and only
    those keys are looked up among the literals' sorted keys; literals over
    four units are then checked unit by unit. Matches come by end, then longest first (Hyperscan's
    order, except that Hyperscan orders matches ending at the same place its own way). Prefilters run
    with Python ``re``."""

    name = "numpy"
    KEY_UNITS = 4           # code units packed into one uint64 key
    HASH_BITS = 22          # the two-unit prefix filter: 4M slots, one bit per group of literals

    def __init__(self, patterns: list[str], prefilters: list[str]):
        units = [np.frombuffer(p.encode("utf-16-le", "surrogatepass"), dtype=np.uint16) for p in patterns]
        self._lengths = np.array([len(u) for u in units], dtype=np.int64)
        self._units = np.zeros((len(units), max([self.KEY_UNITS, *self._lengths])), dtype=np.uint16)
        for i, u in enumerate(units):
            self._units[i, :len(u)] = u
        usable = np.flatnonzero(self._lengths > 0)
        keys = np.zeros(len(units), dtype=np.uint64)
        for j in range(self.KEY_UNITS):
            keys |= self._units[:, j].astype(np.uint64) << np.uint64(16 * j)
        # literals grouped by how many units their key holds (1-4); within a group the keys sorted, each
        # distinct key with the range of literals sharing it (only literals over four units share keys)
        self._groups = []
        self._filter = np.zeros(1 << self.HASH_BITS, dtype=np.uint8)
        for width in range(1, self.KEY_UNITS + 1):
            ids = usable[np.minimum(self._lengths[usable], self.KEY_UNITS) == width]
            if not len(ids):
                continue
            ids = ids[np.argsort(keys[ids], kind="stable")]
            distinct, first, count = np.unique(keys[ids], return_index=True, return_counts=True)
            bit = np.uint8(1 << len(self._groups))
            if width == 1:
                self._one_unit = (np.zeros(0x10000, dtype=bool), bit)
                self._one_unit[0][distinct.astype(np.int64)] = True
            else:
                pairs = self._units[ids, 0].astype(np.uint32) | (self._units[ids, 1].astype(np.uint32) << np.uint32(16))
                self._filter[self._hash(pairs)] |= bit
            self._groups.append((width, bit, distinct, first, count, ids))
        self._prefilters = [re.compile(p, re.ASCII) for p in prefilters]

    @classmethod
    def _hash(cls, pairs: np.ndarray) -> np.ndarray:
        """A slot of the prefix filter for each pair of code units (a literal's or a position's first two,
        as one uint32: first | second << 16): multiplicative hashing, the product's top bits."""
        return (pairs * np.uint32(0x9E3779B1)) >> np.uint32(32 - cls.HASH_BITS)

    @classmethod
    def _views(cls, units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The key of every position of ``units`` and its first two units (code units past the end read
        as 0): views of the bytes as overlapping uint64s and uint32s, one every two bytes (one copy, padded)."""
        padded = np.zeros(len(units) + cls.KEY_UNITS, dtype=np.uint16)
        padded[:len(units)] = units
        return (np.ndarray((len(units),), dtype="<u8", buffer=padded, strides=(2,)),
                np.ndarray((len(units),), dtype="<u4", buffer=padded, strides=(2,)))

    def find_literals(self, compact_utf16: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every occurrence of every literal in ``compact_utf16``: (literal id, start, end) in code units."""
        units = np.frombuffer(compact_utf16, dtype=np.uint16)
        if not len(units) or not self._groups:
            return EMPTY, EMPTY, EMPTY
        keys, pairs = self._views(units)
        marks = self._filter[self._hash(pairs)]
        marked = np.flatnonzero(marks)                 # where a literal of some group can start
        marked_bits = marks[marked]
        found_at, found_id = [], []
        for width, bit, distinct, first, count, ids in self._groups:
            at = np.flatnonzero(self._one_unit[0][units]) if width == 1 else marked[(marked_bits & bit) != 0]
            masked = keys[at] & np.uint64((1 << (16 * width)) - 1)
            slot = np.minimum(np.searchsorted(distinct, masked), len(distinct) - 1)
            hit = np.flatnonzero(distinct[slot] == masked)
            n = count[slot[hit]]
            found_at.append(np.repeat(at[hit], n))
            found_id.append(ids[np.repeat(first[slot[hit]], n) + ranges(n)])
        start, pid = np.concatenate(found_at), np.concatenate(found_id)
        end = start + self._lengths[pid]
        keep = end <= len(units)
        longer = np.flatnonzero(keep & (end - start > self.KEY_UNITS))
        for j in range(self.KEY_UNITS, self._units.shape[1]):       # units past the key, longer literals only
            longer = longer[self._lengths[pid[longer]] > j]
            same = units[start[longer] + j] == self._units[pid[longer], j]
            keep[longer[~same]] = False
            longer = longer[same]
        pid, start, end = pid[keep], start[keep], end[keep]
        width = self._units.shape[1] + 1
        order = np.argsort(end * width + (width - 1 - (end - start)), kind="stable")
        return pid[order], start[order], end[order]

    def scan(self, block: NormalizedBlock):
        literal = self.find_literals(block.compact_utf16)
        ends = [np.fromiter((m.end() for m in p.finditer(block.compact)), dtype=np.int64) for p in self._prefilters]
        return literal, ends


def utf16_regex(pattern: str) -> bytes | None:
    """Translate a simple regex (literals, classes, \\d, bounded repeats, groups, alternation) to one
    over UTF-16-LE bytes for Hyperscan; None when it uses anything else (then Python runs it)."""
    def unit(code: int) -> str:
        return f"\\x{code & 0xFF:02x}\\x{code >> 8:02x}"

    def char_class(items) -> str | None:
        codes: set[int] = set()
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                codes.add(arg)
            elif name == "RANGE" and arg[1] - arg[0] < 5000:
                codes.update(range(arg[0], arg[1] + 1))
            elif name == "CATEGORY" and str(arg) == "CATEGORY_DIGIT":
                codes.update(range(48, 58))
            else:
                return None
        if not codes or max(codes) >= 0xD800:
            return None
        by_high: dict[int, list[int]] = {}
        for code in sorted(codes):
            by_high.setdefault(code >> 8, []).append(code & 0xFF)
        parts = ["[" + "".join(f"\\x{low:02x}" for low in lows) + f"]\\x{high:02x}" for high, lows in by_high.items()]
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"

    def walk(tree) -> str | None:
        out = []
        for op, arg in tree:
            name = str(op)
            if name == "LITERAL" and arg < 0xD800:
                out.append(unit(arg))
            elif name == "IN":
                out.append(char_class(arg))
            elif name == "MAX_REPEAT" and arg[1] != sre_parse.MAXREPEAT:
                inner = walk(arg[2])
                out.append(None if inner is None else f"(?:{inner}){{{arg[0]},{arg[1]}}}")
            elif name == "SUBPATTERN":
                inner = walk(arg[-1])
                out.append(None if inner is None else f"(?:{inner})")
            elif name == "BRANCH":
                branches = [walk(b) for b in arg[1]]
                out.append(None if None in branches else "(?:" + "|".join(branches) + ")")
            else:
                return None
            if out[-1] is None:
                return None
        return "".join(out)

    try:
        translated = walk(sre_parse.parse(pattern, re.ASCII))
    except re.error:
        return None
    return None if translated is None else translated.encode("ascii")


class _HyperscanEngine:
    """The fast engine: Hyperscan over the compact view's UTF-16 bytes, literals and prefilters in one database."""

    name = "hyperscan"

    def __init__(self, patterns: list[str], prefilters: list[str]):
        import hyperscan

        expressions = ["".join(f"\\x{b:02x}" for b in p.encode("utf-16-le")).encode("ascii") for p in patterns]
        flags = [hyperscan.HS_FLAG_SOM_LEFTMOST] * len(patterns)
        self._n_literals = len(patterns)
        self._python_prefilters: dict[int, re.Pattern] = {}
        for i, prefilter in enumerate(prefilters):
            translated = utf16_regex(prefilter)
            if translated is None:
                self._python_prefilters[i] = re.compile(prefilter, re.ASCII)
            else:
                expressions.append(translated)
                flags.append(0)
        self._n_prefilters = len(prefilters)
        self._local = threading.local()   # Hyperscan needs one scratch space per thread
        self._db = None
        if expressions:
            self._db = hyperscan.Database()
            self._db.compile(expressions=expressions, ids=list(range(len(expressions))),
                             elements=len(expressions), flags=flags)
        # ids of translated prefilters, in order, after the literals
        self._prefilter_ids = [i for i in range(len(prefilters)) if i not in self._python_prefilters]

    def __getstate__(self) -> dict:
        """Picklable (for worker processes and Dask): the compiled database as Hyperscan's own bytes,
        scratch spaces left behind (each thread makes its own)."""
        import hyperscan

        state = {k: v for k, v in self.__dict__.items() if k != "_local"}
        state["_db"] = None if self._db is None else hyperscan.dumpb(self._db)
        return state

    def __setstate__(self, state: dict) -> None:
        import hyperscan

        self.__dict__.update(state)
        self._db = None if state["_db"] is None else hyperscan.loadb(state["_db"], hyperscan.HS_MODE_BLOCK)
        self._local = threading.local()

    def scan(self, block: NormalizedBlock):
        found = array("q")
        if self._db is not None and block.compact_utf16:
            extend = found.extend
            scratch = getattr(self._local, "scratch", None)
            if scratch is None:
                import hyperscan

                scratch = self._local.scratch = hyperscan.Scratch(self._db)
            self._db.scan(block.compact_utf16, match_event_handler=lambda i, s, e, f, c: extend((i, s, e)),
                          scratch=scratch)
        ends = [EMPTY] * self._n_prefilters
        if not found:
            literal = (EMPTY, EMPTY, EMPTY)
        else:
            pid, start, end = np.frombuffer(found, dtype=np.int64).reshape(-1, 3).T
            is_literal = pid < self._n_literals
            aligned = is_literal & (start % 2 == 0)   # a literal must start on a UTF-16 code unit
            literal = (pid[aligned], start[aligned] // 2, end[aligned] // 2)
            pre = ~is_literal & (end % 2 == 0)
            for slot, prefilter_index in enumerate(self._prefilter_ids):
                ends[prefilter_index] = end[pre & (pid == self._n_literals + slot)] // 2
        for i, prefilter in self._python_prefilters.items():
            ends[i] = np.fromiter((m.end() for m in prefilter.finditer(block.compact)), dtype=np.int64)
        return literal, ends


def available_engines() -> list[str]:
    """The installed engines for a rulebook, fastest first (``numpy`` needs nothing installed and is
    not listed: it is fast on a few frequent phrases, not on thousands)."""
    names = []
    for name, module in (("hyperscan", "hyperscan"), ("pyahocorasick", "ahocorasick")):
        try:
            __import__(module)
            names.append(name)
        except ImportError:
            pass
    return names


def engine_class(engine: str):
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    if engine == "auto":
        available = available_engines()
        if not available:
            raise ImportError("no matching engine installed: pip install pyahocorasick (or hyperscan)")
        engine = available[0]
    return {"hyperscan": _HyperscanEngine, "pyahocorasick": _AhoCorasickEngine, "numpy": _NumpyEngine}[engine]


Matches = dict  # column name → NumPy array, all of one length (cheaper than DataFrames on the hot path)


def select(matches: Matches, mask: np.ndarray) -> Matches:
    return {k: v[mask] for k, v in matches.items()}


def with_single_characters(pid: np.ndarray, cstart: np.ndarray, cend: np.ndarray, single: list[tuple[int, int]],
                 block: NormalizedBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add the one-character literals (UTF-16 code unit, pattern id), found by a NumPy comparison."""
    if not single:
        return pid, cstart, cend
    units = np.frombuffer(block.compact_utf16, dtype=np.uint16)
    found = [(np.flatnonzero(units == code), p) for code, p in single]
    at = np.concatenate([f for f, _ in found])
    pid = np.concatenate([pid] + [np.full(len(f), p, dtype=np.int64) for f, p in found])
    return pid, np.concatenate([cstart, at]), np.concatenate([cend, at + 1])


def tight(start: np.ndarray, end: np.ndarray, cstart: np.ndarray, cend: np.ndarray) -> np.ndarray:
    """False for a match spread too thin in the original: more evasion separators between its
    characters than ``max_separators_between_characters`` (normalization.yaml) on average. 微 信 and
    微*-*信 are evasions; 快~ (手 is the end of one sentence and the start of the next."""
    limit = normalization_spec().get("max_separators_between_characters")
    if limit is None:
        return np.ones(len(start), dtype=bool)
    length = cend - cstart
    return (end - start) - length <= limit * np.maximum(length - 1, 0)


def outside_ascii_words(block: NormalizedBlock, msg, start, end, check_left, check_right,
                         right: re.Pattern = ASCII_LETTER) -> np.ndarray:
    """False for a match that continues an ASCII word in the folded original: an ASCII letter or digit
    just before it (where ``check_left``), or a ``right`` character just after it (where ``check_right``)."""
    keep = np.ones(len(msg), dtype=bool)
    folded = block.folded
    for i in np.flatnonzero(check_left | check_right):
        at = int(block.starts[msg[i]])
        if check_left[i] and start[i] > 0 and ASCII_WORD.match(folded[at + start[i] - 1]):
            keep[i] = False
        if check_right[i] and end[i] < block.lengths[msg[i]] and right.match(folded[at + end[i]]):
            keep[i] = False
    return keep


class RegexScope:
    """Some messages of a block to run regexes over: the whole block when they are more than
    ``whole_above`` of it (its matches kept to those messages), else just their texts run together,
    cut once for every regex of the group."""

    def __init__(self, block: NormalizedBlock, messages: np.ndarray, whole_above: float = 0.05):
        self.block, self.messages = block, messages
        self.whole = len(messages) > whole_above * len(block)
        if not self.whole and len(messages):
            starts, lengths = block.starts[messages], block.lengths[messages]
            self.text = block.folded_runs(messages)
            self.offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            self.lengths, self.shift = lengths, starts - self.offsets

    def spans(self, pattern: re.Pattern) -> np.ndarray:
        """The matches of ``pattern`` in these messages, as run-together offsets of the block (n × 2)."""
        if not len(self.messages):
            return np.zeros((0, 2), dtype=np.int64)
        if self.whole:
            spans = self.block.regex_spans(pattern)
            owner = np.searchsorted(self.block.starts, spans[:, 0], side="right") - 1
            return spans[np.isin(owner, self.messages)]
        spans = spans_within(pattern, self.text, self.offsets, self.lengths)
        owner = np.searchsorted(self.offsets, spans[:, 0], side="right") - 1
        return spans + self.shift[owner][:, None]


def drop_nested(hits: Matches, category_codes: np.ndarray) -> Matches:
    """Within a message and category keep the longest of overlapping hits (ties: the earliest).

    Vectorised: hits inside an earlier-starting hit are dropped first; of two remaining neighbours
    that still overlap, the shorter one goes.
    """
    if not len(hits["msg"]):
        return hits
    category = category_codes[hits["rule"]]
    length = hits["end"] - hits["start"]
    order = np.lexsort((hits["rule"], -length, hits["start"], category, hits["msg"]))
    hits = select(hits, order)
    category, length = category[order], length[order]
    msg, rule, start, end = hits["msg"], hits["rule"], hits["start"], hits["end"]
    same_as_previous = np.zeros(len(msg), dtype=bool)
    same_as_previous[1:] = (msg[1:] == msg[:-1]) & (rule[1:] == rule[:-1]) & (start[1:] == start[:-1]) & (end[1:] == end[:-1])
    group = msg * (int(category_codes.max()) + 1) + category
    new_group = np.ones(len(msg), dtype=bool)
    new_group[1:] = group[1:] != group[:-1]
    # running maximum of ``end`` within each group: offset groups so that one never reaches into the next
    span = int(end.max()) + 1
    reach = np.maximum.accumulate(end + np.cumsum(new_group) * span) - np.cumsum(new_group) * span
    contained = np.zeros(len(msg), dtype=bool)
    contained[1:] = ~new_group[1:] & (end[1:] <= reach[:-1])
    keep = ~(same_as_previous | contained)
    hits, group, length = select(hits, keep), group[keep], length[keep]
    starts, ends = hits["start"], hits["end"]
    overlap_prev = np.zeros(len(starts), dtype=bool)
    overlap_prev[1:] = (group[1:] == group[:-1]) & (starts[1:] < ends[:-1])
    drop = np.zeros(len(starts), dtype=bool)
    drop[1:] |= overlap_prev[1:] & (length[1:] <= length[:-1])
    drop[:-1] |= overlap_prev[1:] & (length[:-1] < length[1:])
    return select(hits, ~drop)


class PhraseSet:
    """Labelled phrase lists found at once in many messages (complaint types, cues, apologies …).

    ``entries`` are (label, phrase) pairs; a phrase may appear under several labels. Phrases are
    normalised like rule phrases and matched on the compact view with the same engines as the
    rulebook, so evasions and Traditional characters are read the same way. One-character phrases
    are found by a NumPy comparison. A phrase made of ASCII letters or digits (``315``, ``qq``)
    only matches as a whole word. ``engine``: "auto" is the ``numpy`` engine (phrase lists are short
    and their phrases frequent, where a callback per match would cost most).
    """

    def __init__(self, entries, engine: str = "auto"):
        self.labels: list[str] = []
        self.written: list[str] = []
        keys: dict[str, list[int]] = {}
        for label, phrase in entries:
            key = normalize(str(phrase))
            if not key:
                continue
            keys.setdefault(key, []).append(len(self.labels))
            self.labels.append(label)
            self.written.append(str(phrase))
        self.patterns = list(keys)
        self._entries = [keys[p] for p in self.patterns]
        self._single = [(ord(p), i) for i, p in enumerate(self.patterns) if len(p) == 1 and ord(p) < 0xD800]
        single_ids = {i for _, i in self._single}
        self._multi = np.array([i for i in range(len(self.patterns)) if i not in single_ids], dtype=np.int64)
        self._engine = engine_class("numpy" if engine == "auto" else engine)([self.patterns[i] for i in self._multi], [])
        self._ascii = np.array([bool(re.fullmatch(r"[a-z0-9]+", p)) for p in self.patterns], dtype=bool)
        # each pattern's entries, flattened: pattern p stands for _flat_entries[_first_entry[p]:_first_entry[p + 1]]
        self._entry_counts = np.array([len(e) for e in self._entries], dtype=np.int64)
        self._first_entry = np.r_[0, np.cumsum(self._entry_counts)].astype(np.int64)
        self._flat_entries = np.array([i for e in self._entries for i in e], dtype=np.int64)

    @staticmethod
    def finds_every(literal: str) -> bool:
        """Whether ``find`` reports every place ``literal`` stands in a block's folded view: it is its own
        compact form (folded as it is, no separators) and not an ASCII word (those match only as whole words)."""
        return bool(literal) and normalize(literal) == literal and not re.fullmatch(r"[a-z0-9]+", literal)

    def find(self, block: NormalizedBlock) -> Matches:
        """Every match in ``block``: arrays ``msg``, ``entry`` (index into labels/written), ``start``, ``end``."""
        (pid, cstart, cend), _ = self._engine.scan(block)
        pid, cstart, cend = with_single_characters(self._multi[pid], cstart, cend, self._single, block)
        msg, start, end, inside = block.locate_compact(cstart, cend)
        pid = pid[inside]
        ascii_phrase = self._ascii[pid]
        keep = outside_ascii_words(block, msg, start, end, ascii_phrase, ascii_phrase, right=ASCII_WORD)
        keep &= tight(start, end, cstart[inside], cend[inside])
        pid, msg, start, end = pid[keep], msg[keep], start[keep], end[keep]
        counts = self._entry_counts[pid]
        entry = self._flat_entries[np.repeat(self._first_entry[pid], counts) + ranges(counts)]
        return {"msg": np.repeat(msg, counts), "entry": entry,
                "start": np.repeat(start, counts), "end": np.repeat(end, counts)}
