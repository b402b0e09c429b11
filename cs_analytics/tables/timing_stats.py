"""Response-time statistics for notebook 04 and the scorecards: summaries per group, the hour × weekday
median, the weekly SLA share, the worst waits, wait-apology rates and response by workload. They read
the findings of ``findings.timing`` (reply rounds, long waits, concurrency)."""
from __future__ import annotations

import pandas as pd

from ..base.privacy import cut
from ..base.timeparse import WEEKDAY_NAMES
from ..base.schema import as_messages
from .grouping import grouping, named_overall
from ..findings.timing import timing_settings


def response_summary(rounds: pd.DataFrame, by: str | list[str] | None = None,
                     thresholds: tuple[int, ...] | None = None, column: str = "response_s") -> pd.DataFrame:
    """Per group: rounds, answered, answer rate, mean / median / P90 response (answered rounds, seconds),
    and ``within_<N>s``: the share of all rounds answered within N seconds (unanswered count as not)."""
    thresholds = tuple(thresholds or timing_settings()["sla_thresholds_s"])
    data, keys = grouping(rounds, by)
    values = data[column]
    group = data.groupby(keys, observed=True, dropna=True)
    answered = values.notna()
    out = pd.DataFrame({"rounds": group.size(), "answered": answered.groupby([data[k] for k in keys]).sum()})
    out["answer_rate"] = out["answered"] / out["rounds"]
    timed = values.groupby([data[k] for k in keys])
    out["mean_s"] = timed.mean()
    out["median_s"] = timed.median()
    out["p90_s"] = timed.quantile(0.9)
    for n in thresholds:
        out[f"within_{n}s"] = (values <= n).groupby([data[k] for k in keys]).mean()
    return named_overall(out, keys)


def hour_weekday_median(rounds: pd.DataFrame, column: str = "response_s", min_rounds: int = 5) -> pd.DataFrame:
    """Median response (seconds) per hour of day (rows 0-23) and weekday (columns 周一..周日) of the
    round's opening; cells with fewer than ``min_rounds`` answered rounds are left empty."""
    answered = rounds.dropna(subset=[column])
    group = answered.groupby(["hour", "weekday"])[column]
    table = group.median().where(group.size() >= min_rounds).unstack("weekday")
    table = table.reindex(index=range(24), columns=range(7))
    table.columns = WEEKDAY_NAMES
    table.index.name = "hour"
    return table


def weekly_sla(rounds: pd.DataFrame, threshold_s: int = 180, by: str = "platform") -> pd.DataFrame:
    """Share of rounds answered within ``threshold_s`` per week (rows) and ``by`` value (columns)."""
    within = rounds["response_s"].le(threshold_s)
    table = within.groupby([rounds["week"], rounds[by]]).mean().unstack(by)
    table.index.name = "week"
    table.columns.name = None
    return table


def worst_waits(messages: pd.DataFrame, rounds: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` longest answered waits with context: the customer's message that opened the round and
    the reply, both PII-masked and cut to 40 characters."""
    messages = as_messages(messages)
    worst = rounds.dropna(subset=["response_s"]).nlargest(n, "response_s")
    texts = messages.drop_duplicates("message_id").set_index("message_id")["text"]
    cut_to = lambda ids: [cut(t, 40) if isinstance(t, str) else "" for t in texts.reindex(ids)]  # noqa: E731
    return pd.DataFrame({
        "session_id": worst["session_id"].to_numpy(), "platform": worst["platform"].to_numpy(),
        "agent_id": worst["agent_id"].to_numpy(), "opened_at": worst["opened_at"].to_numpy(),
        "wait_min": (worst["response_s"] / 60).round(1).to_numpy(),
        "customer": cut_to(worst["first_message_id"]), "reply": cut_to(worst["reply_message_id"]),
    })


def wait_apology_rates(waits: pd.DataFrame, by: str = "agent_id") -> pd.DataFrame:
    """Per ``by``: long waits, apologised, apology rate (the seeds require 让您久等了 after a wait)."""
    group = waits.groupby(by, observed=True)
    out = pd.DataFrame({"long_waits": group.size(), "apologized": group["apologized"].sum()})
    out["apology_rate"] = out["apologized"] / out["long_waits"]
    return out.sort_values("apology_rate")


def workload_response(rounds: pd.DataFrame, open_sessions: pd.Series, cap: int = 6) -> pd.DataFrame:
    """Response time by how many sessions the agent had open (1, 2, …, ``cap``+): rounds, median, P90,
    share within the platforms' 3-minute line."""
    data = rounds.assign(open=open_sessions.clip(upper=cap)).dropna(subset=["open", "response_s"])
    data = data.assign(open=data["open"].astype(int))
    group = data.groupby("open")["response_s"]
    out = pd.DataFrame({"rounds": group.size(), "median_s": group.median(), "p90_s": group.quantile(0.9),
                        "within_180s": data["response_s"].le(180).groupby(data["open"]).mean()})
    out.index = [f"{i}+" if i == cap else str(i) for i in out.index]
    out.index.name = "open_sessions"
    return out


def metric_shares(metrics: pd.DataFrame) -> pd.Series:
    """The platform metrics that are shares (``findings.timing.platform_metrics``; the mean response
    time left out), in %, each named by its metric and the unit it counts (首响达标率(按会话首轮计))."""
    shares = metrics[metrics["metric"] != "mean_response_s"]
    return pd.Series(shares["value"].to_numpy() * 100, index=shares["label"] + "(按" + shares["unit_label"] + "计)",
                     name="share_pct")


def metrics_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """The platform metrics (``findings.timing.platform_metrics``) as a reader sees them: each value
    in the column of its kind (``share`` 0–1, or ``mean_s`` seconds), unit and metric by their names,
    the ids last (recipe, unit, metric); the recipes' sources are left out."""
    shares = metrics["metric"] != "mean_response_s"
    out = metrics.assign(share=metrics["value"].where(shares), mean_s=metrics["value"].where(~shares))
    first = [c for c in out.columns if c not in ("recipe", "unit", "metric", "value", "source", "threshold_s", "version",
                                                  "share", "mean_s")]
    return out[first + ["share", "mean_s", "threshold_s", "version", "recipe", "unit", "metric"]]
