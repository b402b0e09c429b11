"""Phrases agents are expected to use (apology, empathy …), found in messages.

The lists are data (``resources/service_phrases.yaml``), each with its source in the seeds. They are
matched like every other phrase list (normalised text, ``textmatch.engines.PhraseSet``); a list's ``regex``
entries (bounded gaps for formulaic lines such as 还有…帮到您) run on the folded text, Python's ``re`` only
over the messages RE2 says can match (``textmatch.prefilter``). Complaint handling
uses apology and empathy; the politeness checks build on the same file.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from ..base import config
from ..base.schema import as_messages
from ..textmatch.engines import PhraseSet
from ..textmatch.normalize import NormalizedBlock, normalize_block
from ..textmatch.prefilter import prefiltered_spans_each
from .session_checks import text_slices
from ..base.layering import load_yaml

PHRASES_FILE = config.RESOURCES_DIR / "service_phrases.yaml"


@lru_cache(maxsize=1)
def load_service_phrases() -> dict[str, dict]:
    """Purpose → {"label", "source", "phrases", "regex"} from resources/service_phrases.yaml."""
    from ..textmatch.safe_regex import check_regex

    data = load_yaml(PHRASES_FILE.read_text(encoding="utf-8"))
    for purpose, spec in data.items():
        if not spec.get("source") or not (spec.get("phrases") or spec.get("regex")):
            raise ValueError(f"{PHRASES_FILE}: {purpose!r} needs 'phrases' (or 'regex') and a 'source'")
        for pattern in spec.get("regex") or []:
            try:
                check_regex(pattern)
            except ValueError as exc:
                raise ValueError(f"{PHRASES_FILE}: {purpose!r}: {exc}") from None
    return data


_SETS: dict = {}


def _compiled(name: str, spec: dict[str, dict], purposes: tuple[str, ...]):
    """The PhraseSet (phrases and their exceptions, labelled ``purpose`` / ``purpose!``) and the regexes of
    ``purposes`` in ``spec``, built once per (``name``, purposes)."""
    key = (name, purposes)
    if key not in _SETS:
        unknown = [p for p in purposes if p not in spec]
        if unknown:
            raise KeyError(f"unknown phrase list(s) {unknown}; {name} has {sorted(spec)}")
        entries = [(purpose, phrase) for purpose in purposes for phrase in spec[purpose].get("phrases") or []]
        entries += [(purpose + "!", phrase) for purpose in purposes for phrase in spec[purpose].get("exceptions") or []]
        regexes = [(purpose, pattern, re.compile(pattern)) for purpose in purposes for pattern in spec[purpose].get("regex") or []]
        _SETS[key] = (PhraseSet(entries), regexes)
    return _SETS[key]


EMPTY = np.zeros(0, dtype=np.int64)
FOUND_COLUMNS = ["message_id", "session_id", "seq", "agent_id", "purpose", "phrase", "matched", "start", "end", "row"]


def find_phrases(messages: pd.DataFrame, spec: dict[str, dict], purposes, roles=("agent",), name: str = "phrases",
                 lean: bool = False) -> pd.DataFrame:
    """Every use of the phrase lists ``purposes`` of ``spec`` (purpose → {"phrases", "regex",
    "exceptions"}) in messages of ``roles``; a match that an exception of its list covers is dropped
    (退款 inside 要退款吗). ``name`` names the spec in errors and in the cache of compiled lists.

    Columns: message_id, session_id, seq, agent_id, purpose, phrase (as listed), matched, start, end, and
    ``row``: the message's index label in ``messages``. ``lean`` gives only purpose (a categorical of
    ``purposes``), start, end and row (what a check needs to decide; its evidence text is cut later for
    the rows it shows).
    """
    messages = as_messages(messages)
    purposes = tuple(purposes)
    positions = np.flatnonzero(messages["role"].isin(list(roles)).to_numpy(dtype=bool, na_value=False))
    if not len(positions) and lean:
        return pd.DataFrame({"purpose": pd.Categorical([], categories=list(purposes)), "start": EMPTY, "end": EMPTY,
                             "row": EMPTY})
    if not len(positions):
        return pd.DataFrame(columns=FOUND_COLUMNS)
    texts = messages["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    block, msg, purpose, start, end, phrase = phrase_matches(
        texts.take(positions) if len(positions) < len(messages) else texts, spec, purposes, name)
    row = messages.index.to_numpy()[positions[msg]]
    if lean:
        return pd.DataFrame({"purpose": pd.Categorical.from_codes(purpose, categories=list(purposes)),
                             "start": start, "end": end, "row": row})
    rows = messages[["message_id", "session_id", "seq", "agent_id"]].iloc[positions[msg]]
    return pd.DataFrame({
        "message_id": rows["message_id"].to_numpy(), "session_id": rows["session_id"].to_numpy(),
        "seq": rows["seq"].to_numpy(), "agent_id": rows["agent_id"].to_numpy(),
        "purpose": np.asarray(purposes, dtype=object)[purpose],
        "phrase": _phrase_texts(phrase, *_compiled(name, spec, purposes)),
        "matched": text_slices(block.original, block.starts[msg] + start, block.starts[msg] + end),
        "start": start, "end": end, "row": row,
    }, columns=FOUND_COLUMNS)


def phrase_matches(texts, spec: dict[str, dict], purposes: tuple[str, ...], name: str, block: NormalizedBlock | None = None):
    """The matches of the lists ``purposes`` of ``spec`` in ``texts`` (an Arrow string array), exceptions
    applied: (the normalised block, msg, purpose number, start, end, phrase code: an entry of the list's
    PhraseSet, or ``-1 - n`` for its regex n). What ``find_phrases`` builds its tables from."""
    phrases, regexes = _compiled(name, spec, purposes)
    block = normalize_block(texts) if block is None else block
    found = phrases.find(block)
    # purposes numbered 0..n-1, their exceptions n..2n-1
    numbers = {label: i for i, label in enumerate(purposes + tuple(p + "!" for p in purposes))}
    label_number = np.array([numbers[label] for label in phrases.labels], dtype=np.int64)
    msg, start, end = [found["msg"]], [found["start"]], [found["end"]]
    purpose, phrase = [label_number[found["entry"]]], [found["entry"]]      # phrase: entry, or -1 - regex
    every_spans = prefiltered_spans_each(block, [pattern for _, _, pattern in regexes])
    for number, ((label, pattern_text, pattern), spans) in enumerate(zip(regexes, every_spans)):
        if len(spans):
            m, s, e, _ = block.locate_folded(spans[:, 0], spans[:, 1])
            msg.append(m), start.append(s), end.append(e)
            purpose.append(np.full(len(m), numbers[label], dtype=np.int64))
            phrase.append(np.full(len(m), -1 - number, dtype=np.int64))
    msg, start, end = np.concatenate(msg), np.concatenate(start), np.concatenate(end)
    purpose = np.concatenate(purpose)
    kept = _without_exceptions(msg, purpose, start, end, len(purposes))
    return block, msg[kept], purpose[kept], start[kept], end[kept], np.concatenate(phrase)[kept]


def _phrase_texts(codes: np.ndarray, phrases: PhraseSet, regexes) -> np.ndarray:
    """The phrase as listed for each match: an entry of ``phrases`` (codes ≥ 0), or ``regex:<pattern>`` for
    regex number ``-1 - code``."""
    texts = np.asarray(list(phrases.written) + [f"regex:{text}" for _, text, _ in regexes], dtype=object)
    return texts[np.where(codes >= 0, codes, len(phrases.written) - 1 - codes)]


def _without_exceptions(msg: np.ndarray, purpose: np.ndarray, start: np.ndarray, end: np.ndarray,
                        lists: int) -> np.ndarray:
    """Which matches to keep: not an exception (``purpose`` ≥ ``lists``) and not covered by an exception
    of their own list in the same message. Per (message, list) the exceptions are sorted by start with
    a running maximum of their ends: a match is covered when the exceptions starting at or before it
    reach its end (one sort and one search, no join)."""
    is_exception = purpose >= lists
    keep = ~is_exception
    if not is_exception.any():
        return keep
    reach = int(max(end.max(), start.max())) + 1                       # offsets stay below this
    group = msg.astype(np.int64) * lists + np.where(is_exception, purpose - lists, purpose)   # (message, list)
    exceptions = np.flatnonzero(is_exception)
    order = np.lexsort((start[exceptions], group[exceptions]))
    exc_group, exc_start, exc_end = group[exceptions][order], start[exceptions][order], end[exceptions][order]
    # running maximum of the ends within each group: a new group's first end is above every end before it
    farthest = np.maximum.accumulate(exc_group * reach + exc_end) - exc_group * reach
    excepted = np.zeros(lists + 1, dtype=bool)                          # the lists that have exceptions
    excepted[purpose[exceptions] - lists] = True
    candidates = np.flatnonzero(excepted[np.where(keep, purpose, lists)])
    at = np.searchsorted(exc_group * reach + exc_start, group[candidates] * reach + start[candidates], side="right") - 1
    found = at >= 0
    at = np.maximum(at, 0)
    covered = found & (exc_group[at] == group[candidates]) & (farthest[at] >= end[candidates])
    keep[candidates[covered]] = False
    return keep


def find_service_phrases(messages: pd.DataFrame, purposes=("apology", "empathy"),
                         roles=("agent",)) -> pd.DataFrame:
    """Every use of the listed service phrases (resources/service_phrases.yaml) in messages of ``roles``.

    Columns: message_id, session_id, seq, agent_id, purpose, phrase (as listed), matched, start, end.
    """
    return find_phrases(messages, load_service_phrases(), purposes, roles, name=PHRASES_FILE.name)
