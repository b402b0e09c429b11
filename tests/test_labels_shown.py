"""What readers see names rules by their Chinese labels, not their ids (evidence tables keep both), and an
export without agent accounts says the agent count is unknown instead of 0."""
from __future__ import annotations

import re

import pytest

from cs_analytics import load_rulebook
from cs_analytics.outputs import artefacts

# a rule id: lower-case words joined by dots (informal.ni, taboo.shirking.dont_know)
RULE_ID = re.compile(r"(?<![A-Za-z0-9_.])[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")


def shown_ids(text: str) -> set[str]:
    """Rule ids in ``text``: anything shaped like one, and every id of the default rulebook."""
    return set(RULE_ID.findall(text)) | {r.id for r in load_rulebook().rules if r.id in text}


def chart_texts(svg) -> list[str]:
    """The words drawn on a chart: the SVG draws glyphs as paths and keeps each text as a comment."""
    return re.findall(r"<!-- (.*?) -->", svg.read_text(encoding="utf-8"))


def test_the_id_pattern_finds_rule_ids_only():
    assert shown_ids("最常见的规则 informal.ni:2,843 次") == {"informal.ni"}
    assert shown_ids("规则taboo.shirking.dont_know命中") == {"taboo.shirking.dont_know"}
    assert not shown_ids("违规率最高:pdd(291 次/千条),变形规避占 1.4%;jd_kefu_03;Top rules per 1,000")


def test_figures_takeaways_and_charts_show_rule_labels(full_report):
    out = full_report.out
    figures = artefacts.figures(out)
    assert figures
    for figure in figures:
        for text in (figure["title"], figure["takeaway"]):
            assert not shown_ids(text or ""), (figure["name"], text)
    for summary in artefacts.summaries(out):
        for line in summary["lines"]:
            assert not shown_ids(line), (summary["name"], line)
    charts = sorted((out / "figures").glob("02_*.svg"))
    assert len(charts) >= 8
    for svg in charts:
        texts = chart_texts(svg)
        assert not set().union(*map(shown_ids, texts)), (svg.name, texts)
    top_rules = chart_texts(out / "figures" / "02_top_rules.svg")
    assert "用「你」不用「您」" in top_rules and "引导加联系方式" in top_rules    # the bars are named by rule labels
    takeaway = next(f["takeaway"] for f in figures if f["name"] == "02_top_rules")
    assert takeaway.startswith("最常见的规则 用「你」不用「您」:") and "15 位客服" in takeaway


def test_an_export_without_agent_accounts_says_the_agent_count_is_unknown(bare_report):
    out = bare_report.out
    takeaway = next(f["takeaway"] for f in artefacts.figures(out) if f["name"] == "02_top_rules")
    assert "客服人数未知" in takeaway and "0 位客服" not in takeaway
    lines = [line for s in artefacts.summaries(out) for line in s["lines"]]
    assert any("客服人数未知" in line for line in lines)
    assert not any(re.search(r"(?<![\d,])0 位客服", line) for line in lines)
