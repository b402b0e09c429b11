"""Run every notebook on an export with papermill; outputs go to one run folder.

Layout of ``<out>/``: ``notebooks/`` (executed copies), ``figures/`` (PNG + SVG per chart),
``run.json`` (parameters, package version, per-notebook status). A failing notebook is reported
with its name and the error; the others still run, and the run reports failure.
"""
from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, config
from .logs import LoadError, input_files
from .profiles import load_profile
from .complaints import load_taxonomy
from .rules import load_rulebook
from .timing import load_recipes


@dataclass
class NotebookRun:
    """The outcome of one notebook."""

    notebook: str
    ok: bool
    seconds: float
    error: str = ""


@dataclass
class RunResult:
    """The outcome of a report run."""

    out_dir: Path
    runs: list[NotebookRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.runs)


def notebook_paths(notebooks_dir: Path = config.NOTEBOOKS_DIR) -> list[Path]:
    """The numbered analysis notebooks, in order."""
    return sorted(p for p in notebooks_dir.glob("[0-9][0-9]_*.ipynb"))


def default_run_dir() -> Path:
    """reports/<YYYYmmdd-HHMMSS> under the project."""
    return config.REPORTS_DIR / dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def run_report(logs: str | Path = config.SAMPLE_EXPORT, out_dir: str | Path | None = None,
               profile: str | None = None, platforms: list[str] | None = None, date_from: str | None = None,
               date_to: str | None = None, notebooks: list[Path] | None = None, rules: list[str] | None = None,
               taxonomy: list[str] | None = None, recipes: str | None = None, log=print) -> RunResult:
    """Validate the inputs, then execute every notebook with these parameters into ``out_dir``."""
    import papermill as pm

    logs = Path(logs).resolve()
    input_files(logs)                 # clear error now if the path is wrong, before any notebook runs
    if profile:
        load_profile(profile)         # likewise for a bad profile
    rules = [str(Path(r).resolve()) for r in rules] if rules else None
    rulebook = load_rulebook(*(rules or []))   # and for a bad rulebook file (RulebookError names file and line)
    taxonomy = [str(Path(t).resolve()) for t in taxonomy] if taxonomy else None
    complaint_taxonomy = load_taxonomy(*(taxonomy or []))   # and for a bad taxonomy layer (TaxonomyError)
    recipes = str(Path(recipes).resolve()) if recipes else None
    metric_recipes = load_recipes(recipes)                  # and for a bad metric-recipe file (RecipeError)
    for label, value in (("--from", date_from), ("--to", date_to)):
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise LoadError(f"{label} {value!r} is not a date; write it as YYYY-MM-DD") from None
    out = Path(out_dir) if out_dir else default_run_dir()
    out = out.resolve()
    (out / "notebooks").mkdir(parents=True, exist_ok=True)
    params = {
        "LOGS": str(logs), "PROFILE": profile, "PLATFORMS": platforms or None,
        "DATE_FROM": date_from, "DATE_TO": date_to, "RULES": rules, "TAXONOMY": taxonomy, "RECIPES": recipes,
        "OUTPUT_DIR": str(out),
    }
    result = RunResult(out)
    books = notebooks or notebook_paths()
    for i, book in enumerate(books, start=1):
        log(f"[{i}/{len(books)}] {book.name} ...")
        started = time.perf_counter()
        try:
            declared = pm.inspect_notebook(str(book))       # pass each notebook only the parameters it has
            own = {k: v for k, v in params.items() if k in declared} if declared else params
            pm.execute_notebook(str(book), str(out / "notebooks" / book.name), parameters=own,
                                cwd=str(book.parent), kernel_name="python3", progress_bar=False,
                                log_output=False)
            run = NotebookRun(book.name, True, time.perf_counter() - started)
        except Exception as exc:  # papermill raises PapermillExecutionError with the cell
            cell = getattr(exc, "exec_count", None)
            where = f" (cell {cell})" if cell is not None else ""
            summary = f"{getattr(exc, 'ename', type(exc).__name__)}: {getattr(exc, 'evalue', exc)}"
            run = NotebookRun(book.name, False, time.perf_counter() - started, f"{book.name}{where}: {summary}")
            log(f"    FAILED {run.error}")
        result.runs.append(run)
        log(f"    {'ok' if run.ok else 'failed'} in {run.seconds:.1f}s")
    manifest = {
        "package_version": __version__, "python": sys.version.split()[0], "created": dt.datetime.now().isoformat(),
        "parameters": params, "rulebook_version": rulebook.version, "rule_files": rulebook.files,
        "taxonomy_version": complaint_taxonomy.version, "taxonomy_files": list(complaint_taxonomy.files),
        "metric_recipes_version": metric_recipes["version"], "metric_recipes_file": metric_recipes["path"],
        "notebooks": [vars(r) for r in result.runs],
    }
    (out / "run.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return result
