"""Findings computed in parts (worker processes, Dask partitions) equal the findings of the whole table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cs_analytics import analyze, load_logs
from cs_analytics.findings.analyze import FINDINGS
from cs_analytics.findings.partitions import (combine, compute_in_processes, concat_parts, first_share, fork_available,
                                              part_findings, partition_of, resolve_workers, session_runs,
                                              session_starts, sessions_in_order)
from cs_analytics.findings.timing import finish_platform_metrics, platform_metric_counts, platform_metrics

from shapes import SHAPES, shaped_export, write_export


def assert_same_findings(whole, parted: dict, names=FINDINGS) -> None:
    """Every finding (of ``names``) of ``parted`` equals the whole table's, row for row (seconds summed
    across parts may differ in the last bit, hence rtol)."""
    for name in names:
        expected = getattr(whole, name)
        if expected is None:
            assert parted.get(name) is None, name
            continue
        pd.testing.assert_frame_equal(parted[name], expected, check_exact=False, rtol=1e-12, obj=name)


def tables(results: dict) -> dict:
    """``compute_in_processes``' results as tables (the workers' parts combined now)."""
    return {name: value() if callable(value) else value for name, value in results.items()}


def by_key(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s rows in the order of all their values (for findings whose order the input's order sets)."""
    order = frame.astype(str).sort_values(list(frame.columns), kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def test_partition_keeps_sessions_and_buyers_whole(sample_load):
    messages = sample_load.messages
    part = partition_of(messages, 4)
    assert set(np.unique(part)) == {0, 1, 2, 3}
    frame = messages.assign(part=part)
    assert (frame.groupby("session_id")["part"].nunique() == 1).all()
    buyers = frame.dropna(subset=["customer_id"])
    assert (buyers.groupby(["shop", "customer_id"])["part"].nunique() == 1).all()
    # the same parts in any row order and on every run (a fixed-key hash, not Python's salted hash)
    shuffled = messages.sample(frac=1, random_state=3)
    assert (partition_of(shuffled, 4) == pd.Series(part, index=messages.index).loc[shuffled.index].to_numpy()).all()


def test_partition_sizes_are_balanced(sample_load):
    counts = np.bincount(partition_of(sample_load.messages, 2))
    assert counts.min() / counts.max() > 0.8


def test_parts_combine_to_the_whole(sample_load):
    messages = sample_load.messages
    whole = analyze(messages, workers=1)
    part = partition_of(messages, 3)
    parts = [part_findings(whole.part(np.flatnonzero(part == i)), rows=np.flatnonzero(part == i)) for i in range(3)]
    assert_same_findings(whole, combine(parts, whole.recipes))


def test_shuffled_input_parts_combine_to_the_whole_by_key(sample_load):
    """Rows in any order: the same findings, row for row once sorted (a shuffled table's findings come
    in an order that depends on the shuffle; the loader's session order gives one order, above)."""
    messages = sample_load.messages.sample(frac=1, random_state=11).reset_index(drop=True)
    whole = analyze(messages, workers=1)
    part = partition_of(messages, 2)
    parts = [part_findings(whole.part(np.flatnonzero(part == i))) for i in range(2)]
    combined = combine(parts, whole.recipes)
    for name in FINDINGS:
        if getattr(whole, name) is not None:
            pd.testing.assert_frame_equal(by_key(combined[name]), by_key(getattr(whole, name)),
                                          check_exact=False, rtol=1e-12, obj=name)


def test_unordered_input_is_computed_in_one_process(sample_load):
    shuffled = sample_load.messages.sample(frac=1, random_state=2).reset_index(drop=True)
    assert not sessions_in_order(shuffled) and sessions_in_order(sample_load.messages)
    assert resolve_workers(2, len(shuffled), shuffled) == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_combines(shape, tmp_path):
    messages = load_logs(write_export(shaped_export(shape, sessions=25), tmp_path / "x.csv"), progress=False).messages
    whole = analyze(messages, workers=1)
    part = partition_of(messages, 2)
    parts = [part_findings(whole.part(np.flatnonzero(part == i)), rows=np.flatnonzero(part == i)) for i in range(2)]
    assert_same_findings(whole, combine(parts, whole.recipes))


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_combines_from_runs_of_sessions(shape, tmp_path):
    """The two-process path's parts: runs of consecutive sessions laid end to end (no reordering); the
    platform metrics are computed from the whole table."""
    messages = load_logs(write_export(shaped_export(shape, sessions=25), tmp_path / "x.csv"), progress=False).messages
    whole = analyze(messages, workers=1)
    parts = [part_findings(whole.part(run), [n for n in FINDINGS if n != "platform_metrics"])
             for run in session_runs(messages, [0.45, 0.55])]
    combined = combine(parts, whole.recipes)
    assert "platform_metrics" not in combined
    assert_same_findings(whole, combined, [name for name in FINDINGS if name != "platform_metrics"])


def test_parts_whose_columns_depend_on_what_they_hold_are_aligned():
    """A check's evidence columns are left out where a part had nothing to show; a column of only missing
    values is an object column: the combined table has every column, in place, typed by the values."""
    full = pd.DataFrame({"session_id": ["b1"], "check": pd.array([True], dtype="boolean"),
                         "check_message_id": pd.array(["m1"], dtype="string[pyarrow]"),
                         "primary_message_id": pd.Series(["m1"], dtype="str"), "count": [3], "score": [1.5]})
    bare = pd.DataFrame({"session_id": ["a1", "a2"], "check": pd.array([None, False], dtype="boolean"),
                         "primary_message_id": pd.Series([None, None], dtype=object), "count": [1, 2],
                         "score": [0.5, np.nan]})
    whole = pd.DataFrame({"session_id": ["a1", "a2", "b1"], "check": pd.array([None, False, True], dtype="boolean"),
                          "check_message_id": pd.array([None, None, "m1"], dtype="string[pyarrow]"),
                          "primary_message_id": pd.Series([None, None, "m1"], dtype="str"), "count": [1, 2, 3],
                          "score": [0.5, np.nan, 1.5]})
    pd.testing.assert_frame_equal(concat_parts([bare, full]), whole)
    pd.testing.assert_frame_equal(concat_parts([full.iloc[:0], bare, full]), whole)       # an empty part
    same = concat_parts([full, full])
    assert list(same.columns) == list(full.columns) and same.dtypes.equals(full.dtypes)


def test_session_runs_cut_at_session_starts(sample_load):
    messages = sample_load.messages
    starts = set(session_starts(messages["session_id"]))
    for shares in ([0.5, 0.5], [0.45, 0.55], [0.3, 0.3, 0.4], [0.0, 1.0]):
        runs = session_runs(messages, shares)
        assert len(runs) == len(shares) and runs[0].start == 0 and runs[-1].stop == len(messages)
        assert all(a.stop == b.start for a, b in zip(runs[:-1], runs[1:]))
        assert all(run.start in starts or run.start == len(messages) for run in runs)
        sizes = np.array([run.stop - run.start for run in runs]) / len(messages)
        assert np.abs(sizes - np.array(shares)).max() < 0.02             # sessions are short against the sample
        part = np.repeat(np.arange(len(runs)), [run.stop - run.start for run in runs])
        assert (messages.assign(part=part).groupby("session_id")["part"].nunique() == 1).all()
    one_session = messages[messages["session_id"] == messages["session_id"].iloc[0]]
    assert [r.stop - r.start for r in session_runs(one_session, [0.5, 0.5])] in ([0, len(one_session)], [len(one_session), 0])
    assert session_runs(messages.iloc[:0], [0.5, 0.5]) == [slice(0, 0), slice(0, 0)]
    assert list(session_starts(messages["session_id"].iloc[:1])) == [0]


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "string[python]", object])
def test_session_order_and_starts_agree_with_pandas(dtype):
    """Text ids are compared in Arrow (UTF-8 bytes): the same order as Python's code points, astral
    characters included (UTF-16 would put U+FFFF after them)."""
    for ids in (["a", "a", "b"], ["b", "a"], ["\uffff", "😀", "😀"], ["😀", "\uffff"], ["x", None, "y"], ["s1"], [],
                ["会话1", "会话1", "会话2", "会话10"]):
        column = pd.Series(ids, dtype=dtype)
        expected = bool(column.notna().all() and column.is_monotonic_increasing)
        assert sessions_in_order(pd.DataFrame({"session_id": column})) == expected, ids
        if column.notna().all():
            values = column.to_numpy(dtype=object)
            assert list(session_starts(column)) == [0, *[i for i in range(1, len(values)) if values[i] != values[i - 1]]][:len(values)]
    assert not sessions_in_order(pd.DataFrame({"session_id": [10, 9]}))
    assert sessions_in_order(pd.DataFrame({"session_id": [9, 10, 10]}))
    assert list(session_starts(pd.Series([9, 10, 10]))) == [0, 1]


def test_first_share_leaves_room_for_the_metrics(sample_load):
    from cs_analytics.findings.partitions import METRICS_SHARE, merging_share
    from cs_analytics.findings.timing import load_recipes

    assert first_share(2) == 0.5
    assert first_share(2, 0.04) == pytest.approx(0.48)
    first = first_share(3, 0.04)
    assert first + 0.04 == pytest.approx((1 - first) / 2)      # this process: its part and the metrics
    messages, recipes = sample_load.messages, load_recipes()
    jd = (messages["platform"] == "jd").mean()                  # the platform whose recipes join sessions
    assert merging_share(messages, recipes) == pytest.approx(METRICS_SHARE * jd)
    assert merging_share(messages[messages["platform"] != "jd"], recipes) == 0.0
    assert merging_share(messages.iloc[:0], recipes) == 0.0


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_two_processes_with_one_session(sample_load):
    """One session: one of the two runs is empty."""
    messages = sample_load.messages
    one = messages[messages["session_id"] == messages["session_id"].iloc[0]].reset_index(drop=True)
    whole = analyze(one, workers=1)
    parted = analyze(one, workers=2).compute()
    assert_same_findings(whole, {name: getattr(parted, name) for name in FINDINGS})


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_worker_processes_give_the_single_process_findings(sample_load):
    whole = analyze(sample_load.messages, workers=1)
    parallel = analyze(sample_load.messages, workers=2)
    results = tables(compute_in_processes(parallel, 2))
    # runs of sessions do not hold whole buyers: their metric units are combined with the joined sessions'
    pd.testing.assert_frame_equal(results["platform_metrics"], whole.platform_metrics)
    assert_same_findings(whole, results)
    parallel.compute()
    assert set(parallel.computed()) == set(FINDINGS)
    assert_same_findings(whole, {name: getattr(parallel, name) for name in FINDINGS})


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_a_table_larger_than_a_part_is_computed_in_more_parts(sample_load, monkeypatch):
    from cs_analytics.findings import partitions

    monkeypatch.setattr(partitions, "PART_MESSAGES", 5_000)          # the sample: 6 parts on 2 workers
    whole = analyze(sample_load.messages, workers=1)
    assert_same_findings(whole, tables(compute_in_processes(analyze(sample_load.messages, workers=2), 2)))


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_the_workers_parts_are_read_when_asked_and_their_folder_goes(sample_load, monkeypatch):
    import gc
    import glob
    import tempfile

    from cs_analytics.findings import partitions

    monkeypatch.setattr(partitions, "PART_MESSAGES", 10_000)
    before = set(glob.glob(f"{tempfile.gettempdir()}/cs-analytics-parts-*"))
    found = analyze(sample_load.messages, workers=2).compute()
    folders = set(glob.glob(f"{tempfile.gettempdir()}/cs-analytics-parts-*")) - before
    assert len(folders) == 1 and "hits" not in found.__dict__, "the tables are combined when first asked for"
    whole = analyze(sample_load.messages, workers=1)
    pd.testing.assert_frame_equal(found.hits, whole.hits)
    assert not glob.glob(f"{next(iter(folders))}/hits-*"), "each part file is read once"
    assert_same_findings(whole, {name: getattr(found, name) for name in FINDINGS})
    del found
    gc.collect()
    assert not any(Path(folder).exists() for folder in folders)


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_parts_without_times_or_with_only_some_findings(sample_load, monkeypatch):
    from cs_analytics.findings import partitions

    monkeypatch.setattr(partitions, "PART_MESSAGES", 10_000)
    untimed = sample_load.messages.assign(ts=pd.NaT)
    whole = analyze(untimed, workers=1)
    parted = analyze(untimed, workers=2).compute()
    assert_same_findings(whole, {name: getattr(parted, name) for name in FINDINGS})
    some = analyze(sample_load.messages, workers=2).compute(["owners", "platform_metrics"])
    assert set(some.computed()) == {"owners", "platform_metrics"}
    pd.testing.assert_frame_equal(some.owners, analyze(sample_load.messages, workers=1).owners)


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_runs_of_sessions_with_only_some_findings(sample_load):
    """The platform metrics need the combined reply rounds: the parts compute those too, but only the
    findings asked for are kept."""
    whole = analyze(sample_load.messages, workers=1)
    metrics = analyze(sample_load.messages, workers=2).compute(["platform_metrics"])
    assert metrics.computed() == ["platform_metrics"]
    pd.testing.assert_frame_equal(metrics.platform_metrics, whole.platform_metrics)
    both = analyze(sample_load.messages, workers=2).compute(["reply_rounds", "platform_metrics", "hits"])
    assert set(both.computed()) == {"reply_rounds", "platform_metrics", "hits"}
    for name in ("reply_rounds", "platform_metrics", "hits"):
        pd.testing.assert_frame_equal(getattr(both, name), getattr(whole, name), obj=name)


def _metrics_of_runs(messages: pd.DataFrame, shares, recipes: dict, by=None) -> pd.DataFrame:
    """The platform metrics as the runs path computes them: each run's units of the recipes judged within
    sessions, laid end to end, and the recipes that join a buyer's sessions on the whole table."""
    from cs_analytics.base.timeparse import has_times
    from cs_analytics.findings.timing import (
        concat_units,
        count_units,
        platform_metric_units,
        reply_rounds,
    )

    parts = []
    for run in session_runs(messages, shares):
        part = messages.iloc[run].reset_index(drop=True)
        if has_times(part):
            parts.append(platform_metric_units(part, recipes, by=by, rounds=reply_rounds(part), merging=False))
    units = {**concat_units(parts), **platform_metric_units(messages, recipes, by=by, merging=True)}
    return finish_platform_metrics(count_units(units, recipes, by=by), recipes, by=by)


def test_metric_units_of_runs_of_sessions_give_the_whole_tables_metrics(sample_load):
    """Exactly (no tolerance), with fractional seconds (a mean's float sum in the same order), a recipe
    counting bots, a mean without joined sessions, a session of two platforms (so only some runs take
    their rounds from the whole rounds), runs without times, an empty run, and groups."""
    import copy

    from cs_analytics.findings.timing import load_recipes, reply_rounds

    recipes = copy.deepcopy(load_recipes())
    unmerged = copy.deepcopy(next(r for r in recipes["recipes"] if r["id"] == "jd_mean_response"))
    unmerged.update(id="jd_mean_unmerged", platforms=["jd", "taobao"], count_bots=True)
    del unmerged["session_merge_gap_s"], unmerged["window"]
    recipes["recipes"].append(unmerged)
    messages = sample_load.messages
    rng = np.random.default_rng(7)
    fractional = messages.assign(ts=messages["ts"] + pd.to_timedelta(rng.integers(0, 1000, len(messages)), unit="ms"))
    mixed = fractional.copy()
    mixed.loc[mixed.index[-3], "platform"] = "pdd" if mixed["platform"].iloc[-3] != "pdd" else "jd"
    untimed = fractional.assign(ts=fractional["ts"].where(np.arange(len(messages)) > len(messages) // 3))
    cases = {"fractional": fractional, "mixed platforms": mixed, "partly untimed": untimed,
             "one session": messages[messages["session_id"] == messages["session_id"].iloc[0]].reset_index(drop=True)}
    for label, table in cases.items():
        for shares in ([0.5, 0.5], [0.2, 0.3, 0.5], [0.0, 1.0], [0.3, 0.0, 0.7]):
            for by in (None, "shop", ["platform", "agent_id"]):
                expected = platform_metrics(table, recipes, by=by, rounds=reply_rounds(table))
                pd.testing.assert_frame_equal(_metrics_of_runs(table, shares, recipes, by), expected,
                                              obj=f"{label} {shares} {by}")


def test_platform_metric_counts_add_up_exactly(sample_load):
    messages = sample_load.messages
    for by in (None, "shop", ["platform", "agent_id"]):
        part = partition_of(messages, 3)
        counts = pd.concat([platform_metric_counts(messages[part == i], by=by) for i in range(3)], ignore_index=True)
        pd.testing.assert_frame_equal(finish_platform_metrics(counts, by=by), platform_metrics(messages, by=by),
                                      check_exact=False, rtol=1e-12)


def test_arrow_allocates_from_the_c_heap_while_parts_are_computed_and_the_pool_comes_back(sample_load, monkeypatch):
    import pyarrow as pa

    from cs_analytics.findings import partitions

    before = pa.default_memory_pool().backend_name
    seen = []
    run_part = partitions._run_part
    monkeypatch.setattr(partitions, "_run_part", lambda index: seen.append(pa.default_memory_pool().backend_name)
                        or run_part(index))
    messages = sample_load.messages.iloc[:3000].reset_index(drop=True)
    if fork_available():
        compute_in_processes(analyze(messages, workers=2), 2, ["owners"])
        assert seen == ["system"]
    assert pa.default_memory_pool().backend_name == before
    with pytest.raises(RuntimeError), partitions.arrow_from_c_heap():
        raise RuntimeError("a part failed")
    assert pa.default_memory_pool().backend_name == before


def test_objects_are_frozen_for_the_fork_and_let_go_after_unless_frozen_already():
    import gc

    from cs_analytics.findings import partitions

    assert gc.get_freeze_count() == 0
    with partitions.gc_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), partitions.gc_frozen():
        raise RuntimeError("a part failed")
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with partitions.gc_frozen():
            pass
        assert gc.get_freeze_count() == frozen            # someone else's freeze is kept
    finally:
        gc.unfreeze()


def test_workers_setting():
    assert resolve_workers("auto", 1_000) == 1
    assert resolve_workers(1, 10_000_000) == 1
    if fork_available():
        assert resolve_workers(2, 10) == 2
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        resolve_workers(0, 10)
