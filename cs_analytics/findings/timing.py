"""Response times: reply rounds, their statistics, platform metric recipes, long waits, workload.

A **reply round** opens at the first customer message that has no human agent reply yet and closes
at the next human agent reply in the session; several customer messages in a burst are one round.
Bot messages (role ``bot``) and agent messages that are automatic replies (``auto_reply_phrases`` in
resources/timing/settings.yaml) are kept apart: a round records when a bot first answered it, but a
bot does not close it unless a metric recipe says bots count.

Everything here needs send times. On an export without times every function raises
``NoTimestampsError`` with a plain explanation (the notebooks check ``has_times`` first and skip).
The computation is vectorised pandas: no Python loop over messages or sessions
(tests/benchmarks/bench_timing.py compares it with a per-session loop).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from ..base import config
from .service_phrases import find_service_phrases
from ..base.timeparse import require_times, week_start
from ..base.schema import as_messages, is_in
from .sessions import BOT, CUSTOMER, HUMAN, message_kinds, session_owner, timing_settings
from ..base.layering import load_yaml

TIMING_DIR = config.RESOURCES_DIR / "timing"
RECIPES_FILE = TIMING_DIR / "platform_metrics.yaml"
ROUND_COLUMNS = (
    "session_id", "round", "platform", "shop", "customer_id", "opened_at", "first_message_id", "customer_messages",
    "replied_at", "reply_message_id", "agent_id", "responsible_agent", "response_s", "answered", "bot_replied_at",
    "bot_response_s", "hour", "weekday", "week",
)
RECIPE_FIELDS = {"id", "label", "platforms", "unit", "metric", "threshold_s", "window", "count_bots",
                 "session_merge_gap_s", "source", "checked", "note"}
UNITS = ("round", "first_round", "buyer_day")
METRICS = ("share_within", "mean_response_s", "valid_share")
NAMED = {"units": UNITS, "metrics": METRICS}          # each named in the recipe file (zh, en)
# the messages' columns that reply rounds and joined sessions are computed from (role and text: the
# columns every messages table has)
ROUND_INPUTS = ("message_id", "session_id", "seq", "ts", "role", "text", "agent_id", "customer_id", "shop", "platform")


class RecipeError(ValueError):
    """A metric recipe file is wrong; the message names the file, recipe and fix."""


# ------------------------------------------------------------------------------------ rounds ---
def _ordered(messages: pd.DataFrame, what: str, kinds: np.ndarray | None = None
             ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """The timed messages (unsorted, to avoid copying every column) and, in (session, time, seq) order:
    ``order`` (their positions), kinds and session codes; plus the session ids by code. ``kinds``: the
    messages' ``message_kinds`` when known."""
    require_times(messages, what)
    kinds = message_kinds(messages) if kinds is None else kinds
    timed = messages["ts"].notna().to_numpy()
    frame, kinds = (messages, kinds) if timed.all() else (messages[timed], kinds[timed])
    codes, sessions = pd.factorize(frame["session_id"], sort=True)
    order = np.lexsort((frame["seq"].to_numpy(), frame["ts"].array.asi8, codes))
    return frame, order, kinds[order], codes[order], sessions


def _take(values: pd.Series, rows: np.ndarray):
    """values at positions ``rows`` (-1: missing), as an array of the column's own dtype."""
    return values.array.take(rows, allow_fill=True)


def reply_rounds(messages: pd.DataFrame, count_bots: bool = False, kinds: np.ndarray | None = None) -> pd.DataFrame:
    """One row per reply round (see the module docstring).

    Columns: ``session_id, round`` (1-based), ``platform, shop, customer_id, opened_at,
    first_message_id, customer_messages`` (in the burst), ``replied_at, reply_message_id, agent_id``
    (the human who closed it), ``responsible_agent`` (the replier; for an unanswered round the agent of
    the previous reply, else the session's first human agent: use it to hold agents to their misses),
    ``response_s`` (NaN when unanswered), ``answered``, ``bot_replied_at,
    bot_response_s`` (first bot reply in the round), and ``hour, weekday`` (0 = Monday), ``week`` of
    the opening. With ``count_bots`` a bot reply closes a round like a human one. ``kinds``: the
    messages' ``sessions.message_kinds`` when known.

    Vectorised: rows are sorted once; a message's round number is the count of replies before it in
    its session (a running sum), so rounds, their replies and first bot answers are found with
    array lookups, not loops.
    """
    messages = as_messages(messages)
    frame, order, kind, codes, sessions = _ordered(messages, "Reply rounds", kinds)
    n = len(frame)
    closes = (kind == HUMAN) | ((kind == BOT) if count_bots else False)
    running = np.cumsum(closes)
    first_row = np.r_[0, np.flatnonzero(np.diff(codes)) + 1] if n else np.zeros(0, dtype=np.int64)
    before_session = (running - closes)[first_row]
    k = running - np.repeat(before_session, np.diff(np.r_[first_row, n]))       # replies so far in the session
    span = int(k.max()) + 2 if n else 1
    key = codes.astype(np.int64) * span + k
    customer_rows = np.flatnonzero(kind == CUSTOMER)
    round_keys, first_idx, counts = np.unique(key[customer_rows], return_index=True, return_counts=True)
    open_rows = customer_rows[first_idx]
    # the reply closing round k is the close row whose running count is k + 1; the previous reply, k
    close_rows = np.flatnonzero(closes)
    reply_rows = _lookup(key[close_rows] - 1, close_rows, round_keys)
    previous_rows = _lookup(key[close_rows], close_rows, round_keys)
    # the first bot message of the round at or after its opening (rows are in time order)
    bot_rows = np.flatnonzero(kind == BOT)
    bot_reply_rows = _lookup(key[bot_rows] * (n + 1) + bot_rows, bot_rows, round_keys * (n + 1) + open_rows,
                             exact=False, same=lambda row: key[row] == round_keys)
    # the session's first human agent, for rounds nobody answered
    has_agent = frame["agent_id"].notna().to_numpy()[order]
    human_rows = np.flatnonzero((kind == HUMAN) & has_agent)
    first_human = pd.Series(human_rows).groupby(codes[human_rows]).first()
    session_first = first_human.reindex(codes[open_rows]).fillna(-1).to_numpy(dtype=np.int64)

    def original(rows: np.ndarray) -> np.ndarray:       # sorted positions → the frame's own positions
        return np.where(rows >= 0, order[np.maximum(rows, 0)], -1)

    open_at, reply_at, previous_at = original(open_rows), original(reply_rows), original(previous_rows)
    opened = pd.Series(_take(frame["ts"], open_at))
    agent = pd.Series(_take(frame["agent_id"], reply_at))
    responsible = agent.fillna(pd.Series(_take(frame["agent_id"], previous_at))) \
        .fillna(pd.Series(_take(frame["agent_id"], original(session_first))))
    round_codes = codes[open_rows]
    rounds = pd.DataFrame({
        "session_id": pd.array(np.asarray(sessions)[round_codes], dtype=pd.StringDtype("pyarrow")),
        "round": _ordinal(round_codes),
        "platform": _take(frame["platform"], open_at), "shop": _take(frame["shop"], open_at),
        "customer_id": _take(frame["customer_id"], open_at), "opened_at": opened,
        "first_message_id": _take(frame["message_id"], open_at), "customer_messages": counts,
        "replied_at": _take(frame["ts"], reply_at), "reply_message_id": _take(frame["message_id"], reply_at),
        "agent_id": agent, "responsible_agent": responsible,
    })
    rounds["response_s"] = (rounds["replied_at"] - rounds["opened_at"]).dt.total_seconds()
    rounds["answered"] = reply_rows >= 0
    rounds["bot_replied_at"] = _take(frame["ts"], original(bot_reply_rows))
    rounds["bot_response_s"] = (rounds["bot_replied_at"] - rounds["opened_at"]).dt.total_seconds()
    rounds["hour"] = opened.dt.hour
    rounds["weekday"] = opened.dt.day_of_week
    rounds["week"] = week_start(opened)
    return rounds[list(ROUND_COLUMNS)]


def _lookup(sorted_keys: np.ndarray, rows: np.ndarray, wanted: np.ndarray, exact: bool = True, same=None) -> np.ndarray:
    """For each wanted key, the row whose key equals it (``exact``), or the first row whose key is at
    or after it and for which ``same(row)`` holds; -1 where there is none. ``sorted_keys`` ascending."""
    if not len(rows):
        return np.full(len(wanted), -1, dtype=np.int64)
    at = np.searchsorted(sorted_keys, wanted)
    inside = at < len(rows)
    row = rows[np.minimum(at, len(rows) - 1)]
    ok = inside & (sorted_keys[np.minimum(at, len(rows) - 1)] == wanted if exact else same(row))
    return np.where(ok, row, -1)


def _ordinal(groups: np.ndarray) -> np.ndarray:
    """1, 2, 3 … within each run of equal values of a sorted array."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(groups)) + 1]
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)])) + 1


def session_times(messages: pd.DataFrame, rounds: pd.DataFrame | None = None,
                  owners: pd.Series | None = None) -> pd.DataFrame:
    """Per session: platform, shop, agent_id (``sessions.session_owner``), started, ended, duration_s, rounds,
    first_response_s (the first round's human response; NaN when never answered), unanswered_rounds.
    ``rounds`` / ``owners``: the messages' ``reply_rounds`` / ``session_owner`` when known.

    Sessions come in the order of their first timed message; every column is found by session
    number (one factorisation of the ids), not by aligning indexes of text."""
    messages = as_messages(messages)
    if rounds is None:
        rounds = reply_rounds(messages)
    require_times(messages, "Session times")
    timed_rows = messages["ts"].notna().to_numpy()
    timed = messages if timed_rows.all() else messages[timed_rows]
    codes, ids = pd.factorize(timed["session_id"], sort=False)     # groupby(sort=False)'s order; missing ids: -1
    n = len(ids)
    rows = np.flatnonzero(codes >= 0)
    by_session = rows[np.argsort(codes[rows], kind="stable")]        # each session's rows, in order
    starts = np.searchsorted(codes[by_session], np.arange(n))
    ts = timed["ts"].array
    stamps = ts.asi8[by_session]
    started = np.minimum.reduceat(stamps, starts) if n else stamps[:0]
    ended = np.maximum.reduceat(stamps, starts) if n else stamps[:0]
    out = pd.DataFrame({"session_id": pd.Index(ids, name="session_id"),
                        "platform": _first_present(timed["platform"], by_session, starts, n),
                        "shop": _first_present(timed["shop"], by_session, starts, n),
                        "started": _times_like(ts, started), "ended": _times_like(ts, ended)})
    out["duration_s"] = (out["ended"] - out["started"]).dt.total_seconds()
    round_codes = pd.Index(ids).get_indexer(rounds["session_id"])
    known = round_codes >= 0
    out["rounds"] = np.bincount(round_codes[known], minlength=n).astype(int)
    first_round = known & (rounds["round"] == 1).to_numpy()
    first_response = np.full(n, np.nan)
    first_response[round_codes[first_round]] = rounds["response_s"].to_numpy(dtype=float)[first_round]
    out["first_response_s"] = first_response
    owners = session_owner(messages) if owners is None else owners
    out["agent_id"] = owners.array.take(owners.index.get_indexer(pd.Index(ids)), allow_fill=True)
    unanswered = ~rounds["answered"].to_numpy(dtype=bool)
    out["unanswered_rounds"] = np.bincount(round_codes[known], weights=unanswered[known], minlength=n).astype(int)
    return out


def _first_present(values: pd.Series, by_session: np.ndarray, starts: np.ndarray, n: int):
    """Per session: the first non-missing value among its rows (``by_session``, each session's rows from
    ``starts``), as groupby ``first`` gives it; missing where the session has none."""
    present = values.notna().to_numpy()[by_session]
    position = np.flatnonzero(present)
    session = np.searchsorted(starts, position, side="right") - 1
    first = np.full(n, -1, dtype=np.int64)
    first[session[::-1]] = by_session[position[::-1]]
    return values.array.take(first, allow_fill=True)


def _times_like(times, values: np.ndarray):
    """Integer times (of ``times``' unit) as an array of ``times``' dtype."""
    naive = pd.DatetimeIndex(values.view(f"M8[{times.unit}]"))
    return (naive if times.tz is None else naive.tz_localize("UTC").tz_convert(times.tz)).array


# -------------------------------------------------------------------------------- statistics ---


# --------------------------------------------------------------------------- platform recipes ---
def _names(data: dict, path: Path) -> None:
    """Check the file's ``units`` / ``metrics`` names ({id: {zh, en}}) and complete them with the
    packaged ones (the packaged file itself must name every unit and metric)."""
    packaged = path.resolve() == RECIPES_FILE.resolve()
    for key, allowed in NAMED.items():
        given = data.get(key) or {}
        if not isinstance(given, dict):
            raise RecipeError(f"{path}: '{key}' is a mapping {{id: {{zh: ..., en: ...}}}}")
        for name, spec in given.items():
            if name not in allowed:
                raise RecipeError(f"{path}: {key}: {name!r} is not one of {allowed}")
            if not isinstance(spec, dict) or set(spec) - {"zh", "en"} or \
                    any(not isinstance(spec.get(k), str) or not spec[k].strip() for k in ("zh", "en")):
                raise RecipeError(f"{path}: {key}: {name!r} needs zh and en (non-empty text) and nothing else")
        names = {**({} if packaged else load_recipes()[key]), **given}
        missing = [name for name in allowed if name not in names]
        if missing:
            raise RecipeError(f"{path}: {key}: no name for {missing}; give each {{zh: ..., en: ...}}")
        data[key] = names


def load_recipes(path: str | Path | None = None) -> dict:
    """The metric recipes (resources/timing/platform_metrics.yaml, or your own file), validated, with
    the names of their units and metrics (``units`` / ``metrics``: the packaged ones where the file
    gives none)."""
    path = Path(path) if path else RECIPES_FILE
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecipeError(f"{path}: no such recipe file") from None
    if not isinstance(data, dict) or not isinstance(data.get("recipes"), list):
        raise RecipeError(f"{path}: a recipe file needs 'version' and a list under 'recipes'")
    _names(data, path)
    for recipe in data["recipes"]:
        where = f"{path}, recipe {recipe.get('id', '?')!r}"
        unknown = set(recipe) - RECIPE_FIELDS
        if unknown:
            raise RecipeError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(RECIPE_FIELDS)}")
        for key in ("id", "label", "platforms", "unit", "metric", "source"):
            if not recipe.get(key):
                raise RecipeError(f"{where}: '{key}' is required")
        if recipe["unit"] not in UNITS:
            raise RecipeError(f"{where}: unit {recipe['unit']!r} is not one of {UNITS}")
        if recipe["metric"] not in METRICS:
            raise RecipeError(f"{where}: metric {recipe['metric']!r} is not one of {METRICS}")
        if recipe["metric"] == "valid_share" and recipe["unit"] != "buyer_day":
            raise RecipeError(f"{where}: metric valid_share needs unit buyer_day")
        if recipe["metric"] != "mean_response_s" and not isinstance(recipe.get("threshold_s"), (int, float)):
            raise RecipeError(f"{where}: threshold_s (seconds) is required for {recipe['metric']}")
        window = recipe.get("window")
        if window is not None:
            if set(window) - {"from", "to", "applies_to"} or \
                    window.get("applies_to", "round_open") not in ("round_open", "session_start"):
                raise RecipeError(f"{where}: window is {{from: 'HH:MM', to: 'HH:MM', applies_to: round_open | session_start}}")
            for key in ("from", "to"):
                try:
                    dt.time.fromisoformat(str(window[key]))
                except (KeyError, ValueError):
                    raise RecipeError(f"{where}: window {key} must be a time like '08:00'") from None
    data["path"] = str(path)
    return data


def _in_window(times: pd.Series, window: dict | None) -> pd.Series:
    """True where the local time of day falls in [from, to) (wrapping midnight when from > to)."""
    if not window:
        return pd.Series(True, index=times.index)
    minutes = times.dt.hour * 60 + times.dt.minute
    start = dt.time.fromisoformat(str(window["from"]))
    end = dt.time.fromisoformat(str(window["to"]))
    lo, hi = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return (minutes >= lo) & (minutes < hi) if lo <= hi else (minutes >= lo) | (minutes < hi)


def merge_sessions(messages: pd.DataFrame, gap_s: float) -> pd.DataFrame:
    """``messages`` with ``session_id`` rewritten so that a session of the same shop and buyer starting
    within ``gap_s`` seconds of the previous one's last message continues it (JD's 10-minute rule).
    Without customer ids nothing is merged."""
    messages = as_messages(messages)
    has_time = messages["ts"].notna()
    timed = messages if has_time.all() else messages[has_time]
    if timed.empty or timed["customer_id"].isna().all():
        return messages
    group = timed.groupby("session_id", sort=False)
    spans = pd.DataFrame({"shop": group["shop"].first(), "customer_id": group["customer_id"].first(),
                          "start": group["ts"].min(), "end": group["ts"].max()}).dropna(subset=["customer_id"])
    spans = spans.sort_values(["shop", "customer_id", "start"])
    same_buyer = (spans["shop"].eq(spans["shop"].shift()) & spans["customer_id"].eq(spans["customer_id"].shift()))
    reach = spans.groupby(["shop", "customer_id"], sort=False, dropna=False)["end"].cummax().shift()
    close = ((spans["start"] - reach).dt.total_seconds() <= gap_s)
    new_chain = ~(same_buyer.fillna(False).to_numpy(dtype=bool) & close.fillna(False).to_numpy(dtype=bool))
    chain = np.cumsum(new_chain)
    first_id = pd.Series(spans.index, index=spans.index).groupby(chain).transform("first")
    merged = messages["session_id"].map(first_id)          # sessions without a buyer or times keep their id
    return messages.assign(session_id=merged.where(merged.notna(), messages["session_id"]).astype(messages["session_id"].dtype))


def _one_platform_per_session(messages: pd.DataFrame) -> bool:
    """Whether every message of a session has the session's first message's platform (missing counts
    as one): then the messages of some platforms are whole sessions."""
    codes = pd.factorize(messages["session_id"], use_na_sentinel=False)[0]
    platform = pd.factorize(messages["platform"], use_na_sentinel=False)[0]
    first = np.zeros(codes.max() + 1 if len(codes) else 0, dtype=platform.dtype)
    first[codes[::-1]] = platform[::-1]
    return bool((first[codes] == platform).all())


class _RecipeRounds:
    """The reply rounds each recipe judges, computed once per (platforms, merge gap, bots) and, when
    the platforms' messages are whole sessions, taken from the whole table's rounds (``rounds``)."""

    def __init__(self, messages: pd.DataFrame, rounds: pd.DataFrame | None):
        self.messages, self.rounds, self.known, self.starts = messages, rounds, {}, {}
        self.whole_sessions = rounds is not None and _one_platform_per_session(messages)

    @staticmethod
    def _key(recipe: dict) -> tuple:
        """What sets a recipe's rounds: its platforms, merge gap and whether bots count."""
        return tuple(recipe["platforms"]), recipe.get("session_merge_gap_s"), bool(recipe.get("count_bots"))

    def __call__(self, recipe: dict) -> tuple[pd.DataFrame | None, pd.DataFrame]:
        """The recipe's messages (None when its rounds were taken from the whole table's) and rounds."""
        key = self._key(recipe)
        _, gap, bots = key
        if key not in self.known:
            chosen = self.messages["platform"].isin(recipe["platforms"]).to_numpy(dtype=bool, na_value=False)
            if self.whole_sessions and not gap and not bots:
                rounds = self.rounds[self.rounds["platform"].isin(recipe["platforms"]).to_numpy(dtype=bool, na_value=False)]
                self.known[key] = (None, rounds)
            else:
                subset = self.messages[[c for c in ROUND_INPUTS if c in self.messages]][chosen]
                if gap:
                    subset = merge_sessions(subset, float(gap))
                rounds = reply_rounds(subset, count_bots=bots, kinds=message_kinds(self.messages, chosen)) if len(subset) else \
                    pd.DataFrame(columns=list(ROUND_COLUMNS))
                self.known[key] = (subset, rounds)
        return self.known[key]

    def session_starts(self, recipe: dict, subset: pd.DataFrame | None) -> pd.Series:
        """Per session of the recipe's messages: its first send time."""
        key = self._key(recipe)
        if key not in self.starts:
            if subset is None:
                subset = self.messages[self.messages["platform"].isin(recipe["platforms"]).to_numpy(dtype=bool, na_value=False)]
            self.starts[key] = subset.groupby("session_id")["ts"].min()
        return self.starts[key]


def _recipe_units(recipe_rounds: _RecipeRounds, recipe: dict) -> pd.DataFrame:
    """The units a recipe judges, with ``response_s`` (NaN = unanswered) and their group columns."""
    subset, rounds = recipe_rounds(recipe)
    if rounds.empty:
        return rounds
    window = recipe.get("window")
    if window and window.get("applies_to") == "session_start":
        starts = recipe_rounds.session_starts(recipe, subset)
        rounds = rounds[_in_window(rounds["session_id"].map(starts), window).to_numpy()]
    elif window:
        rounds = rounds[_in_window(rounds["opened_at"], window).to_numpy()]
    if recipe["unit"] == "first_round":
        rounds = rounds[rounds["round"] == 1]
    return rounds


def merges_buyers(recipe: dict) -> bool:
    """Whether a recipe joins a buyer's sessions (``session_merge_gap_s``, JD's rule): its rounds need
    every message of the buyer, not only whole sessions."""
    return bool(recipe.get("session_merge_gap_s"))


def platform_metric_units(messages: pd.DataFrame, recipes: str | Path | dict | None = None,
                          by: str | list[str] | None = None, rounds: pd.DataFrame | None = None,
                          merging: bool | None = None) -> dict:
    """Per recipe id: the units the recipe judges, one row each, as ``count_units`` counts them (None when
    there are none): ``units``, ``numerator``, ``denominator`` and the ``by`` columns; for buyer-days,
    each round's ``customer_id``, ``day`` and ``ok`` (answered in time). Rows are judged one by one
    (within their session, or their merged session), so the units of consecutive runs of sessions laid
    end to end are the whole table's, except for recipes that merge a buyer's sessions
    (``merges_buyers``). ``merging``: only those recipes (True), only the others (False), or all (None).
    ``rounds``: the messages' ``reply_rounds`` when known."""
    messages = as_messages(messages)
    require_times(messages, "Platform response metrics")
    spec = recipes if isinstance(recipes, dict) else load_recipes(recipes)
    keys = [by] if isinstance(by, str) else list(by or [])
    recipe_rounds = _RecipeRounds(messages, rounds)
    out = {}
    for recipe in spec["recipes"]:
        if merging is None or merges_buyers(recipe) == merging:
            out[recipe["id"]] = _unit_table(_recipe_units(recipe_rounds, recipe), recipe, keys)
    return out


def _unit_table(units: pd.DataFrame, recipe: dict, keys: list[str]) -> pd.DataFrame | None:
    """A recipe's units (``_recipe_units``) with what ``count_units`` adds up."""
    if units.empty:
        return None
    threshold = recipe.get("threshold_s")
    if recipe["unit"] == "buyer_day":
        units = units.assign(day=units["opened_at"].dt.date, ok=units["response_s"].le(threshold).fillna(False))
        return units[["customer_id", "day", *keys, "ok"]]
    if recipe["metric"] == "share_within":
        table = units.assign(numerator=units["response_s"].le(threshold).astype("int64"), denominator=1)
    else:
        answered = units["response_s"].notna()
        table = units.assign(numerator=units["response_s"].where(answered, 0.0).astype(float),
                             denominator=answered.astype("int64"))
    return table.assign(units=1)[[*keys, "units", "numerator", "denominator"]]


def count_units(units: dict, recipes: str | Path | dict | None = None, by: str | list[str] | None = None) -> pd.DataFrame:
    """Counts to add up (see ``platform_metric_counts``) from each recipe's units
    (``platform_metric_units``: recipes without units or missing from ``units`` are left out)."""
    spec = recipes if isinstance(recipes, dict) else load_recipes(recipes)
    keys = [by] if isinstance(by, str) else list(by or [])
    tables = []
    for recipe in spec["recipes"]:
        table = units.get(recipe["id"])
        if table is None:
            continue
        if recipe["unit"] == "buyer_day":
            table = table.groupby(["customer_id", "day", *keys], dropna=False, observed=True)["ok"].all().reset_index()
            table = table.assign(numerator=table["ok"].astype("int64"), denominator=1).assign(units=1)
        grouped = table.groupby(keys, dropna=False, observed=True, sort=True) if keys else None
        counted = (grouped[["units", "numerator", "denominator"]].sum().reset_index() if keys else
                   table[["units", "numerator", "denominator"]].sum().to_frame().T)
        tables.append(counted.assign(recipe=recipe["id"]))
    columns = ["recipe", *keys, "units", "numerator", "denominator"]
    if not tables:
        return pd.DataFrame(columns=columns)
    return pd.concat(tables, ignore_index=True)[columns]


def concat_units(parts: list[dict]) -> dict:
    """The units of consecutive runs of sessions (``platform_metric_units`` of each, in order) as the
    whole table's: each recipe's tables laid end to end (None where no part has units)."""
    out = {}
    for part in parts:
        for recipe, table in part.items():
            out.setdefault(recipe, [])
            if table is not None:
                out[recipe].append(table)
    return {recipe: pd.concat(tables, ignore_index=True) if tables else None for recipe, tables in out.items()}


def platform_metric_counts(messages: pd.DataFrame, recipes: str | Path | dict | None = None,
                           by: str | list[str] | None = None, rounds: pd.DataFrame | None = None) -> pd.DataFrame:
    """The platforms' response metrics as counts to add up: one row per recipe (and group of ``by``)
    with ``units`` (the units judged), ``numerator`` and ``denominator`` (value = numerator /
    denominator). Counts of parts holding whole buyers add up to the counts of the whole
    (``finish_platform_metrics``). ``rounds``: the messages' ``reply_rounds`` when known."""
    spec = recipes if isinstance(recipes, dict) else load_recipes(recipes)
    return count_units(platform_metric_units(messages, spec, by, rounds), spec, by)


def finish_platform_metrics(counts: pd.DataFrame, recipes: str | Path | dict | None = None,
                            by: str | list[str] | None = None) -> pd.DataFrame:
    """The metrics table (see ``platform_metrics``) from counts (``platform_metric_counts``) of one
    table or of several parts, added up."""
    spec = recipes if isinstance(recipes, dict) else load_recipes(recipes)
    keys = [by] if isinstance(by, str) else list(by or [])
    columns = ["recipe", "label", "platforms", *keys, "unit", "unit_label", "units", "metric", "metric_label", "value",
               "threshold_s", "version", "source"]
    names = {key: spec.get(key) or load_recipes()[key] for key in NAMED}      # a recipe dict built by hand
    # typed whatever the recipes and rows (a mean has no threshold: missing, so thresholds are floats)
    kinds = {"units": "int64", "value": "float64", "threshold_s": "float64",
             **{c: "str" for c in ("recipe", "label", "platforms", "unit", "unit_label", "metric", "metric_label",
                                   "version", "source")}}
    if counts.empty:
        return pd.DataFrame(columns=columns).astype(kinds)
    order = {recipe["id"]: i for i, recipe in enumerate(spec["recipes"])}
    counts = counts.assign(_order=counts["recipe"].map(order))
    summed = (counts.groupby(["_order", *keys], dropna=False, observed=True, sort=True)
              [["units", "numerator", "denominator"]].sum().reset_index())
    rows = []
    for record in summed.to_dict("records"):          # one row per recipe and group, not per message
        recipe = spec["recipes"][int(record["_order"])]
        denominator = record["denominator"]
        rows.append({"recipe": recipe["id"], "label": recipe["label"], "platforms": ",".join(recipe["platforms"]),
                     **{k: record[k] for k in keys}, "unit": recipe["unit"], "unit_label": names["units"][recipe["unit"]]["zh"],
                     "units": int(record["units"]), "value": float(record["numerator"] / denominator) if denominator else np.nan,
                     "metric": recipe["metric"], "metric_label": names["metrics"][recipe["metric"]]["zh"],
                     "threshold_s": recipe.get("threshold_s"),
                     "version": spec.get("version"), "source": recipe["source"]})
    return pd.DataFrame(rows, columns=columns).astype(kinds)


def platform_metrics(messages: pd.DataFrame, recipes: str | Path | dict | None = None,
                     by: str | list[str] | None = None, rounds: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per recipe (and group of ``by``: shop, agent_id, week …): the platform's own metric.

    Columns: recipe, label, platforms, group columns, unit, unit_label (its name, e.g. 轮), units (the
    denominator: rounds, sessions or buyer-days), metric, metric_label, value (a share 0–1, or seconds
    for mean_response_s), threshold_s, version, source.
    Recipes whose platforms have no sessions in ``messages`` are left out. ``rounds``: the messages'
    ``reply_rounds`` when known (they are not computed again).
    """
    spec = recipes if isinstance(recipes, dict) else load_recipes(recipes)
    return finish_platform_metrics(platform_metric_counts(messages, spec, by, rounds), spec, by)


# ------------------------------------------------------------------------------ long waits ---
def long_waits(messages: pd.DataFrame, rounds: pd.DataFrame | None = None,
               threshold_s: float | None = None) -> pd.DataFrame:
    """Answered rounds that waited longer than ``threshold_s`` (default settings.yaml ``long_wait_s``),
    with ``apologized``: the closing reply says sorry for the wait (久等了, 抱歉久等 …; the
    ``apology_wait`` phrases of service_phrases.yaml) and ``apology`` (the matched text)."""
    messages = as_messages(messages)
    threshold_s = timing_settings()["long_wait_s"] if threshold_s is None else threshold_s
    if rounds is None:
        rounds = reply_rounds(messages)
    waits = rounds[rounds["response_s"] > threshold_s].copy()
    replies = messages[is_in(messages["message_id"], waits["reply_message_id"])]
    found = find_service_phrases(replies, ("apology_wait",))
    first = found.sort_values(["message_id", "start"]).drop_duplicates("message_id").set_index("message_id")["matched"]
    waits["apology"] = waits["reply_message_id"].map(first).astype("str")      # text, also when none matched
    waits["apologized"] = waits["apology"].notna()
    return waits.sort_values("response_s", ascending=False, kind="stable").reset_index(drop=True)


# ------------------------------------------------------------------------------- workload ---
def _epoch_s(times: pd.Series) -> pd.Series:
    """Whole seconds since 1970 (UTC) of timezone-aware times."""
    return ((times - pd.Timestamp(0, tz="UTC")).dt.total_seconds()).round().astype("int64")


def concurrency(messages: pd.DataFrame, rounds: pd.DataFrame) -> pd.Series:
    """For each answered round: how many sessions its agent had open at the moment it opened.

    A session is open for an agent from its first to its last message, for every agent who replied
    in it. Returned aligned with ``rounds`` (NaN for unanswered rounds).
    """
    messages = as_messages(messages)
    require_times(messages, "Agent workload")
    timed = messages[messages["ts"].notna()]
    bounds = timed.groupby("session_id")["ts"].agg(["min", "max"])
    pairs = rounds.dropna(subset=["agent_id"])[["session_id", "agent_id"]].drop_duplicates()
    spans = pairs.join(bounds, on="session_id")
    result = pd.Series(np.nan, index=rounds.index)
    answered = rounds["agent_id"].notna()
    if not answered.any():
        return result
    # per agent: sessions started at or before t minus sessions ended before t. Every agent gets its own
    # stretch of the number line (seconds), so one sorted array and one searchsorted serve all agents.
    spans = spans.assign(start=_epoch_s(spans["min"]), end=_epoch_s(spans["max"]))
    asked = rounds.loc[answered, ["agent_id", "opened_at"]]
    asked = asked.assign(t=_epoch_s(asked["opened_at"]))
    codes, _ = pd.factorize(pd.concat([spans["agent_id"], asked["agent_id"]]), sort=True)
    span_agent, ask_agent = codes[:len(spans)].astype(np.int64), codes[len(spans):].astype(np.int64)
    base = min(spans["start"].min(), asked["t"].min())
    stretch = max(spans["end"].max(), asked["t"].max()) - base + 1
    starts = np.sort(spans["start"].to_numpy() - base + span_agent * stretch)
    ends = np.sort(spans["end"].to_numpy() - base + span_agent * stretch)
    t = asked["t"].to_numpy() - base + ask_agent * stretch
    result.loc[asked.index] = np.searchsorted(starts, t, side="right") - np.searchsorted(ends, t, side="left")
    return result


