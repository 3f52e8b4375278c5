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


class SeenRows:
    """Rows already absorbed, by content hash, kept for as long as the overlap can re-read them.

    The watermark overlap re-reads up to an hour of rows on every poll; dropping the ones already
    absorbed before validation keeps a poll's cost proportional to what actually changed.
    A row whose content changed hashes differently and goes through validation again.
    """

    def __init__(self):
        self.hashes = pd.Series(dtype="datetime64[us]")   # content hash -> updated_at

    @staticmethod
    def hash_rows(frame: pd.DataFrame) -> pd.Series:
        # Numbers and str columns hash as they are (text-formatting 330 k rows of floats took
        # seconds); object columns of mixed values go through their text form. Only equality
        # of content matters, within one process.
        canonical = {c: s if s.dtype.kind in "biuf" or isinstance(s.dtype, pd.StringDtype)
                     else s.astype("string").fillna("\x00") for c, s in frame.items()}
        return pd.util.hash_pandas_object(pd.DataFrame(canonical, index=frame.index), index=False)

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """The rows not seen before, and their hashes (to commit once they are absorbed)."""
        if frame.empty:
            return frame, pd.Series(dtype="datetime64[us]")
        hashes = self.hash_rows(frame).to_numpy()
        fresh = ~pd.Index(hashes).isin(self.hashes.index)
        new = frame[fresh]                     # only the new rows' stamps are parsed
        return new, pd.Series(to_datetime(new["updated_at"]).to_numpy(), index=hashes[fresh])

    def commit(self, hashes: pd.Series, horizon) -> None:
        """Remember absorbed rows; forget those the overlap window can no longer reach."""
        merged = pd.concat([self.hashes, hashes]) if not self.hashes.empty else hashes
        merged = merged[~merged.index.duplicated(keep="last")]
        self.hashes = merged[~(merged < pd.Timestamp(horizon))] if horizon is not None else merged
