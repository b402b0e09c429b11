"""Buyer PII (phone numbers, ID-card numbers, names and addresses after labels): the one definition of
masking, and cutting that never splits a number.

Masking happens when a value leaves for an output: a table recorded for the workbook and deck
(``export_safe``), a table or line shown in a notebook (``outputs.notebook`` shows every frame through
``export_safe``), a takeaway or summary line (``mask_text``). Tables and findings keep the text as it
is; when they cut a text to an excerpt they use ``excerpt`` / ``cut``, which treat each PII span as
one piece, so no half number survives a cut to slip past the masking. The patterns are data:
resources/pii.yaml.
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd

from . import config
from .layering import load_yaml


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, re.Pattern, str]]:
    spec = load_yaml((config.RESOURCES_DIR / "pii.yaml").read_text(encoding="utf-8"))
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


def _pieces(text: str, masked: bool) -> list[tuple[str, int, int]]:
    """``text`` as (piece, start, end) in order: single characters, and each PII span as one piece
    (its replacement when ``masked``)."""
    pieces, last = [], 0
    for s, e, replacement in pii_spans(text):
        pieces += [(ch, last + i, last + i + 1) for i, ch in enumerate(text[last:s])]
        pieces.append((replacement if masked else text[s:e], s, e))
        last = e
    pieces += [(ch, last + i, last + i + 1) for i, ch in enumerate(text[last:])]
    return pieces


def excerpt(text: str, start: int, end: int, context: int = 12, marks: tuple[str, str] = ("【", "】"),
            masked: bool = False) -> str:
    """``text`` around [start, end) with the span between ``marks`` and up to ``context`` pieces either
    side; a PII span is one piece, so the cut and the marks never split a number (masked when
    ``masked``, else left for the output to mask)."""
    pieces = _pieces(text, masked)
    inside = [i for i, (_, s, e) in enumerate(pieces) if s < end and start < e]
    text_of = lambda part: "".join(p for p, _, _ in part)  # noqa: E731
    if not inside:                                          # an empty span: the start of the text
        return text_of(pieces[:2 * context]) + ("…" if len(pieces) > 2 * context else "")
    first, final = inside[0], inside[-1]
    lo, hi = max(0, first - context), min(len(pieces), final + 1 + context)
    return ("…" if lo else "") + text_of(pieces[lo:first]) + marks[0] + text_of(pieces[first:final + 1]) + \
        marks[1] + text_of(pieces[final + 1:hi]) + ("…" if hi < len(pieces) else "")


def mask_excerpt(text: str, start: int, end: int, context: int = 12, marks: tuple[str, str] = ("【", "】")) -> str:
    """``excerpt`` with the PII masked on the whole text before it is cut."""
    return excerpt(text, start, end, context, marks, masked=True)


def cut(text: object, width: int) -> object:
    """The first ``width`` characters of ``text``, ending before a PII span rather than inside it."""
    if not isinstance(text, str) or len(text) <= width:
        return text
    for s, e, _ in pii_spans(text):
        if s < width < e:
            return text[:s]
    return text[:width]


def mask_series(texts: pd.Series) -> pd.Series:
    """``mask_text`` over a column, once per distinct text (a column of rule labels repeats a few dozen
    texts over a hundred thousand rows). Missing and non-text values stay as they are: only texts are
    looked up, so in a mixed column True never meets 1 nor False 0."""
    if texts.dtype == object:
        is_text = texts.map(lambda v: isinstance(v, str)).astype(bool)
        if not is_text.all():
            out = texts.copy()
            out[is_text] = mask_series(texts[is_text].astype(str))
            return out
    distinct = texts.dropna().unique()
    if len(distinct) == len(texts):
        return texts.map(mask_text, na_action="ignore")
    lookup = pd.Series([mask_text(t) for t in distinct], index=pd.Index(distinct, dtype=object), dtype=object)
    return texts.map(lookup, na_action="ignore")


BUYER_IDENTITY_COLUMNS = ("customer_id", "buyer", "buyer_name", "customer_name")
BUYER_MASK = "[买家账号]"


def export_safe(frame: pd.DataFrame | pd.Series, keep_columns: bool = False) -> pd.DataFrame | pd.Series:
    """A copy of ``frame`` fit to leave for an output (notebook display, workbook, deck): buyer account
    columns are dropped (a buyer's account name identifies a person; blanked instead with
    ``keep_columns``, for a styled table that names its columns) and every text column but the ``*_id``
    keys is masked. A Series is masked when it holds text."""
    if isinstance(frame, pd.Series):
        text = frame.dtype == object or pd.api.types.is_string_dtype(frame)
        return mask_series(frame) if text else frame
    buyers = [c for c in frame.columns if str(c) in BUYER_IDENTITY_COLUMNS]
    out = frame.assign(**{str(c): BUYER_MASK for c in buyers}) if keep_columns else frame.drop(columns=buyers)
    for column in out.columns:
        name = str(column)
        if name.endswith("_id") or name == "id" or name in BUYER_IDENTITY_COLUMNS:
            continue
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = mask_series(out[column])
    return out
