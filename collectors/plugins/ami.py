"""用电信息采集 (AMI): 台区 load and voltage every 15 min → heavy/overload 台区, low voltage.

State is compact (domain.load.TareaPoints: arrays per timestamp), so a province's 330 k 台区 ×
3 h fit in ~100 MB; the first cycle reads its window a quarter-hour at a time for the same reason.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from collectors.base import FUTURE_TOLERANCE, Collector
from collectors.domain import load as kpi
from collectors.domain import validation as v
from collectors.frames import SeenRows, conflicts_within, typed
from collectors.publish import Dataset, Patch, RawJSON, patch_digest
from collectors.sources.adapter import raw_select
from sqlalchemy import String, cast, func, literal, select, type_coerce
from sqlalchemy.types import NullType
from collectors.sources.schema import ami_tarea_load
from config.limits import limits

SOURCE = "AMI"
KEY = ["tarea_code", "ts"]
VALUES = ["active_kw", "apparent_kva", "voltage_min_v", "low_voltage_customers"]
IDENTITY = [*KEY, "updated_at"]     # a row version: what the overlap re-read is checked on
BOOT_PARTS = 4                 # the first cycle reads a quarter in this many 台区 ranges
BOOT_PART_MIN = 1000           # ... when each would hold at least this many 台区
KEEP = pd.Timedelta(hours=3)   # the 8-point rule needs 2 h; keep a margin for late rows
TABLE = "ami_tarea_load"
IDENT = "_identity"     # the version identity as one text, built by the source (see identity_column)
MISSING, SEP = "\x01", "\x1f"   # in an identity text: a missing value, between the fields


def identity_column(table):
    """(台区, ts, updated_at) of a row as one text, computed by the source: the overlap check
    reads it alone (one value per row instead of three, one hash instead of three; ~0.15 s
    less per 330 k rows). A missing value is MISSING (no driver text form gives it), fields
    apart by SEP. A read of whole rows builds the same text (identity_texts) rather than read
    it: the source's concatenation costs more than it saves there."""
    parts = [func.coalesce(cast(type_coerce(table.c[c], NullType()), String), literal(MISSING, String))
             for c in IDENTITY]
    text = parts[0]
    for part in parts[1:]:
        text = text.concat(literal(SEP, String)).concat(part)
    return type_coerce(text, NullType()).label(IDENT)


def identity_texts(frame: pd.DataFrame) -> np.ndarray:
    """identity_column's text for the rows of a frame. The same text for str values (every
    row that can pass validation); a value of another type (a number or bytes in one of the
    three fields) may print apart from the source's CAST, and such a row in the overlap only
    costs a full read of the window (its version is found seen there, by this text)."""
    out = None
    for c in IDENTITY:
        s = frame[c]
        text = (s.to_numpy(dtype=object, na_value=MISSING) if isinstance(s.dtype, pd.StringDtype)
                else s.astype("string").fillna(MISSING).to_numpy(dtype=object))
        out = text if out is None else out + SEP + text
    return out


def hash_identities(texts) -> np.ndarray:
    """64-bit hashes of identity texts (as IdentitySeen keeps them): a column read from the
    source (identity_column) or the texts of identity_texts."""
    if isinstance(texts, pd.Series):
        texts = (texts.to_numpy(dtype=object, na_value=MISSING) if isinstance(texts.dtype, pd.StringDtype)
                 else texts.astype("string").fillna(MISSING).to_numpy(dtype=object))
    return pd.util.hash_array(np.asarray(texts, dtype=object), categorize=False)


class SlicedStart:
    """For a collector whose first cycle reads its window in slices, absorbing each at once:
    the slices' rejects join the cycle's, and their newest write moves the watermark too."""

    def _start_slices(self) -> None:
        self._boot_rejects: list[dict] = []
        self._boot_newest: datetime | None = None

    def _absorbed_slice(self, part: pd.DataFrame, rejects: list[dict], now: datetime) -> None:
        self._boot_rejects += rejects
        self._boot_newest = newest_write(part, now, getattr(self, "_boot_newest", None))

    def _slice_rejects(self) -> list[dict]:
        rejects, self._boot_rejects = getattr(self, "_boot_rejects", []), []
        return rejects

    def advance(self, table_name: str, frame: pd.DataFrame, now: datetime) -> None:
        super().advance(table_name, frame, now)
        self.advance_slices(table_name)

    def advance_slices(self, table_name: str) -> None:
        newest = getattr(self, "_boot_newest", None)
        if newest is not None:
            old = self.watermarks.get(table_name)
            self.watermarks[table_name] = max(old, newest) if old else newest
            self._boot_newest = None


class AmiCollector(SlicedStart, Collector):
    name = "ami"
    measurements = True
    # Every cycle reads two 330 k-row batches (province): heap handed back after one is
    # faulted in again by the next, ~47 k page faults, 0.25-0.45 s of system CPU per cycle on
    # a busy box. The runner still trims after the first cycle; the peak is the cycle's own.
    trim_after_batches = False

    def __init__(self, ctx):
        super().__init__(ctx)
        self.points = kpi.TareaPoints()
        self._memo: dict[str, tuple] = {}    # per batch: tree positions
        self._stamps: dict[str, tuple] = {}  # per batch: parsed timestamps (poll to advance)
        self._entries: dict[str, RawJSON] = {}  # as last handed to publish, and their digest
        self._digest = "empty"
        self._last_lookup: tuple | None = None  # (tree, positions) of the last batch's 台区 codes
        self._start_slices()

    def poll(self, table) -> pd.DataFrame:
        """Collector.poll in two reads: the overlap window (up to the watermark), then what is
        newer. The previous quarter carries the watermark stamp, so every poll sees it again
        (330 k rows at province) only to find it seen: the overlap is read as identities only
        (台区, ts, updated_at) and read in full only if it holds a version not seen before.
        The same rows as one read.

        A row is known by its version identity (key and updated_at), not by its whole content:
        a source that rewrites a reading must stamp the new version (a row rewritten in place
        under the same key and updated_at is the same version; the merge keeps one per key and
        version anyway)."""
        self._stamps = {}
        seen = self._seen.setdefault(table.name, IdentitySeen())
        mark = self.watermarks.get(table.name)
        u = table.c.updated_at
        stmt = raw_select(table).order_by(u)
        old, old_hashes = None, None
        if mark is not None:
            edge = mark + timedelta(microseconds=1)     # complementary bounds: every row in one read
            window = (u >= mark - timedelta(seconds=self.overlap_s)) & (u < edge)
            ids = self.ctx.source.read(select(identity_column(table)).where(window))
            if len(ids) and not seen.seen(hash_identities(ids[IDENT])).all():   # a late row: the window in full
                old, old_hashes = seen.split(self.ctx.source.read(stmt.where(window)))
            del ids
            stmt = stmt.where(u >= edge)
        new, new_hashes = seen.split(self.ctx.source.read(stmt))
        if old is not None and len(old):
            batch, hashes = pd.concat([old, new], ignore_index=True), np.concatenate([old_hashes, new_hashes])
        else:
            batch, hashes = new.reset_index(drop=True), new_hashes
        self._pending[table.name] = pd.Series(self.stamps(batch, "updated_at").to_numpy(), index=hashes)
        return batch

    def stamps(self, frame: pd.DataFrame, field: str) -> pd.Series:
        """v.to_datetime(frame[field]), parsed once per batch (poll, rules, merge, watermark)."""
        got = self._stamps.get(field)
        if got is None or got[0] is not frame:
            got = self._stamps[field] = (frame, parse_repeated(frame[field]))
        return got[1]

    def advance(self, table_name: str, frame: pd.DataFrame, now: datetime) -> None:
        """Collector.advance with the batch's parsed updated_at."""
        if not frame.empty:
            stamps = self.stamps(frame, "updated_at")
            newest = stamps[stamps <= pd.Timestamp(now) + FUTURE_TOLERANCE].max()
            if pd.notna(newest):
                old = self.watermarks.get(table_name)
                newest = newest.to_pydatetime()
                self.watermarks[table_name] = max(old, newest) if old else newest
        self._stamps = {}
        self.advance_slices(table_name)

    def collect(self) -> dict[str, pd.DataFrame]:
        if TABLE in self.watermarks:
            return {TABLE: self.poll(ami_tarea_load)}
        # First cycle: the window a quarter-hour at a time, each slice absorbed into the compact
        # state at once (a province's whole window as one frame of objects is gigabytes).
        now = self.ctx.clock.now()
        t = ami_tarea_load.c.ts
        start = pd.Timestamp(now - KEEP.to_pytimedelta())
        self.points = kpi.TareaPoints()
        self._start_slices()
        self._stamps = {}
        seen, overlap = [], timedelta(seconds=self.overlap_s)
        ranges = self._code_ranges()

        def absorb_slice(where) -> pd.DataFrame:
            nonlocal seen
            for codes in ranges:
                part = self.ctx.source.read_table(ami_tarea_load, where if codes is None else where & codes)
                hashes = hash_identities(identity_texts(part))
                self._absorbed_slice(part, self._absorb(part, now), now)
                # the slices' versions are seen, as far as the next poll's overlap can reach
                seen.append(pd.Series(self.stamps(part, "updated_at").to_numpy(), index=hashes))
                if self._boot_newest is not None:
                    horizon = pd.Timestamp(self._boot_newest - overlap)
                    seen = [h[~(h < horizon)] for h in seen]
            return part

        edge = start.floor(kpi.QUARTER) + kpi.QUARTER
        cut = start
        while edge <= pd.Timestamp(now):
            absorb_slice((t >= cut.to_pydatetime()) & (t < edge.to_pydatetime()))
            cut, edge = edge, edge + kpi.QUARTER
        last = absorb_slice(t >= cut.to_pydatetime())   # open-ended, absorbed like the others
        self._seen[TABLE] = IdentitySeen()
        self._pending[TABLE] = pd.concat(seen)
        return {TABLE: last.iloc[:0]}

    def _code_ranges(self) -> list:
        """The first cycle reads each quarter in BOOT_PARTS ranges of 台区 code (a province's
        quarter is 330 k rows: ~+400 MB of row objects for a moment, ~1/BOOT_PARTS of that
        now). The ranges cover every row once: the first takes a missing code and anything
        ordered before text, the last anything after. Split at the tree's 台区 codes, on
        SQLite only (its text order is Python's; another collation could order the bounds apart)."""
        tree = self.tree
        if self.ctx.source.engine.dialect.name != "sqlite":
            return [None]
        codes = np.sort(tree.code_array[tree.level_numbers == kpi.LEVEL_TAREA].astype(str))
        if len(codes) < BOOT_PARTS * BOOT_PART_MIN:
            return [None]
        bounds = sorted({str(codes[len(codes) * k // BOOT_PARTS]) for k in range(1, BOOT_PARTS)})
        if not bounds:
            return [None]
        c = ami_tarea_load.c.tarea_code
        return [(c < bounds[0]) | c.is_(None), *[(c >= a) & (c < b) for a, b in zip(bounds, bounds[1:])],
                c >= bounds[-1]]

    def rules(self, now: datetime) -> list[v.Rule]:
        """The checks, in this order; the 台区 look-ups and timestamp parses of a batch are done
        once and shared (by the rules and by _absorb): 330 k codes per province batch."""
        latest = pd.Timestamp(now + timedelta(minutes=5))
        tree = self.tree
        is_tarea = tree.level_numbers == kpi.LEVEL_TAREA
        cap = tree.nodes["capacity_kva"].to_numpy("float64")

        def unknown_tarea(df):            # = v.known_code("tarea_code", tree.codes("tarea"))
            pos = self._tree_positions(df)
            known = np.zeros(len(pos), dtype=bool)
            known[pos >= 0] = is_tarea[pos[pos >= 0]]
            return df["tarea_code"].notna() & ~pd.Series(known, index=df.index)

        def over_10x(df):                 # apparent power above 10x the 台区's capacity
            pos = self._tree_positions(df)
            limit = np.full(len(pos), np.nan)
            limit[pos >= 0] = cap[pos[pos >= 0]]
            return pd.to_numeric(df["apparent_kva"], errors="coerce") > 10 * limit

        def stamp(field):                 # = v.timestamp(field, latest), keeping the parse
            def broken(df):
                ts = self.stamps(df, field)
                return ts.isna() | (ts < v.EARLIEST) | (ts > latest)
            return v.Rule(field, "timestamp", broken)

        return [*v.required(*KEY, *VALUES, "updated_at"), v.text("tarea_code", 32),
                v.Rule("tarea_code", "known_code", unknown_tarea),
                stamp("ts"), stamp("updated_at"),
                v.number("active_kw", 0, 1e6), v.number("apparent_kva", 0, 1e6),
                v.number("voltage_min_v", 0, 1000), v.number("low_voltage_customers", 0, 1e5),
                v.Rule("apparent_kva", "over_10x_capacity", over_10x)]

    def _tree_positions(self, df: pd.DataFrame) -> np.ndarray:
        got = self._memo.get("pos")
        if got is None or got[0] is not df:
            got = (df, self._lookup(df["tarea_code"].to_numpy(dtype=object)))
            self._memo["pos"] = got
        return got[1]

    def _lookup(self, codes: np.ndarray) -> np.ndarray:
        """tree.positions(codes). A quarter's batch holds the 台区 of the last one, mostly in
        the same order: the last answer is tried first and checked code by code (an equality
        per code instead of a hash look-up: ~0.15 s less per 330 k); where it does not hold
        (another code, or none found last time), those codes are looked up."""
        tree = self.tree
        last = self._last_lookup
        if last is not None and last[0] is tree and len(last[1]) == len(codes):
            pos = last[1].copy()
            found = pos >= 0
            ok = np.zeros(len(codes), dtype=bool)
            ok[found] = tree.code_array[pos[found]] == codes[found]
            if not ok.all():
                redo = np.flatnonzero(~ok)
                if len(redo) > len(codes) // 4:
                    pos = tree.positions(codes)
                else:
                    pos[redo] = tree.positions(codes[redo])
        else:
            pos = tree.positions(codes)
        self._last_lookup = (tree, pos)
        return pos

    def _parsed(self, field: str, raw: pd.DataFrame, at: np.ndarray) -> np.ndarray:
        return self.stamps(raw, field).to_numpy(dtype="datetime64[us]")[at]

    def _absorb(self, raw: pd.DataFrame, now: datetime) -> list[dict]:
        self._memo = {}
        try:
            good, rejects = v.apply_rules(raw, self.rules(now), source=SOURCE, table=TABLE, key=KEY)
            if good.empty:
                return rejects
            at = raw.index.get_indexer(good.index)        # good rows' places in the batch
            pos = self._tree_positions(raw)[at]
            ts, upd = self._parsed("ts", raw, at), self._parsed("updated_at", raw, at)
        finally:
            self._memo = {}
        fields = {f: pd.to_numeric(good[f], errors="coerce").to_numpy(dtype="float64")
                  for f in kpi.TareaPoints.FIELDS}
        keep = ts >= (pd.Timestamp(now) - KEEP).to_datetime64()
        versions = pd.DataFrame({"p": pos, "t": ts.view("int64"), "u": upd.view("int64")})
        if versions.duplicated(keep=False).any():         # rare: the full content comparison
            typed_good = typed(good, times=("ts", "updated_at"), numbers=VALUES)[[*KEY, *VALUES, "updated_at"]]
            conflict = conflicts_within(typed_good, KEY, "updated_at")
            rejects += [v.reject_record(r, source=SOURCE, table=TABLE, key=KEY, field="ts",
                                        rule="duplicate_conflict") for _, r in typed_good[conflict].iterrows()]
            keep &= ~conflict.to_numpy()
        self.points.merge_arrays(self.points.from_tree(self.tree, pos[keep]), ts[keep], upd[keep],
                                 {f: a[keep] for f, a in fields.items()})
        return rejects

    def absorb(self, batches, now: datetime) -> list[dict]:
        rejects = self._slice_rejects() + self._absorb(batches[TABLE], now)
        self.points.keep_from(pd.Timestamp(now) - KEEP)
        return rejects

    def datasets(self, now: datetime) -> list[Dataset]:
        per_node = kpi.tarea_load_points(self.points, self.tree, now, limits()["load"])
        self.ctx.frames["ami.nodes"] = per_node.drop(columns="ami_ts")
        total = per_node["tareas_total"].fillna(0).to_numpy("int64")
        cols = {c: per_node[c].to_numpy("int64") for c in
                ("heavy_tareas", "overload_tareas", "low_voltage_customers", "tareas_reporting")}
        # a 台区 with nothing to report is left out
        keep = np.flatnonzero((total != 0) | (cols["heavy_tareas"] != 0) | (cols["low_voltage_customers"] != 0))
        codes = per_node.index.to_numpy()[keep].tolist()
        lists = {c: a[keep].tolist() for c, a in cols.items()}
        totals = total[keep].tolist()
        # as JSON text, column-wise: what publish.dumps writes for the dict of these five ints
        template = ('{"heavy_tareas":%d,"overload_tareas":%d,"low_voltage_customers":%d,'
                    '"tareas_reporting":%d,"tareas_total":%d}')
        entries = {code: RawJSON(template % tuple(values))
                   for code, *values in zip(codes, lists["heavy_tareas"], lists["overload_tareas"],
                                            lists["low_voltage_customers"], lists["tareas_reporting"],
                                            totals)}
        last = self.points.last_ts()
        # a patch on the entries handed over last time: publish writes only those that changed
        # when Redis holds that content, everything otherwise (the same bytes either way)
        old = self._entries
        put = {k: t for k, t in entries.items() if old.get(k) != t}
        gone = [k for k in old if k not in entries]
        base, self._digest = self._digest, patch_digest(self._digest, put, gone)
        self._entries = entries
        return [Dataset("ami", last.to_pydatetime() if last is not None else now, entries,
                        digest=self._digest, patch=Patch(base, put, gone))]


def parse_repeated(raw: pd.Series) -> pd.Series:
    """v.to_datetime(raw) for a column of few distinct values (a quarter's 330 k rows share a
    handful of stamps): each distinct value parsed once, the same parser, the same values.
    Only for a str column: values of other types that compare equal (2026, 2026.0) can parse
    apart as text."""
    if not isinstance(raw.dtype, pd.StringDtype) or len(raw) < 1000:
        return v.to_datetime(raw)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    if len(uniques) > len(raw) // 8:
        return v.to_datetime(raw)
    parsed = v.to_datetime(pd.Series(np.asarray(uniques, dtype=object), dtype=raw.dtype))
    values = parsed.to_numpy(dtype="datetime64[us]")
    out = np.where(codes >= 0, values[np.where(codes >= 0, codes, 0)] if len(values) else np.datetime64("NaT", "us"),
                   np.datetime64("NaT", "us"))
    return pd.Series(out, index=raw.index, name=raw.name)


def newest_write(frame: pd.DataFrame, now: datetime, old: datetime | None) -> datetime | None:
    """Collector.advance's rule: the newest plausible write in a slice."""
    if frame.empty:
        return old
    stamps = v.to_datetime(frame["updated_at"])
    newest = stamps[stamps <= pd.Timestamp(now) + FUTURE_TOLERANCE].max()
    if pd.isna(newest):
        return old
    newest = newest.to_pydatetime()
    return max(old, newest) if old else newest


class IdentitySeen(SeenRows):
    """SeenRows keyed by version identity (台区, ts, updated_at): see AmiCollector.poll."""

    def seen(self, hashes: np.ndarray) -> np.ndarray:
        return pd.Index(hashes).isin(self.hashes.index)

    def split(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """The rows whose version was not seen before, and their identities."""
        if frame.empty:
            return frame, np.empty(0, dtype="uint64")
        hashes = hash_identities(identity_texts(frame))
        fresh = ~self.seen(hashes)
        return (frame if fresh.all() else frame[fresh]), hashes[fresh]


def identities(frame: pd.DataFrame) -> np.ndarray:
    """A 64-bit hash per row of its identity columns, from their text (equal values in a str
    or an object column hash alike; a missing value is its own text)."""
    h = np.zeros(len(frame), dtype="uint64")
    for c in IDENTITY:
        s = frame[c]
        text = (s.to_numpy(dtype=object, na_value="\x00") if isinstance(s.dtype, pd.StringDtype)
                else s.astype("string").fillna("\x00").to_numpy(dtype=object))
        h = (h ^ pd.util.hash_array(text, categorize=False)) * np.uint64(1099511628211)
    return h
