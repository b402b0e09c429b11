"""Texts normalised once per batch (``SharedBlocks``) against once per step, on the sample repeated.

    .venv/bin/python tests/benchmarks/bench_shared_blocks.py --copies 40 --repeat 3

``analyze`` used to normalise the agents' texts three times (the phrase hits in 200k-message blocks, the
contact reasons, the process checks' agent-side scan) and the customers' four (complaint signals, the
buyer marks of the contact reasons, the process checks' customer-side scan and the buyers' abuse rules).
Now each side is normalised once and the phrase hits take slices of its block. Both ways are timed in
the same run (CPU seconds, median of ``--repeat``), checked to give the same blocks, and the ratio printed.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pyarrow as pa
from sample_copies import repeated_sample

from cs_analytics.textmatch.normalize import SharedBlocks, normalize_block

HITS_BLOCK = 200_000          # find_violations' block_size


def per_step(texts: pa.Array, agents: np.ndarray, customers: np.ndarray) -> list:
    """As before: every step normalises its own messages."""
    blocks = [normalize_block(texts.take(pa.array(agents[lo:lo + HITS_BLOCK])))
              for lo in range(0, len(agents), HITS_BLOCK)]
    blocks += [normalize_block(texts.take(pa.array(agents))) for _ in range(2)]
    blocks += [normalize_block(texts.take(pa.array(customers))) for _ in range(4)]
    return blocks


def shared(texts: pa.Array, agents: np.ndarray, customers: np.ndarray) -> list:
    """Now: one block per side, asked for by every step (the phrase hits' parts are slices of it)."""
    cache = SharedBlocks(texts)
    cache.block(agents)
    blocks = [cache.block(agents[lo:lo + HITS_BLOCK]) for lo in range(0, len(agents), HITS_BLOCK)]
    blocks += [cache.block(agents) for _ in range(2)]
    blocks += [cache.block(customers) for _ in range(4)]
    return blocks


def cpu(function, *args) -> tuple[float, list]:
    start = time.process_time()
    out = function(*args)
    return time.process_time() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    messages = repeated_sample(args.copies)
    texts = messages["text"].astype("string[pyarrow]").array.__arrow_array__().combine_chunks()
    role = messages["role"].to_numpy(dtype=object)
    agents, customers = np.flatnonzero(role == "agent"), np.flatnonzero(role == "customer")
    before, after = [], []
    for _ in range(args.repeat):
        seconds, old = cpu(per_step, texts, agents, customers)
        before.append(seconds)
        seconds, new = cpu(shared, texts, agents, customers)
        after.append(seconds)
        for a, b in zip(old, new):
            assert a.original == b.original and a.folded == b.folded and a.compact_utf16 == b.compact_utf16
            assert np.array_equal(a.starts, b.starts) and np.array_equal(a._removed_shift, b._removed_shift)
        del old, new
    b, a = statistics.median(before), statistics.median(after)
    print(f"{len(messages):,} messages ({len(agents):,} agent, {len(customers):,} customer)")
    print(f"per step: {b:.2f} s CPU   shared: {a:.2f} s CPU   ratio {b / a:.1f}x   (same blocks)")


if __name__ == "__main__":
    main()
