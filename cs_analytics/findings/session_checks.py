"""One mechanism for every session check, politeness and process alike.

A check is a small documented function that takes the ``SessionData`` of a batch of sessions and
returns, per session id, its ``value`` (True/False, a rate, or missing where it does not apply) and,
where it has them, its evidence (``message_id``, ``matched``). It is registered under its id with
``@session_check(group, id)``; its label, weight, when it applies and whether passing is good are data
(the group's YAML file, e.g. resources/process.yaml ``checks``), so a shop switches a check off
(``enabled: false``) or adds one (a registered function and an entry) without touching the others.

``run_checks`` runs a group's enabled checks in the order of its spec, masks them where they do not
apply (``applies: complaint`` outside complaint sessions, ``needs_times`` without send times) and
returns one row per session: ``<id>``, ``<id>_message_id``, ``<id>_matched`` per check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from ..base.schema import as_messages
from ..base.timeparse import has_times
from .sessions import HUMAN, message_kinds

REGISTRY: dict[str, dict[str, Callable]] = {}
APPLIES = ("all", "complaint", "timed")


def session_check(group: str, check_id: str):
    """Register a check function under ``group`` / ``check_id`` (see the module docstring)."""
    def register(function: Callable) -> Callable:
        REGISTRY.setdefault(group, {})[check_id] = function
        return function
    return register


@dataclass
class SessionData:
    """A batch of sessions as the checks read them, built once: messages in session order with their
    position (``pos``) and turn (``turn``: customer messages before it, so an agent's run of messages
    shares one), the human agent and customer messages, the sessions judged (those with a human agent
    reply), the complaint sessions, the forbidden-phrase hits, and a cache for phrase matches."""

    messages: pd.DataFrame
    hits: pd.DataFrame
    complaints: pd.DataFrame | None = None
    long_waits: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        messages = as_messages(self.messages)
        self.timed = has_times(messages)
        order = ["session_id", "ts", "seq"] if self.timed else ["session_id", "seq"]
        ordered = messages.sort_values(order, kind="stable", na_position="first").reset_index(drop=True)
        codes, ids = pd.factorize(ordered["session_id"], sort=False)   # consecutive: the rows are sorted by session
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=np.int64)
        ordered["pos"] = np.arange(len(ordered)) - np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))
        is_customer = ordered["role"].eq("customer").to_numpy(dtype=bool)
        running = np.cumsum(is_customer)
        ordered["turn"] = running - np.repeat(np.r_[0, running][starts], np.diff(np.r_[starts, len(ordered)]))
        ordered["human"] = message_kinds(ordered) == HUMAN
        self.ordered, self.code, self.session_ids = ordered, codes, np.asarray(ids, dtype=object)
        self.agents = ordered[ordered["human"]]
        self.customers = ordered[is_customer]
        judged = np.unique(codes[ordered["human"].to_numpy()])           # codes of sessions with a human agent reply
        self.judged_codes = judged
        self.sessions = pd.Index(self.session_ids[judged], name="session_id", dtype=ordered["session_id"].dtype)
        self.cache: dict = {}

    def column(self, name: str) -> np.ndarray:
        """A column of ``ordered`` as a NumPy array, converted once."""
        key = ("column", name)
        if key not in self.cache:
            self.cache[key] = self.ordered[name].to_numpy()
        return self.cache[key]

    def is_complaint(self) -> pd.Series:
        """Per judged session: a complaint session (False when complaints were not given)."""
        if self.complaints is None or self.complaints.empty:
            return pd.Series(False, index=self.sessions)
        flags = self.complaints.set_index("session_id")["is_complaint"]
        return flags.reindex(self.sessions).fillna(False).astype(bool)

    def located(self, found: pd.DataFrame) -> pd.DataFrame:
        """``found`` (matches with ``row``, the message's position in ``ordered``) with each message's
        session code, pos and turn."""
        rows = found["row"].to_numpy(dtype=np.int64)
        return found.assign(code=self.code[rows], pos=self.ordered["pos"].to_numpy()[rows],
                            turn=self.ordered["turn"].to_numpy()[rows])

    def by_code(self, values: np.ndarray) -> pd.Series:
        """Per-session ``values`` (indexed by session code) over the judged sessions."""
        return pd.Series(np.asarray(values)[self.judged_codes], index=self.sessions)

    def any_rows(self, rows) -> np.ndarray:
        """Per session code: one of ``rows`` (positions in ``ordered``) belongs to it."""
        flags = np.zeros(len(self.session_ids), dtype=bool)
        flags[self.code[np.asarray(rows, dtype=np.int64)]] = True
        return flags

    def mask(self, rows) -> np.ndarray:
        """A mask over ``ordered`` that is True at ``rows``."""
        out = np.zeros(len(self.ordered), dtype=bool)
        out[np.asarray(rows, dtype=np.int64)] = True
        return out


def first_evidence(frame: pd.DataFrame, value: pd.Series, data: "SessionData | None" = None) -> pd.DataFrame:
    """A check's result: ``value`` per session and the first (by pos) evidence row of ``frame`` per
    session: its message_id (``frame``'s own, or taken from ``data.ordered`` by ``row``) and matched text."""
    out = pd.DataFrame({"value": value})
    if len(frame):
        if "code" in frame and data is not None:
            frame = frame.assign(session_id=data.session_ids[frame["code"].to_numpy(dtype=np.int64)])
        first = frame.sort_values(["session_id", "pos"], kind="stable").drop_duplicates("session_id")
        if "row" in first and data is not None:
            rows = first["row"].to_numpy(dtype=np.int64)
            first = first.assign(message_id=data.column("message_id")[rows])
            if "start" in first:                  # cut the evidence text only for the rows shown
                texts = data.column("text")[rows]
                cut = [str(t)[int(a):int(b)] if pd.notna(a) else None for t, a, b in zip(texts, first["start"], first["end"])]
                given = first["matched"] if "matched" in first else pd.Series(None, index=first.index)
                first = first.assign(matched=given.where(given.notna(), pd.Series(cut, index=first.index)))
        first = first.set_index("session_id")
        out["message_id"] = first["message_id"].reindex(out.index)
        out["matched"] = first["matched"].reindex(out.index) if "matched" in first else pd.NA
    else:
        out["message_id"], out["matched"] = pd.NA, pd.NA
    return out


def check_entries(spec: dict) -> dict[str, dict]:
    """The enabled checks of a spec (its ``checks`` mapping), validated."""
    out = {}
    for check_id, entry in (spec.get("checks") or {}).items():
        where = f"check {check_id!r}"
        for key in ("label", "weight", "applies", "source"):
            if key not in entry:
                raise ValueError(f"{where}: '{key}' is required (label, weight, applies, source; good defaults to true)")
        if entry["applies"] not in APPLIES:
            raise ValueError(f"{where}: applies must be one of {APPLIES}, not {entry['applies']!r}")
        if entry.get("enabled", True):
            out[check_id] = entry
    return out


def labels_of(spec: dict) -> dict[str, str]:
    """Check id → the label charts and tables show, from a spec's ``checks``."""
    return {check_id: entry["label"] for check_id, entry in (spec.get("checks") or {}).items()}


def run_checks(group: str, data: SessionData, spec: dict) -> pd.DataFrame:
    """Every enabled check of ``group`` on ``data``: one row per judged session (index session_id), the
    columns ``<id>``, ``<id>_message_id``, ``<id>_matched`` per check, in the spec's order."""
    registered = REGISTRY.get(group, {})
    out = pd.DataFrame(index=data.sessions)
    complaint = data.is_complaint()
    for check_id, entry in check_entries(spec).items():
        if check_id not in registered:
            raise ValueError(f"check {check_id!r} of {group} has no function: register one with "
                             f"@session_check({group!r}, {check_id!r}) or set enabled: false")
        result = registered[check_id](data).reindex(data.sessions)
        value = result["value"]
        if entry["applies"] == "complaint":
            value = value.where(complaint)
        if (entry["applies"] == "timed" or entry.get("needs_times")) and not data.timed:
            value = pd.Series(pd.NA, index=data.sessions)
        out[check_id] = value.astype("Float64") if entry.get("rate") else value.astype("boolean")
        for suffix in ("message_id", "matched"):
            if suffix in result:
                column = result[suffix].where(out[check_id].notna())
                out[f"{check_id}_{suffix}"] = column.astype("string")
    return out


def weighted_score(checks: pd.DataFrame, spec: dict) -> pd.Series:
    """0-100 per session: the weighted mean of the checks that apply (missing ones left out); a check
    with ``good: false`` counts as 1 − value. Missing where no weighted check applies."""
    entries = {k: v for k, v in check_entries(spec).items() if float(v["weight"]) > 0 and k in checks}
    if not entries:
        return pd.Series(np.nan, index=checks.index)
    values = pd.DataFrame({k: checks[k].astype("Float64") if v.get("good", True) else 1 - checks[k].astype("Float64")
                           for k, v in entries.items()})
    weights = pd.DataFrame({k: values[k].notna() * float(v["weight"]) for k, v in entries.items()})
    total = weights.sum(axis=1)
    return (values.fillna(0).mul(weights).sum(axis=1) / total.where(total > 0) * 100).astype(float)
