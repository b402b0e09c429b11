"""The run's notebook reports: one HTML file per executed notebook, without code cells (nbconvert).

The template (``resources/templates/cs_report.html.j2``) is nbconvert's lab template without the
scripts it would fetch from a CDN, so a report opens offline from the run folder. The run's summary
page, ``index.html``, is ``summary_page``.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from ..base import config
from . import artefacts
from .page_font import FONT_FILE, font_face

TEMPLATES_DIR = config.RESOURCES_DIR / "templates"
TEMPLATE_FILE = "cs_report.html.j2"


def export_html(executed: Path, html_dir: Path) -> Path:
    """The executed notebook as a standalone HTML report without code cells or prompts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES_DIR)], template_file=TEMPLATE_FILE,
                            exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, language_code="zh")
    title = artefacts.notebook_title(executed)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4), resources={"metadata": {"name": title}, "cs_font_face": font_face(f"../{FONT_FILE}")})
    html_dir.mkdir(parents=True, exist_ok=True)
    path = html_dir / executed.with_suffix(".html").name
    path.write_text(body, encoding="utf-8")
    return path
