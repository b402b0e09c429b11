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

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..base.arrays import arrow_strings
from ..base.schema import as_messages
from ..base.timeparse import has_times
from ..textmatch.normalize import (
    NormalizedBlock,
    code_point_runs,
    joined_texts,
    normalize_block,
)
from .sessions import CUSTOMER, HUMAN, in_order_of, message_kinds, owner_rows

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
    reply), the complaint sessions, the forbidden-phrase hits, and a cache for phrase matches.

    ``code`` numbers the sessions in the order of ``ordered``, so it never decreases along its rows."""

    messages: pd.DataFrame
    hits: pd.DataFrame
    complaints: pd.DataFrame | None = None
    long_waits: pd.DataFrame | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        messages = as_messages(self.messages)
        self.timed = has_times(messages)
        order = ["session_id", "ts", "seq"] if self.timed else ["session_id", "seq"]
        # sort_values' order, taken only when the messages are not in it already (an export usually is)
        in_order = in_order_of(messages, order)
        if not in_order:
            keys = messages[order].reset_index(drop=True).sort_values(order, kind="stable", na_position="first")
            indexer = keys.index.to_numpy()
            in_order = bool((indexer == np.arange(len(indexer))).all())
        ordered = (messages if in_order else messages.take(indexer)).reset_index(drop=True)
        self.source_rows = None if in_order else indexer       # row i of ordered is row source_rows[i] of messages
        codes, ids = session_codes(ordered["session_id"])
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, dtype=np.int64)
        ordered["pos"] = np.arange(len(ordered)) - np.repeat(starts, np.diff(np.r_[starts, len(ordered)]))
        self.kinds = message_kinds(ordered)
        is_customer = self.kinds == CUSTOMER                             # role "customer"
        running = np.cumsum(is_customer)
        ordered["turn"] = running - np.repeat(np.r_[0, running][starts], np.diff(np.r_[starts, len(ordered)]))
        ordered["human"] = self.kinds == HUMAN
        self.ordered, self.code, self.session_ids = ordered, codes, ids
        self._customer_mask = is_customer
        # codes of sessions with a human agent reply, ascending
        judged = np.flatnonzero(np.bincount(codes[self.kinds == HUMAN], minlength=len(ids)))
        self.judged_codes = judged
        self.sessions = pd.Index(self.session_ids[judged], name="session_id", dtype=ordered["session_id"].dtype)
        self.cache: dict = {}

    @property
    def agents(self) -> pd.DataFrame:
        """The human agent messages of ``ordered`` (a copy, made on first use: the checks read ``agent_rows``)."""
        if "agents" not in self.cache:
            self.cache["agents"] = self.ordered.take(self.agent_rows())
        return self.cache["agents"]

    @property
    def customers(self) -> pd.DataFrame:
        """The customer messages of ``ordered`` (a copy, made on first use: the checks read ``customer_rows``)."""
        if "customers" not in self.cache:
            self.cache["customers"] = self.ordered.take(self.customer_rows())
        return self.cache["customers"]

    def with_extra(self, extra: dict) -> SessionData:
        """The same sessions, sharing everything computed for them so far, with other ``extra`` (a
        group's spec and layers): how the politeness and process checks of one batch share their work."""
        view = copy.copy(self)
        view.extra = extra
        return view

    def column(self, name: str) -> np.ndarray:
        """A column of ``ordered`` as a NumPy array, converted once."""
        key = ("column", name)
        if key not in self.cache:
            self.cache[key] = self.ordered[name].to_numpy()
        return self.cache[key]

    def arrow(self, name: str) -> pa.Array | pa.ChunkedArray:
        """A text column of ``ordered`` as Arrow strings: the column's own Arrow data when it has them (the
        texts as ``extra["blocks"]`` holds them), nothing copied; else converted once."""
        key = ("arrow", name)
        if key not in self.cache:
            blocks = self.shared_blocks()
            own = getattr(self.ordered[name].array, "_pa_array", None)
            if name == "text" and blocks is not None:
                self.cache[key] = blocks.texts
            elif own is not None and (pa.types.is_string(own.type) or pa.types.is_large_string(own.type)):
                self.cache[key] = own
            else:
                self.cache[key] = arrow_strings(self.ordered[name])
        return self.cache[key]

    def normalized(self, rows: np.ndarray) -> NormalizedBlock:
        """The texts of ``ordered`` at ``rows`` normalised (``normalize_block``): from ``extra["blocks"]``
        (the messages' texts normalised once for every finding) when there."""
        blocks = self.extra.get("blocks")
        if blocks is None:
            return normalize_block(self.arrow("text").take(pa.array(rows)))
        return blocks.block(rows if self.source_rows is None else self.source_rows[rows])

    def shared_blocks(self):
        """``extra["blocks"]`` (the messages' texts normalised once) when ``ordered`` is the messages in
        their own order, so that a row of ``ordered`` is a position in them; else None."""
        return self.extra.get("blocks") if self.source_rows is None else None

    def rows_of(self, message_ids) -> np.ndarray:
        """The row in ``ordered`` of each of ``message_ids`` (a column, an Arrow string array or a list; -1
        where it is not one of the batch's)."""
        if isinstance(message_ids, pa.Array):
            wanted = message_ids.cast(pa.large_string())
        else:
            wanted = arrow_strings(message_ids if isinstance(message_ids, pd.Series) else pd.Series(message_ids, dtype=object))
        distinct = pc.unique(wanted)
        # look the batch's ids up among the few wanted ones (a small hash table), then the wanted among those
        at = pc.index_in(self.arrow("message_id"), value_set=distinct).to_numpy(zero_copy_only=False)
        present = np.flatnonzero(~np.isnan(at))
        found, first = np.unique(at[present].astype(np.int64), return_index=True)
        row_of_distinct = np.full(len(distinct), -1, dtype=np.int64)
        row_of_distinct[found] = present[first]
        position = pc.index_in(wanted, value_set=distinct).to_numpy(zero_copy_only=False).astype(np.int64)
        return row_of_distinct[position] if len(position) else np.zeros(0, dtype=np.int64)

    def hit_rows(self) -> np.ndarray:
        """The row in ``ordered`` of each forbidden-phrase hit's message (-1 where it is not in the batch)."""
        if "hit_rows" not in self.cache:
            self.cache["hit_rows"] = self.rows_of(self.hits["message_id"]) if len(self.hits) else np.zeros(0, np.int64)
        return self.cache["hit_rows"]

    def hits_where(self, column: str, values) -> np.ndarray:
        """A mask over ``hits``: the hit's ``column`` (as text) is one of ``values`` (a categorical column is
        judged by its categories, once each)."""
        found = self.hits[column]
        if isinstance(found.dtype, pd.CategoricalDtype):
            known = np.append(found.cat.categories.astype(str).isin(list(values)), False)   # code -1: missing
            return known[found.cat.codes.to_numpy()]
        return found.astype(str).isin(list(values)).to_numpy(dtype=bool)

    def first_rows(self, rows, last: bool = False) -> np.ndarray:
        """Per session code: the first (or ``last``) of ``rows`` (ascending positions in ``ordered``), -1 where none."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.full(len(self.session_ids), -1, dtype=np.int64)
        if len(rows):
            codes = self.code[rows]
            change = np.flatnonzero(codes[1:] != codes[:-1])
            at = np.r_[change, len(rows) - 1] if last else np.r_[0, change + 1]
            out[codes[at]] = rows[at]
        return out

    def agent_rows(self) -> np.ndarray:
        """The rows of ``ordered`` that are human agent messages (ascending), computed once."""
        if "agent_rows" not in self.cache:
            self.cache["agent_rows"] = np.flatnonzero(self.column("human"))
        return self.cache["agent_rows"]

    def customer_rows(self) -> np.ndarray:
        """The rows of ``ordered`` that are customer messages (ascending)."""
        return np.flatnonzero(self._customer_mask)

    def agent_turn_ids(self) -> np.ndarray:
        """Per row of ``ordered``: the number of its agent turn, counted over the whole batch (a session's
        turns are consecutive numbers); -1 for rows that are not human agent messages."""
        if "agent_turn_ids" not in self.cache:
            rows = self.agent_rows()
            code, turn = self.code[rows], self.column("turn")[rows]
            new_turn = np.r_[True, (code[1:] != code[:-1]) | (turn[1:] != turn[:-1])] if len(rows) else np.zeros(0, bool)
            ids = np.full(len(self.ordered), -1, dtype=np.int64)
            ids[rows] = np.cumsum(new_turn) - 1
            self.cache["agent_turn_ids"] = ids
        return self.cache["agent_turn_ids"]

    def agent_turn_rank(self) -> np.ndarray:
        """Per human agent message (in ``agents``' order): its turn counted from the session's last
        agent turn (1 = the last turn, 2 = the one before …), as a dense rank of ``turn`` from the end
        (computed once)."""
        if "agent_turn_rank" not in self.cache:
            rows = self.agent_rows()
            ids = self.agent_turn_ids()[rows]
            last = self.first_rows(rows, last=True)
            self.cache["agent_turn_rank"] = self.agent_turn_ids()[last][self.code[rows]] - ids + 1
        return self.cache["agent_turn_rank"]

    def owners(self) -> pd.Series:
        """Per judged session: its owner agent (``sessions.session_owner``)."""
        if "owners" not in self.cache:
            rows = owner_rows(self.ordered, self.code, len(self.session_ids), self.kinds)[self.judged_codes]
            self.cache["owners"] = pd.Series(self.ordered["agent_id"].array.take(rows, allow_fill=True),
                                             index=self.sessions, name="agent_id")
        return self.cache["owners"]

    def first_values(self, name: str, rows=None) -> pd.Series:
        """Per judged session: the first non-missing value of column ``name`` among ``rows`` (positions in
        ``ordered``; default all), as ``groupby(...).first()`` gives it."""
        column = self.ordered[name]
        known = column.notna().to_numpy()
        present = np.flatnonzero(known) if rows is None else np.asarray(rows, dtype=np.int64)[known[rows]]
        first = self.first_rows(present)[self.judged_codes]
        return pd.Series(column.array.take(first, allow_fill=True), index=self.sessions, name=name)

    def complaint_values(self, name: str) -> pd.Series:
        """Per judged session: column ``name`` of its row in ``complaints`` (missing where it has none), as
        ``complaints.set_index("session_id")[name].reindex(sessions)`` gives it."""
        return self.complaints[name].reset_index(drop=True).reindex(self.complaint_rows()).set_axis(self.sessions)

    def complaint_rows(self) -> np.ndarray:
        """Per judged session: the position of its row in ``complaints`` (-1 where it has none). When the
        complaint sessions are this batch's sessions in the same order (as ``analyze`` gives them), that is
        the session's code, found without looking the ids up."""
        if "complaint_rows" not in self.cache:
            ids = self.complaints["session_id"]
            same = 0 < len(ids) == len(self.session_ids) and bool(np.all(ids.to_numpy() == self.session_ids))
            self.cache["complaint_rows"] = self.judged_codes if same else pd.Index(ids).get_indexer(self.sessions)
        return self.cache["complaint_rows"]

    def is_complaint(self) -> pd.Series:
        """Per judged session: a complaint session (False when complaints were not given)."""
        if self.complaints is None or self.complaints.empty:
            return pd.Series(False, index=self.sessions)
        if "is_complaint" not in self.cache:
            self.cache["is_complaint"] = self.complaint_values("is_complaint").fillna(False).astype(bool)
        return self.cache["is_complaint"]

    def located(self, found: pd.DataFrame) -> pd.DataFrame:
        """``found`` (matches with ``row``, the message's position in ``ordered``) with each message's
        session code, pos and turn."""
        rows = found["row"].to_numpy(dtype=np.int64)
        return found.assign(code=self.code[rows], pos=self.column("pos")[rows], turn=self.column("turn")[rows])

    def by_code(self, values: np.ndarray) -> pd.Series:
        """Per-session ``values`` (indexed by session code) over the judged sessions."""
        return pd.Series(np.asarray(values)[self.judged_codes], index=self.sessions)

    def flags(self, values: np.ndarray, applies: np.ndarray | None = None) -> pd.Series:
        """Per judged session: ``values`` (per session code) as a ``boolean`` column, missing where
        ``applies`` (per session code) is False."""
        values = np.asarray(values, dtype=bool)[self.judged_codes]
        missing = np.zeros(len(values), dtype=bool) if applies is None else ~np.asarray(applies, dtype=bool)[self.judged_codes]
        return pd.Series(pd.arrays.BooleanArray(values, missing), index=self.sessions)

    def any_rows(self, rows) -> np.ndarray:
        """Per session code: one of ``rows`` (positions in ``ordered``) belongs to it."""
        flags = np.zeros(len(self.session_ids), dtype=bool)
        flags[self.code[np.asarray(rows, dtype=np.int64)]] = True
        return flags

    def count_rows(self, rows, weights=None) -> np.ndarray:
        """Per session code: how many of ``rows`` (positions in ``ordered``) belong to it (or the sum of
        their ``weights``)."""
        codes = self.code[np.asarray(rows, dtype=np.int64)]
        return np.bincount(codes, weights=weights, minlength=len(self.session_ids))

    def mask(self, rows) -> np.ndarray:
        """A mask over ``ordered`` that is True at ``rows``."""
        out = np.zeros(len(self.ordered), dtype=bool)
        out[np.asarray(rows, dtype=np.int64)] = True
        return out


def session_codes(session_ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a column sorted by session (each session's rows together): its session's number, counted
    from 0 in the order of first appearance, and the ids in that order (object array), as
    ``pd.factorize(sort=False)`` gives them: found by comparing neighbours when there is no missing id."""
    arrow = getattr(session_ids.array, "_pa_array", None)
    if arrow is None or arrow.null_count or len(arrow) < 2:
        codes, ids = pd.factorize(session_ids, sort=False)
        return codes, np.asarray(ids, dtype=object)
    changes = neighbours_differ(session_ids)
    codes = np.zeros(len(arrow), dtype=np.int64)
    np.cumsum(changes, out=codes[1:])
    starts = np.flatnonzero(np.r_[True, changes])
    return codes, arrow.take(pa.array(starts)).to_numpy(zero_copy_only=False).astype(object)


def neighbours_differ(values: pd.Series) -> np.ndarray:
    """``values[i + 1] != values[i]`` for every i of a column without missing values: compared in Arrow
    when the column is Arrow-backed (no hashing), else through ``pd.factorize``'s codes."""
    arrow = getattr(values.array, "_pa_array", None)
    if arrow is None or arrow.null_count:
        codes = pd.factorize(values)[0]
        return codes[1:] != codes[:-1]
    if len(arrow) < 2:
        return np.zeros(0, dtype=bool)
    return pc.not_equal(arrow[1:], arrow[:-1]).to_numpy(zero_copy_only=False)


def cut_texts(texts: pa.Array, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``texts[i][start[i]:end[i]]`` for every i (character offsets, as Python slices them; a missing text
    is empty), as str objects, without a Python loop."""
    joined, lengths = joined_texts(texts)
    first_char = np.cumsum(lengths) - lengths
    start = np.clip(np.asarray(start, dtype=np.int64), 0, lengths)
    end = np.clip(np.asarray(end, dtype=np.int64), start, lengths)
    return text_slices(joined, first_char + start, first_char + end)


def text_slices(text: str, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """``text[start[i]:end[i]]`` for every i (0 ≤ start ≤ end ≤ len(text)), as str objects, no Python loop
    per slice (``normalize.code_point_runs``)."""
    start, end = np.asarray(start, dtype=np.int64), np.asarray(end, dtype=np.int64)
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    return code_point_runs(points, start, end - start).to_numpy(zero_copy_only=False)


def first_evidence(frame: pd.DataFrame, value: pd.Series, data: SessionData) -> pd.DataFrame:
    """A check's result: ``value`` per judged session (``data.by_code``) and per session the first row of
    ``frame`` (rows of ``data.ordered`` with ``row``, ``code``, ``pos``; by pos, then in ``frame``'s order)
    as its evidence: the message's id and ``frame``'s ``matched``, else the text between ``start`` and ``end``."""
    if not len(frame):
        return without_evidence(value)
    codes, pos = frame["code"].to_numpy(dtype=np.int64), frame["pos"].to_numpy(dtype=np.int64)
    # per session the row of ``frame`` with the least (pos, place in frame): one pass, no sort
    n = len(frame)
    least = np.full(len(data.session_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(least, codes, pos * n + np.arange(n))
    chosen = np.where(least < np.iinfo(np.int64).max, least % n, -1)
    shown = chosen[data.judged_codes]
    has = shown >= 0
    picked = shown[has]
    rows = frame["row"].to_numpy(dtype=np.int64)[picked]
    shown_rows = np.zeros(len(shown), dtype=np.int64)
    shown_rows[has] = rows
    message_id = _strings(data.arrow("message_id").take(pa.array(shown_rows, mask=~has)))
    if "matched" not in frame and "start" not in frame:
        return without_evidence(value).assign(message_id=message_id)
    matched = np.full(len(shown), None, dtype=object)
    given = frame["matched"].to_numpy(dtype=object)[picked] if "matched" in frame else np.full(len(picked), None, object)
    matched[has] = given
    if "start" in frame:
        start = frame["start"].to_numpy(dtype=float)[picked]
        cut = pd.isna(given) & ~np.isnan(start)       # cut the evidence text only for the rows shown
        texts = data.arrow("text").take(pa.array(rows[cut]))
        matched[np.flatnonzero(has)[cut]] = cut_texts(texts, start[cut].astype(np.int64),
                                                      frame["end"].to_numpy(dtype=float)[picked][cut].astype(np.int64))
    return pd.DataFrame({"value": value, "message_id": message_id,
                         "matched": _strings(pa.array(matched, type=pa.large_string(), from_pandas=True))})


def without_evidence(value: pd.Series) -> pd.DataFrame:
    """A check's result with ``value`` and no evidence: the evidence columns there, every one missing
    (a check's columns do not depend on what the sessions hold)."""
    nothing = _strings(pa.nulls(len(value), pa.large_string()))
    return pd.DataFrame({"value": value, "message_id": nothing, "matched": nothing})


def _strings(values: pa.Array | pa.ChunkedArray) -> pd.arrays.ArrowStringArray:
    """Arrow texts as the ``string`` column a check's evidence is (missing where null)."""
    return pd.arrays.ArrowStringArray(values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values]))


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
    columns = {}
    complaint = data.is_complaint().to_numpy()
    for check_id, entry in check_entries(spec).items():
        if check_id not in registered:
            raise ValueError(f"check {check_id!r} of {group} has no function: register one with "
                             f"@session_check({group!r}, {check_id!r}) or set enabled: false")
        result = registered[check_id](data).reindex(data.sessions)
        value = pd.Series(result["value"].array)             # by position from here: no lookups by session id
        if entry["applies"] == "complaint":
            value = value.where(complaint)
        if (entry["applies"] == "timed" or entry.get("needs_times")) and not data.timed:
            value = pd.Series(pd.NA, index=value.index)
        value = value.astype("Float64") if entry.get("rate") else value.astype("boolean")
        columns[check_id] = value.array
        for suffix in ("message_id", "matched"):
            if suffix in result:
                columns[f"{check_id}_{suffix}"] = _strings_where(result[suffix], ~value.array.isna())
    return pd.DataFrame(columns, index=data.sessions)


def _strings_where(column: pd.Series, keep: np.ndarray) -> pd.arrays.ArrowStringArray:
    """``column`` as strings, missing where not ``keep`` (``column.where(keep).astype("string")``, in Arrow)."""
    texts = pa.chunked_array(column.astype(pd.StringDtype("pyarrow")).array.__arrow_array__()).combine_chunks()
    return pd.arrays.ArrowStringArray(pa.chunked_array([pc.if_else(pa.array(keep), texts, pa.scalar(None, texts.type))]))


def weighted_score(checks: pd.DataFrame, spec: dict) -> pd.Series:
    """0-100 per session: the weighted mean of the checks that apply (missing ones left out); a check
    with ``good: false`` counts as 1 − value. Missing where no weighted check applies."""
    entries = {k: v for k, v in check_entries(spec).items() if float(v["weight"]) > 0 and k in checks}
    if not entries:
        return pd.Series(np.nan, index=checks.index)
    values = {k: checks[k].astype("Float64") if v.get("good", True) else 1 - checks[k].astype("Float64")
              for k, v in entries.items()}
    mean = weighted_mean(list(values.values()), [float(v["weight"]) for v in entries.values()])
    if mean is not None:
        return pd.Series(mean * 100, index=checks.index)
    values = pd.DataFrame(values)
    weights = pd.DataFrame({k: values[k].notna() * float(v["weight"]) for k, v in entries.items()})
    total = weights.sum(axis=1)
    return (values.fillna(0).mul(weights).sum(axis=1) / total.where(total > 0) * 100).astype(float)


def weighted_mean(values: list[pd.Series], weights: list[float]) -> np.ndarray | None:
    """Per row: Σ weight × value / Σ weight over the ``values`` (``Float64`` columns) present, NaN where
    none is, bit for bit as the pandas way (``fillna(0).mul(weights).sum(axis=1) / total``) gives it: the
    products summed in column order with Kahan's compensation, as pandas sums a ``Float64`` frame's
    rows. None when a weight is not a whole number (then the sum of weights depends on its order) or
    there is no column: the caller then takes the pandas way."""
    if not values or not all(float(w).is_integer() for w in weights) or sum(abs(w) for w in weights) >= 2**53:
        return None
    total = np.zeros(len(values[0]))
    compensation = np.zeros(len(values[0]))
    weight_sum = np.zeros(len(values[0]))
    for column, weight in zip(values, weights):
        weight_here = (~column.isna().to_numpy()) * float(weight)
        term = column.to_numpy(dtype=float, na_value=0.0) * weight_here
        y = term - compensation
        t = total + y
        compensation = t - total - y
        compensation[np.isnan(compensation)] = 0.0               # an infinite term: no compensation (as pandas)
        total = t
        weight_sum += weight_here
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / np.where(weight_sum > 0, weight_sum, np.nan)
