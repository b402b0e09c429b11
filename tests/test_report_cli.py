"""The report runner and the command line: outputs land in the run folder, failures are named, errors are clear."""
from __future__ import annotations

import json
import re

import nbformat
import pytest

from cs_analytics import cli, config
from cs_analytics.report import run_report


def small_notebook(path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('LOGS = None\nOUTPUT_DIR = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_is_named_and_the_others_still_run(tmp_path):
    ok = tmp_path / "01_ok.ipynb"
    bad = tmp_path / "02_bad.ipynb"
    after = tmp_path / "03_after.ipynb"
    small_notebook(ok, "from pathlib import Path\nPath(OUTPUT_DIR, 'ok.txt').write_text(LOGS)")
    small_notebook(bad, "raise ValueError('planted failure')")
    small_notebook(after, "from pathlib import Path\nPath(OUTPUT_DIR, 'after.txt').write_text('x')")
    lines = []
    result = run_report(config.SAMPLE_JD_TSV, tmp_path / "out", notebooks=[ok, bad, after], log=lines.append)
    assert not result.ok
    assert [r.ok for r in result.runs] == [True, False, True]
    assert "02_bad.ipynb" in result.runs[1].error and "planted failure" in result.runs[1].error
    assert (tmp_path / "out" / "ok.txt").read_text() == str(config.SAMPLE_JD_TSV.resolve())
    assert (tmp_path / "out" / "after.txt").exists()
    manifest = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert [n["ok"] for n in manifest["notebooks"]] == [True, False, True]
    assert (tmp_path / "out" / "notebooks" / "02_bad.ipynb").exists()


def test_cli_report_rejects_a_missing_export_before_running_anything(tmp_path, capsys):
    code = cli.main(["report", "--logs", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_report_rejects_a_bad_rulebook_before_running_anything(tmp_path, capsys):
    bad = tmp_path / "mine.yaml"
    bad.write_text("disable: [no.such.rule]\n", encoding="utf-8")
    code = cli.main(["report", "--rules", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2
    assert "mine.yaml" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_report_rejects_a_bad_taxonomy_before_running_anything(tmp_path, capsys):
    bad = tmp_path / "types.yaml"
    bad.write_text("types:\n  - {id: assembly, phrases: [少螺丝]}\n", encoding="utf-8")
    code = cli.main(["report", "--taxonomy", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "types.yaml" in err and "source" in err
    assert not (tmp_path / "o").exists()


def test_cli_complaint_prints_types_cues_and_threats(capsys):
    assert cli.main(["complaint", "快递怎么还没到，再不处理我就投诉了！！"]) == 0
    out = capsys.readouterr().out
    assert "物流问题 logistics" in out and "「快递」" in out and "怎么还" in out
    assert "escalation" in out and "「投诉」" in out and "anger" in out
    assert cli.main(["complaint", "好的谢谢"]) == 0
    assert "没有发现投诉信号" in capsys.readouterr().out


def test_cli_report_rejects_a_bad_date(tmp_path, capsys):
    code = cli.main(["report", "--from", "2025-13-01", "--out", str(tmp_path / "o")])
    assert code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_cli_load_prints_the_report_and_writes_quarantine(tmp_path, capsys):
    out = tmp_path / "q.csv"
    assert cli.main(["load", str(config.SAMPLE_EXPORT), "--quarantine-out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "quarantined" in printed and "empty_text" in printed
    assert out.read_text(encoding="utf-8-sig").startswith("message_id")


def test_cli_unknown_profile(capsys):
    assert cli.main(["load", str(config.SAMPLE_EXPORT), "--profile", "nope"]) == 2
    assert "profile 'nope' not found" in capsys.readouterr().err


def test_cli_sample(tmp_path, capsys):
    assert cli.main(["sample", "--out", str(tmp_path), "--sessions", "20"]) == 0
    assert (tmp_path / config.SAMPLE_EXPORT.name).exists()


@pytest.mark.slow
def test_full_report_on_the_sample(tmp_path):
    result = run_report(config.SAMPLE_EXPORT, tmp_path / "run", log=lambda *_: None)
    assert result.ok, [r.error for r in result.runs]
    figures = {p.name for p in (tmp_path / "run" / "figures").iterdir()}
    assert "01_daily_messages.png" in figures and "01_daily_messages.svg" in figures
    assert {"02_violations_by_category.png", "02_weekly_trend.png", "02_phrase_cloud.png"} <= figures
    assert {"03_type_distribution.png", "03_weekly_trend.png", "03_platform_types.png", "03_escalation_by_type.png",
            "03_handling_by_type.png", "03_wordcloud_logistics.png", "03_apology_by_agent.svg"} <= figures
    assert {"04_response_ecdf.png", "04_hour_weekday_median.png", "04_sla_by_agent.png", "04_weekly_sla.png",
            "04_platform_metrics.png", "04_wait_apology_by_agent.png", "04_workload.png"} <= figures
    assert {"05_check_rates.png", "05_score_distribution.png", "05_agent_check_heatmap.png", "05_weekly_checks.png",
            "05_before_after.png"} <= figures
    manifest = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert len(manifest["rulebook_version"]) == 12 and len(manifest["taxonomy_version"]) == 12
    # no buyer phone number reaches the executed notebooks' outputs (excerpts and transcripts are masked)
    for book in (tmp_path / "run" / "notebooks").glob("*.ipynb"):
        executed = nbformat.read(book, as_version=4)
        outputs = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", outputs), book.name
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "01_data_overview.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "read = kept + quarantined" in text


@pytest.mark.slow
def test_report_on_an_export_without_times_or_agents(tmp_path):
    result = run_report(config.SAMPLE_JD_TSV, tmp_path / "run", profile="jd_tsv", log=lambda *_: None)
    assert result.ok, [r.error for r in result.runs]
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "01_data_overview.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "no send times" in text and "no agent accounts" in text
    figures = {p.name for p in (tmp_path / "run" / "figures").iterdir()}
    assert "01_daily_messages.png" not in figures and "01_session_length.png" in figures
    assert "02_violations_by_category.png" in figures and "02_weekly_trend.png" not in figures
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "02_forbidden_phrases.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "weekly trends are skipped" in text
    assert "03_type_distribution.png" in figures and "03_weekly_trend.png" not in figures
    assert "03_apology_by_agent.png" not in figures
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "03_complaint_types.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "weekly trends are skipped" in text and "names no agent accounts" in text
    assert not any(name.startswith("04_") for name in figures)
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "04_response_times.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "response times cannot be computed" in text
    assert "05_check_rates.png" in figures and "05_weekly_checks.png" not in figures and "05_before_after.png" not in figures
    executed = nbformat.read(tmp_path / "run" / "notebooks" / "05_politeness_trends.ipynb", as_version=4)
    text = json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)
    assert "festive and wait checks are left out" in text and "before/after comparison is skipped" in text


def test_cli_report_rejects_bad_metric_recipes_before_running_anything(tmp_path, capsys):
    bad = tmp_path / "recipes.yaml"
    bad.write_text("version: x\nrecipes: [{id: r, label: r, platforms: [jd], unit: day, metric: share_within, "
                   "threshold_s: 30, source: s}]\n", encoding="utf-8")
    code = cli.main(["report", "--recipes", str(bad), "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "recipes.yaml" in err and "unit 'day'" in err
    assert not (tmp_path / "o").exists()
