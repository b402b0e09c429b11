"""Small valid exports of the awkward shapes analysts bring: one session, one agent, every agent below
``min_sessions``, no shop / agent ids / times, one platform, a single day, customer messages only.

Each is cut from a generated sample (same wording as the bundled one) and written with the sample's
Chinese headers, so the loader, the findings, the tables and the notebooks all see a real file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from cs_analytics import generate_sample

SHAPES = ("one_session", "one_agent", "agents_below_min_sessions", "no_shop_agents_times", "one_platform",
          "single_day", "customer_only")


@lru_cache(maxsize=8)
def _source(seed: int) -> pd.DataFrame:
    return generate_sample(120, seed=seed).export


def _sessions(export: pd.DataFrame, n: int, start: int = 0) -> pd.DataFrame:
    ids = list(dict.fromkeys(export["会话ID"]))
    chosen = ids[start % max(len(ids), 1):][:n] or ids[:n]
    return export[export["会话ID"].isin(chosen)]


def shaped_export(shape: str, sessions: int = 30, seed: int = 7, start: int = 0) -> pd.DataFrame:
    """An export of ``shape`` with about ``sessions`` sessions (chosen from ``start`` on)."""
    export = _source(seed)
    if shape == "one_session":
        return _sessions(export, 1, start)
    if shape == "one_agent":
        out = _sessions(export, sessions, start).copy()
        out.loc[out["客服"].notna() & (out["客服"] != ""), "客服"] = "唯一客服"
        return out
    if shape == "agents_below_min_sessions":       # 3 agents, a handful of sessions each (min_sessions is 20)
        out = _sessions(export, min(sessions, 30), start).copy()
        names = {sid: f"客服{i % 3 + 1}" for i, sid in enumerate(dict.fromkeys(out["会话ID"]))}
        agent_rows = out["客服"].notna() & (out["客服"] != "")
        out.loc[agent_rows, "客服"] = out.loc[agent_rows, "会话ID"].map(names)
        return out
    if shape == "no_shop_agents_times":
        return _sessions(export, sessions, start).drop(columns=["店铺", "客服", "时间"])
    if shape == "one_platform":
        platform = export["平台"].iloc[0]
        return _sessions(export[export["平台"] == platform], sessions, start)
    if shape == "single_day":
        day = export["时间"].str[:10]
        busiest = day.value_counts().index[0]
        return _sessions(export[day == busiest], sessions, start)
    if shape == "customer_only":
        out = _sessions(export, sessions, start)
        return out[out["发送方"] == "买家"]
    raise ValueError(f"unknown shape {shape!r}; shapes are {SHAPES}")


def write_export(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as the sample's GB18030 CSV."""
    frame.to_csv(path, index=False, encoding="gb18030")
    return path
