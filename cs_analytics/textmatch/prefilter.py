"""Which messages can hold a match of a Python regex, asked of RE2 in one vectorised Arrow call.

Python ``re`` scans a million messages' text at a few MB/s when a pattern does not start with a literal
(``\\d{1,3}…小时``); RE2 (``pyarrow.compute.match_substring_regex``, which releases the GIL) tells at
once which messages can match, and Python then runs only over those (``normalize.spans_within``'s
``messages``). ``re2_superset`` writes a Python pattern as an RE2 one that matches wherever the Python
one can: character categories are spelled out as Python defines them (``\\d`` is any Unicode decimal
digit, ``\\s`` any ``str.isspace`` character); ``.`` takes a newline too; lookarounds, anchors and word
boundaries are dropped. All of that only widens it. It gives None where it cannot promise that (back-references, case-insensitive
matching, repeats beyond RE2's limit); then every message is scanned, as before. Asked of a block's texts
before folding (``unfold``: what ``normalize_block`` was given, so no folded copy of every text is made),
each class takes every character that folds into it too; a scan's patterns go to RE2 together first.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .safe_regex import sre_parse

LAST_CODE_POINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)      # not characters: never in valid text, never in an RE2 class
RE2_MAX_REPEAT = 1000


@lru_cache(maxsize=None)
def _category(name: str, widest: bool = True) -> tuple[tuple[int, int], ...]:
    """The code point ranges Python's ``\\d``, ``\\s``, ``\\w`` or their negations (``name``: an sre
    CATEGORY) match: the widest of the Unicode and ASCII readings, or the narrowest (for a negated class),
    so the translation stays a superset whichever flags the pattern sets where."""
    letter = {"DIGIT": "d", "SPACE": "s", "WORD": "w"}[name.removeprefix("CATEGORY_").removeprefix("NOT_")]
    negated = "NOT_" in name
    unicode = widest != negated          # \d widest: Unicode digits; \D widest: all but ASCII digits
    runs = []
    for first, last in ((0, SURROGATES[0] - 1), (SURROGATES[1] + 1, LAST_CODE_POINT)):
        text = np.arange(first, last + 1, dtype="<u4").tobytes().decode("utf-32-le")   # every code point in turn
        runs += [(ord(m.group()[0]), ord(m.group()[-1]))
                 for m in re.finditer(f"\\{letter}+", text, 0 if unicode else re.ASCII)]
    return _complement(runs) if negated else tuple(runs)


def _complement(ranges) -> tuple[tuple[int, int], ...]:
    """Every code point (surrogates aside) outside ``ranges``."""
    out, next_free = [], 0
    for first, last in sorted(ranges) + [(SURROGATES[0], SURROGATES[1]), (LAST_CODE_POINT + 1, LAST_CODE_POINT + 1)]:
        if first > next_free:
            out.append((next_free, first - 1))
        next_free = max(next_free, last + 1)
    return tuple((a, b) for a, b in out if not (a >= SURROGATES[0] and b <= SURROGATES[1]))


def _char(code: int) -> str:
    return chr(code) if chr(code).isascii() and chr(code).isalnum() else f"\\x{{{code:x}}}"


def _re2_class(ranges) -> str | None:
    """An RE2 character class of ``ranges`` (None when empty: it can never match)."""
    parts = []
    for first, last in sorted(ranges):
        if last < SURROGATES[0] or first > SURROGATES[1]:
            parts.append((first, last))
        else:          # keep the parts either side of the surrogates
            parts += [p for p in ((first, SURROGATES[0] - 1), (SURROGATES[1] + 1, last)) if p[0] <= p[1]]
    if not parts:
        return None
    return "[" + "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in parts) + "]"


@lru_cache(maxsize=None)
def _unfolded(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """Every code point that folds into ``ranges`` (``normalize.fold_table``; astral characters fold to
    themselves): a text holds a character of ``ranges`` in its folded view where it holds one of these."""
    from .normalize import fold_table

    if not ranges:
        return ()
    bounds = np.array(sorted(ranges), dtype=np.int64)
    reach = np.maximum.accumulate(bounds[:, 1])            # overlapping ranges: the farthest end so far
    folded = fold_table().astype(np.int64)
    at = np.searchsorted(bounds[:, 0], folded, side="right") - 1
    inside = (at >= 0) & (folded <= reach[np.maximum(at, 0)])
    edges = np.flatnonzero(np.diff(np.r_[0, inside.astype(np.int8), 0]))
    runs = [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2])]
    astral = [(max(a, 0x10000), b) for a, b in ranges if b >= 0x10000]
    return tuple(runs + astral)


def re2_superset(pattern: str, unfold: bool = False) -> str | None:
    """An RE2 pattern that matches every text the Python ``pattern`` has a match in (see the module
    docstring); None when it cannot be written. ``unfold``: for the texts as they were before folding
    (each character class widened to every character that folds into it), so a block's original texts
    can be asked instead of its folded ones."""
    return _re2_superset(pattern, unfold)


@lru_cache(maxsize=256)
def _re2_superset(pattern: str, unfold: bool) -> str | None:
    def _class(ranges) -> str | None:
        return _re2_class(_unfolded(tuple(ranges)) if unfold else ranges)

    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None

    def items_ranges(items) -> list[tuple[int, int]] | None:
        negate = any(str(op) == "NEGATE" for op, _ in items)
        ranges = []
        for op, arg in items:
            name = str(op)
            if name == "NEGATE":
                continue
            elif name == "LITERAL":
                ranges.append((arg, arg))
            elif name == "RANGE":
                ranges.append(arg)
            elif name == "CATEGORY":
                ranges += _category(str(arg), widest=not negate)
            else:
                return None
        return list(_complement(ranges)) if negate else ranges

    def walk(tree) -> str | None:
        out = []
        for op, arg in tree:
            name = str(op)
            if name == "LITERAL":
                piece = _class([(arg, arg)])
            elif name == "NOT_LITERAL":
                piece = _class(_complement([(arg, arg)]))
            elif name == "ANY":
                piece = "(?s:.)"                 # a newline too: wider than Python's . without DOTALL
            elif name == "IN":
                ranges = items_ranges(arg)
                piece = None if ranges is None else _class(ranges)
            elif name == "CATEGORY":
                piece = _class(_category(str(arg)))
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                low, high, sub = arg
                inner = walk(sub)
                if inner is None or low > RE2_MAX_REPEAT:
                    return None
                upper = "" if high == sre_parse.MAXREPEAT or high > RE2_MAX_REPEAT else str(high)
                piece = f"(?:{inner}){{{low},{upper}}}"
            elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
                if name == "SUBPATTERN" and arg[1] & re.IGNORECASE:
                    return None
                inner = walk(arg[-1] if name == "SUBPATTERN" else arg)
                piece = None if inner is None else f"(?:{inner})"
            elif name == "BRANCH":
                branches = [walk(b) for b in arg[1]]
                piece = None if None in branches else "(?:" + "|".join(branches) + ")"
            elif name in ("AT", "ASSERT", "ASSERT_NOT"):
                piece = ""                       # zero-width conditions: dropped, the pattern only widens
            else:
                return None
            if piece is None:
                return None
            out.append(piece)
        return "".join(out)

    return walk(parsed)


def candidate_messages(texts, pattern: str, unfold: bool = False) -> np.ndarray | None:
    """The positions of ``texts`` (an Arrow string array) where Python's ``pattern`` can match (RE2 run
    over every text at once); None when the pattern has no RE2 form (then every message is a candidate).
    ``unfold``: ``texts`` are not folded yet (``re2_superset``)."""
    translated = re2_superset(pattern, unfold)
    found = None if translated is None else _re2_matches(texts, translated)
    return None if found is None else np.flatnonzero(found)


def _re2_matches(texts, translated: str) -> np.ndarray | None:
    """Whether RE2's ``translated`` has a match in each of ``texts`` (a missing text reads as empty);
    None when RE2 refuses the pattern."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        found = pc.match_substring_regex(texts, translated)
        if found.null_count:
            found = pc.fill_null(found, pc.match_substring_regex(pa.array([""]), translated)[0])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):    # RE2 refused it after all
        return None
    return found.to_numpy(zero_copy_only=False)


def block_candidates(block, patterns: list[str]) -> list[np.ndarray | None]:
    """``candidate_messages`` of each of ``patterns`` in ``block``'s messages, asked of the texts the block
    was made from when it has them (``unfold``: no folded copy of every text is made), else of its folded
    texts. With two patterns or more, RE2 goes over every text once for all of them together, then over
    the texts that pass found for each pattern."""
    import pyarrow as pa

    texts, unfold = (block.folded_texts, False) if block.source is None else (block.source, True)
    translated = [re2_superset(pattern, unfold) for pattern in patterns]
    usable = [t for t in translated if t is not None]
    rows = None
    if len(usable) > 1:
        union = _re2_matches(texts, "|".join(f"(?:{t})" for t in usable))
        if union is not None:
            rows = np.flatnonzero(union)
            texts = texts.take(pa.array(rows))
    out = []
    for text in translated:
        found = None if text is None else _re2_matches(texts, text)
        out.append(None if found is None else np.flatnonzero(found) if rows is None else rows[found])
    return out


def match_reach(pattern: str) -> int | None:
    """How many characters past a match's start ``pattern`` can look (its longest match, lookaheads
    counted as if they consumed); None when unbounded, or when it asks for the end of the text (``$``,
    ``\\Z``), which a scan stopped early would see in the wrong place."""
    def reach(tree) -> int | None:
        total = 0
        for op, arg in tree:
            name = str(op)
            if name in ("LITERAL", "NOT_LITERAL", "ANY", "IN", "CATEGORY"):
                width = 1
            elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
                inner = reach(arg[2])
                if inner is None or arg[1] == sre_parse.MAXREPEAT:
                    return None
                width = inner * arg[1]
            elif name == "SUBPATTERN":
                width = reach(arg[-1])
            elif name == "ATOMIC_GROUP":
                width = reach(arg)
            elif name == "BRANCH":
                widths = [reach(b) for b in arg[1]]
                width = None if None in widths else max(widths)
            elif name in ("ASSERT", "ASSERT_NOT"):
                width = reach(arg[1]) if arg[0] == 1 else 0       # a lookahead looks on; a lookbehind back
            elif name == "AT":
                width = None if str(arg) in ("AT_END", "AT_END_STRING") else 1   # \b peeks at one more
            else:
                return None
            if width is None:
                return None
            total += width
        return total

    try:
        found = reach(sre_parse.parse(pattern))
    except re.error:
        return None
    return None if found is None else found + 1


def _starts_with_literal(pattern: str) -> bool:
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return False
    return len(parsed) > 0 and str(parsed[0][0]) == "LITERAL"


def prefiltered_spans(block, pattern: re.Pattern, sparse_below: float = 0.25) -> np.ndarray:
    """``block.regex_spans(pattern)``, with Python scanning only the messages RE2 says can match when
    they are fewer than ``sparse_below`` of the block (else it scans the whole block, which is then
    faster), each only as far as the pattern can look past them (``match_reach``; a pattern without
    that bound scans the whole block). A pattern that starts with a literal character is scanned whole
    at once: Python's ``re`` skips ahead to that character about as fast as RE2 would."""
    return prefiltered_spans_each(block, [pattern], sparse_below)[0]


def prefiltered_spans_each(block, patterns: list[re.Pattern], sparse_below: float = 0.25) -> list[np.ndarray]:
    """``prefiltered_spans`` of each of ``patterns``, RE2 asked about all of them at once (``block_candidates``)."""
    if not len(block):
        return [np.zeros((0, 2), dtype=np.int64) for _ in patterns]
    reaches = [None if _starts_with_literal(p.pattern) else match_reach(p.pattern) for p in patterns]
    asked = [i for i, reach in enumerate(reaches) if reach is not None]
    candidates = dict(zip(asked, block_candidates(block, [patterns[i].pattern for i in asked])))
    return [candidate_spans(block, pattern, candidates.get(i), sparse_below) for i, pattern in enumerate(patterns)]


MOST_ALTERNATIVES = 32       # a set of required literals grows by alternation and adjacency up to this size


def required_literals(pattern: str) -> list[tuple[str, ...]]:
    """Sets of strings such that every match of ``pattern`` holds one string of each set: its runs of
    literal characters, with alternations and classes of them multiplied out (``改[^，]{0,4}地址`` →
    {改}, {地址}; ``(一直|总是)(没|不)`` → {一直没, 一直不, 总是没, 总是不}; ``[?][!]|[!][?]`` → {?!, !?}) and
    required repeats and optional parts written out (``!{2,}`` → {!!}; ``天(了)?(没|不)`` → {天没, 天不, 天了没,
    天了不}). [] when none is known, or when the pattern ignores case."""
    try:
        parsed = sre_parse.parse(pattern)
    except re.error:
        return []
    if parsed.state.flags & re.IGNORECASE:
        return []

    def product(left: set[str] | None, right: set[str] | None) -> set[str] | None:
        if left is None or right is None or len(left) * len(right) > MOST_ALTERNATIVES:
            return None
        return {a + b for a in left for b in right}

    def exact(item) -> set[str] | None:
        """The strings one item matches, when they are few and fixed."""
        op, arg = item
        name = str(op)
        if name == "LITERAL":
            return {chr(arg)}
        if name == "IN" and all(str(o) == "LITERAL" for o, _ in arg) and len(arg) <= MOST_ALTERNATIVES:
            return {chr(a) for _, a in arg}
        if name == "SUBPATTERN" and not (arg[1] | arg[2]):
            return exact_sequence(arg[-1])
        if name == "BRANCH":
            branches = [exact_sequence(b) for b in arg[1]]
            if None in branches or sum(map(len, branches)) > MOST_ALTERNATIVES:
                return None
            return set().union(*branches)
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[1] <= 4:     # (了|都)? → {"", 了, 都}
            inner, times, out = exact_sequence(arg[2]), {""}, set()
            for count in range(arg[1] + 1):
                if count >= arg[0]:
                    out |= times
                times = product(times, inner) if count < arg[1] else times
                if times is None or len(out) > MOST_ALTERNATIVES:
                    return None
            return out
        return None

    def exact_sequence(items) -> set[str] | None:
        out: set[str] | None = {""}
        for item in items:
            out = product(out, exact(item))
        return out

    def best(sets: list[set[str]]) -> set[str] | None:
        """Of sets that are all required, the one likely rarest: longest shortest string, then fewest."""
        return max(sets, key=lambda s: (min(map(len, s)), -len(s)), default=None)

    def required(items) -> list[set[str]]:
        found: list[set[str]] = []
        run: set[str] = {""}                    # the exact strings of the items just before

        def close() -> None:
            nonlocal run
            if run != {""}:
                found.append(run)
            run = {""}

        for item in items:
            strings = exact(item)
            if strings is not None:
                joined = product(run, strings)
                if joined is None:
                    close()
                    joined = strings
                run = joined
                continue
            close()
            op, arg = item
            name = str(op)
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[0] >= 1:
                inner = exact_sequence(arg[2])
                repeated = {""}
                for _ in range(min(arg[0], 4)):
                    repeated = product(repeated, inner)
                found += [repeated] if repeated not in (None, {""}) else required(arg[2])
            elif name == "SUBPATTERN" and not (arg[1] | arg[2]):
                found += required(arg[-1])
            elif name == "ATOMIC_GROUP":
                found += required(arg)
            elif name == "BRANCH":
                per_branch = [best(required(b)) for b in arg[1]]
                if None not in per_branch and sum(map(len, per_branch)) <= MOST_ALTERNATIVES:
                    found.append(set().union(*per_branch))
        close()
        return [s for s in found if "" not in s]

    return [tuple(sorted(s)) for s in required(parsed)]


def has_lookarounds(pattern: str) -> bool:
    """Whether ``pattern`` looks at text it does not match: lookarounds, anchors, word boundaries
    (a match of a pattern without them depends only on the characters it spans)."""
    def walk(items) -> bool:
        for op, arg in items:
            name = str(op)
            if name in ("AT", "ASSERT", "ASSERT_NOT", "GROUPREF", "GROUPREF_EXISTS"):
                return True
            if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and walk(arg[2]):
                return True
            if name == "SUBPATTERN" and walk(arg[-1]):
                return True
            if name == "ATOMIC_GROUP" and walk(arg):
                return True
            if name == "BRANCH" and any(walk(b) for b in arg[1]):
                return True
        return False

    try:
        return walk(sre_parse.parse(pattern))
    except re.error:
        return True


def candidate_spans(block, pattern: re.Pattern, messages: np.ndarray | None, sparse_below: float = 0.25) -> np.ndarray:
    """``block.regex_spans(pattern)`` when only ``messages`` (ascending) can hold a match (None: any can):
    Python scans just their runs when they are fewer than ``sparse_below`` of the block: a pattern that
    looks at nothing beyond its match (``has_lookarounds``) to the run's end (so a match cannot run on
    into the next message there, and needs no second look), another as far as it can look past a
    match's start (``match_reach``). Else it scans the whole block."""
    if messages is None or len(messages) >= sparse_below * len(block):
        return block.regex_spans(pattern)
    reach = match_reach(pattern.pattern) if has_lookarounds(pattern.pattern) else 0
    return block.regex_spans(pattern) if reach is None else block.regex_spans(pattern, messages, reach)
