"""Open a run's pages in headless Chromium, as a manager would, and say what is wrong with them.

``check_run(run_dir)`` opens ``index.html`` and every notebook report under ``html/`` (Selenium driving
Debian's ``chromium`` with ``chromedriver``; every network request refused, so a page that needs the
internet fails here too), saves a screenshot of each under ``<run>/screenshots/`` and reports, per page:

- a JavaScript error or a resource that failed to load (the browser's console);
- an image that did not load;
- the run's CJK font not loaded (Chinese would fall back to whatever the machine has, or boxes);
- a KPI tile without a number, or text overflowing its tile;
- a table header that is a bare English column id (``rule_id``, ``per_1000``), or a bare 0..n index;
- content wider than an A4 page when printed (the page is also printed to ``screenshots/<page>.pdf``).

``cs-analytics check RUN`` prints the same. Chromium and chromedriver are Debian packages
(``apt-get install chromium chromium-driver``); ``find_browser`` says when they are missing.
"""
from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .page_font import FONT_FAMILY

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
DRIVERS = ("chromedriver",)
WINDOW = (1300, 1000)
MAX_SCREENSHOT_HEIGHT = 12_000        # pixels; a long notebook report is cut there
A4_CONTENT_PX = 700                   # an A4 page's width inside 12 mm margins, in CSS pixels (186 mm)
A4_POINTS = (595, 842)                # the PDF page size of A4
INSTALL_HINT = "install Chromium and its driver: `apt-get install chromium chromium-driver` (.ci/run does this)"
# A header that is only an identifier: lowercase ASCII words joined by _ or . (rule_id, per_1000, informal.ni)
COLUMN_ID = re.compile(r"^[a-z][a-z0-9]*(?:[_.][a-z0-9]+)*$")
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-quic", "--hide-scrollbars", "--host-resolver-rules=MAP * ~NOTFOUND")

PAGE_PROBLEMS = """
const problems = [];
for (const img of document.images) {
  if (!img.complete || img.naturalWidth === 0) problems.push(['broken image', (img.getAttribute('src') || '').slice(0, 80)]);
}
for (const tile of document.querySelectorAll('.kpi')) {
  const name = (tile.querySelector('.name') || tile).textContent.trim().slice(0, 40);
  const value = tile.querySelector('.value');
  if (!value || !/\\d/.test(value.textContent)) problems.push(['KPI tile without a number', name]);
  for (const part of [tile, ...tile.querySelectorAll('*')]) {
    if (part.scrollWidth > part.clientWidth + 1 && getComputedStyle(part).overflowX !== 'auto' && part.clientWidth > 0)
      { problems.push(['text overflows its tile', name + ': ' + part.textContent.trim().slice(0, 40)]); break; }
  }
  if (tile.scrollHeight > tile.clientHeight + 1) problems.push(['text overflows its tile', name]);
}
for (const table of document.querySelectorAll('table')) {
  for (const th of table.querySelectorAll('thead th')) {
    const text = th.textContent.trim();
    problems.push(['header', text]);
  }
  const rows = [...table.querySelectorAll('tbody tr')].map(tr => tr.querySelector('th'));
  if (rows.length > 1 && rows.every((th, i) => th && th.textContent.trim() === String(i)))
    problems.push(['bare 0..n index', (table.querySelector('thead') || table).textContent.trim().slice(0, 60)]);
}
const fontLoaded = document.fonts.check("16px '" + arguments[1] + "'", "客服");
const usesFont = [...document.styleSheets].some(s => { try { return [...s.cssRules].some(r => r.cssText.includes(arguments[1])); } catch (e) { return false; } });
if (usesFont && !fontLoaded) problems.push(['CJK font not loaded', arguments[1]]);
return problems;
"""


class BrowserUnavailable(RuntimeError):
    """No Chromium or chromedriver on this machine (the message says how to install them)."""


@dataclass
class PageCheck:
    """What was wrong with one page, and where its screenshot is."""

    page: str
    screenshot: Path | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def find_browser() -> tuple[str, str]:
    """The paths of Chromium and chromedriver, or BrowserUnavailable saying how to install them."""
    browser = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    driver = next((shutil.which(name) for name in DRIVERS if shutil.which(name)), None)
    if not browser or not driver:
        missing = " and ".join(n for n, p in (("Chromium", browser), ("chromedriver", driver)) if not p)
        raise BrowserUnavailable(f"{missing} not found: {INSTALL_HINT}")
    return browser, driver


def _driver(browser: str, chromedriver: str, profile: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={WINDOW[0]},{WINDOW[1]}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


def _console_errors(driver) -> list[str]:
    return [f"JavaScript or loading error: {entry.get('message', '')[:200]}"
            for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def _screenshot(driver, path: Path) -> Path:
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(WINDOW[0], min(int(height) + 40, MAX_SCREENSHOT_HEIGHT))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    driver.set_window_size(*WINDOW)
    return path


def _print_problems(driver, page: Path, screenshots: Path | None) -> list[str]:
    """Print ``page`` (its own @page size) to PDF, and check nothing is wider than an A4 page in print."""
    import base64

    problems = []
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": A4_CONTENT_PX, "height": 1000,
                                                                   "deviceScaleFactor": 1, "mobile": False})
    try:
        wide = driver.execute_script("return document.documentElement.scrollWidth")
        if wide > A4_CONTENT_PX + 1:
            problems.append(f"wider than an A4 page in print: {wide} px against {A4_CONTENT_PX}")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True,
                                                                    "printBackground": True})["data"])
    size = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)", pdf)
    if size is None or [round(float(v)) for v in size.groups()] != list(A4_POINTS):
        problems.append(f"printed page is not A4: {size.groups() if size else 'no page size'}")
    if screenshots:
        screenshots.mkdir(parents=True, exist_ok=True)
        (screenshots / f"{page.stem}.pdf").write_bytes(pdf)
    return problems


def check_page(driver, page: Path, screenshots: Path | None, printed: bool = False) -> PageCheck:
    """Open ``page`` and list its problems (see the module doc); screenshot it into ``screenshots``;
    ``printed``: also print it to PDF and check it fits A4."""
    driver.get_log("browser")                       # drop what an earlier page left
    driver.get(page.resolve().as_uri())
    driver.execute_async_script("document.fonts.ready.then(() => arguments[arguments.length - 1](true))")
    found = driver.execute_script(PAGE_PROBLEMS, None, FONT_FAMILY)
    problems = []
    for kind, detail in found:
        if kind == "header":
            if COLUMN_ID.match(detail):
                problems.append(f"English column id as a table header: {detail}")
        else:
            problems.append(f"{kind}: {detail}")
    problems += _console_errors(driver)
    shot = _screenshot(driver, screenshots / f"{page.stem}.png") if screenshots else None
    if printed:
        problems += _print_problems(driver, page, screenshots)
    problems += _console_errors(driver)
    return PageCheck(page.name, shot, problems)


def run_pages(run_dir: str | Path) -> list[Path]:
    """A run's pages: ``index.html`` and the notebook reports under ``html/``."""
    run_dir = Path(run_dir)
    return [p for p in [run_dir / "index.html", *sorted((run_dir / "html").glob("*.html"))] if p.exists()]


def check_pages(pages: list[Path], screenshots: Path | None = None, printed: tuple[str, ...] = ("index.html",)) -> list[PageCheck]:
    """Check each page in one headless Chromium (the ``printed`` ones also on A4 paper); raises
    BrowserUnavailable when there is none."""
    browser, chromedriver = find_browser()
    with tempfile.TemporaryDirectory(prefix="cs-analytics-chromium-") as profile:
        driver = _driver(browser, chromedriver, profile)
        try:
            return [check_page(driver, page, screenshots, page.name in printed) for page in pages]
        finally:
            driver.quit()


def check_run(run_dir: str | Path) -> list[PageCheck]:
    """Check every page of a report run, screenshots under ``<run>/screenshots/``."""
    run_dir = Path(run_dir)
    pages = run_pages(run_dir)
    if not pages:
        raise FileNotFoundError(f"{run_dir}: no index.html or html/*.html; is it a report run folder?")
    return check_pages(pages, run_dir / "screenshots")
