"""15-min bucket means per feeder and day, recomputed only where new rows landed.

A minute of SCADA touches one bucket; recomputing all 192 buckets of two days every minute
was most of the SCADA cycle. Late or corrected rows mark their own bucket dirty the same way.
"""
from __future__ import annotations

import pandas as pd

from collectors.domain import load as kpi

COLUMNS = ["feeder_code", "bucket", "active_mw", "current_a"]


class QuarterBuckets:
    def __init__(self):
        self.by_day: dict[pd.Timestamp, pd.DataFrame] = {}
        self.dirty: set[tuple[pd.Timestamp, int]] = set()

    def touch(self, ts: pd.Series) -> None:
        pairs = pd.DataFrame({"day": ts.dt.normalize(), "bucket": kpi.bucket_of(ts)}).drop_duplicates()
        self.dirty.update(zip(pairs["day"], pairs["bucket"]))

    def refresh(self, rows: pd.DataFrame) -> set[pd.Timestamp]:
        """Recompute the dirty buckets from the raw rows; return the days that changed."""
        if not self.dirty:
            return set()
        day = rows["ts"].dt.normalize()
        bucket = kpi.bucket_of(rows["ts"])
        dirty = pd.MultiIndex.from_tuples(sorted(self.dirty), names=["day", "bucket"])
        hit = pd.MultiIndex.from_arrays([day, bucket]).isin(dirty)
        fresh = rows[hit].assign(day=day[hit])
        changed = {d for d, _ in self.dirty}
        for d in changed:
            old = self.by_day.get(d, pd.DataFrame(columns=COLUMNS))
            gone = old["bucket"].isin([b for dd, b in self.dirty if dd == d])
            part = kpi.feeder_buckets(fresh[fresh["day"] == d].drop(columns="day"))
            self.by_day[d] = pd.concat([old[~gone], part], ignore_index=True) if not old.empty else part
        self.dirty.clear()
        return changed

    def day(self, day: pd.Timestamp) -> pd.DataFrame:
        return self.by_day.get(day, pd.DataFrame(columns=COLUMNS))

    def keep_from(self, first_day: pd.Timestamp) -> None:
        self.by_day = {d: f for d, f in self.by_day.items() if d >= first_day}
        self.dirty = {(d, b) for d, b in self.dirty if d >= first_day}
