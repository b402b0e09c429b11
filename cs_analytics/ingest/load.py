"""load_logs(): chat-log exports in, the canonical messages table out, nothing lost.

Every row read ends up either in ``messages`` or in ``quarantine`` (with a reason), and the load
report proves ``rows_read == rows_kept + rows_quarantined``.
"""
from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api.types import union_categoricals

from ..base import config
from ..base.memory import release_unused
from .profiles import Profile, fold_header, fold_value, load_profile
from .readers import (REPLACEMENT, SUPPORTED_SUFFIXES, Malformed, RawBatch, ReadError, detect_encoding, file_format,
                      read_delimited, read_json, read_jsonl, read_parquet, read_xlsx)
from ..base.schema import QUARANTINE_COLUMNS, conform, quarantine_reasons, reason_label, string_dtype
from ..base.timeparse import parse_times


class LoadError(ValueError):
    """An export cannot be loaded; the message names the file and says how to fix it."""


@dataclass
class FileReport:
    """What happened to one input file."""

    path: str
    format: str
    encoding: str | None = None
    columns: dict[str, str] = field(default_factory=dict)   # canonical -> header used
    rows_read: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    skipped_parts: list[str] = field(default_factory=list)


@dataclass
class LoadReport:
    """Counts for a load: rows read = rows kept + rows quarantined, per reason and per file."""

    profile: str
    files: list[FileReport] = field(default_factory=list)
    by_reason: dict[str, int] = field(default_factory=dict)
    rows_kept: int = 0
    sessions: int = 0
    has_timestamps: bool = False
    first_ts: pd.Timestamp | None = None
    last_ts: pd.Timestamp | None = None
    out_of_order_rows: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(self.by_reason.values())

    @property
    def duplicates(self) -> int:
        return self.by_reason.get("duplicate", 0)

    @property
    def balanced(self) -> bool:
        """The load invariant: every row read is either kept or quarantined."""
        return self.rows_read == self.rows_kept + self.rows_quarantined

    def reasons_frame(self) -> pd.DataFrame:
        """Quarantined rows per reason: its label (resources/quarantine_reasons.yaml), rows, meaning
        and id."""
        known = quarantine_reasons()
        rows = [{"reason_label": reason_label(r), "rows": n, "meaning": known.get(r, {}).get("meaning", ""), "reason": r}
                for r, n in sorted(self.by_reason.items(), key=lambda kv: -kv[1])]
        return pd.DataFrame(rows, columns=["reason_label", "rows", "meaning", "reason"])

    def files_frame(self) -> pd.DataFrame:
        """One row per input file: format, encoding, rows read / kept / quarantined."""
        return pd.DataFrame([{
            "file": Path(f.path).name, "format": f.format, "encoding": f.encoding,
            "rows_read": f.rows_read, "rows_kept": f.rows_kept, "rows_quarantined": f.rows_quarantined,
            "skipped": "; ".join(f.skipped_parts),
        } for f in self.files])

    def summary(self) -> pd.DataFrame:
        """The headline numbers as a two-column table."""
        items = [
            ("profile", self.profile), ("files", len(self.files)), ("rows read", self.rows_read),
            ("rows kept", self.rows_kept), ("rows quarantined", self.rows_quarantined),
            ("duplicates", self.duplicates), ("sessions", self.sessions),
            ("has timestamps", self.has_timestamps),
            ("first message", self.first_ts), ("last message", self.last_ts),
            ("rows out of time order in the export", self.out_of_order_rows),
            ("read = kept + quarantined", self.balanced),
        ]
        return pd.DataFrame(items, columns=["item", "value"])

    def to_dict(self) -> dict:
        """A JSON-ready dict of the report (for run manifests)."""
        return {
            "profile": self.profile, "rows_read": self.rows_read, "rows_kept": self.rows_kept,
            "rows_quarantined": self.rows_quarantined, "by_reason": dict(self.by_reason),
            "sessions": self.sessions, "has_timestamps": self.has_timestamps,
            "first_ts": None if self.first_ts is None else self.first_ts.isoformat(),
            "last_ts": None if self.last_ts is None else self.last_ts.isoformat(),
            "out_of_order_rows": self.out_of_order_rows, "warnings": list(self.warnings),
            "files": [vars(f) for f in self.files],
        }

    def __str__(self) -> str:
        lines = [f"read {self.rows_read} rows from {len(self.files)} file(s) with profile {self.profile!r}: "
                 f"{self.rows_kept} kept, {self.rows_quarantined} quarantined, {self.sessions} sessions"]
        lines += [f"  {reason_label(r, english=True)} ({r}): {n}" for r, n in sorted(self.by_reason.items(), key=lambda kv: -kv[1])]
        if not self.has_timestamps:
            lines.append("  no send times in this export: response-time analyses will be skipped")
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class LoadResult:
    """What load_logs returns: the messages, the rows set aside, and the counts."""

    messages: pd.DataFrame
    quarantine: pd.DataFrame
    report: LoadReport

    def save(self, folder: str | Path) -> Path:
        """Write the load to ``folder`` (messages.parquet, quarantine.parquet, load_report.json), so the
        notebooks of a report run read it instead of loading the export again."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.messages.to_parquet(folder / "messages.parquet", index=False)
        self.quarantine.to_parquet(folder / "quarantine.parquet", index=False)
        (folder / "load_report.json").write_text(json.dumps(self.report.to_dict(), ensure_ascii=False, indent=2),
                                                 encoding="utf-8")
        return folder

    @classmethod
    def read(cls, folder: str | Path) -> "LoadResult":
        """A load written by ``save``."""
        folder = Path(folder)
        missing = [n for n in ("messages.parquet", "quarantine.parquet", "load_report.json") if not (folder / n).is_file()]
        if missing:
            raise LoadError(f"{folder}: not a stored load (missing {missing}); load the export with load_logs")
        data = json.loads((folder / "load_report.json").read_text(encoding="utf-8"))
        stamp = lambda value: None if value is None else pd.Timestamp(value)  # noqa: E731
        report = LoadReport(
            profile=data["profile"], files=[FileReport(**f) for f in data["files"]], by_reason=dict(data["by_reason"]),
            rows_kept=data["rows_kept"], sessions=data["sessions"], has_timestamps=data["has_timestamps"],
            first_ts=stamp(data["first_ts"]), last_ts=stamp(data["last_ts"]),
            out_of_order_rows=data["out_of_order_rows"], warnings=list(data["warnings"]))
        return cls(pd.read_parquet(folder / "messages.parquet"), pd.read_parquet(folder / "quarantine.parquet"), report)


def input_files(path: str | Path) -> list[Path]:
    """The export files at ``path``: the file itself, or every supported file below a folder."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"{path}: no such file or folder; check the path (exports go in data/raw/)")
    if path.is_file():
        try:
            file_format(path)
        except ReadError as exc:
            raise LoadError(str(exc)) from None
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                   and not p.name.startswith((".", "~$")))
    if not files:
        raise LoadError(f"{path}: folder holds no export files; supported: {sorted(SUPPORTED_SUFFIXES)}")
    return files


def load_logs(path: str | Path | Iterable[str | Path], profile: str | Path | dict | Profile | None = None, *,
              encoding: str | None = None, sheet: str | int | None = None, delimiter: str | None = None,
              columns: dict[str, str] | None = None, default_platform: str | None = None,
              default_shop: str | None = None, timezone: str | None = None,
              session_gap_minutes: float = 30, drop_duplicates: bool = True,
              max_text_chars: int = config.MAX_TEXT_CHARS, chunk_rows: int = config.CHUNK_ROWS,
              progress: bool | None = None) -> LoadResult:
    """Load chat-log export(s) into the canonical messages table (see ``cs_analytics.schema``).

    ``path`` is a file, a folder (every CSV/TSV/XLSX/JSON/JSONL/Parquet file below it, e.g. one per
    day) or a list of them. ``profile`` names a shipped profile (``generic``, ``jd_tsv``) or a YAML
    file of your own. ``columns`` maps canonical names to your headers for a one-off fix
    (``columns={"text": "聊天记录"}``). ``default_platform``/``default_shop`` fill exports without
    such a column. Without a session column, sessions are cut per buyer at gaps longer than
    ``session_gap_minutes``. Rows that cannot be used go to ``quarantine`` with a reason.
    """
    prof = load_profile(profile)
    tz = timezone or prof.timezone
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    files = [f for p in paths for f in input_files(p)]
    report = LoadReport(profile=prof.name)
    state = _LoadState(prof, tz, columns or {}, default_platform, default_shop, max_text_chars,
                       skip_unmapped_sheets=sheet is None)

    total = sum(f.stat().st_size for f in files)
    show = progress if progress is not None else total >= config.PROGRESS_MIN_BYTES
    from tqdm import tqdm   # the text bar: tqdm.auto warns in notebooks without ipywidgets

    with tqdm(total=total, unit="B", unit_scale=True, desc="loading", disable=not show) as bar:
        for file in files:
            frep = FileReport(path=str(file), format=file_format(file))
            report.files.append(frep)
            done = 0
            for batch in _read_ahead(_batches(file, frep, prof, encoding, sheet, delimiter, chunk_rows)):
                state.add_batch(batch, frep)
                release_unused()
                if batch.progress_bytes:
                    bar.update(batch.progress_bytes - done)
                    done = batch.progress_bytes
            bar.update(file.stat().st_size - done)
            state.end_file(frep)

    messages, quarantine = state.finish(report, session_gap_minutes, drop_duplicates)
    release_unused()                     # what ordering the table freed, now that only the result is held
    _fill_file_counts(report, messages, quarantine)
    report.rows_kept = len(messages)
    report.has_timestamps = bool(messages["ts"].notna().any())
    if report.has_timestamps:
        report.first_ts, report.last_ts = messages["ts"].min(), messages["ts"].max()
    if not report.balanced:  # a bug, never bad input: fail loudly rather than lose rows
        raise AssertionError(f"load lost rows: read {report.rows_read}, kept {report.rows_kept}, "
                             f"quarantined {report.rows_quarantined}")
    return LoadResult(messages, quarantine, report)


def _fill_file_counts(report: LoadReport, messages: pd.DataFrame, quarantine: pd.DataFrame) -> None:
    kept = _rows_per_file(messages["source_file"])
    quar = _rows_per_file(quarantine["source_file"])
    for frep in report.files:
        frep.rows_kept = kept.get(frep.path, 0)
        frep.rows_quarantined = quar.get(frep.path, 0)


def _rows_per_file(sources: pd.Series) -> dict[str, int]:
    """Rows per file path (workbooks record ``file!sheet`` as source_file)."""
    rows: dict[str, int] = {}
    for source, count in sources.value_counts().items():
        path = str(source).split("!", 1)[0]
        rows[path] = rows.get(path, 0) + int(count)
    return rows


def _batches(file: Path, frep: FileReport, prof: Profile, encoding: str | None, sheet, delimiter,
             chunk_rows: int) -> Iterable[RawBatch]:
    fmt = frep.format
    try:
        if fmt in ("csv", "tsv"):
            frep.encoding = encoding or detect_encoding(file)
            yield from read_delimited(file, encoding=frep.encoding, delimiter=delimiter or prof.delimiter,
                                      quoting=prof.quoting, header=prof.header,
                                      fields=[] if prof.header else prof.fields, chunk_rows=chunk_rows)
        elif fmt == "xlsx":
            yield from read_xlsx(file, sheet=sheet, header=prof.header,
                                 fields=[] if prof.header else prof.fields, chunk_rows=chunk_rows)
        elif fmt == "json":
            yield from read_json(file, encoding=encoding, chunk_rows=chunk_rows)
        elif fmt == "jsonl":
            yield from read_jsonl(file, encoding=encoding, chunk_rows=chunk_rows)
        else:
            yield from read_parquet(file, chunk_rows=chunk_rows)
    except ReadError as exc:
        raise LoadError(str(exc)) from None
    except (OSError, LookupError) as exc:
        raise LoadError(f"{file}: cannot be read ({exc}); check the file and the encoding option") from None


def _read_ahead(batches: Iterator[RawBatch], depth: int = 2) -> Iterator[RawBatch]:
    """The batches of ``batches``, read by a background thread up to ``depth`` ahead: the next batch is
    decoded and parsed (pyarrow's CSV parser frees the GIL) while this one is canonicalised. An error
    while reading is raised here; stopping early stops and closes the reader."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    finished = object()

    def hand_over(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                release_unused(c_heap=False)      # what parsing the batch freed, from this thread's heap
                if not hand_over(batch):
                    return
            hand_over(finished)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            hand_over(exc)
        finally:
            getattr(batches, "close", lambda: None)()     # a generator: its file is closed here

    reader = threading.Thread(target=read, name="cs-analytics-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not finished:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


class _LoadState:
    """Accumulates canonicalised batches; ``finish`` orders, numbers, de-duplicates and ids them."""

    def __init__(self, prof: Profile, tz: str, overrides: dict[str, str], default_platform: str | None,
                 default_shop: str | None, max_text_chars: int, skip_unmapped_sheets: bool):
        self.prof, self.tz, self.overrides = prof, tz, overrides
        self.skip_unmapped_sheets = skip_unmapped_sheets
        self.true_values = [fold_value(v) for v in prof.true_values]
        self.header_lookup = prof.header_lookup()
        self.override_lookup = {fold_header(h): c for c, h in overrides.items()}
        self.mappings: dict[tuple, dict[str, int]] = {}
        self.unmapped_sheets: list[LoadError] = []
        self.default_platform = default_platform or prof.defaults.get("platform", "other")
        self.default_shop = default_shop or prof.defaults.get("shop")
        self.max_text_chars = max_text_chars
        self.kept: list[pd.DataFrame] = []        # canonicalised batches, usable rows or not
        self.usable: list[np.ndarray] = []        # per batch: which rows are usable
        self.quarantined: list[pd.DataFrame] = []
        self.has_session_column = True
        self.has_time_column = False
        self.mapped: set[str] = set()
        self.role_lookup = prof.role_lookup()
        self.platform_lookup = prof.platform_lookup()
        self.unknown_platforms: dict[str, int] = {}
        self.known_times: dict = {}               # parse_times' results for values outside the first format

    # -- column mapping -------------------------------------------------------------------

    def map_fields(self, batch: RawBatch, frep: FileReport) -> dict[str, int]:
        """Canonical column -> field index for a batch (computed once per file part and header)."""
        key = (batch.source_file, batch.part, tuple(batch.fields))
        if key not in self.mappings:
            self.mappings[key] = self._map_fields(batch, frep)
        return self.mappings[key]

    def _map_fields(self, batch: RawBatch, frep: FileReport) -> dict[str, int]:
        where = f"{batch.source_file}" + (f" (sheet {batch.part!r})" if batch.part else "")
        mapping: dict[str, int] = {}
        for idx, name in enumerate(batch.fields):
            key = fold_header(name)
            canonical = self.override_lookup.get(key) or self.header_lookup.get(key)
            if canonical == "ignore" or canonical is None:
                continue
            mapping.setdefault(canonical, idx)
        for canonical, header in self.overrides.items():
            if canonical not in mapping:
                raise LoadError(f"{where}: columns option maps {canonical!r} to {header!r}, but there is no "
                                f"such header; headers are {batch.fields}")
        missing = []
        if "text" not in mapping:
            missing.append("text")
        if "role" not in mapping and not ("sender" in mapping and self.prof.sender_roles):
            missing.append("role")
        if "session_id" not in mapping and not ("customer_id" in mapping and "ts" in mapping):
            missing.append("session_id")
        if missing:
            raise LoadError(self._missing_message(where, missing, batch.fields))
        frep.columns = {c: batch.fields[i] for c, i in mapping.items()}
        return mapping

    def _missing_message(self, where: str, missing: list[str], headers: list[str]) -> str:
        parts = []
        for col in missing:
            aliases = self.prof.columns.get(col, [])[:8]
            parts.append(f"{col!r} (accepted headers: {', '.join(aliases) or 'none in this profile'})")
        return (f"{where}: cannot find the required column(s) {'; '.join(parts)}. Headers found: {headers}. "
                f"Fix: rename the header, pass columns={{'{missing[0]}': '<your header>'}}, or write a profile "
                f"(copy cs_analytics/resources/profiles/generic.yaml) and pass profile='my_profile.yaml'.")

    # -- one batch ------------------------------------------------------------------------

    def add_batch(self, batch: RawBatch, frep: FileReport) -> None:
        source = batch.source_file + (f"!{batch.part}" if batch.part else "")
        mapping: dict[str, int] = {}
        if len(batch):
            try:
                mapping = self.map_fields(batch, frep)
            except LoadError as exc:
                if not (batch.part and self.skip_unmapped_sheets):
                    raise
                # a notes/summary sheet in a workbook: skipped and reported, not counted as rows
                rows = len(batch) + len(batch.malformed)
                frep.skipped_parts.append(f"sheet {batch.part!r}: {rows} rows without the required columns")
                self.unmapped_sheets.append(exc)
                return
        frep.rows_read += len(batch) + len(batch.malformed)
        if batch.malformed:
            self.quarantined.append(_malformed_frame(batch.malformed, source))
        if not len(batch):
            return
        self.mapped.update(mapping)
        frame = pd.DataFrame({c: _raw_column(batch, i) for c, i in mapping.items()})
        # the file's name on every row, repeated by Arrow (not as 50,000 Python strings converted one by one)
        frame["source_file"] = pd.arrays.ArrowStringArray(pa.repeat(pa.scalar(source, pa.large_string()), len(frame)))
        frame["source_row"] = batch.rows
        frame, usable, reason, detail = self.canonicalize(frame.reset_index(drop=True), batch.may_hold_replacement)
        if not usable.all():
            set_aside = frame[~usable].copy()
            set_aside["reason"], set_aside["detail"] = reason[~usable], detail[~usable]
            self.quarantined.append(set_aside)
        self.kept.append(_with_codes(frame))
        self.usable.append(usable)

    def end_file(self, frep: FileReport) -> None:
        """After a file: a workbook none of whose sheets could be mapped is an error, not an empty load."""
        if self.unmapped_sheets and not frep.columns:
            raise self.unmapped_sheets[0]
        self.unmapped_sheets = []

    def canonicalize(self, df: pd.DataFrame, may_hold_replacement: bool = True
                     ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        """Canonical values for a batch; also returns which rows are usable (the rest belong in
        quarantine) and, per row, the reason and detail of those that are not (object arrays, None and
        "" for usable rows: only the rows set aside get them as columns)."""
        prof = self.prof
        nulls = pa.array(list(dict.fromkeys(prof.null_values)), pa.large_string())
        for col in df.columns:
            if col in ("text", "source_row", "source_file"):
                continue
            df[col] = _stripped_or_missing(df[col], nulls)
        text = df["text"].astype("string") if "text" in df else pd.Series(pd.NA, index=df.index, dtype="string")
        df["text"] = text
        reason = np.full(len(df), None, dtype=object)
        detail = np.full(len(df), "", dtype=object)
        unflagged = np.ones(len(df), dtype=bool)

        def flag(mask: pd.Series, name: str, why: Callable[[np.ndarray], pd.Series] | str = "") -> None:
            """Set rows aside for ``name``; ``why`` gives the detail of the flagged rows (only those)."""
            hit = mask.fillna(False).to_numpy(dtype=bool) & unflagged
            if not hit.any():
                return
            unflagged[hit] = False
            reason[hit] = name
            detail[hit] = why if isinstance(why, str) else why(hit).astype(str).to_numpy(dtype=object)

        # a batch whose reader saw no U+FFFD in its text can hold one only in its file name
        text_cols = [c for c in df.columns if c != "source_row"
                     and (may_hold_replacement or c == "source_file")]
        bad_bytes = pd.Series(False, index=df.index)
        for col in text_cols:
            values = df[col].astype("string")
            if _holds(values, REPLACEMENT):
                bad_bytes |= values.str.contains(REPLACEMENT, regex=False).fillna(False)
        flag(bad_bytes, "encoding_error", "undecodable bytes; pass encoding='gb18030' (or the file's real encoding)")

        # sessions
        if "session_id" in df:
            flag(df["session_id"].isna(), "missing_session_id", "no session id")
        else:
            self.has_session_column = False

        # roles (from the role column, else from the sender name)
        if "role" in df:
            role = _lookup(df["role"], self.role_lookup)
            flag(role.isna(), "unknown_role", lambda hit: "role value " + df["role"][hit].astype("string")
                 .fillna("<empty>") + " is not in the profile's roles")
            df["role"] = role
        else:
            df["role"] = self._roles_from_sender(df["sender"])
        if "sender" in df:
            is_staff = df["role"].isin(["agent", "bot"])
            if "agent_id" not in df:
                df["agent_id"] = df["sender"].where(is_staff)
            if "customer_id" not in df:
                df["customer_id"] = df["sender"].where(df["role"].isin(["customer"]))
        if "agent_id" in df:
            df["agent_id"] = df["agent_id"].where(df["role"].isin(["agent", "bot"]))

        # text
        flag(_blank(text), "empty_text", "empty message text")
        if (pc.max(pc.binary_length(_arrow(text))).as_py() or 0) > self.max_text_chars:  # a character: 1+ bytes
            length = text.str.len()
            flag(length > self.max_text_chars, "text_too_long", lambda hit: "text of " + length[hit]
                 .astype("string").fillna("0") + f" characters (limit {self.max_text_chars})")

        # times
        if "ts" in df:
            self.has_time_column = True
            parsed = parse_times(df["ts"], prof.time_formats, self.tz, self.known_times)
            flag(df["ts"].isna(), "missing_timestamp", "no time in a timed export")
            flag(parsed.isna(), "bad_timestamp",
                 lambda hit: "unparseable time " + df["ts"][hit].astype("string").fillna(""))
            df["ts"] = parsed

        # platform and shop
        if "platform" in df:
            platform = _lookup(df["platform"], self.platform_lookup)
            unknown = df["platform"].notna() & platform.isna()
            for value, count in df.loc[unknown, "platform"].value_counts().items():
                self.unknown_platforms[str(value)] = self.unknown_platforms.get(str(value), 0) + int(count)
            df["platform"] = platform.fillna("other").where(df["platform"].notna(), self.default_platform)
        else:
            df["platform"] = self.default_platform
        if "shop" not in df:
            df["shop"] = self.default_shop
        for col in self.prof.boolean_columns:
            if col in df:
                truthy = df[col].astype("string").str.strip().str.lower().isin(self.true_values)
                df[col] = truthy.astype(object).where(df[col].notna(), None)

        return df, unflagged, reason, detail

    def _roles_from_sender(self, sender: pd.Series) -> pd.Series:
        role = pd.Series("customer", index=sender.index, dtype=object)
        for name in ("agent", "bot", "system"):
            for pattern in self.prof.sender_roles.get(name, []):
                rx = re.compile(pattern)
                role[_distinct_values_match(sender, lambda v, rx=rx: rx.search(v) is not None)] = name
        return role.where(sender.notna())

    # -- the whole load ---------------------------------------------------------------------

    def finish(self, report: LoadReport, gap_minutes: float, drop_duplicates: bool
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
        extra = tuple(c for c in self.prof.extra_columns if c in self.mapped)
        frames = [f for f in self.kept if len(f)]
        # Arrow-backed columns concatenate without copying; the batches are dropped so nothing is held twice
        df = _joined(frames) if frames else pd.DataFrame()
        df["_order"] = np.arange(len(df))           # export order: the batches were kept as read
        keep = np.concatenate(self.usable) if frames else np.zeros(0, dtype=bool)
        self.kept, self.usable, frames = [], [], []
        release_unused()                    # the last batch's and the joining's leftovers
        quarantined = list(self.quarantined)
        if keep.any():
            if not self.has_session_column:
                df, keep = df[keep].reset_index(drop=True), np.ones(int(keep.sum()), dtype=bool)
                df["session_id"] = _derive_sessions(df, gap_minutes)
                report.warnings.append(f"no session column: sessions cut per buyer at gaps over {gap_minutes:g} min")
            # sessions as codes in the ids' sort order: comparing and sorting them is comparing and sorting ids
            session = _sorted_codes(df["session_id"])
            rows = np.flatnonzero(keep)
            keys = _SortKeys.of(df, rows, session)
            final = keys.sorted_positions()
            release_unused()                               # the sort's temporaries
            if self.has_time_column and drop_duplicates:
                key = [c for c in ("message_id", "session_id", "ts", "role", "agent_id", "customer_id", "text")
                       if c in df]
                dup = _duplicated(df, key, rows, session, keys, final)
                if dup.any():
                    d = _rows_of(df, list(df.columns), rows[dup])
                    d["reason"] = "duplicate"
                    d["detail"] = "repeat of an earlier row"
                    quarantined.append(d)
                    final = final[~dup[final]]
            report.out_of_order_rows = keys.out_of_order(final)
            positions, sessions = [rows[final]], keys.sessions[final]
            del session, rows, keys, final                  # the sort keys are not held while the table is taken
            df.pop("_order")
            df = _order_and_number(df, positions, sessions, report)
        else:
            df = pd.DataFrame(columns=["_order"])
        if self.unknown_platforms:
            report.warnings.append(f"unknown platform values counted as 'other': {self.unknown_platforms}")
        if not self.has_time_column:
            report.warnings.append("the export has no time column: messages are ordered as exported")
        messages = conform(df, self.tz, extra)
        qframes = [q for q in quarantined if len(q)]
        q = pd.concat(qframes, ignore_index=True) if qframes else pd.DataFrame(columns=list(QUARANTINE_COLUMNS))
        q = q.sort_values(["source_file", "source_row"], kind="stable")
        quarantine = conform(q, self.tz, extra + ("reason", "detail")).reset_index(drop=True)
        report.by_reason = {str(k): int(v) for k, v in quarantine["reason"].value_counts().items()}
        return messages.reset_index(drop=True), quarantine


def _raw_column(batch: RawBatch, index: int) -> pd.Series:
    """One field of a batch as text: Arrow-backed when the reader gave Arrow arrays, else objects."""
    if batch.columns is not None:
        return pd.Series(pd.arrays.ArrowStringArray(batch.columns[index]), copy=False)
    return pd.Series([record[index] for record in batch.records], dtype=object)


def _lookup(values: pd.Series, table: dict[str, str]) -> pd.Series:
    """Map raw cell values through a folded-value table, folding each distinct value once; values
    missing or not in the table give NA."""
    codes, distinct = pd.factorize(values)
    mapped = pd.array([table.get(fold_value(v)) for v in distinct], dtype=string_dtype())
    return pd.Series(mapped.take(codes, allow_fill=True), index=values.index)


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    """An Arrow-backed text column's values (no copy)."""
    return pa.chunked_array(values.array.__arrow_array__())


def _stripped_or_missing(values: pd.Series, nulls: pa.Array) -> pd.Series:
    """Values stripped of surrounding whitespace, those in ``nulls`` (after stripping) made missing:
    ``s.str.strip().mask(...isin(nulls))`` in one Arrow pass each (no stripping at all when no value
    can start or end with whitespace)."""
    column = _arrow(values.astype("string"))
    stripped = pc.utf8_trim_whitespace(column) if _may_have_edge_space(column) else column
    if not _has_value_this_short(stripped, max((len(n.as_py().encode()) for n in nulls if n.is_valid), default=-1)):
        return pd.Series(pd.arrays.ArrowStringArray(stripped), index=values.index, copy=False)
    missing = pc.is_in(stripped, value_set=nulls.cast(stripped.type))
    if pc.any(missing).as_py():                    # else no copy of the column just to set nothing missing
        stripped = pc.if_else(missing, pa.scalar(None, stripped.type), stripped)
    return pd.Series(pd.arrays.ArrowStringArray(stripped), index=values.index, copy=False)


def _may_have_edge_space(column: pa.ChunkedArray) -> bool:
    """Some value of a large_string column starts or ends with ASCII whitespace, a control byte or a
    character whose first byte is that of a non-ASCII whitespace character (0xC2: U+0085, U+00A0; 0xE1-0xE3:
    U+1680, U+2000-U+205F, U+3000): a check of a few bytes per value, so columns of ids or of Chinese
    names need no stripping pass."""
    def ascii_space(byte: np.ndarray) -> np.ndarray:
        return (byte <= 0x20) | (byte == 0x7F)

    def space_lead(byte: np.ndarray) -> np.ndarray:
        return ascii_space(byte) | (byte == 0xC2) | ((byte >= 0xE1) & (byte <= 0xE3))

    for chunk in column.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
        if not len(chunk) or offsets[-1] == offsets[0]:
            continue
        data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts                      # (an empty value's bytes read below are not its own)
        first, last = data.take(starts, mode="clip"), data.take(ends - 1, mode="clip")
        if (filled & (space_lead(first) | ascii_space(last))).any():
            return True
        wide = filled & (last >= 0x80)              # ends in a non-ASCII character: find its first byte
        if not wide.any():
            continue
        before = data.take(ends - 2, mode="clip")
        if (wide & (before == 0xC2)).any():         # a two-byte character U+0080-U+00BF
            return True
        longer = wide & ((before & 0xC0) == 0x80)   # three bytes or more: its first byte is 3 back
        if (longer & space_lead(data.take(ends - 3, mode="clip"))).any():
            return True
    return False


def _has_value_this_short(column: pa.ChunkedArray, most_bytes: int) -> bool:
    """Some present value of a large_string column is at most ``most_bytes`` long in UTF-8 (from the
    offsets: a column of longer values cannot hold a null marker such as "NULL")."""
    for chunk in column.chunks:
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
        short = np.diff(offsets) <= most_bytes
        if chunk.null_count and short.any():
            short &= pc.is_valid(chunk).to_numpy(zero_copy_only=False)
        if short.any():
            return True
    return False


def _blank(text: pd.Series) -> pd.Series:
    """Per row: the text is missing, empty or whitespace only (``text.str.strip()`` empty), without
    stripping a copy of the column."""
    values = _arrow(text)
    blank = pc.or_kleene(pc.equal(pc.utf8_length(values), 0), pc.utf8_is_space(values))
    return pd.Series(pc.fill_null(blank, True).to_numpy(zero_copy_only=False), index=text.index)


def _holds(values: pd.Series, fragment: str) -> bool:
    """Some value of an Arrow-backed text column contains ``fragment`` (one Arrow pass, no per-row result)."""
    return bool(pc.any(pc.match_substring(pa.chunked_array(values.array.__arrow_array__()), fragment)).as_py())


def _distinct_values_match(values: pd.Series, test: Callable[[object], bool]) -> np.ndarray:
    """Per row: ``test`` holds for its value (run once per distinct value; missing values never match)."""
    codes, distinct = pd.factorize(values)
    hits = np.array([bool(test(v)) for v in distinct] + [False], dtype=bool)
    return hits[codes]


def _malformed_frame(items: list[Malformed], source: str) -> pd.DataFrame:
    return pd.DataFrame({
        "source_file": source, "source_row": [m.source_row for m in items], "text": [m.raw for m in items],
        "reason": [m.reason for m in items], "detail": [m.detail for m in items],
    })


def _derive_sessions(df: pd.DataFrame, gap_minutes: float) -> pd.Series:
    """Cut sessions per (platform, shop, buyer) where consecutive messages are more than a gap apart."""
    keys = [df[c].astype("string").fillna("") for c in ("platform", "shop", "customer_id")]
    order = pd.DataFrame({"k0": keys[0], "k1": keys[1], "k2": keys[2], "ts": df["ts"], "o": df["_order"]})
    order = order.sort_values(["k0", "k1", "k2", "ts", "o"], kind="stable")
    new_buyer = (order[["k0", "k1", "k2"]] != order[["k0", "k1", "k2"]].shift()).any(axis=1).to_numpy(bool)
    gap = (order["ts"].diff() > pd.Timedelta(minutes=gap_minutes)).to_numpy(bool)
    number = pd.Series((new_buyer | gap).cumsum(), index=order.index)
    first = order.groupby(number)["ts"].transform("min").dt.strftime("%Y%m%d%H%M%S")
    ids = order["k2"] + "@" + first
    return ids.reindex(df.index)


def _sorted_codes(values: pd.Series) -> np.ndarray:
    """``pd.factorize(values, sort=True)[0]`` as int32 (codes in the values' sort order, -1 for missing),
    by Arrow's dictionary encoding: no int64 codes or hash table of pandas' own."""
    if not isinstance(values.array, pd.arrays.ArrowStringArray):
        return pd.factorize(values, sort=True)[0].astype(np.int32)
    encoded = pc.dictionary_encode(_arrow(values)).combine_chunks()
    rank = np.full(len(encoded.dictionary) + 1, -1, dtype=np.int32)      # the last one: missing (-1)
    rank[pc.sort_indices(encoded.dictionary).to_numpy()] = np.arange(len(encoded.dictionary), dtype=np.int32)
    return rank[encoded.indices.fill_null(-1).to_numpy()]


class _SortKeys:
    """The keys the kept rows are ordered by: session (codes in id order), export order, and the send time
    with whether it is missing (``stamps`` None when the table has no time-zone-aware times)."""

    def __init__(self, sessions: np.ndarray, order: np.ndarray, stamps: np.ndarray | None):
        self.sessions, self.order, self.stamps = sessions, order, stamps

    @classmethod
    def of(cls, df: pd.DataFrame, rows: np.ndarray, session: np.ndarray) -> _SortKeys:
        stamps = df["ts"].array.asi8[rows] if "ts" in df and isinstance(df["ts"].dtype, pd.DatetimeTZDtype) else None
        if stamps is not None and not (stamps != np.iinfo(np.int64).min).any():
            stamps = None                              # no time at all: ordered as exported
        return cls(session[rows], df["_order"].to_numpy()[rows], stamps)

    def out_of_order(self, final: np.ndarray) -> int:
        """Rows among those at ``final`` sent before the row exported just before them in their session."""
        if self.stamps is None:
            return 0
        taken = np.zeros(len(self.order), dtype=bool)
        taken[final] = True
        return _out_of_order(self.sessions, self.order, self.stamps, self.missing, taken)

    @property
    def missing(self) -> np.ndarray:
        return self.stamps == np.iinfo(np.int64).min

    def sorted_positions(self) -> np.ndarray:
        """Positions sorting the rows by session, time (missing times last), then export order."""
        if self.stamps is None:
            return np.lexsort((self.order, self.sessions))
        in_export_order = len(self.order) < 2 or bool((np.diff(self.order) > 0).all())
        key = self._one_key() if in_export_order else None
        if key is not None:                 # a stable sort keeps export order among equal keys
            return np.argsort(key, kind="stable")
        missing = self.missing
        return np.lexsort((self.order, np.where(missing, 0, self.stamps), missing, self.sessions))

    def _one_key(self) -> np.ndarray | None:
        """Session, missing time and time folded into one int64 that sorts as the three do (times in
        whole seconds when they all are), or None when they do not fit in 62 bits. Built in place: one
        int64 array and one temporary at a time."""
        missing = self.missing
        if missing.all() or self.sessions.min(initial=0) < 0:
            return None
        present = ~missing
        whole = self.stamps % 10**9
        whole[missing] = 0
        unit = 10**9 if not whole.any() else 1
        del whole
        low = int(self.stamps.min(where=present, initial=np.iinfo(np.int64).max)) // unit
        high = int(self.stamps.max(where=present, initial=np.iinfo(np.int64).min)) // unit
        time_bits = (high - low).bit_length()
        session_bits = int(self.sessions.max(initial=0)).bit_length()
        if session_bits + 1 + time_bits > 62:
            return None
        key = self.stamps // unit if unit > 1 else self.stamps.copy()
        key -= low
        key[missing] = 1 << time_bits
        key |= self.sessions.astype(np.int64) << (time_bits + 1)
        return key


def _order_and_number(df: pd.DataFrame, positions: list[np.ndarray], sessions: np.ndarray, report: LoadReport
                      ) -> pd.DataFrame:
    """The rows of ``df`` at ``positions[0]`` (by session, time with missing times last, export order;
    duplicates left out; ``sessions`` their session codes), numbered ``seq`` and given a ``message_id``.
    Only the sort keys were sorted (NumPy, no frames); each column is taken once, in final order. The
    positions are handed over in a list, emptied here, so they are freed once the rows are taken."""
    df = _take_rows(df, positions.pop())
    df["seq"] = _numbers_within_runs(sessions)
    report.sessions = int(np.count_nonzero(np.r_[True, sessions[1:] != sessions[:-1]] & (sessions >= 0))) \
        if len(sessions) else 0                         # runs of sorted codes: the distinct session ids
    df["message_id"] = _message_ids(df, report)
    release_unused()                            # the id check's hashes, before the coded columns grow
    return _with_strings(df)


def _out_of_order(sessions: np.ndarray, order: np.ndarray, stamps: np.ndarray, missing: np.ndarray,
                  taken: np.ndarray | None = None) -> int:
    """Rows sent before the row exported just before them in their session (missing times compare
    as neither); only the rows where ``taken`` (all when None) count, as if the others were not there."""
    export = None if (np.diff(order) > 0).all() else np.argsort(order, kind="stable")
    by_session = np.argsort(sessions if export is None else sessions[export], kind="stable")
    if export is not None:
        by_session = export[by_session]
    if taken is not None:
        by_session = by_session[taken[by_session]]
    s = sessions[by_session]
    same = s[1:] == s[:-1]
    del s
    m = missing[by_session]
    same &= ~m[1:]
    same &= ~m[:-1]
    del m
    t = stamps[by_session]
    same &= t[1:] < t[:-1]
    return int(np.count_nonzero(same))


def _duplicated(df: pd.DataFrame, key: list[str], rows: np.ndarray, session: np.ndarray,
                keys: _SortKeys | None = None, final: np.ndarray | None = None) -> np.ndarray:
    """Per row of ``rows``: it repeats an earlier one of them in every ``key`` column (missing values
    equal), as ``DataFrame.duplicated``. Only rows next to one of the same session and time in the
    sorted order (``final``, positions into ``rows`` sorted by ``keys``) are compared in full, so the long
    text columns are never copied or hashed whole."""
    if keys is None or final is None or ("ts" in key and keys.stamps is None):
        # the times are not among the sort keys: sort by session and time here
        times = pd.factorize(df["ts"])[0][rows] if "ts" in key else np.zeros(len(rows), dtype=np.int64)
        final = np.lexsort((times, session[rows]))
        same = [session[rows][final], times[final]]
    else:
        same = [keys.sessions[final]] + ([keys.stamps[final]] if "ts" in key and keys.stamps is not None else [])
    neighbour = np.ones(max(len(final) - 1, 0), dtype=bool)
    for values in same:
        neighbour &= values[1:] == values[:-1]
    candidate = np.zeros(len(final), dtype=bool)
    candidate[1:] |= neighbour
    candidate[:-1] |= neighbour
    candidates = np.sort(final[candidate])
    repeated = np.zeros(len(rows), dtype=bool)
    if len(candidates):
        repeated[candidates] = _rows_of(df, key, rows[candidates]).duplicated(keep="first").to_numpy()
    return repeated


def _numbers_within_runs(codes: np.ndarray) -> np.ndarray:
    """1, 2, 3, ... along each run of equal codes (``groupby(...).cumcount() + 1`` on sorted codes)."""
    position = np.arange(len(codes), dtype=np.int32 if len(codes) < 2**31 - 1 else np.int64)
    run_start = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.zeros(0, dtype=bool)
    position -= np.maximum.accumulate(np.where(run_start, position, 0))
    position += 1
    return position


# columns whose values repeat over many rows by their meaning (a closed vocabulary, the files, the shops,
# their agents, the buyers who each write many messages, the products and orders a conversation is
# about): held as categorical codes from each batch's
# canonicalisation until the finished table (an int8-int32 per row instead of a string and its 8-byte
# offset), so sorting moves codes and each column's strings are built once, at the end
_FEW_VALUES = ("platform", "role", "source_file", "shop", "agent_id", "customer_id", "sku", "order_id")


def _with_codes(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``_FEW_VALUES`` columns as categoricals of text categories (missing: code -1)."""
    for column in _FEW_VALUES:
        if column not in frame:
            continue
        values = frame[column]
        if isinstance(values.array, pd.arrays.ArrowStringArray):       # Arrow's encoding: no pandas hashing
            encoded = pc.dictionary_encode(_arrow(values)).combine_chunks()
            codes, uniques = encoded.indices.fill_null(-1).to_numpy(), pd.arrays.ArrowStringArray(encoded.dictionary)
        else:
            codes, uniques = pd.factorize(values)
        frame[column] = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=string_dtype()))
    return frame


def _joined(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The batches as one table (``pd.concat``), their categorical columns given one set of categories
    (a batch without such a column: missing there)."""
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    coded = {}
    for column in [c for c in columns if any(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames if c in f)]:
        parts = [f.pop(column).array if column in f else
                 pd.Categorical.from_codes(np.full(len(f), -1, np.int8), categories=pd.Index([], dtype=string_dtype()))
                 for f in frames]
        coded[column] = union_categoricals(parts)
    df = pd.concat(frames, ignore_index=True)
    for column, values in coded.items():
        df[column] = values
    return df[columns]


def _with_strings(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with its categorical columns as text (``astype(string)``), one column at a time."""
    for column in df.columns:
        if isinstance(df[column].dtype, pd.CategoricalDtype):
            df[column] = _as_text(df[column].array)
            release_unused()
    return df


def _as_text(values: pd.Categorical) -> pd.arrays.ArrowStringArray:
    """A categorical of text categories as an Arrow string array (missing where the code is -1)."""
    categories = pa.array(values.categories.to_numpy(dtype=object, na_value=None), pa.large_string())
    codes = values.codes
    return pd.arrays.ArrowStringArray(categories.take(pa.array(codes, mask=codes < 0)))


def _take_rows(df: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """The rows at ``positions``, in that order, with a fresh index; ``df`` is emptied column by column
    and Arrow's freed memory handed back after each, so the table is never held twice."""
    release_unused()                           # what sorting and the duplicate search freed
    indices = pa.array(positions)
    taken: dict[str, pd.Series] = {}
    for column in list(df.columns):
        taken[column] = _taken(df, column, positions, indices)
        release_unused()
    return pd.DataFrame(taken, copy=False)


def _taken(df: pd.DataFrame, column: str, positions: np.ndarray, indices: pa.Array) -> pd.Series:
    """``column``, taken out of ``df``, at ``positions`` (text by Arrow, in one piece). A text column in
    chunks is first joined into one array (``_joined_chunks``), never more than twice its size held, then
    taken at once: Arrow's take of a chunked array joins the chunks itself, holding the chunks, the
    joined copy and the result (three times the column)."""
    values = df.pop(column).array
    if not isinstance(values, pd.arrays.ArrowStringArray):
        return pd.Series(values.take(positions), copy=False)
    arrow = pa.chunked_array(values.__arrow_array__())
    del values
    if arrow.num_chunks < 2:
        return pd.Series(pd.arrays.ArrowStringArray(arrow.take(indices)), copy=False)
    chunks = arrow.chunks
    del arrow
    whole = _joined_chunks(chunks)
    return pd.Series(pd.arrays.ArrowStringArray(whole.take(indices)), copy=False)


def _joined_chunks(chunks: list[pa.Array]) -> pa.Array:
    """``chunks`` (a list this empties: the caller's only references to them) as one array. The first
    half is joined and its chunks let go before the second half is joined, then the halves: at most
    twice the data is held at any time, as while taking the joined array."""
    if len(chunks) > 2:
        half = len(chunks) // 2
        first = pa.concat_arrays(chunks[:half])
        del chunks[:half]
        second = pa.concat_arrays(chunks)
        chunks[:] = [first, second]
        del first, second
        release_unused()
    if len(chunks) == 1:
        return chunks.pop()
    whole = pa.concat_arrays(chunks)
    chunks.clear()
    return whole


def _chunk_take(column: pa.ChunkedArray, positions: np.ndarray) -> pa.Array:
    """The values of a chunked array at ``positions`` as one array, taken from each chunk on its own:
    for a few rows (Arrow's take of a chunked array first joins all the chunks into one copy)."""
    bounds = np.cumsum([0] + [len(chunk) for chunk in column.chunks])
    chunk_of = np.searchsorted(bounds, positions, side="right") - 1
    by_chunk = np.argsort(chunk_of, kind="stable")
    parts, start = [], 0
    for k, count in enumerate(np.bincount(chunk_of, minlength=column.num_chunks)):
        if count:
            parts.append(column.chunk(k).take(pa.array(positions[by_chunk[start:start + count]] - bounds[k])))
        start += count
    if not parts:
        return pa.array([], column.type)
    grouped = pa.concat_arrays(parts)
    back = np.empty_like(by_chunk)
    back[by_chunk] = np.arange(len(by_chunk))
    return grouped.take(pa.array(back))


def _rows_of(df: pd.DataFrame, columns: list[str], positions: np.ndarray) -> pd.DataFrame:
    """A few rows of ``df`` (its ``columns`` at ``positions``), text taken chunk by chunk, index kept."""
    out = {}
    for column in columns:
        values = df[column].array
        if isinstance(values, pd.arrays.ArrowStringArray):
            values = pd.arrays.ArrowStringArray(_chunk_take(pa.chunked_array(values.__arrow_array__()), positions))
        elif isinstance(values, pd.Categorical):
            values = _as_text(values.take(positions))
        else:
            values = values.take(positions)
        out[column] = pd.Series(values, index=df.index[positions], copy=False)
    return pd.DataFrame(out, copy=False)


def _message_ids(df: pd.DataFrame, report: LoadReport) -> pd.Series:
    """The export's own ids where given, else a 64-bit BLAKE2b of the message's content and occurrence."""
    if "message_id" in df and df["message_id"].notna().all():
        return _unique_ids(df["message_id"], report)
    digests: list[str] = []
    for start in range(0, len(df), 50_000):      # in blocks: no full-table lists of Python strings
        block = df.iloc[start:start + 50_000]
        if "ts" in block and block["ts"].notna().any():
            utc = block["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().view("int64")
            ts = pd.Series(utc.astype(str), index=block.index).where(block["ts"].notna().to_numpy(), "").tolist()
        else:
            ts = [""] * len(block)
        columns = [block[c].astype("string").fillna("").tolist() if c in block else [""] * len(block)
                   for c in ("platform", "shop", "session_id", "role", "agent_id", "customer_id", "text")]
        digests += [hashlib.blake2b("|".join(parts).encode("utf-8"), digest_size=8).hexdigest()
                    for parts in zip(*columns, ts)]
    key = pd.Series(digests, index=df.index, dtype=object)
    occurrence = key.groupby(key, sort=False).cumcount()
    # the first occurrence keeps the content digest; repeats of identical content get a digest of (digest, n)
    hashed = key.where(occurrence == 0, [
        hashlib.blake2b(f"{k}|{n}".encode(), digest_size=8).hexdigest() if n else k
        for k, n in zip(digests, occurrence.tolist())])
    if "message_id" in df:
        own = df["message_id"]
        return _unique_ids(own.where(own.notna(), hashed), report)
    return hashed


def _all_distinct(ids: pd.Series) -> bool:
    """Every value is present and no two are equal: no two 64-bit hashes of the values are equal (a
    sort of integers), else Arrow counts the distinct values themselves."""
    if not isinstance(ids.array, pd.arrays.ArrowStringArray) or ids.isna().any():
        return False
    values = _arrow(ids).combine_chunks()
    hashes = _string_hashes(values)
    if hashes is not None:
        hashes.sort()
        if not (hashes[1:] == hashes[:-1]).any():
            return True
    return pc.count_distinct(values).as_py() == len(ids)


def _string_hashes(values: pa.Array, widest: int = 64) -> np.ndarray | None:
    """A 64-bit hash of each string of a large_string array without nulls, read eight bytes at a time
    (None when a value is longer than ``widest`` bytes). Equal strings hash equal."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[values.offset:values.offset + len(values) + 1]
    lengths = np.diff(offsets)
    if not len(lengths) or lengths.max() > widest:
        return None if len(lengths) else np.zeros(0, dtype=np.uint64)
    data = values.buffers()[2]
    padded = np.zeros(offsets[-1] + 8, dtype=np.uint8)
    padded[:offsets[-1]] = np.frombuffer(data, dtype=np.uint8, count=offsets[-1]) if offsets[-1] else []
    # every byte position read as the little-endian uint64 starting there (a strided view, no copy)
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    hashes = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    starts = offsets[:-1]
    for at in range(0, int(lengths.max()), 8):
        left = np.clip(lengths - at, 0, 8).astype(np.uint64)
        mask = np.where(left == 8, np.uint64(2**64 - 1), (np.uint64(1) << (left * np.uint64(8))) - np.uint64(1))
        hashes ^= words[np.minimum(starts + at, len(words) - 1)] & mask
        hashes *= np.uint64(0xFF51AFD7ED558CCD)
        hashes ^= hashes >> np.uint64(33)
    return hashes


def _unique_ids(ids: pd.Series, report: LoadReport) -> pd.Series:
    """Message ids made unique: repeats of an exported id get a suffix ``~n``."""
    if _all_distinct(ids):
        return ids
    repeated = ids.duplicated(keep=False)
    if repeated.any():
        report.warnings.append(f"{int(repeated.sum())} rows share an exported message id; "
                               f"those got a suffix ~n to stay unique")
        ids = ids.astype(object)
        n = ids.groupby(ids).cumcount()
        ids = ids.where(~repeated | (n == 0), ids.astype(str) + "~" + (n + 1).astype(str))
    return ids


__all__ = ["load_logs", "LoadResult", "LoadReport", "FileReport", "LoadError", "input_files"]
