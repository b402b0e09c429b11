"""Throughput of the complaint classifier on the sample repeated to a larger size.

    .venv/bin/python tests/benchmarks/bench_complaints.py --copies 40 --repeat 3

Prints messages/s for ``complaint_signals`` (matching) and ``classify_complaints`` (session table),
median of ``--repeat`` runs. No target was set for this step; this is here so changes can be compared.
"""
from __future__ import annotations

import argparse
import statistics
import time

from cs_analytics import classify_complaints, complaint_signals
from sample_copies import repeated_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=40, help="copies of the sample (each ~26k messages)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    big = repeated_sample(args.copies)
    signal_times, session_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        signals = complaint_signals(big)
        signal_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        sessions = classify_complaints(big, signals=signals)
        session_times.append(time.perf_counter() - started)
    n = len(big)
    sig, ses = statistics.median(signal_times), statistics.median(session_times)
    print(f"{n:,} messages, {len(sessions):,} sessions, {len(signals):,} findings")
    print(f"complaint_signals:   median {sig:.2f} s  ({n / sig:,.0f} messages/s)")
    print(f"classify_complaints: median {ses:.2f} s  ({n / ses:,.0f} messages/s), given the signals")


if __name__ == "__main__":
    main()
