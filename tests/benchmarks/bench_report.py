"""Timeline of ``cs-analytics report`` on a large export: this checkout against another one (e.g. main)
in the same sitting, runs alternating, medians and ratios per phase, and an equality check of what the
runs computed.

    .venv/bin/python tests/benchmarks/bench_report.py --logs big_export.csv --baseline ../main --repeat 3
    .venv/bin/python tests/benchmarks/bench_report.py --rows 1000000          # writes bench_load's export

Each run is a fresh process (``run_report`` with every progress line time-stamped). Phases: ``load +
findings`` (until the findings are stored), ``notebooks`` (until the last notebook and its HTML are
done) and ``outputs`` (headline numbers, workbook, decks, summary page, font). Per notebook: its wall
time from papermill's metadata, split into kernel start (until the first cell), the set-up cell
(imports, stored load and findings) and the rest. CPU seconds (this process and every child: the
findings' workers, the notebook kernels) are given before and after the findings are stored.

The equality check compares every key table (``tables/*.parquet`` and ``*.csv``), ``kpis.json``, the
text every notebook printed or displayed and the figure sidecars (title, takeaway, tick-label boxes)
of the first run of each checkout. The machines are shared and noisy: read medians, ratios and the
CPU seconds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

RUNNER = r"""
import json, resource, sys, time
from cs_analytics.outputs.report import run_report
logs, out, stamps = sys.argv[1], sys.argv[2], []
started = time.time()
def cpu():
    return sum(u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)))
def log(line):
    stamps.append([time.time() - started, str(line), cpu()])
result = run_report(logs, out, log=log)
json.dump({"started": started, "seconds": time.time() - started, "ok": result.ok, "errors": result.errors,
           "cpu_s": cpu(), "log": stamps},
          open(out + ".timeline.json", "w"), ensure_ascii=False)
"""


def _when(text: str | None) -> float | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() if text else None


def notebook_times(out: Path, started: float) -> dict[str, dict]:
    """Per executed notebook: start and end (seconds from the run's start), kernel start, set-up cell, rest."""
    import nbformat

    found = {}
    for book in sorted((out / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(book, as_version=4)
        meta = nb.metadata.get("papermill", {})
        begin, end = _when(meta.get("start_time")), _when(meta.get("end_time"))
        cells = [(c.metadata["papermill"], c.source) for c in nb.cells
                 if c.cell_type == "code" and c.metadata.get("papermill", {}).get("start_time")]
        first = _when(cells[0][0]["start_time"]) if cells else end
        setup = next((m["duration"] or 0 for m, source in cells if "prepare(" in source), 0.0)
        found[book.stem[:2]] = {"start": begin - started, "end": end - started, "kernel_s": first - begin,
                                "setup_s": setup, "cells_s": end - first - setup}
    return found


def phases(run: dict, out: Path) -> dict[str, float]:
    """Seconds of each phase of one run, from its time-stamped progress lines."""
    stamps = run["log"]
    stored, stored_cpu = next((t, c) for t, line, c in stamps if "findings computed" in line)
    notebooks_done = max(t for t, line, _ in stamps if line.startswith("["))
    return {"total": run["seconds"], "load + findings": stored, "notebooks": notebooks_done - stored,
            "outputs": run["seconds"] - notebooks_done, "cpu: all processes": run["cpu_s"],
            "cpu: load + findings": stored_cpu, "cpu: notebooks + outputs": run["cpu_s"] - stored_cpu}


def run_once(tree: Path, logs: Path, out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-c", RUNNER, str(logs), str(out)], cwd=tree, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    run = json.loads(Path(str(out) + ".timeline.json").read_text(encoding="utf-8"))
    if not run["ok"]:
        raise SystemExit(f"{tree}: the report failed: {run['errors']}")
    return {"phases": phases(run, out), "notebooks": notebook_times(out, run["started"]),
            "steps": {line.split(" in ")[0].strip(): float(line.split(" (")[0].rsplit(" in ", 1)[1].rstrip("s"))
                      for _, line, _ in run["log"] if line.startswith("    ") and " in " in line
                      and line.split(" (")[0].rstrip().endswith("s")
                      and not line.strip().startswith(("findings", "FAILED"))}}


def notebook_texts(path: Path) -> list[str]:
    """What an executed notebook printed or displayed as text (charts, object addresses and styler ids
    left out; the injected parameters too, since a newer checkout may pass more)."""
    import re

    import nbformat

    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts = [output.get("text", "")] + ([data.get("text/plain", ""), data.get("text/html", "")]
                                                 if "image/png" not in data else [])
            found += [re.sub(r" at 0x[0-9a-f]+|T_[0-9a-f]{5}", "", text) for text in texts if text]
    return found


def compare(first: Path, second: Path) -> list[str]:
    """Differences between two runs' key tables, kpis.json, notebook text outputs and figure sidecars
    (empty when equal)."""
    import pandas as pd

    problems = []
    names = sorted(p.name for p in (first / "tables").iterdir() if p.suffix in (".parquet", ".csv"))
    other = sorted(p.name for p in (second / "tables").iterdir() if p.suffix in (".parquet", ".csv"))
    if names != other:
        problems.append(f"tables differ: {sorted(set(names) ^ set(other))}")
    for name in sorted(set(names) & set(other)):
        read = pd.read_parquet if name.endswith(".parquet") else (lambda p: pd.read_csv(p, dtype=str))
        try:
            pd.testing.assert_frame_equal(read(first / "tables" / name), read(second / "tables" / name))
        except AssertionError as exc:
            problems.append(f"{name}: {str(exc).splitlines()[0]}")
    kpis = [json.loads((run / "kpis.json").read_text(encoding="utf-8")) for run in (first, second)]
    if kpis[0] != kpis[1]:
        problems.append("kpis.json differs")
    for book in sorted((first / "notebooks").glob("*.ipynb")):
        if notebook_texts(book) != notebook_texts(second / "notebooks" / book.name):
            problems.append(f"{book.name}: the text it printed or displayed differs")
    takeaways = [{p.stem: {k: v for k, v in json.loads(p.read_text(encoding="utf-8")).items() if k != "saved"}
                  for p in (run / "figures").glob("*.json")} for run in (first, second)]
    if takeaways[0] != takeaways[1]:
        problems.append(f"figure sidecars differ: {sorted(k for k in takeaways[0] if takeaways[0].get(k) != takeaways[1].get(k))}")
    return problems


def _median_table(label: str, runs: list[dict], baseline: list[dict] | None) -> None:
    print(f"\n{label:24s} {'this':>8s}" + (f" {'baseline':>9s} {'ratio':>6s}" if baseline else ""))
    for key in runs[0]["phases"]:
        mine = statistics.median(r["phases"][key] for r in runs)
        line = f"{key:24s} {mine:7.1f}s"
        if baseline:
            theirs = statistics.median(r["phases"][key] for r in baseline)
            line += f" {theirs:8.1f}s {theirs / mine:5.2f}×"
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logs", type=Path, help="the export to report on (default: bench_load's export of --rows)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=Path, help="another checkout of cs-analytics to time in the same sitting")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="folder for the runs (default: a temporary one)")
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="bench_report_"))
    root.mkdir(parents=True, exist_ok=True)
    logs = args.logs
    if logs is None:
        sys.path.insert(0, str(Path(__file__).parent))
        from bench_load import make_export

        logs = make_export(args.rows, root)
    here = Path(__file__).resolve().parents[2]
    trees = {"this": here, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    results: dict[str, list[dict]] = {name: [] for name in trees}
    for i in range(args.repeat):
        for name, tree in trees.items():          # alternating, so both see the same load on the machine
            out = root / f"{name}{i}"
            results[name].append(run_once(tree, logs.resolve(), out))
            phase = results[name][-1]["phases"]
            print(f"{name} run {i}: " + ", ".join(f"{k} {v:.1f}s" for k, v in phase.items()), flush=True)
    _median_table("phase (median)", results["this"], results.get("baseline"))
    print(f"\n{'notebook (median)':24s} {'wall':>6s} {'kernel':>7s} {'set-up':>7s} {'cells':>6s}" +
          ("   baseline wall" if "baseline" in results else ""))
    for number in results["this"][0]["notebooks"]:
        row = {k: statistics.median(r["notebooks"][number][k] for r in results["this"]) for k in ("kernel_s", "setup_s", "cells_s")}
        wall = statistics.median(r["notebooks"][number]["end"] - r["notebooks"][number]["start"] for r in results["this"])
        line = f"{number:24s} {wall:5.1f}s {row['kernel_s']:6.1f}s {row['setup_s']:6.1f}s {row['cells_s']:5.1f}s"
        if "baseline" in results and number in results["baseline"][0]["notebooks"]:
            theirs = statistics.median(r["notebooks"][number]["end"] - r["notebooks"][number]["start"] for r in results["baseline"])
            line += f"   {theirs:5.1f}s"
        print(line)
    print(f"\n{'output step (median)':24s} {'this':>6s}" + (f" {'baseline':>9s}" if "baseline" in results else ""))
    for step in results["this"][0]["steps"]:
        mine = statistics.median(r["steps"].get(step, float("nan")) for r in results["this"])
        line = f"{step:24s} {mine:5.1f}s"
        if "baseline" in results:
            line += f" {statistics.median(r['steps'].get(step, float('nan')) for r in results['baseline']):8.1f}s"
        print(line)
    if "baseline" in results:
        problems = compare(root / "this0", root / "baseline0")
        same = "every key table, kpis.json, notebook text output and figure sidecar equal"
        print("\nequality with the baseline run: " + (same if not problems else "DIFFERENT\n  " + "\n  ".join(problems)))
    print(f"\nruns in {root}")


if __name__ == "__main__":
    main()
