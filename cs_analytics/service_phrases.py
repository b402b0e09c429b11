"""Phrases agents are expected to use (apology, empathy …), found in messages.

The lists are data (``resources/service_phrases.yaml``), each with its source in the seeds. They are
matched like every other phrase list (normalised text, ``matching.PhraseSet``). Complaint handling
uses apology and empathy; the politeness checks build on the same file.
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd
import yaml

from . import config
from .matching import PhraseSet
from .text import normalize_block

PHRASES_FILE = config.RESOURCES_DIR / "service_phrases.yaml"


@lru_cache(maxsize=1)
def load_service_phrases() -> dict[str, dict]:
    """Purpose → {"label", "source", "phrases"} from resources/service_phrases.yaml."""
    data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))
    for purpose, spec in data.items():
        if not spec.get("source") or not spec.get("phrases"):
            raise ValueError(f"{PHRASES_FILE}: {purpose!r} needs 'phrases' and a 'source'")
    return data


@lru_cache(maxsize=8)
def _phrase_set(purposes: tuple[str, ...]) -> PhraseSet:
    spec = load_service_phrases()
    unknown = [p for p in purposes if p not in spec]
    if unknown:
        raise KeyError(f"unknown phrase purpose(s) {unknown}; {PHRASES_FILE.name} has {sorted(spec)}")
    return PhraseSet([(purpose, phrase) for purpose in purposes for phrase in spec[purpose]["phrases"]])


def find_service_phrases(messages: pd.DataFrame, purposes=("apology", "empathy"),
                         roles=("agent",)) -> pd.DataFrame:
    """Every use of the listed phrases in messages of ``roles``.

    Columns: message_id, session_id, seq, agent_id, purpose, phrase (as listed), matched, start, end.
    """
    subset = messages[messages["role"].isin(list(roles))]
    columns = ["message_id", "session_id", "seq", "agent_id", "purpose", "phrase", "matched", "start", "end"]
    if subset.empty:
        return pd.DataFrame(columns=columns)
    phrases = _phrase_set(tuple(purposes))
    block = normalize_block(subset["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__())
    found = phrases.find(block)
    rows = subset.iloc[found["msg"]]
    texts = [block.text(int(m)) for m in found["msg"]]
    return pd.DataFrame({
        "message_id": rows["message_id"].to_numpy(), "session_id": rows["session_id"].to_numpy(),
        "seq": rows["seq"].to_numpy(), "agent_id": rows["agent_id"].to_numpy(),
        "purpose": [phrases.labels[e] for e in found["entry"]],
        "phrase": [phrases.written[e] for e in found["entry"]],
        "matched": [t[s:e] for t, s, e in zip(texts, found["start"], found["end"])],
        "start": found["start"], "end": found["end"],
    }, columns=columns)
