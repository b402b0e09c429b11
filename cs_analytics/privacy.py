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


def mask_text(text: object) -> object:
    """Return ``text`` with phone numbers, ID numbers and labelled names/addresses masked."""
    if not isinstance(text, str):
        return text
    for _, pattern, mask in _patterns():
        text = pattern.sub(mask, text)
    return text


def mask_series(texts: pd.Series) -> pd.Series:
    """``mask_text`` over a column (keeps missing values)."""
    return texts.map(mask_text, na_action="ignore")
