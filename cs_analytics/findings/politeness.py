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
import yaml

from ..base import config
from ..base.holidays import day_type
from .service_phrases import find_service_phrases
from ..base.timeparse import has_times
from ..base.schema import as_messages, is_in
from .complaints import classify_complaints
from .session_checks import SessionData, check_entries, labels_of, run_checks, session_check
from .sessions import HUMAN, message_kinds, session_owner
from .timing import long_waits as find_long_waits
from .violations import find_violations

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
    spec = yaml.safe_load((config.RESOURCES_DIR / "politeness.yaml").read_text(encoding="utf-8"))
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
                      spec: dict | None = None, *, rulebook=None, taxonomy=None) -> pd.DataFrame:
    """One row per session with a human agent message: one column per check (see the module
    docstring; booleans or rates, missing where a check does not apply), ``fatal``, ``score`` (0-100),
    and context: platform, shop, agent_id (the session's owner, ``sessions.session_owner``), started, day, day_type.

    ``hits`` (``find_violations``), ``complaints`` (``classify_complaints``) and ``long_waits``
    (``timing.long_waits``) are computed when not given, with ``rulebook`` and ``taxonomy`` (the
    packaged ones when None). ``analyze(messages, …).politeness`` passes the ones it computed.
    Each check is a function below registered with ``session_checks.session_check``; ``spec`` (default
    resources/politeness.yaml) says which run, their weights and when they apply.
    """
    messages = as_messages(messages)
    spec = spec or politeness_spec()
    if not (message_kinds(messages) == HUMAN).any():
        return _no_checks(messages["ts"].dtype)
    hits = find_violations(messages, rulebook) if hits is None else hits
    complaints = classify_complaints(messages, taxonomy) if complaints is None else complaints
    if long_waits is None and has_times(messages):
        long_waits = find_long_waits(messages)
    data = SessionData(messages, hits, complaints, long_waits, extra={"spec": spec})
    checks = run_checks(GROUP, data, spec)
    group = data.agents.groupby("session_id", sort=False)
    out = pd.DataFrame({"platform": group["platform"].first(), "shop": group["shop"].first()}).reindex(data.sessions)
    out["agent_id"] = session_owner(messages).reindex(out.index)
    for check in CHECKS:
        out[check] = checks[check] if check in checks else pd.NA
    waits = long_waits.groupby("session_id")["apologized"].size() if long_waits is not None and len(long_waits) else None
    out["long_waits"] = waits.reindex(out.index).fillna(0).astype(int) if waits is not None else 0
    day, kind = _last_day(data)
    out["started"] = data.ordered[data.ordered["ts"].notna()].groupby("session_id")["ts"].min().reindex(out.index) \
        if data.timed else pd.NaT
    out["day"], out["day_type"] = day, kind
    out["festive_expected"] = kind.where(kind.isin(["weekend", "holiday"]))
    taboo, fatal = _taboo_and_fatal(data)
    rules: dict[str, list] = {}
    for sid, rule in zip(taboo["session_id"].astype(str), taboo["rule_id"].astype(str)):
        rules.setdefault(sid, []).append(rule)
    out["taboo_rules"] = [";".join(dict.fromkeys(rules.get(sid, []))) for sid in out.index]
    out["fatal"] = out.index.isin(set(fatal["session_id"]))
    for check in ("greeting", "closing", "anything_else", "no_taboo", "fatal"):
        out[check] = out[check].fillna(False).astype(bool)
    for check in ("honorific", "please", "wait_apology"):
        out[check] = out[check].astype("Float64").astype(float)
    for check in ("complaint_apology", "complaint_empathy", "festive_closing"):
        out[check] = out[check].astype("boolean")
    out["score"] = session_scores(out, spec)
    out.index.name = "session_id"
    return out.reset_index()[list(CHECK_COLUMNS)]


# ------------------------------------------------------------------------------ the checks ---
PURPOSES = ("greeting", "help_offer", "closing", "anything_else", "weekend_closing", "holiday_closing", "please",
            "apology", "empathy", "apology_wait")


def _found(data: SessionData) -> pd.DataFrame:
    """The service phrases of every human agent message, found once per batch."""
    if "politeness" not in data.cache:
        data.cache["politeness"] = data.located(find_service_phrases(data.agents, PURPOSES))
    return data.cache["politeness"]


def _with(data: SessionData, purpose: str, frame: pd.DataFrame) -> np.ndarray:
    """Per message of ``frame`` (rows of ``data.ordered``): it holds a phrase of ``purpose``."""
    key = ("politeness-mask", purpose)
    if key not in data.cache:
        found = _found(data)
        data.cache[key] = data.mask(found.loc[found["purpose"] == purpose, "row"].to_numpy())
    return data.cache[key][frame.index.to_numpy(dtype=np.int64)]


def _any(frame: pd.DataFrame, flags: np.ndarray, data: SessionData) -> pd.DataFrame:
    """Per judged session: any of ``frame``'s messages flagged."""
    value = pd.Series(flags, index=frame.index).groupby(frame["session_id"].to_numpy(), sort=False).any()
    return pd.DataFrame({"value": value.reindex(data.sessions).fillna(False).astype(bool)})


def _turns(data: SessionData, which: str) -> pd.DataFrame:
    """The agent's first turn, last turn, or the last ``closing_window`` turns, per session."""
    agents = data.agents
    by_session = agents.groupby("session_id", sort=False)["turn"]
    if which == "first":
        return agents[agents["turn"] == by_session.transform("min")]
    if which == "last":
        return agents[agents["turn"] == by_session.transform("max")]
    return agents[by_session.rank(method="dense", ascending=False) <= int(data.extra["spec"]["closing_window"])]


@session_check(GROUP, "greeting")
def greeting(data: SessionData) -> pd.DataFrame:
    """The first turn opens with a greeting (after a leading wait apology, or a template's start) or
    offers help anywhere."""
    first = _turns(data, "first")
    spec = data.extra["spec"]
    opening = _opens_with_greeting(_found(data), first, int(spec["greeting_within"]), spec.get("template_breaks", ""))
    offers = _with(data, "help_offer", first) | _with(data, "anything_else", first)
    return _any(first, opening.reindex(first["message_id"]).fillna(False).to_numpy(dtype=bool) | offers, data)


@session_check(GROUP, "closing")
def closing(data: SessionData) -> pd.DataFrame:
    """The last turn holds a closing; a further-help offer closes a chat too (the labelling convention)."""
    last = _turns(data, "last")
    return _any(last, _with(data, "closing", last) | _with(data, "anything_else", last), data)


@session_check(GROUP, "anything_else")
def anything_else(data: SessionData) -> pd.DataFrame:
    """One of the last ``closing_window`` turns asks whether anything else is needed."""
    window = _turns(data, "window")
    return _any(window, _with(data, "anything_else", window), data)


@session_check(GROUP, "honorific")
def honorific(data: SessionData) -> pd.DataFrame:
    """Of the messages that address the buyer (您, or an informal_address hit), the share with 您 and never 你."""
    agents = data.agents
    informal = set(data.hits.loc[data.hits["category"].astype(str) == "informal_address", "message_id"])
    uses_nin = agents["text"].astype(str).str.contains("您", regex=False).to_numpy()
    is_informal = agents["message_id"].isin(informal).to_numpy()
    addressing = uses_nin | is_informal
    per = pd.DataFrame({"session_id": agents["session_id"].to_numpy(), "addressing": addressing,
                        "polite": addressing & ~is_informal}).groupby("session_id", sort=False)
    total = per["addressing"].sum()
    return pd.DataFrame({"value": (per["polite"].sum() / total.where(total > 0)).reindex(data.sessions)})


@session_check(GROUP, "please")
def please(data: SessionData) -> pd.DataFrame:
    """The share of the agent's messages with 请."""
    agents = data.agents
    flags = pd.Series(_with(data, "please", agents), index=agents.index)
    return pd.DataFrame({"value": flags.groupby(agents["session_id"].to_numpy(), sort=False).mean().reindex(data.sessions)})


@session_check(GROUP, "complaint_apology")
def complaint_apology(data: SessionData) -> pd.DataFrame:
    """An agent apologised in the session (applies to complaint sessions)."""
    return _any(data.agents, _with(data, "apology", data.agents), data)


@session_check(GROUP, "complaint_empathy")
def complaint_empathy(data: SessionData) -> pd.DataFrame:
    """An agent showed empathy in the session (applies to complaint sessions)."""
    return _any(data.agents, _with(data, "empathy", data.agents), data)


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
    if not data.timed:
        missing = pd.Series(pd.NA, index=data.sessions, dtype=object)
        return missing, missing
    last_ts = data.agents.groupby("session_id", sort=False)["ts"].last().reindex(data.sessions)
    day = last_ts.dt.date
    return day, day.map(lambda d: day_type(d) if pd.notna(d) else pd.NA)


@session_check(GROUP, "festive_closing")
def festive_closing(data: SessionData) -> pd.DataFrame:
    """On a weekend the closing says 周末愉快, on a statutory holiday 节日快乐; missing on other days."""
    _, kind = _last_day(data)
    window = _turns(data, "window")
    marks = window.assign(weekend=_with(data, "weekend_closing", window), holiday=_with(data, "holiday_closing", window))
    festive = marks.groupby("session_id", sort=False)[["weekend", "holiday"]].any().reindex(data.sessions)
    expected = kind.where(kind.isin(["weekend", "holiday"]))
    value = pd.Series(np.where(expected == "weekend", festive["weekend"],
                               np.where(expected == "holiday", festive["holiday"], False)), index=data.sessions)
    return pd.DataFrame({"value": value.where(expected.notna())})


def _taboo_and_fatal(data: SessionData) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 三不 hits and the fatal hits in the judged sessions' human agent messages (found once per batch)."""
    if "taboo_and_fatal" not in data.cache:
        spec, hits = data.extra["spec"], data.hits
        # human agent messages of judged sessions, matched by id in Arrow (a Python set of ids is slow)
        mine = hits[is_in(hits["message_id"], data.agents["message_id"])]
        taboo = mine[mine["category"].astype(str).isin(spec["taboo_categories"])]
        if spec.get("taboo_subcategories"):
            taboo = taboo[taboo["subcategory"].astype(str).isin(spec["taboo_subcategories"])]
        data.cache["taboo_and_fatal"] = (taboo, mine[mine["severity"].astype(str).isin(spec["fatal_severities"])])
    return data.cache["taboo_and_fatal"]


@session_check(GROUP, "no_taboo")
def no_taboo(data: SessionData) -> pd.DataFrame:
    """No 三不 breach: no hit of the taboo categories / subcategories in the session."""
    taboo, _ = _taboo_and_fatal(data)
    return pd.DataFrame({"value": pd.Series(~data.sessions.isin(set(taboo["session_id"])), index=data.sessions)})


def _no_checks(ts_dtype) -> pd.DataFrame:
    """The checks of an export without a human agent reply: no rows, every column with its type."""
    kinds = {"started": ts_dtype, "long_waits": "int64", "score": "float64", "honorific": "float64", "please": "float64",
             "wait_apology": "float64", "complaint_apology": "boolean", "complaint_empathy": "boolean",
             "festive_closing": "boolean", **{c: "bool" for c in ("greeting", "closing", "anything_else", "no_taboo", "fatal")}}
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "object")) for c in CHECK_COLUMNS})


def _opens_with_greeting(found: pd.DataFrame, first_turn: pd.DataFrame, within: int, template_breaks: str) -> pd.Series:
    """Per message of the first turn: a salutation starts within ``within`` characters, counted after a
    leading wait apology (对不起，让您久等了。亲，您好 opens with a greeting; 这款有货的，你好 does not), or opens
    one of the templates the message is made of (after whitespace or a full stop: 正在查询~ 您好，…)."""
    message_ids = set(first_turn["message_id"])
    texts = dict(zip(first_turn["message_id"], first_turn["text"].astype(str)))
    breaks = set(template_breaks)
    mine = found[np.isin(found["row"].to_numpy(dtype=np.int64), first_turn.index.to_numpy(dtype=np.int64))]
    waits = mine[(mine["purpose"] == "apology_wait") & (mine["start"] < within)]
    offset: dict[str, int] = {}
    for message_id, end in zip(waits["message_id"], waits["end"]):
        offset[message_id] = max(offset.get(message_id, 0), int(end))
    greetings = mine[mine["purpose"] == "greeting"]
    opening = {m for m, start in zip(greetings["message_id"], greetings["start"])
               if start - offset.get(m, 0) < within or (start > 0 and (texts[m][start - 1].isspace() or texts[m][start - 1] in breaks))}
    return pd.Series({i: i in opening for i in message_ids}, dtype=bool)


def session_scores(checks: pd.DataFrame, spec: dict | None = None) -> pd.Series:
    """0-100: the weighted mean of the checks that apply (missing ones are left out); 0 when fatal."""
    spec = spec or politeness_spec()
    weights = {k: v["weight"] for k, v in check_entries(spec).items()}
    values = pd.DataFrame({c: checks[c].astype("Float64") for c in CHECKS if c in weights})
    present = values.notna()
    weight = pd.DataFrame({c: present[c] * float(weights[c]) for c in values.columns})
    score = (values.fillna(0).mul(weight)).sum(axis=1) / weight.sum(axis=1).where(weight.sum(axis=1) > 0)
    return (score * 100).where(~checks["fatal"].astype(bool), 0.0).astype(float)


# ------------------------------------------------------------------------------ summaries ---


