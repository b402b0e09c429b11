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
from ..base.schema import as_messages
from .complaints import classify_complaints
from .sessions import HUMAN, message_kinds, session_owner
from .timing import long_waits as find_long_waits
from .violations import find_violations

CHECKS = ("greeting", "closing", "anything_else", "honorific", "please", "complaint_apology", "complaint_empathy",
          "wait_apology", "festive_closing", "no_taboo")
RATE_CHECKS = ("honorific", "please", "wait_apology")
# every column of politeness_checks, also of its empty result (an export with no human agent reply)
CHECK_COLUMNS = ("session_id", "platform", "shop", "agent_id", "greeting", "closing", "anything_else", "honorific",
                 "please", "complaint_apology", "complaint_empathy", "wait_apology", "long_waits", "started", "day",
                 "day_type", "festive_expected", "festive_closing", "no_taboo", "taboo_rules", "fatal", "score")


@lru_cache(maxsize=1)
def politeness_spec() -> dict:
    """Weights, fatal severities, taboo categories, closing window (resources/politeness.yaml)."""
    spec = yaml.safe_load((config.RESOURCES_DIR / "politeness.yaml").read_text(encoding="utf-8"))
    missing = set(CHECKS) - set(spec["weights"])
    if missing:
        raise ValueError(f"resources/politeness.yaml: weights missing for {sorted(missing)}")
    return spec


def check_labels() -> dict[str, str]:
    """Check id → the Chinese label charts show (politeness.yaml ``labels``)."""
    return dict(politeness_spec()["labels"])


def _human_agent_messages(messages: pd.DataFrame) -> pd.DataFrame:
    agents = messages[messages["role"] == "agent"]
    kinds = message_kinds(agents)
    human = agents[kinds == HUMAN]
    return human.sort_values(["session_id", "ts", "seq"], kind="stable", na_position="first") \
        if has_times(messages) else human.sort_values(["session_id", "seq"], kind="stable")


def politeness_checks(messages: pd.DataFrame, hits: pd.DataFrame | None = None,
                      complaints: pd.DataFrame | None = None, long_waits: pd.DataFrame | None = None,
                      spec: dict | None = None, *, rulebook=None, taxonomy=None) -> pd.DataFrame:
    """One row per session with a human agent message: one column per check (see the module
    docstring; booleans or rates, missing where a check does not apply), ``fatal``, ``score`` (0-100),
    and context: platform, shop, agent_id (the session's owner, ``sessions.session_owner``), started, day, day_type.

    ``hits`` (``find_violations``), ``complaints`` (``classify_complaints``) and ``long_waits``
    (``timing.long_waits``) are computed when not given, with ``rulebook`` and ``taxonomy`` (the
    packaged ones when None). ``analyze(messages, …).politeness`` passes the ones it computed.
    """
    messages = as_messages(messages)
    spec = spec or politeness_spec()
    agents = _human_agent_messages(messages)
    if agents.empty:
        return _no_checks(messages["ts"].dtype)
    hits = find_violations(messages, rulebook) if hits is None else hits
    complaints = classify_complaints(messages, taxonomy) if complaints is None else complaints
    timed = has_times(messages)
    if long_waits is None and timed:
        long_waits = find_long_waits(messages)

    found = find_service_phrases(agents, ("greeting", "help_offer", "closing", "anything_else", "weekend_closing",
                                          "holiday_closing", "please", "apology", "empathy", "apology_wait"))
    has = {purpose: set(found.loc[found["purpose"] == purpose, "message_id"]) for purpose in found["purpose"].unique()}
    with_phrase = lambda purpose, ids: np.array([i in has.get(purpose, set()) for i in ids], dtype=bool)  # noqa: E731

    group = agents.groupby("session_id", sort=False)
    out = pd.DataFrame({"platform": group["platform"].first(), "shop": group["shop"].first()})
    out["agent_id"] = session_owner(messages).reindex(out.index)
    turn = _agent_turns(messages, agents)
    by_session = turn.groupby(agents["session_id"].to_numpy(), sort=False)
    first_turn = agents[(turn == by_session.transform("min")).to_numpy()]
    last_turn = agents[(turn == by_session.transform("max")).to_numpy()]
    window = agents[(by_session.rank(method="dense", ascending=False) <= int(spec["closing_window"])).to_numpy()]
    any_in = lambda frame, hit: pd.Series(hit, index=frame.index).groupby(  # noqa: E731
        frame["session_id"].to_numpy(), sort=False).any().reindex(out.index).fillna(False).astype(bool)
    opening = _opens_with_greeting(found, first_turn, int(spec["greeting_within"]))
    offers = with_phrase("help_offer", first_turn["message_id"]) | with_phrase("anything_else", first_turn["message_id"])
    out["greeting"] = any_in(first_turn, opening.reindex(first_turn["message_id"]).fillna(False).to_numpy(dtype=bool) | offers)
    # a further-help offer closes a chat too (请问还有其他可以帮到您的吗), as the labelling convention says
    out["closing"] = any_in(last_turn, with_phrase("closing", last_turn["message_id"])
                            | with_phrase("anything_else", last_turn["message_id"]))
    out["anything_else"] = any_in(window, with_phrase("anything_else", window["message_id"]))

    # 您 rather than 你: messages that address the customer at all, and those with an informal hit
    informal = set(hits.loc[hits["category"].astype(str) == "informal_address", "message_id"])
    uses_nin = agents["text"].astype(str).str.contains("您", regex=False).to_numpy()
    is_informal = agents["message_id"].isin(informal).to_numpy()
    addressing = uses_nin | is_informal
    frame = pd.DataFrame({"session_id": agents["session_id"].to_numpy(), "addressing": addressing,
                          "polite": addressing & ~is_informal,
                          "please": with_phrase("please", agents["message_id"])})
    per = frame.groupby("session_id", sort=False)
    addressing_n = per["addressing"].sum().reindex(out.index)
    out["honorific"] = (per["polite"].sum().reindex(out.index) / addressing_n.where(addressing_n > 0)).astype(float)
    out["please"] = per["please"].mean().reindex(out.index).astype(float)

    # apology and empathy where a complaint is owed one
    is_complaint = complaints.set_index("session_id")["is_complaint"].reindex(out.index).fillna(False).astype(bool)
    apologised = agents.assign(hit=with_phrase("apology", agents["message_id"])).groupby("session_id")["hit"].any()
    empathised = agents.assign(hit=with_phrase("empathy", agents["message_id"])).groupby("session_id")["hit"].any()
    out["complaint_apology"] = apologised.reindex(out.index).where(is_complaint).astype("boolean")
    out["complaint_empathy"] = empathised.reindex(out.index).where(is_complaint).astype("boolean")

    if long_waits is not None and len(long_waits):
        waits = long_waits.groupby("session_id")["apologized"].agg(["size", "sum"])
        out["wait_apology"] = (waits["sum"] / waits["size"]).reindex(out.index).astype(float)
        out["long_waits"] = waits["size"].reindex(out.index).fillna(0).astype(int)
    else:
        out["wait_apology"] = np.nan
        out["long_waits"] = 0

    # weekend / holiday closings, by the local date of the last agent message
    if timed:
        last_ts = group["ts"].last()
        out["started"] = messages[messages["ts"].notna()].groupby("session_id")["ts"].min().reindex(out.index)
        out["day"] = last_ts.dt.date
        out["day_type"] = out["day"].map(lambda d: day_type(d) if pd.notna(d) else pd.NA)
    else:
        out["started"] = pd.NaT
        out["day"] = pd.NA
        out["day_type"] = pd.NA
    festive_ids = window.assign(weekend=with_phrase("weekend_closing", window["message_id"]),
                                holiday=with_phrase("holiday_closing", window["message_id"]))
    festive = festive_ids.groupby("session_id", sort=False)[["weekend", "holiday"]].any().reindex(out.index)
    expected = out["day_type"].where(out["day_type"].isin(["weekend", "holiday"]))
    out["festive_expected"] = expected
    out["festive_closing"] = pd.Series(
        np.where(expected == "weekend", festive["weekend"], np.where(expected == "holiday", festive["holiday"], False)),
        index=out.index).where(expected.notna()).astype("boolean")

    # 三不 and fatal items: reuse the forbidden-phrase hits
    in_sessions = hits[hits["session_id"].isin(out.index) & hits["message_id"].isin(set(agents["message_id"]))]
    taboo = in_sessions[in_sessions["category"].astype(str).isin(spec["taboo_categories"])]
    if spec.get("taboo_subcategories"):
        taboo = taboo[taboo["subcategory"].astype(str).isin(spec["taboo_subcategories"])]
    fatal = in_sessions[in_sessions["severity"].astype(str).isin(spec["fatal_severities"])]
    out["no_taboo"] = ~out.index.isin(set(taboo["session_id"]))
    rules: dict[str, list] = {}
    for sid, rule in zip(taboo["session_id"].astype(str), taboo["rule_id"].astype(str)):
        rules.setdefault(sid, []).append(rule)
    out["taboo_rules"] = [";".join(dict.fromkeys(rules.get(sid, []))) for sid in out.index]
    out["fatal"] = out.index.isin(set(fatal["session_id"]))
    out["score"] = session_scores(out, spec)
    for check in ("greeting", "closing", "anything_else", "no_taboo", "fatal"):
        out[check] = out[check].astype(bool)
    out.index.name = "session_id"
    return out.reset_index()[list(CHECK_COLUMNS)]


def _no_checks(ts_dtype) -> pd.DataFrame:
    """The checks of an export without a human agent reply: no rows, every column with its type."""
    kinds = {"started": ts_dtype, "long_waits": "int64", "score": "float64", "honorific": "float64", "please": "float64",
             "wait_apology": "float64", "complaint_apology": "boolean", "complaint_empathy": "boolean",
             "festive_closing": "boolean", **{c: "bool" for c in ("greeting", "closing", "anything_else", "no_taboo", "fatal")}}
    return pd.DataFrame({c: pd.Series(dtype=kinds.get(c, "object")) for c in CHECK_COLUMNS})


def _agent_turns(messages: pd.DataFrame, agents: pd.DataFrame) -> pd.Series:
    """For each of ``agents`` (human agent messages, in session order): its turn number, the number of
    customer messages before it in its session (so messages sent in a row share a turn)."""
    ordered = messages.sort_values(["session_id", "ts", "seq"], kind="stable", na_position="first") \
        if has_times(messages) else messages.sort_values(["session_id", "seq"], kind="stable")
    customers = ordered["role"].eq("customer").astype(int)
    before = customers.groupby(ordered["session_id"].to_numpy(), sort=False).cumsum()
    turn_of = pd.Series(before.to_numpy(), index=ordered["message_id"].to_numpy())
    return pd.Series(turn_of.reindex(agents["message_id"].to_numpy()).to_numpy(), index=agents.index, dtype="int64")


def _opens_with_greeting(found: pd.DataFrame, first_turn: pd.DataFrame, within: int) -> pd.Series:
    """Per message of the first turn: a salutation starts within ``within`` characters, counted after a
    leading wait apology (对不起，让您久等了。亲，您好 opens with a greeting; 这款有货的，你好 does not), or opens
    one of the templates the message is made of (after whitespace or a full stop: 正在查询~ 您好，…)."""
    message_ids = set(first_turn["message_id"])
    texts = dict(zip(first_turn["message_id"], first_turn["text"].astype(str)))
    breaks = set(politeness_spec().get("template_breaks", ""))
    mine = found[found["message_id"].isin(message_ids)]
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
    weights = spec["weights"]
    values = pd.DataFrame({c: checks[c].astype("Float64") for c in CHECKS})
    present = values.notna()
    weight = pd.DataFrame({c: present[c] * float(weights[c]) for c in CHECKS})
    score = (values.fillna(0).mul(weight)).sum(axis=1) / weight.sum(axis=1).where(weight.sum(axis=1) > 0)
    return (score * 100).where(~checks["fatal"].astype(bool), 0.0).astype(float)


# ------------------------------------------------------------------------------ summaries ---


