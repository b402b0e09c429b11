"""No crash on any valid export: small exports of awkward shapes (tests/shapes.py) go through the
loader, every finding of analyze() and the table functions the notebooks call; a handful run as a
whole report, every notebook completing and saying what it skips."""
from __future__ import annotations

import json
import warnings
from concurrent.futures import ProcessPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cs_analytics import analyze, load_logs
from cs_analytics.findings.analyze import FINDINGS
from cs_analytics.tables import (complaint_stats as cst, overview, politeness_stats as pstats, process_stats as ps,
                                 scorecards as sc, timing_stats as tstats, violation_stats as vs)
from cs_analytics.findings import timing as tm

from shapes import SHAPES, shaped_export, write_export


def every_table(found) -> int:
    """Call each table function the notebooks call on ``found``; returns how many ran."""
    messages, hits, sessions, checks = found.messages, found.hits, found.complaint_sessions, found.politeness
    calls = [
        lambda: overview.session_table(messages), lambda: overview.volume_by(messages, "platform"),
        lambda: vs.agent_messages(messages), lambda: vs.category_rates(messages, hits, found.rulebook),
        lambda: vs.rate_by(messages, hits, "platform"), lambda: vs.rate_by(messages, hits, "agent_id"),
        lambda: vs.rate_matrix(messages, hits, "agent_id"), lambda: vs.rule_summary(hits, found.rulebook, messages),
        lambda: vs.top_phrases(hits, 20, found.rulebook), lambda: vs.evidence(messages, hits, found.rulebook),
        lambda: vs.examples(messages, hits, rulebook=found.rulebook), lambda: vs.evasion_summary(hits, found.rulebook),
        lambda: cst.type_distribution(sessions, found.taxonomy), lambda: cst.contact_reason_distribution(sessions, found.taxonomy),
        lambda: cst.inquiry_topics(sessions, found.taxonomy), lambda: cst.types_by(sessions, "platform", found.taxonomy),
        lambda: cst.top_skus(sessions, taxonomy=found.taxonomy), lambda: cst.escalation_by_type(sessions, found.taxonomy),
        lambda: cst.temperament_by_type(sessions, found.taxonomy),
        lambda: cst.handling_summary(cst.handling(messages, sessions, hits), "primary", found.taxonomy),
        lambda: cst.example_sessions(messages, sessions, taxonomy=found.taxonomy),
        lambda: pstats.check_rates(checks), lambda: pstats.check_rates(checks, "agent_id"), lambda: pstats.scorecards(checks),
        lambda: pstats.example_sessions(messages, checks),
        lambda: sc.coaching(sc.agent_scorecards(messages, hits, checks, found.reply_rounds, process=found.process)),
        lambda: ps.check_rates(found.process), lambda: ps.check_rates(found.process, "agent_id", complaints_only=False),
        lambda: ps.funnel(found.process, checks), lambda: ps.labelled(ps.funnel(found.process, checks, "primary"), found.taxonomy),
        lambda: ps.example_sessions(messages, found.process),
    ]
    if found.timed:
        rounds = found.reply_rounds
        calls += [
            lambda: overview.daily_volume(messages), lambda: overview.hour_weekday_matrix(messages),
            lambda: vs.rate_matrix(messages, hits, "week"), lambda: cst.weekly_types(sessions, found.taxonomy),
            lambda: cst.weekly_rates(sessions), lambda: tstats.response_summary(rounds, "platform"),
            lambda: tstats.hour_weekday_median(rounds), lambda: tstats.weekly_sla(rounds),
            lambda: tstats.worst_waits(messages, rounds), lambda: tstats.wait_apology_rates(found.long_waits),
            lambda: tstats.workload_response(rounds, tm.concurrency(messages, rounds)),
            lambda: tstats.metrics_table(found.platform_metrics),
            lambda: pstats.check_rates(checks, "week"),
            lambda: pstats.before_after(checks, pstats.midpoint_date(checks)) if checks["started"].notna().any() else None,
            lambda: sc.agent_trends(messages, hits, checks, rounds, process=found.process),
        ]
    for call in calls:
        call()
    return len(calls)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(shape=st.sampled_from(SHAPES), sessions=st.integers(1, 40), seed=st.sampled_from([7, 11]),
       start=st.integers(0, 80))
def test_findings_and_tables_on_every_shape(tmp_path_factory, shape, sessions, seed, start):
    frame = shaped_export(shape, sessions, seed, start)
    path = write_export(frame, tmp_path_factory.mktemp("shape") / "export.csv")
    result = load_logs(path)
    assert result.report.rows_read == result.report.rows_kept + result.report.rows_quarantined
    found = analyze(result)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)     # no mean of nothing, no division by zero
        for name in FINDINGS:
            value = getattr(found, name)
            assert value is None or len(value.columns), name
        assert every_table(found) > 20


REPORT_SHAPES = ("one_session", "agents_below_min_sessions", "customer_only", "no_shop_agents_times", "single_day")
EXPECTED_NOTES = {   # what a notebook says when it skips a part (one per shape)
    "agents_below_min_sessions": ("06_agent_scorecards", "不排名"),
    "customer_only": ("02_forbidden_phrases", "nothing to judge"),
    "no_shop_agents_times": ("04_response_times", "response times cannot be computed"),
}


def _report(args):
    from cs_analytics.outputs.report import run_report

    shape, folder = args
    export = write_export(shaped_export(shape), folder / f"{shape}.csv")
    result = run_report(export, folder / shape, jobs=1, log=lambda *_: None)
    return shape, [r.error for r in result.runs if not r.ok], result.errors


@pytest.fixture(scope="module")
def shape_reports(tmp_path_factory):
    """Every report shape run once, two at a time (these machines have two cores)."""
    folder = tmp_path_factory.mktemp("shape_reports")
    with ProcessPoolExecutor(2) as pool:
        done = list(pool.map(_report, [(shape, folder) for shape in REPORT_SHAPES]))
    return folder, {shape: (failed, errors) for shape, failed, errors in done}


@pytest.mark.slow
@pytest.mark.parametrize("shape", REPORT_SHAPES)
def test_report_completes_on_a_small_export(shape_reports, shape):
    folder, outcomes = shape_reports
    failed, errors = outcomes[shape]
    assert not failed and not errors, f"{shape}: {failed or errors}"
    run = folder / shape
    assert (run / "data" / "findings" / "findings.json").is_file()
    if shape in EXPECTED_NOTES:
        book, note = EXPECTED_NOTES[shape]
        executed = json.loads((run / "notebooks" / f"{book}.ipynb").read_text(encoding="utf-8"))
        text = "".join("".join(o.get("text", "")) for c in executed["cells"] for o in c.get("outputs", []))
        text += "".join("".join(o.get("data", {}).get("text/plain", "")) for c in executed["cells"] for o in c.get("outputs", []))
        assert note in text, f"{book} on {shape} should say {note!r}"
