"""OMS 停电信息: outage records and their 台区 scope.

A scope is re-read whole whenever its outage row changes, so a corrected scope (rows deleted
or added in OMS) replaces the old one instead of being merged into it.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from collectors.base import Collector
from collectors.domain import outages as kpi
from collectors.domain import reliability
from collectors.domain.lists import top_per_node
from collectors.domain import validation as v
from collectors.frames import conflicts_within, typed, upsert
from collectors.publish import Dataset, Patch, RawJSON, dumps, patch_digest
from collectors.sources.schema import oms_outage, oms_outage_tarea
from config.limits import limits

SOURCE = "OMS"
KEY = ["outage_id"]
TYPES = ("planned", "temporary", "fault")
EQUIPMENT = ("feeder", "tarea", "lv_line")
STATUSES = ("scheduled", "active", "restored", "cancelled")
RETAIN_DAYS = 62   # frequent-outage rule looks back 60 days
TIMES = ("start_at", "reported_at", "etr", "restored_at", "notice_published_at", "updated_at")


LOG_KEPT = 720   # revisions a reader of "outages.log" can lag behind and still catch up


@dataclass(frozen=True)
class OutagesLog:
    """The OMS frames with what changed in them (shared as "outages.log"): `changes` holds, for
    each of the last revisions, the outage ids whose row or scope was added, replaced or dropped
    in it. A reader that last saw revision r reads the ids of every revision after r; when r is
    older than the first one kept, it must take everything as changed."""
    revision: int
    outages: pd.DataFrame
    scope: pd.DataFrame
    changes: tuple[tuple[int, frozenset], ...]

    def changed_since(self, revision: int | None) -> set | None:
        """Outage ids changed after `revision` (None: unknown, take all as changed)."""
        if revision is None or (self.changes and self.changes[0][0] > revision + 1) \
                or (not self.changes and self.revision > revision) or revision > self.revision:
            return None
        return set().union(*(ids for rev, ids in self.changes if rev > revision))


class OutagesCollector(Collector):
    name = "outages"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.outages = pd.DataFrame()
        self.scope = pd.DataFrame(columns=["outage_id", "tarea_code"])
        self._memo: dict[str, tuple] = {}   # results kept while their inputs are the same
        self._revision = 0
        self._changes: deque[tuple[int, frozenset]] = deque(maxlen=LOG_KEPT)
        self._changed: set = set()          # ids changed in the cycle in progress
        self._texts = _EntryTexts()
        self._entries: dict[str, object] = {}   # the last outages dataset's entries
        self._dataset: Dataset | None = None   # the last one handed out (a patch's base)

    def _note(self, ids) -> None:
        self._changed.update(ids)

    def collect(self) -> dict[str, pd.DataFrame]:
        if "oms_outage" in self.watermarks:
            rows = self.poll(oms_outage)
        else:
            since = self.ctx.clock.now() - timedelta(days=RETAIN_DAYS)
            rows = self.ctx.source.read_table(
                oms_outage, (oms_outage.c.start_at >= since) | oms_outage.c.restored_at.is_(None))
        ids = rows["outage_id"].dropna().astype(str).unique().tolist()
        scope = pd.DataFrame(columns=[c.name for c in oms_outage_tarea.c])
        for i in range(0, len(ids), 500):  # bounded IN lists
            part = self.ctx.source.read_table(oms_outage_tarea, oms_outage_tarea.c.outage_id.in_(ids[i:i + 500]))
            scope = pd.concat([scope, part], ignore_index=True) if not scope.empty else part
        return {"oms_outage": rows, "oms_outage_tarea": scope}

    def absorb(self, batches, now: datetime) -> list[dict]:
        latest = now + timedelta(minutes=5)
        tree = self.tree
        rules = [*v.required("outage_id", "outage_type", "equipment_type", "equipment_code",
                             "customers", "start_at", "reported_at", "status", "updated_at"),
                 v.text("outage_id", 40), v.text("equipment_code", 32), v.text("cause", 32),
                 v.one_of("outage_type", TYPES), v.one_of("equipment_type", EQUIPMENT),
                 v.one_of("status", STATUSES), v.number("customers", 0, 10_000_000),
                 _known("equipment_code", tree.nodes.index),
                 v.timestamp("reported_at", latest), v.timestamp("updated_at", latest),
                 v.timestamp("start_at", now + timedelta(days=400)),
                 v.timestamp("etr", now + timedelta(days=400), optional=True),
                 v.timestamp("restored_at", latest, optional=True)]
        good, rejects = v.apply_rules(batches["oms_outage"], rules, source=SOURCE,
                                      table="oms_outage", key=KEY)
        good = typed(good, times=TIMES, numbers=("customers",))
        conflict = conflicts_within(good, KEY, "updated_at")
        rejects += [v.reject_record(r, source=SOURCE, table="oms_outage", key=KEY, field="outage_id",
                                    rule="duplicate_conflict") for _, r in good[conflict].iterrows()]
        good = good[~conflict]
        if not self.outages.empty:
            prev_ts = self.outages["updated_at"].reindex(good["outage_id"]).to_numpy()
            good = good[~(good["updated_at"].to_numpy() < prev_ts)]

        scope, scope_rejects = v.apply_rules(
            batches["oms_outage_tarea"], [*v.required("outage_id", "tarea_code"),
                                          _known("tarea_code", tree.memo(("codes", "tarea"), lambda: pd.Index(
                                              tree.codes("tarea"), dtype=object)))],
            source=SOURCE, table="oms_outage_tarea", key=["outage_id", "tarea_code"])
        # A frame is replaced only when its content changes: readers (the audit) skip work while
        # the frame they last read is still the one shared.
        if not good.empty:
            self.outages = upsert(self.outages, good, "outage_id")
            changed = set(good["outage_id"])
            self._note(changed)
            kept = self.scope[~self.scope["outage_id"].isin(changed)]
            fresh = scope[scope["outage_id"].isin(changed)][["outage_id", "tarea_code"]].drop_duplicates()
            self.scope = pd.concat([kept, fresh], ignore_index=True)
        self._retain(now)
        return rejects + scope_rejects

    def _retain(self, now: datetime) -> None:
        horizon = pd.Timestamp(now) - pd.Timedelta(days=RETAIN_DAYS)
        o = self.outages
        if o.empty:
            return
        keep = (o["start_at"] >= horizon) | o["restored_at"].isna()
        if not keep.all():
            self._note(o.loc[~keep, "outage_id"])
            self.outages = o[keep]
        in_window = self.scope["outage_id"].isin(self.outages.index)
        if not in_window.all():
            self.scope = self.scope[in_window]

    def datasets(self, now: datetime) -> list[Dataset]:
        if self.outages.empty and "updated_at" not in self.outages:
            empty = pd.DataFrame(columns=[c.name for c in oms_outage.c])
            self.outages = typed(empty, times=TIMES, numbers=("customers",))
        self.ctx.frames["outages.outages"] = self.outages
        self.ctx.frames["outages.scope"] = self.scope
        if self._changed:
            self._revision += 1
            self._changes.append((self._revision, frozenset(self._changed)))
            self._changed = set()
        log = self.ctx.frames.get("outages.log")
        if log is None or log.outages is not self.outages or log.scope is not self.scope \
                or log.revision != self._revision:
            self.ctx.frames["outages.log"] = OutagesLog(self._revision, self.outages, self.scope,
                                                        tuple(self._changes))
        cfg = limits()["outages"]
        counts, active_list = self._active(now)
        pairs = reliability.pairs_at(self._pair_base(), self.tree, now, cfg["sustained_minutes"])
        frequent = reliability.frequent_tareas(pairs, now, cfg["frequent"])
        memo = self._memo.get("frequent")
        if memo is None or memo[1] is not self.tree or memo[2] is not counts or not memo[0].equals(frequent):
            per_node = counts.join(reliability.frequent_counts(frequent, self.tree), how="outer").fillna(0)
            lists = top_per_node(frequent.reset_index(), self.tree, "tarea_code", cfg["list_levels"],
                                 ["level", "tarea_code"], [False, True], cfg["list_top"])
            memo = self._memo["frequent"] = (frequent, self.tree, counts, per_node.astype("int64"), lists)
        frequent, per_node, lists = memo[0], memo[3], memo[4]
        self.ctx.frames["outages.frequent"] = frequent     # the same frame while it does not change
        stats = reliability.node_kpis(pairs, self.tree, now).reindex(per_node.index)
        return [self._outages_dataset(now, per_node, stats, active_list), Dataset("frequent_outages", now, lists)]

    def _pair_base(self) -> pd.DataFrame:
        """reliability.pair_base of the frames, kept between cycles: only the pairs of the
        outages changed since (the change log) are derived again."""
        memo = self._memo.get("pairs")
        if memo is not None and memo[2] is self.tree and memo[0] is self.outages and memo[1] is self.scope:
            return memo[4]
        changed = None
        if memo is not None and memo[2] is self.tree and self._changes and self._changes[0][0] <= memo[3] + 1:
            changed = set().union(*(ids for rev, ids in self._changes if rev > memo[3]))
        elif memo is not None and memo[2] is self.tree and memo[3] == self._revision:
            changed = set()
        if changed is None:
            base = reliability.pair_base(self.outages, self.scope, self.tree)
        else:
            base = reliability.update_pair_base(memo[4], self.outages, self.scope, self.tree, changed)
        self._memo["pairs"] = (self.outages, self.scope, self.tree, self._revision, base)
        return base

    def _outages_dataset(self, now, per_node, stats, active_list) -> Dataset:
        """Per node its counts and indices as JSON text (see _entries), serialised again only
        where a value changed, handed to publish as a patch of the changed entries."""
        texts, rows = self._texts.update(per_node, stats)
        prev, entries = self._entries, dict(self._entries)
        codes = self._texts.codes       # the nodes' codes as a list (not Index.__getitem__ per row)
        if rows is None:
            entries = dict(zip(codes, (RawJSON(t) for t in texts)))
        else:
            for i in rows.tolist():
                entries[codes[i]] = RawJSON(texts[i])
        entries["_active"] = active_list
        last = self._dataset
        if rows is None:
            keep = set(entries)
            changed = {k: v for k, v in entries.items() if prev.get(k) != v}
            removed = [k for k in prev if k not in keep]
        else:
            changed = {}
            for i in rows.tolist():
                code = codes[i]
                if prev.get(code) != entries[code]:
                    changed[code] = entries[code]
            removed = []
        if prev.get("_active") is not active_list:
            changed["_active"] = active_list
        self._entries = entries
        if last is not None and last.digest is not None and prev:
            payload = {k: v if isinstance(v, RawJSON) else dumps(v) for k, v in changed.items()}
            ds = Dataset("outages", now, entries, digest=patch_digest(last.digest, payload, removed),
                         patch=Patch(last.digest, changed, removed))
        else:
            ds = Dataset("outages", now, entries)
        self._dataset = ds
        return ds

    def _active(self, now: datetime) -> tuple[pd.DataFrame, list[dict]]:
        """Counts of outages in progress per node, and their list: they depend on the clock only
        through which outages are in progress, so they are computed again only when that set or
        the frames change."""
        active = kpi.active_mask(self.outages, now)
        inputs = (self.outages, self.scope, self.tree)
        memo = self._memo.get("active")
        if memo is None or any(a is not b for a, b in zip(memo[0], inputs)) or not memo[1].equals(active):
            memo = self._memo["active"] = (inputs, active, kpi.node_kpis(self.outages, self.scope, self.tree, now),
                                           kpi.active_list(self.outages, self.scope, self.tree, now))
        return memo[2], memo[3]


RELIABILITY = ("customer_hours_active", "customer_hours_mtd", "saidi_mtd_h", "saifi_mtd", "rs1_mtd")


def _known(field: str, codes: pd.Index) -> v.Rule:
    """v.known_code on the codes' own hash table (kept per tree), not one built per poll."""
    return v.Rule(field, "known_code",
                  lambda df: df[field].notna() & (codes.get_indexer(df[field].astype(object)) < 0))


class _EntryTexts:
    """The outages entries' JSON (what _entries writes), column by column: a value's text is made
    again only where the value changed since the last cycle on the same nodes."""

    def __init__(self):
        self.index = None
        self.values: dict[str, np.ndarray] = {}
        self.texts: dict[str, list[str]] = {}
        self.rows: list[str] = []
        self.codes: list = []          # the nodes of `index` as a list

    def update(self, counts: pd.DataFrame, stats: pd.DataFrame) -> tuple[list[str], np.ndarray | None]:
        """Every node's entry text, and the rows that changed (None: all of them, new nodes)."""
        columns = {k: (counts[k].to_numpy(dtype="int64"), str) for k in counts.columns}
        for k in RELIABILITY:
            columns[k] = (stats[k].to_numpy(dtype="float64"), _number)
        columns["interruptions_mtd"] = (stats["interruptions_mtd"].to_numpy(dtype="int64"), str)
        same = self.index is not None and list(columns) == list(self.texts) and (
            self.index is counts.index or self.index.equals(counts.index))
        moved = np.zeros(len(counts), dtype=bool)
        for k, (values, fmt) in columns.items():
            if same:
                old = self.values[k]
                diff = values != old
                if values.dtype.kind == "f":
                    diff &= ~(np.isnan(values) & np.isnan(old))
                texts = self.texts[k]
                at = np.flatnonzero(diff)
                for i, text in zip(at.tolist(), [fmt(x) for x in values[at].tolist()]):
                    texts[i] = text
                moved |= diff
            else:
                self.texts[k] = [fmt(x) for x in values.tolist()]
            self.values[k] = values
        template = "{" + ",".join(f"{dumps(k)}:%s" for k in columns) + "}"
        cols = list(self.texts.values())
        if not same:
            self.index = counts.index
            self.codes = counts.index.tolist()
            self.rows = [template % row for row in zip(*cols)]
            return self.rows, None
        rows = np.flatnonzero(moved)
        at = rows.tolist()
        for i, text in zip(at, [template % row for row in zip(*([c[i] for i in at] for c in cols))]):
            self.rows[i] = text
        return self.rows, rows


def _entries(counts: pd.DataFrame, stats: pd.DataFrame) -> list[RawJSON]:
    """Per node (rows of `counts`): its counts, then customer-hours and month-to-date indices
    (null where a node has no customers), as the JSON publish.dumps writes for that dict, built
    column-wise (every node's indices move with the clock, so every entry is new each cycle)."""
    columns = {k: list(map(str, counts[k].tolist())) for k in counts.columns}
    for k in RELIABILITY:
        columns[k] = [_number(x) for x in stats[k].astype("float64").tolist()]
    columns["interruptions_mtd"] = list(map(str, stats["interruptions_mtd"].astype("int64").tolist()))
    template = "{" + ",".join(f"{dumps(k)}:%s" for k in columns) + "}"
    return [RawJSON(template % values) for values in zip(*columns.values())]


def _number(x: float) -> str:
    """A float rounded to 12 places as dumps writes it (null for NaN)."""
    if x != x:
        return "null"
    x = round(x, 12)
    return repr(x) if abs(x) != float("inf") else dumps(x)
