"""The pandas path against Dask on 1 and 2 local workers, at growing sizes: wall time, messages/s,
the client's peak memory, and how time grows from the smallest to the largest size.

    .venv/bin/python tests/benchmarks/bench_dask.py --sizes 1000000 10000000

For each size a generated export (the sample's generator output repeated with fresh ids) is written
once as a dataset (``write_dataset``, as ``cs-analytics convert`` does). Then, each in a fresh process
(its own peak RSS):

- pandas: ``read_dataset`` + ``analyze(...).compute()`` on this machine (both cores, worker processes),
  then every finding read (the workers write their parts to disk; a finding is combined when first
  asked for); the peak RSS of this process and of the largest worker process;
- dask-1 / dask-2: ``analyze(DATASET, engine="dask")`` on a LocalCluster of 1 or 2 single-threaded
  worker processes, findings written by the workers (``out=``), so the client holds only counts;
  its peak RSS is the client's (workers' memory is theirs).

Time includes reading the dataset, excludes writing it. Medians over --repeat; noisy 2-core machines.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, tempfile
mode, dataset = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "pandas":
    from cs_analytics import analyze
    from cs_analytics.ingest.dataset import read_dataset
    from cs_analytics.findings.analyze import FINDINGS
    found = analyze(read_dataset(dataset), workers="auto").compute()
    tables = [getattr(found, name) for name in FINDINGS]
    n = len(found.messages)
else:
    from dask.distributed import Client, LocalCluster
    from cs_analytics.findings.distributed import analyze_dataset
    workers = int(mode.split("-")[1])
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:          # cluster start-up counts: the analyst waits for it too
        with tempfile.TemporaryDirectory() as out:
            found = analyze_dataset(dataset, client=client, out=out)
        n = found.n_messages
seconds = time.perf_counter() - t
print(json.dumps({"messages": n, "seconds": seconds,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "workers_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def make_dataset(messages: int, folder: Path) -> Path:
    """A generated export of about ``messages`` rows, loaded and written as a dataset."""
    import pandas as pd

    from cs_analytics import generate_sample
    from cs_analytics.ingest.dataset import write_dataset
    from cs_analytics.ingest.load import LoadResult, load_logs

    export = folder / "one.csv"
    generate_sample(3000, seed=1).export.to_csv(export, index=False, encoding="gb18030")
    loaded = load_logs(export, progress=False)
    base = loaded.messages
    copies = max(1, -(-messages // len(base)))
    whole = pd.concat([base.assign(session_id=base["session_id"] + f"-{i:04d}", message_id=base["message_id"] + f"-{i}")
                       for i in range(copies)], ignore_index=True).head(messages)
    whole = whole.sort_values(["session_id", "seq"], kind="stable").reset_index(drop=True)
    return write_dataset(LoadResult(whole, loaded.quarantine, loaded.report), folder / "dataset")


def measure(mode: str, dataset: Path) -> dict:
    run = subprocess.run([sys.executable, "-c", CHILD, mode, str(dataset)], capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"{mode} failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["pandas", "dask-1", "dask-2"])
    args = parser.parse_args()
    table: dict[tuple[str, int], float] = {}
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            dataset = make_dataset(size, Path(tmp))
            print(f"\n{size:,} messages: dataset written in {time.perf_counter() - started:.0f}s")
            for mode in args.modes:
                runs = [measure(mode, dataset) for _ in range(args.repeat)]
                secs = statistics.median(r["seconds"] for r in runs)
                peak = statistics.median(r["peak_mb"] for r in runs)
                workers_peak = statistics.median(r["workers_peak_mb"] for r in runs)
                table[(mode, size)] = secs
                print(f"  {mode:<7} median {secs:7.1f}s {runs[0]['messages'] / secs:>10,.0f} messages/s  "
                      f"client peak RSS {peak:,.0f} MB" + (f", worker processes {workers_peak:,.0f} MB" if mode == "pandas" else ""))
    if len(args.sizes) > 1:
        small, large = min(args.sizes), max(args.sizes)
        print(f"\ntime growth from {small:,} to {large:,} messages ({large / small:.0f}x the data):")
        for mode in args.modes:
            print(f"  {mode:<7} {table[(mode, large)] / table[(mode, small)]:.1f}x")


if __name__ == "__main__":
    main()
