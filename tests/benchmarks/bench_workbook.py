"""Time of the evidence table and the workbook on the sample repeated to a larger size.

    .venv/bin/python tests/benchmarks/bench_workbook.py --copies 20 --repeat 3

Prints hits/s for ``violation_stats.evidence`` (every hit with its masked excerpt), for storing it as
a key table (``artefacts.record_table``: export-safe masking + Parquet) and for ``write_workbook``
(openpyxl through pandas). No target was set for this step; this is here so changes can be compared.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cs_analytics.outputs import artefacts
from cs_analytics import find_violations
from cs_analytics.tables import violation_stats as vs
from cs_analytics.outputs.workbook import write_workbook
from sample_copies import repeated_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=20, help="copies of the sample (each ~26k messages)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    big = repeated_sample(args.copies)
    hits = find_violations(big)
    steps = {"evidence": [], "store": [], "workbook": []}
    for _ in range(args.repeat):
        out = Path(tempfile.mkdtemp())
        started = time.perf_counter()
        evidence = vs.evidence(big, hits)
        steps["evidence"].append(time.perf_counter() - started)
        started = time.perf_counter()
        artefacts.record_table(out / "tables", evidence, "02_evidence", "evidence", "违规明细 evidence")
        steps["store"].append(time.perf_counter() - started)
        started = time.perf_counter()
        write_workbook(out, {})
        steps["workbook"].append(time.perf_counter() - started)
    print(f"{len(big):,} messages, {len(hits):,} hits")
    for step, times in steps.items():
        median = statistics.median(times)
        print(f"{step:<9} median {median:6.2f} s  ({len(hits) / median:,.0f} hits/s)")


if __name__ == "__main__":
    main()
