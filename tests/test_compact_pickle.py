"""compact_pickle gives back exactly what plain pickle gives back: same values, dtypes and missing objects."""
from __future__ import annotations

import datetime
import io
import math
import pickle

import numpy as np
import pandas as pd
import pytest

from cs_analytics.base import compact_pickle

DAY = datetime.date(2025, 9, 15)


def round_trip(obj):
    buffer = io.BytesIO()
    compact_pickle.dump(obj, buffer)
    buffer.seek(0)
    return pickle.load(buffer)


def awkward_table(n: int) -> pd.DataFrame:
    """Every kind of column the findings hold, with missing values of each kind."""
    days = [DAY + datetime.timedelta(days=i % 3) for i in range(n)]
    if n > 1:
        days[1] = None
    if n > 2:
        days[2] = float("nan")
    if n > 3:
        days[3] = pd.NaT
    texts = ["好的😊" if i % 2 else "𠮷在" for i in range(n)]
    return pd.DataFrame({
        "week": pd.Series(days, dtype=object),
        "text": pd.Series(texts, dtype=object).where(np.arange(n) % 4 != 1, None),
        "arrow_text": pd.Series(texts, dtype="string[pyarrow]").where(np.arange(n) % 4 != 1),
        "str_text": pd.Series(texts, dtype="str"),
        "kind": pd.Categorical(["refusal", None, "apology"] * (n // 3) + ["refusal"] * (n % 3),
                               categories=["apology", "refusal"]),
        "count": pd.array([i if i % 5 else None for i in range(n)], dtype="Int64"),
        "flag": pd.array([bool(i % 2) if i % 3 else None for i in range(n)], dtype="boolean"),
        "labels": pd.Series([("complaint", "refund") if i % 2 else () for i in range(n)], dtype=object),
        "at": pd.Series(pd.date_range("2025-09-15", periods=n, freq="h", tz="Asia/Shanghai")),
        "seconds": np.arange(n, dtype=float),
    })


def assert_identical(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, expected)
    for column in expected.columns:                  # the missing objects too (None stays None, NaN NaN)
        if expected[column].dtype == object:
            assert [type(v) for v in got[column]] == [type(v) for v in expected[column]], column


@pytest.mark.parametrize("n", [0, 1, 2, 4, 7, 1000])
def test_tables_come_back_as_plain_pickle_gives_them(n):
    table = awkward_table(n)
    if n:
        assert compact_pickle.date_codes(table["week"].to_numpy()) is not None
    assert_identical(round_trip(table), pickle.loads(pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)))
    assert_identical(round_trip(table), table)
    part = table.iloc[n // 2:]                        # a slice of a larger table
    assert_identical(round_trip(part), part)


def test_date_columns_travel_as_codes():
    table = pd.DataFrame({"week": [DAY + datetime.timedelta(weeks=i % 10) for i in range(100_000)]})
    assert len(compact_pickle.dumps(table)) < len(pickle.dumps(table, protocol=pickle.HIGHEST_PROTOCOL)) / 4
    assert_identical(round_trip(table), table)


def test_only_plain_dates_are_encoded():
    """Datetimes in other zones may be equal instants (a distinct-value coding would merge them), dates
    with datetimes or other objects, too many distinct dates: pickled as they are."""
    east = datetime.timezone(datetime.timedelta(hours=8))
    mixed = [
        np.array([datetime.datetime(2025, 1, 1, 8, tzinfo=east), datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)], dtype=object),
        np.array([DAY, datetime.datetime(2025, 9, 15)], dtype=object),
        np.array([DAY, "2025-09-15"], dtype=object),
        np.array([DAY + datetime.timedelta(days=i) for i in range(compact_pickle.MAX_DISTINCT_DATES + 1)], dtype=object),
        np.array([None, math.nan], dtype=object),
        np.array([[DAY, DAY], [DAY, None]], dtype=object).T,          # not C-ordered
    ]
    for values in mixed:
        assert compact_pickle.date_codes(values) is None
        back = round_trip(values)
        assert back.dtype == object and back.shape == values.shape
        assert [type(v) for v in back.ravel()] == [type(v) for v in values.ravel()]
        assert all(a == b or (a is None and b is None) or (a != a and b != b) for a, b in zip(back.ravel(), values.ravel()))
    block = np.array([[DAY, None, DAY], ["a", "b", None]], dtype=object)     # pandas' block of two object columns
    back = round_trip(block)
    assert back.shape == block.shape and back.flags.c_contiguous and back[0, 1] is None and back[1, 2] is None
    assert list(back[0]) == list(block[0]) and list(back[1]) == list(block[1])
    consolidated = awkward_table(50)[["week", "text", "labels"]].copy()
    assert_identical(round_trip(consolidated), consolidated)
    two_d = np.array([[DAY, None], [DAY, DAY]], dtype=object)
    assert compact_pickle.date_codes(two_d) is not None
    back = round_trip(two_d)
    assert back.shape == (2, 2) and back[0, 1] is None and back[1, 1] == DAY
