"""Run every notebook on an export with papermill and build the run's outputs in one folder.

Layout of ``<out>/``: ``index.html`` (the summary page: headline numbers, takeaways, key charts, data
facts; links to everything), ``kpis.json`` (its headline numbers), ``notebooks/`` (executed copies),
``html/`` (one report per notebook, code cells hidden), ``figures/`` (PNG + SVG + takeaway per
chart), ``tables/`` (key tables the notebooks kept), ``workbook.xlsx``, ``deck.pptx`` (the training
deck), ``deck_full.pptx`` (every chart, for analysts) and ``run.json``: input file hashes, the load report's row counts, rule/taxonomy/recipe versions,
package version, parameters and each step's outcome, so a chart in the deck traces to its data.

Inputs are checked before any notebook runs. A failing notebook is reported with its name and cell;
the other notebooks still run, every output that can be built is built, and the run reports failure.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pandas as pd

from ..base.config import VERSION
from . import artefacts
from .artefacts import KPI_FILE
from ..base import config
from ..ingest.filters import filter_messages
from .html_report import export_html
from .page_font import FONT_FILE, write_page_font
from .summary_page import write_summary_page
from .notebook import FINDINGS_FOLDER, LOAD_FOLDER
from ..findings.analyze import Findings
from ..ingest.dataset import dataset_files, is_dataset, read_dataset, write_dataset
from ..ingest.load import LoadError, LoadResult, input_files, load_logs
from ..ingest.profiles import load_profile
from ..findings.complaints import load_taxonomy
from ..findings.rulebook import load_rulebook
from ..tables.scorecards import SPEC_FILE as SCORECARD_SPEC, scorecard_spec
from ..findings.timing import load_recipes
from ..tables.kpis import headline


@dataclass
class NotebookRun:
    """The outcome of one notebook."""

    notebook: str
    ok: bool
    seconds: float
    error: str = ""


@dataclass
class RunResult:
    """The outcome of a report run: each notebook, and each output built from them."""

    out_dir: Path
    runs: list[NotebookRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)     # output name -> "ok" or the error

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs) and all(v == "ok" for v in self.outputs.values())

    @property
    def errors(self) -> list[str]:
        """One line per failed notebook or output."""
        return [r.error for r in self.runs if not r.ok] + \
            [f"{name}: {status}" for name, status in self.outputs.items() if status != "ok"]


def notebook_paths(notebooks_dir: Path = config.NOTEBOOKS_DIR) -> list[Path]:
    """The numbered analysis notebooks, in order."""
    return sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))


def start_order(books: list[Path], layout: dict | None = None) -> list[int]:
    """Positions of ``books`` in the order to start them: report.yaml's ``longest_first`` numbers first,
    the others after in their own order."""
    layout = artefacts.report_layout() if layout is None else layout
    ranks = {number: rank for rank, number in enumerate(layout.get("longest_first", []))}
    return sorted(range(len(books)), key=lambda i: (ranks.get(Path(books[i]).name[:2], len(ranks)), i))


def notebook_jobs() -> int:
    """How many notebooks run at once by default: one per core available, at most 4."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(4, cores))


def default_run_dir() -> Path:
    """reports/<YYYYmmdd-HHMMSS> under the project."""
    return config.REPORTS_DIR / dt.datetime.now().strftime("%Y%m%d-%H%M%S")


GENERATED_FOLDERS = ("notebooks", "html", "figures", "tables", "summaries", "data", "assets", "screenshots")   # emptied at the start of a run
# The kernel's own log (e.g. ipykernel's "running over TCP" notice on every start) is not the
# analyst's business; errors in the notebooks still surface through papermill.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
CHUNK = 1 << 20


def file_fingerprint(path: Path) -> dict:
    """Name, size and sha256 of one input file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return {"name": path.name, "path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def load_scope(logs: Path, profile: str | None, platforms, date_from, date_to) -> tuple[LoadResult, pd.DataFrame]:
    """Load the export once (a clear error now rather than in every notebook): the load and the
    messages the platform and date filters leave for the notebooks."""
    result = read_dataset(logs) if is_dataset(logs) else load_logs(logs, profile)
    report = result.report
    if report.rows_kept == 0:
        raise LoadError(f"{logs}: none of the {report.rows_read:,} rows could be used "
                        f"({dict(report.by_reason)}); run `cs-analytics load {logs}` to see why")
    scoped = filter_messages(result.messages, platforms=platforms, date_from=date_from, date_to=date_to)
    if scoped.empty:
        raise LoadError(f"{logs}: no messages left after --platform {platforms} --from {date_from} --to {date_to}; "
                        "widen the filters")
    return result, scoped


def load_summary(result: LoadResult, scoped: pd.DataFrame) -> dict:
    """The load report's counts, plus what the platform and date filters leave for the notebooks."""
    report = result.report
    days = scoped["ts"].dropna()
    return {
        "profile": report.profile, "rows_read": report.rows_read, "rows_kept": report.rows_kept,
        "rows_set_aside": report.rows_quarantined, "set_aside_by_reason": dict(report.by_reason),
        "balanced": report.rows_read == report.rows_kept + report.rows_quarantined,
        "files": [{"name": Path(f.path).name, "format": f.format, "encoding": f.encoding, "rows_read": f.rows_read,
                   "rows_kept": f.rows_kept, "rows_set_aside": f.rows_quarantined} for f in report.files],
        "messages_in_scope": len(scoped), "sessions": int(scoped["session_id"].nunique()),
        "platforms": sorted(scoped["platform"].dropna().astype(str).unique().tolist()),
        "shops": int(scoped["shop"].nunique()), "has_timestamps": bool(len(days)),
        "first_day": str(days.min().date()) if len(days) else None,
        "last_day": str(days.max().date()) if len(days) else None,
    }


DATA_NOTE = """This folder holds the loaded export and its findings, unmasked: customer data.
The report's notebooks read it instead of loading the export again. Do not share it; delete it when
the run is no longer needed (the HTML reports, workbook and deck do not depend on it).
"""


def store_run_data(folder: Path, loaded: LoadResult, findings: Findings) -> Path:
    """Write the load and every finding under ``folder`` (load/, findings/) for the notebooks to read."""
    loaded.save(folder / LOAD_FOLDER)
    findings.save(folder / FINDINGS_FOLDER)
    (folder / "README.txt").write_text(DATA_NOTE, encoding="utf-8")
    return folder


def store_cluster_data(folder: Path, logs: Path, loaded: LoadResult, scheduler: str | None, **layers) -> Path:
    """Like ``store_run_data``, with the findings computed on a Dask cluster: the workers write them
    under ``findings/`` (one folder of parts per finding) and the notebooks read them from there. An
    export that is not yet a dataset is converted to ``dataset/`` first."""
    from ..findings.distributed import analyze_dataset

    dataset = logs if is_dataset(logs) else write_dataset(loaded, folder / "dataset")
    loaded.save(folder / LOAD_FOLDER)
    analyze_dataset(dataset, scheduler=scheduler, out=folder / FINDINGS_FOLDER, **layers)
    (folder / "README.txt").write_text(DATA_NOTE, encoding="utf-8")
    return folder


def _failure(book: Path, executed: Path, exc: Exception) -> str:
    """'<notebook> cell <n> (`first line`): Error: message', n counted from 1 in the notebook as the
    analyst opens it (papermill's injected-parameters cell in the executed copy is not counted)."""
    where = ""
    index = getattr(exc, "cell_index", None)
    if index is not None:
        try:
            tags = [c.get("metadata", {}).get("tags", []) for c in nbformat.read(executed, as_version=4).cells]
            run_cells = [t for t in tags if "papermill-error-cell-tag" not in t]     # papermill's index skips its notes
            injected = sum(1 for t in run_cells[:index] if "injected-parameters" in t)
        except Exception:
            injected = 0
        first_line = next((line for line in str(getattr(exc, "source", "")).splitlines() if line.strip()), "")
        where = f" cell {index - injected + 1}" + (f" (`{first_line[:60]}`)" if first_line else "")
    return f"{book.name}{where}: {getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"


def run_report(logs: str | Path = config.SAMPLE_EXPORT, out_dir: str | Path | None = None,
               profile: str | None = None, platforms: list[str] | None = None, date_from: str | None = None,
               date_to: str | None = None, notebooks: list[Path] | None = None, rules: list[str] | None = None,
               taxonomy: list[str] | None = None, recipes: str | None = None, scorecard: str | None = None,
               engine: str = "pandas", scheduler: str | None = None, jobs: int | None = None,
               figure_formats: list[str] | None = None, log=print) -> RunResult:
    """Check the inputs, execute every notebook with these parameters into ``out_dir``, then build
    the HTML reports, the workbook, the two decks, ``index.html`` and ``run.json`` from what they left.

    ``logs``: an export (file or folder) or a dataset folder (``cs-analytics convert``). ``engine``:
    "pandas" computes the findings here (both cores on a large export); "dask" computes them on a
    Dask cluster (``scheduler``: its address; default a LocalCluster), converting an export to a
    dataset under ``<out>/data/dataset`` first. ``jobs``: notebooks run at the same time (default
    ``notebook_jobs()``: one per core, at most 4; the findings are computed once before).
    ``figure_formats``: what each chart is saved as (default PNG; ``["png", "svg"]`` adds SVG for print)."""
    import papermill as pm

    from .deck import write_deck, write_full_deck
    from .workbook import write_workbook

    logs = Path(logs).resolve()
    if engine not in ("pandas", "dask"):
        raise LoadError(f"--engine {engine!r}: use pandas (this machine) or dask (a Dask cluster)")
    if engine == "dask" and (platforms or date_from or date_to):
        raise LoadError("--engine dask analyses the whole dataset: leave out --platform/--from/--to, "
                        "or convert only the part you want (filter the export first)")
    files = dataset_files(logs) if is_dataset(logs) else input_files(logs)   # clear error now if the path is wrong
    if profile:
        load_profile(profile)         # likewise for a bad profile
    rules = [str(Path(r).resolve()) for r in rules] if rules else None
    rulebook = load_rulebook(*(rules or []))   # and for a bad rulebook file (RulebookError names file and line)
    taxonomy = [str(Path(t).resolve()) for t in taxonomy] if taxonomy else None
    complaint_taxonomy = load_taxonomy(*(taxonomy or []))   # and for a bad taxonomy layer (TaxonomyError)
    recipes = str(Path(recipes).resolve()) if recipes else None
    metric_recipes = load_recipes(recipes)                  # and for a bad metric-recipe file (RecipeError)
    scorecard = str(Path(scorecard).resolve()) if scorecard else None
    card = scorecard_spec(scorecard)                        # and for a bad scorecard spec (ScorecardError)
    for label, value in (("--from", date_from), ("--to", date_to)):
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise LoadError(f"{label} {value!r} is not a date; write it as YYYY-MM-DD") from None
    log(f"checking {logs.name}: {len(files)} file(s) ...")
    loaded, scoped = load_scope(logs, profile, platforms, date_from, date_to)   # and for an export with no usable rows
    load = load_summary(loaded, scoped)
    log(f"    {load['rows_read']:,} rows read = {load['rows_kept']:,} kept + {load['rows_set_aside']:,} set aside; "
        f"{load['messages_in_scope']:,} messages in {load['sessions']:,} sessions in scope")
    inputs = [file_fingerprint(p) for p in files]
    out = Path(out_dir) if out_dir else default_run_dir()
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise LoadError(f"--out {out} is a file; give a folder for the run's outputs")
    for folder in GENERATED_FOLDERS:            # a rerun into the same folder must not mix old charts in
        shutil.rmtree(out / folder, ignore_errors=True)
    (out / KPI_FILE).unlink(missing_ok=True)
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    layers = {"rulebook": rulebook, "taxonomy": complaint_taxonomy, "recipes": metric_recipes, "scorecard": scorecard}
    if engine == "dask":
        stored = store_cluster_data(out / "data", logs, loaded, scheduler, rulebook=rulebook, taxonomy=complaint_taxonomy,
                                    recipes=metric_recipes, scorecard=scorecard)
    else:
        stored = store_run_data(out / "data", loaded, Findings(scoped, rulebook=rulebook, taxonomy=complaint_taxonomy,
                                                               recipes=metric_recipes, scorecard=scorecard))
    log(f"    findings computed once ({engine}) and stored for the notebooks in {time.perf_counter() - started:.1f}s")
    params = {
        "LOGS": str(logs), "PROFILE": profile, "PLATFORMS": platforms or None,
        "DATE_FROM": date_from, "DATE_TO": date_to, "RULES": rules, "TAXONOMY": taxonomy, "RECIPES": recipes,
        "SCORECARD": scorecard, "OUTPUT_DIR": str(out), "STORED": str(stored),
        "FIGURE_FORMATS": list(figure_formats) if figure_formats else None,
    }
    engine_note = {"engine": engine, "scheduler": scheduler}
    result = RunResult(out)
    books = notebooks or notebook_paths()

    def run_one(numbered: tuple[int, Path]) -> tuple[NotebookRun, str | None]:
        number, book = numbered
        started = time.perf_counter()
        executed = out / "notebooks" / book.name
        try:
            declared = pm.inspect_notebook(str(book))       # pass each notebook only the parameters it has
            own = {k: v for k, v in params.items() if k in declared} if declared else params
            pm.execute_notebook(str(book), str(executed), parameters=own,
                                cwd=str(book.parent), kernel_name="python3", progress_bar=False,
                                log_output=False, extra_arguments=KERNEL_ARGUMENTS,
                                request_save_on_cell_execute=False)   # written once, when done (or failed)
            run = NotebookRun(book.name, True, time.perf_counter() - started)
        except Exception as exc:  # papermill raises PapermillExecutionError with the cell
            run = NotebookRun(book.name, False, time.perf_counter() - started, _failure(book, executed, exc))
        html_error = None
        if executed.exists():
            try:
                export_html(executed, out / "html")
            except Exception as exc:
                html_error = f"{type(exc).__name__}: {exc}"
        log(f"[{number}/{len(books)}] {book.name} {'ok' if run.ok else 'FAILED ' + run.error} in {run.seconds:.1f}s")
        return run, html_error

    def headline_numbers() -> dict:
        findings = Findings.read(stored / FINDINGS_FOLDER, scoped, **layers)
        found = headline(findings, loaded.messages, platforms=platforms, date_from=date_from, date_to=date_to)
        (out / KPI_FILE).write_text(json.dumps(found, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        return found

    def timed(make):
        """``make()``, its time, and the exception it raised (None when it did not)."""
        started = time.perf_counter()
        try:
            return make(), time.perf_counter() - started, None
        except Exception as exc:      # reported with the outputs; the other outputs are still built
            return None, time.perf_counter() - started, exc

    jobs = max(1, min(jobs or notebook_jobs(), len(books)))
    log(f"running {len(books)} notebooks, {jobs} at a time ...")
    with ThreadPoolExecutor(max_workers=jobs) as pool:       # each notebook runs in its own kernel process
        started_books = {i: pool.submit(run_one, (i + 1, books[i])) for i in start_order(books)}   # longest first
        # the headline numbers need only the stored findings: computed while the last notebooks run
        kpis_future = pool.submit(timed, headline_numbers)
        outcomes = [started_books[i].result() for i in range(len(books))]
    for book, (run, html_error) in zip(books, outcomes):
        result.runs.append(run)
        if html_error:
            result.outputs[f"html/{Path(book).stem}.html"] = html_error
    manifest = {
        "package_version": VERSION, "python": sys.version.split()[0], "created": dt.datetime.now().isoformat(),
        "out_dir": str(out), "parameters": params, **engine_note, "inputs": inputs, "load": load,
        "rulebook_version": rulebook.version, "rule_files": rulebook.files,
        "taxonomy_version": complaint_taxonomy.version, "taxonomy_files": list(complaint_taxonomy.files),
        "metric_recipes_version": metric_recipes["version"], "metric_recipes_file": metric_recipes["path"],
        "scorecard_version": card["version"], "scorecard_file": scorecard or str(SCORECARD_SPEC),
        "notebooks": [vars(r) for r in result.runs],
        "figures": [{k: f[k] for k in ("name", "title", "takeaway")} for f in artefacts.figures(out)],
        "tables": [{k: t[k] for k in ("name", "title", "sheet", "rows")} for t in artefacts.tables(out)],
    }
    def build(name: str, make, earlier: tuple | None = None):
        """Build one output, logging its time; a failure is recorded and the other outputs still built.
        ``earlier``: the ``(value, seconds, exception)`` of an output built while the notebooks ran."""
        value, seconds, failure = earlier or timed(make)
        if failure is not None:       # keep the other outputs; the run reports the failure
            result.outputs[name] = f"{type(failure).__name__}: {failure}"
            log(f"    FAILED {name}: {result.outputs[name]}")
            return None
        result.outputs[name] = "ok"
        log(f"    {name} in {seconds:.1f}s" + (" (while the last notebooks ran)" if earlier else ""))
        return value

    log("writing the headline numbers, workbook, decks and summary page ...")
    kpis = build(KPI_FILE, None, kpis_future.result())      # the page still shows everything else without them
    for name, write in (("workbook.xlsx", write_workbook), ("deck.pptx", write_deck), ("deck_full.pptx", write_full_deck)):
        build(name, lambda: write(out, manifest))
    manifest["headline"] = kpis
    manifest["outputs"] = result.outputs
    manifest["errors"] = result.errors
    build("index.html", lambda: write_summary_page(out, manifest, kpis, rulebook))
    # the pages still open without it, with the browser's own fonts
    build(FONT_FILE, lambda: write_page_font(out, [out / "index.html", *sorted((out / "html").glob("*.html"))]))
    manifest["outputs"] = result.outputs
    manifest["errors"] = result.errors
    (out / "run.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return result
