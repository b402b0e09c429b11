"""Tables for notebook 03 and decks: complaint types by share, week, group and SKU, escalation,
top terms per type, how agents handled complaint sessions, and masked example sessions.

Every table is computed from the session table of ``findings.complaints.classify_complaints`` (and the
messages it came from); shares are of sessions with customer messages unless a name says otherwise.
"""
from __future__ import annotations

import pandas as pd

from ..findings.complaints import Taxonomy, label_messages, load_taxonomy
from ..base.privacy import mask_series
from ..base.proportions import wilson_interval
from ..findings.service_phrases import find_service_phrases
from .terms import Tokenizer, default_tokenizer
from .transcripts import transcripts
from ..base.timeparse import week_start
from ..base.schema import as_messages


def _label(taxonomy: Taxonomy | None):
    return (taxonomy or load_taxonomy()).label


def complaint_sessions(sessions: pd.DataFrame) -> pd.DataFrame:
    """The sessions that are complaints."""
    return sessions[sessions["is_complaint"]]


def type_distribution(sessions: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per primary type: label, sessions, share of complaint sessions, share of all sessions, sessions
    where it is secondary, and the share with an escalation threat, anger and a compensation demand."""
    label = _label(taxonomy)
    complaints = complaint_sessions(sessions)
    group = complaints.groupby("primary", observed=True)
    out = pd.DataFrame({
        "sessions": group.size(),
        "escalation_rate": group["escalation"].mean(),
        "anger_rate": group["anger"].mean(),
        "compensation_rate": group["compensation"].mean(),
    })
    secondary = complaints["secondary"].explode().dropna().value_counts()
    out["as_secondary"] = secondary.reindex(out.index).fillna(0).astype(int)
    out["share_of_complaints"] = out["sessions"] / max(len(complaints), 1)
    out["share_of_sessions"] = out["sessions"] / max(len(sessions), 1)
    out.insert(0, "label", [label(t) for t in out.index])
    out.index.name = "type"
    cols = ["label", "sessions", "share_of_complaints", "share_of_sessions", "as_secondary",
            "escalation_rate", "anger_rate", "compensation_rate"]
    return out[cols].sort_values("sessions", ascending=False)


def contact_reason_distribution(sessions: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Why buyers got in touch, complaint or not: per contact reason, label, sessions, share of all
    sessions, the share of them that are complaints, and sessions where it is the secondary reason."""
    label = _label(taxonomy)
    group = sessions.groupby(sessions["contact_reason"].astype(str), observed=True)
    out = pd.DataFrame({"sessions": group.size(), "complaint_share": group["is_complaint"].mean()})
    secondary = sessions["contact_secondary"].dropna().astype(str).value_counts()
    out["as_secondary"] = secondary.reindex(out.index).fillna(0).astype(int)
    out["share_of_sessions"] = out["sessions"] / max(len(sessions), 1)
    out.insert(0, "label", ["其他" if t == "other" else label(t) for t in out.index])
    out.index.name = "contact_reason"
    return out[["label", "sessions", "share_of_sessions", "complaint_share", "as_secondary"]].sort_values(
        "sessions", ascending=False)


def inquiry_topics(sessions: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Topics asked about without complaining (能开发票吗, 有现货吗), in sessions that are not complaints:
    label, sessions, share of those sessions. Pre-sale questions worth a FAQ or a product-page fix."""
    label = _label(taxonomy)
    calm = sessions[~sessions["is_complaint"]]
    counts = calm["inquiry"].explode().dropna().value_counts()
    out = pd.DataFrame({"label": [label(t) for t in counts.index], "sessions": counts.to_numpy()}, index=counts.index)
    out["share_of_non_complaint_sessions"] = out["sessions"] / max(len(calm), 1)
    out.index.name = "topic"
    return out


def weekly_types(sessions: pd.DataFrame, taxonomy: Taxonomy | None = None, share: bool = False) -> pd.DataFrame:
    """Complaint sessions per week (Monday, by session start) and primary type; with ``share``, as a
    share of all of that week's sessions. Sessions without a time are left out."""
    timed = sessions[sessions["started"].notna()]
    if timed.empty:
        return pd.DataFrame()
    timed = timed.assign(week=week_start(timed["started"]))
    counts = pd.crosstab(timed.loc[timed["is_complaint"], "week"], timed.loc[timed["is_complaint"], "primary"])
    weeks = sorted(timed["week"].unique())
    counts = counts.reindex(weeks, fill_value=0)
    if share:
        counts = counts.div(timed.groupby("week").size().reindex(weeks), axis=0)
    label = _label(taxonomy)
    counts.columns = [label(c) for c in counts.columns]
    counts.index.name = "week"
    counts.columns.name = None
    return counts


def weekly_rates(sessions: pd.DataFrame) -> pd.DataFrame:
    """Per week: sessions, complaint sessions, complaint rate, escalation rate among complaints."""
    timed = sessions[sessions["started"].notna()]
    if timed.empty:
        return pd.DataFrame()
    group = timed.assign(week=week_start(timed["started"])).groupby("week")
    out = pd.DataFrame({"sessions": group.size(), "complaints": group["is_complaint"].sum(),
                        "escalations": group["escalation"].sum()})
    out["complaint_rate"] = out["complaints"] / out["sessions"]
    out["escalation_rate"] = out["escalations"] / out["complaints"].where(out["complaints"] > 0)
    return out


def types_by(sessions: pd.DataFrame, by: str, taxonomy: Taxonomy | None = None, share: bool = True) -> pd.DataFrame:
    """``by`` (platform, shop, sku, agent_id) × primary type: share of the group's complaint sessions
    (or counts with ``share=False``), plus the group's sessions and complaint rate."""
    data = sessions[sessions[by].notna()]
    complaints = complaint_sessions(data)
    table = pd.crosstab(complaints[by], complaints["primary"])
    if share:
        table = table.div(table.sum(axis=1), axis=0)
    label = _label(taxonomy)
    table.columns = [label(c) for c in table.columns]
    table.columns.name = None
    groups = data.groupby(by, observed=True)
    totals = pd.DataFrame({"sessions": groups.size(), "complaint_rate": groups["is_complaint"].mean()})
    return totals.join(table, how="left").fillna(0).sort_values("sessions", ascending=False)


def top_skus(sessions: pd.DataFrame, n: int = 10, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The SKUs with the most complaint sessions: sessions, complaints, complaint rate, top type."""
    data = sessions[sessions["sku"].notna()]
    if data.empty:
        return pd.DataFrame(columns=["sessions", "complaints", "complaint_rate", "top_type"])
    group = data.groupby("sku", observed=True)
    out = pd.DataFrame({"sessions": group.size(), "complaints": group["is_complaint"].sum()})
    out["complaint_rate"] = out["complaints"] / out["sessions"]
    complaints = complaint_sessions(data)
    label = _label(taxonomy)
    top = complaints.groupby("sku", observed=True)["primary"].agg(lambda s: label(s.value_counts().index[0]))
    out["top_type"] = top.reindex(out.index)
    return out.sort_values(["complaints", "complaint_rate"], ascending=False).head(n)


def escalation_by_type(sessions: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per primary type: complaint sessions, escalations, escalation rate with its 95 % Wilson interval
    (``ci_low``/``ci_high``: with ~100 sessions a type, rates a few points apart are noise), and the count per kind."""
    taxonomy = taxonomy or load_taxonomy()
    label = _label(taxonomy)
    complaints = complaint_sessions(sessions)
    group = complaints.groupby("primary", observed=True)
    out = pd.DataFrame({"sessions": group.size(), "escalations": group["escalation"].sum()})
    out["escalation_rate"] = out["escalations"] / out["sessions"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["escalations"], out["sessions"])
    kinds = complaints[["primary", "escalation_kinds"]].explode("escalation_kinds").dropna()
    if len(kinds):
        per_kind = pd.crosstab(kinds["primary"], kinds["escalation_kinds"])
        per_kind.columns = [label(k) for k in per_kind.columns]
        out = out.join(per_kind, how="left").fillna(0)
    out.insert(0, "label", [label(t) for t in out.index])
    out.index.name = "type"
    return out.sort_values("escalation_rate", ascending=False)


def temperament_by_type(sessions: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per primary type: the share of complaint sessions with anger, talkative and compensation signals
    (columns named by the temperament labels in temperament.yaml)."""
    taxonomy = taxonomy or load_taxonomy()
    label = _label(taxonomy)
    signals = ["anger", "talkative", "compensation"]
    table = complaint_sessions(sessions).groupby("primary", observed=True)[signals].mean()
    table.index = [label(t) for t in table.index]
    table.index.name = "type"
    table.columns = [taxonomy.temperament[c].get("label", c) for c in signals]
    return table


def top_terms(messages: pd.DataFrame, sessions: pd.DataFrame | None = None, labels: pd.DataFrame | None = None,
              n: int = 15, tokenizer: Tokenizer | None = None, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """The most frequent terms in the customer messages labelled with each complaint type.

    Long table: type, label, term, count, rank (1 = most frequent). Tokens come from the tokenizer
    (jieba/rjieba with the domain dictionary; stopwords dropped); text is PII-masked first so no
    phone number or name becomes a term.
    """
    messages = as_messages(messages)
    tokenizer = tokenizer or default_tokenizer()
    if labels is None:
        labels = label_messages(messages, taxonomy=taxonomy)
    label = _label(taxonomy)
    texts = messages.drop_duplicates("message_id").set_index("message_id")["text"]
    rows = []
    exploded = labels[["message_id", "types"]].explode("types").dropna()
    for type_id, group in exploded.groupby("types", sort=True):
        # terms end up in word clouds, pictures that cannot be masked afterwards: count them on masked text
        counts = tokenizer.term_counts(mask_series(texts.reindex(group["message_id"]).dropna()))
        for rank, (term, count) in enumerate(counts.head(n).items(), start=1):
            rows.append({"type": type_id, "label": label(type_id), "term": term, "count": int(count), "rank": rank})
    return pd.DataFrame(rows, columns=["type", "label", "term", "count", "rank"])


def term_frequencies(terms: pd.DataFrame, type_id: str) -> dict[str, int]:
    """{term: count} of one type from ``top_terms`` (for a word cloud)."""
    part = terms[terms["type"] == type_id]
    return dict(zip(part["term"], part["count"]))


HANDLING_COLUMNS = ("session_id", "primary", "agent_id", "escalation", "apologized", "empathized",
                    "violations", "violation_categories", "first_apology", "first_violation")


def _joined_in_order(keys: pd.Series, values: pd.Series, sep: str = ";") -> pd.Series:
    """Per key, its distinct values joined by ``sep`` in the order they first occur (one column of
    string arithmetic per position, not a Python call per key)."""
    firsts = pd.DataFrame({"key": keys.to_numpy(), "value": values.to_numpy(dtype=object)}).drop_duplicates()
    wide = firsts.set_index(["key", firsts.groupby("key", sort=False).cumcount()])["value"].unstack()
    joined = wide[0].astype(object) if len(wide.columns) else pd.Series(dtype=object, index=wide.index)
    for position in wide.columns[1:]:
        more = wide[position]
        joined = joined.where(more.isna(), joined + sep + more)
    joined.index.name = keys.name
    return joined


def handling(messages: pd.DataFrame, sessions: pd.DataFrame, hits: pd.DataFrame | None = None) -> pd.DataFrame:
    """How agents handled each complaint session: did an agent apologise, show empathy, and did any
    agent use a forbidden phrase (``hits`` from ``find_violations``; left out when None).

    Evidence: ``first_apology`` (the matched apology text) and ``first_violation`` (rule label: matched).
    """
    messages = as_messages(messages)
    complaints = complaint_sessions(sessions)
    in_scope = messages[messages["session_id"].isin(complaints["session_id"])]
    phrases = find_service_phrases(in_scope, ("apology", "empathy"))
    out = complaints[["session_id", "primary", "agent_id", "escalation"]].set_index("session_id")
    apology = phrases[phrases["purpose"] == "apology"].sort_values(["session_id", "seq"]).drop_duplicates("session_id")
    empathy = phrases[phrases["purpose"] == "empathy"].drop_duplicates("session_id")
    out["apologized"] = out.index.isin(apology["session_id"])
    out["empathized"] = out.index.isin(empathy["session_id"])
    out["first_apology"] = apology.set_index("session_id")["matched"].reindex(out.index)
    if hits is not None:
        scoped = hits[hits["session_id"].isin(out.index)].sort_values(["session_id", "seq", "start"])
        out["violations"] = scoped.drop_duplicates(["message_id", "category"]).groupby("session_id").size() \
            .reindex(out.index).fillna(0).astype(int)
        out["violation_categories"] = _joined_in_order(scoped["session_id"], scoped["category"].astype(str)) \
            .astype(object).reindex(out.index).fillna("")
        first = scoped.drop_duplicates("session_id").set_index("session_id")
        out["first_violation"] = (first["rule_label"].astype(str) + ": " + first["matched"].astype(str)) \
            .reindex(out.index)
    else:
        out["violations"] = pd.NA
        out["violation_categories"] = pd.NA
        out["first_violation"] = pd.NA
    return out.reset_index()[list(HANDLING_COLUMNS)]


def handling_summary(handled: pd.DataFrame, by: str = "primary", taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per ``by`` (primary type or agent_id): complaint sessions, apology rate, empathy rate, and the
    share of sessions with a forbidden phrase."""
    group = handled.groupby(by, observed=True)
    out = pd.DataFrame({"sessions": group.size(), "apology_rate": group["apologized"].mean(),
                        "empathy_rate": group["empathized"].mean()})
    if handled["violations"].notna().any():
        out["violation_rate"] = group["violations"].agg(lambda s: (s > 0).mean())
    if by == "primary":
        label = _label(taxonomy)
        out.insert(0, "label", [label(t) for t in out.index])
    return out.sort_values("sessions", ascending=False)


def example_sessions(messages: pd.DataFrame, sessions: pd.DataFrame, per_type: int = 1,
                     max_messages: int = 12, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Masked transcripts of example complaint sessions, ``per_type`` for each primary type.

    Escalated sessions are preferred (they make the case for training), then the longest; ties by
    session id so reruns pick the same sessions. The text is masked when the table is shown or recorded.
    """
    messages = as_messages(messages)
    label = _label(taxonomy)
    complaints = complaint_sessions(sessions).sort_values(
        ["primary", "escalation", "customer_messages", "session_id"], ascending=[True, False, False, True])
    chosen = complaints.groupby("primary", observed=True).head(per_type)
    rows = []
    texts = transcripts(messages, chosen["session_id"], max_messages)
    for _, s in chosen.iterrows():
        if s["session_id"] not in texts:
            continue
        rows.append({"type": label(s["primary"]), "session_id": s["session_id"], "platform": s["platform"],
                     "escalation": bool(s["escalation"]), "evidence": s["primary_matched"] if isinstance(s["primary_matched"], str) else "",
                     "transcript": texts[s["session_id"]]})
    return pd.DataFrame(rows, columns=["type", "session_id", "platform", "escalation", "evidence", "transcript"])
