"""Throughput of the complaint findings, and of their grouping steps against the Python loops they replace.

    .venv/bin/python tests/benchmarks/bench_complaints.py --copies 40 --repeat 3
    .venv/bin/python tests/benchmarks/bench_complaints.py --messages path/to/messages.parquet

Prints messages/s for ``complaint_signals`` (matching), ``label_messages`` and ``classify_complaints``
(given the signals), median of ``--repeat`` runs, then, on the same data, each grouping step done by a
loop over messages or sessions (how it was first written) and by sorted codes (how it is done now),
and the per-session steps (talkative counts, session heads) done by pandas sorting by session id and
grouping against session codes, and the taxonomy's regexes scanned over the whole block and only over the
messages holding their required literals, with the ratios. Timings on a shared machine are noisy: compare medians and ratios.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from cs_analytics import classify_complaints, complaint_signals, label_messages
from cs_analytics.base.schema import as_messages
from cs_analytics.findings import complaints
from cs_analytics.findings.complaints import talkative_sessions
from cs_analytics.textmatch.prefilter import candidate_spans
from sample_copies import repeated_sample


def median_seconds(run, repeat: int):
    """The median time of ``repeat`` calls of ``run`` and its last result."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def loop_message_tuples(messages: pd.DataFrame, signals: pd.DataFrame) -> list[tuple]:
    """The complaint types of each customer message by a loop over the findings and the messages."""
    ordered = signals[signals["family"] == "complaint"].sort_values(["message_id", "start"], kind="stable")
    found: dict = {}
    for message_id, label in zip(ordered["message_id"], ordered["label"]):
        seen = found.get(message_id, ())
        if label not in seen:
            found[message_id] = seen + (label,)
    return [found.get(i, ()) for i in messages.loc[messages["role"] == "customer", "message_id"].tolist()]


def coded_message_tuples(messages: pd.DataFrame, signals: pd.DataFrame) -> np.ndarray:
    customer_ids = messages.loc[messages["role"] == "customer", "message_id"]
    return complaints._MessageLabels(customer_ids, signals).tuples("complaint")


def loop_session_dicts(totals: pd.DataFrame) -> dict:
    """Per session a dict label → score, by a loop over the groups (how contact scores were built)."""
    return {sid: dict(zip(g["label"], g["score"].round(2))) for sid, g in totals.groupby("session_id", sort=False)}


def coded_session_dicts(totals: pd.DataFrame) -> list[dict]:
    session, names = pd.factorize(totals["session_id"])
    label, label_names = pd.factorize(totals["label"])
    return complaints._dicts(session, label, np.round(totals["score"].to_numpy(), 2), list(label_names), len(names))


def pandas_talkative(messages: pd.DataFrame, limits: dict) -> pd.DataFrame:
    """talkative_sessions by sorting the messages by session id and grouping in pandas (how it was first written)."""
    frame = messages[["session_id", "seq", "role", "text"]]
    frame = frame[frame["role"].isin(["customer", "agent", "bot"])].sort_values(["session_id", "seq"], kind="stable")
    is_customer = frame["role"].eq("customer")
    run = (~is_customer).groupby(frame["session_id"], sort=False).cumsum()
    customer = frame[is_customer].assign(run=run[is_customer])
    text = customer["text"].fillna("").astype(str).str.strip()
    repeats = (customer.assign(t=text)[text.str.len() >= limits.get("repeat_min_chars", 4)]
               .groupby(["session_id", "t"]).size().groupby(level=0).max())
    out = pd.DataFrame({
        "customer_messages": customer.groupby("session_id", sort=False).size(),
        "longest_burst": customer.groupby(["session_id", "run"]).size().groupby(level=0).max(),
        "longest_message": text.str.len().groupby(customer["session_id"]).max(),
    })
    out["most_repeats"] = repeats.reindex(out.index).fillna(1).astype(int)
    checks = {
        f"messages>={limits['min_messages']}": out["customer_messages"] >= limits["min_messages"],
        f"burst>={limits['min_burst']}": out["longest_burst"] >= limits["min_burst"],
        f"message>={limits['long_message_chars']}chars": out["longest_message"] >= limits["long_message_chars"],
        f"repeated>={limits['min_repeats']}x": out["most_repeats"] >= limits["min_repeats"],
    }
    reason = pd.Series("", index=out.index)
    for name, met in checks.items():
        reason = reason.where(~met, reason.where(reason == "", reason + "; ") + name)
    out["talkative"] = pd.DataFrame(checks).any(axis=1)
    out["talkative_reason"] = reason
    out.index.name = "session_id"
    return out


def pandas_session_heads(messages: pd.DataFrame) -> pd.DataFrame:
    """Each session's first platform, shop, sku and its start by sorting by session id and grouping (how
    ``classify_complaints`` first did it), for the sessions with customer messages."""
    ordered = messages[["session_id", "seq", "platform", "shop", "sku", "ts"]].sort_values(["session_id", "seq"], kind="stable")
    first = ordered.groupby("session_id", sort=False)
    heads = pd.DataFrame({
        "platform": first["platform"].first(), "shop": first["shop"].first(),
        "sku": ordered.dropna(subset=["sku"]).groupby("session_id", sort=False)["sku"].first(),
        "started": first["ts"].min(),
    })
    return heads[heads.index.isin(messages.loc[messages["role"] == "customer", "session_id"])]


def coded_session_heads(messages: pd.DataFrame) -> pd.DataFrame:
    sessions = complaints._SessionCodes(messages)
    customer_rows = np.flatnonzero(messages["role"].eq("customer").to_numpy(dtype=bool, na_value=False))
    return complaints._session_heads(messages, sessions, sessions.by_id(customer_rows))


def regex_scans(messages: pd.DataFrame, repeat: int) -> None:
    """The taxonomy's regexes over the customers' messages: each scanned over the whole block (as before)
    against only the messages holding one literal of each set it requires (found by the phrase scan that
    runs anyway), with the spans compared."""
    taxonomy = complaints.load_taxonomy()
    rows = np.flatnonzero(messages["role"].eq("customer").to_numpy(dtype=bool, na_value=False))
    block = complaints.normalize_block(complaints._arrow_text(messages).take(rows))
    found = taxonomy._phrase_set.find(block)
    kinds, indexes = taxonomy._phrase_codes
    literal = kinds[found["entry"]] < 0
    candidates = complaints._regex_candidates(found["msg"][literal], indexes[found["entry"]][literal], taxonomy)
    patterns = [pattern for _, pattern in taxonomy._regexes]
    whole, expected = median_seconds(lambda: [block.regex_spans(p) for p in patterns], repeat)
    fast, got = median_seconds(lambda: [candidate_spans(block, p, candidates.get(i)) for i, p in enumerate(patterns)],
                               repeat)
    same = all(np.array_equal(a, b) for a, b in zip(got, expected))
    print(f"{'taxonomy regexes':<28} whole block {whole:.3f} s, messages holding their literals {fast:.3f} s: "
          f"{whole / fast:,.1f}x ({len(candidates)} of {len(patterns)} prefiltered; same spans: {same})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=40, help="copies of the sample (each ~26k messages)")
    parser.add_argument("--messages", help="a messages table (.parquet, as load_logs gives it) instead of the sample")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    big = as_messages(pd.read_parquet(args.messages) if args.messages else repeated_sample(args.copies))
    n = len(big)
    complaint_signals(big.head(1000))     # load the taxonomy and compile the matchers outside the timings
    sig, signals = median_seconds(lambda: complaint_signals(big), args.repeat)
    lab, _ = median_seconds(lambda: label_messages(big, signals), args.repeat)
    ses, sessions = median_seconds(lambda: classify_complaints(big, signals=signals), args.repeat)
    print(f"{n:,} messages, {len(sessions):,} sessions, {len(signals):,} findings")
    print(f"complaint_signals:   median {sig:.2f} s  ({n / sig:,.0f} messages/s)")
    print(f"label_messages:      median {lab:.2f} s  ({n / lab:,.0f} messages/s), given the signals")
    print(f"classify_complaints: median {ses:.2f} s  ({n / ses:,.0f} messages/s), given the signals")
    print(f"all three:           {sig + lab + ses:.2f} s")

    # the grouping steps, loop against sorted codes, on the same data
    sorted_sessions = sessions.sort_values("session_id")
    totals = pd.DataFrame({"session_id": np.repeat(sorted_sessions["session_id"].to_numpy(), 2),
                           "label": np.tile(["logistics", "quality"], len(sorted_sessions)),
                           "score": np.tile([6.0, 2.0], len(sorted_sessions))})
    steps = {
        "complaint types per message": (lambda: loop_message_tuples(big, signals),
                                        lambda: coded_message_tuples(big, signals)),
        "contact scores per session": (lambda: loop_session_dicts(totals), lambda: coded_session_dicts(totals)),
    }
    for name, (loop, coded) in steps.items():
        slow, expected = median_seconds(loop, 1)
        fast, got = median_seconds(coded, args.repeat)
        same = list(got) == (list(expected.values()) if isinstance(expected, dict) else expected)
        print(f"{name:<28} loop {slow:.2f} s, codes {fast:.3f} s: {slow / fast:,.0f}x (same values: {same})")
    # the per-session steps of classify_complaints, pandas sorting and grouping against session codes
    limits = complaints.load_taxonomy().temperament["talkative"]
    frames = {
        "talkative per session": (lambda: pandas_talkative(big, limits), lambda: talkative_sessions(big)),
        "session heads": (lambda: pandas_session_heads(big), lambda: coded_session_heads(big)),
    }
    for name, (grouped, coded) in frames.items():
        slow, expected = median_seconds(grouped, args.repeat)
        fast, got = median_seconds(coded, args.repeat)
        print(f"{name:<28} pandas {slow:.2f} s, codes {fast:.3f} s: {slow / fast:,.1f}x (same table: {got.equals(expected)})")
    regex_scans(big, args.repeat)


if __name__ == "__main__":
    main()
