"""Politeness compliance per session: the seeds' checks, a weighted score, scorecards and trends.

Checks (phrase lists: resources/service_phrases.yaml; weights and fatal rules: resources/politeness.yaml):

A *turn* is a run of the agent's messages with no customer message between them (agents often send
two or three at once).

- ``greeting``: a message of the agent's first turn opens with a greeting or an offer of help (您好,
  很高兴为您服务, 请问有什么可以帮您 …) starting within its first ``greeting_within`` characters, counted
  after a leading wait apology (对不起，让您久等了。亲，您好 is a greeting; a 你好 deep in an answer is not).
- ``closing``: the agent's last turn holds a closing (thanks, a wish, a goodbye, a further-help offer,
  a pleasure-to-serve line); ``anything_else``: one of the last ``closing_window`` agent turns asks
  whether anything else is needed.
- ``honorific``: of the agent's messages that address the customer (您, or an informal_address hit),
  the share that use 您 and never 你. ``please``: the share of agent messages with 请.
- ``complaint_apology`` / ``complaint_empathy``: in complaint sessions (``complaints.classify_complaints``),
  an agent apologised / showed empathy. Missing (not applicable) in other sessions.
- ``wait_apology``: the share of long waits (``timing.long_waits``) whose reply apologised; missing
  without long waits or without send times.
- ``festive_closing``: on a weekend the closing says 周末愉快, on a statutory holiday 节日快乐 (the day of
  the last agent message, from the official calendar with 调休 make-up workdays, ``base.holidays.day_type``).
  Missing on workdays, on make-up workdays, without times, and on dates the calendar does not cover
  (``calendar`` = unknown: reported, not guessed).
- ``no_taboo``: no 三不 breach, i.e. no hit of the ``taboo_categories``/``taboo_subcategories``
  (推诿, 生硬, 责备 kinds of service_taboo) in the session's forbidden-phrase hits. ``fatal``: a hit of a fatal-severity rule (abuse, leaking a buyer's number):
  the score is 0.

Only human agent messages are judged (bots and auto-replies are not, see ``timing``). Sessions
without a human agent message are left out.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..base import config
from ..base.holidays import day_type
from ..base.schema import as_messages
from .complaints import classify_complaints
from .process import process_spec, side_matches
from .rulebook import load_rulebook
from .session_checks import SessionData, check_entries, cut_texts, labels_of, run_checks, session_check, weighted_mean
from .timing import long_waits as find_long_waits
from .violations import find_violations
from ..base.layering import load_yaml

CHECKS = ("greeting", "closing", "anything_else", "honorific", "please", "complaint_apology", "complaint_empathy",
          "wait_apology", "festive_closing", "no_taboo")
RATE_CHECKS = ("honorific", "please", "wait_apology")
GROUP = "politeness"
# every column of politeness_checks, also of its empty result (an export with no human agent reply)
CHECK_COLUMNS = ("session_id", "platform", "shop", "agent_id", "greeting", "closing", "anything_else", "honorific",
                 "please", "complaint_apology", "complaint_empathy", "wait_apology", "long_waits", "started", "day",
                 "day_type", "festive_expected", "festive_closing", "no_taboo", "taboo_rules", "fatal", "score")


@lru_cache(maxsize=1)
def politeness_spec() -> dict:
    """The checks (label, weight, when they apply), fatal severities, taboo categories, windows
    (resources/politeness.yaml)."""
    spec = load_yaml((config.RESOURCES_DIR / "politeness.yaml").read_text(encoding="utf-8"))
    check_entries(spec)
    missing = set(CHECKS) - set(spec["checks"])
    if missing:
        raise ValueError(f"resources/politeness.yaml: no entry under 'checks' for {sorted(missing)}")
    return spec


def check_labels(spec: dict | None = None) -> dict[str, str]:
    """Check id → the Chinese label charts show (politeness.yaml ``checks``), and the score's."""
    spec = spec or politeness_spec()
    return {**labels_of(spec), "score": spec.get("score_label", "score")}


def politeness_checks(messages: pd.DataFrame, hits: pd.DataFrame | None = None,
                      complaints: pd.DataFrame | None = None, long_waits: pd.DataFrame | None = None,
                      spec: dict | None = None, *, rulebook=None, taxonomy=None,
                      sessions: SessionData | None = None) -> pd.DataFrame:
    """One row per session with a human agent message: one column per check (see the module
    docstring; booleans or rates, missing where a check does not apply), ``fatal``, ``score`` (0-100),
    and context: platform, shop, agent_id (the session's owner, ``sessions.session_owner``), started, day, day_type.

    ``hits`` (``find_violations``), ``complaints`` (``classify_complaints``) and ``long_waits``
    (``timing.long_waits``) are computed when not given, with ``rulebook`` and ``taxonomy`` (the
    packaged ones when None). ``analyze(messages, …).politeness`` passes the ones it computed, and
    ``sessions``: the ``SessionData`` of these messages with them, shared with the process checks.
    Each check is a function below registered with ``session_checks.session_check``; ``spec`` (default
    resources/politeness.yaml) says which run, their weights and when they apply.
    """
    messages = as_messages(messages)
    spec = spec or politeness_spec()
    if sessions is None:
        data = SessionData(messages, hits)
        if len(data.sessions):
            data.hits = find_violations(messages, rulebook) if hits is None else hits
            data.complaints = classify_complaints(messages, taxonomy) if complaints is None else complaints
            data.long_waits = find_long_waits(messages) if long_waits is None and data.timed else long_waits
            data.extra = {"rulebook": rulebook or load_rulebook()}
    else:
        data = sessions
    if not len(data.sessions):
        return _no_checks(messages)
    data = data.with_extra({**data.extra, "spec": spec})
    checks = run_checks(GROUP, data, spec)
    agent_rows = data.agent_rows()
    # one row per judged session, by position (the checks are indexed by data.sessions)
    out = pd.DataFrame({"session_id": data.sessions.array,
                        "platform": data.first_values("platform", agent_rows).array,
                        "shop": data.first_values("shop", agent_rows).array,
                        "agent_id": data.owners().array})
    for check in CHECKS:
        out[check] = checks[check].array if check in checks else pd.NA
    waits = data.long_waits
    waits = waits.groupby("session_id")["apologized"].size() if waits is not None and len(waits) else None
    out["long_waits"] = waits.reindex(data.sessions).fillna(0).astype(int).to_numpy() if waits is not None else 0
    day, kind = _last_day(data)
    if data.timed:
        timed = np.flatnonzero(data.ordered["ts"].notna().to_numpy())
        out["started"] = data.ordered["ts"].array.take(data.first_rows(timed)[data.judged_codes], allow_fill=True)
    else:
        out["started"] = pd.Series(pd.NaT, index=out.index, dtype=messages["ts"].dtype)
    out["day"], out["day_type"] = day.array, kind.array
    out["festive_expected"] = kind.where(kind.isin(["weekend", "holiday"])).array
    taboo, fatal = _taboo_and_fatal(data)
    out["taboo_rules"] = _joined_rules(taboo, data.sessions)
    out["fatal"] = _in_sessions(fatal, data)
    for check in ("greeting", "closing", "anything_else", "no_taboo", "fatal"):
        out[check] = out[check].fillna(False).astype(bool)
    for check in ("honorific", "please", "wait_apology"):
        out[check] = out[check].astype("Float64").astype(float)
    for check in ("complaint_apology", "complaint_empathy", "festive_closing"):
        out[check] = out[check].astype("boolean")
    out["score"] = session_scores(out, spec)
    return out[list(CHECK_COLUMNS)]


def _joined_rules(taboo: pd.DataFrame, sessions: pd.Index) -> pd.arrays.ArrowStringArray:
    """Per session of ``sessions``: the rule ids of its ``taboo`` hits, each once, in the hits' order, joined by ;
    (a ``str`` column)."""
    rules = taboo[["session_id", "rule_id"]].astype(str).drop_duplicates()
    at = pd.Index(sessions.astype(str)).get_indexer(rules["session_id"])
    known = at >= 0
    order = np.argsort(at[known], kind="stable")
    values = pa.array(rules["rule_id"].to_numpy(dtype=object)[known][order], type=pa.large_string())
    offsets = np.r_[0, np.cumsum(np.bincount(at[known], minlength=len(sessions)))].astype(np.int64)
    joined = pc.binary_join(pa.LargeListArray.from_arrays(offsets, values), pa.scalar(";", pa.large_string()))
    return pd.array(joined, dtype=pd.StringDtype("pyarrow", na_value=np.nan))


def _in_sessions(hits: pd.DataFrame, data: SessionData) -> np.ndarray:
    """Per judged session: one of ``hits`` names it (its ``session_id``)."""
    flags = np.zeros(len(data.sessions), dtype=bool)
    at = data.sessions.get_indexer(pd.unique(hits["session_id"])) if len(hits) else np.zeros(0, dtype=np.int64)
    flags[at[at >= 0]] = True
    return flags


# ------------------------------------------------------------------------------ the checks ---
def _found(data: SessionData, purpose: str) -> pd.DataFrame:
    """The matches of one service phrase list in the agent messages, found once per batch with the process
    checks' agent-side lists (``process.side_matches``)."""
    return side_matches(data, "agent", process_spec(), data.extra["rulebook"])[f"service:{purpose}"]


def _with(data: SessionData, purpose: str) -> np.ndarray:
    """A mask over ``data.ordered``: the message holds a service phrase of ``purpose``."""
    key = ("politeness-mask", purpose)
    if key not in data.cache:
        data.cache[key] = data.mask(_found(data, purpose)["row"].to_numpy())
    return data.cache[key]


def _any(data: SessionData, rows: np.ndarray, flags: np.ndarray) -> pd.DataFrame:
    """Per judged session: one of its ``rows`` (positions in ``data.ordered``) is flagged in ``flags`` (a mask over it)."""
    return pd.DataFrame({"value": data.by_code(data.any_rows(rows[flags[rows]]))})


def _turn_rows(data: SessionData, which: str) -> np.ndarray:
    """The rows of the agent's first turn, last turn, or the last ``closing_window`` turns, per session
    (found once per batch)."""
    key = ("turn_rows", which, which == "window" and int(data.extra["spec"]["closing_window"]))
    if key not in data.cache:
        rows = data.agent_rows()
        if which == "first":
            turn = data.column("turn")
            data.cache[key] = rows[turn[rows] == turn[data.first_rows(rows)[data.code[rows]]]]
        else:
            rank = data.agent_turn_rank()
            data.cache[key] = rows[rank == 1] if which == "last" else rows[rank <= key[2]]
    return data.cache[key]


@session_check(GROUP, "greeting")
def greeting(data: SessionData) -> pd.DataFrame:
    """The first turn opens with a greeting (after a leading wait apology, or a template's start) or
    offers help anywhere."""
    first = _turn_rows(data, "first")
    spec = data.extra["spec"]
    opening = _opens_with_greeting(data, first, int(spec["greeting_within"]), spec.get("template_breaks", ""))
    return _any(data, first, opening | _with(data, "help_offer") | _with(data, "anything_else"))


@session_check(GROUP, "closing")
def closing(data: SessionData) -> pd.DataFrame:
    """The last turn holds a closing; a further-help offer closes a chat too (the labelling convention)."""
    return _any(data, _turn_rows(data, "last"), _with(data, "closing") | _with(data, "anything_else"))


@session_check(GROUP, "anything_else")
def anything_else(data: SessionData) -> pd.DataFrame:
    """One of the last ``closing_window`` turns asks whether anything else is needed."""
    return _any(data, _turn_rows(data, "window"), _with(data, "anything_else"))


@session_check(GROUP, "honorific")
def honorific(data: SessionData) -> pd.DataFrame:
    """Of the messages that address the buyer (the ``honorific`` service phrases: 您; or an informal_address
    hit), the share with 您 and never 你."""
    rows = data.agent_rows()
    informal_hits = data.hit_rows()[data.hits_where("category", ["informal_address"])] if len(data.hits) else \
        np.zeros(0, dtype=np.int64)
    is_informal = data.mask(informal_hits[informal_hits >= 0])[rows]
    uses_nin = _with(data, "honorific")[rows]
    addressing = uses_nin | is_informal
    total = data.count_rows(rows, addressing.astype(float))
    polite = data.count_rows(rows, (addressing & ~is_informal).astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, polite / total, np.nan)
    return pd.DataFrame({"value": data.by_code(share)})


@session_check(GROUP, "please")
def please(data: SessionData) -> pd.DataFrame:
    """The share of the agent's messages with 请."""
    rows = data.agent_rows()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = data.count_rows(rows, _with(data, "please")[rows].astype(float)) / data.count_rows(rows)
    return pd.DataFrame({"value": data.by_code(share)})


@session_check(GROUP, "complaint_apology")
def complaint_apology(data: SessionData) -> pd.DataFrame:
    """An agent apologised in the session (applies to complaint sessions)."""
    return _any(data, data.agent_rows(), _with(data, "apology"))


@session_check(GROUP, "complaint_empathy")
def complaint_empathy(data: SessionData) -> pd.DataFrame:
    """An agent showed empathy in the session (applies to complaint sessions)."""
    return _any(data, data.agent_rows(), _with(data, "empathy"))


@session_check(GROUP, "wait_apology")
def wait_apology(data: SessionData) -> pd.DataFrame:
    """The share of long waits whose reply apologised; missing without long waits."""
    waits = data.long_waits
    if waits is None or not len(waits):
        return pd.DataFrame({"value": pd.Series(np.nan, index=data.sessions)})
    share = waits.groupby("session_id")["apologized"].mean()
    return pd.DataFrame({"value": share.reindex(data.sessions).astype(float)})


def _last_day(data: SessionData) -> tuple[pd.Series, pd.Series]:
    """Per judged session: the local date of the last agent message and its day type (official calendar)."""
    if "last_day" not in data.cache:
        if not data.timed:
            data.cache["last_day"] = pd.Series(pd.NA, index=data.sessions, dtype=object), _no_day_type(data)
        else:
            rows = data.agent_rows()
            timed = rows[data.ordered["ts"].notna().to_numpy()[rows]]
            last = data.first_rows(timed, last=True)[data.judged_codes]
            day, codes, days = _local_days(data.ordered["ts"].array.take(last, allow_fill=True))
            day = pd.Series(day, index=data.sessions)
            if len(days):      # the calendar is read once per distinct day
                kind = pd.Series(pd.Series(days).map(day_type).array.take(codes, allow_fill=True), index=data.sessions)
            else:
                kind = _no_day_type(data)
            data.cache["last_day"] = day, kind
    return data.cache["last_day"]


def _no_day_type(data: SessionData) -> pd.Series:
    """The day types of sessions with no agent message time: missing, typed as day types are (``str``)."""
    return pd.Series(pd.NA, index=data.sessions, dtype="str")


def _local_days(times) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``times`` (timezone-aware) as ``.dt.date`` gives them (local dates, NaT where missing, an object
    array), with each time's number among the distinct dates (-1 where missing) and those dates: a date
    object is made once per distinct day."""
    wall = (times.tz_localize(None) if times.tz is not None else times).to_numpy()      # local wall-clock times
    known = ~times.isna()
    whole_days, codes = np.unique(wall[known].astype("datetime64[D]").view(np.int64), return_inverse=True)
    days = pd.to_datetime(whole_days, unit="D").date if len(whole_days) else np.zeros(0, dtype=object)
    day = np.full(len(times), pd.NaT, dtype=object)
    day[known] = days[codes]
    at = np.full(len(times), -1, dtype=np.int64)
    at[known] = codes
    return day, at, days


@session_check(GROUP, "festive_closing")
def festive_closing(data: SessionData) -> pd.DataFrame:
    """On a weekend the closing says 周末愉快, on a statutory holiday 节日快乐; missing on other days."""
    _, kind = _last_day(data)
    window = _turn_rows(data, "window")
    weekend = data.any_rows(window[_with(data, "weekend_closing")[window]])[data.judged_codes]
    holiday = data.any_rows(window[_with(data, "holiday_closing")[window]])[data.judged_codes]
    is_weekend = kind.eq("weekend").to_numpy(dtype=bool, na_value=False)
    is_holiday = kind.eq("holiday").to_numpy(dtype=bool, na_value=False)
    value = pd.arrays.BooleanArray(np.where(is_weekend, weekend, is_holiday & holiday), ~(is_weekend | is_holiday))
    return pd.DataFrame({"value": pd.Series(value, index=data.sessions)})


def _taboo_and_fatal(data: SessionData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 三不 hits and the fatal hits in the judged sessions' human agent messages (found once per batch)."""
    spec = data.extra["spec"]
    key = ("taboo_and_fatal", id(spec))
    if key not in data.cache:
        hits, rows = data.hits, data.hit_rows()
        if not len(hits):
            data.cache[key] = (hits, hits)
            return data.cache[key]
        mine = (rows >= 0) & data.column("human")[np.maximum(rows, 0)]
        taboo = mine & data.hits_where("category", spec["taboo_categories"])
        if spec.get("taboo_subcategories"):
            taboo &= data.hits_where("subcategory", spec["taboo_subcategories"])
        fatal = mine & data.hits_where("severity", spec["fatal_severities"])
        data.cache[key] = (hits[taboo], hits[fatal])
    return data.cache[key]


@session_check(GROUP, "no_taboo")
def no_taboo(data: SessionData) -> pd.DataFrame:
    """No 三不 breach: no hit of the taboo categories / subcategories in the session."""
    taboo, _ = _taboo_and_fatal(data)
    return pd.DataFrame({"value": pd.Series(~_in_sessions(taboo, data), index=data.sessions)})


def _no_checks(messages: pd.DataFrame) -> pd.DataFrame:
    """The checks of an export without a human agent reply: no rows, every column with its type (the
    messages' for the session, its context and its start)."""
    kinds = {"started": messages["ts"].dtype, "long_waits": "int64", "score": "float64", "honorific": "float64",
             "please": "float64", "wait_apology": "float64", "complaint_apology": "boolean", "complaint_empathy": "boolean",
             "festive_closing": "boolean", **{c: "bool" for c in ("greeting", "closing", "anything_else", "no_taboo", "fatal")},
             **{c: messages[c].dtype for c in ("session_id", "platform", "shop", "agent_id")},
             **{c: "str" for c in ("day_type", "festive_expected", "taboo_rules")}}
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "object")) for c in CHECK_COLUMNS})


def _opens_with_greeting(data: SessionData, first_turn: np.ndarray, within: int, template_breaks: str) -> np.ndarray:
    """A mask over ``data.ordered``: a message of the first turn (``first_turn`` rows) where a salutation starts
    within ``within`` characters, counted after a leading wait apology (对不起，让您久等了。亲，您好 opens
    with a greeting; 这款有货的，你好 does not), or opens one of the templates the message is made of
    (after whitespace or a full stop: 正在查询~ 您好，…)."""
    in_first_turn = data.mask(first_turn)
    waits = _found(data, "apology_wait")
    waits = waits[in_first_turn[waits["row"].to_numpy(dtype=np.int64)] & (waits["start"] < within).to_numpy()]
    offset = np.zeros(len(data.ordered), dtype=np.int64)
    np.maximum.at(offset, waits["row"].to_numpy(dtype=np.int64), waits["end"].to_numpy(dtype=np.int64))
    greetings = _found(data, "greeting")
    greetings = greetings[in_first_turn[greetings["row"].to_numpy(dtype=np.int64)]]
    rows, start = greetings["row"].to_numpy(dtype=np.int64), greetings["start"].to_numpy(dtype=np.int64)
    opening = start - offset[rows] < within
    after = ~opening & (start > 0)           # else: does it follow whitespace or a template break?
    before = cut_texts(data.arrow("text").take(pa.array(rows[after])), start[after] - 1, start[after])
    characters, which = np.unique(before.astype(str), return_inverse=True)
    breaks = set(template_breaks)
    opens_template = np.array([c.isspace() or c in breaks for c in characters], dtype=bool)  # per distinct character
    opening[np.flatnonzero(after)[opens_template[which]]] = True
    return data.mask(rows[opening])


def session_scores(checks: pd.DataFrame, spec: dict | None = None) -> pd.Series:
    """0-100: the weighted mean of the checks that apply (missing ones are left out); 0 when fatal."""
    spec = spec or politeness_spec()
    weights = {k: v["weight"] for k, v in check_entries(spec).items()}
    columns = [c for c in CHECKS if c in weights]
    mean = weighted_mean([checks[c].astype("Float64") for c in columns], [float(weights[c]) for c in columns])
    if mean is not None:
        return pd.Series(np.where(checks["fatal"].astype(bool).to_numpy(), 0.0, mean * 100), index=checks.index)
    values = pd.DataFrame({c: checks[c].astype("Float64") for c in columns})
    present = values.notna()
    weight = pd.DataFrame({c: present[c] * float(weights[c]) for c in values.columns})
    score = (values.fillna(0).mul(weight)).sum(axis=1) / weight.sum(axis=1).where(weight.sum(axis=1) > 0)
    return (score * 100).where(~checks["fatal"].astype(bool), 0.0).astype(float)


# ------------------------------------------------------------------------------ summaries ---


