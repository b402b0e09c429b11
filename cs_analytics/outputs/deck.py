"""The run's two decks (python-pptx).

``deck.pptx``, the training deck, runs in the order of a training session, as ``resources/report.yaml``
lists its sections: headline numbers (``<out>/kpis.json``, else the notebooks' takeaways), the most
frequent violations with "原话 → 建议说法" examples, complaint handling, politeness, response times and
the agents to coach and on what; then an appendix (data quality, method, trace). ``deck_full.pptx``,
for analysts, has every chart of every notebook with its takeaway, the examples and the trace.

Slides are built on the blank layout at 16:9 with our own text boxes, so the decks look the same in
PowerPoint, WPS and LibreOffice. Text runs name a CJK font for East Asian characters (``DECK_FONT``).
A chart fills the content area's height at its own aspect (figures are drawn at ``CHART_BOX``'s
aspect, plots.FIGSIZE); its text stands in the column beside it.
"""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from . import artefacts, columns
from ..base.schema import quarantine_reasons, reason_label
from ..tables.kpis import MARKERS, against, period_line

DECK_FONT = "Microsoft YaHei"            # Windows/WPS; other systems substitute their CJK sans
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
DARK, GREY, ACCENT = RGBColor(0x22, 0x22, 0x22), RGBColor(0x77, 0x77, 0x77), RGBColor(0x1F, 0x5F, 0xA8)
GOOD, BAD, TILE = RGBColor(0x29, 0xA3, 0x6A), RGBColor(0xE4, 0x57, 0x2E), RGBColor(0xF1, 0xF4, 0xF8)
# The content area: below the title, above the footer, inside the margins. A chart takes at most
# CHART_BOX of it (left), leaving at least the rest of the width for its text.
CONTENT = (MARGIN, Inches(1.15), WIDTH - 2 * MARGIN, Inches(5.8))      # left, top, width, height
CHART_BOX = (Inches(9.0), CONTENT[3])
GUTTER = Inches(0.25)
EXAMPLE_RULES = 8                        # rules shown on the example slides (most hits first)
EXAMPLES_PER_SLIDE = 4
EVIDENCE_TABLE = "02_evidence"
FINDINGS_NOTEBOOKS_PER_SLIDE = 3          # 本期要点 (full deck): notebooks per slide, points per notebook
FINDINGS_POINTS = 3
TILES_PER_SLIDE, TILE_SLIDES = 10, 2      # headline numbers: at most 2 slides of 10 tiles (5 a row)
TILE_COLUMNS = 5


# ---- text and pictures ---------------------------------------------------------------------------

def _style(run, size: float, color=DARK, bold: bool = False) -> None:
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


def _paragraphs(frame, lines: list[tuple], first: bool = True) -> None:
    """Add ``lines`` of (text, size, color, bold) to a text frame, one paragraph each."""
    for text, size, color, bold in lines:
        paragraph = frame.paragraphs[0] if first else frame.add_paragraph()
        paragraph.space_before = Pt(0 if first else size * 0.5)
        first = False
        run = paragraph.add_run()
        run.text = text
        _style(run, size, color, bold)


def _text(slide, left, top, width, height, text: str, size: float, color=DARK, bold: bool = False):
    """A text box with one paragraph per line of ``text``; East Asian and Latin fonts both set."""
    box = slide.shapes.add_textbox(left, top, width, height)
    box.text_frame.word_wrap = True
    _paragraphs(box.text_frame, [(line, size, color, bold) for line in str(text).split("\n")])
    return box


def text_height(text: str, size: float, width) -> float:
    """Estimated height (inches) of ``text`` at ``size`` points wrapped in ``width`` (EMU): hanzi and
    full-width signs a full em, other characters about half, lines 1.25 em apart."""
    ems = sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)
    per_line = max(width / 914400 * 72 / size - 1, 1)      # characters of 1 em per line, less the box's insets
    return max(math.ceil(ems / per_line), 1) * size * 1.25 / 72


def _fit(lines: list[tuple], width, height, sizes=(18, 16, 15, 14, 13, 12)) -> list[tuple]:
    """``lines`` of (text, role) at the largest font that fits ``width`` × ``height`` (EMU); lines are
    dropped from the end when even the smallest is too large. Roles: "lead" (bold accent) or "point"."""
    limit = height / 914400
    while lines:
        for size in sizes:
            styled = [(text, size, ACCENT, True) if role == "lead" else ("• " + text, size * 0.9, DARK, False)
                      for text, role in lines]
            if sum(text_height(t, s, width) + s * 0.5 / 72 for t, s, _, _ in styled) <= limit:
                return styled
        lines = lines[:-1]
    return []


def _title(slide, text: str) -> None:
    _text(slide, MARGIN, Inches(0.3), WIDTH - 2 * MARGIN, Inches(0.75), text, 24, DARK, True)


def _blank(deck):
    return deck.slides.add_slide(deck.slide_layouts[6])


def _footer(slide, text: str) -> None:
    _text(slide, MARGIN, HEIGHT - Inches(0.42), WIDTH - 2 * MARGIN, Inches(0.3), text, 9, GREY)


def _picture(slide, png: Path, left, top, width, height):
    """``png`` as large as fits in the box, top left, aspect ratio kept; returns the picture."""
    with Image.open(png) as image:
        w, h = image.size
    scale = min(width / w, height / h)
    return slide.shapes.add_picture(str(png), Emu(left), Emu(top), Emu(int(w * scale)), Emu(int(h * scale)))


def _chart_slide(deck, title: str, figure: dict, lines: list[tuple], footer: str):
    """A chart filling the content area's height (at most ``CHART_BOX`` wide), ``lines`` of (text, role)
    in the column beside it."""
    slide = _blank(deck)
    _title(slide, title)
    left, top, width, height = CONTENT
    picture = _picture(slide, figure["png"], left, top, *CHART_BOX)
    column = picture.left + picture.width + GUTTER
    box = slide.shapes.add_textbox(column, top, left + width - column, height)
    box.text_frame.word_wrap = True
    _paragraphs(box.text_frame, _fit(lines, left + width - column, height))
    _footer(slide, footer)
    return slide


# ---- examples, findings, trace (both decks) -----------------------------------------------------

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


def _table(slide, top, headings: list[tuple[str, float]], rows: list[list[str]], size: float = 13):
    """A table of ``rows`` under a header row; ``headings``: (text, width in inches)."""
    shape = slide.shapes.add_table(len(rows) + 1, len(headings), MARGIN, top, WIDTH - 2 * MARGIN,
                                   Inches(0.45) * (len(rows) + 1))
    table = shape.table
    for j, (heading, width) in enumerate(headings):
        table.columns[j].width = Inches(width)
        cell = table.cell(0, j)
        cell.text = ""
        run = cell.text_frame.paragraphs[0].add_run()
        run.text = heading
        _style(run, size + 1, RGBColor(0xFF, 0xFF, 0xFF), True)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row):
            cell = table.cell(i, j)
            cell.text = ""
            run = cell.text_frame.paragraphs[0].add_run()
            run.text = str(value)
            _style(run, size, DARK)
    return shape


def _example_slides(deck, rows: pd.DataFrame, trace: str, title: str = "原话 → 建议说法") -> None:
    for start in range(0, len(rows), EXAMPLES_PER_SLIDE):
        part = rows.iloc[start:start + EXAMPLES_PER_SLIDE]
        slide = _blank(deck)
        _title(slide, title)
        _table(slide, CONTENT[1], [(columns.header("rule_label", "zh"), 3.2), (columns.header("excerpt", "zh"), 4.8),
                                   (columns.header("suggest", "zh"), 4.3)],
               [[row.rule, row.said, row.suggest] for row in part.itertuples(index=False)])
        _footer(slide, f"证据表 {EVIDENCE_TABLE}(workbook.xlsx)· {trace}")


def _key_findings_slides(deck, found: list[dict], titles: dict[str, str], trace: str) -> None:
    """本期要点: each notebook's first takeaway points (computed in the notebook), a few notebooks a slide."""
    for start in range(0, len(found), FINDINGS_NOTEBOOKS_PER_SLIDE):
        slide = _blank(deck)
        _title(slide, "本期要点 Key findings")
        box = slide.shapes.add_textbox(MARGIN, Inches(1.1), WIDTH - 2 * MARGIN, Inches(5.6))
        box.text_frame.word_wrap = True
        lines = []
        for entry in found[start:start + FINDINGS_NOTEBOOKS_PER_SLIDE]:
            lines += [(titles.get(entry["notebook"], entry["name"]), 18, ACCENT, True)] + \
                [("• " + point, 15, DARK, False) for point in entry["points"][:FINDINGS_POINTS]]
        _paragraphs(box.text_frame, lines)
        _footer(slide, trace)


def _trace(manifest: dict) -> str:
    inputs = manifest.get("inputs", [])
    data = ", ".join(f"{i['name']} sha256 {i['sha256'][:12]}" for i in inputs[:2]) + (" …" if len(inputs) > 2 else "")
    return f"数据 {data} · 规则库 {manifest.get('rulebook_version', '')} · cs-analytics {manifest.get('package_version', '')}"


def _title_slide(deck, title: str, manifest: dict, subtitle: str = "") -> None:
    load = manifest.get("load", {})
    lines = [subtitle] if subtitle else []
    if load.get("first_day") and load.get("last_day"):
        lines.append(f"{load['first_day']} 至 {load['last_day']}")
    if load:
        lines.append(f"{load.get('rows_kept', 0):,} 条消息 · {load.get('sessions', 0):,} 个会话 · "
                     f"平台 {', '.join(load.get('platforms', [])) or '—'} · 店铺 {load.get('shops', 0)} 家")
    lines.append(f"生成于 {str(manifest.get('created', ''))[:16].replace('T', ' ')}")
    slide = _blank(deck)
    _text(slide, MARGIN, Inches(2.3), WIDTH - 2 * MARGIN, Inches(1.2), title, 40, DARK, True)
    _text(slide, MARGIN, Inches(3.6), WIDTH - 2 * MARGIN, Inches(2.0), "\n".join(lines), 18, GREY)


def _closing_slide(deck, manifest: dict, title: str = "数据与规则追溯 How to trace these numbers") -> None:
    slide = _blank(deck)
    _title(slide, title)
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
    _text(slide, MARGIN, CONTENT[1], WIDTH - 2 * MARGIN, Inches(5.5), "\n".join(lines), 14, DARK)


def _evidence(out_dir: Path) -> pd.DataFrame | None:
    entry = next((e for e in artefacts.tables(out_dir) if e["name"] == EVIDENCE_TABLE), None)
    return artefacts.read_table(entry) if entry else None


def _stored(out_dir: Path, name: str) -> pd.DataFrame | None:
    path = Path(out_dir) / "tables" / f"{name}.parquet"
    return pd.read_parquet(path) if path.exists() else None


# ---- the full deck --------------------------------------------------------------------------------

def write_full_deck(out_dir: str | Path, manifest: dict, path: str | Path | None = None,
                    title: str = "客服质检报告(完整版)") -> Path:
    """Write ``<out_dir>/deck_full.pptx``: 本期要点, then a section per notebook with every chart and its
    takeaway, the example slides, and the trace; returns its path."""
    out_dir = Path(out_dir)
    path = Path(path) if path else out_dir / "deck_full.pptx"
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    trace = _trace(manifest)
    _title_slide(deck, title, manifest, "分析师版:每个笔记本的全部图表 Every chart of every notebook")
    titles = artefacts.notebook_titles(out_dir)
    findings = [entry for entry in artefacts.summaries(out_dir) if entry["points"]]
    if findings:
        _key_findings_slides(deck, findings, titles, trace)
    evidence = _evidence(out_dir)
    figures = artefacts.figures(out_dir)
    sections = sorted({f["notebook"] for f in figures} | ({EVIDENCE_TABLE[:2]} if evidence is not None else set()))
    for number in sections:
        slide = _blank(deck)
        _text(slide, MARGIN, Inches(3.0), WIDTH - 2 * MARGIN, Inches(1.2), titles.get(number, f"Notebook {number}"), 32, ACCENT, True)
        for figure in (f for f in figures if f["notebook"] == number):
            _chart_slide(deck, figure["title"] or figure["name"], figure,
                         [(figure["takeaway"], "lead")] if figure.get("takeaway") else [], f"图 {figure['name']} · {trace}")
        if evidence is not None and number == EVIDENCE_TABLE[:2]:
            rows = example_rows(evidence)
            if len(rows):
                _example_slides(deck, rows, trace)
    _closing_slide(deck, manifest)
    deck.save(path)
    return path


# ---- the training deck ----------------------------------------------------------------------------



def _tile(slide, left, top, width, height, tile: dict, compared: str = "较上期") -> None:
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
    shape.fill.solid()
    shape.fill.fore_color.rgb = TILE
    shape.line.fill.background()
    frame = shape.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = MSO_ANCHOR.TOP
    change = tile.get("change_display")
    color = {True: GOOD, False: BAD}.get(tile.get("good"), GREY)
    display = tile.get("display") or "—"
    ems = sum(1.0 if ord(ch) > 0x2E7F else 0.7 for ch in display)    # bold digits run wide
    lines = [(tile.get("zh") or tile.get("id", ""), 14, DARK, True), (tile.get("en") or "", 9, GREY, False),
             (display, min(30, (width / 914400 - 0.4) * 72 / max(ems, 1)), ACCENT, True)]   # one line, however long
    if change:
        noise = " · 随机波动内" if tile.get("significant") is False else ""
        lines.append((f"{MARKERS.get(tile.get('direction'), '')} {change} {compared}{noise}".strip(), 11, color, True))
    if tile.get("notebook"):                  # where the same number is shown: "见 03 投诉类型"
        lines.append((f"见 {tile['notebook'].split('·')[0].strip()}", 9, GREY, False))
    _paragraphs(frame, lines)
    for paragraph in frame.paragraphs:
        paragraph.alignment = PP_ALIGN.LEFT


def _headline_slides(deck, section: dict, out_dir: Path, titles: dict[str, str], trace: str) -> None:
    """The headline numbers: kpis.json tiles, else each notebook's first takeaway points."""
    left, top, width, height = CONTENT
    kpis = artefacts.read_kpis(out_dir)
    if kpis:
        period = kpis.get("period") or {}
        line = period_line(period)
        tiles = kpis["tiles"][:TILES_PER_SLIDE * TILE_SLIDES]
        for start in range(0, len(tiles), TILES_PER_SLIDE):
            part = tiles[start:start + TILES_PER_SLIDE]
            slide = _blank(deck)
            _title(slide, section["title"])
            if line:
                _text(slide, left, top - Inches(0.1), width, Inches(0.4), line, 13, GREY)
            columns = min(TILE_COLUMNS, len(part))
            rows = math.ceil(len(part) / columns)
            gap = Inches(0.25)
            tile_w = (width - gap * (columns - 1)) // columns
            tile_h = min(Inches(2.45), (height - Inches(0.5) - gap * (rows - 1)) // rows)
            for k, tile in enumerate(part):
                _tile(slide, left + (tile_w + gap) * (k % columns), top + Inches(0.5) + (tile_h + gap) * (k // columns),
                      tile_w, tile_h, tile, against(period))
            _footer(slide, f"{artefacts.KPI_FILE} · {trace}")
        return
    found = [entry for entry in artefacts.summaries(out_dir) if entry["points"]]
    if not found:
        return
    slide = _blank(deck)
    _title(slide, section["title"])
    half = math.ceil(len(found) / 2)
    column_w = (width - GUTTER) // 2
    for k, group in enumerate((found[:half], found[half:])):
        lines = []
        for entry in group:
            lines += [(titles.get(entry["notebook"], entry["name"]), "lead")] + \
                [(point, "point") for point in entry["points"][:section.get("points_per_notebook", 2)]]
        box = slide.shapes.add_textbox(left + (column_w + GUTTER) * k, top, column_w, height)
        box.text_frame.word_wrap = True
        _paragraphs(box.text_frame, _fit(lines, column_w, height, sizes=(16, 15, 14, 13, 12, 11)))
    _footer(slide, f"各笔记本的小结 summaries/ · {trace}")


def _points(out_dir: Path, notebook: str | None) -> list[str]:
    if not notebook:
        return []
    return next((entry["points"] for entry in artefacts.summaries(out_dir) if entry["notebook"] == notebook), [])


def coaching_rows(out_dir: Path, manifest: dict, rows: int = 8, min_gap: float = 0, layout: dict | None = None) -> pd.DataFrame:
    """The agents to coach, furthest below the team on their weakest component first (06's scorecards:
    ranked agents whose weakest component is at least ``min_gap`` points below the team median; all
    agents when none is ranked),
    with the agent's weakest check, step or rule there and what to practise (report.yaml ``coaching``).
    Columns: agent, score, weakest, detail, practise."""
    from ..findings.politeness import CHECKS, check_labels as politeness_labels
    from ..findings.process import check_labels as process_labels
    from ..tables.scorecards import component_labels, scorecard_spec

    cards = _stored(out_dir, "06_agent_scorecards")
    if cards is None or cards.empty or not {"agent_id", "rank", "composite", "weakest_gap"} <= set(cards.columns):
        return pd.DataFrame(columns=["agent", "score", "weakest", "detail", "practise"])
    practise = (layout or artefacts.report_layout()).get("coaching", {})
    spec = scorecard_spec(manifest.get("scorecard_file"))
    names = component_labels(spec)
    weakest_column = next(c for c in cards.columns if c.split(" ")[0] == "weakest")
    chosen = cards[cards["rank"].notna()] if cards["rank"].notna().any() else cards
    chosen = chosen[(chosen["weakest_gap"] < 0) & (chosen["weakest_gap"] <= -min_gap)].sort_values("weakest_gap").head(rows)
    evidence = _evidence(out_dir)
    polite, funnel, response = (_stored(out_dir, n) for n in ("05_scorecards", "07_funnel_by_agent", "04_by_agent"))
    check_ids = {label: check for check, label in politeness_labels().items() if check in CHECKS}
    step_ids = {**check_ids, **{label: step for step, label in process_labels().items()}}   # the funnel closes with 结束语

    def weakest_of(table: pd.DataFrame | None, key: str, agent: str, columns: list[str]) -> tuple[str, float] | None:
        """The column of ``table`` where ``agent`` is furthest below the agents' median."""
        if table is None or agent not in set(table[key]):
            return None
        rates = table.set_index(key)[[c for c in columns if c in table.columns]].astype(float)
        gaps = (rates.loc[agent] - rates.median()).dropna()
        return (gaps.idxmin(), float(rates.loc[agent, gaps.idxmin()])) if len(gaps) else None

    out = []
    for _, card in chosen.iterrows():
        agent, component = card["agent_id"], card[weakest_column]
        component = {label: cid for cid, label in names.items()}.get(component, component)   # shown by its label
        value = card[component]
        detail, advice = "", ""
        if component == "clean" and evidence is not None:
            own = evidence[evidence["agent_id"] == agent]
            if len(own):
                rule = own["rule_id"].value_counts().index[0]
                first = own[own["rule_id"] == rule].iloc[0]
                named = first["rule_label"] if "rule_label" in own.columns and pd.notna(first["rule_label"]) else rule
                detail, advice = f"{first['label']} · {named}({(own['rule_id'] == rule).sum():,} 次)", first["suggest"]
        elif component == "politeness":
            found = weakest_of(polite, "agent_id", agent, list(check_ids))
            if found:
                detail = f"{found[0]} 达标 {found[1]:.0%}"
                advice = practise.get("politeness", {}).get(check_ids[found[0]], "")
        elif component == "handling":
            steps = [c for c in (funnel.columns if funnel is not None else []) if c in step_ids]
            found = weakest_of(funnel, "agent_id", agent, steps)
            if found:
                detail = f"{found[0]} 完成 {found[1]:.0%}"
                advice = practise.get("handling", {}).get(step_ids[found[0]], "")
        elif component == "response" and response is not None:
            own = response[response["responsible_agent"] == agent]
            within = f"within_{spec['sla_s']}s"
            if len(own) and within in own:
                detail = f"{spec['sla_s']} 秒内回复 {own[within].iloc[0]:.0%} · 中位 {own['median_s'].iloc[0]:.0f} 秒"
            advice = practise.get("response", "").format(sla_s=spec["sla_s"])
        rank = "" if pd.isna(card["rank"]) else f"(第 {int(card['rank'])} 名)"
        out.append({"agent": agent, "score": f"{card['composite']:.1f}{rank}",
                    "weakest": f"{names.get(component, component)} {value:.0f}(全队中位 {value - card['weakest_gap']:.0f})",
                    "detail": detail, "practise": advice})
    return pd.DataFrame(out, columns=["agent", "score", "weakest", "detail", "practise"])


COACHING_HEADERS = {"agent": "agent_id", "score": "composite", "weakest": "weakest", "detail": "issue", "practise": "practise"}


def _coaching_slide(deck, section: dict, out_dir: Path, manifest: dict, layout: dict, trace: str) -> None:
    rows = coaching_rows(out_dir, manifest, section.get("rows", 8), section.get("min_gap", 0), layout)
    if rows.empty:
        return
    slide = _blank(deck)
    _title(slide, section["title"])
    headings = [(columns.header(COACHING_HEADERS[name], "zh"), width) for name, width in
                (("agent", 1.7), ("score", 1.5), ("weakest", 2.4), ("detail", 3.0), ("practise", 3.73))]
    _table(slide, CONTENT[1], headings,
           rows.to_numpy().tolist(), size=11 if len(rows) > 6 else 12)
    _footer(slide, f"最弱项 = 低于全队中位数最多的分项(06_agent_scorecards);具体问题来自 02 证据表、05、07、04 的客服表 · {trace}")


def _data_quality_slide(deck, section: dict, out_dir: Path, manifest: dict, trace: str) -> None:
    load = manifest.get("load", {})
    if not load:
        return
    slide = _blank(deck)
    _title(slide, section["title"])
    left, top, width, height = CONTENT
    lines = [(f"读入 {load.get('rows_read', 0):,} 行 = 保留 {load.get('rows_kept', 0):,} + 隔离 {load.get('rows_set_aside', 0):,}", 20, ACCENT, True)]
    lines += [(f"{f['name']}:{f.get('format', '')} {f.get('encoding', '')},读入 {f['rows_read']:,} 行,保留 {f['rows_kept']:,},"
               f"隔离 {f['rows_set_aside']:,}", 13, DARK, False) for f in load.get("files", [])[:4]]
    scope = f"分析范围:{load.get('messages_in_scope', 0):,} 条消息、{load.get('sessions', 0):,} 个会话"
    if load.get("first_day"):
        scope += f",{load['first_day']} 至 {load['last_day']}"
    elif "has_timestamps" in load:
        scope += ";导出没有发送时间:响应时长与每周趋势不计算"
    lines.append((scope, 13, DARK, False))
    box = slide.shapes.add_textbox(left, top, width, Inches(2.0))
    box.text_frame.word_wrap = True
    _paragraphs(box.text_frame, lines)
    reasons = _stored(out_dir, section.get("table", ""))
    if reasons is None:
        reasons = pd.DataFrame([{"reason": k, "rows": v, "meaning": quarantine_reasons().get(k, {}).get("meaning", "")}
                                for k, v in load.get("set_aside_by_reason", {}).items()])
    if len(reasons):
        rows = [[reason_label(r.get("reason", ""), english=True), f"{int(r.get('rows', 0)):,}", r.get("meaning", "") or ""]
                for r in reasons.head(8).to_dict("records")]          # a reason by its label, not its id
        _table(slide, top + Inches(2.1), [("隔离原因 reason", 3.3), ("行数 rows", 1.2), ("含义 meaning", 7.83)], rows, size=12)
    _footer(slide, f"01 数据概览;隔离的行见 workbook.xlsx「隔离原因」 · {trace}")


def _method_slide(deck, section: dict, manifest: dict, layout: dict, trace: str) -> None:
    from ..tables import accuracy

    slide = _blank(deck)
    _title(slide, section["title"])
    left, top, width, height = CONTENT
    versions = (f"规则库 rulebook {manifest.get('rulebook_version', '—')} · 投诉分类 taxonomy {manifest.get('taxonomy_version', '—')} · "
                f"平台指标口径 recipes {manifest.get('metric_recipes_version', '—')} · 评分 scorecard {manifest.get('scorecard_version', '—')}")
    rulebook = SimpleNamespace(version=manifest.get("rulebook_version"))
    taxonomy = SimpleNamespace(version=manifest.get("taxonomy_version"))
    notes = dict.fromkeys(accuracy.trust_note(kind, rulebook=rulebook, taxonomy=taxonomy) for kind in accuracy.KINDS)
    lines = [(versions, "lead")] + [(line, "point") for line in layout.get("method", [])] + \
        [("实测准确度 Measured accuracy", "lead")] + [(note, "point") for note in notes]
    box = slide.shapes.add_textbox(left, top, width, height)
    box.text_frame.word_wrap = True
    _paragraphs(box.text_frame, _fit(lines, width, height, sizes=(18, 16, 15, 14, 13, 12, 11)))
    _footer(slide, f"各笔记本的「可信度」一节列出逐项实测数字 · {trace}")


def write_deck(out_dir: str | Path, manifest: dict, path: str | Path | None = None,
               title: str = "客服质检培训", layout: dict | None = None) -> Path:
    """Write the training deck ``<out_dir>/deck.pptx`` in the order of ``report.yaml``'s sections (a
    section without its figures or data is left out) and its appendix; returns its path."""
    out_dir = Path(out_dir)
    path = Path(path) if path else out_dir / "deck.pptx"
    layout = layout or artefacts.report_layout()
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    trace = _trace(manifest)
    titles = artefacts.notebook_titles(out_dir)
    _title_slide(deck, title, manifest)
    for section in layout["training"]:
        kind = section["kind"]
        if kind == "headline":
            _headline_slides(deck, section, out_dir, titles, trace)
        elif kind == "chart":
            figure = artefacts.first_figure(out_dir, section["figures"])
            if figure:
                lines = [(figure["takeaway"], "lead")] if figure.get("takeaway") else []
                lines += [(point, "point") for point in _points(out_dir, section.get("points")) if point != figure.get("takeaway")]
                _chart_slide(deck, section["title"], figure, lines, f"图 {figure['name']} · {trace}")
        elif kind == "examples":
            evidence = _evidence(out_dir)
            rows = example_rows(evidence, section.get("slides", 2) * EXAMPLES_PER_SLIDE) if evidence is not None else []
            if len(rows):
                _example_slides(deck, rows, trace, section["title"])
        elif kind == "coaching":
            _coaching_slide(deck, section, out_dir, manifest, layout, trace)
    slide = _blank(deck)
    _text(slide, MARGIN, Inches(3.0), WIDTH - 2 * MARGIN, Inches(1.2), "附录 Appendix", 32, ACCENT, True)
    _text(slide, MARGIN, Inches(4.0), WIDTH - 2 * MARGIN, Inches(1.0),
          " · ".join(s["title"] for s in layout["appendix"]) + "\n每张图表的完整版见 deck_full.pptx;数据表见 workbook.xlsx", 16, GREY)
    for section in layout["appendix"]:
        if section["kind"] == "data_quality":
            _data_quality_slide(deck, section, out_dir, manifest, trace)
        elif section["kind"] == "method":
            _method_slide(deck, section, manifest, layout, trace)
        elif section["kind"] == "trace":
            _closing_slide(deck, manifest, section["title"])
    deck.save(path)
    return path
