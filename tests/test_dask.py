"""The Dask path: a converted dataset analysed on a multi-process LocalCluster gives the pandas path's
findings, table for table; the dataset keeps sessions and buyers whole and carries its load report."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from cs_analytics import analyze, generate_sample, load_logs
from cs_analytics.findings.analyze import FINDINGS, Findings
from cs_analytics.findings.distributed import analyze_dataset, cluster_response_summary
from cs_analytics.ingest.dataset import dataset_files, dataset_manifest, read_dataset, write_dataset
from cs_analytics.ingest.load import LoadError

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    folder = tmp_path_factory.mktemp("generated")
    generate_sample(400, seed=99).export.to_csv(folder / "export.csv", index=False, encoding="gb18030")
    return load_logs(folder / "export.csv", progress=False)


def assert_same(expected: Findings, found: Findings) -> None:
    for name in FINDINGS:
        want = getattr(expected, name)
        if want is None:
            assert getattr(found, name) is None, name
            continue
        pd.testing.assert_frame_equal(getattr(found, name), want, check_exact=False, rtol=1e-12, obj=name)


def test_dataset_round_trip_keeps_sessions_and_buyers_whole(sample_load, tmp_path):
    write_dataset(sample_load, tmp_path / "ds", rows_per_file=3000)
    manifest = dataset_manifest(tmp_path / "ds")
    assert len(manifest["files"]) > 5 and sum(f["rows"] for f in manifest["files"]) == len(sample_load.messages)
    back = read_dataset(tmp_path / "ds")
    pd.testing.assert_frame_equal(back.messages, sample_load.messages)
    assert back.report.rows_read == sample_load.report.rows_read == back.report.rows_kept + back.report.rows_quarantined
    assert len(back.quarantine) == len(sample_load.quarantine)
    where = pd.concat([pd.read_parquet(f, columns=["session_id", "shop", "customer_id"]).assign(file=str(f))
                       for f in dataset_files(tmp_path / "ds")])
    assert where.groupby("session_id")["file"].nunique().max() == 1
    month_of = where["file"].str.extract(r"(platform=[^/]+/month=[^/]+)")[0]
    buyers = where.assign(group=month_of).dropna(subset=["customer_id"])
    assert buyers.groupby(["group", "shop", "customer_id"])["file"].nunique().max() == 1


def test_convert_refuses_a_folder_in_use(sample_load, tmp_path):
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "notes.txt").write_text("mine")
    with pytest.raises(LoadError, match="not empty"):
        write_dataset(sample_load, tmp_path / "ds")
    with pytest.raises(LoadError, match="cs-analytics convert"):
        dataset_files(tmp_path / "ds")


def test_dask_engine_needs_a_dataset(sample_load):
    with pytest.raises(ValueError, match="dataset folder"):
        analyze(sample_load.messages, engine="dask")


def test_sample_on_two_workers_equals_pandas(sample_load, client, tmp_path):
    write_dataset(sample_load, tmp_path / "ds", rows_per_file=2500)
    assert_same(analyze(sample_load.messages, workers=1), analyze(tmp_path / "ds", engine="dask", client=client))


def test_generated_on_two_workers_equals_pandas(generated, client, tmp_path):
    write_dataset(generated, tmp_path / "ds", rows_per_file=800)
    assert_same(analyze(generated.messages, workers=1), analyze(tmp_path / "ds", engine="dask", client=client))


def test_findings_written_by_workers_read_back(generated, client, tmp_path):
    write_dataset(generated, tmp_path / "ds", rows_per_file=800)
    written = analyze_dataset(tmp_path / "ds", client=client, out=tmp_path / "findings")
    assert_same(analyze(generated.messages, workers=1), written)     # read from the workers' files
    assert "_messages" not in written.__dict__, "nothing recomputed from the dataset's messages"
    manifest = json.loads((tmp_path / "findings" / "findings.json").read_text(encoding="utf-8"))
    assert manifest["computed_on"] == "dask" and (tmp_path / "findings" / "hits").is_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # read as stored, not recomputed ("computing them here")
        stored = Findings.read(tmp_path / "findings", generated.messages)
    assert_same(analyze(generated.messages, workers=1), stored)


def test_cluster_summary_counts_exact_percentiles_bounded(generated, client, tmp_path):
    write_dataset(generated, tmp_path / "ds", rows_per_file=800)
    analyze_dataset(tmp_path / "ds", client=client, out=tmp_path / "findings")
    summary = cluster_response_summary(tmp_path / "findings", client=client).set_index("platform")
    rounds = analyze(generated.messages, workers=1).reply_rounds
    answered = rounds.dropna(subset=["response_s"])
    for platform, row in summary.iterrows():
        mine = rounds[rounds["platform"] == platform]
        times = answered.loc[answered["platform"] == platform, "response_s"]
        assert row["rounds"] == len(mine) and row["answered"] == len(times)          # exact
        assert row["mean_s"] == pytest.approx(times.mean(), rel=1e-12)               # exact
        for q, column in ((0.5, "median_s"), (0.9, "p90_s")):                        # approximate, bounded
            low, high = np.quantile(times, [max(q - 0.05, 0), min(q + 0.05, 1)])
            assert low <= row[column] <= high, (platform, column, row[column], low, high)


def test_report_on_the_cluster_reads_the_workers_findings(sample_load, client, tmp_path):
    from cs_analytics.outputs.report import notebook_paths, run_report

    write_dataset(sample_load, tmp_path / "ds", rows_per_file=5000)
    book = [p for p in notebook_paths() if p.name.startswith("02_")]
    result = run_report(tmp_path / "ds", tmp_path / "run", notebooks=book, engine="dask",
                        scheduler=client.scheduler.address, log=lambda *a: None)
    assert result.ok, result.errors
    run = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert run["engine"] == "dask" and run["load"]["rows_read"] == sample_load.report.rows_read
    executed = (tmp_path / "run" / "notebooks" / book[0].name).read_text(encoding="utf-8")
    assert "computing them here" not in executed            # the notebook read the cluster's findings
    assert (tmp_path / "run" / "data" / "findings" / "hits").is_dir()
    with pytest.raises(LoadError, match="leave out --platform"):
        run_report(tmp_path / "ds", tmp_path / "run2", engine="dask", platforms=["jd"], log=lambda *a: None)
