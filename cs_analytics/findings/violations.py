"""Find rule violations in messages: one multi-pattern scan over many messages at once.

How a batch of messages is judged:

1. Messages whose role no rule applies to (customers, by default) are skipped.
2. The rest are normalised together (``textmatch.normalize.normalize_block``): a folded view with the original's
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
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa

from ..base.arrays import ranges
from ..base.schema import PLATFORMS, ROLES, as_messages
from ..textmatch.engines import (ASCII_LETTER, ASCII_WORD, Matches, RegexScope, drop_nested, engine_class,
                                 outside_ascii_words, select, tight, with_single_characters)
from ..textmatch.normalize import NormalizedBlock, SharedBlocks, TextSpans, normalize, normalize_block
from .rulebook import Rulebook, cache_key, disk_cached, load_rulebook

HIT_COLUMNS = (
    "message_id", "rule_id", "rule_label", "category", "subcategory", "severity", "start", "end", "matched", "suggest",
    "phrase", "evasion", "session_id", "seq", "ts", "platform", "shop", "agent_id", "role",
)
_PLATFORM_INDEX = {p: i for i, p in enumerate(PLATFORMS)}
# what an automaton entry or a regex stands for: a rule's phrase, an exception that must cover the
# match, or ``unless`` context that must stand elsewhere in the same message
HIT, EXCEPTION, UNLESS, UNLESS_PREVIOUS = 0, 1, 2, 3
_ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}


# ------------------------------------------------------------------------------ compilation ---
@dataclass
class _Automaton:
    """Literals found in one scan: the engine (multi-character literals), the one-character literals
    found by a NumPy comparison, and per literal the entries it stands for (rule, kind, platforms)."""

    engine: object
    engine_pids: np.ndarray       # engine pattern index → pattern id
    single: list[tuple[int, int]]  # (UTF-16 code unit, pattern id) of one-character literals
    patterns: list[str]
    entry_start: np.ndarray       # per pattern: first index into the entry arrays
    entry_count: np.ndarray       # per pattern: how many entries
    entry_rule: np.ndarray        # per entry: rule index
    entry_kind: np.ndarray        # per entry: HIT, EXCEPTION, UNLESS or UNLESS_PREVIOUS
    entry_platforms: np.ndarray   # per entry: bool [n_platforms] where the entry counts
    entry_variant: np.ndarray     # per entry: the phrase is an evasion variant
    entry_written: list[str]      # per entry: the phrase as written in the rulebook
    ascii_left: np.ndarray        # per pattern: starts with an ASCII letter/digit
    ascii_right: np.ndarray       # per pattern: ends with an ASCII letter


def _automaton(entries: dict[str, list], engine_class, prefilters: list[str]) -> _Automaton:
    patterns = list(entries)
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
    return _Automaton(
        engine=engine_class([patterns[i] for i in multi], prefilters),
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
        ascii_left=np.array([bool(ASCII_WORD.match(p[0])) for p in patterns], dtype=bool),
        ascii_right=np.array([bool(ASCII_LETTER.match(p[-1])) for p in patterns], dtype=bool),
    )


@dataclass
class CompiledRulebook:
    """A rulebook turned into arrays and two automata (built once, reused for every batch): ``main``
    holds the rules' phrases and exceptions and scans every message; ``context`` holds the ``unless``
    phrases and scans only the messages a rule with context has matched (and the messages before them)."""

    rulebook: Rulebook
    main: _Automaton
    context: _Automaton | None
    rule_roles: np.ndarray        # bool [n_rules, n_roles]
    rule_platforms: np.ndarray    # bool [n_rules, n_platforms]
    rule_max_chars: np.ndarray    # per rule: the longest message it judges (a large number when unlimited)
    rule_unless: np.ndarray       # per rule: it has context to look for in the same message
    rule_unless_previous: np.ndarray  # per rule: it has context to look for in the agent's previous message
    regexes: list[tuple[int, re.Pattern, int | None, int, np.ndarray]]   # (rule, pattern, prefilter index, kind, platforms)
    roles: frozenset[str]

    @property
    def engine_name(self) -> str:
        return self.main.engine.name


def compile_rulebook(rulebook: Rulebook | None = None, engine: str = "auto") -> CompiledRulebook:
    """Build the automata and lookup arrays for ``rulebook`` (default rulebook when None)."""
    rulebook = rulebook or load_rulebook()
    return _compile(rulebook, rulebook.version, engine)


@lru_cache(maxsize=8)
def _compile(rulebook: Rulebook, version: str, engine: str) -> CompiledRulebook:
    """The compiled rulebook, from the disk cache when a process compiled the same rules with the same
    engine and code before (Hyperscan's compiling takes most of a fifth of a second)."""
    engine_type = engine_class(engine)
    key = cache_key(__file__, extra=f"{version}\0{engine_type.__name__}\0{_engine_versions()}")
    compiled = disk_cached("compiled-rulebook", key, lambda: _build_compiled(rulebook, engine_type))
    compiled.rulebook = rulebook               # the caller's own (the same rules)
    return compiled


def _engine_versions() -> str:
    """The versions a compiled rulebook depends on beyond the code: the engines, NumPy, and what phrases are
    normalised with (OpenCC's tables, the Unicode data of this Python)."""
    import unicodedata
    from importlib.metadata import PackageNotFoundError, version

    out = [f"unicode={unicodedata.unidata_version}"]
    for name in ("hyperscan", "pyahocorasick", "numpy", "OpenCC"):
        try:
            out.append(f"{name}={version(name)}")
        except PackageNotFoundError:
            out.append(f"{name}=none")
    return ",".join(out)


def _build_compiled(rulebook: Rulebook, engine_type) -> CompiledRulebook:
    main: dict[str, list[tuple[int, int, np.ndarray, bool, str]]] = {}
    context: dict[str, list[tuple[int, int, np.ndarray, bool, str]]] = {}
    all_platforms = np.ones(len(PLATFORMS), dtype=bool)
    regexes = []
    prefilters: list[str] = []
    for r_idx, rule in enumerate(rulebook.rules):
        for key, written, variant in rule.patterns():
            main.setdefault(key, []).append((r_idx, HIT, all_platforms, variant, written))
        for exc in rule.exceptions:
            plats = all_platforms if exc.platforms is None else np.isin(PLATFORMS, list(exc.platforms))
            key = normalize(exc.phrase)
            if key:
                main.setdefault(key, []).append((r_idx, EXCEPTION, plats, False, exc.phrase))
        for kind, contexts in ((UNLESS, rule.unless), (UNLESS_PREVIOUS, rule.unless_previous)):
            for phrase_set in contexts:
                for phrase in phrase_set.phrases:
                    key = normalize(phrase)
                    if key:
                        context.setdefault(key, []).append((r_idx, kind, all_platforms, False, phrase))
                regexes += [(r_idx, re.compile(p), None, kind, all_platforms) for p in phrase_set.regex]
        for pattern, prefilter in rule.regex:
            if prefilter and prefilter not in prefilters:
                prefilters.append(prefilter)
            regexes.append((r_idx, re.compile(pattern), prefilters.index(prefilter) if prefilter else None, HIT,
                            all_platforms))
        regexes += [(r_idx, re.compile(e.pattern), None, EXCEPTION,
                     all_platforms if e.platforms is None else np.isin(PLATFORMS, list(e.platforms)))
                    for e in rule.exception_regex]
    rules = rulebook.rules
    return CompiledRulebook(
        rulebook=rulebook,
        main=_automaton(main, engine_type, prefilters),
        context=_automaton(context, engine_type, []) if context else None,
        rule_roles=np.array([[role in r.roles for role in ROLES] for r in rules], dtype=bool).reshape(len(rules), len(ROLES)),
        rule_platforms=np.array([[p in r.platforms for p in PLATFORMS] for r in rules], dtype=bool).reshape(len(rules), len(PLATFORMS)),
        rule_max_chars=np.array([r.max_chars or np.iinfo(np.int64).max for r in rules], dtype=np.int64),
        rule_unless=np.array([bool(r.unless) for r in rules], dtype=bool),
        rule_unless_previous=np.array([bool(r.unless_previous) for r in rules], dtype=bool),
        regexes=regexes,
        roles=frozenset(role for r in rules for role in r.roles),
    )


# ---------------------------------------------------------------------------------- matching ---


def _literal_matches(automaton: _Automaton, block: NormalizedBlock, platform_codes: np.ndarray) -> tuple[Matches, list]:
    """Every literal of ``automaton`` in a block, one row per entry it stands for (platform-filtered),
    and the messages each prefilter found."""
    (pid, cstart, cend), prefilter_ends = automaton.engine.scan(block)
    pid, cstart, cend = with_single_characters(automaton.engine_pids[pid], cstart, cend, automaton.single, block)
    msg, start, end, inside = block.locate_compact(cstart, cend)
    pid = pid[inside]
    # ASCII phrases must not be part of a longer ASCII word in the (folded) original
    keep = outside_ascii_words(block, msg, start, end, automaton.ascii_left[pid], automaton.ascii_right[pid])
    keep &= tight(start, end, cstart[inside], cend[inside])
    pid, msg, start, end = pid[keep], msg[keep], start[keep], end[keep]
    counts = automaton.entry_count[pid]
    rep = np.repeat(np.arange(len(pid)), counts)
    entry = np.repeat(automaton.entry_start[pid], counts) + ranges(counts)
    entry_ok = automaton.entry_platforms[entry, platform_codes[msg[rep]]] if len(entry) else np.zeros(0, dtype=bool)
    found = {
        "msg": msg[rep][entry_ok], "rule": automaton.entry_rule[entry][entry_ok],
        "start": start[rep][entry_ok], "end": end[rep][entry_ok],
        "kind": automaton.entry_kind[entry][entry_ok], "entry": entry[entry_ok],
    }
    candidates = [None if not len(e) else np.unique(block.locate_compact(e - 1, e)[0]) for e in prefilter_ends]
    return found, candidates


def _regex_matches(compiled: CompiledRulebook, block: NormalizedBlock, platform_codes: np.ndarray, kinds: tuple,
                   candidates: list | None = None, judged: np.ndarray | None = None) -> list[Matches]:
    """The matches of the rulebook's regexes of ``kinds`` in a block. Rule regexes run on the whole block
    or only in the messages their prefilter found; context regexes only where their rule has a match
    to judge (``judged``: message * n_rules + rule), cut at the message end."""
    n_rules = len(compiled.rulebook.rules)
    frames = []
    if judged is not None:           # the judged messages of each rule, found by one sort
        order = np.argsort(judged % n_rules, kind="stable")
        by_rule = judged[order]
        bounds = np.searchsorted(by_rule % n_rules, np.arange(n_rules + 1))

    def add(r_idx: int, spans: np.ndarray, kind: int, platforms: np.ndarray) -> None:
        if not len(spans):
            return
        m, s, e, _ = block.locate_folded(spans[:, 0], spans[:, 1])
        on_platform = platforms[platform_codes[m]]
        m, s, e = m[on_platform], s[on_platform], e[on_platform]
        frames.append({"msg": m, "rule": np.full(len(m), r_idx, dtype=np.int64), "start": s, "end": e,
                       "kind": np.full(len(m), kind, dtype=np.int8), "entry": np.full(len(m), -1, dtype=np.int64)})

    scopes: dict = {}                # the text each group of regexes scans, built once per group
    for r_idx, pattern, prefilter, kind, platforms in compiled.regexes:
        if kind not in kinds:
            continue
        if kind == HIT:
            if prefilter is None:
                add(r_idx, block.regex_spans(pattern), kind, platforms)
            elif candidates[prefilter] is not None:
                if ("prefilter", prefilter) not in scopes:
                    # a rule regex may start anywhere (您…): scan the whole block only when most messages are in
                    scopes[("prefilter", prefilter)] = RegexScope(block, candidates[prefilter], whole_above=0.5)
                scope = scopes[("prefilter", prefilter)]
                add(r_idx, scope.spans(pattern), kind, platforms)
            continue
        if ("rule", r_idx) not in scopes:
            messages = np.arange(len(block)) if judged is None else \
                np.unique(by_rule[bounds[r_idx]:bounds[r_idx + 1]] // n_rules)
            scopes[("rule", r_idx)] = RegexScope(block, messages)
        add(r_idx, scopes[("rule", r_idx)].spans(pattern), kind, platforms)
    return frames


def _apply_exceptions(raw: Matches, n_rules: int) -> Matches:
    """Drop hits that an exception of the same rule covers (exception start <= hit start, end >= end),
    and hits of a rule whose ``unless`` context stands elsewhere in the same message (not inside the hit)."""
    kind = raw["kind"]
    hits = select(raw, kind == HIT)
    dropped = np.zeros(len(hits["msg"]), dtype=bool)
    for context, covers in ((select(raw, kind == EXCEPTION), True), (select(raw, kind == UNLESS), False)):
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
    return select(hits, ~dropped)


def _empty_hits(messages: pd.DataFrame, compiled: CompiledRulebook) -> pd.DataFrame:
    """No hits, in the columns and dtypes hits have (``_hits_table`` of none)."""
    none = np.zeros(0, dtype=np.int64)
    return _hits_table({"rule": none, "entry": none, "start": none, "end": none, "row": none},
                       pa.array([], type=pa.large_string()), messages, compiled)


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
                    block_size: int = 200_000, blocks: SharedBlocks | None = None) -> pd.DataFrame:
    """Judge every message by its own platform and role; return the hits table (``HIT_COLUMNS``).

    ``messages`` is the canonical table from ``load_logs`` (needs ``message_id, role, platform, text``;
    ``session_id, seq, ts, shop, agent_id`` are carried along when present). ``rulebook`` defaults to
    the packaged one. Messages are judged in blocks of ``block_size`` (bounds memory; the result does
    not depend on it), or slices of the one block of them all that ``blocks`` (texts normalised once
    for every finding, ``analyze``) holds. ``start``/``end`` are offsets in the original ``text``; ``matched`` is that
    slice; ``phrase`` is the rulebook phrase (or regex rule) that matched and ``evasion`` is True when the text
    differs from it (spaces, symbols, full width, 繁体, pinyin or a homophone variant).
    """
    messages = as_messages(messages)
    compiled = compile_rulebook(rulebook, engine)
    rules = compiled.rulebook.rules
    if messages.empty or not rules:
        return _empty_hits(messages, compiled)
    role_all = _codes(messages["role"], _ROLE_INDEX, -1)
    platform_all = _codes(messages["platform"], _PLATFORM_INDEX, _PLATFORM_INDEX["other"])
    wanted = [_ROLE_INDEX[r] for r in compiled.roles]
    candidates = np.flatnonzero(np.isin(role_all, wanted))
    texts_all = messages["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    category_codes = pd.factorize(pd.Series([r.category for r in rules], dtype=object))[0]

    n_rules = len(rules)
    has_context = compiled.context is not None or any(k in (UNLESS, UNLESS_PREVIOUS) for _, _, _, k, _ in compiled.regexes)
    previous = _previous_in_session(messages, candidates) \
        if compiled.rule_unless_previous.any() and "session_id" in messages.columns else None

    def context_of(rows: np.ndarray, hits: Matches) -> tuple[Matches, np.ndarray]:
        """The ``unless`` context where a rule that has some matched: in the matched messages (for the
        same-message check, in block message numbers) and in the agent's message before each (as
        previous-row * n_rules + rule keys)."""
        wanted = compiled.rule_unless[hits["rule"]] | compiled.rule_unless_previous[hits["rule"]]
        hit_rows, hit_rules = rows[hits["msg"][wanted]], hits["rule"][wanted]
        looks_back = compiled.rule_unless_previous[hit_rules] & (previous is not None)
        before = previous[hit_rows[looks_back]] if previous is not None else hit_rows[:0]
        known = before >= 0
        subrows = np.unique(np.concatenate([hit_rows, before[known]]))
        empty = {k: v[:0] for k, v in hits.items()}
        if not len(subrows):
            return empty, np.zeros(0, dtype=np.int64)
        sub = normalize_block(texts_all.take(subrows))
        frames = []
        if compiled.context is not None:
            found, _ = _literal_matches(compiled.context, sub, platform_all[subrows])
            frames.append(found)
        judged = np.concatenate([np.searchsorted(subrows, hit_rows) * n_rules + hit_rules,
                                 np.searchsorted(subrows, before[known]) * n_rules + hit_rules[looks_back][known]])
        frames += _regex_matches(compiled, sub, platform_all[subrows], (UNLESS, UNLESS_PREVIOUS), judged=judged)
        if not frames:
            return empty, np.zeros(0, dtype=np.int64)
        found = {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}
        row_of = subrows[found["msg"]]
        back = found["kind"] == UNLESS_PREVIOUS
        looked_back = row_of[back] * n_rules + found["rule"][back]
        # same-message context, renumbered to this block's messages
        same = select(found, (found["kind"] == UNLESS) & np.isin(row_of, rows))
        same["msg"] = np.searchsorted(rows, subrows[same["msg"]])      # a block's rows are in ascending order
        return same, looked_back

    looked_back_all: list[np.ndarray] = []

    def judge_block(rows: np.ndarray) -> Matches | None:
        block = normalize_block(texts_all.take(rows)) if blocks is None else blocks.block(rows)
        platforms = platform_all[rows]
        found, candidates_ = _literal_matches(compiled.main, block, platforms)
        frames = [found] + _regex_matches(compiled, block, platforms, (HIT,), candidates=candidates_)
        raw = {k: np.concatenate([f[k] for f in frames]) for k in frames[0]}
        if not len(raw["msg"]):
            return None
        msg, rule = raw["msg"], raw["rule"]
        role = role_all[rows][msg]
        applies = (role >= 0) & compiled.rule_roles[rule, np.maximum(role, 0)]
        applies &= compiled.rule_platforms[rule, platforms[msg]]
        applies &= block.lengths[msg] <= compiled.rule_max_chars[rule]
        raw = select(raw, applies | (raw["kind"] != HIT))
        judged = raw["msg"][raw["kind"] == HIT] * n_rules + raw["rule"][raw["kind"] == HIT]
        extra = _regex_matches(compiled, block, platforms, (EXCEPTION,), judged=judged)
        if extra:
            raw = {k: np.concatenate([raw[k]] + [f[k] for f in extra]) for k in raw}
        if has_context:
            same, looked_back = context_of(rows, select(raw, raw["kind"] == HIT))
            raw = {k: np.concatenate([raw[k], same[k]]) for k in raw}
            looked_back_all.append(looked_back)
        hits = drop_nested(_apply_exceptions(raw, n_rules), category_codes)
        if not len(hits["msg"]):
            return None
        hits["row"] = rows[hits["msg"]]
        return hits, TextSpans(block).take(hits["msg"], hits["start"], hits["end"])       # and the matched texts

    if blocks is not None and len(candidates):
        blocks.block(candidates)              # one block of them all, each part of it a slice
    parts = [p for p in map(judge_block, [candidates[lo:lo + block_size] for lo in range(0, len(candidates), block_size)])
             if p is not None]
    if not parts:
        return _empty_hits(messages, compiled)
    hits = {k: np.concatenate([p[k] for p, _ in parts]) for k in parts[0][0]}
    matched = pa.concat_arrays([m for _, m in parts])
    if previous is not None and looked_back_all:
        back = compiled.rule_unless_previous[hits["rule"]] & (previous[hits["row"]] >= 0)
        key = previous[hits["row"]] * n_rules + hits["rule"]
        kept = ~(back & np.isin(key, np.concatenate(looked_back_all)))
        hits, matched = select(hits, kept), matched.filter(pa.array(kept))
    return _hits_table(hits, matched, messages, compiled)


def _previous_in_session(messages: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """For every row of ``messages``: the row of the previous judged message (one of ``rows``) in the
    same session, by ``seq`` (export order without it); -1 for the first and for rows not judged."""
    out = np.full(len(messages), -1, dtype=np.int64)
    if not len(rows):
        return out
    session = pd.factorize(messages["session_id"])[0][rows]       # native on Arrow strings
    seq = messages["seq"].to_numpy()[rows] if "seq" in messages.columns else np.arange(len(rows))
    # load_logs hands the messages over in session order: then the previous one is the one before
    in_order = bool(np.all((session[1:] > session[:-1]) | ((session[1:] == session[:-1]) & (seq[1:] >= seq[:-1]))))
    order = np.arange(len(rows)) if in_order else np.lexsort((np.arange(len(rows)), seq, session))
    ordered = rows[order]
    same = np.zeros(len(ordered), dtype=bool)
    same[1:] = session[order][1:] == session[order][:-1]
    out[ordered[1:][same[1:]]] = ordered[:-1][same[1:]]
    return out


def _rule_column(rules, rule_index: np.ndarray, field: str) -> pd.Categorical:
    """A per-hit column of a rule attribute, as a categorical (cheap for many hits, few rules)."""
    codes, uniques = pd.factorize(pd.Series([getattr(r, field) for r in rules], dtype=object), use_na_sentinel=True)
    return pd.Categorical.from_codes(codes[rule_index], categories=pd.Index(uniques, dtype=object))


def _hits_table(hits: Matches, matched, messages: pd.DataFrame, compiled: CompiledRulebook) -> pd.DataFrame:
    """The hits table of ``hits`` and their ``matched`` texts (an Arrow string array)."""
    import pyarrow.compute as pc

    rules = compiled.rulebook.rules
    rule = hits["rule"]
    entry = hits["entry"]
    is_phrase = entry >= 0
    # the phrase as written, or regex:<rule id>: taken from one array of both by number
    written = pa.array(compiled.main.entry_written + [f"regex:{r.id}" for r in rules], type=pa.large_string())
    phrase = written.take(np.where(is_phrase, entry, len(compiled.main.entry_written) + rule))
    variant = np.where(is_phrase, compiled.main.entry_variant[np.maximum(entry, 0)], False)
    evasion = is_phrase & (variant | pc.not_equal(matched, phrase).to_numpy(zero_copy_only=False))
    rows = hits["row"]
    string = pd.StringDtype("pyarrow")
    out = pd.DataFrame({
        "message_id": messages["message_id"].array.take(rows),
        "rule_id": _rule_column(rules, rule, "id"),
        "rule_label": _rule_column(rules, rule, "label"),
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
