"""Readable tables: the column dictionary heads and formats every table a reader sees, in the notebook
HTML, the workbook and the deck (cases: tests/cases/column_cases.yaml)."""
from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml

from cs_analytics.findings import politeness, process
from cs_analytics.outputs import artefacts, columns, workbook
from cs_analytics.outputs.notebook import ROWS_SHOWN, Context, show_masked
from cs_analytics.tables import scorecards

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "column_cases.yaml").read_text(encoding="utf-8"))
BARE_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")       # rule_id, per_1000, taboo.refusal.no


def _value(raw):
    if isinstance(raw, dt.datetime):
        return pd.Timestamp(raw)
    return raw


@pytest.mark.parametrize("case", CASES["formats"], ids=[f"{c['format']}-{c['value']}" for c in CASES["formats"]])
def test_a_value_is_shown_in_its_format(case):
    assert columns.format_value(_value(case["value"]), case["format"], case.get("decimals", 2)) == case["shown"]


@pytest.mark.parametrize("case", CASES["headers"], ids=[c["column"] for c in CASES["headers"]])
def test_a_column_is_headed_from_the_dictionary(case):
    for style in ("plain", "zh", "html"):
        assert columns.header(case["column"], style) == case[style], style


@pytest.mark.parametrize("case", CASES["errors"], ids=[c["error"] for c in CASES["errors"]])
def test_a_bad_dictionary_entry_is_an_error_naming_the_file_and_the_column(case, tmp_path):
    path = tmp_path / "columns.yaml"
    path.write_text(case["text"], encoding="utf-8")
    with pytest.raises(columns.ColumnDictionaryError) as error:
        columns.load_dictionary(path)
    assert str(path) in str(error.value) and case["error"] in str(error.value)


def test_every_label_a_notebook_renames_to_has_an_entry():
    """Politeness checks, complaint-handling steps and scorecard components are shown under their
    Chinese labels: each label finds its entry (so its format), and the packaged dictionary loads."""
    labels = {**politeness.check_labels(), **process.check_labels(),
              **scorecards.component_labels(scorecards.scorecard_spec(None))}
    assert [label for label in labels.values() if not columns.known(label)] == []
    assert [check for check in labels if not columns.known(check)] == []


def test_a_frame_is_shown_without_a_bare_index():
    named = pd.DataFrame({"per_1000": [1.25]}, index=pd.Index(["jd"], name="platform"))
    assert list(columns.flat(named).columns) == ["platform", "per_1000"]
    numbered = pd.DataFrame({"hits": [3, 4, 5]}).iloc[[0, 2]]          # row numbers left after a filter
    assert list(columns.flat(numbered).columns) == ["hits"]
    assert list(columns.flat(pd.DataFrame({"hits": [1]})).columns) == ["hits"]
    labelled = pd.Series([0.5, 12.0], index=["mean", "max"], name="score")  # describe(): labels, no index name
    assert list(columns.flat(labelled).columns) == ["", "score"]
    wide = pd.DataFrame([[0.1, 0.2]], columns=pd.MultiIndex.from_tuples([("jd", "before"), ("jd", "after")]),
                        index=pd.Index(["greeting"], name="check"))
    html = columns.html_table(wide)
    assert "京东 · 之前" in html and "10.0%" in html and ">greeting<" in html


def test_a_measured_column_is_formatted_as_its_measure_in_the_html_and_the_workbook(tmp_path):
    """Columns named by a value (platforms, complaint types) holding shares read as percentages."""
    weekly = pd.DataFrame({"jd": [0.8383], "pdd": [0.9]}, index=pd.Index(["2025-09-15"], name="week"))
    shown = columns.measured(weekly, "within_180s")
    assert list(shown.columns) == ["within_180s:jd", "within_180s:pdd"] and columns.known("within_180s:jd")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", columns.html_table(shown))
    assert cells == ["2025-09-15", "83.8%", "90.0%"]
    assert list(columns.measured(weekly, "share_of_complaints", ["pdd"]).columns) == ["jd", "share_of_complaints:pdd"]
    assert columns.excel_format(shown["within_180s:jd"]) == "0.0%"
    assert not columns.known("优品:阿杰") and not columns.known("nothing_known:jd")


def test_a_table_is_shown_with_chinese_headers_and_formatted_values():
    frame = pd.DataFrame({"rule_id": ["taboo.refusal.no"], "per_1000": [103.836272], "evasion": [True],
                          "hits": [12345], "evasion_share": [np.nan]}, index=pd.Index(["service_taboo"], name="category"))
    html = columns.html_table(frame)
    heads = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", html)
    assert heads[:3] == ["类别<br><small>category</small>", "规则编号<br><small>rule id</small>",
                         "每千条违规<br><small>per 1,000 msgs</small>"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert cells == ["service_taboo", "taboo.refusal.no", "103.8", "是", "12,345", "—"]


def test_a_styled_frame_shown_gets_the_headers_and_formats():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert show_masked()
    frame = pd.DataFrame({"session_id": ["s1"], "score": [87.25], "transcript": ["客服:您好\n买家:电话13812345678"]})
    styled = frame.style.set_properties(subset=["transcript"], **{"white-space": "pre-wrap"})
    html = shell.display_formatter.format(styled)[0]["text/html"]
    assert "得分<br><small>score</small>" in html and ">87.2<" in html and "[手机号]" in html
    assert "white-space: pre-wrap" in html and 'class="row_heading' not in html     # its style kept, no 0..n index
    assert [c.data.columns.tolist() for c in [styled]] == [["session_id", "score", "transcript"]]   # the original untouched


def test_a_long_table_shows_its_first_rows_and_where_the_rest_is(tmp_path):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert show_masked()
    ctx = Context(result=None, messages=pd.DataFrame(), out_dir=tmp_path / "run")
    frame = pd.DataFrame({"hour": range(ROWS_SHOWN + 4), "rounds": range(ROWS_SHOWN + 4)})
    kept = ctx.table(frame.copy(), "04_by_hour", "各小时响应时长", "小时响应 hours")
    for shown, where in ((kept, "完整表见 workbook.xlsx 工作表「小时响应 hours」"), (kept.head(ROWS_SHOWN + 2), "工作表「小时响应 hours」"),
                         (frame, "此处未显示")):
        html = shell.display_formatter.format(shown)[0]["text/html"]
        assert html.count("<tr>") == ROWS_SHOWN + 1                   # the header and the first rows
        assert f"另有 {len(shown) - ROWS_SHOWN} 行," in html and where in html
    short = shell.display_formatter.format(frame.head(ROWS_SHOWN))[0]["text/html"]
    assert "另有" not in short


# ---------------------------------------------------------------------------------- a whole run ---
class _Headers(HTMLParser):
    """The text of every <th> in a page."""

    def __init__(self):
        super().__init__()
        self.open, self.heads = False, []

    def handle_starttag(self, tag, attrs):
        if tag == "th":
            self.open = True
            self.heads.append("")

    def handle_endtag(self, tag):
        if tag == "th":
            self.open = False

    def handle_data(self, data):
        if self.open:
            self.heads[-1] += data


@pytest.mark.parametrize("run", ["full_report", "bare_report"])
def test_no_table_in_a_report_is_headed_by_a_bare_identifier(run, request):
    out = request.getfixturevalue(run).out
    pages = sorted((out / "html").glob("*.html"))
    assert len(pages) == 7
    seen = 0
    for page in pages:
        parser = _Headers()
        parser.feed(page.read_text(encoding="utf-8"))
        seen += len(parser.heads)
        bare = sorted({h.strip() for h in parser.heads if BARE_ID.match(h.strip())})
        assert bare == [], f"{page.name}: headers without a dictionary entry: {bare}"
    assert seen > 20


def test_every_stored_table_column_has_an_entry_or_a_chinese_header(full_report):
    for entry in artefacts.tables(full_report.out):
        frame = artefacts.read_table(entry)
        unknown = [c for c in frame.columns if not columns.known(c) and not columns.is_chinese(c)]
        assert unknown == [], f"{entry['name']}: add these to cs_analytics/resources/columns.yaml"


def test_the_workbook_is_headed_in_chinese_with_english_and_formatted(full_report):
    book = openpyxl.load_workbook(full_report.out / "workbook.xlsx")
    for entry in artefacts.tables(full_report.out):
        sheet = book[entry["sheet"]]
        ids = list(artefacts.read_table(entry).columns)
        heads = [c.value for c in sheet[workbook.HEADER_ROW]]
        assert heads == [columns.header(c) for c in ids], entry["name"]
        assert all(columns.is_chinese(h) for h in heads), entry["name"]
    evidence = book["违规明细 evidence"]
    heads = [c.value for c in evidence[workbook.HEADER_ROW]]
    assert heads[:3] == ["消息 ID message id", "会话 ID session id", "发送时间 sent at"]
    first = {h: c for h, c in zip(heads, evidence[workbook.HEADER_ROW + 1])}
    assert first["变形规避 disguised"].value in ("是", "否")
    assert first["发送时间 sent at"].number_format == "yyyy-mm-dd hh:mm:ss"
    rules = book["规则 rules"]
    first = {c.value: cell for c, cell in zip(rules[workbook.HEADER_ROW], rules[workbook.HEADER_ROW + 1])}
    assert first["每千条违规 per 1,000 msgs"].number_format == "#,##0.0"
    assert first["命中次数 hits"].number_format == "#,##0"
    assert first["变形规避占比 share disguised"].number_format == "0.0%"
    assert first["严重程度 severity"].value in ("致命", "高", "中", "低")        # a label column: ids by their names
    load = {row[0]: row[1] for row in book["读入 load"].iter_rows(min_row=workbook.HEADER_ROW + 1, values_only=True)}
    assert load["has timestamps"] == "是" and load["rows read"].replace(",", "").isdigit()   # as the notebook shows them


def test_a_long_table_in_a_report_names_its_sheet(full_report):
    page = (full_report.out / "html" / "06_agent_scorecards.html").read_text(encoding="utf-8")
    assert re.search(r"另有 \d+ 行,完整表见 workbook.xlsx 工作表「客服每周 weekly」", page)


def test_platform_and_severity_ids_are_shown_by_name():
    """Charts and their takeaways read a platform (jd) or a severity (fatal) by its Chinese name; axes of
    other things (dates, agents) and ids the dictionary does not head stay as they are."""
    rates = pd.Series([1.0, 2.0, 3.0], index=pd.Index(["jd", "pdd", "kuaishou"], name="platform"), name="per_1000")
    assert list(columns.shown(rates).index) == ["京东", "拼多多", "kuaishou"]
    assert columns.shown(rates).index.name == "platform" and columns.shown(rates).tolist() == [1.0, 2.0, 3.0]
    matrix = pd.DataFrame([[1, 2]], index=pd.Index(["tmall"], name="platform"),
                          columns=pd.Index(["fatal", "low"], name="severity"))
    assert list(columns.shown(matrix).index) == ["天猫"] and list(columns.shown(matrix).columns) == ["致命", "低"]
    weeks = pd.DataFrame({"jd": [0.5]}, index=pd.Index([dt.date(2025, 9, 15)], name="week"))
    assert columns.shown(weeks).index[0] == dt.date(2025, 9, 15) and list(columns.shown(weeks).columns) == ["jd"]
    agents = pd.Series([1], index=pd.Index(["jd"], name="agent_id"))      # an agent called jd is not a platform
    assert list(columns.shown(agents).index) == ["jd"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", columns.html_table(pd.DataFrame({"platform": ["douyin"], "hits": [3]})))
    assert cells == ["抖音", "3"]
