"""The run's HTML: one report per executed notebook without code cells (nbconvert), and
``index.html``, the run's facts with a link to every output."""
from __future__ import annotations

import html
from pathlib import Path

import nbformat

from . import artefacts


def export_html(executed: Path, html_dir: Path) -> Path:
    """The executed notebook as a standalone HTML report without code cells or prompts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True,
                            language_code="zh")
    title = artefacts.notebook_title(executed)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4), resources={"metadata": {"name": title}})
    html_dir.mkdir(parents=True, exist_ok=True)
    path = html_dir / executed.with_suffix(".html").name
    path.write_text(body, encoding="utf-8")
    return path


def write_index(out: Path, manifest: dict) -> Path:
    """``index.html``: the run's facts and a link to every output, the one file to open."""
    links = [("deck.pptx", "培训课件 training deck"), ("deck_full.pptx", "完整图表 every chart, for analysts"), ("workbook.xlsx", "数据表与违规明细 tables and evidence"),
             ("run.json", "运行记录 run manifest")]
    items = "".join(f'<li><a href="{h}">{h}</a> {html.escape(t)}</li>' for h, t in links if (out / h).exists())
    reports = "".join(f'<li><a href="html/{p.name}">{html.escape(p.stem)}</a></li>' for p in sorted((out / "html").glob("*.html")))
    load = manifest.get("load", {})
    facts = html.escape(f"{load.get('rows_read', 0):,} rows read = {load.get('rows_kept', 0):,} kept + "
                        f"{load.get('rows_set_aside', 0):,} set aside · rulebook {manifest.get('rulebook_version')} · "
                        f"cs-analytics {manifest.get('package_version')}")
    failed = "".join(f"<li>{html.escape(e)}</li>" for e in manifest.get("errors", []))
    page = (f'<!doctype html><html lang="zh"><meta charset="utf-8"><title>客服质检报告</title>'
            f"<body><h1>客服质检报告</h1><p>{facts}</p><h2>输出 outputs</h2><ul>{items}</ul>"
            f"<h2>分析报告 notebooks</h2><ul>{reports}</ul>"
            + (f"<h2>失败 failures</h2><ul>{failed}</ul>" if failed else "") + "</body></html>")
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
