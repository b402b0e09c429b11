"""Phrases agents are expected to use (apology, empathy …), found in messages.

The lists are data (``resources/service_phrases.yaml``), each with its source in the seeds. They are
matched like every other phrase list (normalised text, ``textmatch.engines.PhraseSet``); a list's ``regex``
entries (bounded gaps for formulaic lines such as 还有…帮到您) run on the folded text. Complaint handling
uses apology and empathy; the politeness checks build on the same file.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd
import yaml

from ..base import config
from ..base.schema import as_messages
from ..textmatch.engines import PhraseSet
from ..textmatch.normalize import normalize_block

PHRASES_FILE = config.RESOURCES_DIR / "service_phrases.yaml"


@lru_cache(maxsize=1)
def load_service_phrases() -> dict[str, dict]:
    """Purpose → {"label", "source", "phrases", "regex"} from resources/service_phrases.yaml."""
    from ..textmatch.safe_regex import check_regex

    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
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


FOUND_COLUMNS = ["message_id", "session_id", "seq", "agent_id", "purpose", "phrase", "matched", "start", "end", "row"]


def find_phrases(messages: pd.DataFrame, spec: dict[str, dict], purposes, roles=("agent",), name: str = "phrases",
                 lean: bool = False) -> pd.DataFrame:
    """Every use of the phrase lists ``purposes`` of ``spec`` (purpose → {"phrases", "regex",
    "exceptions"}) in messages of ``roles``; a match that an exception of its list covers is dropped
    (退款 inside 要退款吗). ``name`` names the spec in errors and in the cache of compiled lists.

    Columns: message_id, session_id, seq, agent_id, purpose, phrase (as listed), matched, start, end, and
    ``row``: the message's index label in ``messages``. ``lean`` gives only purpose, start, end and row
    (what a check needs to decide; its evidence text is cut later for the rows it shows).
    """
    messages = as_messages(messages)
    subset = messages[messages["role"].isin(list(roles))]
    if subset.empty:
        return pd.DataFrame(columns=["purpose", "start", "end", "row"] if lean else FOUND_COLUMNS)
    phrases, regexes = _compiled(name, spec, tuple(purposes))
    block = normalize_block(subset["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__())
    found = phrases.find(block)
    labels, written = np.asarray(phrases.labels, dtype=object), np.asarray(phrases.written, dtype=object)
    msg, start, end = [found["msg"]], [found["start"]], [found["end"]]
    purpose, phrase = [labels[found["entry"]]], [written[found["entry"]]]
    for label, pattern_text, pattern in regexes:
        spans = block.regex_spans(pattern)
        if len(spans):
            m, s, e, _ = block.locate_folded(spans[:, 0], spans[:, 1])
            msg.append(m), start.append(s), end.append(e)
            purpose.append(np.full(len(m), label, dtype=object))
            phrase.append(np.full(len(m), f"regex:{pattern_text}", dtype=object))
    msg, start, end = np.concatenate(msg), np.concatenate(start), np.concatenate(end)
    purpose = np.concatenate(purpose)
    row = subset.index.to_numpy()[msg]
    if lean:
        return _without_exceptions(pd.DataFrame({"purpose": purpose, "start": start, "end": end, "row": row}))
    rows = subset.iloc[msg]
    texts = [block.text(int(m)) for m in msg]
    out = pd.DataFrame({
        "message_id": rows["message_id"].to_numpy(), "session_id": rows["session_id"].to_numpy(),
        "seq": rows["seq"].to_numpy(), "agent_id": rows["agent_id"].to_numpy(),
        "purpose": purpose, "phrase": np.concatenate(phrase),
        "matched": [t[s:e] for t, s, e in zip(texts, start, end)],
        "start": start, "end": end, "row": row,
    }, columns=FOUND_COLUMNS)
    return _without_exceptions(out)


def _without_exceptions(found: pd.DataFrame) -> pd.DataFrame:
    """Drop matches covered by an exception of their own list, then the exception rows themselves."""
    is_exception = found["purpose"].astype(str).str.endswith("!")
    if not is_exception.any():
        return found.reset_index(drop=True)
    exceptions = found[is_exception].assign(purpose=lambda f: f["purpose"].str[:-1])
    hits = found[~is_exception].reset_index(drop=True)
    pairs = hits.reset_index().merge(exceptions[["row", "purpose", "start", "end"]], on=["row", "purpose"],
                                     suffixes=("", "_exc"))
    covered = pairs.loc[(pairs["start_exc"] <= pairs["start"]) & (pairs["end_exc"] >= pairs["end"]), "index"]
    return hits.drop(index=covered.unique()).reset_index(drop=True)


def find_service_phrases(messages: pd.DataFrame, purposes=("apology", "empathy"),
                         roles=("agent",)) -> pd.DataFrame:
    """Every use of the listed service phrases (resources/service_phrases.yaml) in messages of ``roles``.

    Columns: message_id, session_id, seq, agent_id, purpose, phrase (as listed), matched, start, end.
    """
    return find_phrases(messages, load_service_phrases(), purposes, roles, name=PHRASES_FILE.name)
