"""SCADA / 配电自动化: feeder load every minute → node load, load rate and 96-point curves."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from collectors.base import Collector
from collectors.buckets import QuarterBuckets
from collectors.domain import load as kpi
from collectors.domain import validation as v
from collectors.frames import conflicts_within, typed
from collectors.plugins.ami import SlicedStart
from collectors.publish import Dataset, Patch, RawJSON, dumps, patch_digest
from collectors.sources.schema import scada_feeder_load
from config.limits import limits
from sqlalchemy import extract, func, select

SOURCE = "SCADA"
KEY = ["feeder_code", "ts"]
VALUES = ["active_mw", "current_a"]
DAY = pd.Timedelta(days=1)
# Raw minutes kept in memory: the 8-point (2 h) feeder rule, current load, and late rows.
RAW_WINDOW = pd.Timedelta(hours=3)
BOOT_SLICE = pd.Timedelta(minutes=30)   # the first cycle reads the raw window this much at a time


def last_year(day: pd.Timestamp) -> pd.Timestamp:
    """Same calendar day last year (29 Feb maps to 28 Feb)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


class ScadaCollector(SlicedStart, Collector):
    name = "scada"
    measurements = True

    def __init__(self, ctx):
        super().__init__(ctx)
        self.rows = pd.DataFrame(columns=[*KEY, *VALUES, "updated_at"])   # the last RAW_WINDOW
        self.buckets = QuarterBuckets()
        self.curves: dict[pd.Timestamp, pd.DataFrame] = {}                  # node curves per day
        self.day: pd.Timestamp | None = None
        self.last_year_curves = pd.DataFrame()
        self.daily_peaks: dict[pd.Timestamp, pd.Series] = {}
        self._year_peak: tuple | None = None          # (tree, peaks) for the current day
        self._peak: tuple | None = None               # (at, tree, year peak, peak_frame)
        self._curves_tree = None                      # the tree self.curves were rolled up on
        self._texts: dict[str, tuple] = {}            # curve name -> (frame, codes, values, {code: JSON text})
        self._entries: dict[str, RawJSON] = {}        # as last handed to publish, and their digest
        self._digest = "empty"

    def collect(self) -> dict[str, pd.DataFrame]:
        now = pd.Timestamp(self.ctx.clock.now())
        today = now.normalize()
        if self.day != today:
            self._start_day(today)
        if "scada_feeder_load" in self.watermarks:
            return {"scada_feeder_load": self.poll(scada_feeder_load)}
        # First cycle: yesterday and today so far become bucket means, an hour at a time (a
        # province's two days of minutes would not fit); raw rows are kept for the window only.
        raw_from = max((now - RAW_WINDOW).floor("15min"), today - DAY)   # whole buckets either side
        hour = today - DAY
        while hour < raw_from:
            end = min(hour + pd.Timedelta(hours=1), raw_from)
            self.buckets.add(self._history(hour, end))
            hour = end
        # The raw window (a province's 3 h are 2.4 M rows) is read a slice at a time too, each
        # absorbed at once; the last slice is this cycle's batch.
        t = scada_feeder_load.c.ts
        end = now + pd.Timedelta(minutes=5)
        self._start_slices()
        cut = raw_from
        while cut + BOOT_SLICE < end:
            part = self.ctx.source.read_table(scada_feeder_load, (t >= cut) & (t < cut + BOOT_SLICE))
            self._absorbed_slice(part, self._absorb(part, now), now)
            cut += BOOT_SLICE
        return {"scada_feeder_load": self.ctx.source.read_table(scada_feeder_load, (t >= cut) & (t <= end))}

    def _start_day(self, today: pd.Timestamp) -> None:
        """New day: last year's curves and yesterday's peak are read once; older rows leave."""
        ly = last_year(today)
        self.last_year_curves = kpi.node_curves(kpi.feeder_buckets(self._history(ly, ly + DAY)), self.tree)
        self._read_daily_peaks(today)
        self._year_peak = None
        if not self.rows.empty:
            self.rows = self.rows[self.rows["ts"] >= today - DAY].reset_index(drop=True)
        self.buckets.keep_from(today - DAY)
        self.curves = {d: c for d, c in self.curves.items() if d >= today - DAY}
        self.day = today

    def _history(self, start: pd.Timestamp, end: pd.Timestamp, quarters_only: bool = False) -> pd.DataFrame:
        t = scada_feeder_load.c.ts
        where = (t >= start) & (t < end)
        if quarters_only:  # a 1-min history is sampled at 15-min resolution: cheap for a year
            where &= (extract("minute", t) % 15 == 0)
        hist = self.ctx.source.read_table(scada_feeder_load, where)
        hist, _ = v.apply_rules(hist, self.rules(datetime.max), source=SOURCE,
                                table="scada_feeder_load", key=KEY)
        return typed(hist, times=("ts",), numbers=VALUES)

    def _read_daily_peaks(self, today: pd.Timestamp) -> None:
        """Per node and day of this year before today, the highest 15-min load; each day is read once."""
        year_start = today.replace(month=1, day=1)
        self.daily_peaks = {d: p for d, p in self.daily_peaks.items() if year_start <= d < today}
        day = year_start
        while (day := self._next_day_with_data(day, today)) is not None:
            if day not in self.daily_peaks:
                self.daily_peaks[day] = kpi.daily_peak(self._history(day, day + DAY, quarters_only=True),
                                                       self.tree)
            day += DAY

    def _next_day_with_data(self, since: pd.Timestamp, before: pd.Timestamp) -> pd.Timestamp | None:
        """The first day on or after `since` with a reading (gaps cost one query, not one per day)."""
        t = scada_feeder_load.c.ts
        first = self.ctx.source.read(select(func.min(t)).where((t >= since) & (t < before))).iat[0, 0]
        return None if first is None else pd.Timestamp(first).normalize()

    def year_peak(self) -> pd.Series:
        """Per node: this year's highest 15-min load before today (MW); the days before today
        do not change during the day, so it is computed once per day (and tree)."""
        if self._year_peak is None or self._year_peak[0] is not self.tree:
            peaks = [p for p in self.daily_peaks.values() if not p.empty]
            self._year_peak = (self.tree, pd.concat(peaks, axis=1).max(axis=1) if peaks
                               else pd.Series(dtype="float64"))
        return self._year_peak[1]

    def rules(self, now: datetime) -> list[v.Rule]:
        latest = now + timedelta(minutes=5) if now != datetime.max else now
        rated = self.tree.nodes["rated_current_a"]
        return [*v.required(*KEY, *VALUES, "updated_at"), v.text("feeder_code", 32),
                v.known_code("feeder_code", self.tree.codes("feeder")),
                v.timestamp("ts", latest), v.timestamp("updated_at", latest),
                v.number("active_mw", 0, 1_000), v.number("current_a", 0, 100_000),
                v.Rule("current_a", "over_10x_rating",
                       lambda df: pd.to_numeric(df["current_a"], errors="coerce")
                       > 10 * rated.reindex(df["feeder_code"]).to_numpy())]

    def absorb(self, batches, now: datetime) -> list[dict]:
        return self._slice_rejects() + self._absorb(batches["scada_feeder_load"], now)

    def _absorb(self, raw: pd.DataFrame, now: datetime) -> list[dict]:
        good, rejects = v.apply_rules(raw, self.rules(now), source=SOURCE,
                                      table="scada_feeder_load", key=KEY)
        good = typed(good, times=("ts", "updated_at"), numbers=VALUES)[[*KEY, *VALUES, "updated_at"]]
        good = shared_codes(good, self.tree)
        conflict = conflicts_within(good, KEY, "updated_at")
        rejects += [v.reject_record(r, source=SOURCE, table="scada_feeder_load", key=KEY,
                                    field="ts", rule="duplicate_conflict") for _, r in good[conflict].iterrows()]
        good = good[~conflict & (good["ts"] >= self.day - pd.Timedelta(days=1))]
        if self._peak is not None and len(good) and good["ts"].min() < self._peak[0] + kpi.QUARTER:
            self._peak = None                 # a late row in a complete quarter
        rows = merge_rows(self.rows, good)
        self.buckets.touch(good["ts"])
        self.rows = rows[rows["ts"] >= pd.Timestamp(now) - RAW_WINDOW].reset_index(drop=True)
        self.buckets.raw_from = pd.Timestamp(now) - RAW_WINDOW
        return rejects

    def datasets(self, now: datetime) -> list[Dataset]:
        tree = self.tree
        today = pd.Timestamp(now).normalize()
        changed = self.buckets.refresh(self.rows, self._history)
        for day in changed | (set() if self.curves else {today, today - DAY}):
            old = self.curves.get(day)
            if old is not None and self._curves_tree is tree and day in self.buckets.last_changed:
                self.curves[day] = kpi.update_curves(old, self.buckets.day(day), tree,
                                                     self.buckets.last_changed[day])
            else:
                self.curves[day] = kpi.node_curves(self.buckets.day(day), tree)
        self._curves_tree = tree
        rows = self.rows
        fresh_from = pd.Timestamp(now) - pd.Timedelta(minutes=limits()["load"]["fresh_minutes"])
        recent = rows[(rows["ts"] >= fresh_from) & (rows["ts"] <= pd.Timestamp(now))]
        current = kpi.current_load(recent, tree, now, limits()["load"]["fresh_minutes"])
        at = kpi.last_complete_quarter(now)
        vs_peak = self.peak_frame(now, at).reindex(current.index)
        self.ctx.frames["scada.nodes"] = vs_peak
        empty = pd.DataFrame(columns=range(kpi.BUCKETS), dtype="float64")
        curves = {"today": self.curves.get(today, empty), "yesterday": self.curves.get(today - DAY, empty),
                  "last_year": self.last_year_curves}
        peaks = curves["today"].max(axis=1).reindex(current.index).round(3)
        scalars = current.assign(peak=peaks).join(vs_peak[["load_15min_mw", "peak_year_mw", "load_vs_peak",
                                                          "heavy_feeders", "overload_feeders"]])
        # Each entry as the JSON text dumps writes for its dict, the three 96-point curves from
        # texts kept per node (yesterday's and last year's stand all day; today's moves a bucket)
        texts = {name: self._curve_texts(name, frame, current.index) for name, frame in curves.items()}
        entries = {}
        for code, row in zip(current.index, scalars.to_dict("records")):
            head = dumps({
                "load_mw": round(float(row["active_mw"]), 4), "load_rate": _num(row["load_rate"]),
                "feeders_reporting": int(row["feeders_reporting"]), "feeders_total": int(row["feeders_total"]),
                "peak_today_mw": _num(row["peak"], 3)})
            tail = dumps({
                "load_15min_mw": _num(row["load_15min_mw"]), "load_15min_at": at.isoformat(),
                "peak_year_mw": _num(row["peak_year_mw"]), "load_vs_peak": _num(row["load_vs_peak"], 12),
                "heavy_feeders": int(row["heavy_feeders"]), "overload_feeders": int(row["overload_feeders"])})
            curves = "".join(f',"curve_{name}":{t[code]}' for name, t in texts.items())
            entries[code] = RawJSON(f"{head[:-1]}{curves},{tail[1:]}")
        latest = recent["ts"].max()
        as_of = latest.to_pydatetime() if pd.notna(latest) else now
        # a patch on the entries handed over last time: publish writes only those that changed
        # when Redis holds that content, everything otherwise (the same bytes either way)
        old = self._entries
        put = {k: t for k, t in entries.items() if old.get(k) != t}
        gone = [k for k in old if k not in entries]
        base, self._digest = self._digest, patch_digest(self._digest, put, gone)
        self._entries = entries
        return [Dataset("load", as_of, entries, digest=self._digest, patch=Patch(base, put, gone))]

    def _curve_texts(self, name: str, frame: pd.DataFrame, codes: pd.Index) -> dict[str, str]:
        """Each node's curve (curve_lists) as JSON text: reused whole while the curve frame and
        the nodes are the same (yesterday's and last year's stand all day), else serialised
        again only for the nodes whose rounded values changed (today's moves a bucket). The
        last values are kept as one float matrix, not as Python lists (~130 MB at province)."""
        got = self._texts.get(name)
        if got is not None and got[0] is frame and got[1].equals(codes):
            return got[3]
        values = frame.reindex(index=codes, columns=range(kpi.BUCKETS)).astype("float64").round(3).to_numpy()
        texts: dict[str, str] = {}
        redo = codes
        if got is not None and len(got[1]):
            at = got[1].get_indexer(codes)
            known = at >= 0
            old = got[2][np.where(known, at, 0)]
            with np.errstate(invalid="ignore"):
                same = known & ((values == old) | (np.isnan(values) & np.isnan(old))).all(axis=1)
            before = got[3]
            texts = {code: before[code] for code in codes[same]}
            redo = codes[~same]
        if len(redo):
            texts.update((code, dumps(v)) for code, v in curve_lists(frame, redo).items())
        self._texts[name] = (frame, codes, values, texts)
        return texts

    def peak_frame(self, now: datetime, at: pd.Timestamp) -> pd.DataFrame:
        """Per node: the latest complete 15-min load against this year's peak, feeder flags.

        It reads only rows of complete quarters up to `at`: the same until the next quarter
        completes, unless a late row lands in one of them (absorb forgets it then)."""
        tree, year_peak = self.tree, self.year_peak()
        got = self._peak
        if got is not None and got[0] == at and got[1] is tree and got[2] is year_peak:
            return got[3]
        frame = self._peak_frame(now, at)
        self._peak = (at, tree, year_peak, frame)
        return frame

    def _peak_frame(self, now: datetime, at: pd.Timestamp) -> pd.DataFrame:
        cfg = limits()["load"]
        window = self.rows[self.rows["ts"] >= at - (cfg["consecutive_points"] - 1) * kpi.QUARTER]
        point = kpi.point_load(kpi.quarter_points(window, at, at), self.tree, at)
        frame = kpi.feeder_load_flags(window, self.tree, now, cfg)
        frame["load_15min_mw"] = point.reindex(frame.index)
        frame["peak_year_mw"] = self.year_peak().reindex(frame.index)
        frame["load_vs_peak"] = frame["load_15min_mw"] / frame["peak_year_mw"].where(frame["peak_year_mw"] > 0)
        return frame


def _num(value, digits: int = 6):
    return None if pd.isna(value) else round(float(value), digits)


def curve_lists(frame: pd.DataFrame, codes: pd.Index) -> dict[str, list]:
    """Each node's 96 values (None where no feeder reported), built for all nodes at once."""
    values = frame.reindex(index=codes, columns=range(kpi.BUCKETS)).astype("float64").round(3)
    cells = values.astype(object).where(values.notna(), None).to_numpy().tolist()
    return dict(zip(codes, cells))


def shared_codes(good: pd.DataFrame, tree) -> pd.DataFrame:
    """The feeder codes as the tree's own text objects: the same values and dtype, but the 3 h
    of raw minutes (2.4 M rows at province) refer to ~14 k texts instead of holding a copy per
    row from the driver (~60 B each: ~140 MB)."""
    if good.empty:
        return good
    codes = good["feeder_code"]
    pos = tree.positions(codes.to_numpy(dtype=object))
    if (pos < 0).any():        # validated rows name known feeders; anything else stays as it is
        return good
    return good.assign(feeder_code=pd.Series(tree.code_array[pos], index=good.index, dtype=codes.dtype))


def merge_rows(rows: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Append new readings; only when a key repeats does the newest version have to win."""
    if new.duplicated(KEY).any():          # two versions of a reading in one poll: the newest
        new = new.sort_values("updated_at", kind="stable").drop_duplicates(KEY, keep="last")
    if rows.empty:
        return new.reset_index(drop=True)
    if new.empty:
        return rows
    if new["ts"].min() > rows["ts"].max():   # all later than what is kept: no key can repeat
        return pd.concat([rows, new], ignore_index=True)
    keys = pd.MultiIndex.from_frame(new[KEY])
    repeated = pd.MultiIndex.from_frame(rows[KEY]).isin(keys)
    if not repeated.any():   # the usual minute: new timestamps only
        return pd.concat([rows, new], ignore_index=True)
    both = pd.concat([rows, new], ignore_index=True).sort_values("updated_at", kind="stable")
    return both.drop_duplicates(KEY, keep="last").reset_index(drop=True)
