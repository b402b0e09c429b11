"""Complaint handling as a process: the steps the seeds prescribe, one check per step.

``process_checks(messages, hits=None, complaints=None)`` gives one row per session with a human agent
reply: each check's value (missing where it does not apply, never "passed"), its evidence
(``<check>_message_id``, ``<check>_matched``) and ``handling_score`` (0-100, the weighted mean of the
checks that apply). The checks, their weights and when they apply are data (resources/process.yaml,
each with its seed source); each is a small function below, registered with
``session_checks.session_check`` so a shop can switch one off or add one.

- ``first_reply_apology``: the first agent turn after the buyer's first complaint message (the
  complaint's evidence message) apologises or shows understanding (service_phrases apology/empathy);
  an apology in a message that warns an abusive buyer (civil_warning) is not one.
- ``solution_offered``: an agent message offers a concrete remedy (``solution``; 要退款吗 is a question).
- ``deadline_given``: every deferral (``deferral``) names a time (``deadline``) in the same or the next
  agent message (a deferral restated after a time was named counts as covered); missing when the agent
  never defers.
- ``promise_broken``: the buyer says an earlier promise was not kept (``broken_promise``).
- ``refusal_softened``: every refusal (``refusal``) has an apology and a reason or an alternative (the
  rulebook's phrase sets named in ``refusal_softeners``) in its turn or the agent's previous turn.
- ``customer_abuse`` / ``abuse_handled``: the buyer's messages hit a rule of ``customer_abuse_categories``
  (the rulebook's own rules, evasions included); handled when an agent then used the civil script
  (``civil_warning``) and no agent message after the abuse hit an abuse rule.
- ``transferred`` / ``handoff_announced``: the export's ``is_transfer`` flag, a change of human agent, or
  an agent's transfer line (``handoff``); announced when a handoff line stands at or before the transfer.
  The session's owner stays its first agent (``sessions.session_owner``, 首问负责).
- ``hold_thanked``: after every hold (``hold``: 稍等, 查一下) the next agent message thanks the buyer or
  apologises for the wait (``hold_thanks``).
- ``thanks_answered``: every thanks or suggestion of the buyer (``customer_thanks``) is followed by an
  agent reply (``thanks_reply``).
- ``repeated_soothing``: one soothing line (``soothing``) sent ``repeat_soothing_times`` times or more.
- ``restated``: the agent restates the problem to confirm it (``restate``).
- ``long_complaint`` (and ``resolution_s``): a complaint session longer than ``long_complaint_s``.
- ``rating_invited``: the agent's last ``rating_turns`` turns invite a rating (``rating``) with no
  review-inducement hit in them (a 好评 request stays a violation).
"""
from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..base import config
from ..base.arrays import arrow_strings, stripped
from ..base.schema import as_messages
from .complaints import classify_complaints
from .rulebook import Rulebook, load_rulebook
from .service_phrases import load_service_phrases, phrase_matches
from .session_checks import (SessionData, check_entries, cut_texts, first_evidence, labels_of, neighbours_differ,
                             run_checks, session_check, weighted_score, without_evidence)
from .violations import find_violations
from ..base.layering import load_yaml

PROCESS_FILE = config.RESOURCES_DIR / "process.yaml"
GROUP = "process"


@lru_cache(maxsize=1)
def process_spec() -> dict:
    """The process checks, thresholds and phrase lists (resources/process.yaml), checked."""
    spec = load_yaml(PROCESS_FILE.read_text(encoding="utf-8"))
    check_entries(spec)
    for name, entry in spec["phrases"].items():
        if not entry.get("source") or entry.get("side") not in ("agent", "customer"):
            raise ValueError(f"{PROCESS_FILE}: phrase list {name!r} needs a 'source' and side agent or customer")
    return spec


def check_labels(spec: dict | None = None) -> dict[str, str]:
    """Check id → its Chinese label."""
    return labels_of(spec or process_spec())


# ------------------------------------------------------------------------------- matching ---
# the service phrase lists (service_phrases.yaml) found with the agent side: the process checks read
# apology and empathy, the politeness checks every one of them (so one scan serves both)
SERVICE_LISTS = ("apology", "empathy", "greeting", "help_offer", "closing", "anything_else", "weekend_closing",
                 "holiday_closing", "please", "honorific", "apology_wait")


def side_lists(side: str, spec: dict) -> dict[str, dict]:
    """The phrase lists ``side_matches`` looks for on ``side``: name → {"phrases", "regex", "exceptions"}."""
    lists = {list_name: entry for list_name, entry in spec["phrases"].items() if entry["side"] == side}
    if side == "agent":
        service = load_service_phrases()
        lists.update({f"service:{n}": service[n] for n in SERVICE_LISTS})
    return lists


def side_matches(data: SessionData, side: str, spec: dict, rulebook: Rulebook) -> dict[str, pd.DataFrame]:
    """Every phrase list of ``side`` (agent or customer) found in one scan: list name → its matches
    (``purpose``, ``start``, ``end``, ``row``, with session ``code``, ``pos`` and ``turn``). The lists: the
    process lists of ``spec``; on the agent side also the ``SERVICE_LISTS`` (``service:<list>``). Found
    once per batch and shared by the process and politeness checks, so each side is normalised and
    scanned once. (The rulebook's refusal softeners are looked for only around refusals:
    ``_softener_rows``.)"""
    name = f"process.yaml v{spec['version']} {side} {rulebook.version}"
    key = ("side-matches", name)
    if key not in data.cache:
        lists = side_lists(side, spec)
        rows = data.agent_rows() if side == "agent" else data.customer_rows()
        if len(rows):
            _, msg, purpose, start, end, _ = phrase_matches(None, lists, tuple(lists), name,
                                                            block=data.normalized(rows))
        else:
            msg = purpose = start = end = np.zeros(0, dtype=np.int64)
        # grouped by list (each list's matches keep the scan's order), then each list is a slice of one frame
        order = np.argsort(purpose.astype(np.int16 if len(lists) < 2**15 else np.int64), kind="stable")  # radix sort
        purpose = purpose[order]
        bounds = np.searchsorted(purpose, np.arange(len(lists) + 1))
        by_list = data.located(pd.DataFrame({"purpose": pd.Categorical.from_codes(purpose, categories=list(lists)),
                                             "start": start[order], "end": end[order], "row": rows[msg[order]]}))
        data.cache[key] = {list_name: by_list.iloc[bounds[i]:bounds[i + 1]] for i, list_name in enumerate(lists)}
    return data.cache[key]


def _found(data: SessionData, name: str) -> pd.DataFrame:
    """The matches of one phrase list (process.yaml ``phrases`` or ``service:<list>``)."""
    spec = data.extra["spec"]
    side = "agent" if ":" in name else spec["phrases"][name]["side"]
    return side_matches(data, side, spec, data.extra["rulebook"])[name]


def _next_agent_row(data: SessionData) -> np.ndarray:
    """Per row of ``ordered``: the row of the next human agent message of its session (-1 if none)."""
    if "next_agent" not in data.cache:
        rows = data.agent_rows()
        following = np.full(len(data.ordered), -1, dtype=np.int64)
        if len(rows) > 1:
            same = data.code[rows[1:]] == data.code[rows[:-1]]
            following[rows[:-1][same]] = rows[1:][same]
        data.cache["next_agent"] = following
    return data.cache["next_agent"]


def _all_satisfied(events: pd.DataFrame, satisfied: np.ndarray, data: SessionData) -> pd.DataFrame:
    """A check over events (rows with code, pos, row): True when every event of a session is satisfied,
    missing without events; evidence: the first unsatisfied event, else the first event."""
    n = len(data.session_ids)
    codes = events["code"].to_numpy()
    count = np.bincount(codes, minlength=n)
    value = data.flags(np.bincount(codes[~satisfied], minlength=n) == 0, applies=count > 0)
    bad = events[~satisfied]
    evidence = pd.concat([bad, events[~np.isin(codes, bad["code"].to_numpy())]])
    return first_evidence(evidence, value, data)


def _flag(data: SessionData, found: pd.DataFrame) -> pd.DataFrame:
    """True for the sessions with a row of ``found``, False for the other judged sessions."""
    value = data.by_code(data.any_rows(found["row"].to_numpy()))
    return first_evidence(found, value.fillna(False).astype(bool), data)


# --------------------------------------------------------------------------------- checks ---
@session_check(GROUP, "first_reply_apology")
def first_reply_apology(data: SessionData) -> pd.DataFrame:
    """The first agent turn after the buyer's first complaint message apologises or empathises."""
    complaints = data.complaints if data.complaints is not None else pd.DataFrame(columns=["session_id"])
    if complaints.empty or not complaints["is_complaint"].any():
        return without_evidence(pd.Series(pd.NA, index=data.sessions))
    # the judged complaint sessions (the others have no agent turn to judge) and their rows in complaints
    at = data.complaint_rows()
    flagged = complaints["is_complaint"].to_numpy(dtype=bool, na_value=False)
    judged = np.flatnonzero(at >= 0)
    judged = judged[flagged[at[judged]]]
    codes = data.judged_codes[judged]
    # the complaint's first evidence: the message raising its type, else the threat, else the buyer's first message
    named = pc.coalesce(*(arrow_strings(complaints[column]).take(pa.array(at[judged]))
                          for column in ("primary_message_id", "escalation_message_id")))
    has_named = named.is_valid().to_numpy(zero_copy_only=False)
    start_rows = data.first_rows(data.customer_rows())[codes]
    start_rows[has_named] = data.rows_of(named.filter(named.is_valid()))
    start_rows = start_rows[start_rows >= 0]
    start_pos = np.full(len(data.session_ids), np.iinfo(np.int64).max, dtype=np.int64)
    start_pos[data.code[start_rows]] = data.column("pos")[start_rows]
    rows = data.agent_rows()
    pos, turn, code = data.column("pos")[rows], data.column("turn")[rows], data.code[rows]
    after = pos > start_pos[code]
    first_turn = np.full(len(data.session_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_turn, code[after], turn[after])
    in_turn = after & (turn == first_turn[code])
    turn_rows = rows[in_turn]
    warned = data.mask(_found(data, "civil_warning")["row"].to_numpy())
    kind = pd.concat([_found(data, "service:apology"), _found(data, "service:empathy")])
    sorry = kind[data.mask(turn_rows)[kind["row"].to_numpy(dtype=np.int64)] & ~warned[kind["row"].to_numpy(dtype=np.int64)]]
    value = data.flags(data.any_rows(sorry["row"].to_numpy()), applies=data.any_rows(turn_rows))
    plain = pd.DataFrame({"pos": data.column("pos")[turn_rows], "row": turn_rows, "code": data.code[turn_rows], "matched": ""})
    evidence = pd.concat([sorry, plain[~np.isin(plain["code"], sorry["code"].to_numpy())]])
    return first_evidence(evidence, value, data)


@session_check(GROUP, "solution_offered")
def solution_offered(data: SessionData) -> pd.DataFrame:
    """An agent message offers a concrete remedy."""
    return _flag(data, _found(data, "solution"))


@session_check(GROUP, "deadline_given")
def deadline_given(data: SessionData) -> pd.DataFrame:
    """Every deferral names a time in the same or the next agent message (missing without deferrals)."""
    deferrals = _found(data, "deferral").drop_duplicates("row")
    deadlines = _found(data, "deadline")
    timed = data.mask(deadlines["row"].to_numpy())
    rows = deferrals["row"].to_numpy(dtype=np.int64)
    following = _next_agent_row(data)[rows]
    ok = timed[rows] | ((following >= 0) & timed[np.maximum(following, 0)])
    # a deferral restated after a time was named is the same promise (tests/cases/real/README.md D)
    first_time = np.full(len(data.session_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_time, deadlines["code"].to_numpy(), deadlines["pos"].to_numpy())
    ok |= deferrals["pos"].to_numpy() > first_time[deferrals["code"].to_numpy()]
    return _all_satisfied(deferrals, ok, data)


@session_check(GROUP, "promise_broken")
def promise_broken(data: SessionData) -> pd.DataFrame:
    """The buyer says an earlier promise was not kept (a flag: True is a problem)."""
    return _flag(data, _found(data, "broken_promise"))


@session_check(GROUP, "refusal_softened")
def refusal_softened(data: SessionData) -> pd.DataFrame:
    """Every refusal has an apology and a reason or an alternative, in its turn or the agent's previous turn."""
    softeners = data.extra["spec"]["refusal_softeners"]
    refusals = _found(data, "refusal").drop_duplicates("row")
    rows = refusals["row"].to_numpy(dtype=np.int64)
    turn_id = data.agent_turn_ids()
    this = turn_id[rows]
    has_previous = this > turn_id[data.first_rows(data.agent_rows())][data.code[rows]]   # not the session's first turn

    if not len(refusals):
        return _all_satisfied(refusals, np.zeros(0, dtype=bool), data)
    found = _softener_rows(data, np.union1d(this, this[has_previous] - 1))

    def covered(sets: list[str]) -> np.ndarray:
        marked = np.zeros(int(turn_id.max()) + 2, dtype=bool)          # per agent turn: a phrase of ``sets`` in it
        for name in sets:
            marked[turn_id[found[name]]] = True
        return marked[this] | (has_previous & marked[np.maximum(this - 1, 0)])

    return _all_satisfied(refusals, covered(softeners["apology"]) & covered(softeners["reason"]), data)


def _softener_rows(data: SessionData, turns: np.ndarray) -> dict[str, np.ndarray]:
    """Rulebook phrase set named in ``refusal_softeners`` → the rows (of ``data.ordered``) of the human agent
    messages in agent turns ``turns`` (``agent_turn_ids``) holding one of its phrases. Looked for in those
    messages only: the sets are common words (可以, 为您, 订单) that only count next to a refusal."""
    spec, rulebook = data.extra["spec"], data.extra["rulebook"]
    wanted = sorted({n for names in spec["refusal_softeners"].values() for n in names} & set(rulebook.phrase_sets))
    rows = data.agent_rows()
    rows = rows[np.isin(data.agent_turn_ids()[rows], turns)]
    if not wanted or not len(rows):
        return {name: np.zeros(0, dtype=np.int64) for name in wanted}
    lists = {name: {"phrases": list(rulebook.phrase_sets[name].phrases)} for name in wanted}
    # the texts by row, not a copy of the messages: what find_phrases(lean=True) would scan of them
    _, msg, codes, _, _, _ = phrase_matches(data.arrow("text").take(pa.array(rows)), lists, tuple(wanted),
                                            f"process.yaml v{spec['version']} softeners {rulebook.version}")
    found_rows = rows[msg]
    return {name: found_rows[codes == i] for i, name in enumerate(wanted)}


def _customer_abuse(data: SessionData) -> pd.DataFrame:
    """The buyer's messages hitting a rule of ``customer_abuse_categories`` (one row per message, with
    the first hit's matched text), found once per batch."""
    rulebook: Rulebook = data.extra["rulebook"]
    categories = data.extra["spec"]["customer_abuse_categories"]
    key = ("customer_abuse", rulebook.version, tuple(categories))
    if key not in data.cache:
        rules = [dataclasses.replace(r, roles=frozenset({"customer"})) for r in rulebook.rules if r.category in set(categories)]
        buyers = Rulebook(rules=rules, categories=rulebook.categories, phrase_sets=rulebook.phrase_sets)
        # the rules judge customer messages only: the whole batch is given, not a copy of its customers'
        hits = find_violations(data.ordered, buyers, blocks=data.shared_blocks()) if rules and len(data.customer_rows()) else \
            pd.DataFrame(columns=["message_id", "matched"])
        hits = hits.drop_duplicates("message_id")
        found = pd.DataFrame({"message_id": hits["message_id"].to_numpy(), "matched": hits["matched"].to_numpy(),
                              "row": data.rows_of(hits["message_id"].to_numpy())})
        data.cache[key] = data.located(found)
    return data.cache[key]


@session_check(GROUP, "customer_abuse")
def customer_abuse(data: SessionData) -> pd.DataFrame:
    """The buyer abused the agent (the rulebook's abuse rules on the buyer's messages, evasions included)."""
    return _flag(data, _customer_abuse(data))


@session_check(GROUP, "abuse_handled")
def abuse_handled(data: SessionData) -> pd.DataFrame:
    """After the buyer's first abuse the agent used the civil script and never hit back (missing without abuse)."""
    abuse = _customer_abuse(data)
    if abuse.empty:
        return without_evidence(pd.Series(pd.NA, index=data.sessions))
    n = len(data.session_ids)
    start = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(start, abuse["code"].to_numpy(), abuse["pos"].to_numpy())
    warnings_ = _found(data, "civil_warning")
    warned = warnings_[warnings_["pos"].to_numpy() > start[warnings_["code"].to_numpy()]]
    abusive = data.hits["category"].astype(str).isin(set(data.extra["spec"]["customer_abuse_categories"])).to_numpy()
    back_rows = data.hit_rows()[abusive] if len(data.hits) else np.zeros(0, dtype=np.int64)
    back_rows = back_rows[(back_rows >= 0) & data.column("human")[np.maximum(back_rows, 0)]]
    back = data.located(pd.DataFrame({"row": back_rows, "matched": "hit back"}))
    back = back[back["pos"].to_numpy() > start[back["code"].to_numpy()]]
    value = data.flags(data.any_rows(warned["row"].to_numpy()) & ~data.any_rows(back["row"].to_numpy()),
                       applies=start < np.iinfo(np.int64).max)
    return first_evidence(pd.concat([back, warned]), value, data)


def _transfer_pos(data: SessionData) -> np.ndarray:
    """Per session code: the pos where the chat is transferred (the export's flag, a change of human
    agent, or an agent's handoff line); the largest integer when it is not."""
    if "transfer_pos" in data.cache:
        return data.cache["transfer_pos"]
    ordered, n = data.ordered, len(data.session_ids)
    at = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    pos = data.column("pos")
    if "is_transfer" in ordered.columns:
        flagged = ordered["is_transfer"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        np.minimum.at(at, data.code[flagged], pos[flagged])
    agent_id = ordered["agent_id"]
    rows = data.agent_rows()
    rows = rows[agent_id.notna().to_numpy()[rows]]
    if len(rows) > 1:
        changed = (data.code[rows[1:]] == data.code[rows[:-1]]) & neighbours_differ(agent_id.take(rows))
        np.minimum.at(at, data.code[rows[1:][changed]], pos[rows[1:][changed]])
    lines = _found(data, "handoff")
    np.minimum.at(at, lines["code"].to_numpy(dtype=np.int64), lines["pos"].to_numpy(dtype=np.int64))
    data.cache["transfer_pos"] = at
    return at


@session_check(GROUP, "transferred")
def transferred(data: SessionData) -> pd.DataFrame:
    """The session was transferred: the export's flag, a change of human agent, or a transfer line."""
    at = _transfer_pos(data)
    moved = at < np.iinfo(np.int64).max
    value = data.by_code(moved).fillna(False).astype(bool)
    rows = np.flatnonzero(moved[data.code] & (data.column("pos") == np.where(moved, at, -1)[data.code]))
    return first_evidence(data.located(pd.DataFrame({"row": rows, "matched": "transfer"})), value, data)


@session_check(GROUP, "handoff_announced")
def handoff_announced(data: SessionData) -> pd.DataFrame:
    """A transfer is announced to the buyer at or before it happens (missing without a transfer)."""
    at = _transfer_pos(data)
    lines = _found(data, "handoff")
    lines = lines[lines["pos"].to_numpy() <= at[lines["code"].to_numpy()]]
    value = data.flags(data.any_rows(lines["row"].to_numpy()), applies=at < np.iinfo(np.int64).max)
    return first_evidence(lines, value, data)


@session_check(GROUP, "hold_thanked")
def hold_thanked(data: SessionData) -> pd.DataFrame:
    """After every hold the next agent message thanks the buyer or apologises for the wait."""
    holds = _found(data, "hold").drop_duplicates("row")
    thanked = data.mask(_found(data, "hold_thanks")["row"].to_numpy())
    following = _next_agent_row(data)[holds["row"].to_numpy(dtype=np.int64)]
    ok = (following >= 0) & thanked[np.maximum(following, 0)]
    return _all_satisfied(holds, ok, data)


@session_check(GROUP, "thanks_answered")
def thanks_answered(data: SessionData) -> pd.DataFrame:
    """Every thanks or suggestion of the buyer is followed by an agent reply to it."""
    thanks = _found(data, "customer_thanks").drop_duplicates("row")
    replies = _found(data, "thanks_reply")
    last_reply = np.full(len(data.session_ids), -1, dtype=np.int64)
    np.maximum.at(last_reply, replies["code"].to_numpy(dtype=np.int64), replies["pos"].to_numpy(dtype=np.int64))
    ok = thanks["pos"].to_numpy() < last_reply[thanks["code"].to_numpy()]
    return _all_satisfied(thanks, ok, data)


@session_check(GROUP, "repeated_soothing")
def repeated_soothing(data: SessionData) -> pd.DataFrame:
    """One soothing line sent ``repeat_soothing_times`` times or more in the session (True is a problem)."""
    times = int(data.extra["spec"]["repeat_soothing_times"])
    soothing = _found(data, "soothing").drop_duplicates("row")
    rows = soothing["row"].to_numpy(dtype=np.int64)
    taken = data.arrow("text").take(pa.array(rows, type=pa.int64()))
    lines = stripped(taken.combine_chunks() if isinstance(taken, pa.ChunkedArray) else taken)   # without surrounding blanks
    line_codes = pc.dictionary_encode(lines).indices.to_numpy(zero_copy_only=False).astype(np.int64)
    code = soothing["code"].to_numpy(dtype=np.int64)
    _, pair, count = np.unique(code * (int(line_codes.max(initial=0)) + 1) + line_codes, return_inverse=True,
                               return_counts=True)
    repeated = np.flatnonzero(count[pair] >= times)                  # rows whose (session, line) repeats
    evidence = soothing.iloc[repeated]
    value = data.by_code(data.any_rows(rows[repeated]))
    return first_evidence(evidence.assign(matched=cut_texts(lines.take(pa.array(repeated)), 0, 40)), value, data)


@session_check(GROUP, "restated")
def restated(data: SessionData) -> pd.DataFrame:
    """The agent restates the problem to confirm it."""
    return _flag(data, _found(data, "restate"))


@session_check(GROUP, "long_complaint")
def long_complaint(data: SessionData) -> pd.DataFrame:
    """The session lasted longer than ``long_complaint_s`` (``resolution_s`` is kept in data.extra)."""
    timed = np.flatnonzero(data.ordered["ts"].notna().to_numpy())
    ns = data.ordered["ts"].array.asi8[timed]
    earliest = np.full(len(data.session_ids), np.iinfo(np.int64).max, dtype=np.int64)
    latest = np.full(len(data.session_ids), np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(earliest, data.code[timed], ns)
    np.maximum.at(latest, data.code[timed], ns)
    spanned = (latest >= earliest)[data.judged_codes]
    span = np.where(spanned, latest[data.judged_codes] - earliest[data.judged_codes], np.iinfo(np.int64).min)
    seconds = pd.Series(pd.to_timedelta(span, unit="ns"), index=data.sessions).dt.total_seconds()
    data.extra["resolution_s"] = seconds
    value = (seconds > float(data.extra["spec"]["long_complaint_s"])).where(seconds.notna())
    return pd.DataFrame({"value": value})


@session_check(GROUP, "rating_invited")
def rating_invited(data: SessionData) -> pd.DataFrame:
    """The agent's last turns invite a rating, without a review-inducement hit in them."""
    turns = int(data.extra["spec"]["rating_turns"])
    last = data.mask(data.agent_rows()[data.agent_turn_rank() <= turns])
    found = _found(data, "rating")
    found = found[last[found["row"].to_numpy(dtype=np.int64)]]
    induced = (data.hits["category"].astype(str) == "review_inducement").to_numpy()
    induced_rows = data.hit_rows()[induced] if len(data.hits) else np.zeros(0, dtype=np.int64)
    induced_rows = induced_rows[(induced_rows >= 0) & last[np.maximum(induced_rows, 0)]]
    value = data.any_rows(found["row"].to_numpy()) & ~data.any_rows(induced_rows)
    return first_evidence(found, data.by_code(value).fillna(False).astype(bool), data)


# ------------------------------------------------------------------------------ the table ---
def process_checks(messages: pd.DataFrame, hits: pd.DataFrame | None = None, complaints: pd.DataFrame | None = None,
                   *, rulebook: Rulebook | None = None, taxonomy=None, spec: dict | None = None,
                   sessions: SessionData | None = None) -> pd.DataFrame:
    """One row per session with a human agent reply: platform, shop, agent_id (the owner), is_complaint,
    primary, each process check (missing where it does not apply) with ``<check>_message_id`` and
    ``<check>_matched``, ``resolution_s`` (with times) and ``handling_score`` (0-100).

    ``hits`` (``find_violations``) and ``complaints`` (``classify_complaints``) are computed when not
    given, with ``rulebook`` and ``taxonomy``; ``spec`` replaces resources/process.yaml (switch checks off,
    change weights and thresholds). ``sessions``: the ``SessionData`` of these messages with their hits
    and complaints (``analyze`` passes the one it shares with the politeness checks)."""
    messages = as_messages(messages)
    spec = spec or process_spec()
    rulebook = rulebook or load_rulebook()
    if sessions is None:
        hits = find_violations(messages, rulebook) if hits is None else hits
        complaints = classify_complaints(messages, taxonomy) if complaints is None else complaints
        sessions = SessionData(messages, hits, complaints)
    data = sessions.with_extra({**sessions.extra, "spec": spec, "rulebook": rulebook})
    complaints = data.complaints
    checks = run_checks(GROUP, data, spec)
    context = pd.DataFrame({"platform": data.first_values("platform"), "shop": data.first_values("shop")})
    context["agent_id"] = data.owners()
    no_primary = pd.Series(pd.NA, index=data.sessions, dtype=pd.StringDtype("pyarrow"))   # typed as complaint sessions' primary
    if len(complaints):
        context["is_complaint"] = data.is_complaint()
        context["primary"] = data.complaint_values("primary") if "primary" in complaints else no_primary
    else:
        context["is_complaint"] = False
        context["primary"] = no_primary
    # context and checks share the sessions' index: put side by side without aligning them again
    out = pd.DataFrame({**{c: context[c].array for c in context}, **{c: checks[c].array for c in checks}},
                       index=data.sessions)
    resolution = data.extra.get("resolution_s", pd.Series(np.nan, index=data.sessions))
    out["resolution_s"] = resolution.where(out["is_complaint"].to_numpy(dtype=bool)).to_numpy()
    out["handling_score"] = weighted_score(checks, spec).to_numpy()
    out.index.name = "session_id"
    return out.reset_index()
