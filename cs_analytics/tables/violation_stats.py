"""Summaries of the hits table for analysts and decks: rates, trends, top phrases, examples.

The unit of every rate is **violations per 1,000 agent messages** of the group (an agent's own
messages for an agent, a platform's agent messages for a platform …), so shops and agents of
different size compare fairly. A *violation* is one message breaking one category: a reply that says
你 three times is one informal-address violation (three hits). Raw hit counts are shown beside it.
``share_flagged`` is the share of the group's agent messages with at least one hit.
Every table is computed from the messages and hits passed in; nothing is cached or assumed.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..base.privacy import excerpt
from ..findings.rulebook import Rulebook, load_rulebook
from ..base.timeparse import week_start
from ..base.schema import as_messages, is_in

PER = 1000


def agent_messages(messages: pd.DataFrame) -> pd.DataFrame:
    """The messages the default rules judge (role ``agent``)."""
    messages = as_messages(messages)
    return messages[messages["role"] == "agent"]


def _agent_rows(messages: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``agent_messages`` with only the columns a rate needs: message_id, the ``keys`` that are message
    columns, and ``week`` (from ts) when a key; a million-row export is not copied whole for a count."""
    wanted = ["message_id", *[k for k in keys if k != "week"], *(["ts"] if "week" in keys else [])]
    base = messages.loc[messages["role"] == "agent", list(dict.fromkeys(wanted))]
    if "week" in keys:
        base = base[base["ts"].notna()].assign(week=lambda f: week_start(f["ts"]))
    return base


def _agent_count(messages: pd.DataFrame) -> int:
    """How many messages the default rules judge (``len(agent_messages(messages))``)."""
    return int((as_messages(messages)["role"] == "agent").sum())




def rate_by(messages: pd.DataFrame, hits: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Violations per 1,000 agent messages for each value of ``by`` (a messages column, or ``week``).

    Columns: agent_messages, hits, violations, flagged_messages, per_1000, share_flagged; largest rate first.
    """
    messages = as_messages(messages)
    keys = [by] if isinstance(by, str) else list(by)
    base = _agent_rows(messages, keys)
    group = base.groupby(keys, dropna=False, observed=True)
    out = pd.DataFrame({"agent_messages": group.size()})
    keyed = hits.merge(base[["message_id", *keys]], on="message_id", how="inner", suffixes=("_hit", ""))
    hit_group = keyed.groupby(keys, dropna=False, observed=True)
    out["hits"] = hit_group.size().reindex(out.index).fillna(0).astype(int)
    violations = keyed.drop_duplicates(["message_id", "category"]).groupby(keys, dropna=False, observed=True).size()
    out["violations"] = violations.reindex(out.index).fillna(0).astype(int)
    out["flagged_messages"] = hit_group["message_id"].nunique().reindex(out.index).fillna(0).astype(int)
    out["per_1000"] = out["violations"] / out["agent_messages"] * PER
    out["share_flagged"] = out["flagged_messages"] / out["agent_messages"]
    return out.sort_values("per_1000", ascending=False)


def category_rates(messages: pd.DataFrame, hits: pd.DataFrame, rulebook: Rulebook | None = None) -> pd.DataFrame:
    """Per category: label, hits, flagged messages (= violations) and violations per 1,000 agent messages."""
    messages = as_messages(messages)
    rulebook = rulebook or load_rulebook()
    total = _agent_count(messages)
    group = hits.groupby("category", observed=True)
    out = pd.DataFrame({"hits": group.size(), "flagged_messages": group["message_id"].nunique()})
    out = out.reindex(list(rulebook.categories), fill_value=0)
    out.insert(0, "label", [rulebook.categories[c]["label"] for c in out.index])
    out["per_1000"] = out["flagged_messages"] / total * PER if total else float("nan")
    out.index.name = "category"
    return out.sort_values("per_1000", ascending=False)


def subcategory_rates(messages: pd.DataFrame, hits: pd.DataFrame, category: str,
                      rulebook: Rulebook | None = None) -> pd.Series:
    """Violations per 1,000 agent messages for each subcategory of ``category``, by subcategory label."""
    messages = as_messages(messages)
    rulebook = rulebook or load_rulebook()
    labels = rulebook.categories[category].get("subcategories", {})
    chosen = hits[hits["category"] == category].drop_duplicates(["message_id", "subcategory"])
    total = _agent_count(messages)
    counts = chosen["subcategory"].astype(str).map(lambda s: labels.get(s, s)).value_counts()
    return (counts / total * PER if total else counts * float("nan")).rename("per_1000")


def _category_label(rulebook):
    categories = rulebook.categories if rulebook is not None else {}
    return lambda c: categories.get(c, {}).get("label", c)


def evasion_summary(hits: pd.DataFrame, rulebook=None) -> pd.DataFrame:
    """Per category: hits, disguised hits (spaces, symbols, 繁体, pinyin, homophones …) and their share;
    with ``rulebook``, the category's label first."""
    group = hits.groupby(hits["category"].astype(str))
    out = pd.DataFrame({"hits": group.size(), "disguised": group["evasion"].sum().astype(int)})
    out["share_disguised"] = out["disguised"] / out["hits"]
    if rulebook is not None:
        out.insert(0, "label", out.index.map(_category_label(rulebook)))
    return out.sort_values("disguised", ascending=False)


def rate_matrix(messages: pd.DataFrame, hits: pd.DataFrame, rows: str, columns: str = "category") -> pd.DataFrame:
    """Violations (distinct message × ``columns`` value) per 1,000 agent messages, with ``rows`` (a
    messages column such as agent_id, or week) down and ``columns`` (a hits column such as category or
    severity) across."""
    messages = as_messages(messages)
    base = _agent_rows(messages, [rows])
    sizes = base.groupby(rows, dropna=False, observed=True).size()
    keyed = hits[["message_id", columns]].drop_duplicates().merge(base[["message_id", rows]], on="message_id", how="inner")
    counts = pd.crosstab(keyed[rows], keyed[columns].astype(str)).reindex(sizes.index, fill_value=0)
    return counts.div(sizes, axis=0) * PER


def rule_summary(hits: pd.DataFrame, rulebook: Rulebook | None = None,
                 messages: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per rule: its label (``rule_label``, what charts and takeaways show) and id, category label, subcategory,
    severity, hits, agents (missing, not 0, when the export names no agent accounts), share of evasions, the
    most frequent matched text (masked) and the phrasing to use instead. Most frequent first. With
    ``messages``, ``per_1000`` is the rule's flagged messages per 1,000 agent messages."""
    rulebook = rulebook or load_rulebook()
    if hits.empty:
        return pd.DataFrame(columns=["rule_label", "rule_id", "label", "subcategory", "severity", "hits", "agents",
                                     "evasion_share", "top_matched", "suggest"])
    frame = hits.assign(rule_id=hits["rule_id"].astype(str))
    group = frame.groupby("rule_id")
    out = pd.DataFrame({
        "hits": group.size(),
        # how many agents used the rule; unknown (<NA>, not 0) when its hits name no agent (no agent accounts)
        "agents": group["agent_id"].nunique().astype("Int64").mask(group["agent_id"].count() == 0),
        "evasion_share": group["evasion"].mean(),
        "top_matched": group["matched"].agg(lambda s: s.value_counts().index[0]),
    })
    rules = {r.id: r for r in rulebook.rules}
    out.insert(0, "label", [rulebook.categories[rules[r].category]["label"] for r in out.index])
    out.insert(1, "subcategory", [rules[r].subcategory for r in out.index])
    out.insert(2, "severity", [rules[r].severity for r in out.index])
    if messages is not None:
        total = _agent_count(messages)
        out.insert(4, "per_1000", group["message_id"].nunique() / total * PER if total else float("nan"))
    out["suggest"] = [rules[r].suggest for r in out.index]
    out = out.sort_values("hits", ascending=False).reset_index()
    out.insert(0, "rule_label", [rules[r].label for r in out["rule_id"]])
    return out


def top_phrases(hits: pd.DataFrame, n: int = 20, rulebook=None) -> pd.DataFrame:
    """The rulebook phrases agents actually used most (regex rules such as PII are left out:
    their matched text is personal data). ``evasions`` counts disguised uses; with ``rulebook``, the
    category's label follows its id."""
    phrases = hits[~hits["phrase"].astype(str).str.startswith("regex:")]
    group = phrases.groupby([phrases["phrase"].astype(str), phrases["category"].astype(str)])
    out = pd.DataFrame({"hits": group.size(), "evasions": group["evasion"].sum()}).reset_index()
    out.columns = ["phrase", "category", "hits", "evasions"]
    if rulebook is not None:
        out.insert(2, "label", out["category"].map(_category_label(rulebook)))
    return out.sort_values("hits", ascending=False).head(n).reset_index(drop=True)


def phrase_frequencies(hits: pd.DataFrame) -> dict[str, int]:
    """{phrase: uses} of the phrases actually used, for a word cloud (no regex/PII matches)."""
    table = top_phrases(hits, n=len(hits) or 1)
    return dict(zip(table["phrase"], table["hits"].astype(int)))


EVIDENCE_COLUMNS = ["message_id", "session_id", "ts", "platform", "shop", "agent_id", "category", "label", "rule_label",
                    "rule_id", "severity", "matched", "start", "end", "evasion", "excerpt", "suggest"]


def _excerpts(texts: pd.Series, starts: pd.Series, ends: pd.Series, context: int) -> np.ndarray:
    """``privacy.excerpt`` of each (text, start, end), cut once per distinct triple (one phrase said in
    the same reply by many agents, or a hit repeated in a long export, is cut once)."""
    keys = pd.DataFrame({"text": texts.to_numpy(dtype=object), "start": starts.to_numpy(), "end": ends.to_numpy()})
    codes, distinct = pd.factorize(pd.MultiIndex.from_frame(keys))
    cut = np.empty(len(distinct), dtype=object)
    for slot, (text, start, end) in enumerate(distinct):        # one per distinct triple, not per hit
        cut[slot] = excerpt(text, int(start), int(end), context)
    return cut[codes]


def _kept(values: pd.Series):
    """A column for a new frame, typed as the frame would infer it from ``values.to_numpy()`` (text as
    ``str``, zone-aware times kept) without the trip through one Python object per value."""
    if not values.notna().any():
        return values.to_numpy()              # all missing: whatever the frame makes of them, as before
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.array
    if isinstance(values.dtype, pd.StringDtype) or (isinstance(values.dtype, pd.CategoricalDtype)
                                                   and isinstance(values.cat.categories.dtype, pd.StringDtype)):
        return values.astype("str").array
    return values.to_numpy()


def evidence(messages: pd.DataFrame, hits: pd.DataFrame, rulebook: Rulebook | None = None, context: int = 12,
             per_rule: int | None = None) -> pd.DataFrame:
    """Every hit as a row of evidence: message id, session, time, platform, shop, agent, category and
    its label, the rule's label and id, severity, the matched text and its span, whether it was a disguised variant,
    the masked excerpt (match in 【】, ``context`` characters either side) and the suggested phrasing.
    Buyer phone numbers, ID numbers, names and addresses are masked in ``matched`` and ``excerpt``.
    ``per_rule`` keeps only the first N hits of each rule (examples)."""
    messages = as_messages(messages)
    rulebook = rulebook or load_rulebook()
    if hits.empty:
        return pd.DataFrame(columns=EVIDENCE_COLUMNS)
    chosen = hits.assign(rule_id=hits["rule_id"].astype(str), category=hits["category"].astype(str))
    if per_rule is not None:
        chosen = chosen.groupby("rule_id", sort=False).head(per_rule)
    context_columns = [c for c in ("session_id", "shop", "text") if c not in chosen.columns or c == "text"]
    hit = messages[is_in(messages["message_id"], chosen["message_id"])]     # the messages hit, first copy of each
    own = hit.drop_duplicates("message_id").set_index("message_id")[context_columns]
    chosen = chosen.join(own, on="message_id")
    labels = {c: spec["label"] for c, spec in rulebook.categories.items()}
    rule_labels = {r.id: r.label for r in rulebook.rules}
    out = pd.DataFrame({
        "message_id": _kept(chosen["message_id"]), "session_id": _kept(chosen["session_id"]),
        "ts": _kept(chosen["ts"]), "platform": chosen["platform"].astype(str).array,
        "shop": _kept(chosen["shop"]), "agent_id": _kept(chosen["agent_id"]),
        "category": chosen["category"].array, "label": _kept(chosen["category"].map(labels)),
        "rule_label": _kept(chosen["rule_id"].map(rule_labels)),
        "rule_id": chosen["rule_id"].array, "severity": chosen["severity"].astype(str).array,
        "matched": _kept(chosen["matched"]),
        "start": chosen["start"].astype(int).to_numpy(), "end": chosen["end"].astype(int).to_numpy(),
        "evasion": chosen["evasion"].astype(bool).to_numpy(),
        "excerpt": _excerpts(chosen["text"], chosen["start"], chosen["end"], context),
        "suggest": _kept(chosen["suggest"]),
    })
    return out


def examples(messages: pd.DataFrame, hits: pd.DataFrame, per_rule: int | None = 1, context: int = 12,
             rulebook: Rulebook | None = None) -> pd.DataFrame:
    """Example hits with context: the match in 【】, up to ``context`` characters either side (a buyer's
    phone number, ID number, name or address is never cut in half: ``privacy.excerpt``), the
    suggestion. ``per_rule=None`` gives every hit (see ``evidence`` for the full evidence table). The
    text is raw evidence: it is masked when it leaves for an output (a notebook shows every frame
    through ``privacy.export_safe``; the workbook and deck record tables through it)."""
    messages = as_messages(messages)
    table = evidence(messages, hits, rulebook, context, per_rule)
    return table[["message_id", "agent_id", "ts", "label", "rule_label", "rule_id", "excerpt", "suggest"]]
