"""The official Chinese work calendar (statutory holidays and 调休 make-up workdays).

Backed by the maintained ``chinesecalendar`` package; dates outside the years it covers are
reported as ``unknown`` rather than guessed.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd

DAY_TYPES = ("workday", "weekend", "holiday", "makeup_workday", "unknown")
DAY_TYPE_LABELS = {"workday": "工作日", "weekend": "周末", "holiday": "法定节假日",
                   "makeup_workday": "调休上班日", "unknown": "日历未覆盖"}


@lru_cache(maxsize=1)
def covered_years() -> tuple[int, int]:
    """First and last year the installed calendar data covers."""
    from chinese_calendar import constants

    days = list(constants.holidays) + list(constants.workdays)
    return min(days).year, max(days).year


@lru_cache(maxsize=4096)
def day_type(day: dt.date) -> str:
    """workday / weekend / holiday (statutory) / makeup_workday (调休) / unknown (outside coverage)."""
    import chinese_calendar

    first, last = covered_years()
    if not first <= day.year <= last:
        return "unknown"
    holiday, name = chinese_calendar.get_holiday_detail(day)
    if holiday:
        return "holiday" if name is not None else "weekend"
    return "makeup_workday" if day.weekday() >= 5 else "workday"


def holiday_name(day: dt.date) -> str | None:
    """The holiday's English name (e.g. 'National Day') on a statutory holiday, else None."""
    import chinese_calendar

    if day_type(day) != "holiday":
        return None
    return chinese_calendar.get_holiday_detail(day)[1]


def day_types(dates: pd.Series) -> pd.Series:
    """``day_type`` for a Series of dates or timestamps (missing stays missing)."""
    return dates.map(lambda d: day_type(d.date() if hasattr(d, "date") else d), na_action="ignore")
