"""The canonical messages table: the one table every analysis takes.

One row per message; ``COLUMNS`` below documents every column in one place (``describe()`` shows it
as a table). Profiles may declare extra columns (e.g. ``is_transfer`` in the JD export); they follow
the canonical ones. The quarantine table has the same columns where they could be read, plus
``reason`` and ``detail``; ``quarantine_reasons()`` names and explains each reason.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from . import config
from .layering import load_yaml

ROLES = ("customer", "agent", "bot", "system")
PLATFORMS = ("taobao", "tmall", "jd", "pdd", "douyin", "other")

STRING_COLUMNS = (
    "message_id", "session_id", "role", "agent_id", "customer_id", "shop", "platform",
    "text", "source_file", "sku", "order_id",
)
# (column, dtype, meaning): the single definition of the canonical table.
COLUMNS = (
    ("message_id", "str", "stable id: the export's own message id when it has one, else a hash of "
     "platform, shop, session, time, role, sender, text and occurrence, so a reload gives the same ids"),
    ("session_id", "str", "conversation id, as exported (or derived from buyer + time gaps, see load_logs)"),
    ("seq", "int32", "1-based order of the message within its session (by time, then export order)"),
    ("ts", "datetime64[ns, tz]", "send time, timezone-aware (default Asia/Shanghai); NaT when the export has no times"),
    ("role", "str", "customer / agent / bot / system"),
    ("agent_id", "str", "agent account for agent and bot rows, else missing"),
    ("customer_id", "str", "buyer account"),
    ("shop", "str", "shop name or id"),
    ("platform", "str", "taobao, tmall, jd, pdd, douyin or other"),
    ("text", "str", "message text exactly as exported"),
    ("source_file", "str", "file the row came from (evidence)"),
    ("source_row", "int64", "row in that file: line number for CSV/TSV (header = line 1), sheet row for XLSX, "
     "1-based record for JSON/JSONL/Parquet"),
    ("sku", "str", "product / SKU id, optional"),
    ("order_id", "str", "order id, optional"),
)
MESSAGE_COLUMNS = tuple(name for name, _, _ in COLUMNS)
# Columns a file must provide (directly or through a profile) to be loadable at all.
REQUIRED_COLUMNS = ("session_id", "role", "text")
QUARANTINE_COLUMNS = MESSAGE_COLUMNS + ("reason", "detail")


class QuarantineReasonsError(ValueError):
    """resources/quarantine_reasons.yaml has a bad entry (the message names the reason)."""


@lru_cache(maxsize=1)
def quarantine_reasons() -> dict[str, dict[str, str]]:
    """Why a row is set aside, by reason id: ``zh`` (what readers see), ``en`` and ``meaning``; the data
    is resources/quarantine_reasons.yaml (the loader's own checks)."""
    path = config.RESOURCES_DIR / "quarantine_reasons.yaml"
    data = load_yaml(path.read_text(encoding="utf-8"))
    reasons = data.get("reasons") if isinstance(data, dict) else None
    if not isinstance(reasons, dict) or not data.get("source"):
        raise QuarantineReasonsError(f"{path}: needs `source` and a mapping under `reasons`")
    for reason, spec in reasons.items():
        if not isinstance(spec, dict) or any(not isinstance(spec.get(k), str) or not spec[k].strip()
                                             for k in ("zh", "en", "meaning")):
            raise QuarantineReasonsError(f"{path}: reason {reason!r} needs zh, en and meaning (non-empty text)")
    return {str(r): {k: spec[k].strip() for k in ("zh", "en", "meaning")} for r, spec in reasons.items()}


def reason_label(reason: str, english: bool = False) -> str:
    """A set-aside reason as readers see it: 空消息 (``english``: 空消息 empty text); an id the data does
    not know is shown as it is."""
    found = quarantine_reasons().get(str(reason))
    if not found:
        return str(reason)
    return f"{found['zh']} {found['en']}" if english else found["zh"]


def string_dtype() -> pd.StringDtype:
    """The dtype of every text column: pyarrow-backed strings, missing values as NA."""
    return pd.StringDtype("pyarrow")


def timestamp_dtype(timezone: str) -> pd.DatetimeTZDtype:
    """The dtype of ``ts`` for a timezone."""
    return pd.DatetimeTZDtype("ns", timezone)


def empty_messages(timezone: str = "Asia/Shanghai", extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """An empty messages table with the canonical columns and dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in MESSAGE_COLUMNS + tuple(extra)})
    return conform(frame, timezone)


def conform(frame: pd.DataFrame, timezone: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Return ``frame`` with the canonical column order and dtypes (missing columns are added empty)."""
    out = pd.DataFrame(index=frame.index)
    for col in MESSAGE_COLUMNS + tuple(c for c in extra if c not in MESSAGE_COLUMNS):
        values = frame[col] if col in frame.columns else pd.Series(pd.NA, index=frame.index, dtype=object)
        if col == "ts":
            if not isinstance(values.dtype, pd.DatetimeTZDtype):
                values = pd.to_datetime(values, errors="coerce")
                values = values.dt.tz_localize(timezone) if values.dt.tz is None else values
            out[col] = values.dt.tz_convert(timezone).astype(timestamp_dtype(timezone))
        elif col == "seq":
            out[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype("int32")
        elif col == "source_row":
            out[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype("int64")
        elif col not in MESSAGE_COLUMNS and values.map(lambda v: isinstance(v, bool)).any():
            out[col] = values.astype("boolean")
        else:
            out[col] = values.astype(string_dtype())
    return out


def describe() -> pd.DataFrame:
    """The canonical schema as a table: column, dtype, meaning."""
    return pd.DataFrame(COLUMNS, columns=["column", "dtype", "meaning"])


class MessagesError(ValueError):
    """A messages table lacks a required column."""


def as_messages(frame: pd.DataFrame, timezone: str = "Asia/Shanghai") -> pd.DataFrame:
    """``frame`` as a canonical messages table, for tables built by hand or read from elsewhere.

    Only ``REQUIRED_COLUMNS`` (session_id, role, text) must be there; a missing one is a
    ``MessagesError`` naming it. Missing optional columns are added empty with their canonical dtype;
    a missing ``seq`` is the row's order within its session, a missing ``message_id`` is
    ``<session_id>#<seq>``. Columns already there are kept as they are (a ``ts`` that is not a
    timezone-aware time is parsed and put in ``timezone``). A complete table is returned unchanged.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise MessagesError(f"the messages table has no {', '.join(missing)} column(s); every analysis needs "
                            f"{', '.join(REQUIRED_COLUMNS)} (load an export with load_logs, or add them)")
    ts_ready = "ts" in frame.columns and isinstance(frame["ts"].dtype, pd.DatetimeTZDtype)
    if ts_ready and all(c in frame.columns for c in MESSAGE_COLUMNS):
        return frame
    out = frame.copy()
    if "ts" in out.columns and not ts_ready:
        values = pd.to_datetime(out["ts"], errors="coerce")
        out["ts"] = (values.dt.tz_localize(timezone) if values.dt.tz is None else values.dt.tz_convert(timezone)) \
            .astype(timestamp_dtype(timezone))
    if "seq" not in out.columns:
        out["seq"] = (out.groupby("session_id", sort=False).cumcount() + 1).astype("int32")
    if "message_id" not in out.columns:
        out["message_id"] = (out["session_id"].astype(str) + "#" + out["seq"].astype(str)).astype(string_dtype())
    for name, dtype, _ in COLUMNS:
        if name in out.columns:
            continue
        if name == "ts":
            out[name] = pd.Series(pd.NaT, index=out.index, dtype=timestamp_dtype(timezone))
        elif name == "source_row":
            out[name] = pd.Series(0, index=out.index, dtype="int64")
        else:
            out[name] = pd.Series(pd.NA, index=out.index, dtype=string_dtype())
    return out[list(MESSAGE_COLUMNS) + [c for c in out.columns if c not in MESSAGE_COLUMNS]]


def is_in(values: pd.Series, wanted: pd.Series) -> np.ndarray:
    """Per value of a text column: it is one of ``wanted`` (Arrow's hash lookup: fast on millions of ids)."""
    import pyarrow.compute as pc

    from .arrays import arrow_strings

    if not len(values):
        return np.zeros(0, dtype=bool)
    found = pc.is_in(arrow_strings(values), value_set=arrow_strings(wanted.drop_duplicates()))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)
