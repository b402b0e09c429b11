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
import yaml

from ..base import config
from ..base.schema import as_messages
from .complaints import classify_complaints
from .rulebook import Rulebook, load_rulebook
from .service_phrases import find_phrases, find_service_phrases
from .session_checks import SessionData, check_entries, first_evidence, run_checks, session_check, weighted_score
from .sessions import session_owner
from .violations import find_violations

PROCESS_FILE = config.RESOURCES_DIR / "process.yaml"
GROUP = "process"


@lru_cache(maxsize=1)
def process_spec() -> dict:
    """The process checks, thresholds and phrase lists (resources/process.yaml), checked."""
    spec = yaml.safe_load(PROCESS_FILE.read_text(encoding="utf-8"))
    check_entries(spec)
    for name, entry in spec["phrases"].items():
        if not entry.get("source") or entry.get("side") not in ("agent", "customer"):
            raise ValueError(f"{PROCESS_FILE}: phrase list {name!r} needs a 'source' and side agent or customer")
    return spec


def check_labels(spec: dict | None = None) -> dict[str, str]:
    """Check id → its Chinese label."""
    return {k: v["label"] for k, v in (spec or process_spec())["checks"].items()}


# ------------------------------------------------------------------------------- matching ---
def _found(data: SessionData, name: str) -> pd.DataFrame:
    """Matches of the phrase list ``name`` on its side, with pos and turn (cached per batch)."""
    key = ("process", name)
    if key not in data.cache:
        spec = data.extra["spec"]
        entry = spec["phrases"][name]
        side = data.agents if entry["side"] == "agent" else data.customers
        data.cache[key] = data.located(find_phrases(side, spec["phrases"], (name,), roles=(entry["side"],),
                                                    name=f"process.yaml v{spec['version']}"))
    return data.cache[key]


def _service(data: SessionData, purposes: tuple[str, ...]) -> pd.DataFrame:
    key = ("service", purposes)
    if key not in data.cache:
        data.cache[key] = data.located(find_service_phrases(data.agents, purposes))
    return data.cache[key]


def _context(data: SessionData, sets: list[str]) -> pd.DataFrame:
    """Agent messages holding a phrase of the rulebook's phrase sets ``sets`` (message_id, pos, turn)."""
    key = ("context", tuple(sets))
    if key not in data.cache:
        rulebook: Rulebook = data.extra["rulebook"]
        lists = {name: {"phrases": list(rulebook.phrase_sets[name].phrases)} for name in sets if name in rulebook.phrase_sets}
        found = find_phrases(data.agents, lists, tuple(lists), name=f"rulebook {rulebook.version}") if lists else \
            pd.DataFrame(columns=["message_id", "session_id"])
        data.cache[key] = data.located(found)
    return data.cache[key]


def _next_agent_message(data: SessionData) -> pd.Series:
    """Per agent message id: the id of the next human agent message in its session (missing for the last)."""
    agents = data.agents
    following = agents.groupby("session_id", sort=False)["message_id"].shift(-1)
    return pd.Series(following.to_numpy(), index=agents["message_id"].to_numpy())


def _previous_agent_turn(data: SessionData) -> pd.DataFrame:
    """Per agent message id: its session and turn, and the agent's previous turn in the session."""
    agents = data.agents[["message_id", "session_id", "turn"]]
    turns = agents.drop_duplicates(["session_id", "turn"])
    previous = turns.groupby("session_id", sort=False)["turn"].shift(1)
    lookup = pd.Series(previous.to_numpy(), index=pd.MultiIndex.from_frame(turns[["session_id", "turn"]]))
    prev = lookup.reindex(pd.MultiIndex.from_frame(agents[["session_id", "turn"]])).to_numpy()
    return agents.assign(previous_turn=prev)


def _all_satisfied(events: pd.DataFrame, satisfied: np.ndarray, data: SessionData) -> pd.DataFrame:
    """A check over events (one row per event, with session_id, message_id, pos): True when every event
    of a session is satisfied, missing without events; evidence: the first unsatisfied event, else the
    first event."""
    events = events.assign(ok=satisfied)
    value = events.groupby("session_id", sort=False)["ok"].all()
    bad = events[~events["ok"]]
    evidence = pd.concat([bad, events[~events["session_id"].isin(bad["session_id"])]])
    return first_evidence(evidence, value).reindex(data.sessions)


# --------------------------------------------------------------------------------- checks ---
@session_check(GROUP, "first_reply_apology")
def first_reply_apology(data: SessionData) -> pd.DataFrame:
    """The first agent turn after the buyer's first complaint message apologises or empathises."""
    complaints = data.complaints if data.complaints is not None else pd.DataFrame(columns=["session_id"])
    if complaints.empty:
        return pd.DataFrame({"value": pd.Series(pd.NA, index=data.sessions)})
    sessions = complaints[complaints["is_complaint"]].set_index("session_id")
    # the complaint's first evidence: the message raising its type, else the threat, else the buyer's first message
    first_customer = data.customers.drop_duplicates("session_id").set_index("session_id")["message_id"]
    start_id = sessions["primary_message_id"].fillna(sessions["escalation_message_id"]) \
        .fillna(first_customer.reindex(sessions.index))
    pos = data.ordered.set_index("message_id")["pos"]
    start = pd.Series(pos.reindex(start_id.dropna().to_numpy()).to_numpy(), index=start_id.dropna().index)
    agents = data.agents.assign(start=data.agents["session_id"].map(start))
    after = agents[agents["start"].notna() & (agents["pos"] > agents["start"])]
    first_turn = after[after["turn"] == after.groupby("session_id")["turn"].transform("min")]
    warned = set(_found(data, "civil_warning")["message_id"])
    kind = _service(data, ("apology", "empathy"))
    sorry = kind[kind["message_id"].isin(set(first_turn["message_id"])) & ~kind["message_id"].isin(warned)]
    value = pd.Series(first_turn["session_id"].unique(), dtype=object)
    value = pd.Series(value.isin(set(sorry["session_id"])).to_numpy(), index=value.to_numpy())
    evidence = pd.concat([sorry, first_turn[~first_turn["session_id"].isin(set(sorry["session_id"]))]
                          .drop_duplicates("session_id").assign(matched="")])
    return first_evidence(evidence, value)


@session_check(GROUP, "solution_offered")
def solution_offered(data: SessionData) -> pd.DataFrame:
    """An agent message offers a concrete remedy."""
    found = _found(data, "solution")
    value = pd.Series(data.sessions.isin(set(found["session_id"])), index=data.sessions)
    return first_evidence(found, value)


@session_check(GROUP, "deadline_given")
def deadline_given(data: SessionData) -> pd.DataFrame:
    """Every deferral names a time in the same or the next agent message (missing without deferrals)."""
    deferrals = _found(data, "deferral").drop_duplicates("message_id")
    deadlines = _found(data, "deadline")
    timed = set(deadlines["message_id"])
    following = _next_agent_message(data).reindex(deferrals["message_id"]).to_numpy()
    ok = deferrals["message_id"].isin(timed).to_numpy() | pd.Series(following).isin(timed).to_numpy()
    # a deferral restated after a time was named is the same promise (tests/cases/real/README.md D)
    first_time = deadlines.groupby("session_id")["pos"].min()
    ok |= (deferrals["pos"] > deferrals["session_id"].map(first_time)).fillna(False).to_numpy(dtype=bool)
    return _all_satisfied(deferrals, ok, data)


@session_check(GROUP, "promise_broken")
def promise_broken(data: SessionData) -> pd.DataFrame:
    """The buyer says an earlier promise was not kept (a flag: True is a problem)."""
    found = _found(data, "broken_promise")
    return first_evidence(found, pd.Series(data.sessions.isin(set(found["session_id"])), index=data.sessions))


@session_check(GROUP, "refusal_softened")
def refusal_softened(data: SessionData) -> pd.DataFrame:
    """Every refusal has an apology and a reason or an alternative, in its turn or the agent's previous turn."""
    softeners = data.extra["spec"]["refusal_softeners"]
    refusals = _found(data, "refusal").drop_duplicates("message_id")
    turns = _previous_agent_turn(data).set_index("message_id")
    refusals = refusals.assign(previous_turn=turns["previous_turn"].reindex(refusals["message_id"]).to_numpy())

    def covered(sets: list[str]) -> np.ndarray:
        found = _context(data, sets)
        keys = set(zip(found["session_id"], found["turn"]))
        same = [(s, t) in keys for s, t in zip(refusals["session_id"], refusals["turn"])]
        before = [(s, t) in keys for s, t in zip(refusals["session_id"], refusals["previous_turn"])]
        return np.array(same, dtype=bool) | np.array(before, dtype=bool)

    ok = covered(softeners["apology"]) & covered(softeners["reason"]) if len(refusals) else np.zeros(0, dtype=bool)
    return _all_satisfied(refusals, ok, data)


def _customer_abuse(data: SessionData) -> pd.DataFrame:
    key = ("customer_abuse",)
    if key not in data.cache:
        rulebook: Rulebook = data.extra["rulebook"]
        categories = set(data.extra["spec"]["customer_abuse_categories"])
        rules = [dataclasses.replace(r, roles=frozenset({"customer"})) for r in rulebook.rules if r.category in categories]
        buyers = Rulebook(rules=rules, categories=rulebook.categories, phrase_sets=rulebook.phrase_sets)
        hits = find_violations(data.customers, buyers) if rules and len(data.customers) else \
            pd.DataFrame(columns=["message_id", "session_id", "matched"])
        data.cache[key] = data.located(hits[["message_id", "session_id", "matched"]].drop_duplicates("message_id"))
    return data.cache[key]


@session_check(GROUP, "customer_abuse")
def customer_abuse(data: SessionData) -> pd.DataFrame:
    """The buyer abused the agent (the rulebook's abuse rules on the buyer's messages, evasions included)."""
    found = _customer_abuse(data)
    return first_evidence(found, pd.Series(data.sessions.isin(set(found["session_id"])), index=data.sessions))


@session_check(GROUP, "abuse_handled")
def abuse_handled(data: SessionData) -> pd.DataFrame:
    """After the buyer's first abuse the agent used the civil script and never hit back (missing without abuse)."""
    abuse = _customer_abuse(data)
    if abuse.empty:
        return pd.DataFrame({"value": pd.Series(pd.NA, index=data.sessions)})
    start = abuse.groupby("session_id")["pos"].min()
    warnings_ = _found(data, "civil_warning")
    warned = warnings_[warnings_["pos"] > warnings_["session_id"].map(start)]
    abusive = set(data.extra["categories_abuse"])
    back = data.hits[data.hits["category"].astype(str).isin(abusive)][["message_id", "session_id"]]
    back = data.located(back)
    back = back[back["pos"] > back["session_id"].map(start)]
    value = pd.Series(start.index.isin(set(warned["session_id"])) & ~start.index.isin(set(back["session_id"])),
                      index=start.index)
    return first_evidence(pd.concat([back.assign(matched="hit back"), warned]), value)


def _transfers(data: SessionData) -> pd.DataFrame:
    """Per transferred session: the pos where the transfer happens (flag, change of agent, or handoff line)."""
    key = ("transfers",)
    if key in data.cache:
        return data.cache[key]
    ordered = data.ordered
    points = []
    if "is_transfer" in ordered.columns:
        flagged = ordered[ordered["is_transfer"].astype("boolean").fillna(False).astype(bool)]
        points.append(flagged[["session_id", "pos"]])
    agents = data.agents[data.agents["agent_id"].notna()]
    changed = agents["agent_id"] != agents.groupby("session_id", sort=False)["agent_id"].shift(1)
    changed &= agents.groupby("session_id", sort=False).cumcount() > 0
    points.append(agents.loc[changed, ["session_id", "pos"]])
    points.append(_found(data, "handoff")[["session_id", "pos"]])
    frame = pd.concat(points).groupby("session_id")["pos"].min().rename("at").reset_index()
    data.cache[key] = frame
    return frame


@session_check(GROUP, "transferred")
def transferred(data: SessionData) -> pd.DataFrame:
    """The session was transferred: the export's flag, a change of human agent, or a transfer line."""
    at = _transfers(data).set_index("session_id")["at"]
    value = pd.Series(data.sessions.isin(at.index), index=data.sessions)
    rows = data.ordered[["session_id", "pos", "message_id"]].merge(at.rename("pos").reset_index(), on=["session_id", "pos"])
    return first_evidence(rows.assign(matched="transfer"), value)


@session_check(GROUP, "handoff_announced")
def handoff_announced(data: SessionData) -> pd.DataFrame:
    """A transfer is announced to the buyer at or before it happens (missing without a transfer)."""
    at = _transfers(data).set_index("session_id")["at"]
    lines = _found(data, "handoff")
    lines = lines[lines["pos"] <= lines["session_id"].map(at)]
    value = pd.Series(at.index.isin(set(lines["session_id"])), index=at.index)
    return first_evidence(lines, value)


@session_check(GROUP, "hold_thanked")
def hold_thanked(data: SessionData) -> pd.DataFrame:
    """After every hold the next agent message thanks the buyer or apologises for the wait."""
    holds = _found(data, "hold").drop_duplicates("message_id")
    thanked = set(_found(data, "hold_thanks")["message_id"])
    following = _next_agent_message(data).reindex(holds["message_id"]).to_numpy()
    ok = pd.Series(following).isin(thanked).to_numpy()
    return _all_satisfied(holds, ok, data)


@session_check(GROUP, "thanks_answered")
def thanks_answered(data: SessionData) -> pd.DataFrame:
    """Every thanks or suggestion of the buyer is followed by an agent reply to it."""
    thanks = _found(data, "customer_thanks").drop_duplicates("message_id")
    replies = _found(data, "thanks_reply")
    last_reply = replies.groupby("session_id")["pos"].max()
    ok = (thanks["pos"] < thanks["session_id"].map(last_reply)).fillna(False).to_numpy(dtype=bool)
    return _all_satisfied(thanks, ok, data)


@session_check(GROUP, "repeated_soothing")
def repeated_soothing(data: SessionData) -> pd.DataFrame:
    """One soothing line sent ``repeat_soothing_times`` times or more in the session (True is a problem)."""
    times = int(data.extra["spec"]["repeat_soothing_times"])
    soothing = _found(data, "soothing").drop_duplicates("message_id")
    texts = data.agents.set_index("message_id")["text"].astype(str).str.strip()
    lines = soothing.assign(line=texts.reindex(soothing["message_id"]).to_numpy())
    counts = lines.groupby(["session_id", "line"]).size()
    repeated = counts[counts >= times].reset_index()
    evidence = lines.merge(repeated[["session_id", "line"]], on=["session_id", "line"])
    value = pd.Series(data.sessions.isin(set(repeated["session_id"])), index=data.sessions)
    return first_evidence(evidence.assign(matched=evidence["line"].str.slice(0, 40)), value)


@session_check(GROUP, "restated")
def restated(data: SessionData) -> pd.DataFrame:
    """The agent restates the problem to confirm it."""
    found = _found(data, "restate")
    return first_evidence(found, pd.Series(data.sessions.isin(set(found["session_id"])), index=data.sessions))


@session_check(GROUP, "long_complaint")
def long_complaint(data: SessionData) -> pd.DataFrame:
    """The session lasted longer than ``long_complaint_s`` (``resolution_s`` is kept in data.extra)."""
    timed = data.ordered[data.ordered["ts"].notna()]
    span = timed.groupby("session_id")["ts"].agg(["min", "max"])
    seconds = (span["max"] - span["min"]).dt.total_seconds().reindex(data.sessions)
    data.extra["resolution_s"] = seconds
    value = (seconds > float(data.extra["spec"]["long_complaint_s"])).where(seconds.notna())
    return pd.DataFrame({"value": value})


@session_check(GROUP, "rating_invited")
def rating_invited(data: SessionData) -> pd.DataFrame:
    """The agent's last turns invite a rating, without a review-inducement hit in them."""
    turns = int(data.extra["spec"]["rating_turns"])
    agents = data.agents
    rank = agents.groupby("session_id", sort=False)["turn"].rank(method="dense", ascending=False)
    last = set(agents.loc[rank <= turns, "message_id"])
    found = _found(data, "rating")
    found = found[found["message_id"].isin(last)]
    induced = data.hits[data.hits["category"].astype(str) == "review_inducement"]
    induced = set(induced.loc[induced["message_id"].isin(last), "session_id"])
    value = pd.Series(data.sessions.isin(set(found["session_id"])) & ~data.sessions.isin(induced), index=data.sessions)
    return first_evidence(found, value)


# ------------------------------------------------------------------------------ the table ---
def process_checks(messages: pd.DataFrame, hits: pd.DataFrame | None = None, complaints: pd.DataFrame | None = None,
                   *, rulebook: Rulebook | None = None, taxonomy=None, spec: dict | None = None) -> pd.DataFrame:
    """One row per session with a human agent reply: platform, shop, agent_id (the owner), is_complaint,
    primary, each process check (missing where it does not apply) with ``<check>_message_id`` and
    ``<check>_matched``, ``resolution_s`` (with times) and ``handling_score`` (0-100).

    ``hits`` (``find_violations``) and ``complaints`` (``classify_complaints``) are computed when not
    given, with ``rulebook`` and ``taxonomy``; ``spec`` replaces resources/process.yaml (switch checks off,
    change weights and thresholds)."""
    messages = as_messages(messages)
    spec = spec or process_spec()
    rulebook = rulebook or load_rulebook()
    hits = find_violations(messages, rulebook) if hits is None else hits
    complaints = classify_complaints(messages, taxonomy) if complaints is None else complaints
    data = SessionData(messages, hits, complaints,
                       extra={"spec": spec, "rulebook": rulebook, "categories_abuse": spec["customer_abuse_categories"]})
    checks = run_checks(GROUP, data, spec)
    first = data.ordered.groupby("session_id", sort=False)
    context = pd.DataFrame({"platform": first["platform"].first(), "shop": first["shop"].first()}).reindex(data.sessions)
    context["agent_id"] = session_owner(messages).reindex(data.sessions)
    known = complaints.set_index("session_id") if len(complaints) else pd.DataFrame(columns=["is_complaint", "primary"])
    context["is_complaint"] = known["is_complaint"].reindex(data.sessions).fillna(False).astype(bool)
    context["primary"] = known["primary"].reindex(data.sessions) if "primary" in known else pd.NA
    out = context.join(checks)
    out["resolution_s"] = data.extra.get("resolution_s", pd.Series(np.nan, index=data.sessions)).where(out["is_complaint"])
    out["handling_score"] = weighted_score(checks, spec)
    out.index.name = "session_id"
    return out.reset_index()
