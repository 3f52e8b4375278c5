"""Turn validated raw rows into typed frames, and merge new row versions into state by key."""
from __future__ import annotations

import pandas as pd

from collectors.domain.validation import to_datetime


def typed(frame: pd.DataFrame, times=(), numbers=(), flags=()) -> pd.DataFrame:
    frame = frame.copy()
    for col in times:
        frame[col] = to_datetime(frame[col])
    for col in numbers:
        frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("float64")
    for col in flags:
        frame[col] = frame[col].map(lambda v: str(v).lower() in ("1", "true", "t", "yes"))
    return frame


def conflicts_within(batch: pd.DataFrame, key: list[str], version: str) -> pd.Series:
    """Rows sharing a key and a version (updated_at) but not their content: neither can be trusted."""
    same = batch.duplicated(key + [version], keep=False)
    if not same.any():
        return same
    dup = batch[same]
    content = dup.astype("string").fillna("<NA>").apply("|".join, axis=1)
    distinct = content.groupby([dup[k] for k in key + [version]]).transform("nunique")
    return pd.Series(False, index=batch.index).mask(same, distinct.reindex(batch.index, fill_value=1) > 1)


def upsert(state: pd.DataFrame, new: pd.DataFrame, key: str) -> pd.DataFrame:
    """Newest version per key wins (rows re-read in the overlap window change nothing).

    The result is indexed by the key, unnamed, so that the key column stays unambiguous.
    """
    keyed = new.set_index(key, drop=False).rename_axis(None)
    if state.empty:
        return keyed[~keyed.index.duplicated(keep="last")]
    both = pd.concat([state, keyed]).sort_values("updated_at", kind="stable")
    return both[~both.index.duplicated(keep="last")]
