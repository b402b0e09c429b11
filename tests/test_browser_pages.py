"""The run's pages as a manager sees them: opened in headless Chromium (Debian's chromium and
chromedriver; `.ci/run` installs them), screenshotted under the run folder, and failed on a script
error, a broken image, a KPI tile without a number, an English column id in a table header, text
overflowing its tile, or the CJK font not loading."""
from __future__ import annotations

import pytest

from cs_analytics.outputs import browser_check
from cs_analytics.outputs.browser_check import BrowserUnavailable, check_pages, check_run, find_browser
from cs_analytics.outputs.page_font import FONT_FILE, font_face, write_page_font


@pytest.fixture(scope="module")
def browser():
    try:
        return find_browser()
    except BrowserUnavailable as exc:
        pytest.skip(f"no headless browser for the page checks: {exc}")


BAD_PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><style>{face}
body {{ font-family: 'CS Report CJK'; }} .kpi {{ width: 120px; height: 90px; overflow: hidden; border: 1px solid; }}
.kpi .value {{ white-space: nowrap; }}</style></head><body>
<h1>客服质检</h1>
<div class="kpi"><div class="name">违规率</div><div class="value">—</div></div>
<div class="kpi"><div class="name">投诉会话占比</div><div class="value">40.4% 这是一段很长很长很长的说明文字</div></div>
<img src="figures/missing.png" alt="missing">
<table><thead><tr><th></th><th>rule_id</th><th>违规率 per 1,000</th></tr></thead>
<tbody><tr><th>0</th><td>a</td><td>1</td></tr><tr><th>1</th><td>b</td><td>2</td></tr></tbody></table>
<script>window.undefinedFunction();</script>
</body></html>"""


def test_the_checker_catches_each_kind_of_problem(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(BAD_PAGE.format(face=font_face(FONT_FILE)), encoding="utf-8")
    write_page_font(tmp_path, [page])
    (check,) = check_pages([page], tmp_path / "shots")
    problems = "\n".join(check.problems)
    assert "KPI tile without a number: 违规率" in problems
    assert "text overflows its tile: 投诉会话占比" in problems
    assert "broken image: figures/missing.png" in problems
    assert "English column id as a table header: rule_id" in problems
    headers = [p for p in check.problems if p.startswith("English column id")]
    assert headers == ["English column id as a table header: rule_id"]      # Chinese with English secondary is fine
    assert "bare 0..n index" in problems
    assert "undefinedFunction" in problems                   # the script error, from the console
    assert "CJK font not loaded" not in problems
    assert (tmp_path / "shots" / "bad.png").stat().st_size > 1000


def test_a_page_whose_font_is_missing_is_caught(browser, tmp_path):
    page = tmp_path / "nofont.html"
    page.write_text(BAD_PAGE.format(face=font_face("assets/none.woff")), encoding="utf-8")
    (check,) = check_pages([page])
    assert any(p.startswith("CJK font not loaded") for p in check.problems)
    assert check.screenshot is None


@pytest.mark.slow
@pytest.mark.parametrize("run", ["full_report", "bare_report"])
def test_every_page_of_a_run_renders_cleanly_in_chromium(browser, run, request):
    out = request.getfixturevalue(run).out
    checks = check_run(out)
    assert [c.page for c in checks] == ["index.html", *sorted(p.name for p in (out / "html").glob("*.html"))]
    problems = {c.page: c.problems for c in checks if c.problems}
    assert not problems, problems
    for check in checks:
        assert check.screenshot == out / "screenshots" / check.page.replace(".html", ".png")
        assert check.screenshot.stat().st_size > 10_000


def test_a_page_too_wide_for_a4_or_printed_on_letter_paper_is_caught(browser, tmp_path):
    page = tmp_path / "wide.html"
    page.write_text("<!doctype html><html><head><meta charset='utf-8'><style>@page { size: letter; }</style></head>"
                    "<body><table><tr><td style='min-width: 1400px'>wide</td></tr></table></body></html>", encoding="utf-8")
    (check,) = check_pages([page], tmp_path / "shots", printed=("wide.html",))
    assert any(p.startswith("wider than an A4 page in print") for p in check.problems), check.problems
    assert any(p.startswith("printed page is not A4") for p in check.problems), check.problems
    assert (tmp_path / "shots" / "wide.pdf").read_bytes().startswith(b"%PDF")


def test_without_a_browser_the_error_says_how_to_install_one(monkeypatch):
    monkeypatch.setattr(browser_check.shutil, "which", lambda name: None)
    with pytest.raises(BrowserUnavailable, match="apt-get install chromium chromium-driver"):
        find_browser()
