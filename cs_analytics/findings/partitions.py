"""Findings computed in parts and put back together: the one mechanism behind both cores of one
machine (``analyze(..., workers=2)``) and a Dask cluster (``analyze(DATASET, engine="dask")``).

Every finding is a property of one session (politeness, process, complaint sessions, owners, reply
rounds, session times), of one message (hits, complaint signals, message labels) or of one reply round
(long waits), so a part holding whole sessions computes them exactly as the whole table would. The one
exception is the platforms' response metrics: JD joins a buyer's sessions within 10 minutes
(``session_merge_gap_s``) and Pinduoduo judges a buyer's day, so they need whole *buyers*.

Two ways to cut the messages:

- **Runs of consecutive sessions** (``session_runs``), when every process takes one part (up to
  ``PART_MESSAGES`` messages a process). The messages come in session order (``sessions_in_order``),
  so the parts are slices of the table (no copy) and their tables laid end to end are the whole
  table's, row for row: nothing to reorder. The platform metrics need whole buyers only to join a
  buyer's sessions (JD, ``timing.merges_buyers``): each run gives the units the other recipes judge
  (``timing.platform_metric_units``, one row per round or buyer-day round), which laid end to end are
  the whole table's, and this process computes the joining recipes' units from the whole table while
  the workers finish (so it takes a little less of the messages: ``first_share``). Buyer-days are
  grouped and everything counted once, after all parts, as one process counts them.
- **Parts of whole sessions and buyers** (``ingest.dataset.partition_of``: a hash of the shop and the
  buyer id of each session, the session id where the buyer is unknown, with pandas' fixed-key SipHash,
  the same number on every machine and in every run), for more parts than processes and for Dask.
  Metrics are combined from per-part numerators and denominators (``platform_metric_counts``), which
  is exact: sums of counts, and sums of whole seconds. ``combine`` concatenates the parts and restores
  the single-table order: message tables by the message's position in the input, session and round
  tables by the session's first position, long waits by wait (longest first, then that order).

Worker processes write each part's findings to a temporary folder as they finish (``WrittenParts``;
columns of dates as codes, ``base.compact_pickle``): this process holds only the messages and reads a
finding's parts, one finding at a time, when it is first asked for, so its memory does not grow with
every part's findings at once.
"""
from __future__ import annotations

import os
import pickle
import shutil
import sys
import tempfile
import weakref
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from functools import partial
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import compact_pickle
from ..base.arrays import arrow_strings
from ..base.memory import arrow_from_c_heap, keep_freed_memory
from ..ingest.dataset import partition_of
from .session_checks import neighbours_differ
from .timing import (
    concat_units,
    count_units,
    finish_platform_metrics,
    merges_buyers,
    platform_metric_counts,
    platform_metric_units,
)

# the findings computed per part; platform_metrics is combined from METRIC_COUNTS
PART_FINDINGS = ("hits", "complaint_signals", "message_labels", "complaint_sessions", "owners", "reply_rounds",
                 "session_times", "long_waits", "politeness", "process")
MESSAGE_FINDINGS = ("hits", "complaint_signals", "message_labels")
METRIC_COUNTS = "platform_metric_counts"
METRIC_UNITS = "platform_metric_units"
POSITIONS = "positions"
# below this many messages a second process costs more than it saves (measured: bench_pipeline.py)
PARALLEL_FROM_MESSAGES = 200_000
# the most messages one process analyses at once (bounds each process's working memory)
PART_MESSAGES = 1_000_000
# the platform metrics that join a buyer's sessions (``timing.merges_buyers``), computed in this process
# from the whole table while the workers finish their parts, cost about this share of the parts' work
# on the messages of those recipes' platforms (measured: 0.2 s CPU against 6.2 s for all findings of
# 1M generated messages, a fifth of them JD's), so this process takes that much less of the messages
# (``first_share``, ``merging_share``)
METRICS_SHARE = 0.16
# the messages analysed in this process before forking more workers than there are cores, so that
# every worker inherits the compiled rulebook, taxonomy and phrase lists instead of compiling its own
WARM_UP_MESSAGES = 2_000


def part_findings(findings, names=None, rows: np.ndarray | None = None) -> dict:
    """The findings of one part (a ``Findings`` over whole sessions and buyers) as plain tables, with
    the platform metrics as counts to combine. ``None`` stands for a time-based finding of an export
    without times. With ``rows`` (the part's positions in the whole table) each table's rows also get
    their position in the whole, so that ``combine`` can restore the whole table's order."""
    names = tuple(names or (*PART_FINDINGS, "platform_metrics"))
    out = {name: getattr(findings, name) for name in names if name in PART_FINDINGS}
    if findings.timed and "platform_metrics" in names:
        out[METRIC_COUNTS] = platform_metric_counts(findings.messages, findings.recipes, rounds=findings.reply_rounds)
    if findings.timed and METRIC_UNITS in names:     # a run of sessions: the units of the recipes that need no more
        out[METRIC_UNITS] = platform_metric_units(findings.messages, findings.recipes, rounds=findings.reply_rounds,
                                                  merging=False)
    if rows is not None:
        out[POSITIONS] = _positions(findings.messages, out, rows)
    return out


def _positions(messages: pd.DataFrame, tables: dict, rows: np.ndarray) -> dict:
    """Per table: each row's position in the whole input (of its message, or of its session's first
    message)."""
    message_index = pd.Index(messages["message_id"])
    session_codes, sessions = pd.factorize(messages["session_id"], sort=False)
    session_first = np.zeros(len(sessions), dtype=np.int64)
    session_first[session_codes[::-1]] = np.arange(len(messages))[::-1]
    session_index = pd.Index(sessions)
    positions = {}
    for name, table in tables.items():
        if table is None or name == METRIC_COUNTS:
            continue
        if name in MESSAGE_FINDINGS:
            local = message_index.get_indexer(table["message_id"])
        else:
            local = session_first[session_index.get_indexer(table["session_id"])]
        positions[name] = rows[local]
    return positions


def concat_parts(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """Parts concatenated with each categorical column kept categorical (categories in order of first
    appearance across the parts when the parts' categories differ), and a column a part holds only
    missing values in typed as the other parts have it (``_typed_alike``)."""
    tables = [t for t in tables if t is not None]
    nonempty = _typed_alike([t for t in tables if len(t)]) or tables[:1]
    frame = pd.concat(nonempty, ignore_index=True)
    for column in nonempty[0].columns:
        if isinstance(nonempty[0][column].dtype, pd.CategoricalDtype) and not isinstance(frame[column].dtype, pd.CategoricalDtype):
            cats = pd.unique(np.concatenate([t[column].cat.categories.to_numpy(dtype=object) for t in nonempty]))
            frame[column] = pd.Categorical(frame[column], categories=cats)
    return frame


def _typed_alike(tables: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The parts given the same columns, in the same order, with the same dtypes, when some step's
    columns depend on what a part holds. The packaged steps' do not (``tests/test_findings.py``); a
    check an analyst registers (``session_checks.session_check``) may, say by showing evidence only
    where it found some. A column a part lacks is added missing after the column it follows
    elsewhere; a column a part holds only missing values in as objects (a dtype inferred from no
    value) takes the dtype the other parts' values gave it. The whole table has the columns any part
    has, typed by their values."""
    if all(list(t.columns) == list(tables[0].columns) and t.dtypes.equals(tables[0].dtypes) for t in tables[1:]):
        return tables
    columns = list(max(tables, key=lambda t: t.shape[1]).columns)
    for table in tables:
        for before, column in zip([None, *table.columns[:-1]], table.columns):
            if column not in columns:
                columns.insert(columns.index(before) + 1 if before is not None else 0, column)
    unknown = {id(t): [c for c in t.columns if t[c].dtype == object and t[c].isna().all()] for t in tables}
    typed = {}
    for table in tables:
        for column in table.columns:
            if column not in unknown[id(table)]:
                typed.setdefault(column, table[column].dtype)
    out = []
    for table in tables:
        filled = {column: _missing(table.index, typed.get(column, object)) for column in columns
                  if column not in table or (column in unknown[id(table)] and typed.get(column, object) != object)}
        out.append(table.assign(**filled)[columns] if filled or list(table.columns) != columns else table)
    return out


def _missing(index: pd.Index, dtype) -> pd.Series:
    """A column of missing values of ``dtype`` (objects where the dtype holds none: integers)."""
    empty = pd.Series(None, index=index, dtype=object)
    try:
        return empty.astype(dtype) if dtype != bool else empty
    except (TypeError, ValueError):
        return empty


def combine(parts: list[dict], recipes: dict) -> dict:
    """One findings dict from the parts' dicts (``part_findings``). Parts made with ``rows`` come back
    in the order the whole table gives; others part after part."""
    names = [name for name in parts[0] if name not in (METRIC_COUNTS, POSITIONS)] if parts else []
    out: dict = {}
    for name in names:
        present = [part for part in parts if part[name] is not None]
        if not present:
            out[name] = None
            continue
        positions = [part[POSITIONS][name] for part in present] if all(POSITIONS in part for part in present) else None
        out[name] = combine_table(name, [part[name] for part in present], positions)
    counts = [part[METRIC_COUNTS] for part in parts if part.get(METRIC_COUNTS) is not None]
    if counts:
        out["platform_metrics"] = finish_platform_metrics(pd.concat(counts, ignore_index=True), recipes)
    return out


def combine_table(name: str, tables: list[pd.DataFrame], positions: list[np.ndarray] | None = None) -> pd.DataFrame:
    """One finding's parts as one table: concatenated and, with ``positions`` (each part's rows' positions
    in the whole input), in the whole table's order. ``tables`` is emptied once concatenated, so that
    at most two copies of the table are held at once."""
    frame = concat_parts(tables)
    tables.clear()
    if positions is not None:
        frame = frame.iloc[np.argsort(np.concatenate(positions), kind="stable")]
    if name == "long_waits":
        frame = frame.sort_values("response_s", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def order_by_session(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A combined table in the pandas path's order for loaded messages: by session id, each session's
    rows as its file gave them (long waits: longest first, then that order)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pa.array(frame["session_id"].astype(object).to_numpy(), type=pa.string())
    frame = frame.iloc[pc.sort_indices(ids, sort_keys=[("", "ascending")]).to_numpy()]   # stable
    if name == "long_waits":
        frame = frame.sort_values("response_s", ascending=False, kind="stable")
    return frame.reset_index(drop=True)



# ------------------------------------------------------------------------- local processes ---
_SHARED: dict = {}


def _run_part(index: int) -> dict:
    """The findings of part ``index``: of a run of sessions (``session_runs``), or of the messages
    ``partition_of`` put in that part (``part_findings`` with positions)."""
    findings = _SHARED["findings"]
    if "runs" in _SHARED:
        return part_findings(findings.part(_SHARED["runs"][index]), _SHARED["names"])
    rows = np.flatnonzero(_SHARED["part"] == index)
    return part_findings(findings.part(rows), _SHARED["names"], rows)


def _write_part(index: int) -> dict:
    """In a worker process: the findings of part ``index`` written under the shared folder, one pickle
    (table, and its positions when the part has them) per finding, dates as codes
    (``compact_pickle``). Returns the files (None for a time-based finding of an export without
    times) and the platform metric counts."""
    keep_freed_memory()
    found = _run_part(index)
    positions = found.get(POSITIONS, {})
    files = {}
    for name, table in found.items():
        if name in (METRIC_COUNTS, POSITIONS):
            continue
        if table is None:
            files[name] = None
            continue
        files[name] = Path(_SHARED["folder"]) / f"{name}-{index:05d}.pickle"
        with open(files[name], "wb") as file:
            compact_pickle.dump((table, positions.get(name)), file)
    return {"index": index, "files": files, METRIC_COUNTS: found.get(METRIC_COUNTS)}


class WrittenParts:
    """The findings of parts: those computed in this process (``kept``, ``part_findings`` dicts) and those
    the workers wrote (``written``, ``_write_part`` results), combined one finding at a time when it is
    first asked for (``table``); each file is read once and deleted. The temporary folder goes with
    this object."""

    def __init__(self, folder: str, kept: list[dict], written: list[dict], recipes: dict, metrics_in_parts: bool = True):
        self.folder, self.kept, self.written, self.recipes = folder, kept, written, recipes
        self.metrics_in_parts = metrics_in_parts
        weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)

    def results(self, names) -> dict:
        """Per finding: None when no part has it (no send times), else a function giving its table;
        the platform metrics from the parts' counts (when the parts computed them: runs of sessions
        do not hold whole buyers, and ``Findings`` computes them from the combined reply rounds)."""
        out = {}
        for name in names:
            if name not in PART_FINDINGS:
                continue
            present = [part[name] is not None for part in self.kept] + \
                      [summary["files"][name] is not None for summary in self.written]
            out[name] = partial(self.table, name) if any(present) else None
        counts = [part[METRIC_COUNTS] for part in self.kept + self.written if part.get(METRIC_COUNTS) is not None]
        if "platform_metrics" in names and self.metrics_in_parts:
            out["platform_metrics"] = (finish_platform_metrics(pd.concat(counts, ignore_index=True), self.recipes)
                                       if counts else None)
        return out

    def table(self, name: str) -> pd.DataFrame:
        """The combined table of finding ``name`` (the parts are let go once combined)."""
        tables, positions = [], []
        for part in self.kept:
            table, position = part.pop(name), part.get(POSITIONS, {}).pop(name, None)
            if table is not None:
                tables.append(table)
                positions.append(position)
        for summary in self.written:
            path = summary["files"][name]
            if path is None:
                continue
            with open(path, "rb") as file:
                table, position = pickle.load(file)
            os.remove(path)
            tables.append(table)
            positions.append(position)
        return combine_table(name, tables, None if any(p is None for p in positions) else positions)

    def metric_units(self) -> list[dict]:
        """The parts' platform metric units (``platform_metric_units`` of runs of sessions), part after
        part."""
        units = [part.pop(METRIC_UNITS) for part in self.kept if METRIC_UNITS in part]
        for summary in self.written:
            path = summary["files"].get(METRIC_UNITS)
            if path is not None:
                with open(path, "rb") as file:
                    units.append(pickle.load(file)[0])
                os.remove(path)
        return units


@contextmanager
def gc_frozen():
    """The objects this process holds are left out of garbage collection meanwhile (``gc.freeze``), so
    that a worker forked meanwhile does not copy the pages they sit on when its collector walks them
    (as Python's documentation advises before a fork; measured on 1M generated messages: the worker's
    page faults 112-116k against 117-124k, two processes' CPU median 6.9 against 7.1 s in 4 alternating
    runs). Left as it is when something else froze objects already."""
    import gc

    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def fork_available() -> bool:
    """Worker processes start by fork (Linux): they share the loaded messages and compiled rules with no
    copying. Elsewhere the findings are computed in this process."""
    return sys.platform.startswith("linux") and "fork" in get_all_start_methods()


def sessions_in_order(messages: pd.DataFrame) -> bool:
    """Whether the messages come session by session in session-id order (as ``load_logs`` gives them):
    then the findings of parts, put back in the input's order, are row for row the whole table's."""
    ids = messages["session_id"]
    if isinstance(ids.dtype, pd.StringDtype):        # text ids: compared in Arrow (code point order, as Python)
        import pyarrow.compute as pc

        array = arrow_strings(ids)
        return array.null_count == 0 and (len(array) < 2 or pc.all(pc.greater_equal(array[1:], array[:-1])).as_py())
    return bool(ids.notna().all() and ids.is_monotonic_increasing)


def session_starts(ids: pd.Series) -> np.ndarray:
    """The positions where a new session starts in a column of session ids (0 included when not empty)."""
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    return np.r_[0, np.flatnonzero(neighbours_differ(ids)) + 1].astype(np.int64)


def resolve_workers(workers, n_messages: int, messages: pd.DataFrame | None = None) -> int:
    """``workers`` as a number of processes: "auto" (or None) uses every core (at most 4) from
    ``PARALLEL_FROM_MESSAGES`` messages on, 1 below; an int is taken as given (1 = this process).
    Messages not in session order (``sessions_in_order``) are computed in one process, whose row
    order is the one to match."""
    if messages is not None and not sessions_in_order(messages):
        return 1
    if workers in (None, "auto"):
        if n_messages < PARALLEL_FROM_MESSAGES or not fork_available():
            return 1
        return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
    workers = int(workers)
    if workers < 1:
        raise ValueError(f"workers must be 1 or more (got {workers}); 1 computes in this process")
    return workers if fork_available() else 1


def session_runs(messages: pd.DataFrame, shares) -> list[slice]:
    """The messages (in session order, ``sessions_in_order``) cut into consecutive runs of whole
    sessions holding about ``shares`` of them (fractions adding up to 1): each cut is the session
    start nearest to its share."""
    n = len(messages)
    starts = np.append(session_starts(messages["session_id"]), n)
    wanted = np.round(np.cumsum(shares)[:-1] * n).astype(np.int64)
    after = np.minimum(np.searchsorted(starts, wanted), len(starts) - 1)
    before = np.maximum(after - 1, 0)
    nearest = np.where(wanted - starts[before] <= starts[after] - wanted, starts[before], starts[after])
    cuts = np.concatenate([[0], np.maximum.accumulate(nearest), [n]]) if n else np.zeros(len(shares) + 1, np.int64)
    return [slice(int(start), int(stop)) for start, stop in zip(cuts[:-1], cuts[1:])]


def first_share(workers: int, metrics: float = 0.0) -> float:
    """The share of the messages this process analyses itself among ``workers`` processes, so that all
    finish together when it also does other work worth ``metrics`` of the messages' (``merging_share``):
    s + m = (1 - s) / (workers - 1)."""
    return max(0.0, (1 - metrics * (workers - 1)) / workers)


def merging_share(messages: pd.DataFrame, recipes: dict) -> float:
    """The work of the platform metrics that join a buyer's sessions (``timing.merges_buyers``) as a
    share of the parts' work: ``METRICS_SHARE`` times the share of the messages on their platforms."""
    platforms = sorted({platform for recipe in recipes["recipes"] if merges_buyers(recipe) for platform in recipe["platforms"]})
    if not platforms or not len(messages):
        return 0.0
    return METRICS_SHARE * float(messages["platform"].isin(platforms).to_numpy(dtype=bool, na_value=False).mean())


def compute_in_processes(findings, workers: int, names=None) -> dict:
    """The findings of ``findings.messages`` computed in ``workers`` processes, one part of whole
    sessions at a time each, combined so that they equal the findings of one process.
    Returns per finding its table's source for ``Findings``: a function that combines the parts when
    the table is first asked for (``WrittenParts``), None for a time-based finding without times, or
    the table (platform metrics).

    Up to ``PART_MESSAGES`` messages a process, the messages are cut into ``workers`` runs of
    consecutive sessions (``session_runs``): this process takes the first (``first_share`` of the
    messages: it also computes the units of the platform metrics that join a buyer's sessions, from the
    whole table) while forked workers take the others; the parts' tables (and metric units) laid end
    to end are the whole table's. A larger table is cut into more parts of whole sessions and buyers
    (``partition_of``), each computed in a fresh forked worker (so no process holds more than one
    part's working memory) while this process only collects what they wrote, after analysing a few
    messages itself so that the workers inherit the compiled layers; the parts' platform metric
    counts add up to the whole's."""
    names = tuple(names or (*PART_FINDINGS, "platform_metrics"))
    n_parts = max(workers, -(-len(findings.messages) // PART_MESSAGES))
    folder = tempfile.mkdtemp(prefix="cs-analytics-parts-")
    context = get_context("fork")
    with arrow_from_c_heap(), gc_frozen():
        try:
            if n_parts == workers:
                metrics = "platform_metrics" in names and findings.timed
                first = first_share(workers, merging_share(findings.messages, findings.recipes) if metrics else 0.0)
                runs = session_runs(findings.messages, [first] + [(1 - first) / (workers - 1)] * (workers - 1))
                # each run gives the units of the metrics judged within sessions; this process computes those that
                # join a buyer's sessions from the whole table
                part_names = tuple(name for name in PART_FINDINGS if name in names) + ((METRIC_UNITS,) if metrics else ())
                _SHARED.update(findings=findings, runs=runs, names=part_names, folder=folder)
                with ProcessPoolExecutor(max_workers=workers - 1, mp_context=context) as pool:
                    others = pool.map(_write_part, range(1, workers))
                    kept = [_run_part(0)]                # this process works on part 0 meanwhile
                    merged = platform_metric_units(findings.messages, findings.recipes, merging=True) if metrics else {}
                    written = list(others)
                parts = WrittenParts(folder, kept, written, findings.recipes, metrics_in_parts=False)
                results = parts.results(names)
                if metrics:
                    units = {**concat_units(parts.metric_units()), **merged}
                    results["platform_metrics"] = finish_platform_metrics(count_units(units, findings.recipes), findings.recipes)
                return results
            _SHARED.update(findings=findings, part=partition_of(findings.messages, n_parts), names=names, folder=folder)
            findings.part(np.arange(min(WARM_UP_MESSAGES, len(findings.messages)))).compute()
            with context.Pool(processes=workers, maxtasksperchild=1) as pool:
                written = sorted(pool.imap_unordered(_write_part, range(n_parts)), key=lambda r: r["index"])
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        finally:
            _SHARED.clear()
    return WrittenParts(folder, [], written, findings.recipes).results(names)
