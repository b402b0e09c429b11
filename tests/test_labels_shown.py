"""What readers see names rules by their Chinese labels, not their ids (evidence tables keep both), and an
export without agent accounts says the agent count is unknown instead of 0. The notebook tables name
set-aside reasons and metric units by their labels and show shares as percentages, unrounded."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from pptx import Presentation

from cs_analytics import load_rulebook
from cs_analytics.base.schema import quarantine_reasons, reason_label
from cs_analytics.findings.timing import METRICS, UNITS
from cs_analytics.outputs import artefacts, columns

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


class _Tables(HTMLParser):
    """Every cs-table of a page: its column ids (the headers' titles), header texts and cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self.inside, self.cell = [], False, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.inside = "cs-table" in (dict(attrs).get("class") or "")
            if self.inside:
                self.tables.append({"ids": [], "heads": [], "rows": []})
        elif self.inside and tag == "th":
            self.tables[-1]["ids"].append(dict(attrs).get("title", ""))
            self.cell = ""
        elif self.inside and tag == "tr":
            self.tables[-1]["rows"].append([])
        elif self.inside and tag == "td":
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        if self.cell is not None and tag == "th":
            self.tables[-1]["heads"].append(self.cell)
        elif self.cell is not None and tag == "td":
            self.tables[-1]["rows"][-1].append(self.cell)
        if tag in ("th", "td"):
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def page_tables(out) -> dict[str, list[dict]]:
    found = {}
    for page in sorted((out / "html").glob("*.html")):
        parser = _Tables()
        parser.feed(page.read_text(encoding="utf-8"))
        found[page.name] = [dict(t, rows=[r for r in t["rows"] if r]) for t in parser.tables]
    return found


def test_the_table_reader_sees_cells_and_headers():
    parser = _Tables()
    parser.feed(columns.html_table(__import__("pandas").DataFrame({"reason_label": ["空消息"], "share": [0.25]})))
    assert parser.tables == [{"ids": ["reason_label", "share"], "heads": ["隔离原因reason", "占比share"],
                              "rows": [[], ["空消息", "25.0%"]]}]


@pytest.mark.parametrize("run", ["full_report", "bare_report"])
def test_notebook_tables_name_reasons_and_units_and_show_shares_as_percent(run, request):
    """No table cell or header shows a set-aside reason id, a metric unit or metric id; every share
    column shows %, and not rounded to whole percents before it was formatted (90.0%, 29.0%)."""
    ids = set(quarantine_reasons()) | set(UNITS) | set(METRICS)
    tables = page_tables(request.getfixturevalue(run).out)
    assert len(tables) == 7 and sum(map(len, tables.values())) > 20
    for page, found in tables.items():
        for table in found:
            for text in table["heads"] + [cell for row in table["rows"] for cell in row]:
                shown = ids & set(re.findall(r"[A-Za-z0-9_]+", text))
                assert not shown, f"{page}: {text!r} shows the id(s) {shown}"
            for i, column in enumerate(table["ids"]):
                if columns.column(column).format != "percent":
                    continue
                values = [row[i] for row in table["rows"] if row[i] != columns.MISSING]
                assert all(v.endswith("%") for v in values), (page, column, values)
                if len(set(values)) >= 6:
                    assert not all(v.endswith(".0%") for v in values), f"{page}: {column} rounded before shown: {values}"
    measured = {c for found in tables.values() for t in found for c in t["ids"] if ":" in c}
    assert any(c.startswith("share_of_complaints:") for c in measured)            # 03: types by platform, temperament
    if run == "full_report":
        assert any(c.startswith("within_180s:") for c in measured)                # 04: weekly share within 180 s


def test_takeaways_the_summary_page_and_the_deck_name_reasons_and_units(full_report):
    out = full_report.out
    ids = {i for i in set(quarantine_reasons()) | set(UNITS) | set(METRICS) if "_" in i} | {"duplicate"}
    texts = [f["takeaway"] or "" for f in artefacts.figures(out)] + [line for s in artefacts.summaries(out) for line in s["lines"]]
    for text in texts:
        assert not ids & set(re.findall(r"[A-Za-z0-9_]+", text)), text
    metrics = artefacts.read_table(next(t for t in artefacts.tables(out) if t["name"] == "04_platform_metrics"))
    lines = next(s["lines"] for s in artefacts.summaries(out) if s["name"] == "04_takeaways")
    for row in metrics.itertuples():               # each platform metric says what it counts: 按会话首轮计,共 481
        assert any(line.startswith(f"- {row.label}:") and f"(按{row.unit_label}计,共 {row.units:,})" in line
                   for line in lines), row.label
    set_aside = json.loads((out / "run.json").read_text(encoding="utf-8"))["load"]["set_aside_by_reason"]
    assert set_aside
    takeaway = next(f["takeaway"] for f in artefacts.figures(out) if f["name"] == "01_quarantine_reasons")
    assert reason_label(max(set_aside, key=set_aside.get)) in takeaway
    facts = re.search(r"<section id='data'>.*?</section>", (out / "index.html").read_text(encoding="utf-8"), re.S).group(0)
    for reason, rows in set_aside.items():
        assert f"{reason_label(reason, english=True)} {rows:,}" in facts
        facts = facts.replace(reason_label(reason, english=True), "")      # its English may share the id's word
    assert not set(set_aside) & set(re.findall(r"[A-Za-z0-9_]+", facts))
    deck = Presentation(out / "deck.pptx")
    table = next(sh.table for slide in deck.slides for sh in slide.shapes
                 if sh.has_table and sh.table.cell(0, 0).text.startswith("隔离原因"))
    assert {table.cell(r, 0).text for r in range(1, len(table.rows))} == {reason_label(r, english=True) for r in set_aside}
