"""The report runner and the command line: outputs land in the run folder, failures are named, errors are clear."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import openpyxl
import pandas as pd
import pytest
import yaml
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

from cs_analytics.outputs import artefacts, columns
from cs_analytics import cli, find_violations, load_logs
from cs_analytics.base import config
from cs_analytics.outputs.report import notebook_paths, run_report
from cs_analytics.outputs.deck import CONTENT
from cs_analytics.outputs.workbook import HEADER_ROW


def small_notebook(path, source: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('LOGS = None\nOUTPUT_DIR = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(source)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_is_named_and_the_others_still_run(tmp_path, capsys):
    ok = tmp_path / "01_ok.ipynb"
    bad = tmp_path / "02_bad.ipynb"
    after = tmp_path / "03_after.ipynb"
    small_notebook(ok, "from pathlib import Path\nPath(OUTPUT_DIR, 'ok.txt').write_text(LOGS)\n"
                       "import matplotlib.pyplot as plt\nfrom cs_analytics.outputs.notebook import Context\n"
                       "fig, ax = plt.subplots(); ax.set_title('t')\n"
                       "Context(None, None, Path(OUTPUT_DIR)).save(fig, '01_chart', takeaway='一句结论')")
    small_notebook(bad, "x = 1\nraise ValueError('planted failure')")
    small_notebook(after, "from pathlib import Path\nPath(OUTPUT_DIR, 'after.txt').write_text('x')")
    lines = []
    result = run_report(config.SAMPLE_JD_TSV, tmp_path / "out", profile="jd_tsv", notebooks=[ok, bad, after], log=lines.append)
    assert not result.ok
    assert [r.ok for r in result.runs] == [True, False, True]
    assert result.runs[1].error == "02_bad.ipynb cell 2 (`x = 1`): ValueError: planted failure"
    assert result.errors == [result.runs[1].error]
    assert (tmp_path / "out" / "ok.txt").read_text() == str(config.SAMPLE_JD_TSV.resolve())
    assert (tmp_path / "out" / "after.txt").exists()
    manifest = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert [n["ok"] for n in manifest["notebooks"]] == [True, False, True]
    assert (tmp_path / "out" / "notebooks" / "02_bad.ipynb").exists()
    # every output that can be built is built: HTML for all three, the deck with the good chart, the workbook
    assert sorted(p.name for p in (tmp_path / "out" / "html").iterdir()) == ["01_ok.html", "02_bad.html", "03_after.html"]
    assert manifest["outputs"] == {"kpis.json": "ok", "workbook.xlsx": "ok", "deck.pptx": "ok", "deck_full.pptx": "ok",
                                   "index.html": "ok", "assets/cjk.woff": "ok"}
    text = {name: "\n".join(s.text_frame.text for slide in Presentation(tmp_path / "out" / name).slides
                            for s in slide.shapes if s.has_text_frame) for name in ("deck.pptx", "deck_full.pptx")}
    assert "一句结论" in text["deck_full.pptx"]          # a chart no training section names: the full deck only
    assert all("未完成 failed: 02_bad.ipynb cell 2" in t for t in text.values())
    assert "02_bad.ipynb cell 2" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_cli_report_exits_non_zero_naming_the_failing_notebook_and_cell(tmp_path, capsys, monkeypatch):
    from cs_analytics.outputs import report

    ok, bad = tmp_path / "01_ok.ipynb", tmp_path / "02_bad.ipynb"
    small_notebook(ok, "print('fine')")
    small_notebook(bad, "raise KeyError('agent_id')")
    monkeypatch.setattr(report, "notebook_paths", lambda: [ok, bad])
    code = cli.main(["report", "--logs", str(config.SAMPLE_JD_TSV), "--profile", "jd_tsv", "--out", str(tmp_path / "o")])
    assert code == 1
    err = capsys.readouterr().err
    assert "error: 02_bad.ipynb cell 2 (`raise KeyError('agent_id')`): KeyError" in err
    assert all((tmp_path / "o" / name).exists() for name in ("deck.pptx", "deck_full.pptx", "workbook.xlsx"))


def test_cli_complaint_prints_types_cues_and_threats(capsys):
    assert cli.main(["complaint", "快递怎么还没到，再不处理我就投诉了！！"]) == 0
    out = capsys.readouterr().out
    assert "物流问题 logistics" in out and "「快递」" in out and "怎么还" in out
    assert "escalation" in out and "「投诉」" in out and "anger" in out
    assert cli.main(["complaint", "好的谢谢"]) == 0
    assert "没有发现投诉信号" in capsys.readouterr().out


def test_cli_load_prints_the_report_and_writes_quarantine(tmp_path, capsys):
    out = tmp_path / "q.csv"
    assert cli.main(["load", str(config.SAMPLE_EXPORT), "--quarantine-out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "quarantined" in printed and "empty_text" in printed
    assert out.read_text(encoding="utf-8-sig").startswith("message_id")


def test_cli_convert_writes_a_dataset_with_its_load_report(tmp_path, capsys):
    from cs_analytics.ingest.dataset import dataset_manifest, read_dataset

    assert cli.main(["convert", str(config.SAMPLE_EXPORT), "--out", str(tmp_path / "ds"), "--rows-per-file", "4000"]) == 0
    printed = capsys.readouterr().out
    manifest = dataset_manifest(tmp_path / "ds")
    assert f"{manifest['rows']:,} messages in {len(manifest['files'])} file(s)" in printed
    report = read_dataset(tmp_path / "ds").report
    assert report.rows_read == report.rows_kept + report.rows_quarantined > manifest["rows"]
    assert cli.main(["convert", str(config.SAMPLE_EXPORT), "--out", str(tmp_path / "ds")]) == 2   # not over a dataset
    assert "not empty" in capsys.readouterr().err


def test_cli_unknown_profile(capsys):
    assert cli.main(["load", str(config.SAMPLE_EXPORT), "--profile", "nope"]) == 2
    assert "profile 'nope' not found" in capsys.readouterr().err


def test_cli_sample(tmp_path, capsys):
    assert cli.main(["sample", "--out", str(tmp_path), "--sessions", "20"]) == 0
    assert (tmp_path / config.SAMPLE_EXPORT.name).exists()


def notebook_outputs(run_dir, name: str) -> str:
    """Everything the executed notebook ``name`` printed or displayed, as one JSON text."""
    executed = nbformat.read(run_dir / "notebooks" / f"{name}.ipynb", as_version=4)
    return json.dumps([c.get("outputs", []) for c in executed.cells], ensure_ascii=False)


def output_texts(out) -> dict[str, str]:
    """The text of every generated HTML, XLSX and PPTX file (embedded images and hashes left out)."""
    texts = {}
    for path in sorted(out.rglob("*")):
        if path.suffix == ".html":
            text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", path.read_text(encoding="utf-8"))
        elif path.suffix == ".xlsx":
            book = openpyxl.load_workbook(path, read_only=True)
            text = "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                             for v in row if v is not None)
        elif path.suffix == ".pptx":
            parts = []
            for slide in Presentation(path).slides:
                for shape in slide.shapes:
                    if shape.has_text_frame:
                        parts.append(shape.text_frame.text)
                    if shape.has_table:
                        parts += [cell.text for row in shape.table.rows for cell in row.cells]
            text = "\n".join(parts)
        else:
            continue
        texts[str(path.relative_to(out))] = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", text)
    return texts


@pytest.mark.slow
def test_full_report_on_a_sample_with_planted_pii(full_report):
    export, planted, progress, result, out = (full_report.export, full_report.planted, full_report.progress,
                                              full_report.result, full_report.out)
    assert result.ok, result.errors
    assert any("[7/7] 07_complaint_handling.ipynb" in line for line in progress)
    figures = {p.name for p in (out / "figures").iterdir()}
    assert "01_daily_messages.png" in figures and "01_daily_messages.svg" in figures
    assert {"02_violations_by_category.png", "02_weekly_trend.png", "02_phrase_cloud.png"} <= figures
    assert {"03_type_distribution.png", "03_weekly_trend.png", "03_platform_types.png", "03_escalation_by_type.png",
            "03_handling_by_type.png", "03_apology_by_agent.svg", "03_contact_reasons.png"} <= figures
    assert any(name.startswith("03_wordcloud_") and name.endswith(".png") for name in figures)   # the top types
    assert {"04_response_ecdf.png", "04_hour_weekday_median.png", "04_sla_by_agent.png", "04_weekly_sla.png",
            "04_platform_metrics.png", "04_wait_apology_by_agent.png", "04_workload.png"} <= figures
    assert {"05_check_rates.png", "05_score_distribution.png", "05_agent_check_heatmap.png", "05_weekly_checks.png",
            "05_before_after.png"} <= figures
    assert {"06_agent_scorecards.png", "06_agent_scorecards.svg", "06_component_heatmap.png", "06_weekly_composite.png"} <= figures
    assert {"07_funnel.png", "07_funnel_by_type.png", "07_funnel_by_agent.png", "07_steps.png", "07_duration.png"} <= figures
    every_figure = artefacts.figures(out)
    assert len(every_figure) == len([f for f in figures if f.endswith(".png")])
    assert all(f["takeaway"] for f in every_figure), [f["name"] for f in every_figure if not f["takeaway"]]

    # run.json traces the deck to its data and rules
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert len(manifest["rulebook_version"]) == 12 and len(manifest["taxonomy_version"]) == 12
    assert manifest["inputs"] == [{"name": export.name, "path": str(export.resolve()), "bytes": export.stat().st_size,
                                   "sha256": hashlib.sha256(export.read_bytes()).hexdigest()}]
    loaded = load_logs(export)
    assert (manifest["load"]["rows_read"], manifest["load"]["rows_kept"], manifest["load"]["rows_set_aside"]) == \
        (loaded.report.rows_read, loaded.report.rows_kept, loaded.report.rows_quarantined)
    assert manifest["load"]["balanced"] and manifest["outputs"] == {
        "kpis.json": "ok", "workbook.xlsx": "ok", "deck.pptx": "ok", "deck_full.pptx": "ok", "index.html": "ok",
        "assets/cjk.woff": "ok"}
    assert manifest["package_version"] and manifest["parameters"]["LOGS"] == str(export.resolve())
    assert [f["name"] for f in manifest["figures"]] == [f["name"] for f in every_figure]
    assert {"name": "02_evidence", "title": "违规明细(每一次命中,已脱敏)Evidence: every violation, masked",
            "sheet": "违规明细 evidence", "rows": len(find_violations(loaded.messages))} in manifest["tables"]

    # one HTML report per notebook, without code
    htmls = sorted(p.name for p in (out / "html").glob("*.html"))
    assert htmls == [p.with_suffix(".html").name for p in notebook_paths()]
    overview = (out / "html" / "01_data_overview.html").read_text(encoding="utf-8")
    assert "数据概览" in overview and "ctx = prepare(" not in overview and "from cs_analytics" not in overview
    assert "<title>01 数据概览 · Data overview</title>" in overview and '<html lang="zh">' in overview
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "href='deck.pptx'" in index and "href='deck_full.pptx'" in index and "href='html/06_agent_scorecards.html'" in index

    # the workbook: every key table, the evidence sheet holds every violation
    book = openpyxl.load_workbook(out / "workbook.xlsx", read_only=True)
    assert {"说明", "目录", "违规明细 evidence", "客服评分 scorecards", "投诉类型 types", "客服响应 agents",
            "礼貌 agents"} <= set(book.sheetnames)
    hits = find_violations(loaded.messages)
    evidence = list(book["违规明细 evidence"].iter_rows(min_row=HEADER_ROW, values_only=True))
    # headed from the column dictionary ("消息 ID message id" …); the ids stay in tables/02_evidence.parquet
    assert evidence[0][:6] == tuple(columns.header(c) for c in ("message_id", "session_id", "ts", "platform", "shop", "agent_id"))
    assert len(evidence) - 1 == len(hits)
    assert {row[0] for row in evidence[1:]} == set(hits["message_id"])
    cards = list(book["客服评分 scorecards"].iter_rows(min_row=HEADER_ROW, values_only=True))
    assert len(cards) - 1 == 15 and cards[1][3] == 1                  # one row per agent, ranked

    # the full deck: a title, one picture per chart with its takeaway, example slides
    deck = Presentation(out / "deck_full.pptx")
    pictures = [shape for slide in deck.slides for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == len(every_figure)
    slide_text = ["\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in deck.slides]
    assert "客服质检报告" in slide_text[0] and "本期要点" in slide_text[1]
    assert all(f"{n} " in "\n".join(slide_text[1:3]) for n in ("02", "03", "04", "05", "06"))   # every notebook's points
    for figure in every_figure:
        assert any(f"图 {figure['name']} " in t and figure["takeaway"] in t for t in slide_text), figure["name"]
    assert sum("原话 → 建议说法" in t for t in slide_text) >= 1

    # no planted phone number, ID number or name in any HTML, XLSX or PPTX
    texts = output_texts(out)
    assert {"workbook.xlsx", "deck.pptx", "deck_full.pptx", "index.html"} <= set(texts) and len(texts) == 4 + len(htmls)
    fold = str.maketrans("０１２３４５６７８９", "0123456789")
    kept = re.sub(r"[ \-]", "", "\n".join(loaded.messages["text"])).translate(fold)
    reached = [value for value in planted["phones"] + planted["ids"] if value in kept]
    assert len(reached) >= 0.9 * len(planted["phones"] + planted["ids"])     # the PII reached the analysis …
    assert all(mark in texts["workbook.xlsx"] for mark in ("[手机号]", "[身份证号]", "[姓名]"))   # … and left it masked
    for name, text in texts.items():
        # spaces and dashes go within a line (as in "+86 139-1234-5678"); cells stay apart on their own lines
        compact = re.sub(r"[ \t\u3000\-]", "", text).translate(fold)
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", compact), name
        assert not re.search(r"(?<!\d)\d{17}[\dXx](?!\d)", compact), name
        for value in planted["phones"] + planted["ids"] + planted["names"]:
            assert value not in compact, (name, value)
    # nor in the executed notebooks' outputs
    for book_path in (out / "notebooks").glob("*.ipynb"):
        outputs = notebook_outputs(out, book_path.stem)
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", outputs), book_path.name
    text = notebook_outputs(out, "01_data_overview")
    assert "read = kept + quarantined" in text


@pytest.mark.slow
def test_report_on_an_export_without_times_or_agents(bare_report):
    result, tmp_path = bare_report.result, bare_report.out.parent
    assert result.ok, [r.error for r in result.runs]
    text = notebook_outputs(tmp_path / "run", "01_data_overview")
    assert "no send times" in text and "no agent accounts" in text
    figures = {p.name for p in (tmp_path / "run" / "figures").iterdir()}
    assert "01_daily_messages.png" not in figures and "01_session_length.png" in figures
    assert not any(name.endswith(".svg") for name in figures)          # PNG only, unless --svg asks for SVG
    assert "02_violations_by_category.png" in figures and "02_weekly_trend.png" not in figures
    text = notebook_outputs(tmp_path / "run", "02_forbidden_phrases")
    assert "weekly trends are skipped" in text
    assert "03_type_distribution.png" in figures and "03_weekly_trend.png" not in figures
    assert "03_apology_by_agent.png" not in figures
    text = notebook_outputs(tmp_path / "run", "03_complaint_types")
    assert "weekly trends are skipped" in text and "names no agent accounts" in text
    assert not any(name.startswith("04_") for name in figures)
    text = notebook_outputs(tmp_path / "run", "04_response_times")
    assert "response times cannot be computed" in text
    assert "05_check_rates.png" in figures and "05_weekly_checks.png" not in figures and "05_before_after.png" not in figures
    text = notebook_outputs(tmp_path / "run", "05_politeness_trends")
    assert "festive and wait checks are left out" in text and "before/after comparison is skipped" in text
    assert not any(name.startswith("06_") for name in figures)
    text = notebook_outputs(tmp_path / "run", "06_agent_scorecards")
    assert "scorecards are skipped" in text
    assert "07_funnel.png" in figures and "07_funnel_by_agent.png" not in figures and "07_duration.png" not in figures
    text = notebook_outputs(tmp_path / "run", "07_complaint_handling")
    assert "complaint durations are skipped" in text and "per-agent views are skipped" in text
    # the deliverables are still built, from what the notebooks could compute
    book = openpyxl.load_workbook(tmp_path / "run" / "workbook.xlsx", read_only=True)
    assert "违规明细 evidence" in book.sheetnames and "客服评分 scorecards" not in book.sheetnames
    deck = Presentation(tmp_path / "run" / "deck_full.pptx")
    assert sum(1 for slide in deck.slides for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE) == \
        len([f for f in figures if f.endswith(".png")])
    manifest = json.loads((tmp_path / "run" / "run.json").read_text(encoding="utf-8"))
    assert manifest["load"]["has_timestamps"] is False and manifest["load"]["first_day"] is None


def slide_titles(deck) -> list[str]:
    """Each slide's title: the first line of its first text box."""
    return [next((s.text_frame.text.split("\n")[0] for s in slide.shapes if s.has_text_frame), "") for slide in deck.slides]


def check_pictures(deck) -> list[float]:
    """Every picture lies on its slide, undistorted, and fills the content area's width or height
    (at least 85%); returns each picture's fill (the larger of the two shares)."""
    left, top, width, height = CONTENT
    fills = []
    for slide in deck.slides:
        for picture in (s for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE):
            assert picture.left >= 0 and picture.top >= 0
            assert picture.left + picture.width <= deck.slide_width and picture.top + picture.height <= deck.slide_height
            w, h = picture.image.size
            assert picture.width / picture.height == pytest.approx(w / h, rel=0.01)
            fills.append(max(picture.width / width, picture.height / height))
    assert all(fill >= 0.85 for fill in fills), fills
    return fills


def check_training_deck(out) -> list[str]:
    """The training deck of a run folder: at most max_slides slides; report.yaml's training sections in
    order, a chart section exactly when one of its figures was saved; the appendix after them; charts
    filling the slide. Returns the slide titles."""
    layout = artefacts.report_layout()
    deck = Presentation(out / "deck.pptx")
    titles = slide_titles(deck)
    assert len(titles) <= layout["max_slides"]
    training = [section["title"] for section in layout["training"]]
    split = titles.index("附录 Appendix")
    shown = list(dict.fromkeys(t for t in titles[:split] if t in training))
    assert shown == [t for t in training if t in shown] and not set(titles[split:]) & set(training)
    assert [t for t in titles[split + 1:]] == [section["title"] for section in layout["appendix"]]
    saved = {f["name"] for f in artefacts.figures(out)}
    for section in layout["training"]:
        if section["kind"] == "chart":
            assert (section["title"] in shown) == bool(saved & set(section["figures"])), section["id"]
    check_pictures(deck)
    return titles


@pytest.mark.slow
def test_training_deck_on_the_sample(full_report):
    out = full_report.out
    layout = artefacts.report_layout()
    titles = check_training_deck(out)
    assert list(dict.fromkeys(titles[1:titles.index("附录 Appendix")])) == [s["title"] for s in layout["training"]]
    deck = Presentation(out / "deck.pptx")
    slides = {title: slide for title, slide in zip(titles, deck.slides)}
    # headline numbers: the run's KPI tiles (kpis.json), the same the summary page shows
    text = "\n".join(s.text_frame.text for title, slide in zip(titles, deck.slides) if title == "本期数字 Headline numbers"
                     for s in slide.shapes if s.has_text_frame)
    tiles = json.loads((out / "kpis.json").read_text(encoding="utf-8"))["tiles"]
    assert tiles and all(tile["zh"] in text and tile["display"] in text for tile in tiles)
    # the coaching table names agents of 06's scorecards, each with a weakest component and what to practise
    table = next(s.table for s in slides["需要辅导的客服 Agents to coach"].shapes if s.has_table)
    rows = [[cell.text for cell in row.cells] for row in list(table.rows)[1:]]
    cards = pd.read_parquet(out / "tables" / "06_agent_scorecards.parquet")
    assert rows and {row[0] for row in rows} <= set(cards["agent_id"]) and all(row[2] and row[4] for row in rows)
    # the chart of a section is its first candidate the run saved
    pictures = [s for s in slides["最常见的违规 Most frequent violations"].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert len(pictures) == 1 and pictures[0].image.blob == (out / "figures" / "02_violations_by_category.png").read_bytes()
    assert artefacts.key_figure(out, "04")["name"] == "04_platform_metrics" and artefacts.key_figure(out, "99") is None
    assert check_pictures(Presentation(out / "deck_full.pptx"))


@pytest.mark.slow
def test_training_deck_without_times_or_agents(bare_report):
    titles = check_training_deck(bare_report.out)
    assert "需要辅导的客服 Agents to coach" not in titles and "响应时长 Response times" not in titles
    assert "原话 → 建议说法" in titles and "投诉处理 Complaint handling" in titles
    assert artefacts.key_figure(bare_report.out, "01")["name"] == "01_session_length"


INPUT_ERRORS = yaml.safe_load((Path(__file__).parent / "cases" / "report_input_errors.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", INPUT_ERRORS, ids=[c["id"] for c in INPUT_ERRORS])
def test_cli_report_refuses_bad_inputs_before_running_anything(case, tmp_path, capsys):
    path = ""
    if "file" in case:
        path = tmp_path / case["file"]["name"]
        path.write_text(case["file"]["text"], encoding="utf-8")
    args = [a.replace("{file}", str(path)).replace("{tmp}", str(tmp_path)) for a in case["args"]]
    code = cli.main(["report", *args, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2, err
    for fragment in case["expect"]:
        assert fragment in err
    assert not (tmp_path / "o").exists()


def test_cli_report_refuses_an_output_path_that_is_a_file(tmp_path, capsys):
    taken = tmp_path / "report.txt"
    taken.write_text("not a folder", encoding="utf-8")
    assert cli.main(["report", "--out", str(taken)]) == 2
    assert "is a file; give a folder" in capsys.readouterr().err
    assert taken.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.slow
@pytest.mark.parametrize("run", ["full_report", "bare_report"])
def test_each_notebook_shows_every_chart_it_saved_once_as_the_saved_png(run, request):
    import base64

    out = request.getfixturevalue(run).out
    saved = {}
    for figure in artefacts.figures(out):
        saved.setdefault(figure["name"][:2], []).append(figure["png"].read_bytes())
    for number, book in artefacts.executed_notebooks(out).items():
        shown = [(base64.b64decode(o["data"]["image/png"]), o.get("metadata", {}).get("image/png", {}))
                 for c in nbformat.read(book, as_version=4).cells for o in c.get("outputs", [])
                 if "image/png" in o.get("data", {})]
        assert [data for data, _ in shown] == saved.get(number, []), book.name      # in saving order, none drawn again
        assert all(meta.get("width") and meta.get("height") for _, meta in shown)    # shown at half its pixels


def test_notebooks_start_longest_first_and_unlisted_ones_after_in_their_order():
    from cs_analytics.outputs.report import start_order

    books = [Path(f"{n}_x.ipynb") for n in ("01", "02", "03", "08", "09")]
    assert start_order(books, {"longest_first": ["03", "01"]}) == [2, 0, 1, 3, 4]
    assert start_order(books, {}) == [0, 1, 2, 3, 4]
    shipped = notebook_paths()
    assert [shipped[i].name[:2] for i in start_order(shipped)][:2] == ["03", "02"]          # report.yaml's order
