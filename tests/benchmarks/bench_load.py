"""Benchmark load_logs on a large generated export: throughput and peak memory, against plain pandas.

    .venv/bin/python tests/benchmarks/bench_load.py --rows 1000000 --repeat 3
    .venv/bin/python tests/benchmarks/bench_load.py --file /path/to/export.csv --repeat 5
    .venv/bin/python tests/benchmarks/bench_load.py --file export.csv --before /tmp/old-checkout

``--before`` adds load_logs from another checkout (e.g. ``git worktree add /tmp/old <commit>``) to the
same alternation, so before and after are measured in one sitting.

Each measurement runs in a fresh subprocess so peak RSS is its own. "naive" is what an analyst
would write by hand: pandas.read_csv of the whole file (object strings), no validation, no
quarantine. The two alternate, so both see the same load on a shared machine. Prints medians over
--repeat runs (throughput, peak RSS, both against the file size and against naive); compare ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
path, mode = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "load_logs":
    from cs_analytics import load_logs
    result = load_logs(path, progress=False)
    rows = result.report.rows_read
else:
    import pandas as pd
    frame = pd.read_csv(path, encoding="gb18030", dtype=object)
    rows = len(frame)
seconds = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"rows": rows, "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024}))
"""


def make_export(rows: int, folder: Path) -> Path:
    import pandas as pd

    from cs_analytics import generate_sample

    sample = generate_sample(n_sessions=3000, seed=1).export
    copies = -(-rows // len(sample))
    frames = []
    for i in range(copies):
        part = sample.copy()
        part["消息ID"] = part["消息ID"] + f"-{i}"
        part["会话ID"] = part["会话ID"] + f"-{i}"
        frames.append(part)
    export = pd.concat(frames, ignore_index=True).head(rows)
    path = folder / "big_export.csv"
    export.to_csv(path, index=False, encoding="gb18030")
    return path


def measure(path: Path, mode: str, tree: Path | None = None) -> dict:
    env = None if tree is None else {**os.environ, "PYTHONPATH": str(tree)}
    # run in the other checkout: ``python -c`` puts the working folder first on sys.path, ahead of PYTHONPATH
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), mode], capture_output=True, text=True, check=True,
                         env=env, cwd=None if tree is None else str(tree))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--file", type=Path, help="an existing GB18030 CSV export (instead of making one)")
    parser.add_argument("--before", type=Path, help="another checkout whose load_logs is measured alongside")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = args.file or make_export(args.rows, Path(tmp))
        size_mb = path.stat().st_size / 2**20
        print(f"export: {path.name}, {size_mb:.0f} MB GB18030 CSV (ready in {time.perf_counter() - started:.0f}s)")
        results: dict[str, list[dict]] = {"load_logs": [], "naive": []}
        trees = {"load_logs": None, "naive": None}
        if args.before:
            results["before"], trees["before"] = [], args.before
        for _ in range(args.repeat):
            for mode, runs in results.items():
                runs.append(measure(path, "naive" if mode == "naive" else "load_logs", trees[mode]))
    for mode, runs in results.items():
        secs = statistics.median(r["seconds"] for r in runs)
        cpu = statistics.median(r["cpu_seconds"] for r in runs)
        peak = statistics.median(r["peak_mb"] for r in runs)
        print(f"{mode:>9}: median {secs:6.1f}s  {runs[0]['rows'] / secs:>10,.0f} rows/s  (CPU {cpu:5.1f}s, imports "
              f"included)  peak RSS {peak:6.0f} MB ({peak / size_mb:.1f}x the file)")
    ratio = statistics.median(r["seconds"] for r in results["load_logs"]) / \
        statistics.median(r["seconds"] for r in results["naive"])
    cpu_ratio = statistics.median(r["cpu_seconds"] for r in results["load_logs"]) / \
        statistics.median(r["cpu_seconds"] for r in results["naive"])
    mem = statistics.median(r["peak_mb"] for r in results["load_logs"]) / \
        statistics.median(r["peak_mb"] for r in results["naive"])
    print(f"load_logs / naive: {ratio:.2f}x the time ({cpu_ratio:.2f}x the CPU time), {mem:.2f}x the peak memory "
          f"(load_logs also validates, quarantines, de-duplicates, orders and ids every row)")
    if args.before:
        median = lambda mode, key: statistics.median(r[key] for r in results[mode])  # noqa: E731
        print(f"load_logs / before: {median('load_logs', 'seconds') / median('before', 'seconds'):.2f}x the time "
              f"({median('load_logs', 'cpu_seconds') / median('before', 'cpu_seconds'):.2f}x the CPU time), "
              f"{median('load_logs', 'peak_mb') / median('before', 'peak_mb'):.2f}x the peak memory")


if __name__ == "__main__":
    main()
