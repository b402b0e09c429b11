"""Find rule violations in messages: one multi-pattern scan over many messages at once.

How a batch of messages is judged:

1. Messages whose role no rule applies to (customers, by default) are skipped.
2. The rest are normalised together (``text.normalize_block``): a folded view with the original's
   offsets and a compact view without evasion separators.
3. Every phrase, variant and exception phrase of every rule is one literal in a single automaton
   (one-character literals such as 你 are found with a vectorised NumPy comparison instead),
   scanned once over the compact view: Hyperscan when it is installed (the fast engine), else
   pyahocorasick (the portable engine). Both report every overlapping match; tests check they give
   identical hits. Regex rules (PII) run on the folded view.
4. Each match becomes (message, rule, span in the original text). A match is kept when the rule
   applies to the message's role, platform and date, no exception of the rule covers its span, no
   ``unless`` context of the rule stands elsewhere in the same message, not inside the match (an apology
   or a reason beside a refusal), and a phrase made of ASCII letters is not part of a longer ASCII word (``vx`` fires,
   ``usb`` holds no ``sb``).
5. Within one message and category a match inside (or overlapping) a longer match is dropped, so
   ``全网最低价`` is one hit, not three. Rules with ``min_repeats`` keep their hits only when the
   rule fires that many times in a session.

``find_violations`` returns the hits table; ``check_text`` judges one reply (the CLI's ``check``).
"""
from __future__ import annotations

import re
import threading
from array import array
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .rules import Rulebook, load_rulebook, sre_parse
from .schema import PLATFORMS, ROLES
from .text import NormalizedBlock, normalization_spec, normalize, normalize_block

HIT_COLUMNS = (
    "message_id", "rule_id", "category", "subcategory", "severity", "start", "end", "matched", "suggest",
    "phrase", "evasion", "session_id", "seq", "ts", "platform", "shop", "agent_id", "role",
)
ENGINES = ("auto", "hyperscan", "pyahocorasick")
_ASCII_WORD = re.compile(r"[a-z0-9]")
_ASCII_LETTER = re.compile(r"[a-z]")
_PLATFORM_INDEX = {p: i for i, p in enumerate(PLATFORMS)}
# what an automaton entry or a regex stands for: a rule's phrase, an exception that must cover the
# match, or ``unless`` context that must stand elsewhere in the same message
HIT, EXCEPTION, UNLESS, UNLESS_PREVIOUS = 0, 1, 2, 3
_ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}


# ------------------------------------------------------------------------------------ engines ---
# An engine finds every occurrence of every literal in the compact view, and the messages where
# each prefilter regex (a necessary condition of a PII regex) occurs.
_EMPTY = np.zeros(0, dtype=np.int64)


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
            literal = (_EMPTY, _EMPTY, _EMPTY)
        ends = [np.fromiter((m.end() for m in p.finditer(block.compact)), dtype=np.int64) for p in self._prefilters]
        return literal, ends


def _utf16_regex(pattern: str) -> bytes | None:
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
            translated = _utf16_regex(prefilter)
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
        ends = [_EMPTY] * self._n_prefilters
        if not found:
            literal = (_EMPTY, _EMPTY, _EMPTY)
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
    """The matching engines importable here, fastest first."""
    names = []
    for name, module in (("hyperscan", "hyperscan"), ("pyahocorasick", "ahocorasick")):
        try:
            __import__(module)
            names.append(name)
        except ImportError:
            pass
    return names


def _engine_class(engine: str):
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    if engine == "auto":
        available = available_engines()
        if not available:
            raise ImportError("no matching engine installed: pip install pyahocorasick (or hyperscan)")
        engine = available[0]
    return _HyperscanEngine if engine == "hyperscan" else _AhoCorasickEngine


# ------------------------------------------------------------------------------ compilation ---
@dataclass
class CompiledRulebook:
    """A rulebook turned into arrays and one automaton (built once, reused for every batch)."""

    rulebook: Rulebook
    engine: object
    engine_pids: np.ndarray       # engine pattern index → pattern id
    single: list[tuple[int, int]]  # (UTF-16 code unit, pattern id) of one-character literals
    patterns: list[str]
    entry_start: np.ndarray       # per pattern: first index into the entry arrays
    entry_count: np.ndarray       # per pattern: how many entries
    entry_rule: np.ndarray        # per entry: rule index
    entry_kind: np.ndarray        # per entry: HIT, EXCEPTION or UNLESS
    entry_platforms: np.ndarray   # per entry: bool [n_platforms] where the entry counts
    entry_variant: np.ndarray     # per entry: the phrase is an evasion variant
    entry_written: list[str]      # per entry: the phrase as written in the rulebook
    ascii_left: np.ndarray        # per pattern: starts with an ASCII letter/digit
    ascii_right: np.ndarray       # per pattern: ends with an ASCII letter
    rule_roles: np.ndarray        # bool [n_rules, n_roles]
    rule_platforms: np.ndarray    # bool [n_rules, n_platforms]
    rule_max_chars: np.ndarray    # per rule: the longest message it judges (a large number when unlimited)
    rule_unless_previous: np.ndarray  # per rule: it has context to look for in the agent's previous message
    regexes: list[tuple[int, re.Pattern, int | None, int, np.ndarray]]   # (rule, pattern, prefilter index, kind, platforms)
    roles: frozenset[str]

    @property
    def engine_name(self) -> str:
        return self.engine.name


def compile_rulebook(rulebook: Rulebook | None = None, engine: str = "auto") -> CompiledRulebook:
    """Build the automaton and lookup arrays for ``rulebook`` (default rulebook when None)."""
    rulebook = rulebook or load_rulebook()
    return _compile(rulebook, rulebook.version, engine)


@lru_cache(maxsize=8)
def _compile(rulebook: Rulebook, _version: str, engine: str) -> CompiledRulebook:
    entries: dict[str, list[tuple[int, int, np.ndarray, bool, str]]] = {}
    all_platforms = np.ones(len(PLATFORMS), dtype=bool)
    regexes = []
    prefilters: list[str] = []
    for r_idx, rule in enumerate(rulebook.rules):
        for key, written, variant in rule.patterns():
            entries.setdefault(key, []).append((r_idx, HIT, all_platforms, variant, written))
        for exc in rule.exceptions:
            plats = all_platforms if exc.platforms is None else np.isin(PLATFORMS, list(exc.platforms))
            key = normalize(exc.phrase)
            if key:
                entries.setdefault(key, []).append((r_idx, EXCEPTION, plats, False, exc.phrase))
        for kind, contexts in ((UNLESS, rule.unless), (UNLESS_PREVIOUS, rule.unless_previous)):
            for context in contexts:
                for phrase in context.phrases:
                    key = normalize(phrase)
                    if key:
                        entries.setdefault(key, []).append((r_idx, kind, all_platforms, False, phrase))
                regexes += [(r_idx, re.compile(p), None, kind, all_platforms) for p in context.regex]
        for pattern, prefilter in rule.regex:
            if prefilter and prefilter not in prefilters:
                prefilters.append(prefilter)
            regexes.append((r_idx, re.compile(pattern), prefilters.index(prefilter) if prefilter else None, HIT,
                            all_platforms))
        regexes += [(r_idx, re.compile(e.pattern), None, EXCEPTION,
                     all_platforms if e.platforms is None else np.isin(PLATFORMS, list(e.platforms)))
                    for e in rule.exception_regex]
    patterns = list(entries)
    # one-character literals (你, 滚) are found with a vectorised lookup, the rest by the engine
    single, multi = [], []
    for pid, pattern in enumerate(patterns):
        if len(pattern) == 1 and ord(pattern) < 0xD800:
            single.append((ord(pattern), pid))
        else:
            multi.append(pid)
    flat = [e for p in patterns for e in entries[p]]
    counts = np.array([len(entries[p]) for p in patterns], dtype=np.int64)
    starts = np.zeros(len(patterns), dtype=np.int64)
    if len(patterns) > 1:
        np.cumsum(counts[:-1], out=starts[1:])
    rules = rulebook.rules
    return CompiledRulebook(
        rulebook=rulebook,
        engine=_engine_class(engine)([patterns[i] for i in multi], prefilters),
        engine_pids=np.array(multi, dtype=np.int64),
        single=single,
        patterns=patterns,
        entry_start=starts,
        entry_count=counts,
        entry_rule=np.array([e[0] for e in flat], dtype=np.int64),
        entry_kind=np.array([e[1] for e in flat], dtype=np.int8),
        entry_platforms=np.array([e[2] for e in flat], dtype=bool).reshape(len(flat), len(PLATFORMS)),
        entry_variant=np.array([e[3] for e in flat], dtype=bool),
        entry_written=[e[4] for e in flat],
        ascii_left=np.array([bool(_ASCII_WORD.match(p[0])) for p in patterns], dtype=bool),
        ascii_right=np.array([bool(_ASCII_LETTER.match(p[-1])) for p in patterns], dtype=bool),
        rule_roles=np.array([[role in r.roles for role in ROLES] for r in rules], dtype=bool).reshape(len(rules), len(ROLES)),
        rule_platforms=np.array([[p in r.platforms for p in PLATFORMS] for r in rules], dtype=bool).reshape(len(rules), len(PLATFORMS)),
        rule_max_chars=np.array([r.max_chars or np.iinfo(np.int64).max for r in rules], dtype=np.int64),
        rule_unless_previous=np.array([bool(r.unless_previous) for r in rules], dtype=bool),
        regexes=regexes,
        roles=frozenset(role for r in rules for role in r.roles),
    )


# ---------------------------------------------------------------------------------- matching ---
Matches = dict  # column name → NumPy array, all of one length (cheaper than DataFrames on the hot path)


def _select(matches: Matches, mask: np.ndarray) -> Matches:
    return {k: v[mask] for k, v in matches.items()}


def _with_single(pid: np.ndarray, cstart: np.ndarray, cend: np.ndarray, single: list[tuple[int, int]],
                 block: NormalizedBlock) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add the one-character literals (UTF-16 code unit, pattern id), found by a NumPy comparison."""
    if not single:
        return pid, cstart, cend
    units = np.frombuffer(block.compact_utf16, dtype=np.uint16)
    found = [(np.flatnonzero(units == code), p) for code, p in single]
    at = np.concatenate([f for f, _ in found])
    pid = np.concatenate([pid] + [np.full(len(f), p, dtype=np.int64) for f, p in found])
    return pid, np.concatenate([cstart, at]), np.concatenate([cend, at + 1])


def _tight(start: np.ndarray, end: np.ndarray, cstart: np.ndarray, cend: np.ndarray) -> np.ndarray:
    """False for a match spread too thin in the original: more evasion separators between its
    characters than ``max_separators_between_characters`` (normalization.yaml) on average. 微 信 and
    微*-*信 are evasions; 快~ (手 is the end of one sentence and the start of the next."""
    limit = normalization_spec().get("max_separators_between_characters")
    if limit is None:
        return np.ones(len(start), dtype=bool)
    length = cend - cstart
    return (end - start) - length <= limit * np.maximum(length - 1, 0)


def _outside_ascii_words(block: NormalizedBlock, msg, start, end, check_left, check_right,
                         right: re.Pattern = _ASCII_LETTER) -> np.ndarray:
    """False for a match that continues an ASCII word in the folded original: an ASCII letter or digit
    just before it (where ``check_left``), or a ``right`` character just after it (where ``check_right``)."""
    keep = np.ones(len(msg), dtype=bool)
    folded = block.folded
    for i in np.flatnonzero(check_left | check_right):
        at = int(block.starts[msg[i]])
        if check_left[i] and start[i] > 0 and _ASCII_WORD.match(folded[at + start[i] - 1]):
            keep[i] = False
        if check_right[i] and end[i] < block.lengths[msg[i]] and right.match(folded[at + end[i]]):
            keep[i] = False
    return keep


def _raw_matches(compiled: CompiledRulebook, block: NormalizedBlock, platform_codes: np.ndarray) -> Matches:
    """Every phrase and regex match in a block: message, rule, span, exception flag, entry."""
    (pid, cstart, cend), prefilter_ends = compiled.engine.scan(block)
    pid, cstart, cend = _with_single(compiled.engine_pids[pid], cstart, cend, compiled.single, block)
    msg, start, end, inside = block.locate_compact(cstart, cend)
    pid = pid[inside]
    # ASCII phrases must not be part of a longer ASCII word in the (folded) original
    keep = _outside_ascii_words(block, msg, start, end, compiled.ascii_left[pid], compiled.ascii_right[pid])
    keep &= _tight(start, end, cstart[inside], cend[inside])
    pid, msg, start, end = pid[keep], msg[keep], start[keep], end[keep]
    folded = block.folded
    counts = compiled.entry_count[pid]
    rep = np.repeat(np.arange(len(pid)), counts)
    entry = np.repeat(compiled.entry_start[pid], counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    entry_ok = compiled.entry_platforms[entry, platform_codes[msg[rep]]] if len(entry) else np.zeros(0, dtype=bool)
    frames = [{
        "msg": msg[rep][entry_ok], "rule": compiled.entry_rule[entry][entry_ok],
        "start": start[rep][entry_ok], "end": end[rep][entry_ok],
        "kind": compiled.entry_kind[entry][entry_ok], "entry": entry[entry_ok],
    }]
    candidates = [None if not len(e) else np.unique(block.locate_compact(e - 1, e)[0]) for e in prefilter_ends]
    for r_idx, pattern, prefilter, kind, platforms in compiled.regexes:
        if prefilter is None:
            spans = block.regex_spans(pattern, clip=kind != HIT)
        elif candidates[prefilter] is None:
            continue
        else:
            spans = np.array([m.span() for message in candidates[prefilter]
                              for m in pattern.finditer(folded, int(block.starts[message]),
                                                        int(block.starts[message] + block.lengths[message]))],
                             dtype=np.int64).reshape(-1, 2)
        if not len(spans):
            continue
        m, s, e, _ = block.locate_folded(spans[:, 0], spans[:, 1])
        on_platform = platforms[platform_codes[m]]
        m, s, e = m[on_platform], s[on_platform], e[on_platform]
        frames.append({"msg": m, "rule": np.full(len(m), r_idx, dtype=np.int64), "start": s, "end": e,
                       "kind": np.full(len(m), kind, dtype=np.int8), "entry": np.full(len(m), -1, dtype=np.int64)})
    return {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}


def _apply_exceptions(raw: Matches, n_rules: int) -> Matches:
    """Drop hits that an exception of the same rule covers (exception start <= hit start, end >= end),
    and hits of a rule whose ``unless`` context stands elsewhere in the same message (not inside the hit)."""
    kind = raw["kind"]
    hits = _select(raw, kind == HIT)
    dropped = np.zeros(len(hits["msg"]), dtype=bool)
    for context, covers in ((_select(raw, kind == EXCEPTION), True), (_select(raw, kind == UNLESS), False)):
        if not len(context["msg"]) or not len(hits["msg"]):
            continue
        hit_key = hits["msg"] * n_rules + hits["rule"]
        key = context["msg"] * n_rules + context["rule"]
        order = np.argsort(key, kind="stable")
        lo = np.searchsorted(key[order], hit_key, side="left")
        hi = np.searchsorted(key[order], hit_key, side="right")
        for j in range(int((hi - lo).max())):       # context matches per (message, rule): a handful at most
            valid = lo + j < hi
            x = order[np.minimum(lo + j, len(order) - 1)]
            if covers:
                dropped |= valid & (context["start"][x] <= hits["start"]) & (context["end"][x] >= hits["end"])
            else:
                # context counts unless it lies inside the match (可以 inside 不可以 is not an alternative)
                dropped |= valid & ~((context["start"][x] >= hits["start"]) & (context["end"][x] <= hits["end"]))
    return _select(hits, ~dropped)


def _drop_nested(hits: Matches, category_codes: np.ndarray) -> Matches:
    """Within a message and category keep the longest of overlapping hits (ties: the earliest).

    Vectorised: hits inside an earlier-starting hit are dropped first; of two remaining neighbours
    that still overlap, the shorter one goes.
    """
    if not len(hits["msg"]):
        return hits
    category = category_codes[hits["rule"]]
    length = hits["end"] - hits["start"]
    order = np.lexsort((hits["rule"], -length, hits["start"], category, hits["msg"]))
    hits = _select(hits, order)
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
    hits, group, length = _select(hits, keep), group[keep], length[keep]
    starts, ends = hits["start"], hits["end"]
    overlap_prev = np.zeros(len(starts), dtype=bool)
    overlap_prev[1:] = (group[1:] == group[:-1]) & (starts[1:] < ends[:-1])
    drop = np.zeros(len(starts), dtype=bool)
    drop[1:] |= overlap_prev[1:] & (length[1:] <= length[:-1])
    drop[:-1] |= overlap_prev[1:] & (length[:-1] < length[1:])
    return _select(hits, ~drop)


def _empty_hits() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in HIT_COLUMNS})
    return frame.astype({"start": "int64", "end": "int64", "evasion": "bool"})


def _codes(values: pd.Series, index: dict[str, int], default: int) -> np.ndarray:
    """Integer codes of a text column by ``index`` (unknown or missing values get ``default``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arrow = values.astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    found = pc.index_in(arrow, value_set=pa.array(list(index), type=arrow.type))
    positions = pc.fill_null(found, -1).to_numpy().astype(np.int64)
    lookup = np.array(list(index.values()) + [default], dtype=np.int64)
    return lookup[positions]


def find_violations(messages: pd.DataFrame, rulebook: Rulebook | None = None, *, engine: str = "auto",
                    block_size: int = 200_000) -> pd.DataFrame:
    """Judge every message by its own platform and role; return the hits table (``HIT_COLUMNS``).

    ``messages`` is the canonical table from ``load_logs`` (needs ``message_id, role, platform, text``;
    ``session_id, seq, ts, shop, agent_id`` are carried along when present). ``rulebook`` defaults to
    the packaged one. Messages are judged in blocks of ``block_size`` (bounds memory; the result does
    not depend on it). ``start``/``end`` are offsets in the original ``text``; ``matched`` is that
    slice; ``phrase`` is the rulebook phrase (or regex rule) that matched and ``evasion`` is True when the text
    differs from it (spaces, symbols, full width, 繁体, pinyin or a homophone variant).
    """
    missing = {"message_id", "role", "platform", "text"} - set(messages.columns)
    if missing:
        raise ValueError(f"messages lack column(s) {sorted(missing)}; pass the table from load_logs()")
    compiled = compile_rulebook(rulebook, engine)
    rules = compiled.rulebook.rules
    if messages.empty or not rules:
        return _empty_hits()
    role_all = _codes(messages["role"], _ROLE_INDEX, -1)
    platform_all = _codes(messages["platform"], _PLATFORM_INDEX, _PLATFORM_INDEX["other"])
    wanted = [_ROLE_INDEX[r] for r in compiled.roles]
    candidates = np.flatnonzero(np.isin(role_all, wanted))
    texts_all = messages["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    category_codes = pd.factorize(pd.Series([r.category for r in rules], dtype=object))[0]

    context: list[np.ndarray] = []   # row * n_rules + rule: unless context for rules that look back a message

    def judge_block(rows: np.ndarray) -> Matches | None:
        block = normalize_block(texts_all.take(rows))
        raw = _raw_matches(compiled, block, platform_all[rows])
        if not len(raw["msg"]):
            return None
        looks_back = raw["kind"] == UNLESS_PREVIOUS
        context.append(rows[raw["msg"][looks_back]] * len(rules) + raw["rule"][looks_back])
        msg, rule = raw["msg"], raw["rule"]
        role = role_all[rows][msg]
        applies = (role >= 0) & compiled.rule_roles[rule, np.maximum(role, 0)]
        applies &= compiled.rule_platforms[rule, platform_all[rows][msg]]
        applies &= block.lengths[msg] <= compiled.rule_max_chars[rule]
        raw = _select(raw, applies | (raw["kind"] != HIT))
        hits = _drop_nested(_apply_exceptions(raw, len(rules)), category_codes)
        if not len(hits["msg"]):
            return None
        hits["row"] = rows[hits["msg"]]
        offsets = block.starts[hits["msg"]]
        lo, hi = (offsets + hits["start"]).tolist(), (offsets + hits["end"]).tolist()
        original = block.original
        hits["matched"] = np.array([original[a:b] for a, b in zip(lo, hi)], dtype=object)
        return hits

    blocks = [candidates[lo:lo + block_size] for lo in range(0, len(candidates), block_size)]
    parts = [p for p in map(judge_block, blocks) if p is not None]
    if not parts:
        return _empty_hits()
    hits = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    if compiled.rule_unless_previous.any() and context and "session_id" in messages.columns:
        previous = _previous_in_session(messages, candidates)
        back = compiled.rule_unless_previous[hits["rule"]] & (previous[hits["row"]] >= 0)
        key = previous[hits["row"]] * len(rules) + hits["rule"]
        hits = _select(hits, ~(back & np.isin(key, np.concatenate(context))))
    return _hits_table(hits, messages, compiled)


def _previous_in_session(messages: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """For every row of ``messages``: the row of the previous judged message (one of ``rows``) in the
    same session, by ``seq`` (export order without it); -1 for the first and for rows not judged."""
    out = np.full(len(messages), -1, dtype=np.int64)
    if not len(rows):
        return out
    session = pd.factorize(messages["session_id"].to_numpy()[rows])[0]
    seq = messages["seq"].to_numpy()[rows] if "seq" in messages.columns else np.arange(len(rows))
    order = np.lexsort((np.arange(len(rows)), seq, session))
    ordered = rows[order]
    same = np.zeros(len(ordered), dtype=bool)
    same[1:] = session[order][1:] == session[order][:-1]
    out[ordered[1:][same[1:]]] = ordered[:-1][same[1:]]
    return out


def _rule_column(rules, rule_index: np.ndarray, field: str) -> pd.Categorical:
    """A per-hit column of a rule attribute, as a categorical (cheap for many hits, few rules)."""
    codes, uniques = pd.factorize(pd.Series([getattr(r, field) for r in rules], dtype=object), use_na_sentinel=True)
    return pd.Categorical.from_codes(codes[rule_index], categories=pd.Index(uniques, dtype=object))


def _hits_table(hits: Matches, messages: pd.DataFrame, compiled: CompiledRulebook) -> pd.DataFrame:
    rules = compiled.rulebook.rules
    rule = hits["rule"]
    entry = hits["entry"]
    is_phrase = entry >= 0
    phrase = np.asarray(compiled.entry_written, dtype=object)[np.maximum(entry, 0)] if len(entry) else np.zeros(0, dtype=object)
    regex_names = np.array([f"regex:{r.id}" for r in rules], dtype=object)
    phrase = np.where(is_phrase, phrase, regex_names[rule])
    variant = np.where(is_phrase, compiled.entry_variant[np.maximum(entry, 0)], False)
    matched = hits["matched"]
    evasion = is_phrase & (variant | (matched != phrase))
    rows = hits["row"]
    string = pd.StringDtype("pyarrow")
    out = pd.DataFrame({
        "message_id": messages["message_id"].array.take(rows),
        "rule_id": _rule_column(rules, rule, "id"),
        "category": _rule_column(rules, rule, "category"),
        "subcategory": _rule_column(rules, rule, "subcategory"),
        "severity": _rule_column(rules, rule, "severity"),
        "start": hits["start"].astype(np.int64),
        "end": hits["end"].astype(np.int64),
        "matched": pd.array(matched, dtype=string),
        "suggest": _rule_column(rules, rule, "suggest"),
        "phrase": pd.array(phrase, dtype=string),
        "evasion": evasion.astype(bool),
    })
    for column in ("session_id", "seq", "ts", "platform", "shop", "agent_id", "role"):
        out[column] = messages[column].array.take(rows) if column in messages.columns else None
    out = _effective_and_repeated(out, rules, rule)
    order = np.lexsort((out["start"].to_numpy(), rows[out.index.to_numpy()]))
    return out.iloc[order].reset_index(drop=True)


def _effective_and_repeated(out: pd.DataFrame, rules, rule_index: np.ndarray) -> pd.DataFrame:
    """Drop hits outside a rule's effective dates, and hits of min_repeats rules used too rarely."""
    keep = np.ones(len(out), dtype=bool)
    dated = [i for i, r in enumerate(rules) if r.effective_from or r.effective_to]
    if dated and out["ts"].notna().any():
        day = pd.to_datetime(out["ts"]).dt.date
        for i in dated:
            sel = (rule_index == i) & out["ts"].notna().to_numpy()
            if rules[i].effective_from:
                keep &= ~(sel & (day < rules[i].effective_from).to_numpy())
            if rules[i].effective_to:
                keep &= ~(sel & (day > rules[i].effective_to).to_numpy())
    out = out[keep]
    repeated = {r.id: r.min_repeats for r in rules if r.min_repeats > 1}
    if repeated and not out.empty:
        group_key = out["session_id"] if out["session_id"].notna().any() else out["message_id"]
        counts = out.groupby([group_key, out["rule_id"]])["rule_id"].transform("size")
        need = out["rule_id"].map(repeated).fillna(1)
        out = out[counts >= need]
    return out


def check_text(text: str, platform: str = "taobao", role: str = "agent", rulebook: Rulebook | None = None,
               engine: str = "auto") -> pd.DataFrame:
    """Judge one reply as if ``role`` said it on ``platform`` (for trainers; the CLI's ``check``)."""
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; platforms are {PLATFORMS}")
    frame = pd.DataFrame({"message_id": ["check"], "session_id": ["check"], "role": [role],
                          "platform": [platform], "text": [text]})
    return find_violations(frame, rulebook, engine=engine)


# ----------------------------------------------------------------------------- phrase lists ---
class PhraseSet:
    """Labelled phrase lists found at once in many messages (complaint types, cues, apologies …).

    ``entries`` are (label, phrase) pairs; a phrase may appear under several labels. Phrases are
    normalised like rule phrases and matched on the compact view with the same engines as the
    rulebook, so evasions and Traditional characters are read the same way. One-character phrases
    are found by a NumPy comparison. A phrase made of ASCII letters or digits (``315``, ``qq``)
    only matches as a whole word.
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
        self._engine = _engine_class(engine)([self.patterns[i] for i in self._multi], [])
        self._ascii = np.array([bool(re.fullmatch(r"[a-z0-9]+", p)) for p in self.patterns], dtype=bool)

    def find(self, block: NormalizedBlock) -> Matches:
        """Every match in ``block``: arrays ``msg``, ``entry`` (index into labels/written), ``start``, ``end``."""
        (pid, cstart, cend), _ = self._engine.scan(block)
        pid, cstart, cend = _with_single(self._multi[pid], cstart, cend, self._single, block)
        msg, start, end, inside = block.locate_compact(cstart, cend)
        pid = pid[inside]
        ascii_phrase = self._ascii[pid]
        keep = _outside_ascii_words(block, msg, start, end, ascii_phrase, ascii_phrase, right=_ASCII_WORD)
        keep &= _tight(start, end, cstart[inside], cend[inside])
        pid, msg, start, end = pid[keep], msg[keep], start[keep], end[keep]
        counts = np.array([len(self._entries[p]) for p in pid], dtype=np.int64)
        entry = np.array([e for p in pid for e in self._entries[p]], dtype=np.int64)
        return {"msg": np.repeat(msg, counts), "entry": entry,
                "start": np.repeat(start, counts), "end": np.repeat(end, counts)}
