"""Evasion harness: disguise every banned phrase the ways the seeds say platforms still catch, and
count how many disguises the matcher still catches.

    .venv/bin/python tests/evasion_harness.py          # prints the catch rate per kind of disguise

Kinds: spaces between characters (支 付 宝), a symbol between characters (支*付*宝, 微-信), a
zero-width space, an emoji, full-width ASCII (ＱＱ), upper case, Traditional characters (體驗),
Traditional plus spaces, and full pinyin / initials (weixin, zfb) for rules that list pinyin.
Rules that count only when repeated (min_repeats) are left out. Each disguise is put in a carrier sentence on a platform where the rule applies; it is caught when
that rule fires with a span covering exactly the disguised text. tests/test_evasion.py asserts the
overall rate is at least 95 %.
"""
from __future__ import annotations

import random
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cs_analytics.findings.violations import find_violations  # noqa: E402
from cs_analytics.findings.rulebook import load_rulebook  # noqa: E402

SYMBOLS = ["*", "-", "_", "·", "/", "|", "~", ".", "+", "#"]
CATEGORIES = ("service_taboo", "absolute_claim", "efficacy_exaggeration", "third_party_platform",
              "off_platform_transaction", "review_inducement", "abuse")
CARRIER = "亲，{}。"


@lru_cache(maxsize=1)
def _s2t():
    import opencc

    return opencc.OpenCC("s2t")


def _to_traditional(text: str) -> str:
    return _s2t().convert(text)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def disguises(phrase: str, rng: random.Random, pinyin: list[str]) -> list[tuple[str, str]]:
    """(kind, disguised text) for one phrase."""
    chars = list(phrase)
    out = []
    if len(chars) > 1:
        out.append(("spaces", " ".join(chars)))
        out.append(("symbol", rng.choice(SYMBOLS).join(chars)))
        out.append(("zero_width", "\u200b".join(chars)))
        out.append(("emoji", "😊".join(chars)))
    if re.search(r"[a-z0-9]", phrase):
        out.append(("full_width", _full_width(phrase)))
        out.append(("upper_case", phrase.upper()))
    traditional = _to_traditional(phrase)
    if traditional != phrase:
        out.append(("traditional", traditional))
        out.append(("traditional_spaces", " ".join(traditional)))
    if pinyin and re.fullmatch(r"[\u4e00-\u9fff]{2,}", phrase):
        from pypinyin import Style, lazy_pinyin

        if "full" in pinyin:
            out.append(("pinyin", "".join(lazy_pinyin(phrase))))
        if "initials" in pinyin:
            out.append(("initials", "".join(lazy_pinyin(phrase, style=Style.FIRST_LETTER)).upper()))
    return out


def run(seed: int = 1) -> tuple[Counter, Counter, list[tuple[str, str, str]]]:
    """Return (tried per kind, caught per kind, misses as (rule id, kind, text))."""
    import pandas as pd
    import yaml

    rulebook = load_rulebook()
    pinyin_of = {}
    for path in rulebook.files:
        for entry in (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("rules", []) or []:
            pinyin_of[entry["id"]] = entry.get("pinyin") or []
    rng = random.Random(seed)
    rows = []
    for rule in rulebook.rules:
        if rule.category not in CATEGORIES or not rule.phrases or rule.min_repeats > 1:
            continue
        platform = sorted(rule.platforms)[0]
        for phrase in rule.phrases:
            for kind, text in disguises(phrase, rng, pinyin_of.get(rule.id, [])):
                rows.append({"message_id": str(len(rows)), "session_id": str(len(rows)), "role": "agent",
                             "platform": platform, "text": CARRIER.format(text), "rule_id": rule.id,
                             "kind": kind, "disguise": text})
    cases = pd.DataFrame(rows)
    hits = find_violations(cases[["message_id", "session_id", "role", "platform", "text"]], rulebook)
    offset = CARRIER.index("{}")
    tried, caught, misses = Counter(), Counter(), []
    found = set(zip(hits["message_id"].astype(str), hits["rule_id"].astype(str), hits["start"], hits["end"]))
    for case in cases.itertuples(index=False):
        tried[case.kind] += 1
        if (case.message_id, case.rule_id, offset, offset + len(case.disguise)) in found:
            caught[case.kind] += 1
        else:
            misses.append((case.rule_id, case.kind, case.disguise))
    return tried, caught, misses


def main() -> None:
    tried, caught, misses = run()
    for kind in sorted(tried):
        print(f"{kind:20s} {caught[kind]:5d} / {tried[kind]:5d}  {caught[kind] / tried[kind]:.1%}")
    total = sum(tried.values())
    print(f"{'all':20s} {sum(caught.values()):5d} / {total:5d}  {sum(caught.values()) / total:.1%}")
    for miss in misses[:30]:
        print("missed", *miss)


if __name__ == "__main__":
    main()
