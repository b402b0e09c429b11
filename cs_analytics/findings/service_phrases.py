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


@lru_cache(maxsize=8)
def _phrase_set(purposes: tuple[str, ...]) -> PhraseSet:
    spec = load_service_phrases()
    unknown = [p for p in purposes if p not in spec]
    if unknown:
        raise KeyError(f"unknown phrase purpose(s) {unknown}; {PHRASES_FILE.name} has {sorted(spec)}")
    return PhraseSet([(purpose, phrase) for purpose in purposes for phrase in spec[purpose].get("phrases") or []])


@lru_cache(maxsize=8)
def _regexes(purposes: tuple[str, ...]) -> list[tuple[str, str, re.Pattern]]:
    spec = load_service_phrases()
    return [(purpose, pattern, re.compile(pattern)) for purpose in purposes for pattern in spec[purpose].get("regex") or []]


def find_service_phrases(messages: pd.DataFrame, purposes=("apology", "empathy"),
                         roles=("agent",)) -> pd.DataFrame:
    """Every use of the listed phrases in messages of ``roles``.

    Columns: message_id, session_id, seq, agent_id, purpose, phrase (as listed), matched, start, end.
    """
    messages = as_messages(messages)
    subset = messages[messages["role"].isin(list(roles))]
    columns = ["message_id", "session_id", "seq", "agent_id", "purpose", "phrase", "matched", "start", "end"]
    if subset.empty:
        return pd.DataFrame(columns=columns)
    phrases = _phrase_set(tuple(purposes))
    block = normalize_block(subset["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__())
    found = phrases.find(block)
    msg, start, end = [found["msg"]], [found["start"]], [found["end"]]
    purpose = [phrases.labels[e] for e in found["entry"]]
    phrase = [phrases.written[e] for e in found["entry"]]
    for label, written, pattern in _regexes(tuple(purposes)):
        spans = block.regex_spans(pattern)
        if len(spans):
            m, s, e, _ = block.locate_folded(spans[:, 0], spans[:, 1])
            msg.append(m), start.append(s), end.append(e)
            purpose += [label] * len(m)
            phrase += [f"regex:{written}"] * len(m)
    msg, start, end = np.concatenate(msg), np.concatenate(start), np.concatenate(end)
    rows = subset.iloc[msg]
    texts = [block.text(int(m)) for m in msg]
    return pd.DataFrame({
        "message_id": rows["message_id"].to_numpy(), "session_id": rows["session_id"].to_numpy(),
        "seq": rows["seq"].to_numpy(), "agent_id": rows["agent_id"].to_numpy(),
        "purpose": purpose, "phrase": phrase,
        "matched": [t[s:e] for t, s, e in zip(texts, start, end)],
        "start": start, "end": end,
    }, columns=columns)
