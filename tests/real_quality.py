"""How right the detectors are on real JD chats, measured against our own labels.

    .venv/bin/python tests/real_quality.py                   # tuning and held-back parts
    .venv/bin/python tests/real_quality.py --part tune       # while developing (never tune on heldout)
    .venv/bin/python tests/real_quality.py --errors service_taboo --part tune   # each disagreement
    .venv/bin/python tests/real_quality.py --agreement       # first vs second labeller
    .venv/bin/python tests/real_quality.py --write           # store the held-back numbers in the package
    .venv/bin/python tests/real_quality.py --write-floors    # set the test floors to today's level (raise the bar)

The corpus (../shared/data/real/jddc_dev_sessions.tsv, or $CS_ANALYTICS_REAL_CORPUS) is read in place,
never copied; the labels are keys in tests/cases/real/ (guide: tests/cases/real/README.md). Printed:

- per violation category: labelled positives, tp/fp/fn, precision and recall with Wilson 95% intervals,
  false positives per 1,000 agent messages (judged per message and category);
- contact reason: accuracy of the session's main topic and the confusion table; complaint vs inquiry
  precision/recall/F1; escalation;
- greeting, closing and anything-else: agreement with the labels and Cohen's kappa.

``--write`` stores the held-back figures with the rulebook, taxonomy and phrase-list versions and the
corpus hash in ``cs_analytics/resources/accuracy/real_chats.yaml``; notebooks 02, 03 and 05 show them,
and tests/test_real_quality.py fails when that file no longer matches what this script measures.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_corpus  # noqa: E402

LABELS_DIR = real_corpus.LABELS_DIR
SECOND_DIR = LABELS_DIR / "second"
POLITENESS_CHECKS = ("greeting", "closing", "anything_else")
PROCESS_CHECKS = ("first_reply_apology", "solution_offered", "deadline_given", "refusal_softened", "transferred",
                  "handoff_announced")
PARTS = ("tune", "heldout")


# ------------------------------------------------------------------------------------ labels ---
@dataclass
class Labels:
    sessions: pd.DataFrame   # one row per labelled session
    messages: pd.DataFrame   # one row per (session_id, line, category) labelled positive
    process: pd.DataFrame | None = None   # one row per labelled complaint session (process.csv): 1 / 0 / NA


def load_labels(folder: Path = LABELS_DIR) -> Labels:
    """The label files of ``folder`` (``sessions.csv``, ``messages.csv``), messages one row per category."""
    sessions = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    raw = pd.read_csv(folder / "messages.csv", dtype=str, keep_default_na=False)
    rows = [(s, int(line), c.strip()) for s, line, cats in zip(raw["session_id"], raw["line"], raw["categories"])
            for c in cats.split(";") if c.strip()]
    messages = pd.DataFrame(rows, columns=["session_id", "line", "category"]).drop_duplicates()
    for column in ("escalation", *POLITENESS_CHECKS, "apology_needed"):
        sessions[column] = sessions[column].astype(int).astype(bool)
    sessions["part"] = sessions["session_id"].map(real_corpus.part)
    process = None
    if (folder / "process.csv").is_file():
        process = pd.read_csv(folder / "process.csv", dtype=str, keep_default_na=False).set_index("session_id")
        for check in PROCESS_CHECKS:
            process[check] = process[check].map({"1": True, "0": False, "": pd.NA}).astype("boolean")
        process["part"] = process.index.map(real_corpus.part)
    return Labels(sessions, messages, process)


def corpus_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def labels_sha256(folder: Path = LABELS_DIR) -> str:
    digest = hashlib.sha256()
    for name in ("sessions.csv", "messages.csv", "process.csv"):
        if (folder / name).is_file():
            digest.update((folder / name).read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------------- detectors ---
@dataclass
class Predictions:
    messages: pd.DataFrame     # the loaded corpus (canonical table)
    hits: pd.DataFrame
    sessions: pd.DataFrame     # classify_complaints
    politeness: pd.DataFrame   # politeness_checks
    process: pd.DataFrame | None = None   # process_checks, complaint flag from the labels (see process_scores)


@lru_cache(maxsize=2)
def _load(path: str):
    from cs_analytics import load_logs

    return load_logs(path, profile="jd_tsv", progress=False).messages


def run_detectors(path: Path | None = None, rulebook=None, taxonomy=None) -> Predictions:
    """Every detector on the real corpus, with the packaged rulebook and taxonomy unless given."""
    from cs_analytics import classify_complaints, find_violations, politeness_checks

    messages = _load(str(path or real_corpus.corpus_path()))
    hits = find_violations(messages, rulebook)
    sessions = classify_complaints(messages, taxonomy)
    politeness = politeness_checks(messages, hits, sessions)
    return Predictions(messages, hits, sessions, politeness, _process(messages, hits, sessions, rulebook))


def _process(messages, hits, sessions, rulebook=None) -> pd.DataFrame:
    """The process checks with the complaint flag taken from the labels: a complaint-detection miss is
    measured as such (complaint F1) and does not count again against every process check."""
    from cs_analytics import process_checks

    labelled = load_labels().sessions.set_index("session_id")["kind"].eq("complaint")
    complaints = sessions.assign(is_complaint=sessions["session_id"].map(labelled).fillna(False).astype(bool))
    return process_checks(messages, hits, complaints, rulebook=rulebook)


# ------------------------------------------------------------------------------------ scores ---
def _interval(k: int, n: int) -> tuple[float, float]:
    from cs_analytics.base.proportions import wilson_interval

    low, high = wilson_interval(pd.Series([k]), pd.Series([n]))
    return float(low.iloc[0]), float(high.iloc[0])


def _ratio(k: int, n: int) -> float:
    return k / n if n else float("nan")


def kappa(a, b) -> float:
    """Cohen's kappa of two label sequences (NaN when chance agreement is total)."""
    a, b = pd.Series(list(a), dtype=object), pd.Series(list(b), dtype=object)
    observed = float((a.values == b.values).mean()) if len(a) else float("nan")
    pa, pb = a.value_counts(normalize=True), b.value_counts(normalize=True)
    expected = float(sum(pa.get(k, 0) * pb.get(k, 0) for k in set(pa.index) | set(pb.index)))
    return (observed - expected) / (1 - expected) if expected < 1 else float("nan")


def _agent_lines(predictions: Predictions, session_ids) -> pd.DataFrame:
    m = predictions.messages
    agents = m[(m["role"] == "agent") & m["session_id"].isin(set(session_ids))]
    return agents[["message_id", "session_id", "source_row"]].rename(columns={"source_row": "line"}).astype({"line": int})


def violation_scores(labels: Labels, predictions: Predictions, part: str) -> pd.DataFrame:
    """Per rulebook category: positives, tp, fp, fn, precision and recall (Wilson 95%), fp per 1,000."""
    from cs_analytics import load_rulebook

    ids = labels.sessions.loc[labels.sessions["part"].isin(_parts(part)), "session_id"]
    agents = _agent_lines(predictions, ids)
    line_of = dict(zip(agents["message_id"], agents["line"]))
    session_of = dict(zip(agents["message_id"], agents["session_id"]))
    hits = predictions.hits[predictions.hits["message_id"].isin(line_of)]
    found = {(session_of[m], line_of[m], str(c)) for m, c in zip(hits["message_id"], hits["category"])}
    truth = {(s, int(line), c) for s, line, c in labels.messages[["session_id", "line", "category"]].itertuples(index=False)
             if s in set(ids)}
    rows = []
    for category in load_rulebook().categories:
        t = {x for x in truth if x[2] == category}
        f = {x for x in found if x[2] == category}
        tp, fp, fn = len(t & f), len(f - t), len(t - f)
        p_low, p_high = _interval(tp, tp + fp)
        r_low, r_high = _interval(tp, tp + fn)
        rows.append({"category": category, "positives": len(t), "tp": tp, "fp": fp, "fn": fn,
                     "precision": _ratio(tp, tp + fp), "precision_low": p_low, "precision_high": p_high,
                     "recall": _ratio(tp, tp + fn), "recall_low": r_low, "recall_high": r_high,
                     "fp_per_1000": 1000 * fp / max(len(agents), 1), "agent_messages": len(agents)})
    return pd.DataFrame(rows).set_index("category")


def _parts(part: str) -> tuple[str, ...]:
    return PARTS if part == "all" else (part,)


def _session_frame(labels: Labels, predictions: Predictions, part: str) -> pd.DataFrame:
    """Labelled sessions of ``part`` beside the detectors' session columns."""
    truth = labels.sessions[labels.sessions["part"].isin(_parts(part))].set_index("session_id")
    got = predictions.sessions.set_index("session_id")
    pol = predictions.politeness.set_index("session_id")
    frame = truth.copy()
    frame["pred_reason"] = got["contact_reason"].reindex(frame.index).fillna("other").astype(str)
    frame["pred_secondary"] = got["contact_secondary"].reindex(frame.index).fillna("").astype(str) \
        if "contact_secondary" in got else ""
    frame["pred_complaint"] = got["is_complaint"].reindex(frame.index).fillna(False).astype(bool)
    frame["pred_escalation"] = got["escalation"].reindex(frame.index).fillna(False).astype(bool)
    for check in POLITENESS_CHECKS:
        frame[f"pred_{check}"] = pol[check].reindex(frame.index).fillna(False).astype(bool)
    return frame


def _binary(truth: pd.Series, pred: pd.Series) -> dict:
    tp = int((truth & pred).sum())
    fp = int((~truth & pred).sum())
    fn = int((truth & ~pred).sum())
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    return {"positives": int(truth.sum()), "tp": tp, "fp": fp, "fn": fn, "precision": precision,
            "recall": recall, "f1": f1, "sessions": len(truth)}


def session_scores(labels: Labels, predictions: Predictions, part: str) -> dict:
    """Contact reason accuracy and confusion, complaint vs inquiry, escalation, politeness agreement."""
    frame = _session_frame(labels, predictions, part)
    right = frame["pred_reason"] == frame["contact_primary"]
    low, high = _interval(int(right.sum()), len(frame))
    either = right | (frame["pred_reason"] == frame["contact_secondary"])
    out = {
        "sessions": len(frame),
        "contact_reason": {"accuracy": float(right.mean()), "accuracy_low": low, "accuracy_high": high,
                           "primary_or_secondary": float(either.mean()), "sessions": len(frame)},
        "complaint": _binary(frame["kind"] == "complaint", frame["pred_complaint"]),
        "escalation": _binary(frame["escalation"], frame["pred_escalation"]),
        "politeness": {},
    }
    for check in POLITENESS_CHECKS:
        agree = frame[check] == frame[f"pred_{check}"]
        low, high = _interval(int(agree.sum()), len(frame))
        out["politeness"][check] = {"agreement": float(agree.mean()), "agreement_low": low, "agreement_high": high,
                                    "kappa": kappa(frame[check], frame[f"pred_{check}"]),
                                    "labelled_yes": int(frame[check].sum()), "detected_yes": int(frame[f"pred_{check}"].sum())}
    return out


def process_scores(labels: Labels, predictions: Predictions, part: str) -> dict:
    """Per process check, on the labelled complaint sessions of ``part``: agreement of the detector with
    the label (1, 0, or does-not-apply all count), with its interval, and the counts behind it."""
    if labels.process is None or predictions.process is None:
        return {}
    truth = labels.process[labels.process["part"].isin(_parts(part))]
    got = predictions.process.set_index("session_id")
    out = {}
    for check in PROCESS_CHECKS:
        label = truth[check].astype(object).where(truth[check].notna(), "n/a")
        pred = got[check].reindex(truth.index) if check in got else pd.Series(pd.NA, index=truth.index)
        pred = pred.astype(object).where(pred.notna(), "n/a")
        agree = label.astype(str) == pred.astype(str)
        low, high = _interval(int(agree.sum()), len(agree))
        out[check] = {"agreement": float(agree.mean()) if len(agree) else float("nan"), "agreement_low": low,
                      "agreement_high": high, "sessions": len(agree),
                      "labelled_yes": int((label.astype(str) == "True").sum()),
                      "detected_yes": int((pred.astype(str) == "True").sum()),
                      "labelled_na": int((label == "n/a").sum()), "detected_na": int((pred == "n/a").sum())}
    return out


def confusion(labels: Labels, predictions: Predictions, part: str) -> pd.DataFrame:
    """Labelled main topic (rows) × detected contact reason (columns)."""
    frame = _session_frame(labels, predictions, part)
    return pd.crosstab(frame["contact_primary"], frame["pred_reason"], margins=True)


def measure(predictions: Predictions | None = None, labels: Labels | None = None, part: str = "heldout") -> dict:
    """Everything the script prints for ``part`` (``tune``, ``heldout`` or ``all``), as plain data."""
    labels = labels or load_labels()
    predictions = predictions or run_detectors()
    return {"violations": violation_scores(labels, predictions, part), **session_scores(labels, predictions, part),
            "process": process_scores(labels, predictions, part)}


# ------------------------------------------------------------------------------- agreement ---
def agreement(first: Labels, second: Labels, corpus: dict | None = None) -> dict:
    """First vs second labeller on the sessions both labelled: per session field and per category."""
    corpus = corpus or real_corpus.read_sessions()
    ids = sorted(set(first.sessions["session_id"]) & set(second.sessions["session_id"]))
    a = first.sessions.set_index("session_id").loc[ids]
    b = second.sessions.set_index("session_id").loc[ids]
    fields = {}
    for column in ("contact_primary", "kind", "escalation", *POLITENESS_CHECKS, "apology_needed"):
        fields[column] = {"agreement": float((a[column] == b[column]).mean()), "kappa": kappa(a[column], b[column])}
    lenient = (a["contact_primary"] == b["contact_primary"]) | (a["contact_primary"] == b["contact_secondary"]) | \
        (a["contact_secondary"].ne("") & (a["contact_secondary"] == b["contact_primary"]))
    fields["contact_primary"]["either_way"] = float(lenient.mean())
    if first.process is not None and second.process is not None:
        both = sorted(set(first.process.index) & set(second.process.index))
        for check in PROCESS_CHECKS:
            x = first.process.loc[both, check].astype(object).where(first.process.loc[both, check].notna(), "n/a").astype(str)
            y = second.process.loc[both, check].astype(object).where(second.process.loc[both, check].notna(), "n/a").astype(str)
            fields[f"process.{check}"] = {"agreement": float((x == y).mean()), "kappa": kappa(x, y), "sessions": len(both)}
    agent_lines = [(s, line.line) for s in ids for line in corpus[s] if line.agent]
    categories = sorted(set(first.messages["category"]) | set(second.messages["category"]))
    per_category = {}
    for category in categories:
        fa = {(s, int(x)) for s, x, c in first.messages.itertuples(index=False) if c == category and s in ids}
        fb = {(s, int(x)) for s, x, c in second.messages.itertuples(index=False) if c == category and s in ids}
        ya = [k in fa for k in agent_lines]
        yb = [k in fb for k in agent_lines]
        per_category[category] = {"first": len(fa), "second": len(fb), "both": len(fa & fb),
                                  "kappa": kappa(ya, yb) if (fa or fb) else float("nan")}
    return {"sessions": len(ids), "agent_messages": len(agent_lines), "fields": fields, "categories": per_category}


# ----------------------------------------------------------------------------- disagreements ---
def errors(labels: Labels, predictions: Predictions, what: str, part: str) -> pd.DataFrame:
    """Each disagreement for a violation category or a session field (printed for development only:
    it shows chat text, which is never stored)."""
    m = predictions.messages
    if what in PROCESS_CHECKS:
        truth = labels.process[labels.process["part"].isin(_parts(part))]
        got = predictions.process.set_index("session_id").reindex(truth.index)
        label = truth[what].astype(object).where(truth[what].notna(), "n/a").astype(str)
        pred = got[what].astype(object).where(got[what].notna(), "n/a").astype(str)
        wrong = truth.index[label != pred]
        return pd.DataFrame({"label": label[wrong], "detected": pred[wrong],
                             "evidence": got.loc[wrong, f"{what}_matched"] if f"{what}_matched" in got else "",
                             "note": truth.loc[wrong, "note"]})
    if what in POLITENESS_CHECKS or what in ("contact_reason", "complaint", "escalation"):
        frame = _session_frame(labels, predictions, part)
        if what == "contact_reason":
            wrong = frame[frame["pred_reason"] != frame["contact_primary"]]
            return wrong[["contact_primary", "contact_secondary", "pred_reason", "pred_secondary", "kind", "note"]]
        if what == "complaint":
            wrong = frame[(frame["kind"] == "complaint") != frame["pred_complaint"]]
            return wrong[["kind", "contact_primary", "pred_complaint", "pred_reason", "note"]]
        column = what
        wrong = frame[frame[column] != frame[f"pred_{column}"]]
        return wrong[[column, f"pred_{column}", "note"]]
    ids = set(labels.sessions.loc[labels.sessions["part"].isin(_parts(part)), "session_id"])
    agents = _agent_lines(predictions, ids)
    hits = predictions.hits[(predictions.hits["category"].astype(str) == what)
                            & predictions.hits["message_id"].isin(set(agents["message_id"]))]
    found = agents[agents["message_id"].isin(set(hits["message_id"]))]
    found = set(zip(found["session_id"], found["line"]))
    truth = {(s, int(x)) for s, x, c in labels.messages.itertuples(index=False) if c == what and s in ids}
    notes = pd.read_csv(LABELS_DIR / "messages.csv", dtype=str, keep_default_na=False)
    note_of = {(s, int(x)): n for s, x, n in zip(notes["session_id"], notes["line"], notes["note"])}
    text_of = dict(zip(zip(m["session_id"], m["source_row"].astype(int)), m["text"]))
    matched = hits.groupby("message_id")["matched"].agg(lambda s: ",".join(map(str, s)))
    id_of = dict(zip(zip(agents["session_id"], agents["line"]), agents["message_id"]))
    rows = [{"kind": "fp" if key in found else "fn", "session_id": key[0], "line": key[1],
             "matched": matched.get(id_of.get(key), ""), "note": note_of.get(key, ""), "text": text_of.get(key, "")}
            for key in sorted(found ^ truth)]
    return pd.DataFrame(rows, columns=["kind", "session_id", "line", "matched", "note", "text"])


# ---------------------------------------------------------------------------- stored figures ---
def stored_figures(predictions: Predictions | None = None, labels: Labels | None = None) -> dict:
    """The held-back figures as stored in the package (rounded, with versions and hashes)."""
    from cs_analytics.tables import accuracy
    from cs_analytics import load_rulebook, load_taxonomy

    labels = labels or load_labels()
    predictions = predictions or run_detectors()
    result = measure(predictions, labels, "heldout")
    r4 = lambda x: None if x is None or (isinstance(x, float) and np.isnan(x)) else round(float(x), 4)  # noqa: E731
    violations = {}
    for category, row in result["violations"].iterrows():
        violations[category] = {"positives": int(row["positives"]), "tp": int(row["tp"]), "fp": int(row["fp"]),
                                "fn": int(row["fn"]), **{k: r4(row[k]) for k in (
                                    "precision", "precision_low", "precision_high", "recall", "recall_low",
                                    "recall_high", "fp_per_1000")}}
    path = real_corpus.corpus_path()
    return {
        "what": "Held-back part of the real JD chats labelled in tests/cases/real/ (see its README.md); "
                "measured by tests/real_quality.py --write.",
        "corpus": {"file": path.name, "sha256": corpus_sha256(path), "labels_sha256": labels_sha256(),
                   "sessions": int(result["sessions"]),
                   "agent_messages": int(result["violations"]["agent_messages"].iloc[0])},
        "versions": {"rulebook": load_rulebook().version, "taxonomy": load_taxonomy().version,
                     "service_phrases": accuracy.phrases_version()},
        "violations": violations,
        "contact_reason": {k: r4(v) if isinstance(v, float) else v for k, v in result["contact_reason"].items()},
        "complaint": {k: r4(v) if isinstance(v, float) else v for k, v in result["complaint"].items()},
        "escalation": {k: r4(v) if isinstance(v, float) else v for k, v in result["escalation"].items()},
        "politeness": {c: {k: r4(v) if isinstance(v, float) else v for k, v in d.items()}
                       for c, d in result["politeness"].items()},
        "process": {c: {k: r4(v) if isinstance(v, float) else v for k, v in d.items()}
                    for c, d in result["process"].items()},
    }


def floors(predictions: Predictions, labels: Labels) -> dict:
    """Today's level, cut to two decimals, per part: what tests/test_real_quality.py asserts. A category
    with at least 15 labelled positives on a part gets precision and recall floors, a rarer one a ceiling
    on false alarms per 1,000 agent messages."""
    cut = lambda x: float(np.floor(x * 100) / 100)  # noqa: E731
    out: dict = {}
    for part in PARTS:
        result = measure(predictions, labels, part)
        violations = {}
        for category, row in result["violations"].iterrows():
            if row["positives"] >= 15:
                violations[category] = {"precision": cut(row["precision"]), "recall": cut(row["recall"])}
            else:
                violations[category] = {"max_fp_per_1000": float(np.ceil(row["fp_per_1000"] * 100) / 100)}
        out[part] = {"violations": violations, "contact_reason_accuracy": cut(result["contact_reason"]["accuracy"]),
                     "complaint_f1": cut(result["complaint"]["f1"]),
                     "politeness_agreement": {c: cut(d["agreement"]) for c, d in result["politeness"].items()},
                     "process_agreement": {c: cut(d["agreement"]) for c, d in result["process"].items()
                                           if not np.isnan(d["agreement"])}}
    second = agreement(labels, load_labels(SECOND_DIR))
    out["agreement"] = {f: cut(d["agreement"]) for f, d in second["fields"].items() if not np.isnan(d["agreement"])}
    return out


# ------------------------------------------------------------------------------------ print ---
def _print_part(name: str, result: dict) -> None:
    v = result["violations"]
    print(f"\n## {name}: {result['sessions']} sessions, {int(v['agent_messages'].iloc[0])} agent messages")
    table = v[["positives", "tp", "fp", "fn"]].copy()
    fmt = lambda x, lo, hi: "   -" if np.isnan(x) else f"{x:.2f} [{lo:.2f}, {hi:.2f}]"  # noqa: E731
    table["precision [95%]"] = [fmt(a, b, c) for a, b, c in zip(v["precision"], v["precision_low"], v["precision_high"])]
    table["recall [95%]"] = [fmt(a, b, c) for a, b, c in zip(v["recall"], v["recall_low"], v["recall_high"])]
    table["fp/1000"] = v["fp_per_1000"].round(2)
    print(table.to_string())
    c = result["contact_reason"]
    print(f"\ncontact reason accuracy {c['accuracy']:.3f} [{c['accuracy_low']:.3f}, {c['accuracy_high']:.3f}] "
          f"(label's primary or secondary: {c['primary_or_secondary']:.3f})")
    for key in ("complaint", "escalation"):
        b = result[key]
        print(f"{key:<10} positives {b['positives']:>3}  tp {b['tp']:>3} fp {b['fp']:>3} fn {b['fn']:>3}  "
              f"P {b['precision']:.3f}  R {b['recall']:.3f}  F1 {b['f1']:.3f}")
    for check, d in result.get("process", {}).items():
        print(f"{check:<20} agreement {d['agreement']:.3f} [{d['agreement_low']:.3f}, {d['agreement_high']:.3f}]  "
              f"on {d['sessions']} complaint sessions (labelled yes {d['labelled_yes']}, detected yes {d['detected_yes']}, "
              f"labelled n/a {d['labelled_na']}, detected n/a {d['detected_na']})")
    for check, d in result["politeness"].items():
        print(f"{check:<14} agreement {d['agreement']:.3f} [{d['agreement_low']:.3f}, {d['agreement_high']:.3f}]  "
              f"kappa {d['kappa']:.3f}  (labelled yes {d['labelled_yes']}, detected yes {d['detected_yes']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("tune", "heldout", "all", "both"), default="both")
    parser.add_argument("--errors", metavar="WHAT", help="a category, contact_reason, complaint, escalation, greeting, closing or anything_else")
    parser.add_argument("--confusion", action="store_true", help="print the contact-reason confusion table")
    parser.add_argument("--agreement", action="store_true", help="first vs second labeller")
    parser.add_argument("--write", action="store_true", help="store the held-back figures in the package")
    parser.add_argument("--write-floors", action="store_true", help="set tests/cases/real/floors.yaml to today's level")
    args = parser.parse_args(argv)
    path = real_corpus.corpus_path()
    if not path.exists():
        print(f"no real corpus at {path}; set CS_ANALYTICS_REAL_CORPUS", file=sys.stderr)
        return 2
    labels = load_labels()
    if args.agreement:
        result = agreement(labels, load_labels(SECOND_DIR))
        print(f"{result['sessions']} sessions, {result['agent_messages']} agent messages labelled twice")
        print(pd.DataFrame(result["fields"]).T.round(3).to_string())
        print(pd.DataFrame(result["categories"]).T.to_string())
        return 0
    predictions = run_detectors(path)
    parts = PARTS if args.part == "both" else (args.part,)
    if args.errors:
        pd.set_option("display.max_colwidth", 200)
        pd.set_option("display.width", 250)
        for part in parts:
            print(errors(labels, predictions, args.errors, part).to_string())
        return 0
    for part in parts:
        _print_part(part, measure(predictions, labels, part))
        if args.confusion:
            print(confusion(labels, predictions, part).to_string())
    if args.write:
        from cs_analytics.tables import accuracy

        target = accuracy.write_figures(stored_figures(predictions, labels))
        print(f"\nwrote {target}")
    if args.write_floors:
        import yaml

        target = LABELS_DIR / "floors.yaml"
        header = ("# Floors of tests/test_real_quality.py: the level reached on real JD chats, cut to two decimals\n"
                  "# (tests/real_quality.py --write-floors). Raise them when a detector gets better; never lower them\n"
                  "# to make a change pass.\n")
        target.write_text(header + yaml.safe_dump(floors(predictions, labels), sort_keys=False), encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
