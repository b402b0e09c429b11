"""Slice the messages table the way notebook parameters ask (platform, shop, date range)."""
from __future__ import annotations

import pandas as pd


def filter_messages(messages: pd.DataFrame, platforms=None, shops=None, date_from=None,
                    date_to=None) -> pd.DataFrame:
    """Messages of the given platforms/shops whose send date is within [date_from, date_to].

    ``platforms``/``shops`` take a name or a list (None keeps all). Dates are inclusive calendar
    days in the messages' timezone; with a date filter, messages without a time are dropped, so an
    export without times raises a clear error instead of returning nothing.
    """
    keep = pd.Series(True, index=messages.index)
    for column, wanted in (("platform", platforms), ("shop", shops)):
        if wanted:
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            keep &= messages[column].isin(wanted)
    if date_from or date_to:
        if not messages["ts"].notna().any():
            raise ValueError("a date range was given but this export has no send times; drop DATE_FROM/DATE_TO")
        day = messages["ts"].dt.tz_localize(None).dt.normalize()
        if date_from:
            keep &= day >= pd.Timestamp(date_from)
        if date_to:
            keep &= day <= pd.Timestamp(date_to)
    return messages[keep.fillna(False)].copy()
