"""Volumes and shapes of a chat log: what notebook 01 shows before any quality analysis."""
from __future__ import annotations

import pandas as pd

from ..base.holidays import day_types
from ..base.timeparse import WEEKDAY_NAMES
from ..base.schema import as_messages, reason_label


def session_table(messages: pd.DataFrame) -> pd.DataFrame:
    """One row per session: platform, shop, main agent, message counts by role, start, duration.

    The main agent is the agent account with the most messages in the session.
    """
    messages = as_messages(messages)
    g = messages.groupby("session_id", sort=False)
    out = pd.DataFrame({
        "platform": g["platform"].first(),
        "shop": g["shop"].first(),
        "messages": g.size(),
    })
    roles = messages.groupby(["session_id", "role"], observed=True).size().unstack(fill_value=0)  # crosstab counts, vectorised
    for role in ("customer", "agent", "bot", "system"):
        out[f"{role}_messages"] = roles[role].reindex(out.index).fillna(0).astype(int) if role in roles else 0
    agents = messages[messages["role"] == "agent"]
    if len(agents):
        main = agents.groupby(["session_id", "agent_id"]).size().reset_index(name="n")
        main = main.sort_values(["session_id", "n"], ascending=[True, False]).drop_duplicates("session_id")
        out["agent_id"] = main.set_index("session_id")["agent_id"].reindex(out.index)
    else:
        out["agent_id"] = pd.NA
    if messages["ts"].notna().any():
        out["start"] = g["ts"].min()
        out["duration_min"] = (g["ts"].max() - g["ts"].min()).dt.total_seconds() / 60
    return out.reset_index()


def daily_volume(messages: pd.DataFrame) -> pd.DataFrame:
    """Messages and sessions per calendar day, with the official day type (workday/weekend/holiday/调休)."""
    messages = as_messages(messages)
    timed = messages[messages["ts"].notna()]
    day = timed["ts"].dt.tz_localize(None).dt.normalize()
    out = pd.DataFrame({
        "messages": timed.groupby(day).size(),
        "sessions": timed.groupby(day)["session_id"].nunique(),
    })
    out.index.name = "date"
    full = pd.date_range(out.index.min(), out.index.max(), freq="D", name="date") if len(out) else out.index
    out = out.reindex(full, fill_value=0)
    out["day_type"] = day_types(out.index.to_series()).to_numpy()
    return out.reset_index()


def volume_by(messages: pd.DataFrame, column: str) -> pd.DataFrame:
    """Messages and sessions per value of ``column`` (platform, shop, agent_id, role …), largest first."""
    messages = as_messages(messages)
    g = messages.groupby(column, dropna=False)
    out = pd.DataFrame({"messages": g.size(), "sessions": g["session_id"].nunique()})
    out["share_of_messages"] = out["messages"] / out["messages"].sum()
    return out.sort_values("messages", ascending=False).reset_index()


def hour_weekday_matrix(messages: pd.DataFrame, role: str = "customer") -> pd.DataFrame:
    """Messages of ``role`` per hour of day (rows 0-23) and weekday (columns 周一..周日)."""
    messages = as_messages(messages)
    timed = messages[(messages["role"] == role) & messages["ts"].notna()]
    names = WEEKDAY_NAMES
    table = pd.crosstab(timed["ts"].dt.hour, timed["ts"].dt.day_of_week)
    table = table.reindex(index=range(24), columns=range(7), fill_value=0)
    table.columns = names
    table.index.name = "hour"
    return table


def quarantine_examples(quarantine: pd.DataFrame, per_reason: int = 2, width: int = 40) -> pd.DataFrame:
    """A few rows set aside per reason (named by its label), text cut to ``width`` characters (never
    inside a phone number: ``privacy.cut``; masked when shown)."""
    from ..base.privacy import cut

    examples = quarantine.groupby("reason", group_keys=False).head(per_reason)
    examples = examples[["source_file", "source_row", "reason", "detail", "text"]].copy()
    examples["reason"] = examples["reason"].map(reason_label)
    examples["text"] = examples["text"].map(lambda t: cut(t, width))
    return examples.rename(columns={"reason": "reason_label"}).reset_index(drop=True)
