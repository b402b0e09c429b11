"""Text normalisation for rule matching, with spans that map back to the original text.

Two views of a text are made (the rules in resources/normalization.yaml):

- **folded**: every character folded one-to-one (NFKC where it gives one character, lower case,
  Traditional → Simplified). Same length as the original, so a span in it is a span in the original.
- **compact**: the folded text without evasion separators (spaces, ``*``, ``-``, zero-width
  characters, emoji …), so ``支 付 宝`` and ``微-信`` read ``支付宝`` and ``微信``.

Many messages are normalised at once (``normalize_block``): they are run together into one string
and folded with a lookup table over UTF-16 code units in NumPy, which is what makes matching a
million messages a second possible. ``normalize``/``fold`` do the same for one string. ``SharedBlocks``
keeps the blocks of one table's texts so that steps scanning the same messages normalise them once.
"""
from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain

import numpy as np

from ..base import config
from ..base.arrays import ranges
from ..base.layering import load_yaml

_SURROGATES = slice(0xD800, 0xE000)


@lru_cache(maxsize=1)
def normalization_spec() -> dict:
    """The separator and folding settings (resources/normalization.yaml)."""
    return load_yaml((config.RESOURCES_DIR / "normalization.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[str, str]:
    """Single-character t2s pairs from OpenCC (characters whose t2s form is one other character)."""
    import opencc

    chars = [chr(c) for c in range(0x3400, 0xA000)] + [chr(c) for c in range(0xF900, 0xFB00)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - a change in OpenCC's output shape
        raise RuntimeError("OpenCC t2s changed the number of lines; cannot build the character table")
    return {a: b for a, b in zip(chars, converted) if a != b and len(b) == 1}


@lru_cache(maxsize=1)
def fold_table() -> np.ndarray:
    """uint16 lookup table: UTF-16 code unit → folded code unit (identity for surrogates)."""
    t2s = _traditional_to_simplified()
    table = np.arange(0x10000, dtype=np.uint16)
    for code in range(0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        ch = chr(code)
        folded = unicodedata.normalize("NFKC", ch)
        if len(folded) != 1:
            folded = ch
        folded = folded.lower() if len(folded.lower()) == 1 else folded
        folded = t2s.get(folded, folded)
        if ord(folded) < 0x10000:
            table[code] = ord(folded)
    return table


@lru_cache(maxsize=1)
def separator_table() -> np.ndarray:
    """bool lookup table over folded UTF-16 code units: True where the unit is an evasion separator."""
    spec = normalization_spec()
    categories = set(spec["separator_categories"])
    table = np.zeros(0x10000, dtype=bool)
    for code in range(0x10000):
        if not 0xD800 <= code < 0xE000 and unicodedata.category(chr(code)) in categories:
            table[code] = True
    for ch in spec["separators"]:
        table[ord(ch)] = True
    table[_SURROGATES] = True          # astral characters (emoji) are separators in the compact view
    return table


def _to_units(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _from_units(units: np.ndarray) -> str:
    return codecs.utf_16_le_decode(units, "surrogatepass", True)[0]     # read in place, no copy of the bytes


def fold(text: str) -> str:
    """Fold ``text`` one-to-one (NFKC single characters, lower case, 繁→简); same length as ``text``."""
    return _from_units(fold_table()[_to_units(text)])


def normalize(text: str) -> str:
    """The compact view of ``text``: folded, without evasion separators. What phrases match on."""
    folded = fold_table()[_to_units(text)]
    return _from_units(folded[~separator_table()[folded]])


@dataclass
class NormalizedBlock:
    """Many messages normalised together.

    ``original``, ``folded`` and ``compact`` are the messages run together (no separator between
    them; a match that crosses from one message into the next is not a match). ``starts``/``lengths``
    give each message's place in ``original`` (and ``folded``, which has the same offsets).
    ``locate_compact`` and ``locate_folded`` turn view offsets into (message, start, end) within
    that message's original text.
    """

    original: str
    folded: str
    compact_utf16: bytes          # the compact view as UTF-16-LE (what a byte-level engine scans)
    starts: np.ndarray            # str offsets of each message in ``original``
    lengths: np.ndarray           # str length of each message
    _removed_shift: np.ndarray    # removed UTF-16 positions minus their rank (compact → UTF-16)
    _low_surrogates: np.ndarray   # UTF-16 positions of low surrogates (UTF-16 → str offsets)
    source: object = None         # the Arrow string array the block was made from (None: made from a list)

    def __len__(self) -> int:
        return len(self.starts)

    @cached_property
    def compact(self) -> str:
        """The compact view as a string (decoded on first use; a byte-level engine does not need it)."""
        return self.compact_utf16.decode("utf-16-le", "surrogatepass")

    def text(self, message: int) -> str:
        """The original text of one message."""
        start = int(self.starts[message])
        return self.original[start:start + int(self.lengths[message])]

    def _compact_to_units(self, positions: np.ndarray) -> np.ndarray:
        return positions + np.searchsorted(self._removed_shift, positions, side="right")

    def _units_to_str(self, units: np.ndarray) -> np.ndarray:
        if not len(self._low_surrogates):
            return units
        return units - np.searchsorted(self._low_surrogates, units, side="left")

    def _split(self, starts: np.ndarray, ends: np.ndarray):
        message = np.searchsorted(self.starts, starts, side="right") - 1
        at = self.starts[message]
        start, end = starts - at, ends - at
        inside = end <= self.lengths[message]
        if inside.all():
            return message, start, end, inside
        return message[inside], start[inside], end[inside], inside

    def locate_compact(self, starts, ends):
        """Compact-view spans [start, end) → (message, start, end, kept mask); spans crossing messages are dropped."""
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        if not len(starts):
            return starts, starts, starts, np.zeros(0, dtype=bool)
        # a span's last unit is as far from its first in UTF-16 as in the compact view unless a removed
        # separator lies between them (then it is looked up as the first was)
        removed_before = np.searchsorted(self._removed_shift, starts, side="right")
        next_removed = np.append(self._removed_shift, np.iinfo(np.int64).max)[removed_before]
        last = ends - 1 + removed_before
        spread = np.flatnonzero(next_removed < ends)
        last[spread] = self._compact_to_units(ends[spread] - 1)
        return self._split(self._units_to_str(starts + removed_before), self._units_to_str(last) + 1)

    def regex_spans(self, pattern, messages: np.ndarray | None = None, reach: int | None = None) -> np.ndarray:
        """Every match of ``pattern`` in the folded view, each within one message (``spans_within``); only
        in ``messages`` (ascending) when given, where the others are known to hold none."""
        return spans_within(pattern, self.folded, self.starts, self.lengths, messages, reach)

    @cached_property
    def folded_code_points(self) -> np.ndarray:
        """The folded view as code points (uint32, one per ``str`` offset): runs of messages cut out of it at once."""
        return np.frombuffer(self.folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    def folded_runs(self, messages: np.ndarray) -> str:
        """The folded texts of ``messages`` run together (no Python call per message)."""
        lengths = self.lengths[messages]
        points = self.folded_code_points[np.repeat(self.starts[messages], lengths) + ranges(lengths)]
        return codecs.utf_32_le_decode(points, "surrogatepass", True)[0]

    @cached_property
    def folded_texts(self):
        """Each message's folded text, as an Arrow large_string array (for vectorised kernels such as RE2)."""
        import pyarrow as pa

        units = _to_units(self.folded)
        width = np.full(len(units), 3, dtype=np.uint8)      # UTF-8 bytes per code unit
        width -= units < 0x800
        width -= units < 0x80
        width -= (units & 0xF800) == 0xD800                 # a surrogate pair is 4 bytes: 2 for each unit
        astral = self._low_surrogates - 1 - np.arange(len(self._low_surrogates))   # str offsets of astral characters
        unit_start = self.starts + np.searchsorted(astral, self.starts, side="left")
        filled = np.diff(np.append(unit_start, len(units))) > 0
        size = np.zeros(len(self.starts), dtype=np.int64)   # UTF-8 bytes of each message
        if filled.any():
            size[filled] = np.add.reduceat(width, unit_start[filled], dtype=np.int64)
        offsets = np.zeros(len(self.starts) + 1, dtype=np.int64)
        np.cumsum(size, out=offsets[1:])
        data = self.folded.encode("utf-8", "surrogatepass")
        return pa.LargeStringArray.from_buffers(len(self.starts), pa.py_buffer(offsets), pa.py_buffer(data))

    def slice(self, first: int, stop: int) -> NormalizedBlock:
        """Messages ``first`` to ``stop - 1`` of this block, as ``normalize_block`` of their texts gives them
        (folding is per code unit, so a slice of the views is the views of the slice)."""
        lo = int(self.starts[first]) if stop > first else 0
        hi = int(self.starts[stop - 1] + self.lengths[stop - 1]) if stop > first else 0
        # str offsets → UTF-16 units (each astral character before an offset adds a unit)
        astral = self._low_surrogates - 1 - np.arange(len(self._low_surrogates))
        unit_lo, unit_hi = (int(x + np.searchsorted(astral, x, side="left")) for x in (lo, hi))
        low = self._low_surrogates[(self._low_surrogates >= unit_lo) & (self._low_surrogates < unit_hi)] - unit_lo
        removed = self._removed_shift + np.arange(len(self._removed_shift))
        inside = (removed >= unit_lo) & (removed < unit_hi)
        kept_before = unit_lo - int(np.searchsorted(removed, unit_lo))
        kept_upto = unit_hi - int(np.searchsorted(removed, unit_hi))
        removed = removed[inside] - unit_lo
        return NormalizedBlock(
            original=self.original[lo:hi], folded=self.folded[lo:hi],
            compact_utf16=self.compact_utf16[2 * kept_before:2 * kept_upto],
            starts=self.starts[first:stop] - lo, lengths=self.lengths[first:stop],
            _removed_shift=removed - np.arange(len(removed)), _low_surrogates=low,
            source=None if self.source is None else self.source.slice(first, stop - first))

    def locate_folded(self, starts, ends):
        """Folded-view spans (original offsets of the run-together text) → (message, start, end, kept mask);
        a span that runs on into the next message is dropped (``regex_spans`` gives none such)."""
        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        if not len(starts):
            return starts, starts, starts, np.zeros(0, dtype=bool)
        return self._split(starts, ends)


def spans_within(pattern, text: str, starts: np.ndarray, lengths: np.ndarray,
                 messages: np.ndarray | None = None, reach: int | None = None) -> np.ndarray:
    """Every match of ``pattern`` in ``text`` (messages run together: ``starts``/``lengths``), as offsets
    (n × 2), each within one message, as if each message were scanned from its own start (lookarounds
    still see the neighbours): a match that would run on into the next message is looked for again
    inside its own message (where an optional tail simply stops at the message end), and the scan goes
    on from the next message's start (``_resynced``). The scan runs at the regex engine's speed; only
    the rare match across a boundary costs a second look.

    ``messages`` (ascending indices): scan only the runs of these messages, the rest being known to hold
    no match (``prefilter.candidate_messages``); the text around them is still there for lookarounds.
    ``reach``: how far past a match's start the pattern can look (``prefilter.match_reach``); a scan
    whose matches must start before some point then stops ``reach`` characters past it instead of
    searching on to the next match however far away (without ``reach`` it does)."""
    ends_of = starts + lengths
    if messages is None:
        runs = [(0, None)]      # (scan from, only matches starting before): the whole text
    else:
        messages = np.asarray(messages, dtype=np.int64)
        first = np.r_[True, messages[1:] != messages[:-1] + 1] if len(messages) else np.zeros(0, dtype=bool)
        last = np.r_[first[1:], True] if len(messages) else first
        runs = list(zip(starts[messages[first]].tolist(), ends_of[messages[last]].tolist()))
    scanned, counts, bounds = [], [], []
    for pos, stop in runs:           # the regex engine per run; everything else once, over all runs
        endpos = len(text) if stop is None or reach is None else min(len(text), stop + reach)
        before = len(scanned)
        if stop is None:
            scanned.extend(map(re.Match.span, pattern.finditer(text, pos)))
        else:
            for m in pattern.finditer(text, pos, endpos):
                if m.start() >= stop:
                    break
                scanned.append(m.span())
        counts.append(len(scanned) - before)
        bounds.append((stop, endpos))
    if not scanned:
        return np.zeros((0, 2), dtype=np.int64)
    spans = np.fromiter(chain.from_iterable(scanned), dtype=np.int64, count=2 * len(scanned)).reshape(-1, 2)
    limit = ends_of[np.searchsorted(starts, spans[:, 0], side="right") - 1]
    crossing = spans[:, 1] > limit
    if not crossing.any():
        return spans[np.lexsort((spans[:, 1], spans[:, 0]))]
    run_ends = np.cumsum(counts)
    found = []
    run_of = np.repeat(np.arange(len(counts)), counts)
    crossed_runs = np.unique(run_of[crossing])
    found.append(spans[~np.isin(run_of, crossed_runs)])
    for r in crossed_runs.tolist():     # rare: a match ran on into the next message
        lo, hi = int(run_ends[r] - counts[r]), int(run_ends[r])
        found.extend(_confined_run(pattern, text, starts, ends_of, bounds[r], spans[lo:hi], limit[lo:hi],
                                   np.flatnonzero(crossing[lo:hi])))
    spans = np.concatenate(found)
    return spans[np.lexsort((spans[:, 1], spans[:, 0]))]


def _confined_run(pattern, text, starts, ends_of, bound, spans, limit, crossing) -> list[np.ndarray]:
    """One run's matches (``spans``, their messages' ends ``limit``) with those at ``crossing`` (which ran
    across a message boundary) looked for again inside their own message, and the scan resynced from
    the next message's start (``_Rescan``)."""
    stop, endpos = bound
    scan = _Rescan(pattern, text, starts, ends_of, stop, endpos)
    found, i = [], 0
    for c in crossing.tolist():
        if c < i:                         # among the matches a rescan already replaced
            continue
        found.append(spans[i:c])
        found.append(scan.confined(int(spans[c, 0]), int(limit[c])))
        again, i = scan.resynced(int(limit[c]), spans, c + 1)
        found.append(again)
    found.append(spans[i:])
    return found


class _Rescan:
    """The second look ``spans_within`` takes after a match ran across a message boundary."""

    def __init__(self, pattern, text: str, starts: np.ndarray, ends_of: np.ndarray, stop: int | None, endpos: int):
        self.pattern, self.text, self.starts, self.ends_of = pattern, text, starts, ends_of
        self.stop, self.endpos = stop, endpos

    def confined(self, start: int, message_end: int) -> np.ndarray:
        """The matches from ``start`` within its message (the text ending at ``message_end``)."""
        spans = [m.span() for m in self.pattern.finditer(self.text, start, message_end)]
        return np.array(spans, dtype=np.int64).reshape(-1, 2)

    def resynced(self, pos: int, spans: np.ndarray, k: int) -> tuple[np.ndarray, int]:
        """The scan started again at ``pos`` (a message's start), until it finds a match of the first scan
        (``spans[k:]``): from there on the two scans agree (a regex scan goes on from where its last
        match ended). Returns the new matches (each within its message) and the index in ``spans`` from
        which the first scan's matches stand (``len(spans)`` when they never met)."""
        out = []
        n = len(spans)
        while True:
            for m in self.pattern.finditer(self.text, pos, self.endpos):
                start, end = m.span()
                if self.stop is not None and start >= self.stop:
                    return _as_spans(out), n
                while k < n and spans[k, 0] < start:
                    k += 1                        # matches of the first scan this one skipped: not matches
                if k < n and spans[k, 0] == start and spans[k, 1] == end:
                    return _as_spans(out), k
                message_end = int(self.ends_of[np.searchsorted(self.starts, start, side="right") - 1])
                if end > message_end:             # across a boundary again: confined, then the next message
                    out.extend(map(tuple, self.confined(start, message_end).tolist()))
                    pos = message_end
                    break
                out.append((start, end))
            else:
                return _as_spans(out), n


def _as_spans(spans: list) -> np.ndarray:
    return np.array(spans, dtype=np.int64).reshape(-1, 2)


class TextSpans:
    """Cuts spans out of a block's messages' original texts at once (no Python string per span): the
    characters of every span are gathered as code points, and written as one Arrow UTF-8 string array."""

    def __init__(self, block: NormalizedBlock):
        self._code_points = np.frombuffer(block.original.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        self._starts = block.starts

    def take(self, message: np.ndarray, start: np.ndarray, end: np.ndarray, valid: np.ndarray | None = None):
        """The text of ``message`` from character ``start`` to ``end``, for each row (missing where not ``valid``)."""
        valid = np.ones(len(message), dtype=bool) if valid is None else valid
        first = np.where(valid, self._starts[message] + start, 0)
        return code_point_runs(self._code_points, first, np.where(valid, end - start, 0), valid)


def code_point_runs(points: np.ndarray, first: np.ndarray, lengths: np.ndarray, valid: np.ndarray | None = None):
    """``points[first[i]:first[i] + lengths[i]]`` (UTF-32 code points) for every i, as one Arrow large_string
    array (missing where not ``valid``): the code points of all runs gathered at once and re-encoded, no
    Python string per run."""
    import pyarrow as pa

    first, lengths = np.asarray(first, dtype=np.int64), np.asarray(lengths, dtype=np.int64)
    picked = points[np.repeat(first, lengths) + ranges(lengths)]
    width = 1 + (picked >= 0x80).astype(np.int64) + (picked >= 0x800) + (picked >= 0x10000)   # UTF-8 bytes
    offsets = np.r_[0, np.cumsum(width)][np.r_[0, np.cumsum(lengths)]].astype(np.int64)
    data = codecs.utf_32_le_decode(picked, "strict", True)[0].encode("utf-8")
    nulls = None if valid is None or valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(len(lengths), pa.py_buffer(offsets), pa.py_buffer(data), nulls,
                                            0 if nulls is None else int((~valid).sum()))


def joined_texts(texts) -> tuple[str, np.ndarray]:
    """Run an Arrow string array together without a round trip through Python objects: the joined
    text and each text's length in characters (a missing text is empty)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    texts = pc.fill_null(texts, "")
    if not pa.types.is_large_string(texts.type):
        texts = texts.cast(pa.large_string())
    lengths = pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
    offsets = np.frombuffer(texts.buffers()[1], dtype=np.int64)[texts.offset:texts.offset + len(texts) + 1]
    data = texts.buffers()[2]
    joined = "" if data is None else str(memoryview(data)[int(offsets[0]):int(offsets[-1])], "utf-8")   # no copy
    return joined, lengths


def normalize_block(texts) -> NormalizedBlock:
    """Normalise many texts at once: a list of str, or an Arrow string array (see the module docstring)."""
    if isinstance(texts, list):
        joined = "".join(texts)
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        source = None
    else:
        import pyarrow as pa

        source = texts.combine_chunks() if isinstance(texts, pa.ChunkedArray) else texts
        joined, lengths = joined_texts(source)
        if not (pa.types.is_string(source.type) or pa.types.is_large_string(source.type)):
            source = None              # kept only where string kernels (RE2) take it as it is
    starts = np.zeros(len(lengths), dtype=np.int64)
    if len(lengths) > 1:
        np.cumsum(lengths[:-1], out=starts[1:])
    units = _to_units(joined)
    folded_units = fold_table()[units]
    separator = separator_table()[folded_units]
    removed = np.flatnonzero(separator)
    compact_units = folded_units[~separator] if len(removed) else folded_units
    if len(units) != len(joined):
        low = np.flatnonzero((units >= 0xDC00) & (units < 0xE000))
    else:
        low = np.zeros(0, dtype=np.int64)
    compact_utf16 = compact_units.tobytes()
    return NormalizedBlock(
        original=joined,
        folded=_from_units(folded_units),
        compact_utf16=compact_utf16,
        starts=starts,
        lengths=lengths,
        _removed_shift=removed - np.arange(len(removed)),
        _low_surrogates=low,
        source=source,
    )


class SharedBlocks:
    """The normalised blocks of one table's texts, made once for every step that scans the same messages:
    ``block(rows)`` gives ``normalize_block`` of the texts at positions ``rows`` (in that order), a slice
    of a block made before when it holds those messages consecutively, else a new block (kept)."""

    def __init__(self, texts):
        self.texts = texts          # an Arrow string array: the table's text column
        self._made: list[tuple[np.ndarray, NormalizedBlock]] = []

    def block(self, rows: np.ndarray) -> NormalizedBlock:
        rows = np.asarray(rows, dtype=np.int64)
        for known, block in self._made:
            if not len(rows):
                break
            at = np.flatnonzero(known == rows[0])
            if len(at) and at[0] + len(rows) <= len(known) and np.array_equal(known[at[0]:at[0] + len(rows)], rows):
                return block if len(rows) == len(known) else block.slice(int(at[0]), int(at[0]) + len(rows))
        import pyarrow as pa

        block = normalize_block(self.texts.take(pa.array(rows)))
        self._made.append((rows, block))
        return block
