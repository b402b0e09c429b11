"""Readable tables: the column dictionary heads and formats every table a reader sees, in the notebook
HTML, the workbook and the deck (cases: tests/cases/column_cases.yaml)."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from cs_analytics.findings import politeness, process
from cs_analytics.outputs import columns
from cs_analytics.tables import scorecards

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "column_cases.yaml").read_text(encoding="utf-8"))


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


def test_a_table_is_shown_with_chinese_headers_and_formatted_values():
    frame = pd.DataFrame({"rule_id": ["taboo.refusal.no"], "per_1000": [103.836272], "evasion": [True],
                          "hits": [12345], "evasion_share": [np.nan]}, index=pd.Index(["service_taboo"], name="category"))
    html = columns.html_table(frame)
    heads = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", html)
    assert heads[:3] == ["类别<br><small>category</small>", "规则<br><small>rule</small>",
                         "每千条违规<br><small>per 1,000 msgs</small>"]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", html)
    assert cells == ["service_taboo", "taboo.refusal.no", "103.8", "是", "12,345", "—"]
