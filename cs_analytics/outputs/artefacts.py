"""What a notebook leaves for the workbook and the deck: figures with their takeaway, key tables.

Each figure ``<out>/figures/<name>.png`` (``.svg`` too when the run asks for it) gets a sidecar
``<name>.json`` with its title, a one-line takeaway computed in the notebook, and when it was saved. Each key table is stored as
``<out>/tables/<name>.parquet`` with a ``<name>.json`` sidecar (title, sheet name, row count). The
report reads these back to build ``workbook.xlsx`` and ``deck.pptx``; nothing is recomputed there.
Everything is masked here, once, when it is recorded (``privacy.export_safe`` / ``mask_text``), so
the workbook and the deck can show what they read.
"""
from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pandas as pd

from ..base import config
from ..base.layering import load_yaml
from ..base.privacy import export_safe, mask_text
from . import columns

SHEET_NAME_MAX = 31                       # Excel's limit
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def figure_title(fig) -> str:
    """The figure's suptitle, else its first axes title."""
    if getattr(fig, "_suptitle", None) is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    return next((ax.get_title() for ax in fig.axes if ax.get_title()), "")


def record_figure(figures_dir: Path, name: str, title: str, takeaway: str | None, layout: dict | None = None) -> Path:
    """Write the sidecar of figure ``name`` (already saved as PNG, maybe SVG); the takeaway is PII-masked.
    ``layout``: what ``plots.save_figure`` measured (``tick_labels`` boxes, ``label_fixes``)."""
    sidecar = Path(figures_dir) / f"{name}.json"
    layout = dict(layout or {})
    if "tick_labels" in layout:
        layout["tick_labels"] = {axis: [[mask_text(text), box] for text, box in labels]
                                 for axis, labels in layout["tick_labels"].items()}
    entry = {"name": name, "title": title, "takeaway": mask_text((takeaway or "").strip()), "saved": time.time_ns(),
             **layout}
    sidecar.write_text(json.dumps(entry, ensure_ascii=False, indent=1), encoding="utf-8")
    return sidecar


def record_summary(summaries_dir: Path, name: str, lines: list[str]) -> Path:
    """Write a notebook's takeaway lines (PII-masked) as ``<name>.json``."""
    summaries_dir = Path(summaries_dir)
    summaries_dir.mkdir(parents=True, exist_ok=True)
    path = summaries_dir / f"{name}.json"
    entry = {"name": name, "lines": [mask_text(line) for line in lines], "saved": time.time_ns()}
    path.write_text(json.dumps(entry, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def summaries(out_dir: Path) -> list[dict]:
    """Each notebook's takeaway lines, in notebook order; a line that starts with spaces continues the
    point before it, and the leading '- ' is dropped: ``{"name", "notebook", "points"}``."""
    found = []
    for entry in _entries(Path(out_dir) / "summaries"):
        points: list[str] = []
        for line in entry["lines"]:
            if line[:1].isspace() and points:
                points[-1] += " " + line.strip()
            elif line.strip():
                points.append(line.strip().removeprefix("- ").strip())
        found.append({**entry, "points": points})
    return found


def sheet_name(text: str) -> str:
    """``text`` made a valid Excel sheet name (no []:*?/\\, at most 31 characters)."""
    cleaned = _SHEET_FORBIDDEN.sub(" ", str(text)).strip() or "sheet"
    return cleaned[:SHEET_NAME_MAX]


def _storable(frame: pd.DataFrame) -> pd.DataFrame:
    """Flatten what parquet cannot hold: a named index becomes columns, lists become joined text,
    mixed object columns become text as readers see it (True → 是, 26096 → 26,096)."""
    out = frame.copy()
    if not isinstance(out.index, pd.RangeIndex) or any(n is not None for n in out.index.names):
        out = out.reset_index()
    out.columns = [" ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in out.columns]
    for column in out.columns:
        values = out[column]
        if values.dtype == object:
            sample = values.dropna()
            if sample.map(lambda v: isinstance(v, (list, tuple, set))).any():
                out[column] = values.map(lambda v: "、".join(map(str, v)) if isinstance(v, (list, tuple, set)) else v)
            elif not sample.map(lambda v: isinstance(v, str)).all():
                decimals = columns.auto_decimals(sample)
                out[column] = values.map(lambda v: v if v is None or (isinstance(v, float) and v != v)
                                         else columns.format_value(v, "auto", decimals))
    return out


def record_table(tables_dir: Path, frame: pd.DataFrame, name: str, title: str, sheet: str | None = None) -> Path:
    """Store ``frame`` (made export-safe: buyer accounts dropped, text masked) as a key table."""
    tables_dir = Path(tables_dir)
    tables_dir.mkdir(parents=True, exist_ok=True)
    table = export_safe(_storable(frame))
    path = tables_dir / f"{name}.parquet"
    table.to_parquet(path, index=False)
    entry = {"name": name, "title": title, "sheet": sheet_name(sheet or title), "rows": len(table),
             "saved": time.time_ns()}
    (tables_dir / f"{name}.json").write_text(json.dumps(entry, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _entries(folder: Path) -> list[dict]:
    entries = []
    for sidecar in Path(folder).glob("*.json"):
        entry = json.loads(sidecar.read_text(encoding="utf-8"))
        entry["notebook"] = entry["name"][:2] if entry["name"][:2].isdigit() else ""
        entries.append(entry)
    return sorted(entries, key=lambda e: (e["notebook"], e["saved"]))


def figures(out_dir: Path) -> list[dict]:
    """The run's figures in notebook order, then saving order; each with its ``png`` path and its ``svg``
    path (None when the run saved no SVG)."""
    found = []
    for entry in _entries(Path(out_dir) / "figures"):
        png = Path(out_dir) / "figures" / f"{entry['name']}.png"
        if png.exists():
            svg = png.with_suffix(".svg")
            found.append({**entry, "png": png, "svg": svg if svg.exists() else None})
    return found


def tables(out_dir: Path) -> list[dict]:
    """The run's key tables in notebook order, then saving order; each with its ``path``."""
    found = []
    for entry in _entries(Path(out_dir) / "tables"):
        path = Path(out_dir) / "tables" / f"{entry['name']}.parquet"
        if path.exists():
            found.append({**entry, "path": path})
    return found


KPI_FILE = "kpis.json"                   # the run's headline numbers (tables.kpis.headline), under <out>/


def read_kpis(out_dir: Path) -> dict | None:
    """``<out>/kpis.json`` (period and tiles), or None when the run has none or it has no tiles."""
    path = Path(out_dir) / KPI_FILE
    if not path.exists():
        return None
    kpis = json.loads(path.read_text(encoding="utf-8"))
    return kpis if kpis.get("tiles") else None


def executed_notebooks(out_dir: Path) -> dict[str, Path]:
    """Notebook number → the executed notebook under ``<out>/notebooks/``, in order."""
    return {book.name[:2]: book for book in sorted((Path(out_dir) / "notebooks").glob("[0-9][0-9]_*.ipynb"))}


def notebook_titles(out_dir: Path) -> dict[str, str]:
    """Notebook number → the first '# ' heading of the executed notebook (its question)."""
    return {number: notebook_title(book) for number, book in executed_notebooks(out_dir).items()}


def notebook_title(path: Path) -> str:
    """The first '# ' heading of a notebook (its question), else its file name."""
    import nbformat

    try:
        cells = nbformat.read(path, as_version=4).cells
    except Exception:             # an unreadable notebook is reported elsewhere; name it by file
        return Path(path).stem
    return next((line[2:].strip() for c in cells if c.cell_type == "markdown"
                 for line in c.source.splitlines() if line.startswith("# ")), Path(path).stem)


def read_table(entry: dict) -> pd.DataFrame:
    """A stored key table."""
    return pd.read_parquet(entry["path"])


REPORT_LAYOUT = config.RESOURCES_DIR / "report.yaml"


def report_layout(path: str | Path | None = None) -> dict:
    """The decks' sections and each notebook's key figures (``resources/report.yaml``)."""
    return load_yaml(Path(path or REPORT_LAYOUT).read_text(encoding="utf-8"))


def first_figure(out_dir: Path, candidates: list[str]) -> dict | None:
    """The first of the figure names ``candidates`` that the run saved (as ``figures()`` lists it), else None."""
    saved = {f["name"]: f for f in figures(out_dir)}
    return next((saved[name] for name in candidates if name in saved), None)


def key_figure(out_dir: Path, notebook: str, layout: dict | None = None) -> dict | None:
    """Notebook ``notebook``'s key figure ("02" → the first of report.yaml ``key_figures["02"]`` the
    run saved): its figures() entry (name, title, takeaway, png, svg), or None."""
    candidates = (layout or report_layout()).get("key_figures", {}).get(str(notebook), [])
    return first_figure(out_dir, candidates)
