"""How far to trust the numbers: the detectors' accuracy measured on real JD chats.

``tests/real_quality.py --write`` measures every detector on the held-back part of real JD
customer-service chats that the team labelled by hand (tests/cases/real/, keys only) and stores the
figures in ``resources/accuracy/real_chats.yaml`` with the rulebook, taxonomy and phrase-list versions
they were measured with. Notebooks 02, 03 and 05 show them with ``trust_table`` and say, with
``trust_note``, when the analyst's own layers differ from the measured versions (then the figures
describe the packaged defaults, not the layers).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache

import pandas as pd
import yaml

from ..base import config
from ..base.layering import load_yaml

FIGURES_FILE = config.RESOURCES_DIR / "accuracy" / "real_chats.yaml"
KINDS = ("violations", "complaints", "politeness", "process")
MIN_POSITIVES = 15   # below this many labelled positives a category's recall is not reported as a figure


def phrases_version() -> str:
    """A short hash of the phrase lists and settings of the session checks (service_phrases.yaml,
    politeness.yaml, process.yaml)."""
    digest = hashlib.sha256()
    for name in ("service_phrases.yaml", "politeness.yaml", "process.yaml"):
        digest.update((config.RESOURCES_DIR / name).read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def load_figures() -> dict:
    """The stored figures (empty when the package has none)."""
    if not FIGURES_FILE.exists():
        return {}
    return load_yaml(FIGURES_FILE.read_text(encoding="utf-8")) or {}


def write_figures(figures: dict):
    """Store ``figures`` (tests/real_quality.py --write); returns the file written."""
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Written by tests/real_quality.py --write: the detectors measured on the held-back part of real JD\n"
              "# chats (labels: tests/cases/real/). Do not edit by hand; rerun the script after changing a detector.\n")
    FIGURES_FILE.write_text(header + yaml.safe_dump(figures, allow_unicode=True, sort_keys=False, width=110),
                            encoding="utf-8")
    load_figures.cache_clear()
    return FIGURES_FILE


def _interval(value, low, high) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} ({low:.2f}–{high:.2f})"


def _number(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def trust_table(kind: str, rulebook=None) -> pd.DataFrame:
    """The measured figures for one notebook: ``violations`` (per category), ``complaints`` (contact
    reason, complaint vs inquiry, escalation), ``politeness`` (greeting, closing, anything else) or
    ``process`` (the complaint-handling checks labelled on real complaint sessions)."""
    if kind not in KINDS:
        raise ValueError(f"kind is one of {KINDS}")
    figures = load_figures()
    if not figures:
        return pd.DataFrame()
    if kind == "violations":
        from ..findings.rulebook import load_rulebook

        categories = (rulebook or load_rulebook()).categories
        rows = []
        for category, f in figures["violations"].items():
            enough = f["positives"] >= MIN_POSITIVES
            rows.append({
                "类别 category": f"{categories.get(category, {}).get('label', category)} {category}",
                "实测正例 positives": f["positives"],
                "精确率 precision (95%)": _interval(f["precision"], f["precision_low"], f["precision_high"]),
                "召回率 recall (95%)": _interval(f["recall"], f["recall_low"], f["recall_high"]) if enough else "正例太少 too few",
                "每千条误报 false alarms /1000": round(f["fp_per_1000"], 1),
            })
        return pd.DataFrame(rows).set_index("类别 category")
    if kind == "complaints":
        c, b, e = figures["contact_reason"], figures["complaint"], figures["escalation"]
        return pd.DataFrame([
            {"指标 measure": "联系原因正确率 contact reason accuracy", "值 value": _interval(c["accuracy"], c["accuracy_low"], c["accuracy_high"])},
            {"指标 measure": "投诉识别 精确率 complaint precision", "值 value": _number(b["precision"])},
            {"指标 measure": "投诉识别 召回率 complaint recall", "值 value": _number(b["recall"])},
            {"指标 measure": "投诉识别 F1 complaint F1", "值 value": _number(b["f1"])},
            {"指标 measure": "升级威胁 精确率/召回率 escalation P/R",
             "值 value": f"{_number(e['precision'])} / {_number(e['recall'])} ({e['positives']} 个正例 positives)"},
        ]).set_index("指标 measure")
    if kind == "process":
        from ..findings.process import check_labels

        names = check_labels()
        return pd.DataFrame([{
            "检查 check": f"{names.get(check, check)} {check}",
            "与人工一致率 agreement (95%)": _interval(d["agreement"], d["agreement_low"], d["agreement_high"]),
            "投诉会话 sessions": d["sessions"],
        } for check, d in (figures.get("process") or {}).items()]).set_index("检查 check") if figures.get("process") else pd.DataFrame()
    labels = {"greeting": "欢迎语 greeting", "closing": "结束语 closing", "anything_else": "结束前确认 anything else"}
    return pd.DataFrame([{
        "检查 check": labels.get(check, check),
        "与人工一致率 agreement (95%)": _interval(d["agreement"], d["agreement_low"], d["agreement_high"]),
        "kappa": d["kappa"],
    } for check, d in figures["politeness"].items()]).set_index("检查 check")


def trust_note(kind: str, rulebook=None, taxonomy=None) -> str:
    """One line on where the figures come from, and whether the analyst's layers differ from them."""
    figures = load_figures()
    if not figures:
        return "本包没有真实对话的实测数字。No accuracy figures measured on real chats are packaged."
    corpus = figures["corpus"]
    line = (f"实测于 {corpus['sessions']} 个留出的真实京东客服会话({corpus['agent_messages']} 条客服消息,人工标注)。"
            f"Measured on {corpus['sessions']} held-back real JD sessions labelled by hand.")
    versions = figures["versions"]
    differs = []
    if kind == "violations" and rulebook is not None and rulebook.version != versions["rulebook"]:
        differs.append("规则库 rulebook")
    if kind == "complaints" and taxonomy is not None and taxonomy.version != versions["taxonomy"]:
        differs.append("投诉分类 taxonomy")
    if kind in ("politeness", "process") and phrases_version() != versions["service_phrases"]:
        differs.append("礼貌用语 phrase lists")
    if differs:
        line += (f" 注意:本次使用的{'、'.join(differs)}与实测版本不同,上表是默认版本的数字。"
                 f"Note: your {', '.join(differs)} differ from the measured version; the table describes the defaults.")
    return line


def headline_rows(rulebook=None) -> list[dict]:
    """A few lines for a run's summary page: the measured precision/recall of the categories with
    enough real positives, contact-reason accuracy, complaint F1, and the agreement range of the
    politeness and complaint-handling checks; each ``{"measure", "value"}``."""
    figures = load_figures()
    if not figures:
        return []
    from ..findings.rulebook import load_rulebook

    categories = (rulebook or load_rulebook()).categories
    rows = []
    for category, f in figures["violations"].items():
        if f["positives"] >= MIN_POSITIVES:
            rows.append({"measure": f"{categories.get(category, {}).get('label', category)} 精确率 / 召回率 precision / recall",
                         "value": f"{_number(f['precision'])} / {_number(f['recall'])}({f['positives']} 个正例 positives)"})
    contact, complaint = figures["contact_reason"], figures["complaint"]
    rows.append({"measure": "联系原因正确率 contact reason accuracy",
                 "value": _interval(contact["accuracy"], contact["accuracy_low"], contact["accuracy_high"])})
    rows.append({"measure": "投诉识别 F1 complaint F1", "value": _number(complaint["f1"])})
    for kind, label in (("politeness", "礼貌检查与人工一致率 politeness checks agreement"),
                        ("process", "投诉处理步骤与人工一致率 handling steps agreement")):
        values = [d["agreement"] for d in (figures.get(kind) or {}).values() if d.get("agreement") is not None]
        if values:
            rows.append({"measure": label, "value": f"{min(values):.2f} – {max(values):.2f}"})
    return rows
