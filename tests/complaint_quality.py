"""Precision and recall of the complaint classifier, per type and signal.

    .venv/bin/python tests/complaint_quality.py

Two yardsticks:

- **sample truth** (data/sample/sample_truth*.csv): per customer message, the planted
  ``complaint_type``, ``escalation``, ``anger`` and ``compensation``; per session, the ``scenario``
  (a complaint type or ``presale``) against the classifier's ``primary``, and the session flags.
  The sample's customer lines were written alongside the taxonomy, so read 1.000 as consistency,
  not real-world accuracy.
- **hand-written cases** (tests/cases/complaint_cases.yaml): realistic messages, most of them hard
  negatives; judged per (case, label).

tests/test_complaints.py asserts thresholds on both; this script prints the tables.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES_FILE = Path(__file__).parent / "cases" / "complaint_cases.yaml"
HELD_OUT_FILE = Path(__file__).parent / "cases" / "complaint_cases_heldout.yaml"
FLAGS = ("escalation", "anger", "compensation")


def _scores(expected: set, found: set) -> pd.DataFrame:
    labels = sorted({k for _, k in expected | found})
    count = lambda pairs: pd.Series({c: sum(1 for _, k in pairs if k == c) for c in labels}, dtype="int64")  # noqa: E731
    table = pd.DataFrame({"tp": count(expected & found), "fp": count(found - expected),
                          "fn": count(expected - found)}).fillna(0).astype(int)
    table["precision"] = table["tp"] / (table["tp"] + table["fp"])
    table["recall"] = table["tp"] / (table["tp"] + table["fn"])
    return table


def sample_message_scores(messages: pd.DataFrame | None = None, labels: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per customer message and label (type ids and the three flags) against the planted truth."""
    from cs_analytics.base import config
    from cs_analytics import load_logs
    from cs_analytics.findings.complaints import label_messages

    if messages is None:
        messages = load_logs(config.SAMPLE_EXPORT, progress=False).messages
    if labels is None:
        labels = label_messages(messages)
    truth = pd.read_csv(config.SAMPLE_TRUTH, dtype={"message_id": str}, keep_default_na=False)
    truth = truth[(truth["role"] == "customer") & (truth["dirty"] == "")]
    expected = {(m, t) for m, t in zip(truth["message_id"], truth["complaint_type"]) if t}
    for flag in FLAGS:
        expected |= {(m, flag) for m, v in zip(truth["message_id"], truth[flag]) if str(v) == "True"}
    known = set(truth["message_id"])
    found = {(m, t) for m, ts in zip(labels["message_id"], labels["types"]) if m in known for t in ts}
    for flag in FLAGS:
        found |= {(m, flag) for m, v in zip(labels["message_id"], labels[flag]) if v and m in known}
    return _scores(expected, found)


def sample_session_scores(messages: pd.DataFrame | None = None, sessions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per session: primary type against the planted complaint scenario, the contact reason (``contact:<topic>``)
    against the planted topic of every session, and the three session flags."""
    from cs_analytics import classify_complaints, load_logs
    from cs_analytics.base import config

    if messages is None:
        messages = load_logs(config.SAMPLE_EXPORT, progress=False).messages
    if sessions is None:
        sessions = classify_complaints(messages)
    truth = pd.read_csv(config.SAMPLE_TRUTH_SESSIONS, keep_default_na=False)
    expected = {(s, t) for s, t, c in zip(truth["session_id"], truth["scenario"], truth["is_complaint"]) if str(c) == "True"}
    # every session's contact reason, complaint or not, as contact:<topic>
    expected |= {(s, f"contact:{t}") for s, t in zip(truth["session_id"], truth["contact_reason"])}
    for flag in FLAGS:
        expected |= {(s, flag) for s, v in zip(truth["session_id"], truth[flag]) if str(v) == "True"}
    found = {(s, p) for s, p in zip(sessions["session_id"], sessions["primary"]) if isinstance(p, str)}
    found |= {(s, f"contact:{t}") for s, t in zip(sessions["session_id"], sessions["contact_reason"])}
    for flag in FLAGS:
        found |= {(s, flag) for s, v in zip(sessions["session_id"], sessions[flag]) if v}
    return _scores(expected, found)


def load_cases(path: Path = CASES_FILE) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def judge_case(case: dict, signals: pd.DataFrame) -> dict[str, set]:
    """Expected and found labels of one case: types, inquiry topics and flags."""
    fam = lambda f: set(signals.loc[signals["family"] == f, "label"])  # noqa: E731
    types = fam("complaint")
    found = {"types": types, "inquiry": fam("inquiry") - types}
    expected = {"types": set(case.get("types") or []), "inquiry": set(case.get("inquiry") or [])}
    for flag in FLAGS:
        found[flag] = {flag} if not signals[signals["family"] == flag].empty else set()
        expected[flag] = {flag} if case.get(flag) else set()
    return {"expected": expected, "found": found}


def case_scores(path: Path = CASES_FILE) -> tuple[pd.DataFrame, list[str]]:
    """Per label over the hand-written cases (inquiry topics as ``inquiry:<type>``), and the wrong cases."""
    from cs_analytics.findings.complaints import check_complaint

    expected, found, wrong = set(), set(), []
    for i, case in enumerate(load_cases(path)):
        judged = judge_case(case, check_complaint(case["text"]))
        for key in judged["expected"]:
            prefix = "inquiry:" if key == "inquiry" else ""
            expected |= {(i, prefix + v) for v in judged["expected"][key]}
            found |= {(i, prefix + v) for v in judged["found"][key]}
        if judged["expected"] != judged["found"]:
            diff = {k: (sorted(judged["expected"][k]), sorted(judged["found"][k]))
                    for k in judged["expected"] if judged["expected"][k] != judged["found"][k]}
            wrong.append(f"{case['text']!r}: expected/found {diff}")
    return _scores(expected, found), wrong


def micro(table: pd.DataFrame) -> dict[str, float]:
    """Micro-averaged precision, recall and F1 over every label of a scores table."""
    tp, fp, fn = (int(table[c].sum()) for c in ("tp", "fp", "fn"))
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 3)}


def main() -> None:
    pd.set_option("display.width", 160)
    print("Sample truth, per customer message:")
    print(sample_message_scores().round(3).to_string())
    print("\nSample truth, per session (primary type vs planted scenario, flags):")
    print(sample_session_scores().round(3).to_string())
    for path in (CASES_FILE, HELD_OUT_FILE):
        table, wrong = case_scores(path)
        print(f"\nHand-written cases ({path.name}):")
        print(table.round(3).to_string())
        print("micro:", micro(table))
        print(f"{len(wrong)} of {len(load_cases(path))} case(s) wrong" + (":" if wrong else ""))
        for line in wrong:
            print("  " + line)


if __name__ == "__main__":
    main()
