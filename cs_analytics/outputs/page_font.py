"""A CJK font for the run's HTML pages, carried in the run folder.

A manager's browser may have no Chinese font (a fresh Linux, a locked-down office PC); the pages
would show empty boxes. So the run writes ``assets/cjk.woff``: the bundled Noto Sans CJK SC (the
``mplfonts`` package, as the charts use) cut to the characters the pages hold (fontTools' subsetter;
a few hundred KB), and every page names it first in its font stack through ``@font-face``. The pages
therefore render the same, offline, wherever they are opened.
"""
from __future__ import annotations

from pathlib import Path

FONT_FAMILY = "CS Report CJK"
FONT_FILE = "assets/cjk.woff"          # under the run folder


def font_face(url: str) -> str:
    """The ``@font-face`` rule naming the run's font at ``url`` (relative to the page)."""
    return (f"@font-face {{ font-family: '{FONT_FAMILY}'; src: url('{url}') format('woff'); "
            "font-weight: 100 900; font-display: swap; }")


def source_font() -> Path:
    """The font cut for the pages: the bundled Noto Sans CJK SC (an OpenType file every install has)."""
    from .plots import bundled_font, cjk_font_path

    bundled = bundled_font()
    return bundled if bundled is not None else Path(cjk_font_path())


def write_page_font(out_dir: str | Path, pages: list[Path]) -> Path:
    """Write ``<out_dir>/assets/cjk.woff`` holding every character of ``pages``; returns its path."""
    from fontTools import subset

    text = set()
    for page in pages:
        text |= set(Path(page).read_text(encoding="utf-8"))
    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(source_font()), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(text)))
    subsetter.subset(font)
    path = Path(out_dir) / FONT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(path), options)
    return path
