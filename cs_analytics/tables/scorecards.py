"""Agent scorecards: forbidden phrases, response times, politeness and complaint handling in one row
per agent, ranked.

Four components, each 0-100 and higher is better (resources/scorecard.yaml):

- ``clean``: share of the agent's messages with no forbidden-phrase hit;
- ``response``: share of the reply rounds the agent was responsible for (``findings.timing.reply_rounds``'s
  ``responsible_agent``: unanswered rounds count against someone) answered within ``sla_s``;
- ``politeness``: mean session politeness score (``politeness.politeness_checks``);
- ``handling``: mean complaint-handling score of the complaint sessions the agent owns
  (``process.process_checks``' ``handling_score``; left out when no process table is given).

``composite`` is their weighted mean over the components the export can measure. Agents with fewer
than ``min_sessions`` sessions are shown but not ranked. ``weakest`` names the component where the
agent is furthest below the team's median, the first thing to coach.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..base import config
from .violation_stats import rate_by
from ..base.timeparse import week_start
from ..base.schema import as_messages
from ..base.layering import load_yaml

SPEC_FILE = config.RESOURCES_DIR / "scorecard.yaml"
COMPONENTS = ("clean", "response", "politeness", "handling")   # what a spec may weigh; each 0-100, higher is better


class ScorecardError(ValueError):
    """The scorecard spec is wrong; the message names the file and the fix."""


def scorecard_spec(path: str | Path | None = None) -> dict:
    """The scorecard spec (components, weights, min_sessions, sla_s), checked."""
    path = Path(path) if path else SPEC_FILE
    if not path.is_file():
        raise ScorecardError(f"{path}: no such file; copy {SPEC_FILE} and edit the weights")
    spec = load_yaml(path.read_text(encoding="utf-8")) or {}
    missing = [key for key in ("version", "min_sessions", "sla_s", "components") if key not in spec]
    if missing:
        raise ScorecardError(f"{path}: missing {missing}; copy {SPEC_FILE} and edit it")
    ids = [c.get("id") for c in spec.get("components", [])]
    if not ids or set(ids) - set(COMPONENTS) or len(set(ids)) != len(ids):
        raise ScorecardError(f"{path}: components are some of {list(COMPONENTS)}, each once (found {ids})")
    for component in spec["components"]:
        if not isinstance(component.get("weight"), (int, float)) or component["weight"] < 0:
            raise ScorecardError(f"{path}: component {component['id']} needs a weight >= 0")
    if not sum(c["weight"] for c in spec["components"]):
        raise ScorecardError(f"{path}: at least one component needs a weight above 0")
    return spec


def component_labels(spec: dict | None = None) -> dict[str, str]:
    """Component id → its Chinese label."""
    spec = spec or scorecard_spec()
    return {c["id"]: c["label"] for c in spec["components"]}


def _components(messages: pd.DataFrame, hits: pd.DataFrame, rounds: pd.DataFrame | None,
                checks: pd.DataFrame, keys: list[str], sla_s: int, process: pd.DataFrame | None = None) -> pd.DataFrame:
    """The raw measures and the components per ``keys`` (agent_id, optionally week)."""
    agent_rows = messages[(messages["role"] == "agent") & messages["agent_id"].notna()]
    violations = rate_by(agent_rows, hits, keys)[["agent_messages", "violations", "per_1000", "share_flagged"]]
    out = violations.copy()
    out["clean"] = (1 - out["share_flagged"]) * 100
    agent_checks = checks[checks["agent_id"].notna()]
    if "week" in keys:
        agent_checks = agent_checks[agent_checks["started"].notna()].assign(week=week_start(agent_checks["started"]))
    polite = agent_checks.groupby(keys, observed=True).agg(sessions=("session_id", "size"), politeness=("score", "mean"),
                                                           fatal_sessions=("fatal", "sum"))
    out = out.join(polite, how="outer")
    if rounds is not None and len(rounds):
        owned = rounds[rounds["responsible_agent"].notna()].rename(columns={"agent_id": "replier"}) \
            .rename(columns={"responsible_agent": "agent_id"})
        group = owned.groupby(keys, observed=True)
        response = pd.DataFrame({"rounds": group.size(), "median_response_s": group["response_s"].median(),
                                 "p90_response_s": group["response_s"].quantile(0.9),
                                 "response": owned["response_s"].le(sla_s).groupby([owned[k] for k in keys]).mean() * 100})
        out = out.join(response, how="outer")
    else:
        for column in ("rounds", "median_response_s", "p90_response_s", "response"):
            out[column] = np.nan
    owned = process[process["is_complaint"] & process["agent_id"].notna()] if process is not None and len(process) else None
    if owned is not None and len(owned):
        if "week" in keys:
            started = checks.set_index("session_id")["started"]
            owned = owned.assign(week=week_start(started.reindex(owned["session_id"]).reset_index(drop=True)).to_numpy())
            owned = owned[owned["week"].notna()]
        handled = owned.groupby(keys, observed=True).agg(complaint_sessions=("session_id", "size"),
                                                         handling=("handling_score", "mean"))
        out = out.join(handled, how="outer")
    else:
        out["complaint_sessions"], out["handling"] = np.nan, np.nan
    return out


def weakest(values: pd.DataFrame) -> pd.Series:
    """Per row, the column with the lowest value; missing where a row has no value at all (an agent
    with no measured component, or no ranked agent to compare with)."""
    out = pd.Series(pd.NA, index=values.index, dtype=object)
    measured = values.notna().any(axis=1)
    if measured.any():
        out[measured] = values[measured].astype(float).idxmin(axis=1, skipna=True)
    return out


def _composite(table: pd.DataFrame, spec: dict) -> pd.Series:
    weights = pd.Series({c["id"]: float(c["weight"]) for c in spec["components"]})
    values = table[list(weights.index)]
    used = values.notna().mul(weights, axis=1)
    total = used.sum(axis=1)
    return (values.fillna(0).mul(weights, axis=1).sum(axis=1) / total).where(total > 0)


def agent_scorecards(messages: pd.DataFrame, hits: pd.DataFrame, checks: pd.DataFrame,
                     rounds: pd.DataFrame | None = None, spec: dict | None = None,
                     process: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per agent: sessions, agent messages, violations per 1,000, the three components,
    median / P90 response, fatal sessions, ``composite``, ``rank`` (1 = best; missing when the agent
    has fewer than ``min_sessions`` sessions), the ``weakest`` component and ``weakest_gap``, its
    points against the ranked agents' median (all agents' when none is ranked); ranked agents first, best first.
    ``rounds``: ``findings.timing.reply_rounds(messages)``, or None for an export without send times;
    ``process``: ``process_checks`` (the complaint-handling component), or None to leave it out."""
    messages = as_messages(messages)
    spec = spec or scorecard_spec()
    cards = _components(messages, hits, rounds, checks, ["agent_id"], spec["sla_s"], process)
    cards["sessions"] = cards["sessions"].fillna(0).astype(int)
    cards["composite"] = _composite(cards, spec)
    ranked = cards["sessions"] >= spec["min_sessions"]
    cards["rank"] = cards["composite"].where(ranked).rank(ascending=False, method="min").astype("Int64")
    components = [c["id"] for c in spec["components"] if cards[c["id"]].notna().any()]
    # gaps against the ranked agents' median; with nobody ranked (every agent below min_sessions), the
    # median of all agents, so the coaching hint still points at each agent's weakest area
    team = cards.loc[ranked, components] if ranked.any() else cards[components]
    gaps = cards[components] - team.median()
    cards["weakest"] = weakest(gaps) if components else pd.NA
    cards["weakest_gap"] = gaps.min(axis=1, skipna=True) if components else np.nan
    cards.index.name = "agent_id"
    order = ["sessions", "agent_messages", "rank", "composite", "weakest", "weakest_gap", *COMPONENTS,
             "violations", "per_1000", "median_response_s", "p90_response_s", "rounds", "fatal_sessions", "complaint_sessions"]
    cards = cards[order]
    return cards.sort_values(["rank", "composite"], ascending=[True, False], na_position="last")


def coaching(cards: pd.DataFrame, spec: dict | None = None) -> pd.DataFrame:
    """What to coach first, per agent of ``agent_scorecards``: rank, the weakest component's label, the
    agent's value, the team median and the gap (value − median)."""
    labels = component_labels(spec)
    value = pd.Series([row[w] if isinstance(w, str) else np.nan for w, (_, row) in zip(cards["weakest"], cards.iterrows())],
                      index=cards.index)
    return pd.DataFrame({"rank": cards["rank"], "weakest": cards["weakest"].map(labels), "value": value,
                         "team_median": value - cards["weakest_gap"], "gap": cards["weakest_gap"]})


def agent_trends(messages: pd.DataFrame, hits: pd.DataFrame, checks: pd.DataFrame,
                 rounds: pd.DataFrame | None = None, spec: dict | None = None,
                 process: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per agent and week (Monday): the components and the composite (for sparklines)."""
    messages = as_messages(messages)
    spec = spec or scorecard_spec()
    weekly = _components(messages[messages["ts"].notna()], hits, rounds, checks, ["agent_id", "week"], spec["sla_s"], process)
    weekly["composite"] = _composite(weekly, spec)
    weekly["sessions"] = weekly["sessions"].fillna(0).astype(int)     # a week with messages but no session started
    return weekly[[*COMPONENTS, "composite", "sessions", "agent_messages"]]
