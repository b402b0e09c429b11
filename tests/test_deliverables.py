"""The pieces of the report's deliverables: takeaways, stored tables, evidence, scorecards, workbook, deck."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from cs_analytics.base.privacy import export_safe
from cs_analytics.outputs import artefacts, plots
from cs_analytics.base import config
from cs_analytics import find_violations, politeness_checks, reply_rounds
from cs_analytics.tables import takeaways
from cs_analytics.tables import scorecards as sc, violation_stats as vs
from cs_analytics.outputs import columns, workbook
from cs_analytics.outputs.deck import coaching_rows, example_rows, write_deck, write_full_deck
from cs_analytics.outputs.notebook import Context
from cs_analytics.outputs.workbook import write_workbook

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "takeaway_cases.yaml").read_text(encoding="utf-8"))
MANIFEST = {"package_version": "0.1.0", "rulebook_version": "abc123def456", "created": "2026-11-22T10:00:00",
            "inputs": [{"name": "export.csv", "path": "/x/export.csv", "bytes": 10, "sha256": "ab" * 32}],
            "load": {"rows_read": 10, "rows_kept": 9, "rows_set_aside": 1, "sessions": 3, "platforms": ["jd"], "shops": 1},
            "parameters": {"LOGS": "/x/export.csv"}, "notebooks": [{"notebook": "02_x.ipynb", "ok": True, "seconds": 1.0, "error": ""}]}


@pytest.mark.parametrize("case", CASES, ids=[f"{c['function']}-{i}" for i, c in enumerate(CASES)])
def test_takeaway_sentences(case):
    data = pd.Series(case["values"]) if "values" in case else pd.DataFrame(case["table"])
    assert getattr(takeaways, case["function"])(data, *case["args"], **case.get("kwargs", {})) == case["expect"]


def test_sheet_names_are_valid_for_excel():
    assert artefacts.sheet_name("违规明细 [all]: a/b?") == "违规明细  all   a b"
    assert len(artefacts.sheet_name("x" * 50)) == 31


def test_stored_tables_drop_buyer_accounts_and_mask_text(tmp_path):
    frame = pd.DataFrame({"session_id": ["s1"], "customer_id": ["tb_zhangwei88"], "agent_id": ["小美"],
                          "excerpt": ["收件人张伟，电话13812345678"], "types": [["logistics", "quality"]],
                          "mixed": [1]}).set_index("session_id")
    frame["mixed"] = frame["mixed"].astype(object)
    frame.loc["s1", "mixed"] = "x"
    artefacts.record_table(tmp_path, frame, "02_x", "标题 title", "表 sheet")
    entry = json.loads((tmp_path / "02_x.json").read_text(encoding="utf-8"))
    stored = pd.read_parquet(tmp_path / "02_x.parquet")
    assert list(stored.columns) == ["session_id", "agent_id", "excerpt", "types", "mixed"]
    assert stored.loc[0, "excerpt"] == "收件人[姓名]，电话[手机号]"
    assert stored.loc[0, "types"] == "logistics、quality"
    assert entry["sheet"] == "表 sheet" and entry["rows"] == 1


def test_context_records_figures_with_title_and_takeaway_in_saving_order(tmp_path):
    ctx = Context(result=None, messages=pd.DataFrame(), out_dir=tmp_path)
    plots.setup_style()
    for name, title in (("02_b", "第二张"), ("01_z", "第一张"), ("02_a", "第三张")):
        fig, ax = plt.subplots()
        ax.set_title(title)
        ctx.save(fig, name, takeaway=f"{title}的结论")
        plt.close(fig)
    found = artefacts.figures(tmp_path)
    assert [f["name"] for f in found] == ["01_z", "02_b", "02_a"]        # notebook order, then saving order
    assert found[1]["title"] == "第二张" and found[1]["takeaway"] == "第二张的结论"
    assert all(f["png"].exists() and f["svg"] is None for f in found)            # PNG only unless asked


def test_context_saves_svg_too_when_asked(tmp_path):
    ctx = Context(result=None, messages=pd.DataFrame(), out_dir=tmp_path, figure_formats=("png", "svg"))
    plots.setup_style()
    fig, ax = plt.subplots()
    ax.set_title("图")
    ctx.save(fig, "01_a", takeaway="结论")
    plt.close(fig)
    (found,) = artefacts.figures(tmp_path)
    assert found["png"].exists() and found["svg"].exists()


def test_evidence_has_every_hit_with_span_and_masked_text(sample_load):
    messages = sample_load.messages
    hits = find_violations(messages)
    table = vs.evidence(messages, hits)
    assert len(table) == len(hits) and list(table.columns) == vs.EVIDENCE_COLUMNS
    assert (table["message_id"].to_numpy() == hits["message_id"].to_numpy()).all()
    assert (table["start"].to_numpy() == hits["start"].astype(int).to_numpy()).all()
    assert table["excerpt"].str.contains("【").all() and table["suggest"].notna().all()
    leaks = table[table["category"] == "privacy_leak"]
    assert len(leaks) and leaks["matched"].str.contains(r"1[3-9]\d{9}").any(), "the table keeps raw evidence"
    shown = export_safe(table)          # what every output records or shows
    assert not shown.loc[leaks.index, "matched"].str.contains(r"1[3-9]\d{9}").any()
    assert not shown["excerpt"].str.contains(r"(?<!\d)1[3-9]\d{9}(?!\d)").any()


@pytest.fixture(scope="module")
def scored(sample_load):
    messages = sample_load.messages
    hits = find_violations(messages)
    checks = politeness_checks(messages, hits)
    rounds = reply_rounds(messages)
    return messages, hits, checks, rounds


def test_scorecards_rank_the_planted_agent_profiles(scored):
    messages, hits, checks, rounds = scored
    cards = sc.agent_scorecards(messages, hits, checks, rounds)
    spec = yaml.safe_load((config.SAMPLE_SPEC_DIR / "scenarios.yaml").read_text(encoding="utf-8"))
    profile = {agent: kind for shop in spec["agents"].values() for agent, kind in shop.items()}
    assert set(cards.index) == set(profile)
    assert {profile[a] for a in cards.index[:3]} == {"model"}            # the planted model agents lead
    assert {profile[a] for a in cards.index[-2:]} == {"careless"}        # the careless ones trail
    slowest = cards["response"].nsmallest(2).index
    assert {profile[a] for a in slowest} == {"slow"}
    for agent in slowest:
        assert cards.loc[agent, "weakest"] == "response"
    # composite = equal-weight mean of the three components; ranks follow the composite
    expected = cards[["clean", "response", "politeness"]].mean(axis=1)
    assert np.allclose(cards["composite"], expected)
    assert list(cards["rank"]) == list(range(1, len(cards) + 1))
    assert cards["composite"].is_monotonic_decreasing
    # the components are the notebooks' own numbers
    rates = vs.rate_by(messages, hits, "agent_id")
    assert np.allclose(cards["clean"], (1 - rates["share_flagged"].reindex(cards.index)) * 100)
    polite = checks.groupby("agent_id")["score"].mean()
    assert np.allclose(cards["politeness"], polite.reindex(cards.index))


def test_the_complaint_handling_component_is_the_owned_complaint_sessions_mean(scored, sample_load):
    from cs_analytics import analyze

    messages, hits, checks, rounds = scored
    process = analyze(sample_load).process
    cards = sc.agent_scorecards(messages, hits, checks, rounds, process=process)
    owned = process[process["is_complaint"] & process["agent_id"].notna()]
    assert np.allclose(cards["handling"], owned.groupby("agent_id")["handling_score"].mean().reindex(cards.index))
    assert np.allclose(cards["composite"], cards[["clean", "response", "politeness", "handling"]].mean(axis=1))
    assert (cards["complaint_sessions"] == owned.groupby("agent_id").size().reindex(cards.index)).all()


def test_scorecards_without_times_and_with_too_few_sessions(scored, tmp_path):
    messages, hits, checks, rounds = scored
    spec = sc.scorecard_spec()
    spec["min_sessions"] = 200
    cards = sc.agent_scorecards(messages, hits, checks, None, spec)
    assert cards["response"].isna().all()
    assert np.allclose(cards["composite"], cards[["clean", "politeness"]].mean(axis=1))
    few = cards["sessions"] < 200
    assert few.any() and cards.loc[few, "rank"].isna().all() and cards.loc[~few, "rank"].notna().all()
    assert cards["rank"].isna().tolist() == sorted(cards["rank"].isna().tolist())      # unranked agents last


def test_agent_trends_are_weekly_components(scored):
    messages, hits, checks, rounds = scored
    trends = sc.agent_trends(messages, hits, checks, rounds)
    assert trends.index.names == ["agent_id", "week"]
    assert trends.index.get_level_values("agent_id").nunique() == 15
    assert trends["sessions"].sum() == checks["agent_id"].notna().sum()
    assert trends[["clean", "response", "politeness"]].stack().dropna().between(0, 100).all()
    # a week with messages but no session started in it (a chat past Sunday midnight) has no politeness value
    assert (trends.loc[trends["politeness"].isna(), "sessions"] == 0).all()


def test_scorecard_spec_errors_name_the_file(tmp_path):
    bad = tmp_path / "card.yaml"
    bad.write_text("version: x\nmin_sessions: 5\nsla_s: 60\ncomponents:\n  - {id: clean, label: a, weight: -1}\n"
                   "  - {id: response, label: b, weight: 1}\n  - {id: politeness, label: c, weight: 1}\n", encoding="utf-8")
    with pytest.raises(sc.ScorecardError, match=r"card.yaml.*clean.*weight"):
        sc.scorecard_spec(bad)
    bad.write_text("version: x\nmin_sessions: 5\nsla_s: 60\ncomponents:\n  - {id: speed, label: a, weight: 1}\n", encoding="utf-8")
    with pytest.raises(sc.ScorecardError, match=r"components are some of \['clean', 'response', 'politeness', 'handling'\]"):
        sc.scorecard_spec(bad)
    bad.write_text("components: []\n", encoding="utf-8")
    with pytest.raises(sc.ScorecardError, match=r"missing \['version', 'min_sessions', 'sla_s'\]"):
        sc.scorecard_spec(bad)
    with pytest.raises(sc.ScorecardError, match="no such file"):
        sc.scorecard_spec(tmp_path / "nothing.yaml")


def _run_folder(tmp_path: Path) -> Path:
    """A run folder as the notebooks leave it: one figure with a takeaway, an evidence table, a key table."""
    out = tmp_path / "run"
    ctx = Context(result=None, messages=pd.DataFrame(), out_dir=out)
    plots.setup_style()
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [1, 2])
    ax.set_title("各平台违规率 Violations by platform")
    ctx.save(fig, "02_by_platform", takeaway="违规率最高:pdd(278.5 次/千条)。")
    plt.close(fig)
    evidence = pd.DataFrame({
        "message_id": ["m1", "m2", "m3"], "agent_id": ["小美"] * 3, "rule_id": ["r.wx", "r.wx", "r.phone"],
        "label": ["站外引流", "站外引流", "泄露信息"], "matched": ["加我微信", "加我微信", "13812345678"],
        "excerpt": ["亲，【加我微信】吧", "【加我微信】", "您的手机号是【13812345678】对吧"],
        "suggest": ["请在平台内沟通", "请在平台内沟通", "不要复述买家的手机号"]})
    ctx.table(evidence, "02_evidence", "违规明细 Evidence", "违规明细 evidence")
    ctx.table(pd.DataFrame({"agent_id": ["小美"], "composite": [88.0], "answer_rate": [0.925]}), "06_agent_scorecards",
              "客服评分", "客服评分 scorecards")
    say = ctx.summary("02_takeaways")
    say("- 最常见的违规类别:称呼不当,每千条 103.8 次。")
    say("  各类别区间重叠,差别可能是随机波动。")
    say("- 泄露买家手机号 13812345678 的消息 3 条。")
    return out


def test_workbook_has_readme_contents_and_every_table(tmp_path):
    out = _run_folder(tmp_path)
    path = write_workbook(out, MANIFEST)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["说明", "目录", "违规明细 evidence", "客服评分 scorecards"]
    sheet = book["违规明细 evidence"]
    header = [c.value for c in sheet[workbook.HEADER_ROW]]
    # headed from the column dictionary (Chinese with the English secondary); the ids stay in the parquet
    assert header == [columns.header(c) for c in ("message_id", "agent_id", "rule_id", "label", "matched", "excerpt", "suggest")]
    assert header[:3] == ["消息 ID message id", "客服 agent", "规则编号 rule id"]
    rows = list(sheet.iter_rows(min_row=workbook.HEADER_ROW + 1, values_only=True))
    assert len(rows) == 3 and rows[2][5] == "您的手机号是【[手机号]】对吧" and rows[2][4] == "[手机号]"
    contents = book["目录"]
    assert contents.cell(row=workbook.HEADER_ROW + 1, column=1).hyperlink.location == "'违规明细 evidence'!A1"
    share = book["客服评分 scorecards"]
    assert [c.value for c in share[workbook.HEADER_ROW]] == ["客服 agent", "综合分 composite", "人工回复率 answer rate"]
    assert share.cell(row=workbook.HEADER_ROW + 1, column=3).number_format == "0.0%"       # a share
    assert share.cell(row=workbook.HEADER_ROW + 1, column=2).number_format == "#,##0.0"    # a 0-100 score
    readme = {r[0]: r[1] for r in book["说明"].iter_rows(min_row=workbook.HEADER_ROW + 1, values_only=True)}
    assert readme["规则库版本 rulebook"] == "abc123def456" and "sha256 " + "ab" * 32 in readme["输入文件 export.csv"]
    assert readme["读入行数 rows read"] == 10


def test_a_long_table_keeps_its_first_rows_in_the_workbook_and_goes_whole_to_csv(tmp_path, monkeypatch):
    out = _run_folder(tmp_path)
    monkeypatch.setattr(workbook, "SHEET_ROWS", 2)
    book = openpyxl.load_workbook(write_workbook(out, MANIFEST))
    sheet = book["违规明细 evidence"]
    ids = [r[0] for r in sheet.iter_rows(min_row=workbook.HEADER_ROW + 1, values_only=True)]
    assert ids == ["m1", "m2"]
    assert "前 2 行,共 3 行" in sheet.cell(row=2, column=1).value and "tables/" in sheet.cell(row=2, column=1).value
    whole = pd.read_csv(next((out / "tables").glob("*.csv")), encoding="utf-8-sig")
    assert whole.iloc[:, 0].tolist() == ["m1", "m2", "m3"]
    contents = {r[0]: r[2] for r in book["目录"].iter_rows(min_row=workbook.HEADER_ROW + 1, values_only=True)}
    assert contents["违规明细 evidence"] == 3


def test_full_deck_has_title_chart_example_and_trace_slides(tmp_path):
    out = _run_folder(tmp_path)
    deck = Presentation(write_full_deck(out, MANIFEST))
    slides = list(deck.slides)
    text = lambda s: "\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame)  # noqa: E731
    assert "客服质检报告" in text(slides[0]) and "9 条消息" in text(slides[0])
    findings = text(slides[1])
    assert "本期要点" in findings and "• 最常见的违规类别:称呼不当,每千条 103.8 次。 各类别区间重叠,差别可能是随机波动。" in findings
    assert "[手机号]" in findings and "13812345678" not in findings
    slides = slides[:1] + slides[2:]             # the rest as before
    chart = slides[2]
    pictures = [sh for sh in chart.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1 and pictures[0].image.content_type == "image/png"
    assert pictures[0].left >= 0 and pictures[0].left + pictures[0].width <= deck.slide_width
    assert "违规率最高:pdd(278.5 次/千条)。" in text(chart) and "02_by_platform" in text(chart)
    examples = slides[3]
    assert "原话 → 建议说法" in text(examples)
    table = next(sh.table for sh in examples.shapes if sh.has_table)
    cells = [[table.cell(r, c).text for c in range(3)] for r in range(len(table.rows))]
    assert cells[1] == ["站外引流 · r.wx(2 次)", "亲，【加我微信】吧", "请在平台内沟通"]
    assert cells[2][1] == "您的手机号是【[手机号]】对吧"
    assert len(slides) == 5            # title, section 02, chart, examples, trace (06 kept a table but no chart)
    assert "ab" * 32 in text(slides[-1]) and "读入 10 行 = 保留 9 + 隔离 1" in text(slides[-1])


def _texts(deck) -> list[str]:
    return ["\n".join(sh.text_frame.text for sh in slide.shapes if sh.has_text_frame) for slide in deck.slides]


KPIS = {"period": {"basis": "previous", "period": "2026-03-01 – 2026-03-14", "before": "2026-02-15 – 2026-02-28",
                   "after": "2026-03-01 – 2026-03-14"},
        "tiles": [{"id": "violations", "zh": "违规率", "en": "Violations", "display": "3.2 次/千条", "change_display": "+0.4",
                   "direction": "up", "good": False, "significant": True, "source": "02_by_category", "notebook": "02 服务禁语与违规词 · 按类别"},
                  {"id": "politeness", "zh": "礼貌得分", "en": "Politeness", "display": "74.8", "change_display": None,
                   "direction": None, "good": None, "source": "05_check_rates"}]}


def test_training_deck_runs_in_session_order_with_the_appendix_last(tmp_path):
    out = _run_folder(tmp_path)
    texts = _texts(Presentation(write_deck(out, MANIFEST)))
    titles = [text.split("\n")[0] for text in texts]
    # no chart section: this run saved none of report.yaml's figures; no coaching: no scorecard ranks
    assert titles == ["客服质检培训", "本期数字 Headline numbers", "原话 → 建议说法", "附录 Appendix", "数据质量 Data quality",
                      "口径与方法 Method", "数据与规则追溯 How to trace these numbers"]
    assert "最常见的违规类别:称呼不当,每千条 103.8 次。 各类别区间重叠" in texts[1] and "13812345678" not in texts[1]
    assert "读入 10 行 = 保留 9 + 隔离 1" in texts[4] and "abc123def456" in texts[5] and "ab" * 32 in texts[6]


def test_training_deck_shows_the_kpi_tiles_when_the_run_has_them(tmp_path):
    out = _run_folder(tmp_path)
    (out / "kpis.json").write_text(json.dumps(KPIS, ensure_ascii=False), encoding="utf-8")
    headline = _texts(Presentation(write_deck(out, MANIFEST)))[1]
    assert "本期 2026-03-01 – 2026-03-14 · 对比上一个同样长的时期 2026-02-15 – 2026-02-28" in headline
    assert "3.2 次/千条" in headline and "▲ +0.4 较上期" in headline and "见 02 服务禁语与违规词" in headline
    assert "74.8" in headline and "最常见的违规类别" not in headline       # tiles replace the takeaway lines


def test_coaching_rows_name_each_agents_weakest_check_and_what_to_practise(tmp_path):
    out = _run_folder(tmp_path)
    pd.DataFrame({"agent_id": ["小雨", "阿杰", "小美"], "rank": [1, 2, 3], "composite": [90.0, 80.0, 70.0],
                  "weakest (最弱项)": ["clean", "politeness", "clean"], "weakest_gap": [-1.0, -8.0, -20.0],
                  "clean": [88.0, 90.0, 70.0], "politeness": [85.0, 77.0, 86.0]}).to_parquet(out / "tables" / "06_agent_scorecards.parquet")
    pd.DataFrame({"agent_id": ["小美", "阿杰", "小雨"], "欢迎语": [0.9, 0.5, 0.9], "请字": [0.4, 0.4, 0.4]}).to_parquet(
        out / "tables" / "05_scorecards.parquet")
    rows = coaching_rows(out, MANIFEST, min_gap=5)
    assert list(rows["agent"]) == ["小美", "阿杰"]              # furthest below the team first; 小雨 within 5 points
    assert rows["score"].tolist() == ["70.0(第 3 名)", "80.0(第 2 名)"]
    assert rows["weakest"].tolist() == ["无禁语 70(全队中位 90)", "礼貌分 77(全队中位 85)"]
    assert rows["detail"].tolist() == ["站外引流 · r.wx(2 次)", "欢迎语 达标 50%"]   # most-hit rule; check furthest below the agents' median
    assert rows["practise"].tolist() == ["请在平台内沟通", artefacts.report_layout()["coaching"]["politeness"]["greeting"]]


def test_example_rows_pick_the_most_hit_rules():
    evidence = pd.DataFrame({"rule_id": ["a", "b", "b", "c", "c", "c"], "label": list("xyyzzz"),
                             "excerpt": list("123456"), "suggest": list("pqqrrr")})
    rows = example_rows(evidence, rules=2)
    assert list(rows["rule"]) == ["z · c(3 次)", "y · b(2 次)"] and list(rows["said"]) == ["4", "2"]


def test_example_rows_name_rules_by_their_labels():
    """The deck's 规则 column reads the category and the rule's Chinese label, not its id."""
    evidence = pd.DataFrame({"rule_id": ["platform.social.wechat"] * 2 + ["informal.ni"], "label": ["第三方平台信息"] * 2 + ["称呼不当"],
                             "rule_label": ["引导微信"] * 2 + ["用「你」不用「您」"], "excerpt": list("abc"), "suggest": list("pqr")})
    assert list(example_rows(evidence)["rule"]) == ["第三方平台信息 · 引导微信(2 次)", "称呼不当 · 用「你」不用「您」(1 次)"]


def test_example_rows_show_each_category_before_a_second_rule_of_one():
    evidence = pd.DataFrame({"rule_id": ["a1"] * 5 + ["a2"] * 4 + ["b1"] * 2, "label": ["你/您"] * 9 + ["微信"] * 2,
                             "excerpt": list("abcdefghijk"), "suggest": ["s"] * 11})
    assert list(example_rows(evidence, rules=3)["rule"]) == ["你/您 · a1(5 次)", "微信 · b1(2 次)", "你/您 · a2(4 次)"]


def test_coaching_names_each_agents_weakest_component_against_the_team_median(scored):
    messages, hits, checks, rounds = scored
    cards = sc.agent_scorecards(messages, hits, checks, rounds)
    coach = sc.coaching(cards)
    components = ["clean", "response", "politeness"]
    median = cards.loc[cards["rank"].notna(), components].median()
    for agent, row in coach.iterrows():
        weakest = cards.loc[agent, "weakest"]
        assert row["weakest"] == sc.component_labels()[weakest]
        assert row["value"] == pytest.approx(cards.loc[agent, weakest])
        assert row["team_median"] == pytest.approx(median[weakest])
        assert row["gap"] == pytest.approx(min(cards.loc[agent, c] - median[c] for c in components))


def test_half_change_compares_the_later_half_of_the_weeks_with_the_earlier():
    half, change = takeaways.half_change(pd.DataFrame({"a": [1.0, 3.0, 5.0, 7.0, 9.0]}, index=list("vwxyz")))
    assert half == 2 and change["a"] == pytest.approx((7 + 9) / 2 - (1 + 3) / 2)


def test_every_table_a_notebook_shows_is_masked():
    """Frames are shown through export_safe once a notebook has called prepare (show_masked)."""
    from IPython.core.interactiveshell import InteractiveShell

    from cs_analytics.outputs.notebook import show_masked

    shell = InteractiveShell.instance()
    assert show_masked()
    frame = pd.DataFrame({"session_id": ["s1"], "customer_id": ["buyer_王小明"],
                          "excerpt": ["…电话【13812345678】请尽快…"]})
    styled = frame.style.set_properties(subset=["excerpt"], **{"white-space": "pre-wrap"})
    for shown in (frame, frame["excerpt"], styled):
        data, _ = shell.display_formatter.format(shown)
        text = "".join(data.values())
        assert "13812345678" not in text and "[手机号]" in text
        assert "buyer_王小明" not in text


def test_a_long_table_shown_masks_only_what_pandas_prints():
    """A million-row frame shown by accident: the rows pandas prints are masked (and only those are
    worked on), and the note still gives the real size."""
    from IPython.core.interactiveshell import InteractiveShell

    from cs_analytics.outputs.notebook import show_masked, shown_rows

    shell = InteractiveShell.instance()
    assert show_masked()
    frame = pd.DataFrame({"excerpt": [f"电话1381234{i % 10000:04d}" for i in range(200_000)], "n": range(200_000)})
    assert len(shown_rows(frame)) == 2 * pd.get_option("display.max_rows")
    for shown in (frame, frame["excerpt"]):
        data, _ = shell.display_formatter.format(shown)
        text = "".join(data.values())
        assert "1381234" not in text and "[手机号]" in text
        assert "200,000 rows" in text


def test_yes_no_words_flags_like_the_value_by_value_way():
    def old_way(values):
        if not (pd.api.types.is_bool_dtype(values) or values.dtype == object):
            return values
        flags = values.map(lambda v: isinstance(v, (bool, np.bool_)))
        return values.astype(object).where(~flags, values.map(lambda v: columns.format_value(v, "yesno"))) \
            if flags.any() else values

    cases = [pd.Series([True, False, True], name="evasion"), pd.Series([], dtype=bool),
             pd.Series(["a", None, "🙂"], dtype=object), pd.Series(["a", True, None], dtype=object),
             pd.Series([np.True_, None], dtype=object), pd.Series([1, True], dtype=object),
             pd.Series([1, 2], dtype=object), pd.Series([1.5, 2.0]), pd.Series([True], index=[7])]
    for values in cases:
        pd.testing.assert_series_equal(workbook._yes_no(values), old_way(values))


def _sheet_cells(path, sheet="t") -> list[tuple]:
    ws = openpyxl.load_workbook(path)[sheet]
    return [(c.coordinate, None if c.value == "" else c.value, c.number_format if c.value not in (None, "") else None)
            for row in ws.iter_rows(min_row=workbook.HEADER_ROW) for c in row]


def _openpyxl_sheet(path, frame: pd.DataFrame) -> None:
    """main's writer: pandas' ``to_excel`` through openpyxl, then each column's number format cell by cell."""
    plain = workbook._plain(frame)
    formats = [columns.excel_format(plain.iloc[:, i]) for i in range(plain.shape[1])]
    readable = workbook._readable(plain)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        readable.to_excel(writer, sheet_name="t", index=False, startrow=workbook.HEADER_ROW - 1)
        ws = writer.sheets["t"]
        for i, number_format in enumerate(formats, start=1):
            for (cell,) in ws.iter_rows(min_row=workbook.HEADER_ROW + 1, max_row=workbook.HEADER_ROW + len(readable),
                                        min_col=i, max_col=i):
                cell.number_format = number_format or cell.number_format


@pytest.mark.parametrize("rows", [slice(0, 0), slice(0, 1), slice(None)])
def test_the_xlsxwriter_sheet_holds_what_the_openpyxl_one_did(tmp_path, rows):
    import xlsxwriter

    frame = pd.DataFrame({
        "agent_id": ["小美", None, "", "😀亲", "𠮷野家", "=1+1"],
        "label": ["fatal", None, "fatal", "minor", "unknown id", pd.NA],
        "answer_rate": [0.925, np.nan, np.inf, -np.inf, 0.0, 1.0],
        "composite": pd.array([88, pd.NA, 0, -3, 7, 100], dtype="Int64"),
        "ts": pd.to_datetime(["2026-01-02 03:04:05", None, "2026-12-31 23:59:59", "2026-06-01 00:00:00", "2026-06-01 12:00:00", "2026-06-02 00:00:01"]).tz_localize("Asia/Shanghai"),
        "day": [dt.date(2026, 1, 2), None, dt.date(2026, 3, 4), dt.date(2026, 3, 4), None, dt.date(2026, 3, 5)],
        "flag": [True, False, True, False, True, True],
        "mixed": [True, 3, "text", None, 2.5, np.nan],
        "count": np.arange(6, dtype="int64"),
    }).iloc[rows]
    _openpyxl_sheet(tmp_path / "old.xlsx", frame)
    book = xlsxwriter.Workbook(str(tmp_path / "new.xlsx"))
    workbook._write_sheet(book, workbook._Formats(book), frame, "t", "title")
    book.close()
    assert _sheet_cells(tmp_path / "new.xlsx") == _sheet_cells(tmp_path / "old.xlsx")
