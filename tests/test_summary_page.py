"""The run's summary page (index.html) and its headline numbers: the same numbers the notebooks show,
the change against a comparison period, offline, with the run's own CJK font."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cs_analytics import filter_messages, load_logs
from cs_analytics.base import config
from cs_analytics.findings.run import analyze
from cs_analytics.outputs import artefacts
from cs_analytics.tables import kpis

CHANGES = yaml.safe_load((Path(__file__).parent / "cases" / "kpi_changes.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CHANGES, ids=[c["id"] for c in CHANGES])
def test_a_change_is_good_or_bad_only_beyond_chance(case):
    before, after = (kpis.Estimate(*values) for values in (case["before"], case["after"]))
    change = kpis._change(before, after, case["tile"])
    for key in ("change_display", "direction", "significant", "good"):
        assert change[key] == case[key], key


def test_the_kpi_file_is_checked(tmp_path):
    bad = tmp_path / "kpis.yaml"
    bad.write_text("tiles:\n  - {id: violations_per_1000, en: x, format: permille, better: lower, notebook: '02', "
                   "definition: d, source: s}\n", encoding="utf-8")
    with pytest.raises(kpis.KpiSpecError, match=r"kpis.yaml: tile violations_per_1000: format 'permille'"):
        kpis.kpi_spec(bad)
    bad.write_text("tiles:\n  - {id: refunds, en: x, format: percent, better: lower, notebook: '02', definition: d, source: s}\n",
                   encoding="utf-8")
    with pytest.raises(kpis.KpiSpecError, match="no computation named 'refunds'"):
        kpis.kpi_spec(bad)
    bad.write_text("tiles:\n  - {id: complaint_share, format: percent, better: up}\n", encoding="utf-8")
    with pytest.raises(kpis.KpiSpecError, match="add en, notebook, definition, source"):
        kpis.kpi_spec(bad)


@pytest.fixture(scope="module")
def sample_findings(sample_load):
    return analyze(sample_load.messages)


def test_halves_split_the_sessions_by_start_day_and_compare_later_with_earlier(sample_findings):
    found = kpis.headline(sample_findings)
    assert found["period"]["basis"] == "halves"
    starts = kpis.session_starts(sample_findings.messages)
    first, last = starts.min(), starts.max()
    middle = first + pd.Timedelta(days=((last - first).days + 1) // 2)
    assert found["period"]["after"].startswith(f"{middle:%Y-%m-%d}")
    tile = next(t for t in found["tiles"] if t["id"] == "complaint_share")
    sessions = sample_findings.complaint_sessions.set_index("session_id")["is_complaint"]
    late = sessions[starts.reindex(sessions.index) >= middle]
    early = sessions[starts.reindex(sessions.index) < middle]
    assert tile["after"] == pytest.approx(late.mean()) and tile["before"] == pytest.approx(early.mean())
    assert tile["change"] == pytest.approx(late.mean() - early.mean())
    assert tile["value"] == pytest.approx(sessions.mean())


def test_a_date_cut_compares_with_the_period_of_the_same_length_before(sample_load):
    scoped = filter_messages(sample_load.messages, date_from="2025-10-13", date_to="2025-10-19")
    found = kpis.headline(analyze(scoped), sample_load.messages, date_from="2025-10-13", date_to="2025-10-19")
    assert found["period"] == {"basis": "previous", "period": "2025-10-13 – 2025-10-19",
                               "before": "2025-10-06 – 2025-10-12", "after": "2025-10-13 – 2025-10-19"}
    earlier = analyze(filter_messages(sample_load.messages, date_from="2025-10-06", date_to="2025-10-12"))
    tile = next(t for t in found["tiles"] if t["id"] == "politeness_score")
    assert tile["before"] == pytest.approx(earlier.politeness["score"].mean())
    assert tile["value"] == tile["after"] == pytest.approx(analyze(scoped).politeness["score"].mean())


def test_without_send_times_the_tiles_have_no_comparison_and_time_metrics_are_listed_missing():
    loaded = load_logs(config.SAMPLE_JD_TSV, "jd_tsv")
    found = kpis.headline(analyze(loaded.messages))
    assert found["period"]["basis"] == "none"
    assert all(t["change_display"] is None for t in found["tiles"])
    assert {t["id"] for t in found["tiles"]} >= {"violations_per_1000", "complaint_share", "politeness_score"}
    assert "platform_metrics" in {m["id"] for m in found["missing"]}
    assert all(re.search(r"\d", t["display"]) for t in found["tiles"])


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {entry["name"]: artefacts.read_table(entry) for entry in artefacts.tables(out)}


def _summary_lines(out: Path, name: str) -> str:
    return "\n".join(json.loads((out / "summaries" / f"{name}.json").read_text(encoding="utf-8"))["lines"])


@pytest.mark.slow
def test_the_tiles_show_the_numbers_the_notebooks_show(full_report):
    out = full_report.out
    found = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    tiles = {t["id"]: t for t in found["tiles"]}
    tables = _tables(out)
    by_platform = tables["02_by_platform"]
    assert tiles["violations_per_1000"]["value"] == pytest.approx(
        by_platform["violations"].sum() / by_platform["agent_messages"].sum() * 1000)
    assert f"投诉会话占 {tiles['complaint_share']['display']}" in _summary_lines(out, "03_takeaways")
    assert f"整体升级率 {tiles['escalation_share']['display']}" in _summary_lines(out, "03_takeaways")
    assert f"平均会话得分 {tiles['politeness_score']['display'].split()[0]}" in _summary_lines(out, "05_takeaways")
    assert f"平均处理得分 {tiles['handling_score']['display'].split()[0]}" in _summary_lines(out, "07_takeaways")
    metrics = tables["04_platform_metrics"].set_index("recipe")
    shown = {k.split(":", 1)[1]: t for k, t in tiles.items() if k.startswith("platform_metrics:")}
    assert set(shown) == set(metrics.index)
    for recipe, tile in shown.items():
        shown = metrics.loc[recipe, "share"] if pd.notna(metrics.loc[recipe, "share"]) else metrics.loc[recipe, "mean_s"]
        assert tile["value"] == pytest.approx(shown), recipe
        assert tile["zh"] == metrics.loc[recipe, "label"]
    assert found["period"]["basis"] == "halves"
    assert all(t["change_display"] and t["direction"] in ("up", "down", "flat") for t in found["tiles"])
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["headline"] == found and manifest["outputs"]["kpis.json"] == "ok"


@pytest.mark.slow
def test_the_summary_page_has_tiles_takeaways_thumbnails_facts_and_accuracy(full_report):
    out = full_report.out
    page = (out / "index.html").read_text(encoding="utf-8")
    found = json.loads((out / "kpis.json").read_text(encoding="utf-8"))
    tiles = re.findall(r"<div class='kpi' data-kpi='([^']+)'>.*?<div class='value'>([^<]+)</div>", page)
    assert tiles == [(t["id"], t["display"]) for t in found["tiles"]]
    for tile in found["tiles"]:                          # the marker is coloured only when the change is beyond chance
        marker = re.search(rf"data-kpi='{re.escape(tile['id'])}'>.*?<div class='change (\w+)'", page).group(1)
        assert marker == {True: "good", False: "bad", None: "noise"}[tile["good"]]
    for entry in artefacts.summaries(out):              # every notebook's first points
        for point in entry["points"][:2]:
            assert point.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#x27;").replace('"', "&quot;") in page
    thumbs = re.findall(r"<a href='(html/[^']+)'><img src='(figures/thumbs/[^']+)'", page)
    assert len(thumbs) == 7 and all((out / link).exists() and (out / image).exists() for link, image in thumbs)
    load = json.loads((out / "run.json").read_text(encoding="utf-8"))["load"]
    assert f"{load['rows_read']:,} = 保留 kept {load['rows_kept']:,} + 隔离 set aside {load['rows_set_aside']:,}" in page
    assert load["rows_read"] == load["rows_kept"] + load["rows_set_aside"]
    assert f"{load['first_day']} – {load['last_day']}" in page
    for key in ("rulebook_version", "taxonomy_version"):
        assert json.loads((out / "run.json").read_text(encoding="utf-8"))[key] in page
    assert "可信度" in page and "精确率 / 召回率" in page
    for link in ("deck.pptx", "workbook.xlsx", "run.json"):
        assert f"href='{link}'" in page


@pytest.mark.slow
@pytest.mark.parametrize("run", ["full_report", "bare_report"])
def test_every_page_opens_offline_with_the_runs_own_cjk_font(run, request):
    from fontTools.ttLib import TTFont

    out = request.getfixturevalue(run).out
    pages = [out / "index.html", *sorted((out / "html").glob("*.html"))]
    assert len(pages) == 8
    text = ""
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src=|url\()\s*['"]?(?:https?:)?//""", html), page.name      # nothing fetched
        assert not re.search(r"""<link[^>]+href=['"](?:https?:)?//""", html), page.name
        assert "@font-face { font-family: 'CS Report CJK'" in html, page.name
        text += html
    cmap = TTFont(out / "assets" / "cjk.woff").getBestCmap()
    chinese = {ch for ch in text if "\u4e00" <= ch <= "\u9fff"}
    assert len(chinese) > 300 and all(ord(ch) in cmap for ch in chinese)
