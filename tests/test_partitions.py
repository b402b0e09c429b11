"""Findings computed in parts (worker processes, Dask partitions) equal the findings of the whole table."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cs_analytics import analyze, load_logs
from cs_analytics.findings.analyze import FINDINGS
from cs_analytics.findings.partitions import (combine, compute_in_processes, fork_available, part_findings,
                                              partition_of, resolve_workers, sessions_in_order)
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


@pytest.mark.skipif(not fork_available(), reason="worker processes start by fork (Linux only)")
def test_worker_processes_give_the_single_process_findings(sample_load):
    whole = analyze(sample_load.messages, workers=1)
    parallel = analyze(sample_load.messages, workers=2)
    results = tables(compute_in_processes(parallel, 2))
    # runs of sessions do not hold whole buyers: Findings computes the platform metrics itself
    assert "platform_metrics" not in results
    assert_same_findings(whole, results, [name for name in FINDINGS if name != "platform_metrics"])
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


def test_platform_metric_counts_add_up_exactly(sample_load):
    messages = sample_load.messages
    for by in (None, "shop", ["platform", "agent_id"]):
        part = partition_of(messages, 3)
        counts = pd.concat([platform_metric_counts(messages[part == i], by=by) for i in range(3)], ignore_index=True)
        pd.testing.assert_frame_equal(finish_platform_metrics(counts, by=by), platform_metrics(messages, by=by),
                                      check_exact=False, rtol=1e-12)


def test_workers_setting():
    assert resolve_workers("auto", 1_000) == 1
    assert resolve_workers(1, 10_000_000) == 1
    if fork_available():
        assert resolve_workers(2, 10) == 2
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        resolve_workers(0, 10)
