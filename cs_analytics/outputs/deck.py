"""The run's training deck (python-pptx): a title slide; 本期要点, each notebook's computed takeaway
points; a section per notebook with one chart per slide and its computed one-line takeaway;
"原话 → 建议说法" example slides from the evidence table; and a closing slide that traces the
numbers to the input files' hashes and the rule versions.

Slides are built on the blank layout at 16:9 with our own text boxes, so the deck looks the same in
PowerPoint, WPS and LibreOffice. Text runs name a CJK font for East Asian characters (``DECK_FONT``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from . import artefacts

DECK_FONT = "Microsoft YaHei"            # Windows/WPS; other systems substitute their CJK sans
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
DARK, GREY, ACCENT = RGBColor(0x22, 0x22, 0x22), RGBColor(0x77, 0x77, 0x77), RGBColor(0x1F, 0x5F, 0xA8)
EXAMPLE_RULES = 8                        # rules shown on the example slides (most hits first)
EXAMPLES_PER_SLIDE = 4
EVIDENCE_TABLE = "02_evidence"
FINDINGS_NOTEBOOKS_PER_SLIDE = 3          # 本期要点: notebooks per slide, points per notebook
FINDINGS_POINTS = 3


def _text(slide, left, top, width, height, text: str, size: int, color=DARK, bold: bool = False):
    """A text box with one paragraph per line of ``text``; East Asian and Latin fonts both set."""
    box = slide.shapes.add_textbox(left, top, width, height)
    frame = box.text_frame
    frame.word_wrap = True
    for i, line in enumerate(str(text).split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        _style(run, size, color, bold)
    return box


def _style(run, size: int, color=DARK, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = color
    run.font.name = DECK_FONT
    properties = run._r.get_or_add_rPr()
    east_asian = properties.find(qn("a:ea"))
    if east_asian is None:
        east_asian = properties.makeelement(qn("a:ea"), {})
        properties.append(east_asian)
    east_asian.set("typeface", DECK_FONT)


def _blank(deck):
    return deck.slides.add_slide(deck.slide_layouts[6])


def _footer(slide, text: str) -> None:
    _text(slide, MARGIN, HEIGHT - Inches(0.45), WIDTH - 2 * MARGIN, Inches(0.3), text, 9, GREY)


def _picture(slide, png: Path, left, top, width, height) -> None:
    """``png`` as large as fits in the box, centred, aspect ratio kept."""
    with Image.open(png) as image:
        w, h = image.size
    scale = min(width / w, height / h)
    pic_w, pic_h = int(w * scale), int(h * scale)
    slide.shapes.add_picture(str(png), Emu(left + (width - pic_w) // 2), Emu(top + (height - pic_h) // 2),
                             Emu(pic_w), Emu(pic_h))


def notebook_titles(out_dir: Path) -> dict[str, str]:
    """Notebook number → the first '# ' heading of the executed notebook (its question)."""
    return {book.name[:2]: artefacts.notebook_title(book)
            for book in sorted((Path(out_dir) / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def _chart_slide(deck, figure: dict, trace: str) -> None:
    slide = _blank(deck)
    _text(slide, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.7), figure["title"] or figure["name"], 24, DARK, True)
    _picture(slide, figure["png"], MARGIN, Inches(1.05), WIDTH - 2 * MARGIN, Inches(5.0))
    takeaway = figure.get("takeaway") or ""
    if takeaway:
        _text(slide, MARGIN, Inches(6.15), WIDTH - 2 * MARGIN, Inches(0.7), takeaway, 18, ACCENT, True)
    _footer(slide, f"图 {figure['name']} · {trace}")


def example_rows(evidence: pd.DataFrame, rules: int = EXAMPLE_RULES) -> pd.DataFrame:
    """Masked examples for the example slides: the most-hit rule of each category first (so a training
    sees every kind of mistake, not one rule eight times), then the next most-hit rules, up to
    ``rules``; one hit each with its category and rule labels (the rule id where the evidence has no
    ``rule_label``), 原话 excerpt and 建议说法."""
    if evidence.empty:
        return evidence
    counts = evidence["rule_id"].value_counts()
    label_of = evidence.drop_duplicates("rule_id").set_index("rule_id")["label"]
    leaders, seen = [], set()
    for rule in counts.index:                    # most-hit first, so each category's leader comes first
        if label_of[rule] not in seen:
            seen.add(label_of[rule])
            leaders.append(rule)
    top = (leaders + [rule for rule in counts.index if rule not in leaders])[:rules]
    firsts = evidence.drop_duplicates("rule_id").set_index("rule_id").loc[top]
    name = firsts["rule_label"] if "rule_label" in firsts else firsts.index.to_series()
    return pd.DataFrame({"rule": [f"{row.label} · {name[rule]}({counts[rule]} 次)" for rule, row in firsts.iterrows()],
                         "said": firsts["excerpt"].to_numpy(),
                         "suggest": firsts["suggest"].to_numpy()})


def _example_slides(deck, rows: pd.DataFrame, trace: str) -> None:
    for start in range(0, len(rows), EXAMPLES_PER_SLIDE):
        part = rows.iloc[start:start + EXAMPLES_PER_SLIDE]
        slide = _blank(deck)
        _text(slide, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.7), "原话 → 建议说法", 24, DARK, True)
        shape = slide.shapes.add_table(len(part) + 1, 3, MARGIN, Inches(1.1), WIDTH - 2 * MARGIN, Inches(0.5) * (len(part) + 1))
        table = shape.table
        for j, (heading, width) in enumerate((("规则", 3.2), ("原话(已脱敏)", 4.8), ("建议说法", 4.3))):
            table.columns[j].width = Inches(width)
            cell = table.cell(0, j)
            cell.text = ""
            _style(cell.text_frame.paragraphs[0].add_run(), 14, RGBColor(0xFF, 0xFF, 0xFF), True)
            cell.text_frame.paragraphs[0].runs[0].text = heading
        for i, row in enumerate(part.itertuples(index=False), start=1):
            for j, value in enumerate((row.rule, row.said, row.suggest)):
                cell = table.cell(i, j)
                cell.text = ""
                run = cell.text_frame.paragraphs[0].add_run()
                run.text = str(value)
                _style(run, 13, DARK)
        _footer(slide, f"证据表 {EVIDENCE_TABLE}(workbook.xlsx)· {trace}")


def _key_findings_slides(deck, found: list[dict], titles: dict[str, str], trace: str) -> None:
    """本期要点: each notebook's first takeaway points (computed in the notebook), a few notebooks a slide."""
    for start in range(0, len(found), FINDINGS_NOTEBOOKS_PER_SLIDE):
        slide = _blank(deck)
        _text(slide, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.7), "本期要点 Key findings", 24, DARK, True)
        box = slide.shapes.add_textbox(MARGIN, Inches(1.1), WIDTH - 2 * MARGIN, Inches(5.6))
        frame = box.text_frame
        frame.word_wrap = True
        first = True
        for entry in found[start:start + FINDINGS_NOTEBOOKS_PER_SLIDE]:
            lines = [(titles.get(entry["notebook"], entry["name"]), 18, ACCENT, True)] + \
                [("• " + point, 15, DARK, False) for point in entry["points"][:FINDINGS_POINTS]]
            for text, size, color, bold in lines:
                paragraph = frame.paragraphs[0] if first else frame.add_paragraph()
                paragraph.space_before = Pt(14 if bold and not first else 4)
                first = False
                run = paragraph.add_run()
                run.text = text
                _style(run, size, color, bold)
        _footer(slide, trace)


def _trace(manifest: dict) -> str:
    inputs = manifest.get("inputs", [])
    data = ", ".join(f"{i['name']} sha256 {i['sha256'][:12]}" for i in inputs[:2]) + (" …" if len(inputs) > 2 else "")
    return f"数据 {data} · 规则库 {manifest.get('rulebook_version', '')} · cs-analytics {manifest.get('package_version', '')}"


def _title_lines(manifest: dict) -> str:
    load = manifest.get("load", {})
    lines = []
    if load.get("first_day") and load.get("last_day"):
        lines.append(f"{load['first_day']} 至 {load['last_day']}")
    if load:
        lines.append(f"{load.get('rows_kept', 0):,} 条消息 · {load.get('sessions', 0):,} 个会话 · "
                     f"平台 {', '.join(load.get('platforms', [])) or '—'} · 店铺 {load.get('shops', 0)} 家")
    lines.append(f"生成于 {str(manifest.get('created', ''))[:16].replace('T', ' ')}")
    return "\n".join(lines)


def _closing_slide(deck, manifest: dict) -> None:
    slide = _blank(deck)
    _text(slide, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.7), "数据与规则追溯 How to trace these numbers", 24, DARK, True)
    load = manifest.get("load", {})
    lines = [f"输入 {i['name']}: sha256 {i['sha256']} ({i['bytes']:,} bytes)" for i in manifest.get("inputs", [])]
    if load:
        lines.append(f"读入 {load.get('rows_read', 0):,} 行 = 保留 {load.get('rows_kept', 0):,} + 隔离 {load.get('rows_set_aside', 0):,}")
    lines += [f"规则库 rulebook {manifest.get('rulebook_version', '')} · 投诉分类 taxonomy {manifest.get('taxonomy_version', '')} · "
              f"平台指标口径 {manifest.get('metric_recipes_version', '')}",
              f"cs-analytics {manifest.get('package_version', '')} · 参数与明细见 run.json 与 workbook.xlsx"]
    failed = [r for r in manifest.get("notebooks", []) if not r["ok"]]
    for run in failed:
        lines.append(f"未完成 failed: {run['error']}")
    _text(slide, MARGIN, Inches(1.2), WIDTH - 2 * MARGIN, Inches(5.5), "\n".join(lines), 14, DARK)


def write_deck(out_dir: str | Path, manifest: dict, path: str | Path | None = None,
               title: str = "客服质检报告") -> Path:
    """Write ``<out_dir>/deck.pptx`` from the run's figures, takeaways and evidence; returns its path."""
    out_dir = Path(out_dir)
    path = Path(path) if path else out_dir / "deck.pptx"
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    trace = _trace(manifest)

    slide = _blank(deck)
    _text(slide, MARGIN, Inches(2.3), WIDTH - 2 * MARGIN, Inches(1.2), title, 40, DARK, True)
    _text(slide, MARGIN, Inches(3.6), WIDTH - 2 * MARGIN, Inches(2.0), _title_lines(manifest), 18, GREY)

    titles = notebook_titles(out_dir)
    findings = [entry for entry in artefacts.summaries(out_dir) if entry["points"]]
    if findings:
        _key_findings_slides(deck, findings, titles, trace)
    evidence = next((e for e in artefacts.tables(out_dir) if e["name"] == EVIDENCE_TABLE), None)
    figures = artefacts.figures(out_dir)
    sections = sorted({f["notebook"] for f in figures} | ({EVIDENCE_TABLE[:2]} if evidence else set()))
    for number in sections:
        slide = _blank(deck)
        _text(slide, MARGIN, Inches(3.0), WIDTH - 2 * MARGIN, Inches(1.2), titles.get(number, f"Notebook {number}"), 32, ACCENT, True)
        for figure in (f for f in figures if f["notebook"] == number):
            _chart_slide(deck, figure, trace)
        if evidence and number == EVIDENCE_TABLE[:2]:
            rows = example_rows(artefacts.read_table(evidence))
            if len(rows):
                _example_slides(deck, rows, trace)
    _closing_slide(deck, manifest)
    deck.save(path)
    return path
