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
        group = ordered.groupby("session_id", sort=False)
        ordered["pos"] = group.cumcount().to_numpy()
        ordered["turn"] = ordered["role"].eq("customer").astype(int).groupby(ordered["session_id"], sort=False).cumsum()
        ordered["human"] = message_kinds(ordered) == HUMAN
        self.ordered = ordered
        self.agents = ordered[ordered["human"]]
        self.customers = ordered[ordered["role"] == "customer"]
        self.sessions = pd.Index(self.agents["session_id"].unique(), name="session_id")
        self.cache: dict = {}

    def is_complaint(self) -> pd.Series:
        """Per judged session: a complaint session (False when complaints were not given)."""
        if self.complaints is None or self.complaints.empty:
            return pd.Series(False, index=self.sessions)
        flags = self.complaints.set_index("session_id")["is_complaint"]
        return flags.reindex(self.sessions).fillna(False).astype(bool)

    def located(self, found: pd.DataFrame) -> pd.DataFrame:
        """``found`` (phrase matches with a message_id) with each message's pos and turn."""
        where = self.ordered[["message_id", "pos", "turn"]]
        return found.merge(where, on="message_id", how="left")

    def per_session(self, values: pd.Series, fill=pd.NA) -> pd.Series:
        """``values`` (indexed by session id) over every judged session."""
        return values.reindex(self.sessions, fill_value=fill) if fill is not pd.NA else values.reindex(self.sessions)


def first_evidence(frame: pd.DataFrame, value: pd.Series) -> pd.DataFrame:
    """A check's result: ``value`` per session and the first (by pos) evidence row of ``frame`` per
    session (its message_id and matched text)."""
    out = pd.DataFrame({"value": value})
    if len(frame):
        first = frame.sort_values(["session_id", "pos"], kind="stable").drop_duplicates("session_id").set_index("session_id")
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
