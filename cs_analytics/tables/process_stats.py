"""Complaint-handling statistics for notebook 07: how often each step was taken where it applies, the
handling funnel (complaint → apology → solution → deadline → closing) overall and by group, and
example sessions. They read ``findings.process.process_checks`` (and the politeness checks for the
closing)."""
from __future__ import annotations

import pandas as pd

from ..base.schema import as_messages
from ..findings.complaints import Taxonomy, load_taxonomy
from .grouping import grouping, named_overall
from ..findings.politeness import check_labels as politeness_labels
from ..findings.process import check_labels, process_spec
from .transcripts import transcripts

FUNNEL = ("first_reply_apology", "solution_offered", "deadline_given", "closing")


def check_rates(process: pd.DataFrame, by: str | None = None, complaints_only: bool = True) -> pd.DataFrame:
    """Per ``by`` (agent_id, primary, shop, platform; or overall): sessions, mean handling score, and each
    check's share of True over the sessions it applies to (``<check>_n``: how many it applies to)."""
    data = process[process["is_complaint"]] if complaints_only else process
    checks = [c for c in process_spec()["checks"] if c in data.columns]
    data, keys = grouping(data, by)
    group = data.groupby(keys, observed=True, dropna=True)
    out = pd.DataFrame({"sessions": group.size(), "handling_score": group["handling_score"].mean()})
    for check in checks:
        values = data[check].astype("Float64")
        out[check] = values.groupby([data[k] for k in keys]).mean().astype(float)
        out[f"{check}_n"] = values.notna().groupby([data[k] for k in keys]).sum()
    return named_overall(out, keys)


def funnel(process: pd.DataFrame, politeness: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """The handling funnel of complaint sessions, per ``by`` or overall: complaint sessions, then the
    share that apologised first, offered a solution, named a deadline when deferring (of those that
    deferred) and closed politely (the politeness ``closing`` check)."""
    data = process[process["is_complaint"]].merge(politeness[["session_id", "closing"]], on="session_id", how="left")
    data, keys = grouping(data, by)
    group = data.groupby(keys, observed=True, dropna=True)
    out = pd.DataFrame({"complaint_sessions": group.size()})
    for step in FUNNEL:
        out[step] = data[step].astype("Float64").groupby([data[k] for k in keys]).mean().astype(float)
    return named_overall(out, keys)


def labelled(table: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """``table`` with check ids as their Chinese labels (the closing's too); with ``taxonomy``, a table
    by primary type gets the type's label as its first column."""
    names = {**check_labels(), "closing": politeness_labels()["closing"], "handling_score": "处理得分",
             "complaint_sessions": "投诉会话"}
    out = table.rename(columns=lambda c: names.get(c, c))
    if taxonomy is not None and out.index.name == "primary":
        out.insert(0, "label", [taxonomy.label(t) for t in out.index])
    return out


def example_sessions(messages: pd.DataFrame, process: pd.DataFrame, n: int = 2, best: bool = True,
                     max_messages: int = 14, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Transcripts of the ``n`` best (or worst) handled complaint sessions by handling score, ties by
    session id, with the complaint type's label (from ``taxonomy``, the packaged one by default) and the
    steps taken and missed (masked when shown)."""
    messages = as_messages(messages)
    type_label = (taxonomy or load_taxonomy()).label
    complaints = process[process["is_complaint"] & process["handling_score"].notna()]
    ranked = complaints.sort_values(["handling_score", "session_id"], ascending=[not best, True]).head(n)
    texts = transcripts(messages, ranked["session_id"], max_messages)
    names = check_labels()
    good = {k for k, v in process_spec()["checks"].items() if v.get("good", True)}
    rows = []
    for _, row in ranked.iterrows():
        done = [names[c] for c in names if c in row and pd.notna(row[c]) and bool(row[c]) == (c in good)]
        missed = [names[c] for c in names if c in row and pd.notna(row[c]) and bool(row[c]) != (c in good)]
        rows.append({"session_id": row["session_id"], "type": type_label(row["primary"]), "score": round(float(row["handling_score"]), 1),
                     "done": "、".join(done) or "-", "missed": "、".join(missed) or "-",
                     "transcript": texts.get(row["session_id"], "")})
    return pd.DataFrame(rows, columns=["session_id", "type", "score", "done", "missed", "transcript"])


def case_counts(process: pd.DataFrame) -> dict[str, int]:
    """Sessions per special case: broken promises, refusals (and those not softened), abusive buyers (and
    those handled), transfers (and those announced)."""
    def count(column: str, value: bool = True) -> tuple[int, int]:
        data = process[column].dropna().astype(bool) if column in process else pd.Series(dtype=bool)
        return int((data == value).sum()), len(data)

    broken, _ = count("promise_broken")
    not_softened, refusals = count("refusal_softened", False)
    abused, _ = count("customer_abuse")
    handled, abuse_judged = count("abuse_handled")
    moved, _ = count("transferred")
    announced, moved_judged = count("handoff_announced")
    return {"broken_promises": broken, "refusals": refusals, "refusals_not_softened": not_softened,
            "abusive_buyers": abused, "abuse_handled": handled, "abuse_judged": abuse_judged,
            "transfers": moved, "transfers_announced": announced, "transfers_judged": moved_judged}


def cases_table(process: pd.DataFrame) -> pd.DataFrame:
    """The special cases as a table for notebook 07 and the workbook."""
    n = case_counts(process)
    return pd.DataFrame([
        {"情形 case": "买家称承诺未兑现 broken promise", "会话 sessions": n["broken_promises"],
         "说明 note": "买家提到之前的承诺没有兑现(说好的…到现在还没)"},
        {"情形 case": "拒绝时未致歉或未说明 refusal not softened", "会话 sessions": n["refusals_not_softened"],
         "说明 note": f"共 {n['refusals']:,} 个会话有拒绝"},
        {"情形 case": "买家辱骂 abusive buyer", "会话 sessions": n["abusive_buyers"],
         "说明 note": f"其中按文明用语话术应对且未回骂 {n['abuse_handled']:,}/{n['abuse_judged']:,}"},
        {"情形 case": "转接 transfer", "会话 sessions": n["transfers"],
         "说明 note": f"转接前告知买家 {n['transfers_announced']:,}/{n['transfers_judged']:,}"},
    ])
