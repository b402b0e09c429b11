"""parse_times' batch shortcuts give what the reference way gives, on awkward input.

The shortcuts: the first format read by NumPy over the whole batch and localised without a Series,
the other values parsed once per distinct value, and results remembered across batches (``known``).
The reference way is ``_parse_in_order`` run on every value, as parse_times did before.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_analytics.base import timeparse
from cs_analytics.ingest.profiles import load_profile

FORMATS = load_profile("generic").time_formats
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "UTC"]
AWKWARD = ["2025-09-15 00:51:06", "2025/09/15 00:51:06", "2025-09-15 00:51", "2025年09月15日 00:51:06",
           "2025-13-45 25:61:00", "2025-02-29 10:00:00", "2024-02-29 10:00:00", "1899-12-31 23:59:59",
           "2100-01-01 00:00:00", "1759284000", "1759284000000", "45931.4166666667", "2025-10-01T02:00:00Z",
           "2025-10-01T10:00:00+08:00", "昨天", "", " ", " 2025-09-15 00:51:06 ", "2025-9-5 1:02:03",
           "2025-10-1\u0660 10:00:00", "😀", None,
           # daylight-saving edges: Shanghai 1986-1991, New York and London in 2025 (gaps and repeats)
           "1986-05-04 02:30:00", "1988-04-10 02:30:00", "1991-09-15 01:30:00", "1991-09-14 23:30:00",
           "2025-03-09 02:30:00", "2025-11-02 01:30:00", "2025-03-30 01:30:00", "2025-10-26 01:30:00",
           "2025-03-09 03:00:00", "2025-11-02 02:00:00"]


def old_way(values: pd.Series, formats: list[str], timezone: str) -> pd.Series:
    """parse_times as before the batch shortcuts: every value through the ordered chain."""
    text = values.astype("string").str.strip().reset_index(drop=True)
    todo = (text.notna() & (text != "")).to_numpy(dtype=bool)
    stamps = np.full(len(text), np.iinfo(np.int64).min, dtype=np.int64)
    stamps[todo] = timeparse._parse_in_order(text[todo].reset_index(drop=True), formats, timezone)
    utc = pd.DatetimeIndex(stamps.view("datetime64[ns]")).tz_localize("UTC")
    return pd.Series(utc.tz_convert(timezone).array, index=values.index)


def same(values: pd.Series, formats: list[str], timezone: str, known: dict | None = None) -> None:
    pd.testing.assert_series_equal(timeparse.parse_times(values, formats, timezone, known),
                                   old_way(values, formats, timezone))


@pytest.mark.parametrize("timezone", ZONES)
@pytest.mark.parametrize("formats", [FORMATS, FORMATS[::-1], ["%d/%m/%Y %H:%M", "%Y-%m-%d"], ["%H:%M"], []])
def test_mixed_formats_bad_values_and_dst_edges_as_before(formats, timezone):
    values = pd.Series(AWKWARD * 3, dtype="string", index=np.arange(len(AWKWARD) * 3) * 7 + 5)
    same(values, formats, timezone)
    same(values, formats, timezone, {})


@pytest.mark.parametrize("values", [[], [None], [""], ["2025-13-45 25:61:00"] * 5, ["昨天", None, " ", "xx"],
                                    ["2025-09-15 00:51:06"], ["2025-09-15 00:51:06"] * 4 + [None]])
def test_empty_all_bad_and_all_good_batches_as_before(values):
    series = pd.Series(values, dtype="string")
    same(series, FORMATS, "Asia/Shanghai")
    same(series, FORMATS, "Asia/Shanghai", {})


def test_remembered_values_reused_only_for_their_formats_and_zone():
    known: dict = {}
    batch = pd.Series(["2025-13-45 25:61:00", "2025-09-15 00:51:06", "2025-11-02 01:30:00", "1759284000"] * 2,
                      dtype="string")
    for formats, zone in [(FORMATS, "Asia/Shanghai"), (FORMATS, "America/New_York"), ([], "Asia/Shanghai"),
                          (FORMATS, "Asia/Shanghai")]:
        same(batch, formats, zone, known)
    assert set(known) == {(tuple(FORMATS), "Asia/Shanghai"), (tuple(FORMATS), "America/New_York"),
                          ((), "Asia/Shanghai")}


def test_arrow_values_not_laid_end_to_end():
    """Sliced, chunked and null-holding Arrow columns (the NumPy reader gathers rows then)."""
    good = ["2025-09-15 00:51:06", "2025-09-16 10:00:00", "2025-09-17 23:59:59"]
    chunked = pa.chunked_array([pa.array(["x", *good], pa.large_string()).slice(1),
                                pa.array([None, good[0], "2025-02-30 10:00:00"], pa.large_string())])
    for column in (chunked, pa.chunked_array([pa.array(good * 2, pa.large_string()).slice(2, 3)])):
        same(pd.Series(pd.arrays.ArrowStringArray(column)), FORMATS, "Asia/Shanghai")


def test_values_passed_as_objects_or_python_strings():
    for dtype in (object, "string", pd.StringDtype("python")):
        same(pd.Series(AWKWARD, dtype=dtype), FORMATS, "Asia/Shanghai", {})


def time_text():
    digits = lambda n: st.integers(0, 10 ** n - 1).map(lambda v: f"{v:0{n}d}")  # noqa: E731
    year = st.one_of(st.sampled_from(["1899", "1900", "1986", "1991", "2025", "2099", "2100"]), digits(4))
    two = st.one_of(st.sampled_from(["00", "01", "02", "03", "12", "13", "23", "24", "29", "30", "31", "59", "60"]),
                    digits(2), st.integers(1, 9).map(str))
    sep = st.sampled_from(["-", "/", ":", " ", ""])
    parts = st.tuples(year, sep, two, sep, two, st.sampled_from([" ", "T"]), two, st.just(":"), two,
                      st.sampled_from([":", ""]), st.one_of(two, st.just("")))
    return st.one_of(parts.map("".join), st.sampled_from(["", " ", "昨天", "1759284010", "45000", "2025-10-01T10:00Z"]))


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.lists(st.one_of(time_text(), st.none()), max_size=40), min_size=1, max_size=3),
       timezone=st.sampled_from(ZONES))
def test_batches_sharing_what_is_known_as_before(batches, timezone):
    known: dict = {}
    for values in batches:
        series = pd.Series(values, dtype="string")
        try:
            expected = old_way(series, FORMATS, timezone)
        except Exception as exc:  # noqa: BLE001   pandas' general parser fails on some odd text: so must we
            with pytest.raises(type(exc)):
                timeparse.parse_times(series, FORMATS, timezone, known)
            continue
        pd.testing.assert_series_equal(timeparse.parse_times(series, FORMATS, timezone, known), expected)
