"""Time intervals: merging overlaps (a 台区 out twice at once is out once) and clipping."""
from __future__ import annotations

import pandas as pd


def island_ids(frame: pd.DataFrame, key: str, start: str = "start", end: str = "end") -> pd.Series:
    """Number the groups of overlapping intervals per key (same index as `frame`).

    Sorted by start within a key, an interval opens a new island when it starts after every
    earlier interval of that key has ended. `end` must not be NaT (fill ongoing ones first).
    """
    order = frame.sort_values([key, start], kind="stable")
    reach = order.groupby(key, sort=False)[end].cummax()
    before = reach.groupby(order[key], sort=False).shift()
    opens = before.isna() | (order[start] > before)
    return opens.cumsum().reindex(frame.index)


def union_hours(frame: pd.DataFrame, key: str, lo: pd.Timestamp | None = None,
                hi: pd.Timestamp | None = None) -> pd.Series:
    """Per key: hours covered by the union of its [start, end] intervals, clipped to [lo, hi]."""
    clipped = frame.assign(start=frame["start"].clip(lower=lo), end=frame["end"].clip(upper=hi))
    clipped = clipped[clipped["end"] > clipped["start"]]
    if clipped.empty:
        return pd.Series(dtype="float64")
    islands = clipped.assign(island=island_ids(clipped, key))
    spans = islands.groupby([key, "island"]).agg(start=("start", "min"), end=("end", "max"))
    hours = (spans["end"] - spans["start"]).dt.total_seconds() / 3600.0
    return hours.groupby(level=0).sum()
