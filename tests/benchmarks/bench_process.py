"""Politeness and process checks: the vectorised ``analyze(...).politeness`` / ``.process`` against a
per-session loop, on the sample repeated.

    .venv/bin/python tests/benchmarks/bench_process.py --copies 40 --repeat 3
    .venv/bin/python tests/benchmarks/bench_process.py --against ../main --data MESSAGES.parquet --repeat 3

The sample (~26k messages) is repeated ``--copies`` times with fresh session ids (40 copies ≈ 1.05M
messages). Hits, complaint sessions and long waits are computed once beforehand (``analyze`` keeps them
for every step); only the two checks are timed, as ``analyze`` runs them: politeness first (it builds
the session batch and the phrase scans both share), then process. The loop runs the same functions
session by session on ``--loop-share`` of the sessions and is scaled; the script checks both agree on
that share, then prints messages/s (median of ``--repeat``) and the ratio for each.

It also times the agent-side phrase scan those checks share (``process.side_matches``: every list
normalised and matched once, regex entries included) both ways in the same run: the numpy engine with
the RE2 prefilter (now) against Hyperscan's callback per match with Python ``re`` over the whole text
(before), and checks both find the same matches. And the session batch with both sides' scans
(``SessionData`` and ``process.side_matches``) as the checks now build them, the texts taken by row,
against copying each side's messages (every column) and scanning those frames (before), with the same
matches. ``--scan-only`` skips everything else.

``--against CHECKOUT`` times the two stages as ``analyze`` runs them (everything they read computed
first; CPU and wall) in fresh processes of this checkout and of another one, alternately, on ``--data``
(a Parquet file of messages; default the repeated sample), prints the medians and the ratio, and checks
that both give the same tables (exactly, dtypes included). Nothing else is run.
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

import numpy as np
import pandas as pd

from cs_analytics import analyze, politeness_checks, process_checks
from cs_analytics.findings.process import process_spec, side_lists, side_matches
from cs_analytics.findings.rulebook import load_rulebook
from cs_analytics.findings.service_phrases import _compiled, find_phrases
from cs_analytics.findings.session_checks import SessionData
from cs_analytics.findings.sessions import HUMAN, message_kinds
from cs_analytics.textmatch.engines import PhraseSet
from cs_analytics.textmatch.normalize import normalize_block
from cs_analytics.textmatch.prefilter import prefiltered_spans_each
from sample_copies import repeated_sample


def scan_phrases(texts, phrases: PhraseSet, regexes, prefilter: bool) -> tuple[dict, list]:
    """Normalise ``texts`` and find every phrase and regex of the lists: what ``find_phrases`` spends its time on."""
    block = normalize_block(texts)
    patterns = [pattern for _, _, pattern in regexes]
    spans = prefiltered_spans_each(block, patterns) if prefilter else [block.regex_spans(p) for p in patterns]
    return phrases.find(block), spans


def same_matches(one: tuple[dict, list], other: tuple[dict, list]) -> bool:
    """Both ways found the same phrase matches (in any order) and the same regex spans."""
    as_set = lambda found: set(zip(found["msg"].tolist(), found["entry"].tolist(), found["start"].tolist(),  # noqa: E731
                                   found["end"].tolist()))
    return as_set(one[0]) == as_set(other[0]) and all(np.array_equal(a, b) for a, b in zip(one[1], other[1]))


def phrase_scan_comparison(big: pd.DataFrame, repeat: int) -> None:
    """The agent-side phrase scan, now (numpy engine, RE2 prefilter) and before (Hyperscan callbacks, whole-text
    regexes), timed in the same run on the human agent messages of ``big``."""
    lists = side_lists("agent", process_spec())
    phrases, regexes = _compiled("bench", lists, tuple(lists))
    before = PhraseSet(list(zip(phrases.labels, phrases.written)), engine="hyperscan")
    agents = big[message_kinds(big) == HUMAN]
    texts = agents["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__()
    ways = {"now": (phrases, True), "before": (before, False)}
    times: dict[str, list[float]] = {way: [] for way in ways}
    cpu: dict[str, list[float]] = {way: [] for way in ways}
    results = {}
    for _ in range(repeat):
        for way, (phrase_set, prefilter) in ways.items():     # alternating, so both see the same machine load
            started, started_cpu = time.perf_counter(), time.process_time()
            results[way] = scan_phrases(texts, phrase_set, regexes, prefilter)
            times[way].append(time.perf_counter() - started)
            cpu[way].append(time.process_time() - started_cpu)
    print(f"agent-side phrase scan ({len(agents):,} human agent messages, {len(phrases.patterns)} phrases, "
          f"{len(regexes)} regexes); medians of {repeat}, wall (CPU):")
    for way, label in (("now", "numpy engine, RE2 prefilter"), ("before", "Hyperscan callbacks, whole-text regexes")):
        wall, busy = statistics.median(times[way]), statistics.median(cpu[way])
        print(f"  {way:6s} ({label}): {wall:.2f} s ({busy:.2f} s CPU) = {len(agents) / wall:,.0f} messages/s")
    ratio = statistics.median(times["before"]) / statistics.median(times["now"])
    ratio_cpu = statistics.median(cpu["before"]) / statistics.median(cpu["now"])
    print(f"  ratio {ratio:.1f}x ({ratio_cpu:.1f}x CPU); same matches: {same_matches(results['now'], results['before'])}")


def sides_before(big: pd.DataFrame) -> dict[str, dict[str, pd.DataFrame]]:
    """The session batch and both sides' phrase matches the former way: each side's messages copied
    (every column) and ``find_phrases`` run on that frame."""
    data = SessionData(big, pd.DataFrame(columns=["message_id"]))
    ordered = data.ordered
    frames = {"agent": ordered[ordered["human"]],
              "customer": ordered[ordered["role"].eq("customer").to_numpy(dtype=bool, na_value=False)]}
    out = {}
    for side, frame in frames.items():
        lists = side_lists(side, process_spec())
        found = data.located(find_phrases(frame, lists, tuple(lists), roles=(side,), lean=True, name=f"bench {side}"))
        out[side] = {name: found[found["purpose"] == name] for name in lists}
    return out


def sides_now(big: pd.DataFrame) -> dict[str, dict[str, pd.DataFrame]]:
    """The session batch and both sides' phrase matches as the checks build them (``side_matches``)."""
    data = SessionData(big, pd.DataFrame(columns=["message_id"]))
    return {side: side_matches(data, side, process_spec(), load_rulebook()) for side in ("agent", "customer")}


def side_scan_comparison(big: pd.DataFrame, repeat: int) -> None:
    """The session batch with both sides' scans, now and before, timed alternately in the same run."""
    ways = {"now": sides_now, "before": sides_before}
    cpu: dict[str, list[float]] = {way: [] for way in ways}
    results = {}
    for _ in range(repeat):
        for way, build in ways.items():
            started = time.process_time()
            results[way] = build(big)
            cpu[way].append(time.process_time() - started)
    same = all(np.array_equal(results["now"][side][name][["start", "end", "row", "code", "pos", "turn"]].to_numpy(),
                              results["before"][side][name][["start", "end", "row", "code", "pos", "turn"]].to_numpy())
               for side in results["now"] for name in results["now"][side])
    now, before = statistics.median(cpu["now"]), statistics.median(cpu["before"])
    print(f"session batch and both sides' phrase scans; medians of {repeat}, CPU:")
    print(f"  now    (texts taken by row): {now:.2f} s = {len(big) / now:,.0f} messages/s")
    print(f"  before (each side's messages copied): {before:.2f} s = {len(big) / before:,.0f} messages/s")
    print(f"  ratio {before / now:.2f}x; same matches: {same}")


def loop_checks(messages: pd.DataFrame, hits: pd.DataFrame, complaints: pd.DataFrame,
                waits: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame, float, float]:
    """The naive way: one call per session; both tables and the seconds each took."""
    hits_by = dict(tuple(hits.groupby("session_id", sort=False)))
    complaints_by = dict(tuple(complaints.groupby("session_id", sort=False)))
    waits_by = dict(tuple(waits.groupby("session_id", sort=False))) if waits is not None else {}
    empty_hits, empty_complaints = hits.iloc[:0], complaints.iloc[:0]
    empty_waits = waits.iloc[:0] if waits is not None else None
    sessions = list(messages.groupby("session_id", sort=False))
    started = time.perf_counter()
    polite = [politeness_checks(part, hits_by.get(sid, empty_hits), complaints_by.get(sid, empty_complaints),
                                waits_by.get(sid, empty_waits)) for sid, part in sessions]
    polite_s = time.perf_counter() - started
    started = time.perf_counter()
    process = [process_checks(part, hits_by.get(sid, empty_hits), complaints_by.get(sid, empty_complaints))
               for sid, part in sessions]
    process_s = time.perf_counter() - started
    return pd.concat(polite, ignore_index=True), pd.concat(process, ignore_index=True), polite_s, process_s


def same_on(table: pd.DataFrame, looped: pd.DataFrame, chosen: set) -> bool:
    """The vectorised table and the loop's agree on the loop's sessions (values; NA, NaN and None alike)."""
    columns = [c for c in looped.columns if c in table.columns and c != "session_id"]
    mine = table[table["session_id"].isin(chosen)].set_index("session_id").sort_index()[columns]
    theirs = looped.set_index("session_id").sort_index()[columns]
    plain = lambda frame: frame.astype(object).where(frame.notna(), None)  # noqa: E731
    return plain(mine).equals(plain(theirs))


STAGES_CHILD = r"""
import json, sys, time
import pandas as pd
from cs_analytics import analyze
from cs_analytics.findings.analyze import FINDINGS
path, out = sys.argv[1], sys.argv[2]
found = analyze(pd.read_parquet(path), workers=1)
for name in FINDINGS:
    if name not in ("politeness", "process"):
        getattr(found, name)                     # what the two stages read, computed first
seconds = {}
for name in ("politeness", "process"):
    wall, cpu = time.perf_counter(), time.process_time()
    table = getattr(found, name)
    seconds[name] = (time.process_time() - cpu, time.perf_counter() - wall)
    table.to_pickle(f"{out}.{name}.pkl")
print(json.dumps(seconds))
"""


def checkout_comparison(data: Path, against: Path, repeat: int) -> None:
    """Politeness and process as ``analyze`` runs them, in fresh processes of this checkout and of
    ``against`` taken in turns: CPU and wall medians, the ratio, and whether the tables are identical."""
    here = Path(__file__).resolve().parents[2]
    checkouts = {"this": here, "against": against.resolve()}
    seconds: dict[str, dict[str, list[tuple[float, float]]]] = {k: {"politeness": [], "process": []} for k in checkouts}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(repeat):
            for label, checkout in checkouts.items():        # alternating: both see the same machine load
                env = {**os.environ, "PYTHONPATH": str(checkout)}
                done = subprocess.run([sys.executable, "-c", STAGES_CHILD, str(data), f"{scratch}/{label}"], env=env,
                                      check=True, capture_output=True, text=True, cwd=checkout)
                for name, pair in json.loads(done.stdout.strip().splitlines()[-1]).items():
                    seconds[label][name].append(tuple(pair))
        same = {}
        for name in ("politeness", "process"):
            try:
                pd.testing.assert_frame_equal(pd.read_pickle(f"{scratch}/this.{name}.pkl"),
                                              pd.read_pickle(f"{scratch}/against.{name}.pkl"), check_exact=True)
                same[name] = True
            except AssertionError:
                same[name] = False
    print(f"politeness and process as analyze runs them, one process, {data}; this checkout against {against}; "
          f"medians of {repeat} fresh processes each, taken in turns")
    def runs(label: str, name: str, i: int) -> list[float]:
        """The CPU (i = 0) or wall (i = 1) seconds of each run of a stage, or of both stages."""
        if name == "both":
            return [a[i] + b[i] for a, b in zip(seconds[label]["politeness"], seconds[label]["process"])]
        return [pair[i] for pair in seconds[label][name]]

    for name in ("politeness", "process", "both"):
        cpu = {label: statistics.median(runs(label, name, 0)) for label in checkouts}
        wall = {label: statistics.median(runs(label, name, 1)) for label in checkouts}
        note = "" if name == "both" else f"; identical tables: {same[name]}"
        print(f"  {name:10s} this {cpu['this']:.2f} s CPU ({wall['this']:.2f} s wall), against {cpu['against']:.2f} s CPU "
              f"({wall['against']:.2f} s wall); {cpu['against'] / cpu['this']:.2f}x less CPU{note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--loop-share", type=float, default=0.002, help="share of sessions the loop is timed on")
    parser.add_argument("--scan-only", action="store_true", help="time only the phrase scan, now and before")
    parser.add_argument("--against", type=Path, help="another checkout: time the two stages there and here, in turns")
    parser.add_argument("--data", type=Path, help="with --against: a Parquet file of messages (default the sample repeated)")
    args = parser.parse_args()
    if args.against:
        if args.data:
            checkout_comparison(args.data, args.against, args.repeat)
            return
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "messages.parquet"
            repeated_sample(args.copies).to_parquet(path)
            checkout_comparison(path, args.against, args.repeat)
        return
    big = repeated_sample(args.copies)
    phrase_scan_comparison(big, args.repeat)
    side_scan_comparison(big, args.repeat)
    if args.scan_only:
        return
    found = analyze(big)
    hits, complaints, waits = found.hits, found.complaint_sessions, found.long_waits
    sessions = big["session_id"].drop_duplicates()
    chosen = set(sessions.iloc[: max(1, int(len(sessions) * args.loop_share))])
    share = big[big["session_id"].isin(chosen)]

    times: dict[str, list[float]] = {"politeness": [], "process": []}
    loop_times: dict[str, list[float]] = {"politeness": [], "process": []}
    scale = len(big) / max(len(share), 1)
    for _ in range(args.repeat):
        for name in ("politeness", "process", "_sessions"):      # computed afresh, as a new analyze would
            found.__dict__.pop(name, None)
        for name in ("politeness", "process"):
            started = time.perf_counter()
            getattr(found, name)
            times[name].append(time.perf_counter() - started)
        in_share = lambda frame: frame[frame["session_id"].isin(chosen)]  # noqa: E731
        polite, process, polite_s, process_s = loop_checks(share, in_share(hits), in_share(complaints),
                                                           in_share(waits) if waits is not None else None)
        loop_times["politeness"].append(polite_s * scale)
        loop_times["process"].append(process_s * scale)
    agree = {"politeness": same_on(found.politeness, polite, chosen), "process": same_on(found.process, process, chosen)}
    print(f"{len(big):,} messages, {big['session_id'].nunique():,} sessions; loop on {len(share):,} messages, scaled")
    for name, fast_times in times.items():
        fast, loop = statistics.median(fast_times), statistics.median(loop_times[name])
        print(f"{name}: {fast:.2f} s median = {len(big) / fast:,.0f} messages/s (min {min(fast_times):.2f} s, "
              f"max {max(fast_times):.2f} s); per-session loop {loop:.1f} s (scaled) = {len(big) / loop:,.0f} messages/s; "
              f"ratio {loop / fast:.0f}x; same result on the loop's share: {agree[name]}")
    both = statistics.median([a + b for a, b in zip(times["politeness"], times["process"])])
    print(f"both: {both:.2f} s median = {len(big) / both:,.0f} messages/s")


if __name__ == "__main__":
    main()
