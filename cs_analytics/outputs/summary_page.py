"""The run's summary page, ``index.html``: the one file a manager opens.

KPI tiles (``tables.kpis``: the period's headline numbers with the change against the comparison
period, the marker coloured by whether the change is good and larger than chance), the top takeaways
of every notebook, a thumbnail of each notebook's key chart linking to its report, the outputs, the
data facts (rows read = kept + set aside, dates, platforms, shops, rule versions) and the accuracy
measured on real chats. Everything it shows was computed by the notebooks or from the stored
findings; the page only lays it out.

The page is one HTML file with its CSS inline and no script: it opens offline from the run folder
(its font is the run's ``assets/cjk.woff``, ``page_font``), reads in Chinese with English secondary,
and prints on A4.
"""
from __future__ import annotations

import html
from pathlib import Path

from PIL import Image

from ..base.schema import reason_label
from . import artefacts
from .page_font import FONT_FILE, font_face
from ..tables.kpis import MARKERS, against

THUMB_SIZE = (640, 400)           # pixels; the key charts are saved at 200 dpi, far larger
TAKEAWAY_POINTS = 3               # points per notebook on the page
OUTPUT_LINKS = (("deck.pptx", "培训课件", "training deck"), ("deck_full.pptx", "完整图表课件", "every chart, for analysts"),
                ("workbook.xlsx", "数据表与违规明细", "tables and evidence"), ("run.json", "运行记录", "run manifest"))

STYLE = """
:root { --ink:#222; --grey:#6b6b6b; --line:#d9d9d9; --accent:#1f5fa8; --good:#1a7f37; --bad:#c62828; --noise:#8a8a8a; }
* { box-sizing: border-box; }
body { margin:0; font-family: "CS Report CJK","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei",
       "Helvetica Neue",Arial,sans-serif; color:var(--ink); background:#f6f7f9; line-height:1.5; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; background:#fff; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 16px; margin: 14px 0 4px; }
.en { color: var(--grey); font-weight: normal; font-size: 0.82em; }
.meta, .note { color: var(--grey); font-size: 14px; margin: 4px 0; }
a { color: var(--accent); }
.tiles { display:grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 12px; }
.kpi { border:1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-height: 150px; overflow:hidden;
       display:flex; flex-direction:column; gap: 2px; break-inside: avoid; }
.kpi .name { font-weight: bold; font-size: 15px; overflow-wrap:anywhere; }
.kpi .name .en { display:block; font-size: 12px; }
.kpi .value { font-size: 28px; font-weight: bold; margin-top: 4px; white-space: nowrap; }
.kpi .change { font-size: 13px; overflow-wrap:anywhere; }
.kpi .change.good { color: var(--good); } .kpi .change.bad { color: var(--bad); } .kpi .change.noise { color: var(--noise); }
.kpi .foot { margin-top:auto; font-size: 11px; color: var(--grey); overflow-wrap:anywhere; }
.takeaways { columns: 2 360px; column-gap: 28px; }
.takeaways section { break-inside: avoid; }
.takeaways ul { margin: 2px 0 8px; padding-left: 20px; }
.takeaways li { margin: 2px 0; font-size: 14px; }
.charts { display:grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
.chart { border:1px solid var(--line); border-radius: 8px; padding: 8px; break-inside: avoid; overflow:hidden; }
.chart img { width: 100%; height: auto; display:block; }
.chart p { margin: 6px 2px 0; font-size: 13px; overflow-wrap:anywhere; }
.chart .title { font-weight: bold; }
table.facts { border-collapse: collapse; width: 100%; font-size: 14px; }
table.facts th, table.facts td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
table.facts th { width: 34%; font-weight: normal; color: var(--grey); }
ul.links li { margin: 3px 0; }
.failures { color: var(--bad); }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { background:#fff; }
  main { max-width:none; padding:0; }
  h2, h3 { break-after: avoid; }
  .tiles { grid-template-columns: repeat(4, 1fr); gap: 8px; }
  .kpi { min-height: 0; padding: 8px 10px; }
  .kpi .value { font-size: 22px; }
  .charts { grid-template-columns: repeat(3, 1fr); }
  .takeaways { columns: 1; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def thumbnail(figure: dict, out_dir: Path) -> Path:
    """A small PNG of a figure under ``figures/thumbs/`` (aspect kept); returns its path."""
    folder = Path(out_dir) / "figures" / "thumbs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{figure['name']}.png"
    with Image.open(figure["png"]) as image:
        image = image.convert("RGB")
        image.thumbnail(THUMB_SIZE)
        image.save(path, optimize=True)
    return path


def _comparison_note(period: dict) -> str:
    basis = period.get("basis")
    if basis == "previous":
        return (f"本期 {period['after']},与上一个同样长的时期({period['before']})相比。"
                f"<span class='en'>Change against the previous period of the same length.</span>")
    if basis == "halves":
        return (f"本期 {period['period']};变化为后半段({period['after']})相对前半段({period['before']})。"
                f"<span class='en'>The change compares the later half of the period with the earlier half.</span>")
    if period.get("period"):
        return f"本期 {period['period']};只有一天的数据,无法比较。<span class='en'>One day only: no comparison.</span>"
    return "这份导出没有时间,无法做期间比较。<span class='en'>No send times: no comparison.</span>"


def _tile(tile: dict, period: dict) -> str:
    change = ""
    if tile.get("change_display"):
        tone = "noise" if tile.get("good") is None else ("good" if tile["good"] else "bad")
        verdict = {"good": "好转 better", "bad": "变差 worse"}.get(tone, "随机波动内 within noise"
                                                                   if tile.get("significant") is False else "未检验 not tested")
        if tile.get("direction") == "flat":
            verdict = "持平 flat"
        change = (f"<div class='change {tone}' title='{_e(tile.get('before_display', ''))} → {_e(tile.get('after_display', ''))}'>"
                  f"{MARKERS.get(tile['direction'], '')} {_e(tile['change_display'])} · {_e(against(period))} · {_e(verdict)}</div>")
    return (f"<div class='kpi' data-kpi='{_e(tile['id'])}'>"
            f"<div class='name'>{_e(tile['zh'])}<span class='en'>{_e(tile['en'])}</span></div>"
            f"<div class='value'>{_e(tile['display'])}</div>{change}"
            f"<div class='foot' title='{_e(tile['definition'])}'>见 {_e(tile['notebook'])}</div></div>")


def _kpi_section(kpis: dict) -> str:
    if not kpis or not kpis.get("tiles"):
        return ("<section id='kpis'><h2>核心指标 <span class='en'>Headline numbers</span></h2>"
                "<p class='note'>本次没有可计算的核心指标。No headline number could be computed.</p></section>")
    period = kpis.get("period", {})
    missing = "".join(f"<li>{_e(m['zh'])} <span class='en'>{_e(m['en'])}</span></li>" for m in kpis.get("missing", []))
    return ("<section id='kpis'><h2>核心指标 <span class='en'>Headline numbers</span></h2>"
            f"<p class='note'>{_comparison_note(period)} 绿色/红色表示变化超出随机波动(95%)且变好/变坏。"
            "<span class='en'>Green or red: a change beyond chance (95%) for the better or the worse.</span></p>"
            f"<div class='tiles'>{''.join(_tile(t, period) for t in kpis['tiles'])}</div>"
            + (f"<p class='note'>无法计算 not computable:</p><ul class='note'>{missing}</ul>" if missing else "")
            + "</section>")


def _titles(out_dir: Path) -> dict[str, tuple[str, str]]:
    """Notebook number → (its question heading, its HTML report's path)."""
    return {number: (artefacts.notebook_title(book), f"html/{book.stem}.html")
            for number, book in artefacts.executed_notebooks(out_dir).items()}


def _takeaway_section(out_dir: Path, titles: dict) -> str:
    parts = []
    for entry in artefacts.summaries(out_dir):
        if not entry["points"]:
            continue
        title, link = titles.get(entry["notebook"], (entry["name"], ""))
        heading = f"<a href='{_e(link)}'>{_e(title)}</a>" if link and (Path(out_dir) / link).exists() else _e(title)
        points = "".join(f"<li>{_e(p)}</li>" for p in entry["points"][:TAKEAWAY_POINTS])
        parts.append(f"<section><h3>{heading}</h3><ul>{points}</ul></section>")
    if not parts:
        return ""
    return ("<section id='takeaways'><h2>本期要点 <span class='en'>Key findings</span></h2>"
            f"<div class='takeaways'>{''.join(parts)}</div></section>")


def _chart_section(out_dir: Path, titles: dict) -> str:
    cards = []
    for number, (title, link) in titles.items():
        figure = artefacts.key_figure(out_dir, number)      # resources/report.yaml names each notebook's key chart
        if figure is None:
            continue
        thumb = thumbnail(figure, out_dir).relative_to(out_dir).as_posix()
        image = f"<img src='{_e(thumb)}' alt='{_e(figure['title'] or figure['name'])}'>"
        if (Path(out_dir) / link).exists():
            image = f"<a href='{_e(link)}'>{image}</a>"
        cards.append(f"<div class='chart'>{image}<p class='title'>{_e(title)}</p>"
                     f"<p>{_e(figure.get('takeaway') or '')}</p></div>")
    if not cards:
        return ""
    return ("<section id='charts'><h2>关键图表 <span class='en'>Key charts (click for the full report)</span></h2>"
            f"<div class='charts'>{''.join(cards)}</div></section>")


def _outputs_section(out_dir: Path, titles: dict) -> str:
    links = "".join(f"<li><a href='{h}'>{_e(zh)}</a> <span class='en'>{_e(en)} · {h}</span></li>"
                    for h, zh, en in OUTPUT_LINKS if (Path(out_dir) / h).exists() or h == "run.json")   # written last
    reports = "".join(f"<li><a href='{_e(link)}'>{_e(title)}</a></li>"
                      for title, link in titles.values() if (Path(out_dir) / link).exists())
    return ("<section id='outputs'><h2>输出 <span class='en'>Outputs</span></h2>"
            f"<ul class='links'>{links}</ul><h3>分析报告 <span class='en'>Notebook reports</span></h3>"
            f"<ul class='links'>{reports}</ul></section>")


def _facts_section(manifest: dict) -> str:
    load = manifest.get("load", {})
    reasons = "、".join(f"{reason_label(k, english=True)} {v:,}" for k, v in (load.get("set_aside_by_reason") or {}).items())
    rows = [("读入行数 rows read", f"{load.get('rows_read', 0):,} = 保留 kept {load.get('rows_kept', 0):,} + "
                                   f"隔离 set aside {load.get('rows_set_aside', 0):,}" + (f"({reasons})" if reasons else "")),
            ("分析范围 in scope", f"{load.get('messages_in_scope', 0):,} 条消息 messages · {load.get('sessions', 0):,} 个会话 sessions"),
            ("日期 dates", f"{load['first_day']} – {load['last_day']}" if load.get("first_day") else "导出没有时间 no send times"),
            ("平台 platforms", "、".join(load.get("platforms", [])) or "—"),
            ("店铺 shops", f"{load.get('shops', 0):,} 家" if load.get("shops") else "导出没有店铺列 no shop column")]
    for item in manifest.get("inputs", []):
        rows.append((f"输入文件 input {item['name']}", f"{item['bytes']:,} bytes · sha256 {item['sha256'][:16]}…"))
    rows += [("规则库 rulebook", manifest.get("rulebook_version", "")), ("投诉分类 taxonomy", manifest.get("taxonomy_version", "")),
             ("平台指标口径 metric recipes", manifest.get("metric_recipes_version", "")),
             ("评分卡 scorecard", manifest.get("scorecard_version", "")),
             ("cs-analytics", f"{manifest.get('package_version', '')} · 生成于 created {str(manifest.get('created', ''))[:16].replace('T', ' ')}")]
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<section id='data'><h2>数据与版本 <span class='en'>Data facts</span></h2><table class='facts'>{body}</table></section>"


def _accuracy_section(rulebook=None) -> str:
    from ..tables import accuracy

    rows = accuracy.headline_rows(rulebook)
    body = "".join(f"<tr><th>{_e(r['measure'])}</th><td>{_e(r['value'])}</td></tr>" for r in rows)
    return ("<section id='accuracy'><h2>可信度 <span class='en'>How far to trust these numbers</span></h2>"
            f"<p class='note'>{_e(accuracy.trust_note('violations', rulebook=rulebook))}</p>"
            + (f"<table class='facts'>{body}</table>" if body else "") + "</section>")


def write_summary_page(out: Path, manifest: dict, kpis: dict | None = None, rulebook=None) -> Path:
    """Write ``<out>/index.html`` from the run's manifest, headline numbers and what the notebooks left."""
    out = Path(out)
    titles = _titles(out)
    load = manifest.get("load", {})
    scope = " · ".join(x for x in (
        f"{load['first_day']} – {load['last_day']}" if load.get("first_day") else "",
        "、".join(load.get("platforms", [])),
        f"{load.get('shops')} 家店铺 shops" if load.get("shops") else "",
        f"{load.get('sessions', 0):,} 个会话 sessions" if load else "") if x)
    failed = "".join(f"<li>{_e(e)}</li>" for e in manifest.get("errors", []))
    page = ("<!doctype html><html lang='zh'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>客服质检报告 · QA report</title><style>{font_face(FONT_FILE)}{STYLE}</style></head><body><main>"
            "<header><h1>客服质检报告 <span class='en'>Customer-service QA report</span></h1>"
            f"<p class='meta'>{_e(scope)}</p></header>"
            + (f"<section class='failures'><h2>未完成 <span class='en'>Failures</span></h2><ul>{failed}</ul></section>" if failed else "")
            + _kpi_section(kpis or {}) + _takeaway_section(out, titles) + _chart_section(out, titles)
            + _outputs_section(out, titles) + _facts_section(manifest) + _accuracy_section(rulebook)
            + "</main></body></html>")
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
