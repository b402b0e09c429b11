"""All findings of one messages table in one object, each computed at most once and only when asked.

``analyze(messages, rulebook=…, taxonomy=…, recipes=…)`` (``findings.run``) returns a ``Findings``; reading
``findings.hits`` runs ``find_violations`` the first time and returns the same table afterwards.
Every step gets the layers it needs from here (the politeness checks get the same hits and complaint
sessions the notebooks show, built with the same rulebook and taxonomy), so no step falls back to
the packaged defaults behind an analyst's back.

``Findings.save(folder)`` writes every finding as Parquet with ``findings.json`` (what they were
computed from); ``Findings.read(folder, messages, …)`` gives them back when the messages and the
layers are the same, and computes afresh (saying why) when they are not. The report runner computes
the findings once and the notebooks read them.
"""
from __future__ import annotations

import json
import warnings
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.schema import as_messages
from ..base.timeparse import has_times
from ..textmatch.normalize import SharedBlocks
from .complaints import (Taxonomy, classify_complaints, complaint_signals, label_messages, load_taxonomy,
                         message_labels_of)
from .politeness import politeness_checks
from .process import process_checks
from .rulebook import Rulebook, load_rulebook
from .session_checks import SessionData
from .sessions import session_owner
from .timing import load_recipes, long_waits, platform_metrics, reply_rounds, session_times
from .violations import find_violations

# name → what it is; the time-based ones are None on an export without send times
FINDINGS = {
    "hits": "forbidden-phrase hits (find_violations): message, rule, span, matched text, suggestion",
    "complaint_signals": "every complaint, inquiry, escalation, anger and compensation finding in customer messages",
    "message_labels": "per customer message: complaint types, escalation, temperament (label_messages)",
    "complaint_sessions": "per session: contact reason, complaint or inquiry, types, escalation (classify_complaints)",
    "owners": "per session: the owner agent (session_owner)",
    "reply_rounds": "per reply round: opened, replied, response seconds, agent (needs send times)",
    "session_times": "per session: start, end, duration, first response (needs send times)",
    "long_waits": "answered rounds that waited too long, and whether the reply apologised (needs send times)",
    "platform_metrics": "the platforms' own response metrics by their recipes (needs send times)",
    "politeness": "per session: each politeness check, fatal items, score (politeness_checks)",
    "process": "per session: each complaint-handling step with its evidence, handling score (process_checks)",
}
TIMED_FINDINGS = ("reply_rounds", "session_times", "long_waits", "platform_metrics")
MANIFEST = "findings.json"


def ids_hash(messages: pd.DataFrame) -> int:
    """The sum of the message ids' 64-bit hashes (pandas' fixed-key SipHash, one per id, so sums of
    parts add up to the whole's): the part of ``Findings.key`` that tells the messages apart."""
    ids = messages["message_id"].astype(str).to_numpy(dtype=object)
    return int(pd.util.hash_array(ids, categorize=False).sum())      # ids are unique: no categorising


class finding(cached_property):
    """A finding: read from its stored copy when ``Findings.read`` found one, or combined from the parts
    worker processes wrote (only when first asked: a notebook that needs two findings reads two),
    else computed; kept either way."""

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        stored = instance.__dict__.get("_stored") or {}
        if self.attrname in stored:
            source = stored.pop(self.attrname)
            if callable(source):                     # parts written by worker processes (partitions.WrittenParts)
                value = source()
            else:
                value = None if source is None else _restore(_read_table(source, self.attrname), self.attrname)
            instance.__dict__[self.attrname] = value
            return value
        return super().__get__(instance, owner)


def _layer(value, loader, kind):
    if isinstance(value, kind):
        return value
    if value is None:
        return loader()
    return loader(*([value] if isinstance(value, (str, Path)) else list(value)))


class Findings:
    """The findings of one messages table under one rulebook, taxonomy and set of metric recipes.

    Attributes named in ``FINDINGS`` are computed on first use and kept. ``scorecard`` (a path, a spec
    dict or None) is carried for the tables that score agents."""

    def __init__(self, messages: pd.DataFrame, *, rulebook=None, taxonomy=None, recipes=None, scorecard=None,
                 engine: str = "auto", workers="auto"):
        self.messages = as_messages(messages)
        self.rulebook: Rulebook = _layer(rulebook, load_rulebook, Rulebook)
        self.taxonomy: Taxonomy = _layer(taxonomy, load_taxonomy, Taxonomy)
        self.recipes: dict = recipes if isinstance(recipes, dict) else load_recipes(recipes)
        self.scorecard = scorecard
        self.engine = engine
        self.workers = workers
        self.timed = has_times(self.messages)

    # ---------------------------------------------------------------------------- findings ---
    @finding
    def hits(self) -> pd.DataFrame:
        return find_violations(self.messages, self.rulebook, engine=self.engine, blocks=self._blocks)

    @finding
    def complaint_signals(self) -> pd.DataFrame:
        return complaint_signals(self.messages, self.taxonomy, blocks=self._blocks)

    @finding
    def message_labels(self) -> pd.DataFrame:
        return label_messages(self.messages, self.complaint_signals, self.taxonomy, labels=self._message_labels)

    @finding
    def complaint_sessions(self) -> pd.DataFrame:
        return classify_complaints(self.messages, self.taxonomy, signals=self.complaint_signals, blocks=self._blocks,
                                   labels=self._message_labels, owners=self.owners.set_index("session_id")["agent_id"])

    @cached_property
    def _message_labels(self):
        """The customers' messages' labels by the complaint signals, read by ``message_labels`` and
        ``complaint_sessions`` (made once for both)."""
        return message_labels_of(self.messages, self.complaint_signals)

    @finding
    def owners(self) -> pd.DataFrame:
        return session_owner(self.messages).reset_index()

    @finding
    def reply_rounds(self) -> pd.DataFrame | None:
        return reply_rounds(self.messages) if self.timed else None

    @finding
    def session_times(self) -> pd.DataFrame | None:
        if not self.timed:
            return None
        return session_times(self.messages, self.reply_rounds, owners=self.owners.set_index("session_id")["agent_id"])

    @finding
    def long_waits(self) -> pd.DataFrame | None:
        return long_waits(self.messages, self.reply_rounds) if self.timed else None

    @finding
    def platform_metrics(self) -> pd.DataFrame | None:
        return platform_metrics(self.messages, self.recipes, rounds=self.reply_rounds) if self.timed else None

    @finding
    def politeness(self) -> pd.DataFrame:
        checks = politeness_checks(self.messages, self.hits, self.complaint_sessions, self.long_waits,
                                   sessions=self._sessions)
        self._done_with_sessions("process")
        return checks

    @finding
    def process(self) -> pd.DataFrame:
        checks = process_checks(self.messages, self.hits, self.complaint_sessions, rulebook=self.rulebook,
                                sessions=self._sessions)
        self._done_with_sessions("politeness")
        return checks

    @cached_property
    def _sessions(self) -> SessionData:
        """The sessions as the politeness and process checks read them, with the hits, complaint
        sessions and long waits: built once for both, with the phrase matches they share."""
        return SessionData(self.messages, self.hits, self.complaint_sessions, self.long_waits,
                           extra={"rulebook": self.rulebook, "blocks": self._blocks})

    @cached_property
    def _blocks(self) -> SharedBlocks:
        """The messages' texts normalised once for every finding that scans the same messages (each
        side's: agents' by the phrase hits, contact reasons and process checks; customers' by the
        complaint signals, contact reasons and process checks)."""
        return SharedBlocks(self.messages["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__().combine_chunks())

    def _done_with_sessions(self, other: str) -> None:
        """Let the shared ``_sessions`` (a sorted copy of the messages and the phrase matches) and ``_blocks`` go once
        the ``other`` of the two checks that read it has been computed too."""
        stored = self.__dict__.get("_stored") or {}
        if other in self.__dict__ or other in stored:
            self.__dict__.pop("_sessions", None)
            self.__dict__.pop("_blocks", None)

    def part(self, rows) -> "Findings":
        """The findings of the messages at positions ``rows`` (whole sessions; a slice is not copied) under
        the same layers."""
        return Findings(self.messages.iloc[rows].reset_index(drop=True), rulebook=self.rulebook, taxonomy=self.taxonomy,
                        recipes=self.recipes, scorecard=self.scorecard, engine=self.engine, workers=1)

    def compute(self, names=None) -> "Findings":
        """Compute ``names`` (default: every finding) now, in ``workers`` processes when that pays
        (``partitions.resolve_workers``; each process takes whole sessions and buyers, and the parts are
        combined into the tables one process gives, each when it is first asked for). Returns self."""
        from .partitions import compute_in_processes, resolve_workers

        stored = self.__dict__.get("_stored") or {}
        wanted = [name for name in (names or FINDINGS) if name not in self.__dict__ and name not in stored]
        if not wanted:                 # nothing left: no worker planning (it reads every session id)
            return self
        workers = resolve_workers(self.workers, len(self.messages), self.messages)
        if workers > 1:
            results = compute_in_processes(self, workers, wanted)
            self.__dict__.update({name: value for name, value in results.items() if not callable(value)})
            self._stored = {**stored, **{name: value for name, value in results.items() if callable(value)}}
        for name in wanted:
            if name not in self.__dict__.get("_stored", {}):     # the workers' parts are combined when asked
                getattr(self, name)
        return self

    def computed(self) -> list[str]:
        """The findings computed or read so far (or stored and read when first asked)."""
        stored = self.__dict__.get("_stored") or {}
        return [name for name in FINDINGS if name in self.__dict__ or name in stored]

    # ------------------------------------------------------------------------------ storing ---
    def key(self) -> dict:
        """What the findings depend on: the messages (count and a hash of their ids) and the layers."""
        return {"messages": len(self.messages),
                "message_ids_hash": str(ids_hash(self.messages) & (2**63 - 1)),
                "rulebook": self.rulebook.version, "taxonomy": self.taxonomy.version,
                "recipes": str(self.recipes.get("version"))}

    def save(self, folder: str | Path, names=None) -> Path:
        """Compute ``names`` (default: every finding) and write each as ``<folder>/<name>.parquet``, with
        ``findings.json`` saying what they were computed from. Returns the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.compute(names)
        stored = {}
        for name in names or FINDINGS:
            value = getattr(self, name)
            if value is None:
                stored[name] = None
                continue
            value.to_parquet(folder / f"{name}.parquet", index=False)
            stored[name] = f"{name}.parquet"
        manifest = {"key": self.key(), "findings": stored, "about": {n: FINDINGS[n] for n in stored}}
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        return folder

    @classmethod
    def read(cls, folder: str | Path, messages: pd.DataFrame, **layers) -> "Findings":
        """The findings of ``messages`` under ``layers`` (as ``analyze`` takes them): read from ``folder``
        when it holds findings of these messages under these layers, else computed when asked (a
        warning says why the stored ones were not used)."""
        found = cls(messages, **layers)
        path = Path(folder) / MANIFEST
        if not path.is_file():
            warnings.warn(f"{folder}: no stored findings ({MANIFEST}); computing them here", stacklevel=2)
            return found
        manifest = json.loads(path.read_text(encoding="utf-8"))
        stored_key, key = manifest.get("key", {}), found.key()
        changed = sorted(k for k in key if stored_key.get(k) != key[k])
        if changed:
            warnings.warn(f"{folder}: the stored findings were computed from other {', '.join(changed)}; "
                          "computing them here", stacklevel=2)
            return found
        found._stored = {name: None if file is None else Path(folder) / file
                         for name, file in manifest.get("findings", {}).items() if name in FINDINGS}
        return found


def _read_table(path: Path, name: str) -> pd.DataFrame:
    """A stored finding: one Parquet file, or a folder of parts written by Dask workers (put back in
    the order the pandas path gives)."""
    files = sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]
    frames = [_read_file(file) for file in files]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if not path.is_dir():
        return frame
    from .partitions import order_by_session

    return order_by_session(frame, name)


def _read_file(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    lists = [field.name for field in schema if pa.types.is_list(field.type) or pa.types.is_large_list(field.type)]
    if not lists:
        return pd.read_parquet(path)
    frame = pd.read_parquet(path, columns=[name for name in schema.names if name not in lists])   # each column read once
    table = pq.read_table(path, columns=lists)
    for column in lists:
        frame[column] = _tuples(table.column(column).combine_chunks())
    return frame[[name for name in schema.names if name in frame.columns]]


def _tuples(values) -> np.ndarray:
    """An Arrow list column as the tuples the findings hold (missing stays None), one tuple built per
    distinct value: a million rows hold a few hundred distinct label tuples."""
    import pyarrow as pa
    import pyarrow.compute as pc

    as_text = values.cast(pa.list_(pa.string()))
    keys = pc.binary_join_element_wise(pc.cast(pc.list_value_length(as_text), pa.string()),
                                       pc.binary_join(as_text, "\x1f"), "\x1e")
    codes, uniques = pd.factorize(np.asarray(keys.to_numpy(zero_copy_only=False), dtype=object), use_na_sentinel=True)
    first = np.full(len(uniques), -1, dtype=np.int64)
    present = np.flatnonzero(codes >= 0)
    first[codes[present][::-1]] = present[::-1]
    distinct = np.empty(len(uniques) + 1, dtype=object)          # the last slot: a missing value
    for slot, row in enumerate(first):                           # one per distinct tuple, not per row
        distinct[slot] = tuple(values[int(row)].as_py())
    return distinct[np.where(codes >= 0, codes, len(uniques))]


def _restore(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A stored finding as it was computed: category labels as the objects the findings hold (Parquet
    gives strings) and dates as dates (Parquet gives timestamps); list columns are tuples already
    (``_tuples``)."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):   # the findings keep categories as objects
            categories = frame[column].cat.categories
            frame[column] = frame[column].cat.rename_categories(pd.Index(categories.tolist(), dtype=object))
    if name == "politeness" and "day" in frame.columns:
        days = pd.to_datetime(frame["day"])
        frame["day"] = pd.Series(days.dt.date.to_numpy(dtype=object), index=frame.index).where(days.notna(), frame["day"])
    return frame
