"""Politeness statistics for notebooks 05 and 06: check rates by group and week, per-agent scorecards,
the before/after comparison with Wilson intervals and Holm-corrected tests, and masked example sessions.
They read ``findings.politeness.politeness_checks``."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base.proportions import wilson_interval
from ..base.timeparse import week_start
from ..base.schema import as_messages
from .grouping import grouping, named_overall
from ..findings.politeness import CHECKS, RATE_CHECKS, check_labels
from .scorecards import weakest
from .transcripts import transcripts


def check_rates(checks: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Per ``by`` (agent_id, shop, platform, week; or overall): sessions, mean score, fatal sessions,
    and each check's mean over the sessions it applies to (booleans as shares)."""
    data = checks if by != "week" else checks[checks["started"].notna()].assign(week=week_start(checks["started"]))
    data, keys = grouping(data, by)
    group = data.groupby(keys, observed=True)
    out = pd.DataFrame({"sessions": group.size(), "score": group["score"].mean(), "fatal_sessions": group["fatal"].sum()})
    for check in CHECKS:
        out[check] = data[check].astype("Float64").groupby([data[k] for k in keys]).mean().astype(float)
    return named_overall(out, keys)


def scorecards(checks: pd.DataFrame) -> pd.DataFrame:
    """Per agent: sessions, mean score, its rank (1 = best), the weakest check, each check's rate."""
    cards = check_rates(checks[checks["agent_id"].notna()], "agent_id").sort_values("score", ascending=False)
    cards.insert(2, "rank", np.arange(1, len(cards) + 1))
    rates = cards[list(CHECKS)]
    cards.insert(3, "weakest_check", weakest(rates))
    return cards


def midpoint_date(checks: pd.DataFrame) -> str:
    """The calendar day halfway between the first and last session start (a default comparison date)."""
    started = checks["started"].dropna()
    return str((started.min() + (started.max() - started.min()) / 2).date())


def before_after(checks: pd.DataFrame, date, confidence: float = 0.95) -> pd.DataFrame:
    """Each check's rate before and after ``date`` (sessions starting before / on or after it), the
    difference (after − before) with its confidence interval, a two-sided p-value, and ``p_holm``:
    the p-value adjusted for testing every check at once (Holm–Bonferroni). ``significant`` uses
    ``p_holm``; with eleven checks one unadjusted "significant" difference is expected by chance.

    Yes/no checks: Newcombe's interval (from the two Wilson intervals) and the pooled two-proportion
    z-test. Rates (您 share, 请 share, wait apologies) and the score: Welch's normal approximation.
    Sessions without a start time are left out.
    """
    from statistics import NormalDist

    normal = NormalDist()
    timed = checks[checks["started"].notna()]
    cut = pd.Timestamp(date)
    if cut.tzinfo is None and timed["started"].dt.tz is not None:
        cut = cut.tz_localize(timed["started"].dt.tz)
    before, after = timed[timed["started"] < cut], timed[timed["started"] >= cut]
    z = normal.inv_cdf(0.5 + confidence / 2)
    rows = []
    for check in (*CHECKS, "score"):
        a = before[check].astype("Float64").dropna().astype(float) / (100 if check == "score" else 1)
        b = after[check].astype("Float64").dropna().astype(float) / (100 if check == "score" else 1)
        row = {"check": check, "n_before": len(a), "before": a.mean() if len(a) else np.nan,
               "n_after": len(b), "after": b.mean() if len(b) else np.nan}
        if len(a) < 2 or len(b) < 2:
            rows.append({**row, "diff": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan})
            continue
        diff = row["after"] - row["before"]
        if check in RATE_CHECKS or check == "score":
            se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
            low, high = diff - z * se, diff + z * se
            p = 2 * (1 - normal.cdf(abs(diff) / se)) if se > 0 else float(diff == 0)
        else:
            (l1, u1), (l2, u2) = (tuple(x.iloc[0] for x in wilson_interval(pd.Series([v.sum()]), pd.Series([len(v)]), confidence))
                                  for v in (a, b))
            p1, p2 = row["before"], row["after"]
            low = diff - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
            high = diff + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
            pooled = (a.sum() + b.sum()) / (len(a) + len(b))
            se = np.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b)))
            p = 2 * (1 - normal.cdf(abs(diff) / se)) if se > 0 else float(diff == 0)
        rows.append({**row, "diff": diff, "ci_low": low, "ci_high": high, "p_value": p})
    out = pd.DataFrame(rows).set_index("check")
    out["p_holm"] = _holm(out["p_value"])
    out["significant"] = out["p_holm"] < (1 - confidence)
    return out


def _holm(p_values: pd.Series) -> pd.Series:
    """Holm–Bonferroni adjusted p-values (testing many checks at once makes some look significant by chance)."""
    valid = p_values.dropna().sort_values()
    m = len(valid)
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * valid.to_numpy())) if m else np.array([])
    return pd.Series(adjusted, index=valid.index).reindex(p_values.index)


def example_sessions(messages: pd.DataFrame, checks: pd.DataFrame, n: int = 2, best: bool = True) -> pd.DataFrame:
    """Transcripts of the ``n`` best (or worst) scored sessions, ties by session id, with the checks they
    failed by their labels (masked when shown)."""
    messages = as_messages(messages)
    names = check_labels()

    ranked = checks.sort_values(["score", "session_id"], ascending=[not best, True]).head(n)
    texts = transcripts(messages, ranked["session_id"])
    rows = []
    for _, row in ranked.iterrows():
        failed = [names.get(c, c) for c in CHECKS if pd.notna(row[c]) and float(row[c]) < 1]
        rows.append({"session_id": row["session_id"], "score": round(float(row["score"]), 1),
                     "failed": "、".join(failed) or "-", "transcript": texts.get(row["session_id"], "")})
    return pd.DataFrame(rows, columns=["session_id", "score", "failed", "transcript"])
