"""The politeness and process checks' vectorised shortcuts against the pandas ways they replaced, on
awkward input: empty, one message, emoji and astral characters, missing texts and times, odd whitespace."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from test_process import tricky_messages

from cs_analytics.base.arrays import python_whitespace, stripped
from cs_analytics.findings import politeness as po
from cs_analytics.findings import session_checks as sc


@pytest.mark.parametrize("ids", [
    [], ["a"], ["a", "a", "b", "c", "c", "c"], ["😀", "😀", "𠀀x", "b"], ["s1", "s10", "s2"],
])
@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_session_codes_are_factorize_on_sorted_ids(ids, dtype):
    column = pd.Series(ids, dtype=dtype)
    codes, uniques = sc.session_codes(column)
    expected_codes, expected = pd.factorize(column, sort=False)
    assert codes.tolist() == expected_codes.tolist()
    assert uniques.dtype == object and uniques.tolist() == list(expected)


@pytest.mark.parametrize("values", [[], ["王"], ["王", "王", "李", "王", "😀", "😀", "𠀀"], ["a", "a"]])
@pytest.mark.parametrize("dtype", ["str", "string", object])
def test_neighbours_differ_is_a_change_of_factorize_code(values, dtype):
    column = pd.Series(values, dtype=dtype)
    codes = pd.factorize(column)[0]
    assert sc.neighbours_differ(column).tolist() == (codes[1:] != codes[:-1]).tolist()


def test_session_codes_with_a_missing_id_fall_back_to_factorize():
    column = pd.Series([None, "a", "a"], dtype="string")
    codes, uniques = sc.session_codes(column)
    expected_codes, expected = pd.factorize(column, sort=False)
    assert codes.tolist() == expected_codes.tolist() and uniques.tolist() == list(expected)


def test_python_whitespace_is_what_str_isspace_holds_for():
    assert python_whitespace() == "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())


def test_stripped_is_str_strip():
    texts = ["  您好 \u3000", "\x1c abc\x1f", "\u00a0x\u2028", None, "", "\u200b y ", "😀 ", " \t\n", "亲~"]
    got = stripped(pa.array(texts, type=pa.large_string())).to_pylist()
    assert got == [None if t is None else t.strip() for t in texts]


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_local_days_are_dt_date(tz):
    times = pd.Series(pd.to_datetime(["2025-10-01 00:30", None, "2025-09-30 23:59", "1969-12-31 23:00",
                                      "2025-10-01 23:59"]).tz_localize(tz))
    day, codes, days = po._local_days(times.array)
    expected = times.dt.date.to_numpy()
    assert [str(d) for d in day] == [str(d) for d in expected]
    assert pd.isna(day[1]) and codes[1] == -1
    assert [days[c] for c in codes if c >= 0] == [d for d in expected if not pd.isna(d)]
    none = po._local_days(times.iloc[:0].array)
    assert len(none[0]) == 0 and len(none[2]) == 0
    missing = po._local_days(times.iloc[[1]].array)
    assert pd.isna(missing[0][0]) and missing[1].tolist() == [-1] and len(missing[2]) == 0


@pytest.mark.parametrize("categorical", [True, False])
def test_hits_where_is_isin_on_the_text(categorical):
    values = ["informal_address", None, "service_taboo", "abuse", "informal_address"]
    column = pd.Series(values, dtype="category" if categorical else object)
    data = sc.SessionData(tricky_messages(), pd.DataFrame({"message_id": ["a2"] * len(values), "category": column}))
    for wanted in (["informal_address"], ["service_taboo", "abuse"], [], ["nan"], ["None"]):
        expected = column.astype(str).isin(wanted).to_numpy()
        assert data.hits_where("category", wanted).tolist() == expected.tolist()


def reference_first_evidence_rows(frame: pd.DataFrame, data: sc.SessionData) -> list[int]:
    """first_evidence's choice as it was: a lexsort by session, pos, then place in frame."""
    codes, pos = frame["code"].to_numpy(), frame["pos"].to_numpy()
    order = np.lexsort((np.arange(len(frame)), pos, codes))
    first = order[np.r_[True, codes[order][1:] != codes[order][:-1]]] if len(order) else order
    chosen = np.full(len(data.session_ids), -1)
    chosen[codes[first]] = first
    shown = chosen[data.judged_codes]
    return [int(frame["row"].iloc[i]) if i >= 0 else -1 for i in shown]


@pytest.mark.parametrize("seed", range(5))
def test_first_evidence_picks_what_the_sort_picked(seed):
    data = sc.SessionData(tricky_messages(), pd.DataFrame(columns=["message_id"]))
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(data.ordered), size=int(rng.integers(0, 40)))
    frame = data.located(pd.DataFrame({"row": rows, "matched": [f"m{i}" for i in range(len(rows))]}))
    out = sc.first_evidence(frame, data.by_code(np.ones(len(data.session_ids), dtype=bool)), data)
    ids = data.ordered["message_id"].to_numpy()
    expected = [ids[r] if r >= 0 else None for r in reference_first_evidence_rows(frame, data)]
    assert [None if pd.isna(v) else v for v in out["message_id"]] == expected
    chosen = reference_first_evidence_rows(frame, data)
    assert out["message_id"].dtype == "string" and out["matched"].dtype == "string"
    assert out["matched"].isna().tolist() == [r < 0 for r in chosen]


def test_complaint_rows_with_and_without_the_batch_s_order():
    data = sc.SessionData(tricky_messages(), pd.DataFrame(columns=["message_id"]))
    ids = list(data.session_ids)
    same = pd.DataFrame({"session_id": ids, "is_complaint": [True] * len(ids)})
    data.complaints = same
    assert data.complaint_rows().tolist() == pd.Index(ids).get_indexer(data.sessions).tolist()
    data.cache.clear()
    data.complaints = same.iloc[::-1].iloc[1:].reset_index(drop=True)     # another order, one session missing
    expected = pd.Index(data.complaints["session_id"]).get_indexer(data.sessions)
    assert data.complaint_rows().tolist() == expected.tolist() and -1 in expected


def test_flags_are_boolean_columns_missing_where_they_do_not_apply():
    data = sc.SessionData(tricky_messages(), pd.DataFrame(columns=["message_id"]))
    n = len(data.session_ids)
    values, applies = np.arange(n) % 2 == 0, np.arange(n) % 3 != 0
    got = data.flags(values, applies)
    expected = pd.Series(np.where(applies, values, None), dtype=object)[data.judged_codes].astype("boolean")
    assert got.dtype == "boolean" and got.index.equals(data.sessions)
    assert got.tolist() == expected.tolist()


def test_repeated_soothing_is_the_groupby_it_replaced():
    """Lines repeated in one session (after str.strip()), not across sessions; emoji and odd blanks."""
    from cs_analytics import process_checks
    from cs_analytics.findings.process import process_spec

    line = "给您带来不便非常抱歉"
    times = int(process_spec()["repeat_soothing_times"])
    rows = []
    for session, texts in {"s1": [line] * (times - 1) + [f"\u3000{line} "], "s2": [line] * (times - 1),
                           "s3": [f"{line}😀"] * times, "s4": [None, "好的"]}.items():
        for i, text in enumerate(texts):
            rows += [{"session_id": session, "seq": 2 * i + 1, "role": "customer", "text": "嗯"},
                     {"session_id": session, "seq": 2 * i + 2, "role": "agent", "text": text, "agent_id": "王"}]
    out = process_checks(pd.DataFrame(rows)).set_index("session_id")
    assert out["repeated_soothing"].tolist() == [True, False, True, False]
    assert out.loc["s1", "repeated_soothing_matched"] == line[:40]
    assert out.loc["s3", "repeated_soothing_matched"] == f"{line}😀"[:40]


def pandas_weighted_mean(values: list[pd.Series], weights: list[float]) -> pd.Series:
    """The scores' weighted mean as pandas computed it (``fillna(0).mul(weights).sum(axis=1) / total``)."""
    frame = pd.DataFrame({i: v for i, v in enumerate(values)})
    weight = pd.DataFrame({i: frame[i].notna() * float(w) for i, w in enumerate(weights)})
    total = weight.sum(axis=1)
    return (frame.fillna(0).mul(weight).sum(axis=1) / total.where(total > 0)).astype(float)


@pytest.mark.parametrize("seed", range(4))
def test_weighted_mean_is_the_pandas_sum_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    n = 5000
    values = []
    for kind in ("rate", "flag", "rate", "flag", "wide", "flag"):
        data = rng.random(n) if kind == "rate" else (rng.random(n) < 0.5).astype(float)
        if kind == "wide":
            data = rng.standard_normal(n) * 10.0 ** rng.integers(-9, 10, size=n)
        values.append(pd.Series(pd.array(np.where(rng.random(n) < 0.3, np.nan, data), dtype="Float64")))
    weights = [15.0, 10.0, 0.0, 5.0, 20.0, 7.0]
    got = sc.weighted_mean(values, weights)
    expected = pandas_weighted_mean(values, weights).to_numpy()
    assert np.array_equal(got, expected, equal_nan=True)
    assert sc.weighted_mean(values, [1.5] * len(values)) is None and sc.weighted_mean([], []) is None


def test_scores_fall_back_to_pandas_with_fractional_weights():
    import copy

    from cs_analytics.findings.process import process_spec

    spec = copy.deepcopy(process_spec())
    checks = pd.DataFrame({k: pd.array([True, False, None], dtype="boolean") for k in spec["checks"]})
    whole = sc.weighted_score(checks, spec)
    for entry in spec["checks"].values():
        entry["weight"] = float(entry["weight"]) * 1.1
    fractional = sc.weighted_score(checks, spec)
    assert np.allclose(whole, fractional, equal_nan=True) and whole.dtype == fractional.dtype == float


def joined_exceptions(msg: np.ndarray, purpose: np.ndarray, start: np.ndarray, end: np.ndarray,
                               lists: int) -> np.ndarray:
    """``_without_exceptions`` as it was: a join of the matches with their list's exceptions in the same message."""
    is_exception = purpose >= lists
    keep = ~is_exception
    if not is_exception.any():
        return keep
    exceptions = pd.DataFrame({"msg": msg[is_exception], "purpose": purpose[is_exception] - lists,
                               "start_exc": start[is_exception], "end_exc": end[is_exception]})
    excepted = np.unique(exceptions["purpose"].to_numpy())
    candidates = np.flatnonzero(keep & np.isin(purpose, excepted) & np.isin(msg, exceptions["msg"].to_numpy()))
    hits = pd.DataFrame({"index": candidates, "msg": msg[candidates], "purpose": purpose[candidates],
                         "start": start[candidates], "end": end[candidates]})
    pairs = hits.merge(exceptions, on=["msg", "purpose"])
    covered = pairs.loc[(pairs["start_exc"] <= pairs["start"]) & (pairs["end_exc"] >= pairs["end"]), "index"]
    keep[covered.to_numpy()] = False
    return keep


@pytest.mark.parametrize("seed", range(6))
def test_exceptions_are_dropped_as_the_join_dropped_them(seed):
    from cs_analytics.findings.service_phrases import _without_exceptions

    rng = np.random.default_rng(seed)
    n, lists = int(rng.integers(0, 300)), 3
    msg = rng.integers(0, 8, size=n)
    purpose = rng.integers(0, 2 * lists, size=n)                 # lists 0..2, their exceptions 3..5
    start = rng.integers(0, 12, size=n)
    end = start + rng.integers(1, 6, size=n)
    assert _without_exceptions(msg, purpose, start, end, lists).tolist() == \
        joined_exceptions(msg, purpose, start, end, lists).tolist()
