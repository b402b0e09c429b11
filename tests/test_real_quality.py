"""The detectors measured on real JD chats hold their level, and the figures the notebooks show are current.

Runs only where the real corpus is (../shared/data/real/, or $CS_ANALYTICS_REAL_CORPUS): it is never
copied into the project. Floors (tests/cases/real/floors.yaml) are the levels reached when the labels
were made; a change that loses accuracy on either part fails here. tests/real_quality.py prints the tables.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_corpus  # noqa: E402

CORPUS = real_corpus.corpus_path()
FLOORS = yaml.safe_load((real_corpus.LABELS_DIR / "floors.yaml").read_text(encoding="utf-8"))
CATEGORY_VALUES = {"service_taboo", "absolute_claim", "efficacy_exaggeration", "third_party_platform",
                   "off_platform_transaction", "review_inducement", "abuse", "privacy_leak", "informal_address"}
REASONS = {"logistics", "quality", "usage", "return_refund", "invoice", "price_promo", "stock_shipping", "attitude",
           "false_advertising", "size", "account_payment", "order_change", "other"}

needs_corpus = pytest.mark.skipif(not CORPUS.exists(), reason=(
    f"the real JD corpus is not at {CORPUS}: accuracy on real chats is measured where ../shared/data/real/ "
    "is present (set CS_ANALYTICS_REAL_CORPUS to its jddc_dev_sessions.tsv)"))


@pytest.fixture(scope="module")
def measured():
    import real_quality

    labels = real_quality.load_labels()
    predictions = real_quality.run_detectors(CORPUS)
    return real_quality, labels, predictions, {part: real_quality.measure(predictions, labels, part)
                                               for part in real_quality.PARTS}


def test_label_files_hold_keys_and_valid_values():
    """Labels are keys (no chat text) with values from the guide; this holds without the corpus too."""
    import real_quality

    labels = real_quality.load_labels()
    sessions = labels.sessions
    assert sessions["session_id"].is_unique
    assert set(sessions["contact_primary"]) <= REASONS
    assert set(sessions["contact_secondary"]) <= REASONS | {""}
    assert set(sessions["kind"]) <= {"complaint", "inquiry"}
    assert set(labels.messages["category"]) <= CATEGORY_VALUES
    process = labels.process
    complaint_ids = set(sessions.loc[sessions["kind"] == "complaint", "session_id"])
    assert set(process.index) == complaint_ids, "process.csv holds every complaint session, once"
    assert (process.loc[process["transferred"] == False, "handoff_announced"].isna()).all()  # noqa: E712
    for folder in (real_corpus.LABELS_DIR, real_corpus.LABELS_DIR / "second"):
        for name in ("sessions.csv", "messages.csv", "process.csv"):
            text = (folder / name).read_text(encoding="utf-8")
            runs = re.findall(r"[\u4e00-\u9fff]{7,}", text)
            assert not runs, f"{folder / name} holds Chinese text runs {runs[:3]}: labels keep keys and notes in own words"


@needs_corpus
def test_labels_point_at_agent_lines_of_their_sessions():
    import real_quality

    corpus = real_corpus.read_sessions(CORPUS)
    labels = real_quality.load_labels()
    assert set(labels.sessions["session_id"]) == set(corpus)
    agent_lines = {(s, line.line) for s, lines in corpus.items() for line in lines if line.agent}
    stray = {(s, int(x)) for s, x in zip(labels.messages["session_id"], labels.messages["line"])} - agent_lines
    assert not stray, f"labelled lines that are not agent messages of their session: {sorted(stray)[:5]}"


@needs_corpus
@pytest.mark.parametrize("part", ["tune", "heldout"])
def test_violation_categories_hold_their_floors(measured, part):
    _, _, _, results = measured
    table = results[part]["violations"]
    for category, floor in FLOORS[part]["violations"].items():
        row = table.loc[category]
        if "precision" in floor:
            assert row["precision"] >= floor["precision"], f"{part} {category} precision {row['precision']:.3f} < {floor['precision']}"
        if "recall" in floor:
            assert row["recall"] >= floor["recall"], f"{part} {category} recall {row['recall']:.3f} < {floor['recall']}"
        if "max_fp_per_1000" in floor:
            assert row["fp_per_1000"] <= floor["max_fp_per_1000"], f"{part} {category}: {row['fp_per_1000']:.2f} false alarms per 1,000"


@needs_corpus
@pytest.mark.parametrize("part", ["tune", "heldout"])
def test_session_measures_hold_their_floors(measured, part):
    _, _, _, results = measured
    result, floor = results[part], FLOORS[part]
    assert result["contact_reason"]["accuracy"] >= floor["contact_reason_accuracy"]
    assert result["complaint"]["f1"] >= floor["complaint_f1"]
    for check, value in floor["politeness_agreement"].items():
        assert result["politeness"][check]["agreement"] >= value, f"{part} {check} agreement"
    for check, value in floor["process_agreement"].items():
        assert result["process"][check]["agreement"] >= value, f"{part} process {check} agreement"


@needs_corpus
def test_second_labeller_agrees(measured):
    real_quality, labels, _, _ = measured
    result = real_quality.agreement(labels, real_quality.load_labels(real_quality.SECOND_DIR))
    assert result["sessions"] == 60
    for field, floor in FLOORS["agreement"].items():
        assert result["fields"][field]["agreement"] >= floor, field


@needs_corpus
def test_packaged_figures_are_current(measured):
    """The figures notebooks 02, 03 and 05 show were measured with today's rules, taxonomy, phrases and labels."""
    real_quality, labels, predictions, _ = measured
    from cs_analytics.tables import accuracy

    assert accuracy.load_figures() == real_quality.stored_figures(predictions, labels), (
        "cs_analytics/resources/accuracy/real_chats.yaml is stale: run .venv/bin/python tests/real_quality.py --write")


def test_trust_tables_and_notes_read_the_packaged_figures(tmp_path):
    """What notebooks 02, 03 and 05 show: a table per kind, and a note that says when the analyst's
    own layers are not what was measured."""
    from cs_analytics.tables import accuracy
    from cs_analytics import load_rulebook, load_taxonomy

    for kind in accuracy.KINDS:
        table = accuracy.trust_table(kind)
        assert len(table) and not table.isna().any().any(), kind
    violations = accuracy.trust_table("violations")
    assert any("service_taboo" in label for label in violations.index)
    assert "实测" in accuracy.trust_note("violations", rulebook=load_rulebook())
    assert "不同" not in accuracy.trust_note("violations", rulebook=load_rulebook())
    layer = tmp_path / "mine.yaml"
    layer.write_text("disable: [taboo.refusal.no]\n", encoding="utf-8")
    assert "differ" in accuracy.trust_note("violations", rulebook=load_rulebook(layer))
    assert "differ" not in accuracy.trust_note("complaints", taxonomy=load_taxonomy())
