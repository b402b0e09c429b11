"""The whole analysis, stage by stage: messages/s of every finding, end to end on one and on every core,
peak memory, and the ratio against the per-session loop, measured in the same run.

    .venv/bin/python tests/benchmarks/bench_pipeline.py --messages 1000000 --repeat 3
    .venv/bin/python tests/benchmarks/bench_pipeline.py --data real --messages 1000000

Data: ``generated`` is the bundled sample's generator output repeated with fresh session and message
ids; ``real`` is the real JD corpus (../shared/data/real/, when present; read in place, never copied)
repeated the same way. Loading is excluded (see bench_load.py).

Each measurement runs in a fresh process (its own peak RSS) reading the same Parquet copy of the
messages. The end-to-end time is ``compute()`` and then every finding read (worker processes write
their parts to disk and a finding is combined when first asked for). "loop" is the naive way, ``analyze`` called session by session, timed on
``--loop-sessions`` sessions and scaled to messages/s. The script checks that the multi-process result
equals the one-process result before printing. The machines are noisy: medians and ratios.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))       # tests/ (real_corpus)

CHILD = r"""
import json, resource, sys, time
import numpy as np
import pandas as pd
from cs_analytics import analyze
from cs_analytics.findings.analyze import FINDINGS

path, mode, workers, loop_sessions = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
messages = pd.read_parquet(path)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"messages": len(messages), "rss_before_mb": before}
if mode == "stages":
    found = analyze(messages, workers=1)
    stages = {}
    for name in FINDINGS:
        t = time.perf_counter()
        value = getattr(found, name)
        stages[name] = None if value is None else time.perf_counter() - t
    out["stages"] = stages
    out["seconds"] = sum(v for v in stages.values() if v is not None)
elif mode == "end_to_end":
    t = time.perf_counter()
    found = analyze(messages, workers=workers).compute()
    out["compute_seconds"] = time.perf_counter() - t
    tables = [getattr(found, name) for name in FINDINGS]    # the workers' parts are combined when first asked
    out["seconds"] = time.perf_counter() - t
    if workers > 1:     # the same findings as one process (checked outside the timing)
        single = analyze(messages, workers=1).compute()
        for name in FINDINGS:
            a, b = getattr(single, name), getattr(found, name)
            if a is not None:
                pd.testing.assert_frame_equal(b, a, check_exact=False, rtol=1e-12, obj=name)
        out["equal_to_one_process"] = True
else:                   # the per-session loop, on the first sessions
    ids = messages["session_id"].drop_duplicates().head(loop_sessions)
    subset = messages[messages["session_id"].isin(ids)]
    t = time.perf_counter()
    for _, session in subset.groupby("session_id", sort=False):
        analyze(session, workers=1).compute()
    out["seconds"] = time.perf_counter() - t
    out["messages"] = len(subset)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["children_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(out))
"""


def repeated(messages, target: int):
    """``messages`` repeated (fresh session and message ids per copy) to about ``target`` rows."""
    import pandas as pd

    copies = max(1, -(-target // len(messages)))
    frames = [messages.assign(session_id=messages["session_id"].astype(str) + f"-{i}",
                              message_id=messages["message_id"].astype(str) + f"-{i}") for i in range(copies)]
    whole = pd.concat(frames, ignore_index=True)
    sessions = whole["session_id"].drop_duplicates()
    per_session = len(whole) / len(sessions)
    keep = sessions.head(int(target / per_session) + 1)
    return whole[whole["session_id"].isin(keep)].sort_values(["session_id", "seq"], kind="stable").reset_index(drop=True)


def source(kind: str):
    """The messages to repeat: a generated export, or the real JD corpus."""
    from cs_analytics import generate_sample, load_logs

    if kind == "real":
        import real_corpus

        path = real_corpus.corpus_path()
        if not path.exists():
            return None
        return load_logs(path, profile="jd_tsv", progress=False).messages
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "generated.csv"
        generate_sample(3000, seed=1).export.to_csv(export, index=False, encoding="gb18030")
        return load_logs(export, progress=False).messages


def measure(path: Path, mode: str, workers: int = 1, loop_sessions: int = 300) -> dict:
    run = subprocess.run([sys.executable, "-c", CHILD, str(path), mode, str(workers), str(loop_sessions)],
                         capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"{mode} (workers={workers}) failed:\n{run.stderr[-3000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def bench(kind: str, target: int, repeat: int, workers: int, loop_sessions: int) -> None:
    messages = source(kind)
    if messages is None:
        print(f"[{kind}] the real corpus is not here; skipped")
        return
    data = repeated(messages, target)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "messages.parquet"
        data.to_parquet(path, index=False)
        n = len(data)
        print(f"\n[{kind}] {n:,} messages in {data['session_id'].nunique():,} sessions "
              f"({len(messages):,} repeated; loading excluded)")
        stages = measure(path, "stages")
        print("  stage (one process)        seconds   messages/s")
        for name, seconds in stages["stages"].items():
            if seconds is None:
                print(f"  {name:<24}  (no send times in this data)")
            elif seconds < 0.005:                # already computed for an earlier stage (owners: complaint_sessions)
                print(f"  {name:<24} {seconds:>9.2f}   (computed with an earlier stage)")
            else:
                print(f"  {name:<24} {seconds:>9.2f} {n / max(seconds, 1e-9):>12,.0f}")
        print(f"  {'all stages':<24} {stages['seconds']:>9.2f} {n / stages['seconds']:>12,.0f}")
        results = {}
        for label, count in (("one process", 1), (f"{workers} processes", workers)):
            runs = [measure(path, "end_to_end", count) for _ in range(repeat)]
            results[label] = runs
            secs = statistics.median(r["seconds"] for r in runs)
            peak = statistics.median(r["peak_mb"] for r in runs)
            checked = " (equal to one process)" if all(r.get("equal_to_one_process") for r in runs) and count > 1 else ""
            workers_peak = f", worker peak {statistics.median(r['children_peak_mb'] for r in runs):,.0f} MB" if count > 1 else ""
            print(f"  end to end, {label:<13} median {secs:6.1f}s {n / secs:>10,.0f} messages/s  "
                  f"(compute() {statistics.median(r['compute_seconds'] for r in runs):.1f}s, then every table read)  "
                  f"peak RSS {peak:,.0f} MB ({peak - runs[0]['rss_before_mb']:,.0f} MB over the loaded table"
                  f"{workers_peak}){checked}")
        loop = measure(path, "loop", loop_sessions=loop_sessions)
        loop_rate = loop["messages"] / loop["seconds"]
        print(f"  per-session loop           {loop_rate:>10,.0f} messages/s (on {loop['messages']:,} messages)")
        for label, runs in results.items():
            rate = n / statistics.median(r["seconds"] for r in runs)
            print(f"  {label} / loop: {rate / loop_rate:,.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--data", choices=("generated", "real", "both"), default="both")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--loop-sessions", type=int, default=300)
    args = parser.parse_args()
    for kind in (("generated", "real") if args.data == "both" else (args.data,)):
        bench(kind, args.messages, args.repeat, args.workers, args.loop_sessions)


if __name__ == "__main__":
    main()
