"""Who is who in a session: each message's kind (customer, human agent, bot or auto-reply) and the
session's owner agent, the one definition every finding and table uses."""
from __future__ import annotations

import re
import weakref
from functools import lru_cache

import numpy as np
import pandas as pd

from ..base import config
from ..base.schema import as_messages
from ..base.timeparse import has_times
from ..base.layering import load_yaml

TIMING_DIR = config.RESOURCES_DIR / "timing"


@lru_cache(maxsize=1)
def timing_settings() -> dict:
    """Defaults: long_wait_s, sla_thresholds_s, auto_reply_phrases (resources/timing/settings.yaml)."""
    return load_yaml((TIMING_DIR / "settings.yaml").read_text(encoding="utf-8"))


CUSTOMER, HUMAN, BOT, OTHER = 0, 1, 2, 3


def message_kinds(messages: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray:
    """Per message: CUSTOMER, HUMAN, BOT or OTHER (int8, read-only; auto-replies from agent accounts
    are BOT). The kinds of the last table asked about are kept (``_LastKinds``): the findings of one
    table ask for them several times. ``rows`` (a mask or positions): only those messages' kinds,
    taken from the kept ones when they are this table's, else found for those rows alone (not kept)."""
    messages = as_messages(messages)
    known = _LAST_KINDS.get(messages)
    if rows is not None:
        return known[rows] if known is not None else _message_kinds(messages[["role", "text"]].iloc[rows])
    if known is not None:
        return known
    kind = _message_kinds(messages)
    kind.setflags(write=False)
    _LAST_KINDS.keep(messages, kind)
    return kind


def _message_kinds(messages: pd.DataFrame) -> np.ndarray:
    import pyarrow.compute as pc

    role = messages["role"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    kind = np.full(len(messages), OTHER, dtype=np.int8)
    for name, code in (("customer", CUSTOMER), ("agent", HUMAN), ("bot", BOT)):
        kind[pc.fill_null(pc.equal(role, name), False).to_numpy(zero_copy_only=False)] = code
    agent_rows = np.flatnonzero(kind == HUMAN)
    if len(agent_rows):
        # auto-reply templates are system text, never disguised: plain substring search (Arrow, in C++)
        texts = messages["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__().take(agent_rows)
        pattern = "|".join(re.escape(p) for p in timing_settings()["auto_reply_phrases"])
        auto = pc.fill_null(pc.match_substring_regex(texts, pattern), False).to_numpy(zero_copy_only=False)
        kind[agent_rows[auto]] = BOT
    return kind


class _LastKinds:
    """The kinds of the last table computed, found again by the identity of its ``role`` and ``text``
    Arrow arrays (immutable, so the same arrays mean the same kinds; a table that shares them, as
    ``reset_index`` gives, is the same table). Only weak references are kept."""

    def __init__(self):
        self.arrays: tuple = ()
        self.kinds = None

    @staticmethod
    def _arrays(messages: pd.DataFrame) -> tuple | None:
        arrays = tuple(getattr(messages[name].array, "_pa_array", None) for name in ("role", "text"))
        return None if any(a is None for a in arrays) else arrays

    def get(self, messages: pd.DataFrame) -> np.ndarray | None:
        arrays = self._arrays(messages)
        if arrays is None or len(arrays) != len(self.arrays) or self.kinds is None or len(self.kinds) != len(messages):
            return None
        return self.kinds if all(ref() is array for ref, array in zip(self.arrays, arrays)) else None

    def keep(self, messages: pd.DataFrame, kinds: np.ndarray) -> None:
        arrays = self._arrays(messages)
        self.arrays, self.kinds = (tuple(weakref.ref(a) for a in arrays), kinds) if arrays else ((), None)


_LAST_KINDS = _LastKinds()


def session_owner(messages: pd.DataFrame, kinds: np.ndarray | None = None) -> pd.Series:
    """Per session id: the agent who owns it, the first human agent (an agent account, not a bot or an
    auto-reply) who replied in it, by send time then order. The seeds' 首问负责 (001, 002, 004): the
    first agent to answer stays responsible, also after a transfer. Sessions without such a reply are
    missing; the index holds every session of ``messages``. ``kinds``: their ``message_kinds`` if known."""
    messages = as_messages(messages)
    codes, ids = pd.factorize(messages["session_id"], sort=False, use_na_sentinel=False)   # ids as unique() gives them
    sessions = pd.Index(ids, name="session_id")
    owner_row = owner_rows(messages, codes, len(sessions), kinds)
    return pd.Series(messages["agent_id"].array.take(owner_row, allow_fill=True), index=sessions, name="agent_id")


def owner_rows(messages: pd.DataFrame, codes: np.ndarray, n_sessions: int, kinds: np.ndarray | None = None) -> np.ndarray:
    """Per session number (``codes``: each message's, 0 … ``n_sessions`` - 1): the row of its owner's first
    reply (``session_owner``), -1 where it has none."""
    kinds = message_kinds(messages) if kinds is None else kinds
    candidates = np.flatnonzero((kinds == HUMAN) & messages["agent_id"].notna().to_numpy())
    seq = messages["seq"].to_numpy(dtype=np.float64, na_value=np.inf)[candidates]
    keys = [seq]                      # by send time (missing last), then order, then row (lexsort is stable)
    if has_times(messages):
        ts = messages["ts"].array.asi8[candidates]
        keys.append(np.where(messages["ts"].isna().to_numpy()[candidates], np.iinfo(np.int64).max, ts))
    ranked = candidates[np.lexsort(keys + [codes[candidates]])]
    first = ranked[np.r_[True, codes[ranked][1:] != codes[ranked][:-1]]] if len(ranked) else ranked
    owner_row = np.full(n_sessions, -1, dtype=np.int64)
    owner_row[codes[first]] = first
    return owner_row


def in_order_of(messages: pd.DataFrame, keys: list[str]) -> bool:
    """Whether the rows already stand in the ascending order of ``keys`` with none of them missing (a
    stable sort by them would leave every row in place): one comparison of neighbours per key, no sort."""
    import pyarrow.compute as pc

    if len(messages) < 2:
        return not any(messages[key].isna().any() for key in keys)
    undecided = np.ones(len(messages) - 1, dtype=bool)           # neighbours equal on the keys so far
    for key in keys:
        values = messages[key]
        if values.isna().any():
            return False
        arrow = getattr(values.array, "_pa_array", None)
        if arrow is not None:
            before, after = arrow[:-1], arrow[1:]
            less = pc.less(after, before).to_numpy(zero_copy_only=False)
            equal = pc.equal(after, before).to_numpy(zero_copy_only=False)
        else:
            numbers = values.array.asi8 if hasattr(values.array, "asi8") else values.to_numpy()
            less, equal = numbers[1:] < numbers[:-1], numbers[1:] == numbers[:-1]
        if (undecided & less).any():
            return False
        undecided &= equal
        if not undecided.any():
            break
    return True
