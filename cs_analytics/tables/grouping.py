"""Per-group or overall: the one way the statistics tables group rows."""
from __future__ import annotations

import pandas as pd

OVERALL = "_all"


def grouping(data: pd.DataFrame, by) -> tuple[pd.DataFrame, list[str]]:
    """``data`` and the keys to group it by: ``by`` (a column or a list of columns), or, when ``by`` is
    None, one overall group (a helper column ``_all``)."""
    keys = [by] if isinstance(by, str) else list(by or [])
    return (data, keys) if keys else (data.assign(**{OVERALL: "all"}), [OVERALL])


def named_overall(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``table`` with its overall group's index called "all" (an empty table stays empty)."""
    if keys == [OVERALL]:
        table.index = pd.Index(["all"] if len(table) else [], dtype=object)
    return table
