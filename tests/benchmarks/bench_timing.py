"""Reply rounds: the vectorised ``timing.reply_rounds`` against a straightforward per-session loop.

    .venv/bin/python tests/benchmarks/bench_timing.py --copies 40 --repeat 3

The sample (~26k messages) is repeated ``--copies`` times with fresh session ids (40 copies ≈ 1.05M
messages). Both implementations run in the same process on the same table; the loop is timed on
``--loop-share`` of the sessions and scaled, because on all of them it takes minutes. The script checks
that both give the same rounds on that share, then prints messages/s (median of ``--repeat``) and the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from cs_analytics.findings.timing import CUSTOMER, HUMAN, message_kinds, reply_rounds
from sample_copies import repeated_sample


def loop_rounds(messages: pd.DataFrame) -> pd.DataFrame:
    """The naive way: walk each session's messages in order, opening and closing rounds in Python."""
    frame = messages.assign(kind=message_kinds(messages)).sort_values(["session_id", "ts", "seq"], kind="stable")
    rows = []
    for session_id, part in frame.groupby("session_id", sort=False):
        opened, first_id, burst = None, None, 0
        number = 0
        for kind, ts, message_id in zip(part["kind"], part["ts"], part["message_id"]):
            if kind == CUSTOMER:
                if opened is None:
                    opened, first_id, burst = ts, message_id, 0
                burst += 1
            elif kind == HUMAN and opened is not None:
                number += 1
                rows.append((session_id, number, first_id, burst, (ts - opened).total_seconds()))
                opened = None
        if opened is not None:
            number += 1
            rows.append((session_id, number, first_id, burst, np.nan))
    return pd.DataFrame(rows, columns=["session_id", "round", "first_message_id", "customer_messages", "response_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-share", type=float, default=0.1, help="share of sessions the loop is timed on")
    args = parser.parse_args()
    big = repeated_sample(args.copies)
    sessions = big["session_id"].drop_duplicates()
    share = big[big["session_id"].isin(set(sessions.iloc[: max(1, int(len(sessions) * args.loop_share))]))]

    fast_times, loop_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        rounds = reply_rounds(big)
        fast_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        slow = loop_rounds(share)
        loop_times.append(time.perf_counter() - started)
    check = reply_rounds(share)[["session_id", "round", "first_message_id", "customer_messages", "response_s"]]
    pd.testing.assert_frame_equal(check.reset_index(drop=True), slow.reset_index(drop=True), check_dtype=False)

    fast = statistics.median(fast_times)
    loop = statistics.median(loop_times) * len(big) / len(share)
    print(f"{len(big):,} messages, {len(rounds):,} rounds; the loop timed on {len(share):,} messages and scaled")
    print(f"vectorised reply_rounds: median {fast:.2f} s  ({len(big) / fast:,.0f} messages/s)")
    print(f"per-session loop:        about {loop:.1f} s  ({len(big) / loop:,.0f} messages/s)")
    print(f"ratio: {loop / fast:.1f}x (same rounds on the shared part: checked)")


if __name__ == "__main__":
    main()
