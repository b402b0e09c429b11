"""Complaint types, escalation threats and temperament signals in customer messages.

The taxonomy is data (``resources/complaints/``): ``taxonomy.yaml`` (types, complaint cues),
``escalation.yaml`` (threat signals, negations, exceptions) and ``temperament.yaml`` (anger,
compensation demands, talkative thresholds). ``load_taxonomy(*paths)`` lays user files on top.

How a customer message is labelled (``complaint_signals``), every finding with its evidence
(message id, label, matched text, span):

- **complaint types**: a type's *phrase* or *regex* marks the message (质量问题, 还没发货). A type's
  *term* (发票, 快递) marks it only with a complaint *cue* (还没, 错了, 不了 …) in the same clause
  (clauses end at ，。！？;) or in the next clause when that one names no topic of its own
  (物流显示在派送，一天了还没送到); a term without a cue is an *inquiry* about the topic (能开发票吗), and a
  term in a clause that already holds a phrase is ignored (付款三天了还没发货 is a shipping
  complaint, not a payment one). An *exception* phrase of the type covering the match cancels it.
  Of overlapping matches of one type, the longest is kept.
- **escalation**: a signal (投诉, 12315, 差评, 曝光 …) unless a negator (不会, 不是 …) stands up to
  ``negation_window`` characters before it in the same clause (我不会给差评的), or an exception
  covers it (看到差评说…).
- **temperament** (documented heuristics about messages, not judgments of people): *anger*
  (phrases such as 气死, or ``!!``/``??`` runs), *compensation* demands (赔偿, 退一赔三), and per
  session *talkative* (many messages, long bursts, long or repeated messages).

How a session is classified (``classify_complaints``):

- ``primary`` is the complaint type raised in the most customer messages of the session; a tie goes
  to the type raised first. ``secondary`` lists the other types (most messages first).
- ``is_complaint``: a type was raised, a *problem statement* (taxonomy.yaml ``problems``: 没收到, 少了,
  这么慢) was made, or the buyer threatened escalation, demanded compensation or was angry. A complaint
  without a type takes the session's contact reason as its primary (``other`` when that is unknown).
  A session that is not a complaint has no primary; the topics it asked about are in ``inquiry``.
- ``contact_reason`` is what the buyer contacted the shop about, complaint or not: every type is
  scored by its evidence in the session (complaint and inquiry findings in the buyer's messages, the
  buyer's opening messages counting more, and the type's ``agent_terms`` in the agent's replies, since
  the answer often names the topic: 退款原路返回 → return_refund); the best-scored type is the reason,
  the runner-up with at least ``secondary_share`` of its score is ``contact_secondary``, and a session
  with no evidence at all is ``other``. Weights are data (taxonomy.yaml ``contact_reason``).
"""
from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..base.arrays import ranges
from ..base import config
from ..base.layering import layer_files, read_layer
from ..base.schema import as_messages
from ..textmatch.engines import Matches, PhraseSet, drop_nested, select
from ..textmatch.prefilter import candidate_spans, required_literals
from ..textmatch.safe_regex import check_regex
from ..textmatch.normalize import SharedBlocks, TextSpans, normalize_block
from .sessions import session_owner

COMPLAINT_DIR = config.RESOURCES_DIR / "complaints"
TYPE_FIELDS = {"id", "label", "phrases", "terms", "regex", "term_regex", "exceptions", "exception_regex", "agent_terms",
               "source", "note"}
TOP_LEVEL = {"types", "cues", "problems", "clause_breaks", "source_note", "contact_reason", "kinds", "negators",
             "negation_window", "exceptions", "source", "anger", "compensation", "talkative", "escalation", "temperament"}
SIGNAL_COLUMNS = ("message_id", "session_id", "seq", "ts", "platform", "shop", "family", "label", "matched",
                  "start", "end", "via", "cue")
FAMILIES = ("complaint", "inquiry", "problem", "escalation", "anger", "compensation")
# families found by their own phrase/regex/exception lists: problem statements (taxonomy.yaml ``problems``)
# and the temperament signals (temperament.yaml)
PLAIN_FAMILIES = ("problem", "anger", "compensation")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class TaxonomyError(ValueError):
    """A taxonomy file is wrong; the message names the file, entry and what to fix."""


@dataclass(frozen=True)
class ComplaintType:
    """One complaint type: its phrases, terms (need a cue), regexes and exceptions, with a source."""

    id: str
    label: str
    phrases: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    term_regex: tuple[str, ...] = ()      # like ``terms``, as regexes (改…地址): a topic, a complaint only with a cue
    exceptions: tuple[str, ...] = ()
    exception_regex: tuple[str, ...] = ()
    agent_terms: tuple[str, ...] = ()     # words in the agent's replies that name the topic (contact reason)
    source: str = ""
    note: str = ""


def _plain_family(label: str) -> dict:
    """An empty phrase family (problem statements, anger, compensation) before the files fill it."""
    return {"label": label, "phrases": [], "regex": [], "exceptions": []}


CONTACT_DEFAULTS = {"weights": {"complaint": 3.0, "inquiry": 2.0, "agent": 1.0}, "opening_messages": 2,
                    "opening_factor": 2.0, "secondary_share": 0.5, "other_phrases": {"customer": [], "agent": []}}


@dataclass(frozen=True, eq=False)
class Taxonomy:
    """Complaint types, cues, escalation signals and temperament heuristics (see module docstring)."""

    types: tuple[ComplaintType, ...]
    cues: tuple[str, ...]
    cue_regex: tuple[str, ...]
    escalation_kinds: dict            # kind → {"label", "phrases"}
    negators: tuple[str, ...]
    negation_window: int
    escalation_exceptions: tuple[str, ...]
    temperament: dict                 # anger / compensation: {"label", "phrases", "regex", "exceptions"}; talkative: thresholds
    clause_breaks: str = ""           # characters that end a clause (folded text); "" = the whole message
    problems: dict = field(default_factory=lambda: _plain_family("problem"))
    files: tuple[str, ...] = field(default=())
    contact: dict = field(default_factory=lambda: copy.deepcopy(CONTACT_DEFAULTS))   # contact-reason scoring

    @cached_property
    def ids(self) -> list[str]:
        return [t.id for t in self.types]

    @cached_property
    def labels(self) -> dict[str, str]:
        """Type id → Chinese label (escalation kinds included)."""
        out = {t.id: t.label for t in self.types}
        out.update({k: v["label"] for k, v in self.escalation_kinds.items()})
        out.update({k: self.temperament[k]["label"] for k in ("anger", "compensation")})
        out["problem"] = self.problems["label"]
        return out

    def label(self, type_id) -> str:
        """The Chinese label of a type (or escalation kind, temperament signal) id; an unknown id as it is."""
        return self.labels.get(type_id, type_id)

    @cached_property
    def version(self) -> str:
        """A short hash of the taxonomy files' contents (for run manifests)."""
        digest = hashlib.sha256()
        for name in self.files:
            digest.update(Path(name).read_bytes())
        return digest.hexdigest()[:12]

    def by_id(self, type_id: str) -> ComplaintType:
        for t in self.types:
            if t.id == type_id:
                return t
        raise KeyError(f"no complaint type {type_id!r}; the taxonomy has {self.ids}")

    def vocabulary(self) -> list[str]:
        """Every phrase and term of the types, and the cues (for the tokenizer's domain dictionary)."""
        return [w for t in self.types for w in (*t.terms, *t.phrases)] + list(self.cues)

    def table(self) -> pd.DataFrame:
        """One row per type: id, label, counts of phrases/terms/regexes/exceptions, source."""
        return pd.DataFrame([{
            "type": t.id, "label": t.label, "phrases": len(t.phrases), "terms": len(t.terms),
            "regex": len(t.regex), "exceptions": len(t.exceptions) + len(t.exception_regex), "source": t.source,
        } for t in self.types]).set_index("type")

    @cached_property
    def _phrase_set(self) -> PhraseSet:
        entries = []
        for i, t in enumerate(self.types):
            entries += [(("phrase", i), p) for p in t.phrases]
            entries += [(("term", i), p) for p in t.terms]
            entries += [(("type_exception", i), p) for p in t.exceptions]
        entries += [(("cue", -1), p) for p in self.cues]
        kinds = list(self.escalation_kinds)
        for k, kind in enumerate(kinds):
            entries += [(("escalation", k), p) for p in self.escalation_kinds[kind]["phrases"]]
        entries += [(("escalation_exception", -1), p) for p in self.escalation_exceptions]
        entries += [(("negator", -1), p) for p in self.negators]
        for family in PLAIN_FAMILIES:
            spec = self._plain(family)
            entries += [((family, -1), p) for p in spec.get("phrases", [])]
            entries += [((family + "_exception", -1), p) for p in spec.get("exceptions", [])]
        # the literals every match of a regex holds: where none of a set is, that regex is not scanned
        entries += [(("literal", number), p) for number, (_, literals) in enumerate(self._regex_literal_sets)
                    for p in literals]
        return PhraseSet(entries)

    @cached_property
    def _regex_literal_sets(self) -> list[tuple[int, tuple[str, ...]]]:
        """(index into ``_regexes``, literals) for each set of literals of which every match of that regex
        holds one (``prefilter.required_literals``) and that the phrase scan finds wherever they stand; sets
        with a single character are left out (a common character tells little, and costs a pass of its own)."""
        return [(number, literals) for number, (_, pattern) in enumerate(self._regexes)
                for literals in required_literals(pattern.pattern)
                if all(len(p) > 1 and PhraseSet.finds_every(p) for p in literals)]

    @cached_property
    def _phrase_codes(self) -> tuple[np.ndarray, np.ndarray]:
        """Per entry of ``_phrase_set``: its kind (index into ``RAW_KINDS``; -1 for a regex's literal) and
        index (the type or escalation kind; for a regex's literal, its set in ``_regex_literal_sets``)."""
        labels = self._phrase_set.labels
        return (np.array([_KIND.get(kind, -1) for kind, _ in labels], dtype=np.int64),
                np.array([index for _, index in labels], dtype=np.int64))

    @cached_property
    def _contact_phrase_set(self) -> PhraseSet | None:
        """The agent's topic words (("agent", type index)) and the words that mark a non-buyer session
        (("other", role)), found in one pass over the session's messages."""
        entries = [(("agent", i), p) for i, t in enumerate(self.types) for p in t.agent_terms]
        entries += [(("other", role), p) for role, phrases in self.contact["other_phrases"].items() for p in phrases]
        return PhraseSet(entries) if entries else None

    @cached_property
    def _buyer_marks(self) -> PhraseSet | None:
        """The words that mark a non-buyer session in the customer's messages (those of ``_contact_phrase_set``)."""
        phrases = self.contact["other_phrases"]["customer"]
        return PhraseSet([(("other", "customer"), p) for p in phrases]) if phrases else None

    @cached_property
    def _regexes(self) -> list[tuple[tuple[str, int], re.Pattern]]:
        out = []
        for i, t in enumerate(self.types):
            out += [(("phrase", i), re.compile(p)) for p in t.regex]
            out += [(("term", i), re.compile(p)) for p in t.term_regex]
            out += [(("type_exception", i), re.compile(p)) for p in t.exception_regex]
        out += [(("cue", -1), re.compile(p)) for p in self.cue_regex]
        for family in PLAIN_FAMILIES:
            out += [((family, -1), re.compile(p)) for p in self._plain(family).get("regex", [])]
        return out

    def _plain(self, family: str) -> dict:
        return self.problems if family == "problem" else self.temperament[family]


# ------------------------------------------------------------------------------------ loading ---
def _read(path: Path) -> dict:
    data = read_layer(path, TaxonomyError, "taxonomy", "keys such as 'types', 'cues'")
    unknown = set(data) - TOP_LEVEL
    if unknown:
        raise TaxonomyError(f"{path}: unknown top-level key(s) {sorted(unknown)}; allowed: {sorted(TOP_LEVEL)}")
    return data


def _strings(value, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, (str, int)) or not str(item).strip():
            raise TaxonomyError(f"{where}: {key} must be a list of non-empty strings; found {item!r}")
    return tuple(str(i) for i in items)


def _regexes(value, where: str, key: str) -> tuple[str, ...]:
    patterns = _strings(value, where, key)
    for p in patterns:
        try:
            check_regex(p)
        except ValueError as exc:
            raise TaxonomyError(f"{where}: {key}: {exc}") from None
    return patterns


def _build_type(entry: dict, path: Path, base: ComplaintType | None) -> ComplaintType:
    if not isinstance(entry, dict) or "id" not in entry:
        raise TaxonomyError(f"{path}: every entry under 'types' needs an 'id'; found {entry!r}")
    type_id = str(entry["id"])
    where = f"{path}, type {type_id!r}"
    if not _ID.match(type_id):
        raise TaxonomyError(f"{where}: ids are lower-case ASCII with underscores (like 'return_refund')")
    unknown = set(entry) - TYPE_FIELDS
    if unknown:
        raise TaxonomyError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(TYPE_FIELDS)}")
    values = {} if base is None else dict(base.__dict__)
    values["id"] = type_id
    for key in ("phrases", "terms", "exceptions", "agent_terms"):
        if key in entry:
            values[key] = _strings(entry[key], where, key)
    for key in ("regex", "term_regex", "exception_regex"):
        if key in entry:
            values[key] = _regexes(entry[key], where, key)
    for key in ("label", "source", "note"):
        if key in entry:
            values[key] = str(entry[key]).strip()
    values.setdefault("label", type_id)
    if not values.get("source"):
        raise TaxonomyError(f"{where}: every type needs a 'source' (the seed document or standard it comes from)")
    if type_id != "other" and not (values.get("phrases") or values.get("terms") or values.get("regex")
                                   or values.get("term_regex")):
        raise TaxonomyError(f"{where}: a type needs phrases, terms or regex to be found at all")
    return ComplaintType(**values)


def default_taxonomy_files() -> list[Path]:
    """The packaged taxonomy files, in load order."""
    return [COMPLAINT_DIR / name for name in ("taxonomy.yaml", "escalation.yaml", "temperament.yaml")]


def load_taxonomy(*paths: str | Path, defaults: bool = True) -> Taxonomy:
    """Load the complaint taxonomy: the packaged files, then each user file in order.

    A user file may hold ``types`` (a new id adds a type; an existing id replaces the fields it
    lists), ``cues`` (``phrases``/``regex`` added), ``escalation`` (``kinds`` phrases added,
    ``negators``, ``exceptions`` added, ``negation_window``) and ``temperament`` (``anger`` /
    ``compensation`` phrases added; ``talkative`` thresholds replaced).
    """
    return _load(*layer_files(default_taxonomy_files(), paths, defaults))


@lru_cache(maxsize=16)
def _load(files: tuple[str, ...], _mtimes: tuple[int, ...]) -> Taxonomy:
    types: dict[str, ComplaintType] = {}
    cues: list[str] = []
    cue_regex: list[str] = []
    kinds: dict[str, dict] = {}
    negators: list[str] = []
    window = 6
    clause_breaks = Taxonomy.clause_breaks
    problems = _plain_family("problem")
    esc_exceptions: list[str] = []
    contact = copy.deepcopy(CONTACT_DEFAULTS)
    temperament: dict = {"anger": _plain_family("anger"), "compensation": _plain_family("compensation"), "talkative": {}}
    for name in files:
        path = Path(name)
        data = _read(path)
        for entry in data.get("types") or []:
            base = types.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            t = _build_type(entry, path, base)
            types[t.id] = t
        if "cues" in data:
            spec = data["cues"] or {}
            cues += _strings(spec.get("phrases"), f"{path}, cues", "phrases")
            cue_regex += _regexes(spec.get("regex"), f"{path}, cues", "regex")
        escalation = data.get("escalation", data if "kinds" in data else {})
        for kind, spec in (escalation.get("kinds") or {}).items():
            if not _ID.match(str(kind)):
                raise TaxonomyError(f"{path}, escalation kind {kind!r}: ids are lower-case ASCII with underscores")
            entry = kinds.setdefault(kind, {"label": kind, "phrases": []})
            entry["label"] = str((spec or {}).get("label", entry["label"]))
            entry["phrases"] = entry["phrases"] + list(_strings((spec or {}).get("phrases"), f"{path}, escalation {kind}", "phrases"))
        negators += _strings(escalation.get("negators"), f"{path}, escalation", "negators")
        esc_exceptions += _strings(escalation.get("exceptions"), f"{path}, escalation", "exceptions")
        if "negation_window" in escalation:
            window = int(escalation["negation_window"])
        section = data.get("temperament", data if ("anger" in data or "talkative" in data) else {})
        for family in ("anger", "compensation"):
            spec = section.get(family)
            if spec:
                where = f"{path}, temperament {family}"
                target = temperament[family]
                target["label"] = str(spec.get("label", target["label"]))
                target["phrases"] = target["phrases"] + list(_strings(spec.get("phrases"), where, "phrases"))
                target["regex"] = target["regex"] + list(_regexes(spec.get("regex"), where, "regex"))
                target["exceptions"] = target["exceptions"] + list(_strings(spec.get("exceptions"), where, "exceptions"))
        if section.get("talkative"):
            talk = dict(section["talkative"])
            for key, value in talk.items():
                if key in ("label", "source"):
                    continue
                if not isinstance(value, int) or value < 1:
                    raise TaxonomyError(f"{path}, temperament talkative: {key} must be a positive whole number; found {value!r}")
            temperament["talkative"] = {**temperament["talkative"], **talk}
        if "clause_breaks" in data:
            clause_breaks = str(data["clause_breaks"])
        if data.get("problems"):
            spec, where = data["problems"], f"{path}, problems"
            problems = {"label": str(spec.get("label", problems["label"])),
                        "phrases": problems["phrases"] + list(_strings(spec.get("phrases"), where, "phrases")),
                        "regex": problems["regex"] + list(_regexes(spec.get("regex"), where, "regex")),
                        "exceptions": problems["exceptions"] + list(_strings(spec.get("exceptions"), where, "exceptions"))}
        if data.get("contact_reason"):
            contact = _contact_settings(data["contact_reason"], contact, path)
    if not types:
        raise TaxonomyError(f"{files}: no complaint types defined")
    if "other" not in types:
        types["other"] = ComplaintType(id="other", label="其他投诉", source="cs_analytics default")
    # ``other`` is last: it is never matched, only given to complaint sessions without a type
    ordered = [t for k, t in types.items() if k != "other"] + [types["other"]]
    return Taxonomy(types=tuple(ordered), cues=tuple(dict.fromkeys(cues)), cue_regex=tuple(cue_regex),
                    escalation_kinds=kinds, negators=tuple(dict.fromkeys(negators)), negation_window=window,
                    escalation_exceptions=tuple(dict.fromkeys(esc_exceptions)), temperament=temperament,
                    clause_breaks=clause_breaks, problems=problems, files=files, contact=contact)


def _contact_settings(spec, current: dict, path: Path) -> dict:
    """Validate a ``contact_reason`` section and lay it over ``current``."""
    where = f"{path}, contact_reason"
    if not isinstance(spec, dict):
        raise TaxonomyError(f"{where}: a mapping with weights, opening_messages, opening_factor, secondary_share")
    out = copy.deepcopy(current)
    for role, phrases in (spec.get("other_phrases") or {}).items():
        if role not in out["other_phrases"]:
            raise TaxonomyError(f"{where}: other_phrases are listed by role: customer, agent; found {role!r}")
        out["other_phrases"][role] += list(_strings(phrases, where, f"other_phrases.{role}"))
    for key, value in (spec.get("weights") or {}).items():
        if key not in out["weights"] or not isinstance(value, (int, float)) or value < 0:
            raise TaxonomyError(f"{where}: weights are non-negative numbers for {sorted(out['weights'])}; found {key}: {value!r}")
        out["weights"][key] = float(value)
    for key in ("opening_messages", "opening_factor", "secondary_share"):
        if key in spec:
            value = spec[key]
            if not isinstance(value, (int, float)) or value < 0:
                raise TaxonomyError(f"{where}: {key} must be a non-negative number; found {value!r}")
            out[key] = value
    return out


# ---------------------------------------------------------------------------------- signals ---
def _customer_messages(messages: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The customers' messages, only ``columns`` of them (cheaper than copying every column)."""
    return messages[columns][(messages["role"] == "customer").to_numpy(dtype=bool, na_value=False)]


def _arrow_text(frame: pd.DataFrame):
    return frame["text"].astype(pd.StringDtype("pyarrow")).array.__arrow_array__()


def _normalized(frame: pd.DataFrame, rows: np.ndarray, blocks: SharedBlocks | None):
    """The texts of ``frame`` at ``rows`` normalised: from ``blocks`` (the same table's) when at hand."""
    return normalize_block(_arrow_text(frame).take(rows)) if blocks is None else blocks.block(rows)


# the kinds of raw match (``_raw_findings``), the families and ways of finding as small integer codes
RAW_KINDS = ("phrase", "term", "type_exception", "cue", "escalation", "escalation_exception", "negator",
             *(kind for family in PLAIN_FAMILIES for kind in (family, family + "_exception")))
VIAS = ("phrase", "regex", "term+cue", "term")
_KIND = {kind: code for code, kind in enumerate(RAW_KINDS)}


def _raw_findings(block, taxonomy: Taxonomy) -> Matches:
    """Every phrase and regex match, as arrays: msg, kind (index into ``RAW_KINDS``), index (the type
    or escalation kind), start, end (spans in the original text) and regex (found by a regex)."""
    found = taxonomy._phrase_set.find(block)
    kinds, indexes = taxonomy._phrase_codes
    kind, index = kinds[found["entry"]], indexes[found["entry"]]
    phrase = kind >= 0
    parts = [{"msg": found["msg"][phrase], "kind": kind[phrase], "index": index[phrase], "start": found["start"][phrase],
              "end": found["end"][phrase], "regex": np.zeros(int(phrase.sum()), dtype=bool)}]
    candidates = _regex_candidates(found["msg"][~phrase], index[~phrase], taxonomy)
    for number, ((kind, index), pattern) in enumerate(taxonomy._regexes):
        spans = candidate_spans(block, pattern, candidates.get(number))
        if len(spans):
            msg, start, end, _ = block.locate_folded(spans[:, 0], spans[:, 1])
            parts.append({"msg": msg, "kind": np.full(len(msg), _KIND[kind]), "index": np.full(len(msg), index),
                          "start": start, "end": end, "regex": np.ones(len(msg), dtype=bool)})
    return {k: np.concatenate([p[k] for p in parts]).astype(bool if k == "regex" else np.int64) for k in parts[0]}


def _regex_candidates(msg: np.ndarray, literal_set: np.ndarray, taxonomy: Taxonomy) -> dict[int, np.ndarray]:
    """Per regex (index into ``taxonomy._regexes``) with required literals: the messages holding one of
    each of its sets (ascending), from the phrase scan's matches of those literals (``msg``, ``literal_set``)."""
    order = np.argsort(literal_set, kind="stable")
    bounds = np.searchsorted(literal_set[order], np.arange(len(taxonomy._regex_literal_sets) + 1))
    out: dict[int, np.ndarray] = {}
    for number, (regex, _) in enumerate(taxonomy._regex_literal_sets):
        holding = np.unique(msg[order[bounds[number]:bounds[number + 1]]])
        out[regex] = holding if regex not in out else np.intersect1d(out[regex], holding, assume_unique=True)
    return out


def _clause_ids(block, raw: Matches, clause_breaks: str) -> np.ndarray:
    """A clause number for each match (clauses end at sentence punctuation in the folded text)."""
    codes = np.frombuffer(block.folded.encode("utf-32-le"), dtype=np.uint32)
    breaks = np.flatnonzero(np.isin(codes, [ord(c) for c in clause_breaks]))
    return np.searchsorted(breaks, block.starts[raw["msg"]] + raw["start"], side="left")


def _by_kind(raw: Matches) -> dict[str, Matches]:
    """The raw matches of each kind (``RAW_KINDS``), in their order."""
    ordered = select(raw, np.argsort(raw["kind"], kind="stable"))
    bounds = np.searchsorted(ordered["kind"], np.arange(len(RAW_KINDS) + 1))
    return {kind: {k: v[bounds[i]:bounds[i + 1]] for k, v in ordered.items()} for i, kind in enumerate(RAW_KINDS)}


def _key(hits: Matches, columns: tuple[str, ...]) -> np.ndarray:
    """One number per row for its values of ``columns`` (non-negative, each below 2**31)."""
    key = np.zeros(len(hits["msg"]), dtype=np.int64)
    for column in columns:
        key = key * (1 << 31) + hits[column]
    return key


def _lookup(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Where each of ``wanted`` is in ``keys`` (distinct values), -1 where it is not."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(keys)
    at = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    return np.where(keys[order][at] == wanted, order[at], -1)


def _covered(hits: Matches, covers: Matches, columns: tuple[str, ...]) -> np.ndarray:
    """True for each hit that a cover (equal ``columns``) spans entirely."""
    if not len(hits["msg"]) or not len(covers["msg"]):
        return np.zeros(len(hits["msg"]), dtype=bool)
    cover_key = _key(covers, columns)
    order = np.argsort(cover_key, kind="stable")
    cover_key = cover_key[order]
    hit_key = _key(hits, columns)
    low, high = np.searchsorted(cover_key, hit_key, "left"), np.searchsorted(cover_key, hit_key, "right")
    hit = np.repeat(np.arange(len(hit_key)), high - low)
    cover = order[np.repeat(low, high - low) + ranges(high - low)]
    inside = (covers["start"][cover] <= hits["start"][hit]) & (covers["end"][cover] >= hits["end"][hit])
    return np.bincount(hit[inside], minlength=len(hit_key)) > 0


def _keep_longest(hits: Matches, group: np.ndarray) -> Matches:
    """Of overlapping matches of one ``group`` value (a label's code) in one message keep the longest
    (ties: the earliest), in their order."""
    if not len(group):
        return hits
    kept = drop_nested({"msg": hits["msg"], "rule": group, "start": hits["start"], "end": hits["end"],
                        "row": np.arange(len(group))}, np.arange(int(group.max()) + 1, dtype=np.int64))
    return select(hits, np.sort(kept["row"]))


def _findings(hits: Matches, family: str, label: np.ndarray, via, cue_start=-1, cue_end=-1) -> Matches:
    """``hits`` as findings: msg, start, end, family (index into ``FAMILIES``), label (code into
    ``_label_names``), via (index into ``VIAS``), cue_start, cue_end."""
    n = len(hits["msg"])
    return {"msg": hits["msg"], "start": hits["start"], "end": hits["end"],
            "family": np.full(n, FAMILIES.index(family)), "label": np.broadcast_to(label, n).astype(np.int64),
            "via": np.broadcast_to(via, n).astype(np.int64),
            "cue_start": np.broadcast_to(cue_start, n).astype(np.int64), "cue_end": np.broadcast_to(cue_end, n).astype(np.int64)}


def _concat(parts: list[Matches]) -> Matches:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _label_names(taxonomy: Taxonomy) -> list[str]:
    """The findings' labels by code: the type ids, the escalation kinds, then the plain families."""
    return [*taxonomy.ids, *taxonomy.escalation_kinds, *PLAIN_FAMILIES]


def _type_findings(raw: dict[str, Matches], taxonomy: Taxonomy) -> Matches:
    candidates = _concat([raw["phrase"], raw["term"]])
    candidates = select(candidates, ~_covered(candidates, raw["type_exception"], ("msg", "index")))
    phrases = select(candidates, candidates["kind"] == _KIND["phrase"])
    terms = select(candidates, candidates["kind"] == _KIND["term"])
    cues = raw["cue"]
    # a term counts only in a clause without phrases; with a cue there it is a complaint, else an inquiry
    terms = select(terms, ~_isin(_key(terms, ("msg", "clause")), _key(phrases, ("msg", "clause"))))
    first_cue = select(cues, np.argsort(cues["start"], kind="quicksort"))   # ties as pandas' sort_values gives them
    first_cue = select(first_cue, _first_of_pair(first_cue["msg"], first_cue["clause"]))
    # a cue in the next clause counts too when that clause names no topic itself (快递到了吗，一直没动)
    following = select(first_cue, ~_isin(_key(first_cue, ("msg", "clause")), _key(candidates, ("msg", "clause"))))
    following["clause"] = following["clause"] - 1
    cue_for_clause = _concat([first_cue, following])
    rank = np.repeat([0, 1], [len(first_cue["msg"]), len(following["msg"])])
    cue_for_clause = select(cue_for_clause, np.lexsort((cue_for_clause["start"], rank)))
    cue_for_clause = select(cue_for_clause, _first_of_pair(cue_for_clause["msg"], cue_for_clause["clause"]))
    cue = _lookup(_key(cue_for_clause, ("msg", "clause")), _key(terms, ("msg", "clause")))
    has_cue = cue >= 0
    cued, uncued = select(terms, has_cue), select(terms, ~has_cue)
    complaints = _concat([
        _findings(phrases, "complaint", phrases["index"], np.where(phrases["regex"], VIAS.index("regex"), VIAS.index("phrase"))),
        _findings(cued, "complaint", cued["index"], VIAS.index("term+cue"), cue_for_clause["start"][cue[has_cue]],
                  cue_for_clause["end"][cue[has_cue]])])
    inquiries = _findings(uncued, "inquiry", uncued["index"], VIAS.index("term"))
    return _concat([_keep_longest(complaints, complaints["label"]), _keep_longest(inquiries, inquiries["label"])])


def _escalation_findings(raw: dict[str, Matches], taxonomy: Taxonomy) -> Matches:
    signals = raw["escalation"]
    signals = select(signals, ~_covered(signals, raw["escalation_exception"], ("msg",)))
    negators = raw["negator"]
    if len(signals["msg"]) and len(negators["msg"]):
        # negated: a negator ends at most ``negation_window`` characters before the signal, in its clause
        negator_key = _key(negators, ("msg", "clause"))
        order = np.argsort(negator_key, kind="stable")
        signal_key = _key(signals, ("msg", "clause"))
        low = np.searchsorted(negator_key[order], signal_key, "left")
        high = np.searchsorted(negator_key[order], signal_key, "right")
        signal = np.repeat(np.arange(len(signal_key)), high - low)
        gap = signals["start"][signal] - negators["end"][order[np.repeat(low, high - low) + ranges(high - low)]]
        negated = np.bincount(signal[(gap >= 0) & (gap <= taxonomy.negation_window)], minlength=len(signal_key)) > 0
        signals = select(signals, ~negated)
    found = _findings(signals, "escalation", len(taxonomy.ids) + signals["index"], VIAS.index("phrase"))
    return _keep_longest(found, found["label"])


def _plain_findings(raw: dict[str, Matches], taxonomy: Taxonomy) -> Matches:
    """Problem statements, anger and compensation demands: their phrases and regexes, less exceptions."""
    parts = []
    for i, family in enumerate(PLAIN_FAMILIES):
        hits = raw[family]
        hits = select(hits, ~_covered(hits, raw[family + "_exception"], ("msg",)))
        label = len(taxonomy.ids) + len(taxonomy.escalation_kinds) + i
        parts.append(_keep_longest(_findings(hits, family, label, np.where(hits["regex"], VIAS.index("regex"),
                                                                               VIAS.index("phrase"))),
                                   np.zeros(len(hits["msg"]), dtype=np.int64)))
    return _concat(parts)


def _empty_signals(frame: pd.DataFrame) -> pd.DataFrame:
    """No findings, in the columns and dtypes findings have (``frame``: the messages' columns)."""
    none = np.zeros(0, dtype=np.int64)
    out = pd.DataFrame({c: _values_at(frame[c], none) for c in SIGNAL_COLUMNS[:6]})
    for c in SIGNAL_COLUMNS[6:]:
        out[c] = none if c in ("start", "end") else pd.array([], dtype=pd.StringDtype("pyarrow"))
    return out


def complaint_signals(messages: pd.DataFrame, taxonomy: Taxonomy | None = None,
                      blocks: SharedBlocks | None = None) -> pd.DataFrame:
    """Every finding in the customer messages, one row each, with its evidence.

    Columns: ``message_id, session_id, seq, ts, platform, shop, family`` (complaint / inquiry /
    escalation / anger / compensation), ``label`` (type id, escalation kind, or the family),
    ``matched`` (the text as written), ``start``/``end`` (span in the message text), ``via``
    (phrase, regex, term+cue, term) and ``cue`` (the cue text that made a term a complaint).
    ``blocks``: the messages' texts normalised once for every finding (``analyze``), when at hand.
    """
    import pyarrow as pa

    messages = as_messages(messages)
    taxonomy = taxonomy or load_taxonomy()
    frame = _contiguous(messages, ["message_id", "session_id", "seq", "ts", "role", "platform", "shop", "text"],
                        whole=("message_id", "session_id", "platform", "shop"))
    customer_rows = np.flatnonzero(frame["role"].eq("customer").to_numpy(dtype=bool, na_value=False))
    if not len(customer_rows):
        return _empty_signals(frame)
    block = _normalized(frame, customer_rows, blocks)
    raw = _raw_findings(block, taxonomy)
    raw["clause"] = _clause_ids(block, raw, taxonomy.clause_breaks)
    raw = _by_kind(raw)
    found = _concat([_type_findings(raw, taxonomy), _escalation_findings(raw, taxonomy), _plain_findings(raw, taxonomy)])
    if not len(found["msg"]):
        return _empty_signals(frame)
    # by message, start, then family name (as a table sorted by these columns)
    family_rank = np.argsort(np.argsort(np.array(FAMILIES)))
    found = select(found, np.lexsort((family_rank[found["family"]], found["start"], found["msg"])))
    msg = found["msg"]
    rows = customer_rows[msg]
    out = pd.DataFrame({c: _values_at(frame[c], rows) for c in ("message_id", "session_id", "seq", "ts", "platform", "shop")})
    string = pd.StringDtype("pyarrow")
    slices = TextSpans(block)
    names = {"family": FAMILIES, "label": _label_names(taxonomy), "via": VIAS}
    for c in ("family", "label", "matched", "start", "end", "via", "cue"):
        if c == "matched":
            values = pd.array(slices.take(msg, found["start"], found["end"]), dtype=string)
        elif c == "cue":
            values = pd.array(slices.take(msg, found["cue_start"], found["cue_end"], valid=found["cue_start"] >= 0), dtype=string)
        elif c in ("start", "end"):
            values = found[c]
        else:
            values = pd.array(pa.array(names[c], type=pa.large_string()).take(found[c]), dtype=string)
        out[c] = values
    return out


def _values_at(column: pd.Series, rows: np.ndarray):
    """``column``'s values at ``rows``: text as ``str`` (as a table infers it from plain values, as the
    findings always had), times and other columns in their own dtype, whatever the rows hold (none
    included); text and times are taken without Python objects."""
    taken = column.iloc[rows]
    if isinstance(column.dtype, pd.StringDtype):
        return taken.astype(pd.StringDtype("pyarrow", na_value=np.nan)).array
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return taken.array
    return taken.to_numpy()


# ------------------------------------------------------------------------- message / session ---

def label_messages(messages: pd.DataFrame, signals: pd.DataFrame | None = None,
                   taxonomy: Taxonomy | None = None, labels: _MessageLabels | None = None) -> pd.DataFrame:
    """One row per customer message: its complaint types, inquiry topics, escalation and temperament.

    Columns: ``message_id, session_id, seq, ts, types`` (tuple, in order of appearance),
    ``inquiry`` (tuple), ``escalation`` (bool), ``escalation_kinds`` (tuple), ``anger``, ``compensation``.
    ``labels``: ``message_labels_of(messages, signals)`` when already made (``analyze`` makes it once).
    """
    messages = as_messages(messages)
    if signals is None:
        signals = complaint_signals(messages, taxonomy)
    customers = _customer_messages(messages, ["message_id", "session_id", "seq", "ts"])
    return _label_table(customers, labels or _MessageLabels(customers["message_id"], signals))


def message_labels_of(messages: pd.DataFrame, signals: pd.DataFrame) -> _MessageLabels:
    """The labels of the customers' messages (in the messages' order) by ``signals``: what
    ``label_messages`` and ``classify_complaints`` read, made once by ``analyze`` for both."""
    messages = as_messages(messages)
    return _MessageLabels(_customer_messages(messages, ["message_id"])["message_id"], signals)


class _MessageLabels:
    """The labels of each message by family: first mentions only, in order of appearance (by start).

    ``codes`` numbers the messages' ids and ``signal_codes`` the signals' (``size`` numbers in all,
    equal ids share one, a missing id has -1); ``labels`` are the signals' labels as indexes into
    ``names``; ``pairs[family]`` holds arrays ``message`` (such a number) and
    ``label`` (index into ``names``), grouped by message. An inquiry topic the message also complains
    about is left out.
    """

    def __init__(self, message_ids: pd.Series, signals: pd.DataFrame):
        self.codes, self.signal_codes, uniques = _shared_codes(message_ids, signals["message_id"])
        self.size = len(uniques)
        self.labels, names = pd.factorize(signals["label"])
        self.names = list(names)
        signal_codes, labels = self.signal_codes, self.labels
        families, family_names = pd.factorize(signals["family"])
        order = np.lexsort((np.arange(len(signals)), signals["start"].to_numpy(), signal_codes))
        order = order[signal_codes[order] >= 0]
        self.pairs = {}
        for family in FAMILIES:
            at = np.flatnonzero(family_names == family)
            rows = order[families[order] == at[0]] if len(at) else order[:0]
            message, label = signal_codes[rows], labels[rows]
            first = _first_of_pair(message, label)
            self.pairs[family] = (message[first], label[first])
        message, label = self.pairs["inquiry"]
        complaint = self.pairs["complaint"]
        width = len(self.names) + 1
        raised = _isin(message * width + label, complaint[0] * width + complaint[1])
        self.pairs["inquiry"] = (message[~raised], label[~raised])

    def tuples(self, family: str) -> np.ndarray:
        """Per message (in the order of ``message_ids``) the tuple of its labels of ``family``."""
        per_code = _tuples(*self.pairs[family], self.names, self.size + 1)
        return per_code[np.where(self.codes >= 0, self.codes, self.size)]

    def any(self, family: str) -> np.ndarray:
        """Per message (in the order of ``message_ids``): True where it has a label of ``family``."""
        found = np.zeros(self.size + 1, dtype=bool)
        found[self.pairs[family][0]] = True
        return found[np.where(self.codes >= 0, self.codes, self.size)]


def _label_table(customers: pd.DataFrame, labels: _MessageLabels) -> pd.DataFrame:
    """The ``label_messages`` table of ``customers`` (their messages' labels in ``labels``)."""
    base = customers[["message_id", "session_id", "seq", "ts"]].reset_index(drop=True)
    base["types"] = pd.Series(labels.tuples("complaint"), dtype=object)
    base["inquiry"] = pd.Series(labels.tuples("inquiry"), dtype=object)
    base["escalation"] = labels.any("escalation")            # bool columns, in an empty table too
    base["escalation_kinds"] = pd.Series(labels.tuples("escalation"), dtype=object)
    for family in PLAIN_FAMILIES:
        base[family] = labels.any(family)
    return base[["message_id", "session_id", "seq", "ts", "types", "inquiry", "escalation", "escalation_kinds",
                 "problem", "anger", "compensation"]]


# ---------------------------------------------------------------------------- grouped values ---
def _shared_codes(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Integer codes of two columns' values, equal values equal codes in both (missing values: -1), and
    the values coded (in order of first appearance). Text columns are encoded by Arrow in one pass."""
    if isinstance(first.dtype, pd.StringDtype) and isinstance(second.dtype, pd.StringDtype):
        import pyarrow as pa
        import pyarrow.compute as pc

        arrays = [pa.chunked_array(pa.array(c.array)).cast(pa.large_string()).chunks for c in (first, second)]
        both = pa.concat_arrays(arrays[0] + arrays[1]).dictionary_encode()
        codes = pc.fill_null(both.indices, -1).to_numpy().astype(np.int64)
        uniques = pd.Index(both.dictionary.to_pandas())
    else:
        codes, uniques = pd.factorize(np.concatenate([first.to_numpy(dtype=object), second.to_numpy(dtype=object)]))
        uniques = pd.Index(uniques)
    return codes[:len(first)], codes[len(first):], uniques


def _starts_of_runs(group: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins in ``group``."""
    if not len(group):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))


def _isin(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """True where a value of ``values`` is one of ``among`` (by hashing: NumPy's ``isin`` sorts both)."""
    return pd.Series(values).isin(among).to_numpy()


def _first_rows(rows: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    """Per group 0 … size-1 the first of ``rows`` (sorted by ``group[rows]``) in it, -1 where none is."""
    first = np.full(size, -1, dtype=np.int64)
    starts = _starts_of_runs(group[rows])
    first[group[rows[starts]]] = rows[starts]
    return first


def _first_of_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True at the first row of each (a, b) pair of non-negative integer codes, in row order."""
    if not len(a):
        return np.zeros(0, dtype=bool)
    return ~pd.Series(a.astype(np.int64) * (int(b.max()) + 1) + b).duplicated().to_numpy()


def _sequences(group: np.ndarray, *columns: np.ndarray):
    """Rows in runs of equal ``group``, read as one sequence (of the rows' ``columns`` values) per run.

    Returns each run's group, a number per run naming its sequence (equal sequences, equal numbers;
    the numbers count the distinct sequences from 0), for each number a run holding it, the runs'
    lengths and the values as one matrix per column (run × place in the run, zero-padded)."""
    starts = _starts_of_runs(group)
    lengths = np.diff(np.append(starts, len(group)))
    run = np.repeat(np.arange(len(starts)), lengths)
    place = np.arange(len(group)) - starts[run]
    number = pd.factorize(lengths)[0].astype(np.int64)
    matrices = []
    for column in columns:
        matrix = np.zeros((len(starts), int(lengths.max(initial=0))), dtype=np.int64)
        matrix[run, place] = column
        matrices.append(matrix)
        for j in range(matrix.shape[1]):
            values = pd.factorize(matrix[:, j])[0].astype(np.int64)
            number = pd.factorize(number * (int(values.max()) + 1) + values)[0].astype(np.int64)
    example = np.unique(number, return_index=True)[1]
    return group[starts], number, example, lengths, matrices


def _tuples(group: np.ndarray, value: np.ndarray, names: list, size: int) -> np.ndarray:
    """Per group 0 … size-1 the tuple of ``names[value]`` of its rows, in row order (``()`` without rows),
    as an object array. Rows come in runs of equal ``group``; each distinct tuple is built once."""
    groups, number, example, lengths, (matrix,) = _sequences(group, value)
    table = np.empty(len(example) + 1, dtype=object)
    table[0] = ()
    for i, (row, n) in enumerate(zip(matrix[example].tolist(), lengths[example].tolist()), start=1):
        table[i] = tuple(names[v] for v in row[:n])
    codes = np.zeros(size, dtype=np.int64)
    codes[groups] = number + 1
    return table[codes]


def _dicts(group: np.ndarray, key: np.ndarray, value: np.ndarray, names: list, size: int) -> list[dict]:
    """Per group 0 … size-1 a new dict ``{names[key]: value}`` of its rows, in row order (``{}`` without
    rows). Rows come in runs of equal ``group``; ``value`` is float64."""
    groups, number, example, lengths, (keys, bits) = _sequences(group, key, value.view(np.int64))
    table = np.empty(len(example) + 1, dtype=object)
    table[0] = {}
    values = bits[example].view(np.float64).tolist()
    for i, (row, scores, n) in enumerate(zip(keys[example].tolist(), values, lengths[example].tolist()), start=1):
        table[i] = dict(zip([names[k] for k in row[:n]], scores[:n]))
    codes = np.zeros(size, dtype=np.int64)
    codes[groups] = number + 1
    return list(map(dict.copy, table[codes]))


def talkative_sessions(messages: pd.DataFrame, taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per session with customer messages: the talkative heuristic (temperament.yaml thresholds).

    Columns: ``customer_messages, longest_burst, longest_message, most_repeats, talkative`` and
    ``talkative_reason`` (which thresholds were met, e.g. ``messages>=12; burst>=5``).
    """
    messages = as_messages(messages)
    taxonomy = taxonomy or load_taxonomy()
    frame = _contiguous(messages, ["session_id", "seq", "role", "text"], whole=("text",))
    sessions = _SessionCodes(frame)
    talk = _Talkative(frame, sessions, taxonomy.temperament["talkative"])
    at = sessions.by_id(talk.customer_rows)
    out = pd.DataFrame({name: getattr(talk, name)[at] for name in
                        ("customer_messages", "longest_burst", "longest_message", "most_repeats", "talkative")},
                       index=sessions.index(at))
    out["talkative_reason"] = pd.Series(talk.reasons()[at], index=out.index, dtype=str)
    return out


class _Talkative:
    """The talkative heuristic as arrays over session codes: a burst is a run of customer messages in
    the session's order (seq, then row), a reply (agent or bot) starts a new run; texts are compared
    and measured stripped."""

    def __init__(self, frame: pd.DataFrame, sessions: _SessionCodes, limits: dict):
        import pyarrow.compute as pc

        self.limits = limits
        session, size = sessions.of_message, sessions.size
        role = frame["role"]
        is_customer = role.eq("customer").to_numpy(dtype=bool, na_value=False)
        is_reply = role.isin(["agent", "bot"]).to_numpy(dtype=bool, na_value=False)
        rows = sessions.ordered[(is_customer | is_reply)[sessions.ordered]]
        customer = is_customer[rows]
        replies_before = np.cumsum(~customer)[customer]     # a burst: equal session and replies so far
        self.customer_rows = rows[customer]
        owner = session[self.customer_rows]
        self.customer_messages = np.bincount(owner, minlength=size)
        burst_starts = _starts_of_runs(owner * (int(replies_before.max(initial=0)) + 1) + replies_before)
        self.longest_burst = np.zeros(size, dtype=np.int64)
        np.maximum.at(self.longest_burst, owner[burst_starts], np.diff(np.append(burst_starts, len(owner))))
        texts = pc.utf8_trim_whitespace(pc.fill_null(_arrow_text(frame).take(self.customer_rows), "")).combine_chunks()
        lengths = pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        self.longest_message = np.zeros(size, dtype=np.int64)
        np.maximum.at(self.longest_message, owner, lengths)
        # the most times one text (long enough to count) was sent in the session
        counted = np.flatnonzero(lengths >= limits.get("repeat_min_chars", 4))
        text_codes = texts.take(counted).dictionary_encode().indices.to_numpy(zero_copy_only=False).astype(np.int64)
        pairs, repeats = np.unique(owner[counted] * (int(text_codes.max(initial=0)) + 1) + text_codes, return_counts=True)
        self.most_repeats = np.ones(size, dtype=np.int64)
        np.maximum.at(self.most_repeats, pairs // (int(text_codes.max(initial=0)) + 1), repeats)
        self.checks = {
            f"messages>={limits['min_messages']}": self.customer_messages >= limits["min_messages"],
            f"burst>={limits['min_burst']}": self.longest_burst >= limits["min_burst"],
            f"message>={limits['long_message_chars']}chars": self.longest_message >= limits["long_message_chars"],
            f"repeated>={limits['min_repeats']}x": self.most_repeats >= limits["min_repeats"],
        }
        self.talkative = np.logical_or.reduce(list(self.checks.values()))

    def reasons(self) -> np.ndarray:
        """Per session code the thresholds met, joined by "; " ("" for none)."""
        names = list(self.checks)
        met = sum(m.astype(np.int64) << i for i, m in enumerate(self.checks.values()))
        table = np.array(["; ".join(n for i, n in enumerate(names) if bits >> i & 1) for bits in range(1 << len(names))],
                         dtype=object)
        return table[met]


def _contiguous(messages: pd.DataFrame, columns: list[str], whole: tuple[str, ...]) -> pd.DataFrame:
    """``columns`` of the messages, the Arrow text columns among ``whole`` in one piece (those rows are
    taken from): Arrow's take from a column in many pieces (as Parquet reads it) copies every piece
    into one first, on every take."""
    from pandas.arrays import ArrowStringArray

    out = {}
    for column in columns:
        values = messages[column].array
        if column in whole and isinstance(values, ArrowStringArray):
            chunked = values.__arrow_array__()
            if chunked.num_chunks > 1:
                values = ArrowStringArray(chunked.combine_chunks(), dtype=values.dtype)
        out[column] = values
    return pd.DataFrame(out, index=messages.index, copy=False)


class _SessionCodes:
    """The session of each message (``of_message``) and signal (``of_signal``) as integer codes, equal
    ids equal codes (``_shared_codes``; -1: no session), ``size`` codes in all with one left over for
    no session, and ``ordered``: the rows of the messages with a session in the sessions' order (by
    code, then seq, then row)."""

    def __init__(self, frame: pd.DataFrame, signals: pd.DataFrame | None = None):
        other = frame["session_id"].iloc[:0] if signals is None else signals["session_id"]
        self.of_message, self.of_signal, self.ids = _shared_codes(frame["session_id"], other)
        self.size = len(self.ids) + 1
        self._dtype = frame["session_id"].dtype
        rows = np.flatnonzero(self.of_message >= 0)
        session = self.of_message[rows]
        seq = frame["seq"].to_numpy(dtype=np.float64, na_value=np.inf)[rows]
        in_order = (session[1:] > session[:-1]) | ((session[1:] == session[:-1]) & (seq[1:] >= seq[:-1]))
        self.ordered = rows if in_order.all() else rows[np.lexsort((seq, session))]    # stable: ties by row

    def by_id(self, rows: np.ndarray) -> np.ndarray:
        """The codes of the sessions of the messages at ``rows`` (each once, none for no session), in
        order of session id."""
        codes = self.of_message[rows]
        present = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(self.ids)))
        return present[self.ids.take(present).argsort()]

    def index(self, codes: np.ndarray) -> pd.Index:
        """The session ids of ``codes`` as an index named session_id, with the dtype of the messages' column."""
        return pd.Index(self.ids.take(codes).astype(self._dtype), name="session_id")


def contact_reasons(messages: pd.DataFrame, signals: pd.DataFrame | None = None,
                    taxonomy: Taxonomy | None = None) -> pd.DataFrame:
    """Per session: ``contact_reason`` (the best-scored type, ``other`` without evidence),
    ``contact_secondary`` (the runner-up when it scores at least ``secondary_share`` of the best, else
    missing) and ``contact_scores`` (type → score, for the evidence). See the module docstring."""
    messages = as_messages(messages)
    taxonomy = taxonomy or load_taxonomy()
    if signals is None:
        signals = complaint_signals(messages, taxonomy)
    frame = _contiguous(messages, ["message_id", "session_id", "seq", "role", "text"], whole=("message_id", "text"))
    customer_ids = _customer_messages(frame, ["message_id"])["message_id"]
    return _contact_reasons(frame, signals, taxonomy, _MessageLabels(customer_ids, signals), with_scores=True)


def _contact_reasons(messages: pd.DataFrame, signals: pd.DataFrame, taxonomy: Taxonomy,
                     message_labels: _MessageLabels, with_scores: bool,
                     session_codes: _SessionCodes | None = None, blocks: SharedBlocks | None = None,
                     by_code: bool = False):
    """``contact_reasons`` given the labels of the customers' messages; its ``contact_scores`` (a dict
    per session) only when ``with_scores``. ``session_codes``: the messages' and signals' sessions, when known;
    ``blocks``: their texts normalised once for every finding, when at hand. ``by_code``: instead of the
    table, the reason and the secondary reason (None for none) as arrays over the session codes."""
    settings = taxonomy.contact
    weights = settings["weights"]
    session_codes = session_codes or _SessionCodes(messages, signals)
    session_of_message, session_of_signal, session_ids = session_codes.of_message, session_codes.of_signal, session_codes.ids
    role = messages["role"]
    is_customer = role.eq("customer").to_numpy(dtype=bool, na_value=False)
    is_agent = role.eq("agent").to_numpy(dtype=bool, na_value=False)
    seq = messages["seq"].to_numpy()
    # the buyer's evidence: one vote per (message, type, family); opening messages count more
    customer_rows = np.flatnonzero(is_customer)
    by_session = session_codes.ordered[is_customer[session_codes.ordered]]
    runs = _starts_of_runs(session_of_message[by_session])
    rank_of_row = np.full(len(messages), np.inf)      # a message without a session is no opening message
    rank_of_row[by_session] = np.arange(len(by_session)) - np.repeat(runs, np.diff(np.append(runs, len(by_session))))
    rank = rank_of_row[customer_rows]
    customer_codes, signal_codes = message_labels.codes, message_labels.signal_codes
    rank_of_code = np.full(message_labels.size + 1, np.inf)
    rank_of_code[customer_codes[customer_codes >= 0]] = rank[customer_codes >= 0]
    labels, names = message_labels.labels, list(message_labels.names)
    family = signals["family"]
    is_inquiry = family.eq("inquiry").to_numpy(dtype=bool, na_value=False)
    voting = is_inquiry | family.eq("complaint").to_numpy(dtype=bool, na_value=False)
    rows = np.flatnonzero(voting)
    rows = rows[_first_of_pair(signal_codes[rows] + 1, labels[rows] * 2 + is_inquiry[rows])]
    opening = rank_of_code[signal_codes[rows]] < settings["opening_messages"]
    score = np.where(is_inquiry[rows], float(weights["inquiry"]), float(weights["complaint"]))
    votes = [(session_of_signal[rows], labels[rows], score * np.where(opening, settings["opening_factor"], 1.0),
              signals["seq"].to_numpy()[rows])]
    # one pass over the messages for the agent's topic words and the words of non-buyer sessions
    # one pass over the agent's replies for the topic words and the words of non-buyer sessions, one over the
    # buyer's messages for the latter only (topic words there are no evidence)
    phrase_set = taxonomy._contact_phrase_set
    agent_rows = np.flatnonzero(is_agent)
    marked = []
    if phrase_set is not None and len(agent_rows):
        hits = phrase_set.find(_normalized(messages, agent_rows, blocks))
        topic = np.array([value if what == "agent" else -1 for what, value in phrase_set.labels], dtype=np.int64)
        marks_agent = np.array([what == "other" and value == "agent" for what, value in phrase_set.labels], dtype=bool)
        row = agent_rows[hits["msg"]]
        type_of_hit = topic[hits["entry"]]
        # the agent's evidence: the type's agent_terms in the replies, one vote per (message, type)
        said = np.flatnonzero(type_of_hit >= 0)
        said = said[_first_of_pair(hits["msg"][said], type_of_hit[said])]
        if len(said) and weights["agent"] > 0:
            code_of_name = {name: i for i, name in enumerate(names)}
            for t in taxonomy.types:
                if t.id not in code_of_name:
                    code_of_name[t.id] = len(names)
                    names.append(t.id)
            type_code = np.array([code_of_name[t.id] for t in taxonomy.types], dtype=np.int64)
            votes.append((session_of_message[row[said]], type_code[type_of_hit[said]],
                          np.full(len(said), float(weights["agent"])), seq[row[said]]))
        marked.append(row[marks_agent[hits["entry"]]])
    buyer_marks = taxonomy._buyer_marks
    if buyer_marks is not None and len(customer_rows):
        marked.append(customer_rows[buyer_marks.find(_normalized(messages, customer_rows, blocks))["msg"]])
    # a session written by a merchant, a courier or a B2B buyer is ``other`` whatever it is about
    marked = np.concatenate(marked) if marked else np.zeros(0, dtype=np.int64)
    session, label, score, first = (np.concatenate(parts) for parts in zip(*votes))
    counted = session >= 0
    session, label, score, first = session[counted], label[counted], score[counted], first[counted]
    width = len(names) + 1
    totals = pd.DataFrame({"score": score, "first": first}).groupby(session * width + label, sort=False)
    totals = totals.agg(score=("score", "sum"), first=("first", "min"))
    key = totals.index.to_numpy()
    session, label = key // width, key % width
    score, first = totals["score"].to_numpy(), totals["first"].to_numpy()
    # per session: best score first, then the type found first, then the type counted first
    order = np.lexsort((np.arange(len(key)), first, -score, session))
    session, label, score = session[order], label[order], score[order]
    best = _starts_of_runs(session)
    runner = best + 1
    runner = runner[runner < len(session)]
    runner = runner[session[runner] == session[runner - 1]]          # not the best of the next session
    runner = runner[score[runner] >= settings["secondary_share"] * score[runner - 1]]
    name_of = np.array(names, dtype=object)
    if by_code:
        reason = np.full(session_codes.size, "other", dtype=object)
        secondary = np.full(session_codes.size, None, dtype=object)
        reason[session[best]], secondary[session[runner]] = name_of[label[best]], name_of[label[runner]]
        non_buyer = session_of_message[marked]
        reason[non_buyer[non_buyer >= 0]], secondary[non_buyer[non_buyer >= 0]] = "other", None
        return reason, secondary
    sessions = pd.Index(messages["session_id"].unique(), name="session_id")
    non_buyer = pd.Index(messages["session_id"].take(marked)).unique()
    # the reasons are text (``str``) once any session has evidence, else plain objects, as they always were
    text = pd.StringDtype("pyarrow", na_value=np.nan) if len(key) else object
    out = pd.DataFrame(index=sessions)
    out["contact_reason"] = pd.Series(name_of[label[best]], index=session_ids[session[best]], dtype=text).reindex(sessions).fillna("other")
    out["contact_secondary"] = pd.Series(name_of[label[runner]], index=session_ids[session[runner]], dtype=text).reindex(sessions)
    out.loc[out.index.isin(non_buyer), ["contact_reason", "contact_secondary"]] = ["other", pd.NA]
    if with_scores:
        scores = np.empty(len(session_ids) + 1, dtype=object)     # the last one for a session without evidence
        scores[:] = _dicts(session, label, np.round(score, 2), names, len(scores))
        out["contact_scores"] = pd.Series(scores[session_ids.get_indexer(sessions)], index=sessions, dtype=object)
    return out


SESSION_COLUMNS = (
    "session_id", "platform", "shop", "agent_id", "sku", "started", "customer_messages", "is_complaint",
    "primary", "secondary", "types", "inquiry", "contact_reason", "contact_secondary", "problem", "escalation",
    "escalation_kinds", "anger_messages", "anger", "compensation", "talkative", "talkative_reason", "primary_message_id", "primary_matched",
    "escalation_message_id", "escalation_matched",
)


def classify_complaints(messages: pd.DataFrame, taxonomy: Taxonomy | None = None,
                        signals: pd.DataFrame | None = None, blocks: SharedBlocks | None = None,
                        labels: _MessageLabels | None = None, owners: pd.Series | None = None) -> pd.DataFrame:
    """One row per session with customer messages: its complaint types, escalation and temperament.
    (``blocks``: the messages' texts normalised once for every finding, ``labels``:
    ``message_labels_of(messages, signals)``, and ``owners``: ``session_owner(messages)``, when ``analyze``
    has them at hand.)

    - ``primary``: the type raised in the most customer messages; a tie goes to the type raised
      first. ``secondary``: the other types, most messages first. ``types``: all of them.
    - ``is_complaint``: a type was raised, or the customer threatened escalation, demanded
      compensation or was angry; without a type such a session's primary is ``other``. Sessions
      that are not complaints have no primary; ``inquiry`` lists the topics they asked about.
    - Evidence: ``primary_message_id``/``primary_matched`` (first message raising the primary type),
      ``escalation_message_id``/``escalation_matched`` (first threat); ``complaint_signals`` has every finding.
    - ``agent_id`` is the session's owner (``sessions.session_owner``: the first human agent who replied); ``started`` the session's first message time.
    - Rows are in order of session id.
    """
    messages = as_messages(messages)
    taxonomy = taxonomy or load_taxonomy()
    if signals is None:
        signals = complaint_signals(messages, taxonomy)
    frame = _contiguous(messages, ["message_id", "session_id", "seq", "ts", "role", "platform", "shop", "sku", "text"],
                        whole=("message_id", "platform", "shop", "sku", "text"))
    customer_rows = np.flatnonzero(frame["role"].eq("customer").to_numpy(dtype=bool, na_value=False))
    sessions = _SessionCodes(frame, signals)
    session_of_message, session_of_signal, size = sessions.of_message, sessions.of_signal, sessions.size
    session_of_customer = session_of_message[customer_rows]
    # every per-session value below is an array over session codes, read at ``at`` (the table's rows)
    at = sessions.by_id(customer_rows)
    out = _session_heads(frame, sessions, at)
    out["agent_id"] = (session_owner(messages) if owners is None else owners).reindex(out.index)
    message_labels = labels or _MessageLabels(frame["message_id"].iloc[customer_rows], signals)

    def per_session(values: np.ndarray) -> np.ndarray:
        counted = session_of_customer >= 0
        return np.bincount(session_of_customer[counted], weights=values[counted], minlength=size)[at]

    # complaint types ranked per session: most messages first, then the type raised first
    complaint = np.flatnonzero(signals["family"].eq("complaint").to_numpy(dtype=bool, na_value=False))
    complaint = complaint[session_of_signal[complaint] >= 0]
    complaint = complaint[np.lexsort((complaint, signals["start"].to_numpy()[complaint],
                                      signals["seq"].to_numpy()[complaint], session_of_signal[complaint]))]
    label_codes, names = message_labels.labels, message_labels.names
    mentions = complaint[_first_of_pair(message_labels.signal_codes[complaint] + 1, label_codes[complaint])]
    pair = session_of_signal[mentions] * (len(names) + 1) + label_codes[mentions]
    _, first_mention, count = np.unique(pair, return_index=True, return_counts=True)
    ranked = first_mention[np.lexsort((first_mention, -count, session_of_signal[mentions][first_mention]))]
    ranked_session, ranked_label = session_of_signal[mentions][ranked], label_codes[mentions][ranked]
    types = _tuples(ranked_session, ranked_label, names, size)[at]
    later = np.ones(len(ranked), dtype=bool)
    later[_starts_of_runs(ranked_session)] = False
    secondary = _tuples(ranked_session[later], ranked_label[later], names, size)[at]
    evidence = np.full(size, -1, dtype=np.int64)
    evidence[ranked_session[~later]] = mentions[ranked[~later]]
    evidence = evidence[at]

    # the kinds of threat and the topics asked about, in order of the session's messages
    def union(family: str) -> np.ndarray:
        message, label = message_labels.pairs[family]          # grouped by message, in order
        count = np.bincount(message, minlength=message_labels.size + 1)
        codes = message_labels.codes
        rows = np.flatnonzero((codes >= 0) & (session_of_customer >= 0))
        rows = rows[count[codes[rows]] > 0]
        n = count[codes[rows]]
        # every label of every customer message (messages that share an id share their labels)
        pick = np.repeat((np.cumsum(count) - count)[codes[rows]], n) + ranges(n)
        session = np.repeat(session_of_customer[rows], n)
        order = np.argsort(session, kind="stable")
        session, label = session[order], label[pick[order]]
        first = _first_of_pair(session, label)
        return _tuples(session[first], label[first], message_labels.names, size)[at]

    out["customer_messages"] = per_session(np.ones(len(customer_rows))).astype(int)
    out["types"] = pd.Series(types, index=out.index, dtype=object)
    out["escalation"] = per_session(message_labels.any("escalation")) > 0
    out["escalation_kinds"] = pd.Series(union("escalation"), index=out.index, dtype=object)
    out["anger_messages"] = per_session(message_labels.any("anger")).astype(int)
    out["anger"] = out["anger_messages"] > 0
    out["compensation"] = per_session(message_labels.any("compensation")) > 0
    out["inquiry"] = pd.Series(union("inquiry"), index=out.index, dtype=object)
    out["problem"] = per_session(message_labels.any("problem")) > 0
    has_type = evidence >= 0
    out["is_complaint"] = has_type | out["problem"] | out["escalation"] | out["compensation"] | out["anger"]
    # a complaint without a type of its own takes the session's contact reason (没收到 in a delivery chat)
    reasons, secondary_reasons = _contact_reasons(frame, signals, taxonomy, message_labels, with_scores=False,
                                                  session_codes=sessions, blocks=blocks, by_code=True)
    reason = reasons[at]
    primary = np.where(out["is_complaint"].to_numpy(), reason, pd.NA)
    primary[has_type] = np.array(names, dtype=object)[label_codes[evidence[has_type]]]
    out["primary"] = primary
    out["secondary"] = pd.Series(secondary, index=out.index, dtype=object)
    talk = _Talkative(frame, sessions, taxonomy.temperament["talkative"])
    out["talkative"] = talk.talkative[at]
    out["talkative_reason"] = pd.Series(talk.reasons()[at], index=out.index, dtype=str)
    for column, source in (("primary_message_id", "message_id"), ("primary_matched", "matched")):
        # typed as the signals' column whatever the sessions hold (missing where no type raised it)
        out[column] = signals[source].array.take(np.where(has_type, evidence, -1), allow_fill=True)
    # the session's first threat: by seq, then start, then the order of the findings
    threats = np.flatnonzero(signals["family"].eq("escalation").to_numpy(dtype=bool, na_value=False))
    threats = threats[session_of_signal[threats] >= 0]
    threats = threats[np.lexsort((threats, signals["start"].to_numpy()[threats], signals["seq"].to_numpy()[threats],
                                  session_of_signal[threats]))]
    first_threat = _first_rows(threats, session_of_signal, size)
    out["contact_reason"] = reason
    out["contact_secondary"] = secondary_reasons[at]
    for column, source in (("escalation_message_id", "message_id"), ("escalation_matched", "matched")):
        out[column] = signals[source].array.take(first_threat[at], allow_fill=True)
    out = out.reset_index(names="session_id")
    string = pd.StringDtype("pyarrow")
    out = out.astype({"primary": string, "contact_reason": string, "contact_secondary": string})
    return out[list(SESSION_COLUMNS)]


def _session_heads(frame: pd.DataFrame, sessions: _SessionCodes, at: np.ndarray) -> pd.DataFrame:
    """Per session code in ``at``: its first platform, shop and sku (the first present, in order of
    seq, then row) and its first message time (``started``), indexed by session id."""
    rows, session, size = sessions.ordered, sessions.of_message, sessions.size

    def first(present: np.ndarray) -> np.ndarray:
        return _first_rows(rows[present[rows]], session, size)[at]

    out = pd.DataFrame(index=sessions.index(at))
    for column in ("platform", "shop", "sku"):
        out[column] = frame[column].array.take(first(frame[column].notna().to_numpy()), allow_fill=True)
    ts = frame["ts"]
    timed = np.flatnonzero(ts.notna().to_numpy() & (session >= 0))
    timed = timed[np.lexsort((ts.array.asi8[timed], session[timed]))]
    out["started"] = ts.array.take(_first_rows(timed, session, size)[at], allow_fill=True)
    return out


def check_complaint(text: str, taxonomy: Taxonomy | None = None, platform: str = "other") -> pd.DataFrame:
    """The findings (``complaint_signals`` rows) for one customer message, e.g. to try a phrase."""
    from ..base.schema import conform

    frame = pd.DataFrame({"message_id": ["m1"], "session_id": ["s1"], "seq": [1], "ts": [pd.NaT],
                          "role": ["customer"], "platform": [platform], "shop": [""], "text": [text]})
    return complaint_signals(conform(frame, "Asia/Shanghai"), taxonomy)
