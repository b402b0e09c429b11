"""All findings of one messages table in one object, each computed at most once and only when asked.

``analyze(messages, rulebook=…, taxonomy=…, recipes=…)`` returns a ``Findings``; reading
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
from .complaints import Taxonomy, classify_complaints, complaint_signals, label_messages, load_taxonomy
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
                 engine: str = "auto"):
        self.messages = as_messages(messages)
        self.rulebook: Rulebook = _layer(rulebook, load_rulebook, Rulebook)
        self.taxonomy: Taxonomy = _layer(taxonomy, load_taxonomy, Taxonomy)
        self.recipes: dict = recipes if isinstance(recipes, dict) else load_recipes(recipes)
        self.scorecard = scorecard
        self.engine = engine
        self.timed = has_times(self.messages)

    # ---------------------------------------------------------------------------- findings ---
    @cached_property
    def hits(self) -> pd.DataFrame:
        return find_violations(self.messages, self.rulebook, engine=self.engine)

    @cached_property
    def complaint_signals(self) -> pd.DataFrame:
        return complaint_signals(self.messages, self.taxonomy)

    @cached_property
    def message_labels(self) -> pd.DataFrame:
        return label_messages(self.messages, self.complaint_signals, self.taxonomy)

    @cached_property
    def complaint_sessions(self) -> pd.DataFrame:
        return classify_complaints(self.messages, self.taxonomy, signals=self.complaint_signals)

    @cached_property
    def owners(self) -> pd.DataFrame:
        return session_owner(self.messages).reset_index()

    @cached_property
    def reply_rounds(self) -> pd.DataFrame | None:
        return reply_rounds(self.messages) if self.timed else None

    @cached_property
    def session_times(self) -> pd.DataFrame | None:
        return session_times(self.messages, self.reply_rounds) if self.timed else None

    @cached_property
    def long_waits(self) -> pd.DataFrame | None:
        return long_waits(self.messages, self.reply_rounds) if self.timed else None

    @cached_property
    def platform_metrics(self) -> pd.DataFrame | None:
        return platform_metrics(self.messages, self.recipes) if self.timed else None

    @cached_property
    def politeness(self) -> pd.DataFrame:
        return politeness_checks(self.messages, self.hits, self.complaint_sessions, self.long_waits,
                                 sessions=self._sessions)

    @cached_property
    def process(self) -> pd.DataFrame:
        return process_checks(self.messages, self.hits, self.complaint_sessions, rulebook=self.rulebook,
                              sessions=self._sessions)

    @cached_property
    def _sessions(self) -> SessionData:
        """The sessions as the politeness and process checks read them, with the hits, complaint
        sessions and long waits: built once for both, with the phrase matches they share."""
        return SessionData(self.messages, self.hits, self.complaint_sessions, self.long_waits,
                           extra={"rulebook": self.rulebook})

    def computed(self) -> list[str]:
        """The findings computed (or read) so far."""
        return [name for name in FINDINGS if name in self.__dict__]

    # ------------------------------------------------------------------------------ storing ---
    def key(self) -> dict:
        """What the findings depend on: the messages (count and a hash of their ids) and the layers."""
        ids = self.messages["message_id"].astype(str)
        return {"messages": len(self.messages),
                "message_ids_hash": str(int(pd.util.hash_pandas_object(ids, index=False).sum()) & (2**63 - 1)),
                "rulebook": self.rulebook.version, "taxonomy": self.taxonomy.version,
                "recipes": str(self.recipes.get("version"))}

    def save(self, folder: str | Path, names=None) -> Path:
        """Compute ``names`` (default: every finding) and write each as ``<folder>/<name>.parquet``, with
        ``findings.json`` saying what they were computed from. Returns the folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
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
        for name, file in manifest.get("findings", {}).items():
            if name in FINDINGS:
                found.__dict__[name] = None if file is None else _restore(pd.read_parquet(Path(folder) / file), name)
        return found


def _restore(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """A stored finding as it was computed: Parquet gives lists back as arrays (the findings hold
    tuples), category labels as strings (the findings hold objects) and dates as timestamps."""
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):   # the findings keep categories as objects
            categories = frame[column].cat.categories
            frame[column] = frame[column].cat.rename_categories(pd.Index(categories.tolist(), dtype=object))
        elif frame[column].dtype == object:
            values = frame[column].dropna()
            if len(values) and isinstance(values.iloc[0], np.ndarray):
                frame[column] = frame[column].map(lambda v: tuple(v.tolist()) if isinstance(v, np.ndarray) else v)
    if name == "politeness" and "day" in frame.columns:
        frame["day"] = frame["day"].map(lambda d: d if pd.isna(d) else pd.Timestamp(d).date())
    return frame


def analyze(messages, *, rulebook=None, taxonomy=None, recipes=None, scorecard=None, engine: str = "auto") -> Findings:
    """The findings of ``messages`` (a messages table, or a ``LoadResult``), each computed once when
    first asked: ``hits``, ``complaint_signals``, ``message_labels``, ``complaint_sessions``, ``owners``,
    ``reply_rounds``, ``session_times``, ``long_waits``, ``platform_metrics``, ``politeness``, ``process``.

    ``rulebook``/``taxonomy``: a loaded object, your YAML layer path(s) (laid on the packaged
    defaults), or None for the defaults. ``recipes``: a recipe file or dict. ``scorecard``: carried
    for the scorecard tables."""
    messages = getattr(messages, "messages", messages)
    return Findings(messages, rulebook=rulebook, taxonomy=taxonomy, recipes=recipes, scorecard=scorecard,
                    engine=engine)
