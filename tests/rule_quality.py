"""Precision and recall of the default rulebook, per category.

    .venv/bin/python tests/rule_quality.py

Two yardsticks:

- **sample truth**: the bundled sample's planted violations (data/sample/sample_truth.csv). An agent
  message is truly in a category when the generator planted a phrase of it there (``violations``,
  ``;``-separated ``category[:subcategory]``), or, for informal_address, when ``informal`` is True.
  Judged per (message, category).
- **hand-written cases**: tests/cases/rule_cases.yaml, judged per (case, rule): a fired rule not in
  ``fires`` is a false positive, a listed rule that did not fire a false negative. Most cases are
  hard negatives (最近, 第一时间, 微信支付 on JD, 滚筒 …), so this is where false positives show.

tests/test_rule_quality.py asserts the thresholds; this script prints the tables.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CASES_FILE = Path(__file__).parent / "cases" / "rule_cases.yaml"


def _scores(tp: pd.Series, fp: pd.Series, fn: pd.Series) -> pd.DataFrame:
    table = pd.DataFrame({"tp": tp, "fp": fp, "fn": fn}).fillna(0).astype(int)
    table["precision"] = table["tp"] / (table["tp"] + table["fp"])
    table["recall"] = table["tp"] / (table["tp"] + table["fn"])
    return table.sort_index()


def sample_scores(messages: pd.DataFrame | None = None, hits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per category: tp, fp, fn, precision, recall against the sample's planted truth."""
    from cs_analytics.base import config
    from cs_analytics import load_logs
    from cs_analytics.findings.violations import find_violations

    if messages is None:
        messages = load_logs(config.SAMPLE_EXPORT, progress=False).messages
    if hits is None:
        hits = find_violations(messages)
    truth = pd.read_csv(config.SAMPLE_TRUTH, dtype={"message_id": str, "violations": str}, keep_default_na=False)
    truth = truth[truth["role"] == "agent"]
    expected = {(m, v.split(":")[0]) for m, vs in zip(truth["message_id"], truth["violations"]) for v in vs.split(";") if v}
    expected |= {(m, "informal_address") for m, i in zip(truth["message_id"], truth["informal"]) if str(i) == "True"}
    agent_ids = set(truth["message_id"])
    found = {(m, c) for m, c in zip(hits["message_id"].astype(str), hits["category"].astype(str)) if m in agent_ids}
    categories = sorted({c for _, c in expected | found})
    count = lambda pairs: pd.Series({c: sum(1 for _, k in pairs if k == c) for c in categories})  # noqa: E731
    return _scores(count(expected & found), count(found - expected), count(expected - found))


def case_scores() -> tuple[pd.DataFrame, list[str]]:
    """Per category: tp, fp, fn over the hand-written cases; plus a line per wrong case."""
    from cs_analytics.findings.violations import check_text
    from cs_analytics.findings.rulebook import load_rulebook

    rulebook = load_rulebook()
    category_of = {r.id: r.category for r in rulebook.rules}
    tp, fp, fn, wrong = {}, {}, {}, []
    for case in yaml.safe_load(CASES_FILE.read_text(encoding="utf-8")):
        hits = check_text(case["text"], case.get("platform", "taobao"), case.get("role", "agent"))
        got, want = set(hits["rule_id"].astype(str)), set(case["fires"])
        for rule in got | want:
            bucket = tp if rule in got and rule in want else fp if rule in got else fn
            bucket[category_of[rule]] = bucket.get(category_of[rule], 0) + 1
        if got != want:
            wrong.append(f"{case['text']} [{case.get('platform', 'taobao')}] expected {sorted(want)} got {sorted(got)}")
    return _scores(pd.Series(tp, dtype=int), pd.Series(fp, dtype=int), pd.Series(fn, dtype=int)), wrong


def main() -> None:
    print("Against the sample's planted truth (per message and category):")
    print(sample_scores().to_string(float_format="{:.3f}".format))
    table, wrong = case_scores()
    print("\nAgainst tests/cases/rule_cases.yaml (per case and rule):")
    print(table.to_string(float_format="{:.3f}".format))
    for line in wrong:
        print("wrong:", line)


if __name__ == "__main__":
    main()
