"""Where the two-process ``analyze`` spends its time: a timeline of both processes, the wall time against
one process (and against half of it, a perfect split), optionally against another checkout in the same
sitting.

    .venv/bin/python tests/benchmarks/bench_parallel.py --messages 1000000 --repeat 3
    .venv/bin/python tests/benchmarks/bench_parallel.py --file messages.parquet --before /tmp/old-checkout

Each run is a fresh process: ``analyze(messages, workers=2).compute()`` and then every finding read
(loading excluded), and the same in one process; wall and CPU time (this process's, and the worker's:
less noisy than the wall time on a busy machine). The timeline (of the median two-process run) says
when this process and the forked worker start and end their parts, how long the worker takes to
write its tables, how long this process waits for it, and what is left after both (combining the
parts, the platform metrics), each with its CPU time (on a busy machine the wall times stretch, the
CPU times much less). ``--before`` runs another checkout (``git worktree add /tmp/old
<commit>``) in the same alternation. Data as bench_pipeline.py (generated, or the real corpus
repeated), or ``--file``. The machines are noisy: medians and ratios.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))       # tests/ (real_corpus)

CHILD = r"""
import functools, json, os, resource, sys, time
import pandas as pd
from cs_analytics import analyze
from cs_analytics.findings import partitions
from cs_analytics.findings.analyze import FINDINGS

path, workers, events = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def timed(label, function):
    @functools.wraps(function)          # pickled by name for the worker, as the function it wraps
    def run(*args, **kwargs):
        start, cpu = time.time(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            what = label(*args, **kwargs)
            if what:
                with open(events, "a") as file:
                    file.write(json.dumps({"pid": os.getpid(), "what": what, "start": start, "end": time.time(),
                                           "cpu_start": cpu, "cpu_end": time.process_time()}) + "\n")
    return run


partitions._run_part = timed(lambda index: f"part {index}", partitions._run_part)
partitions._write_part = timed(lambda index: f"write {index}", partitions._write_part)
partitions.compute_in_processes = timed(lambda *a, **k: "compute_in_processes", partitions.compute_in_processes)
if hasattr(partitions, "platform_metric_units"):    # the joined sessions' metrics, in this process while the worker works
    partitions.platform_metric_units = timed(lambda *a, merging=None, **k: "merging metrics" if merging else None,
                                             partitions.platform_metric_units)
messages = pd.read_parquet(path)
start, cpu = time.time(), time.process_time()
found = analyze(messages, workers=workers).compute()
tables = [getattr(found, name) for name in FINDINGS]
end, cpu = time.time(), time.process_time() - cpu
workers_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"start": start, "end": end, "pid": os.getpid(), "cpu": cpu, "cpu_end": time.process_time(),
                  "workers_cpu": workers_cpu.ru_utime + workers_cpu.ru_stime}))
"""


def run(tree: Path | None, path: Path, workers: int) -> dict:
    """One run in a fresh process (``tree``: the checkout to import, None for this one)."""
    tree = tree or Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as file:
        events = file.name
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, str(path), str(workers), events],
                              capture_output=True, text=True, env=env,
                              cwd=tree)       # ``python -c`` puts the working folder ahead of PYTHONPATH
        if done.returncode:
            raise SystemExit(f"workers={workers} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result["events"] = [json.loads(line) for line in Path(events).read_text().splitlines()]
    finally:
        os.remove(events)
    result["seconds"] = result["end"] - result["start"]
    return result


def timeline(result: dict) -> str:
    """The two processes' parts, relative to the start of ``analyze``, with each step's CPU time (less
    noisy than wall time on a busy machine)."""
    t0, me = result["start"], result["pid"]
    events = {(e["what"], e["pid"] == me): e for e in result["events"]}
    mine, write, work = events.get(("part 0", True)), events.get(("write 1", False)), events.get(("part 1", False))
    if not (mine and write and work):
        return "  (no timeline: not the two-part path)"
    merging = events.get(("merging metrics", True))
    own_end = merging["end"] if merging else mine["end"]
    end_both = max(own_end, write["end"])
    cpu_start = result["cpu_end"] - result["cpu"]

    def cpu(event, key="cpu_end"):
        return event.get(key) if event and "cpu_start" in event else None

    rows = [
        ("before the parts (checks, cuts, fork)", 0, mine["start"] - t0, cpu(mine, "cpu_start") and cpu(mine, "cpu_start") - cpu_start),
        ("this process: its part", mine["start"] - t0, mine["end"] - t0, cpu(mine) and cpu(mine) - cpu(mine, "cpu_start")),
        *([("this process: the joined sessions' metrics", merging["start"] - t0, merging["end"] - t0,
            cpu(merging) and cpu(merging) - cpu(merging, "cpu_start"))] if merging else []),
        ("worker: its part", work["start"] - t0, work["end"] - t0, cpu(work) and cpu(work) - cpu(work, "cpu_start")),
        ("worker: writing its tables", work["end"] - t0, write["end"] - t0, cpu(write) and cpu(write) - cpu(work)),
        ("this process: waiting for the worker", own_end - t0, end_both - t0, None),
        ("this process: after both (combine, metrics)", end_both - t0, result["seconds"],
         cpu(mine) and result["cpu_end"] - (cpu(merging) or cpu(mine))),
    ]
    return "\n".join(f"  {label:<46} {start:6.2f} → {end:6.2f}  ({end - start:5.2f} s" +
                     (f", CPU {seconds:5.2f} s)" if seconds is not None else ")")
                     for label, start, end, seconds in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--data", choices=("generated", "real"), default="generated")
    parser.add_argument("--file", type=Path, help="a Parquet messages table (instead of --data)")
    parser.add_argument("--before", type=Path, help="another checkout measured alongside")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.file
        if path is None:
            from bench_pipeline import repeated, source

            messages = source(args.data)
            if messages is None:
                raise SystemExit("the real corpus is not here")
            path = Path(tmp) / "messages.parquet"
            repeated(messages, args.messages).to_parquet(path, index=False)
        trees = {"this checkout": None, **({"before": args.before} if args.before else {})}
        runs = {(label, workers): [] for label in trees for workers in (1, 2)}
        for _ in range(args.repeat):                       # alternating: before and after in one sitting
            for label, tree in trees.items():
                for workers in (2, 1):
                    runs[label, workers].append(run(tree, path, workers))
    print(f"{path}: analyze() and every finding read, medians of {args.repeat}")
    for label in trees:
        one = statistics.median(r["seconds"] for r in runs[label, 1])
        two_runs = sorted(runs[label, 2], key=lambda r: r["seconds"])
        two = two_runs[len(two_runs) // 2]["seconds"]
        print(f"\n[{label}] one process {one:.2f} s, two processes {two:.2f} s "
              f"({one / two:.2f}x; a perfect split would be {one / 2:.2f} s, the rest is {two - one / 2:.2f} s)")
        one_cpu = statistics.median(r["cpu"] for r in runs[label, 1])
        mine, theirs = (statistics.median(r[key] for r in runs[label, 2]) for key in ("cpu", "workers_cpu"))
        print(f"  CPU: one process {one_cpu:.2f} s; two processes {mine:.2f} s here + {theirs:.2f} s in the worker "
              f"= {mine + theirs:.2f} s ({mine + theirs - one_cpu:+.2f} s)")
        print(timeline(two_runs[len(two_runs) // 2]))
    if args.before:
        ratio = statistics.median(r["seconds"] for r in runs["before", 2]) / \
            statistics.median(r["seconds"] for r in runs["this checkout", 2])
        print(f"\ntwo processes: before / this checkout = {ratio:.2f}x")


if __name__ == "__main__":
    main()
