"""15-min bucket means per feeder and day, recomputed only where new rows landed.

A minute of SCADA touches one bucket; recomputing all 192 buckets of two days every minute
was most of the SCADA cycle. Late or corrected rows mark their own bucket dirty the same way.
Raw rows live in memory only for a recent window; a dirty bucket older than that is read again
from the source (rare: a late correction), so memory does not grow with the day.
"""
from __future__ import annotations

import pandas as pd

from collectors.domain import load as kpi

COLUMNS = ["feeder_code", "bucket", "active_mw", "current_a"]


class QuarterBuckets:
    def __init__(self):
        self.by_day: dict[pd.Timestamp, pd.DataFrame] = {}
        self.dirty: set[tuple[pd.Timestamp, int]] = set()
        self.raw_from: pd.Timestamp | None = None   # raw rows in memory start here
        self.last_changed: dict[pd.Timestamp, set[int]] = {}   # buckets the last refresh recomputed

    def add(self, rows: pd.DataFrame) -> None:
        """Fold validated raw rows of whole buckets in (the start-up build, an hour at a time)."""
        for day, part in rows.groupby(rows["ts"].dt.normalize()):
            means = kpi.feeder_buckets(part)
            old = self.by_day.get(day)
            if old is None or old.empty:
                self.by_day[day] = means
                continue
            gone = old["bucket"].isin(means["bucket"])
            self.by_day[day] = pd.concat([old[~gone], means], ignore_index=True)

    def touch(self, ts: pd.Series) -> None:
        pairs = pd.DataFrame({"day": ts.dt.normalize(), "bucket": kpi.bucket_of(ts)}).drop_duplicates()
        self.dirty.update(zip(pairs["day"], pairs["bucket"]))

    def refresh(self, rows: pd.DataFrame, read_source) -> set[pd.Timestamp]:
        """Recompute the dirty buckets, from the raw rows in memory or, for buckets older than
        them, from `read_source(start, end)`; return the days that changed."""
        if not self.dirty:
            self.last_changed = {}
            return set()
        old = sorted((d, b) for d, b in self.dirty
                     if self.raw_from is not None and d + b * kpi.QUARTER < self.raw_from)
        if old:
            first, last = old[0], old[-1]
            reread = read_source(first[0] + first[1] * kpi.QUARTER, last[0] + (last[1] + 1) * kpi.QUARTER)
            keep = pd.MultiIndex.from_tuples(old, names=["day", "bucket"])
            hit = pd.MultiIndex.from_arrays([reread["ts"].dt.normalize(), kpi.bucket_of(reread["ts"])]).isin(keep)
            # a bucket straddling the window start is partly in memory too: memory is newer
            rows = pd.concat([reread[hit], rows], ignore_index=True).drop_duplicates(
                ["feeder_code", "ts"], keep="last")
        day = rows["ts"].dt.normalize()
        bucket = kpi.bucket_of(rows["ts"])
        dirty = pd.MultiIndex.from_tuples(sorted(self.dirty), names=["day", "bucket"])
        hit = pd.MultiIndex.from_arrays([day, bucket]).isin(dirty)
        fresh = rows[hit].assign(day=day[hit])
        changed = {d for d, _ in self.dirty}
        self.last_changed = {d: {b for dd, b in self.dirty if dd == d} for d in changed}
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
