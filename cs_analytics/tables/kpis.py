"""Headline numbers of a run (the summary page's KPI tiles, the deck's first slide), with the change
against a comparison period.

The tiles are data (``resources/kpis.yaml``: name, unit, format, which way is better, where the
notebooks show the same number). Each value is computed from the run's findings by the same rule the
notebook uses, so a tile and its notebook agree:

- violations per 1,000 agent messages: (message, category) violations ÷ agent messages × 1,000 (02);
- complaint share: complaint sessions ÷ sessions; escalation share: of complaint sessions (03);
- each platform's own response metric, by its recipe (04);
- mean politeness score of the judged sessions (05); mean handling score of complaint sessions (07).

**Comparison.** When the run was cut to dates (``--from``/``--to``) and the export holds the period of
the same length just before, the tiles compare against that period (its findings computed the same
way). Otherwise the run's own period is cut in two halves by the day each session starts, and the
change is the later half against the earlier. Without send times there is no comparison. A change is
called good or bad only when it is larger than chance (a two-sided 95% test on the per-unit values);
smaller changes are shown as within noise.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import config
from ..base.layering import load_yaml
from ..base.schema import is_in
from ..base.timeparse import has_times
from ..findings.timing import platform_metrics

SPEC_FILE = config.RESOURCES_DIR / "kpis.yaml"
FORMATS = ("percent", "decimal1")
MARKERS = {"up": "▲", "down": "▼", "flat": "■"}     # a change's direction, on the summary page and the deck
Z_95 = 1.959964


class KpiSpecError(ValueError):
    """A bad KPI file: the message names the file and the tile."""


def kpi_spec(path: str | Path | None = None) -> dict:
    """The tile definitions (``resources/kpis.yaml``), checked."""
    path = Path(path or SPEC_FILE)
    spec = load_yaml(path.read_text(encoding="utf-8"))
    for i, tile in enumerate(spec.get("tiles") or []):
        where = f"{path}: tile {tile.get('id', i + 1)}"
        missing = [k for k in ("id", "en", "format", "better", "notebook", "definition", "source") if not tile.get(k)]
        if missing:
            raise KpiSpecError(f"{where}: add {', '.join(missing)}")
        if tile["format"] not in FORMATS:
            raise KpiSpecError(f"{where}: format {tile['format']!r} is not one of {', '.join(FORMATS)}")
        if tile["better"] not in ("lower", "higher"):
            raise KpiSpecError(f"{where}: better must be lower or higher, not {tile['better']!r}")
        if tile["id"] not in COMPUTERS:
            raise KpiSpecError(f"{where}: no computation named {tile['id']!r} (known: {', '.join(COMPUTERS)})")
    return spec


@dataclass
class Estimate:
    """A value with the number of units it averages and their standard deviation (None when the
    spread is not known, e.g. a mean response time from the platform counts)."""

    value: float
    n: int
    sd: float | None = None


@dataclass
class PeriodFindings:
    """The findings one period's tiles are computed from."""

    messages: pd.DataFrame
    hits: pd.DataFrame
    complaint_sessions: pd.DataFrame
    politeness: pd.DataFrame
    process: pd.DataFrame
    platform_metrics: pd.DataFrame | None
    recipes: dict

    @classmethod
    def of(cls, findings) -> "PeriodFindings":
        """The tables of a ``Findings`` (stored ones are read, not recomputed)."""
        return cls(findings.messages, findings.hits, findings.complaint_sessions, findings.politeness,
                   findings.process, findings.platform_metrics, findings.recipes)

    def split(self, early: pd.Index, late: pd.Index) -> tuple["PeriodFindings", "PeriodFindings"]:
        """The same findings for the sessions in ``early`` and in ``late`` (every session with a start
        is in one of them; platform metrics recomputed on each side's messages)."""
        wanted = pd.Series(late)
        tables = {}
        for name in ("messages", "hits", "complaint_sessions", "politeness", "process"):
            frame = getattr(self, name)
            in_late = is_in(frame["session_id"], wanted)      # one lookup per table, for both sides
            tables[name] = (frame[~in_late], frame[in_late])
        if len(early) + len(late) < self.messages["session_id"].nunique():   # sessions without a start: in neither
            started = pd.Series(early.append(late))
            tables = {name: (before[is_in(before["session_id"], started)], after) for name, (before, after) in tables.items()}
        sides = []
        for side in (0, 1):
            messages = tables["messages"][side]
            metrics = platform_metrics(messages, self.recipes) if self.platform_metrics is not None and len(messages) else None
            sides.append(PeriodFindings(messages, tables["hits"][side], tables["complaint_sessions"][side],
                                        tables["politeness"][side], tables["process"][side], metrics, self.recipes))
        return sides[0], sides[1]


def _mean(values) -> Estimate:
    values = pd.Series(values, dtype="float64").dropna()
    if values.empty:
        return Estimate(float("nan"), 0)
    return Estimate(float(values.mean()), int(len(values)), float(values.std(ddof=1)) if len(values) > 1 else 0.0)


def _mean_of_counts(counts: np.ndarray, n: int, scale: float = 1.0) -> Estimate:
    """The mean and spread over ``n`` units of which those not in ``counts`` count 0."""
    if n == 0:
        return Estimate(float("nan"), 0)
    total, squares = float(counts.sum()), float((counts.astype(float) ** 2).sum())
    mean = total / n
    variance = (squares - n * mean ** 2) / (n - 1) if n > 1 else 0.0
    return Estimate(mean * scale, n, math.sqrt(max(variance, 0.0)) * scale)


def violations_per_1000(period: PeriodFindings) -> dict[str, Estimate]:
    agents = int((period.messages["role"] == "agent").sum())
    hits = period.hits[period.hits["role"] == "agent"].drop_duplicates(["message_id", "category"])
    per_message = hits.groupby("message_id", observed=True).size().to_numpy()   # messages with a violation
    return {"violations_per_1000": _mean_of_counts(per_message, agents, 1000.0)}


def _complaints(period: PeriodFindings) -> pd.Series:
    return period.complaint_sessions["is_complaint"].astype(bool)


def complaint_share(period: PeriodFindings) -> dict[str, Estimate]:
    return {"complaint_share": _mean(_complaints(period).astype(float))}


def escalation_share(period: PeriodFindings) -> dict[str, Estimate]:
    sessions = period.complaint_sessions[_complaints(period)]
    return {"escalation_share": _mean(sessions["escalation"].astype(bool).astype(float))}


def politeness_score(period: PeriodFindings) -> dict[str, Estimate]:
    return {"politeness_score": _mean(period.politeness["score"])}


def handling_score(period: PeriodFindings) -> dict[str, Estimate]:
    process = period.process
    return {"handling_score": _mean(process.loc[process["is_complaint"].astype(bool), "handling_score"])}


def platform_metric_values(period: PeriodFindings) -> dict[str, Estimate]:
    """One estimate per platform metric recipe (its id prefixed ``platform_metrics:``); shares carry
    the binomial spread, a mean response time none."""
    metrics = period.platform_metrics
    if metrics is None:
        return {}
    found = {}
    for row in metrics.itertuples():
        value, n = float(row.value), int(row.units)
        sd = math.sqrt(value * (1 - value)) if row.metric != "mean_response_s" and pd.notna(value) else None
        found[f"platform_metrics:{row.recipe}"] = Estimate(value, n, sd)
    return found


COMPUTERS = {
    "violations_per_1000": violations_per_1000, "complaint_share": complaint_share,
    "escalation_share": escalation_share, "platform_metrics": platform_metric_values,
    "politeness_score": politeness_score, "handling_score": handling_score,
}


def estimates(period: PeriodFindings, spec: dict) -> dict[str, Estimate]:
    """Every tile's estimate for one period."""
    found = {}
    for tile in spec["tiles"]:
        found.update(COMPUTERS[tile["id"]](period))
    return found


# ------------------------------------------------------------------------------ periods ---
@dataclass
class Comparison:
    """What the tiles compare: the run's period, and the earlier (``before``) and later (``after``) side."""

    basis: str                 # "previous" (the period of the same length before), "halves", or "none"
    period: str
    before: str = ""
    after: str = ""


def _days(start: dt.date, end: dt.date) -> str:
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}" if start != end else f"{start:%Y-%m-%d}"


def _local(ts: pd.Series) -> pd.Series:
    """Send times as local wall-clock times (the time zone dropped)."""
    return ts.dt.tz_localize(None) if isinstance(ts.dtype, pd.DatetimeTZDtype) else ts


def session_starts(messages: pd.DataFrame) -> pd.Series:
    """Each session's first send day (local calendar day)."""
    return _local(messages["ts"]).groupby(messages["session_id"], observed=True).min().dt.normalize().dropna()


def halves(starts: pd.Series) -> tuple[pd.Index, pd.Index, Comparison] | None:
    """Sessions of the earlier and the later half of the days covered (by start day), or None when
    the data covers a single day."""
    first, last = starts.min().date(), starts.max().date()
    days = (last - first).days + 1
    if days < 2:
        return None
    middle = first + dt.timedelta(days=days // 2)
    early = starts.index[starts < pd.Timestamp(middle)]
    late = starts.index[starts >= pd.Timestamp(middle)]
    return early, late, Comparison("halves", _days(first, last), _days(first, middle - dt.timedelta(days=1)),
                                   _days(middle, last))


def against(period: dict) -> str:
    """What a tile's change is measured against, in a few words (较上期 / 后半段较前半段)."""
    return {"previous": "较上期", "halves": "后半段较前半段"}.get(period.get("basis"), "")


def period_line(period: dict) -> str:
    """One line saying the period and what the changes compare."""
    if period.get("basis") == "previous":
        return f"本期 {period['after']} · 对比上一个同样长的时期 {period['before']}"
    if period.get("basis") == "halves":
        return f"本期 {period['period']} · 变化 = 后半段({period['after']})较前半段({period['before']})"
    return f"本期 {period['period']} · 只有一天,不做比较" if period.get("period") else "导出没有时间,不做期间比较"


def previous_period(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The period of the same length that ends the day before ``first``."""
    length = (last - first).days + 1
    return first - dt.timedelta(days=length), first - dt.timedelta(days=1)


# ------------------------------------------------------------------------------ tiles ---
def _display(value: float, tile: dict) -> str:
    if value is None or not np.isfinite(value):
        return ""
    if tile["format"] == "percent":
        return f"{value:.1%}"
    return f"{value:,.1f}" + (f" {tile['unit']}" if tile.get("unit") else "")


def _change(before: Estimate, after: Estimate, tile: dict) -> dict:
    """The change from ``before`` to ``after``: its text, direction, and whether it is good, bad or noise."""
    if not (np.isfinite(before.value) and np.isfinite(after.value)) or before.n == 0 or after.n == 0:
        return {"change": None, "change_display": None, "direction": None, "good": None, "significant": None}
    change = after.value - before.value
    points = change * 100 if tile["format"] == "percent" else change       # as shown, to one decimal
    shown = f"{points:+.1f}" + (" 个百分点" if tile["format"] == "percent" else (f" {tile['unit']}" if tile.get("unit") else ""))
    direction = "flat" if round(points, 1) == 0 else ("up" if change > 0 else "down")
    significant = None
    if before.sd is not None and after.sd is not None and before.n > 1 and after.n > 1:
        spread = math.sqrt(before.sd ** 2 / before.n + after.sd ** 2 / after.n)
        significant = bool(abs(change) > Z_95 * spread) if spread > 0 else change != 0
    good = None
    if direction != "flat" and significant:
        good = (direction == "down") == (tile["better"] == "lower")
    return {"change": change, "change_display": shown, "direction": direction, "good": good, "significant": significant}


def tiles(current: PeriodFindings, before: PeriodFindings | None, after: PeriodFindings | None,
          comparison: Comparison, spec: dict | None = None) -> list[dict]:
    """The tiles: each with its value for the run's period and, where there is a comparison, the
    change from ``before`` to ``after``. A tile with no value (no complaint sessions, no send times)
    is left out; ``missing_tiles`` says which."""
    spec = spec or kpi_spec()
    values = estimates(current, spec)
    early = estimates(before, spec) if before is not None else {}
    late = estimates(after, spec) if after is not None else {}
    labels = {}
    if current.platform_metrics is not None:
        labels = {f"platform_metrics:{r.recipe}": (r.label, r.metric, r.platforms) for r in current.platform_metrics.itertuples()}
    found = []
    for tile in spec["tiles"]:
        for key, value in values.items():
            if key != tile["id"] and not key.startswith(tile["id"] + ":"):
                continue
            shown = dict(tile)
            if key in labels:                    # a platform metric: its recipe names it
                label, metric, platforms = labels[key]
                shown.update(zh=label, en=f"{tile['en']}: {str(platforms).replace(',', ', ')}")
                if metric == "mean_response_s":
                    shown.update(format="decimal1", unit="秒", better="lower")
            entry = {"id": key, "zh": shown.get("zh") or shown["en"], "en": shown["en"], "value": value.value,
                     "display": _display(value.value, shown), "units": value.n, "better": shown["better"],
                     "notebook": tile["notebook"], "definition": tile["definition"], "source": tile["source"]}
            if key in early and key in late:
                entry.update(before=early[key].value, after=late[key].value,
                             before_display=_display(early[key].value, shown), after_display=_display(late[key].value, shown),
                             **_change(early[key], late[key], shown))
            else:
                entry.update(change=None, change_display=None, direction=None, good=None, significant=None)
            found.append(entry)
    return found


def headline(findings, loaded_messages: pd.DataFrame | None = None, platforms=None, date_from=None, date_to=None,
             spec: dict | None = None) -> dict:
    """The run's headline numbers: ``{"period": {...}, "tiles": [...], "missing": [...]}``.

    ``findings``: the run's (stored) findings of the messages in scope. ``loaded_messages``: the whole
    export, where the period before a ``date_from``/``date_to`` cut is looked for."""
    from ..findings.run import analyze
    from ..ingest.filters import filter_messages

    spec = spec or kpi_spec()
    current = PeriodFindings.of(findings)
    before = after = None
    comparison = Comparison("none", "")
    if has_times(current.messages):
        starts = session_starts(current.messages)
        sent = _local(current.messages["ts"])
        first, last = sent.min().date(), sent.max().date()
        comparison = Comparison("none", _days(first, last))
        if (date_from or date_to) and loaded_messages is not None:
            start = dt.date.fromisoformat(date_from) if date_from else first
            end = dt.date.fromisoformat(date_to) if date_to else last
            prev_start, prev_end = previous_period(start, end)
            earlier = filter_messages(loaded_messages, platforms=platforms, date_from=str(prev_start), date_to=str(prev_end))
            if len(earlier):
                prior = analyze(earlier, rulebook=findings.rulebook, taxonomy=findings.taxonomy, recipes=findings.recipes)
                before, after = PeriodFindings.of(prior), current
                comparison = Comparison("previous", _days(start, end), _days(prev_start, prev_end), _days(start, end))
        if before is None:
            split = halves(starts)
            if split is not None:
                early, late, comparison = split
                comparison.period = _days(first, last)
                before, after = current.split(early, late)
    found = tiles(current, before, after, comparison, spec)
    shown_ids = {t["id"].split(":")[0] for t in found if t["display"]}
    missing = [{"id": t["id"], "zh": t.get("zh") or t["en"], "en": t["en"]} for t in spec["tiles"] if t["id"] not in shown_ids]
    return {"period": vars(comparison), "tiles": [t for t in found if t["display"]], "missing": missing,
            "spec_version": spec.get("version")}
