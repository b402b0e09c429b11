"""Process checks: the vectorised ``process_checks`` against a per-session loop, on the sample repeated.

    .venv/bin/python tests/benchmarks/bench_process.py --copies 40 --repeat 3

The sample (~26k messages) is repeated ``--copies`` times with fresh session ids (40 copies ≈ 1.05M
messages). Hits and complaint sessions are computed once beforehand (``analyze`` keeps them for every
step); only ``process_checks`` is timed. The loop runs the same function session by session on
``--loop-share`` of the sessions and is scaled; the script checks both agree on that share, then prints
messages/s (median of ``--repeat``) and the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from cs_analytics import analyze, process_checks
from sample_copies import repeated_sample


def loop_checks(messages: pd.DataFrame, hits: pd.DataFrame, complaints: pd.DataFrame) -> pd.DataFrame:
    """The naive way: one call per session."""
    hits_by = dict(tuple(hits.groupby("session_id", sort=False)))
    complaints_by = dict(tuple(complaints.groupby("session_id", sort=False)))
    empty_hits, empty_complaints = hits.iloc[:0], complaints.iloc[:0]
    parts = [process_checks(part, hits_by.get(sid, empty_hits), complaints_by.get(sid, empty_complaints))
             for sid, part in messages.groupby("session_id", sort=False)]
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-share", type=float, default=0.002, help="share of sessions the loop is timed on")
    args = parser.parse_args()
    big = repeated_sample(args.copies)
    found = analyze(big)
    hits, complaints = found.hits, found.complaint_sessions
    sessions = big["session_id"].drop_duplicates()
    chosen = set(sessions.iloc[: max(1, int(len(sessions) * args.loop_share))])
    share = big[big["session_id"].isin(chosen)]

    fast_times, loop_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        table = process_checks(big, hits, complaints)
        fast_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        looped = loop_checks(share, hits[hits["session_id"].isin(chosen)], complaints[complaints["session_id"].isin(chosen)])
        loop_times.append((time.perf_counter() - started) * len(big) / max(len(share), 1))
    checks = [c for c in looped.columns if c in table.columns and not c.endswith(("_message_id", "_matched"))]
    mine = table[table["session_id"].isin(chosen)].set_index("session_id").sort_index()[checks[1:]]
    theirs = looped.set_index("session_id").sort_index()[checks[1:]]
    plain = lambda frame: frame.astype(object).where(frame.notna(), None)  # noqa: E731  (NA, NaN, None alike)
    same = plain(mine).equals(plain(theirs))
    fast, loop = statistics.median(fast_times), statistics.median(loop_times)
    print(f"{len(big):,} messages, {big['session_id'].nunique():,} sessions; loop on {len(share):,} messages, scaled")
    print(f"process_checks: {fast:.2f} s median = {len(big) / fast:,.0f} messages/s (min {min(fast_times):.2f} s, max {max(fast_times):.2f} s)")
    print(f"per-session loop: {loop:.1f} s (scaled) = {len(big) / loop:,.0f} messages/s")
    print(f"ratio: {loop / fast:.0f}x; same result on the loop's share: {same}")


if __name__ == "__main__":
    main()
