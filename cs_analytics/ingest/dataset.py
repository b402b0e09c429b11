"""A loaded export as a partitioned Parquet dataset, for Dask (``cs-analytics convert``).

Layout of ``DATASET/``::

    _dataset.json                      what it holds: files and their rows, the load report, the layout
    _quarantine.parquet                the rows the loader set aside, with their reasons
    platform=jd/month=2025-10/part-000.parquet
    platform=jd/month=2025-10/part-001.parquet …

A session belongs to the platform and month of its first message (``month=unknown`` without times),
and within a platform and month to part ``partition_of(...)``: a fixed-key hash of the shop and buyer
(the session id where the buyer is unknown). So **no session and no buyer is ever split across files**
of one platform and month, and every file can be analysed on its own (``findings.partitions``). A
buyer whose sessions straddle a month boundary lands in two months; the platform metrics that join a
buyer's sessions (JD's 10-minute rule) then see the two halves apart, which only touches sessions
within 10 minutes of midnight on the last day of a month.

Each file keeps the loader's order (session by session, in session-id order, messages in order) and
every column, so ``read_dataset`` gives back the loaded messages row for row.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.config import VERSION
from ..base.schema import as_messages
from .load import FileReport, LoadError, LoadReport, LoadResult

MANIFEST = "_dataset.json"
QUARANTINE = "_quarantine.parquet"
FORMAT = "cs-analytics dataset 1"
ROWS_PER_FILE = 500_000


def partition_of(messages: pd.DataFrame, parts: int) -> np.ndarray:
    """Per message: its part (0 … parts-1), the same for every message of a session and of a buyer
    (shop + customer id; the session id where the buyer is unknown). Deterministic across processes
    and machines."""
    messages = as_messages(messages)
    if parts <= 1 or messages.empty:
        return np.zeros(len(messages), dtype=np.int32)
    codes, sessions = pd.factorize(messages["session_id"], sort=False)
    known = np.flatnonzero(messages["customer_id"].notna().to_numpy())
    with_buyer, first_known = np.unique(codes[known], return_index=True)
    buyer_rows = known[first_known]                       # per session with a buyer: its first buyer row
    key = pd.Series(np.asarray(sessions, dtype=object)).radd("s\x1f")
    shop = np.asarray(messages["shop"].array.take(buyer_rows), dtype=object)      # only the rows needed as objects
    buyer = np.asarray(messages["customer_id"].array.take(buyer_rows), dtype=object)
    key.iloc[with_buyer] = ("b\x1f" + pd.Series(shop, dtype=object).fillna("") + "\x1f" + pd.Series(buyer, dtype=object)).to_numpy()
    hashes = pd.util.hash_array(key.to_numpy(dtype=object), categorize=False)     # the same hashes, no factorizing
    per_session = (hashes % np.uint64(parts)).astype(np.int32)
    return per_session[codes]


def _session_starts(messages: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per message: the platform and the month (YYYY-MM, "unknown" without a time) of its session's
    first message; only the first messages are looked at."""
    codes, _ = pd.factorize(messages["session_id"], sort=False)
    first_rows = np.unique(codes, return_index=True)[1]
    first = messages.iloc[first_rows]
    platform = first["platform"].astype(object).fillna("unknown").to_numpy()
    month = first["ts"].dt.strftime("%Y-%m").astype(object).fillna("unknown").to_numpy()
    return pd.Series(platform[codes]), pd.Series(month[codes])


def write_dataset(loaded: LoadResult, out: str | Path, rows_per_file: int = ROWS_PER_FILE) -> Path:
    """Write a load (``load_logs``) as a partitioned Parquet dataset under ``out`` (a new or empty
    folder): by platform and month of each session's first message, then by buyer hash into files of
    about ``rows_per_file`` messages. Returns the folder."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise LoadError(f"{out}: the folder is not empty; give a new folder for the dataset (or delete this one)")
    out.mkdir(parents=True, exist_ok=True)
    messages = as_messages(loaded.messages)
    platform, month = _session_starts(messages)
    files = []
    for (plat, mon), rows in pd.Series(np.arange(len(messages))).groupby([platform, month], sort=True):
        group = messages.iloc[rows.to_numpy()]
        parts = max(1, math.ceil(len(group) / rows_per_file))
        part = partition_of(group, parts)
        folder = out / f"platform={_safe(plat)}" / f"month={_safe(mon)}"
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(parts):
            chunk = group.iloc[np.flatnonzero(part == index)]
            if chunk.empty:
                continue
            path = folder / f"part-{index:03d}.parquet"
            chunk.to_parquet(path, index=False)
            files.append({"path": path.relative_to(out).as_posix(), "platform": plat, "month": mon,
                          "rows": len(chunk), "sessions": int(chunk["session_id"].nunique())})
    loaded.quarantine.to_parquet(out / QUARANTINE, index=False)
    manifest = {"format": FORMAT, "written_by": f"cs-analytics {VERSION}", "rows": len(messages),
                "layout": "platform/month of the session's first message, then part = hash(shop, buyer) (no session or buyer split)",
                "files": files, "load_report": loaded.report.to_dict()}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    return out


def _safe(value) -> str:
    return str(value).replace("/", "_").replace("=", "_")


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` is a dataset written by ``write_dataset``."""
    return (Path(path) / MANIFEST).is_file()


def dataset_manifest(path: str | Path) -> dict:
    """The dataset's ``_dataset.json`` (a clear error when ``path`` is not a dataset)."""
    path = Path(path)
    if not is_dataset(path):
        raise LoadError(f"{path}: not a cs-analytics dataset (no {MANIFEST}); write one with "
                        f"`cs-analytics convert EXPORT --out {path}`")
    manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise LoadError(f"{path}: dataset format {manifest.get('format')!r}, this version reads {FORMAT!r}; convert the export again")
    return manifest


def dataset_files(path: str | Path) -> list[Path]:
    """The dataset's Parquet files, each holding whole sessions and buyers."""
    return [Path(path) / f["path"] for f in dataset_manifest(path)["files"]]


def load_report_of(path: str | Path) -> LoadReport:
    """The load report the dataset carries (rows read = kept + set aside, per reason and file)."""
    data = dataset_manifest(path)["load_report"]
    stamp = lambda value: None if value is None else pd.Timestamp(value)  # noqa: E731
    return LoadReport(profile=data["profile"], files=[FileReport(**f) for f in data["files"]],
                      by_reason=dict(data["by_reason"]), rows_kept=data["rows_kept"], sessions=data["sessions"],
                      has_timestamps=data["has_timestamps"], first_ts=stamp(data["first_ts"]),
                      last_ts=stamp(data["last_ts"]), out_of_order_rows=data["out_of_order_rows"],
                      warnings=list(data["warnings"]))


def read_part(path: str | Path) -> pd.DataFrame:
    """One file of a dataset as a messages table."""
    return as_messages(pd.read_parquet(path))


def read_dataset(path: str | Path) -> LoadResult:
    """The whole dataset back in memory as the load it was written from (messages in the loader's
    order: by session id, then message order)."""
    frames = [read_part(file) for file in dataset_files(path)]
    messages = pd.concat(frames, ignore_index=True) if frames else as_messages(pd.DataFrame(columns=["session_id", "role", "text"]))
    messages = messages.sort_values(["session_id", "seq"], kind="stable").reset_index(drop=True)
    return LoadResult(messages, pd.read_parquet(Path(path) / QUARANTINE), load_report_of(path))
