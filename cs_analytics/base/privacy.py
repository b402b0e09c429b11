"""Mask buyer PII (phone numbers, ID-card numbers, names and addresses after labels) in any excerpt.

One function, ``mask_text``, is used for every excerpt the product shows or exports. The patterns
are data: resources/pii.yaml.
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
import yaml

from . import config


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern, str]]:
    spec = yaml.safe_load((config.RESOURCES_DIR / "pii.yaml").read_text(encoding="utf-8"))
    return [(p["id"], re.compile(p["regex"]), p["mask"]) for p in spec["patterns"]]


def pii_spans(text: str) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, replacement) of the PII in ``text``; earlier patterns win overlaps."""
    found: list[tuple[int, int, str]] = []
    for _, pattern, mask in _patterns():
        for m in pattern.finditer(text):
            if not any(m.start() < e and s < m.end() for s, e, _ in found):
                found.append((m.start(), m.end(), m.expand(mask)))
    return sorted(found)


def mask_text(text: object) -> object:
    """Return ``text`` with phone numbers, ID numbers and labelled names/addresses masked."""
    if not isinstance(text, str):
        return text
    out, last = [], 0
    for start, end, replacement in pii_spans(text):
        out += [text[last:start], replacement]
        last = end
    return "".join(out) + text[last:]


def mask_excerpt(text: str, start: int, end: int, context: int = 12, marks: tuple[str, str] = ("【", "】")) -> str:
    """``text`` around [start, end) with the span between ``marks`` and up to ``context`` characters
    either side, PII masked on the whole text before it is cut (so a half-cut number cannot slip by)."""
    pieces, last = [], 0        # (masked piece, is it inside the marked span)
    for s, e, replacement in pii_spans(text):
        pieces += [(ch, start <= last + i < end) for i, ch in enumerate(text[last:s])]
        pieces.append((replacement, s < end and start < e))
        last = e
    pieces += [(ch, start <= last + i < end) for i, ch in enumerate(text[last:])]
    inside = [i for i, (_, marked) in enumerate(pieces) if marked]
    text_of = lambda part: "".join(p for p, _ in part)  # noqa: E731
    if not inside:                                          # an empty span: the start of the text
        return text_of(pieces[:2 * context]) + ("…" if len(pieces) > 2 * context else "")
    first, final = inside[0], inside[-1]
    lo, hi = max(0, first - context), min(len(pieces), final + 1 + context)   # a mask token is one piece
    return ("…" if lo else "") + text_of(pieces[lo:first]) + marks[0] + text_of(pieces[first:final + 1]) + \
        marks[1] + text_of(pieces[final + 1:hi]) + ("…" if hi < len(pieces) else "")


def mask_series(texts: pd.Series) -> pd.Series:
    """``mask_text`` over a column (keeps missing values)."""
    return texts.map(mask_text, na_action="ignore")


ROLE_LABELS = {"customer": "买家", "agent": "客服", "bot": "机器人", "system": "系统"}


def masked_transcripts(messages: pd.DataFrame, session_ids, max_messages: int | None = None) -> dict[str, str]:
    """Session id → its messages in order as "买家: …" / "客服: …" lines, every line PII-masked;
    longer sessions are cut after ``max_messages`` lines with a "… (+N)" line."""
    wanted = set(session_ids)
    ordered = messages[messages["session_id"].isin(wanted)].sort_values(["session_id", "seq"], kind="stable")
    out = {}
    for sid, part in ordered.groupby("session_id", sort=False):
        lines = [f"{ROLE_LABELS.get(r, r)}: {mask_text(t)}" for r, t in zip(part["role"], part["text"])]
        if max_messages is not None and len(lines) > max_messages:
            lines = lines[:max_messages] + [f"… (+{len(lines) - max_messages})"]
        out[sid] = "\n".join(lines)
    return out


BUYER_IDENTITY_COLUMNS = ("customer_id", "buyer", "buyer_name", "customer_name")


def export_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` fit to leave the notebook (workbook, deck): buyer account columns are dropped
    (a buyer's account name identifies a person) and every text column but the ``*_id`` keys is masked."""
    out = frame.drop(columns=[c for c in frame.columns if str(c) in BUYER_IDENTITY_COLUMNS])
    for column in out.columns:
        name = str(column)
        if name.endswith("_id") or name == "id":
            continue
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = mask_series(out[column])
    return out
