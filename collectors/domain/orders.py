"""Repair work-order KPIs per node (docs/kpis.md, section "Repair orders").

Input `orders`: one row per order (latest version), columns of wo_order with timestamps parsed
and `area_type` of its 台区. Output: one row per node with counts, hourly arrays and baselines.
"""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from collectors.domain.calendar import same_type_days
from collectors.domain.tree import LEVELS, Tree

OPEN_STEPS = ("accepted", "dispatched", "received", "departed", "arrived")
HOURS = 24


def open_repair_mask(orders: pd.DataFrame) -> pd.Series:
    """Open = a repair order not yet restored (复电) and not cancelled."""
    return ((orders["order_type"] == "repair") & orders["restored_at"].isna()
            & orders["status"].isin(OPEN_STEPS))


def arrival_deadline(orders: pd.DataFrame, arrival_minutes: dict) -> pd.Series:
    minutes = orders["area_type"].map(arrival_minutes).astype("float64")
    return orders["accepted_at"] + pd.to_timedelta(minutes, unit="min")


def restore_deadline(orders: pd.DataFrame, restore_minutes: dict) -> pd.Series:
    """Restoration is due a limit after the crew's arrival (NaT before it arrives)."""
    minutes = orders["area_type"].map(restore_minutes).astype("float64")
    return orders["arrived_at"] + pd.to_timedelta(minutes, unit="min")


def indicators(orders: pd.DataFrame, now: datetime, baseline_days: list[date],
               repair_limits: dict) -> pd.DataFrame:
    """One numeric column per KPI contribution of each order; summing them gives the KPIs.

    Built as numpy columns (one frame at the end): a cycle calls it on thousands of rows."""
    rep = orders[orders["order_type"] == "repair"]
    acc = rep["accepted_at"].to_numpy(dtype="datetime64[us]")
    today = pd.Timestamp(now).normalize().to_datetime64()
    now_ts = pd.Timestamp(now).to_datetime64()
    hour_td = np.timedelta64(1, "h")
    cols: dict[str, np.ndarray] = {"tarea_code": rep["tarea_code"].to_numpy()}
    in_today = (acc >= today) & (acc <= now_ts)
    cols["repair_today"] = in_today.astype(int)
    cols["repair_last_hour"] = ((acc > now_ts - hour_td) & (acc <= now_ts)).astype(int)
    hour = ((acc - acc.astype("datetime64[D]")) // hour_td).astype("int64")
    for h in range(HOURS):
        cols[f"h{h:02d}"] = (in_today & (hour == h)).astype(int)

    # Baseline: the mean over the n same-type days of the count in the same window of that day.
    n = len(baseline_days)
    base_hourly = np.zeros((len(rep), HOURS))
    base_today = np.zeros(len(rep))
    base_last_hour = np.zeros(len(rep))
    now_tod = now_ts - today
    day_td = np.timedelta64(1, "D")
    for d in baseline_days:
        start = pd.Timestamp(d).to_datetime64()
        on_day = (acc >= start) & (acc < start + day_td)
        base_hourly[on_day, hour[on_day]] += 1.0 / n
        end = start + now_tod
        base_today += ((acc >= start) & (acc <= end)) / n
        base_last_hour += ((acc > end - hour_td) & (acc <= end)) / n
    for h in range(HOURS):
        cols[f"b{h:02d}"] = base_hourly[:, h]
    cols["baseline_today"] = base_today
    cols["baseline_last_hour"] = base_last_hour

    is_open = open_repair_mask(rep).to_numpy()
    status = rep["status"].to_numpy(dtype=object)
    cols["open_repair"] = is_open.astype(int)
    for step in OPEN_STEPS:
        cols[f"open_{step}"] = (is_open & (status == step)).astype(int)
    not_arrived = is_open & rep["arrived_at"].isna().to_numpy()
    overdue = not_arrived & (arrival_deadline(rep, repair_limits["arrival_minutes"]) < pd.Timestamp(now)).to_numpy()
    cols["overdue_arrival"] = overdue.astype(int)
    cols["open_not_arrived"] = not_arrived.astype(int)
    cols["key_customer_overdue"] = (overdue & rep["key_customer"].astype(bool).to_numpy()).astype(int)
    # on site (backlog "arrived"), and past the restoration limit counted from the arrival
    arrived = is_open & rep["arrived_at"].notna().to_numpy()
    late = arrived & (restore_deadline(rep, repair_limits["restore_minutes"]) < pd.Timestamp(now)).to_numpy()
    cols["overdue_restore"] = late.astype(int)
    return pd.DataFrame(cols)


def relevant(orders: pd.DataFrame, now: datetime, baseline_days: list[date]) -> pd.DataFrame:
    """The orders any indicator can count: repairs of today, of the baseline days, or still open.

    The state spans the 35-day lookback; aggregating only these keeps a cycle's cost to a few days.
    """
    rep = orders[orders["order_type"] == "repair"]
    day = rep["accepted_at"].dt.normalize()
    wanted = pd.DatetimeIndex([pd.Timestamp(d) for d in baseline_days] + [pd.Timestamp(now).normalize()])
    return rep[day.isin(wanted) | open_repair_mask(rep)]


def _rollup_index(tree: Tree, upto: str) -> dict:
    """Per tree (cached on it): each node's ancestor positions per level, the nodes down to
    `upto`, and each node's rank in code order."""
    cache = tree.__dict__.setdefault("_orders_rollup", {})
    if upto not in cache:
        index = tree.nodes.index
        anc = np.stack([index.get_indexer(tree.ancestors[lv].to_numpy()) for lv in LEVELS], axis=1)
        upper = np.zeros(len(index), dtype=bool)
        upper[tree.nodes["level"].isin(LEVELS[:LEVELS.index(upto) + 1]).to_numpy()] = True
        order = np.argsort(index.to_numpy(dtype=object), kind="stable")     # positions in code order
        cache[upto] = {"anc": anc, "upper": upper, "order": order, "codes": index.to_numpy(dtype=object)}
    return cache[upto]


def rollup_complete(leaf: pd.DataFrame, tree: Tree, code_col: str = "tarea_code", upto: str = "feeder"
                    ) -> pd.DataFrame:
    """`tree.complete(tree.rollup(leaf, code_col, upto="tarea"), upto)` for numeric leaf columns,
    on integer node positions: every node down to `upto` and every node with leaves below it,
    in code order, the sums as float64 (zero where nothing is below)."""
    ix = _rollup_index(tree, upto)
    values = leaf.drop(columns=[code_col])
    pos = tree.nodes.index.get_indexer(leaf[code_col].to_numpy())
    known = pos >= 0
    matrix = np.nan_to_num(values.to_numpy(dtype="float64", na_value=np.nan)[known])
    keys = ix["anc"][pos[known]]                       # rows x levels, -1 where none
    has = keys >= 0
    flat = keys[has]
    src = np.nonzero(has)[0]                            # the leaf row of each (row, level) key
    shown = ix["upper"].copy()
    shown[flat] = True
    nodes = ix["order"][shown[ix["order"]]]            # in code order
    where = np.full(len(shown), -1, dtype="int64")
    where[nodes] = np.arange(len(nodes))
    slot = where[flat]
    out = np.zeros((len(nodes), matrix.shape[1]))
    for j in range(matrix.shape[1]):
        out[:, j] = np.bincount(slot, weights=matrix[src, j], minlength=len(nodes))
    return pd.DataFrame(out, index=pd.Index(ix["codes"][nodes], dtype=object), columns=values.columns)


def node_kpis(orders: pd.DataFrame, tree: Tree, now: datetime, limits: dict) -> pd.DataFrame:
    base_cfg = limits["baseline"]
    days = same_type_days(now.date(), base_cfg["same_type_days"], base_cfg["lookback_days"])
    ind = indicators(relevant(orders, now, days), now, days, limits["repair"])
    per_node = rollup_complete(ind, tree, "tarea_code", upto="feeder")
    per_node.attrs["baseline_days"] = [d.isoformat() for d in days]
    return per_node


SCALARS = ["repair_today", "repair_last_hour", "open_repair", "overdue_arrival", "open_not_arrived",
           "key_customer_overdue", "overdue_restore"]


def payloads(per_node: pd.DataFrame, baseline_days: list[str]) -> dict[str, dict]:
    """The JSON a screen needs, per node (built column-wise: thousands of nodes per cycle)."""
    per_node = per_node.astype("float64")   # an empty state rolls up to object columns
    hourly = per_node[[f"h{h:02d}" for h in range(HOURS)]].to_numpy().astype(int).tolist()
    base_hourly = per_node[[f"b{h:02d}" for h in range(HOURS)]].to_numpy().round(3).tolist()
    backlog = per_node[[f"open_{s}" for s in OPEN_STEPS]].to_numpy().astype(int).tolist()
    scalars = [dict(zip(SCALARS, row)) for row in per_node[SCALARS].to_numpy().astype(int).tolist()]
    base_today = per_node["baseline_today"].round(3).tolist()
    base_hour = per_node["baseline_last_hour"].round(3).tolist()
    out = {}
    for i, code in enumerate(per_node.index):
        out[code] = {**scalars[i], "baseline_today": base_today[i], "baseline_last_hour": base_hour[i],
                     "hourly": hourly[i], "baseline_hourly": base_hourly[i],
                     "backlog": dict(zip(OPEN_STEPS, backlog[i])), "baseline_days": baseline_days}
    return out


def zero_payload(baseline_days: list[str]) -> dict:
    """What a node with no orders at all shows (sparse 台区 entries fall back to it)."""
    zero = pd.DataFrame(0.0, index=["_"], columns=[*SCALARS, "baseline_today", "baseline_last_hour",
                                                   *[f"h{h:02d}" for h in range(HOURS)],
                                                   *[f"b{h:02d}" for h in range(HOURS)],
                                                   *[f"open_{s}" for s in OPEN_STEPS]])
    return payloads(zero, baseline_days)["_"]


def active_nodes(per_node: pd.DataFrame, levels_index: pd.Index) -> pd.DataFrame:
    """Every node down to feeder level, and the 台区 with something today or still open."""
    busy = per_node[["repair_today", "open_repair", "overdue_arrival"]].to_numpy().any(axis=1)
    return per_node[per_node.index.isin(levels_index) | busy]


def countdowns(orders: pd.DataFrame, now: datetime, repair_limits: dict) -> pd.DataFrame:
    """Every open repair order with its running time limit: arrival until the crew is there,
    then restoration. minutes_left < 0 is past the limit; colour follows warn_share."""
    rep = orders[open_repair_mask(orders)]
    arrived = rep["arrived_at"].notna()
    arrival_min = rep["area_type"].map(repair_limits["arrival_minutes"]).astype("float64")
    restore_min = rep["area_type"].map(repair_limits["restore_minutes"]).astype("float64")
    limit = restore_min.where(arrived, arrival_min)
    start = rep["arrived_at"].where(arrived, rep["accepted_at"])
    deadline = start + pd.to_timedelta(limit, unit="min")
    now_ts = pd.Timestamp(now)
    left = (deadline - now_ts).dt.total_seconds() / 60.0
    used = (now_ts - start).dt.total_seconds() / 60.0 / limit
    colour = np.select([left < 0, used >= repair_limits["warn_share"]], ["red", "yellow"], "normal")
    return pd.DataFrame({
        "order_no": rep["order_no"], "tarea_code": rep["tarea_code"],
        "stage": np.where(arrived, "restore", "arrival"), "status": rep["status"],
        "key_customer": rep["key_customer"].astype(bool), "accepted_at": rep["accepted_at"],
        "deadline": deadline, "limit_min": limit, "minutes_left": left.round(1),
        "used_share": used.round(4), "colour": colour}).reset_index(drop=True)


class OrderStore:
    """The latest version of each order, columnar and updated in place.

    One row per order in preallocated numpy arrays (grown by doubling): repeated values as codes
    into a per-column list, timestamps as datetime64, callers also as 64-bit hashes (to find an
    account's history without comparing strings), and a dict from order number to row. Updating
    costs the rows that came in; `frame(rows)` builds a pandas frame of just the rows a KPI needs,
    indexed by row, with the values decoded as they came from the source.
    """

    CODED = ("order_type", "subtype", "tarea_code", "channel", "status", "area_type")
    TEXT = ("order_no", "customer_id", "phone")
    HASHED = {"customer_id": "_customer_h", "phone": "_phone_h"}
    CALLER_REINDEX = 50_000     # rows written since the callers' sorted copy: sort again past this

    def __init__(self, times, flags=("key_customer", "billing_anomaly", "keyword")):
        self.times, self.flags = tuple(times), tuple(flags)
        self.columns = [*self.TEXT, *self.CODED, *self.times, *self.flags]
        self.n = 0
        self.horizon = None                     # the retention horizon last applied
        self.generation = 0                     # bumped when keep() moves rows (row numbers change)
        self._rows: dict[str, int] = {}
        self._cats = {c: [] for c in self.CODED}
        self._code_of = {c: {} for c in self.CODED}
        self._lookups: dict[str, np.ndarray] = {}
        self._caller_ix: dict = {}               # each hash column sorted, rows then (see same_caller)
        self._written: list[np.ndarray] = []     # existing rows written since (new rows: past ix["n"])
        self._data = self._blank(0)

    def _blank(self, size: int) -> dict[str, np.ndarray]:
        data = {c: np.full(size, None, dtype=object) for c in self.TEXT}
        data.update({c: np.full(size, -1, dtype="int32") for c in self.CODED})
        data.update({c: np.full(size, np.datetime64("NaT"), dtype="datetime64[us]") for c in self.times})
        data.update({c: np.zeros(size, dtype=bool) for c in self.flags})
        data.update({h: np.zeros(size, dtype="uint64") for h in self.HASHED.values()})
        return data

    def col(self, name: str) -> np.ndarray:
        return self._data[name][:self.n]

    def code(self, column: str, value) -> int:
        return self._code_of[column].get(value, -2)       # -2: matches no row (-1 is missing)

    def rows_of(self, keys) -> np.ndarray:
        get = self._rows.get
        return np.fromiter((get(k, -1) for k in keys), dtype="int64", count=len(keys))

    def _encode(self, column: str, values) -> np.ndarray:
        cats, code_of = self._cats[column], self._code_of[column]
        out = np.empty(len(values), dtype="int32")
        for i, value in enumerate(values):
            if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
                out[i] = -1
                continue
            code = code_of.get(value)
            if code is None:
                code = code_of[value] = len(cats)
                cats.append(value)
            out[i] = code
        return out

    @staticmethod
    def _hash(values: np.ndarray) -> np.ndarray:
        present = pd.notna(values)
        out = np.zeros(len(values), dtype="uint64")
        if present.any():
            out[present] = pd.util.hash_array(values[present].astype(str).astype(object)) | np.uint64(1)
        return out

    def upsert(self, new: pd.DataFrame) -> np.ndarray:
        """Newest version per order wins. `new` holds no version older than the stored one.
        Returns the rows written."""
        if new.empty:
            return np.zeros(0, dtype="int64")
        new = new.sort_values("updated_at", kind="stable").drop_duplicates("order_no", keep="last")
        keys = new["order_no"].to_numpy(dtype=object)
        rows = self.rows_of(keys)
        fresh = rows < 0
        added = int(fresh.sum())
        rows[fresh] = np.arange(self.n, self.n + added)
        size = len(next(iter(self._data.values())))
        if self.n + added > size:     # a quarter more room (the province keeps ~750k rows)
            more = self._blank(max(self.n + added - size, size // 4, 1024))
            self._data = {c: np.concatenate([a, more[c]]) for c, a in self._data.items()}
        d = self._data
        for c in self.TEXT:
            d[c][rows] = new[c].to_numpy(dtype=object, na_value=None) if c in new else None
        for c, h in self.HASHED.items():
            d[h][rows] = self._hash(d[c][rows])
        for c in self.CODED:
            d[c][rows] = self._encode(c, new[c].to_numpy(dtype=object, na_value=None)) if c in new else -1
        for c in self.times:
            d[c][rows] = new[c].to_numpy(dtype="datetime64[us]")
        for c in self.flags:
            d[c][rows] = new[c].to_numpy(dtype=bool, na_value=False)
        self._rows.update(zip(keys[fresh].tolist(), rows[fresh].tolist()))
        self.n += added
        if self._caller_ix:
            self._written.append(rows[~fresh])
        return rows

    def fit(self, room: float = 0.05) -> None:
        """Drop the spare room beyond `room` of the rows kept (after the first cycle's slices
        grew the arrays; ~100 MB at province scale)."""
        size = len(self._data["order_no"])
        want = self.n + max(int(self.n * room), 1024)
        if size > want:
            self._data = {c: a[:want].copy() for c, a in self._data.items()}

    def keep(self, mask: np.ndarray) -> None:
        """Forget the rows where `mask` is False (compacts the arrays)."""
        if mask.all():
            return
        idx = np.flatnonzero(mask)
        self.generation += 1
        self._caller_ix, self._written = {}, []
        self._data = {c: a[idx].copy() for c, a in self._data.items()}
        self.n = len(idx)
        self._rows = dict(zip(self._data["order_no"].tolist(), range(self.n)))

    def _lookup(self, column: str) -> np.ndarray:
        """The column's values by code, then None (rebuilt only when a value was added)."""
        cached, cats = self._lookups.get(column), self._cats[column]
        if cached is None or len(cached) != len(cats) + 1:
            # extended by the values added since (the province's 台区 codes run to 330k: never
            # convert them all again because one was added)
            have = 0 if cached is None else len(cached) - 1
            more = np.empty(len(cats) - have + 1, dtype=object)
            more[:-1] = cats[have:]
            cached = self._lookups[column] = more if cached is None else np.concatenate([cached[:-1], more])
        return cached

    def frame(self, rows=None, columns=None, keyed: bool = False) -> pd.DataFrame:
        """The given rows (default all) as a frame indexed by row (or by order number)."""
        rows = np.arange(self.n) if rows is None else np.asarray(rows, dtype="int64")
        out = {}
        for c in columns or self.columns:
            a = self._data[c][rows]
            if c in self._cats:
                a = self._lookup(c)[a]         # -1 picks the trailing None
            out[c] = a
        index = pd.Index(self._data["order_no"][rows], dtype=object) if keyed else pd.Index(rows)
        return pd.DataFrame(out, index=index)

    # --- row selections (boolean arrays over the stored rows) --------------------------------
    def repairs(self) -> np.ndarray:
        return self.col("order_type") == self.code("order_type", "repair")

    def open_repair(self) -> np.ndarray:
        """Open = a repair order not yet restored (复电) and not cancelled (as open_repair_mask)."""
        steps = [self.code("status", s) for s in OPEN_STEPS]
        return self.repairs() & np.isnat(self.col("restored_at")) & np.isin(self.col("status"), steps)

    def accepted_on(self, days) -> np.ndarray:
        wanted = np.array([np.datetime64(pd.Timestamp(d).date(), "D") for d in days])
        return np.isin(self.col("accepted_at").astype("datetime64[D]"), wanted)

    def accepted_within(self, now: datetime, hours: float) -> np.ndarray:
        """Accepted in (now - hours, now] (as sensitive.in_window)."""
        acc = self.col("accepted_at")
        now_ts = pd.Timestamp(now)
        return (acc > (now_ts - pd.Timedelta(hours=hours)).to_datetime64()) & (acc <= now_ts.to_datetime64())

    def same_caller(self, mask: np.ndarray) -> np.ndarray:
        """Rows sharing an account or a phone (by hash: a superset, compared exactly later) with
        the rows of `mask`. Looked up in a sorted copy of each hash column (made once, then again
        when the rows written since outgrow it), plus the rows written since, checked as they
        are now: not a scan of the whole store (~750k rows at province scale) on every call."""
        out = np.zeros(self.n, dtype=bool)
        for h in self.HASHED.values():
            col = self.col(h)
            wanted = np.unique(col[mask])
            wanted = wanted[wanted != 0]
            if len(wanted):
                out[self._rows_with(h, wanted)] = True
        return out

    def _rows_with(self, h: str, wanted: np.ndarray) -> np.ndarray:
        """Rows whose hash column `h` holds one of `wanted` (sorted, unique)."""
        col = self.col(h)
        ix = self._caller_ix
        delta = None
        if ix:
            parts = [np.arange(ix["n"], self.n), *self._written]
            delta = np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]
        if not ix or ix["generation"] != self.generation or len(delta) > self.CALLER_REINDEX:
            ix = self._caller_ix = {"generation": self.generation, "n": self.n}
            for c in self.HASHED.values():
                order = np.argsort(self.col(c), kind="stable").astype("int32")
                ix[c] = (self.col(c)[order], order)
            self._written = []
            delta = np.zeros(0, dtype="int64")
        values, order = ix[h]
        lo = np.searchsorted(values, wanted, side="left")
        n = np.searchsorted(values, wanted, side="right") - lo
        picked = order[np.repeat(lo - np.cumsum(n) + n, n) + np.arange(n.sum())].astype("int64")
        rows = np.concatenate([picked, delta])
        return rows[np.isin(col[rows], wanted)]     # as the rows hold it now (a written row may have moved)


REPAIR_COLUMNS = ["repair_today", "repair_last_hour", *[f"h{h:02d}" for h in range(HOURS)],
                  *[f"b{h:02d}" for h in range(HOURS)], "baseline_today", "baseline_last_hour",
                  "open_repair", *[f"open_{s}" for s in OPEN_STEPS], "overdue_arrival", "open_not_arrived",
                  "key_customer_overdue", "overdue_restore"]     # node_kpis' columns, in its order
# what a cycle recomputes from the few rows that can move with time alone
_VOLATILE = ["repair_last_hour", "partial", "baseline_last_hour", "open_repair",
             *[f"open_{s}" for s in OPEN_STEPS], "overdue_arrival", "open_not_arrived",
             "key_customer_overdue", "overdue_restore"]


class SlotSums:
    """Running integer sums per tree node, in rows (slots) handed out as nodes first appear:
    `sums[slot[node]]`, `node[slot]` its node."""

    def _init_slots(self, n_nodes: int, width: int) -> None:
        self.slot = np.full(n_nodes, -1, dtype="int64")
        self.node = np.zeros(0, dtype="int64")
        self.sums = np.zeros((0, width), dtype="int32")     # counts of orders (int32: half the room)
        self.n_slots = 0

    def _slots(self, nodes: np.ndarray) -> np.ndarray:
        new = np.unique(nodes[self.slot[nodes] < 0])
        if len(new):
            n = self.n_slots + len(new)
            if n > len(self.sums):
                more = np.zeros((max(n, 2 * len(self.sums), 1024) - len(self.sums), self.sums.shape[1]), "int32")
                self.sums = np.concatenate([self.sums, more])
            self.slot[new] = np.arange(self.n_slots, n)
            self.node = np.concatenate([self.node, new])
            self.n_slots = n
        return self.slot[nodes]


class RepairKpis(SlotSums):
    """`node_kpis` of an OrderStore, kept per cycle at the cost of what moved.

    Running per-node counts (a slot per node that ever had a row below it) of today's and the
    baseline days' repair orders by hour: an order's old contribution is taken out and its new one
    added when a version of it is absorbed. The rest is recomputed each cycle from the few rows
    that can move with time alone (the last hour, orders stamped ahead of now, the current hour of
    the baseline days, open orders). A cycle then reports only the nodes whose numbers may have
    moved: below a changed order, or below a row whose time edge (accepted, an hour later, the
    baseline days' same instant, a deadline) fell since the last cycle. One instance holds one
    day, one tree and one generation of the store's rows (the caller builds a new one otherwise).
    """

    def __init__(self, tree: Tree, store: "OrderStore", now: datetime, limits: dict):
        base = limits["baseline"]
        self.tree, self.rep = tree, limits["repair"]
        self.today = now.date()
        self.days = same_type_days(self.today, base["same_type_days"], base["lookback_days"])
        self.baseline_days = [d.isoformat() for d in self.days]
        self.generation = store.generation
        self.anc = np.stack([tree.ancestor_positions[lv] for lv in LEVELS], axis=1)
        upper = tree.nodes["level"].to_numpy() != "tarea"
        self.upper = tree.code_order[upper[tree.code_order]]          # code order: slots 0..n-1
        self.n_upper = len(self.upper)
        self._init_slots(len(tree.nodes), 2 * HOURS)                  # h00..h23, b00..b23 (counts)
        self._slots(self.upper)
        self.upper_out = np.zeros((self.n_upper, len(REPAIR_COLUMNS)))
        self.row_col = np.zeros(0, dtype="int16")    # per store row: its counted column or -1
        self.row_leaf = np.zeros(0, dtype="int64")   # per store row: its 台区 position or -1
        self._lut = (0, np.full(1, -1, dtype="int64"))
        self._moved: list[np.ndarray] = []           # slots moved since the last cycle
        self.prev_now = None
        rows = np.arange(store.n)
        self._grow(store.n)
        col, leaf = self._contrib(store, rows)
        self.row_col[rows], self.row_leaf[rows] = col, leaf
        self._apply(leaf, col, 1)

    # --- running counts ------------------------------------------------------------------------
    def _grow(self, n: int) -> None:
        if n > len(self.row_col):
            extra = max(n, 2 * len(self.row_col)) - len(self.row_col)
            self.row_col = np.concatenate([self.row_col, np.full(extra, -1, dtype="int16")])
            self.row_leaf = np.concatenate([self.row_leaf, np.full(extra, -1, dtype="int64")])

    def _leaf(self, store: "OrderStore", rows: np.ndarray) -> np.ndarray:
        self._lut = _extend_lut(self._lut, store._cats["tarea_code"], self.tree)
        return self._lut[1][store.col("tarea_code")[rows]]

    def _contrib(self, store: "OrderStore", rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row: the hourly column it counts in (today h, baseline day 24 + h, else -1), its 台区."""
        acc = store.col("accepted_at")[rows]
        rep = store.col("order_type")[rows] == store.code("order_type", "repair")
        day = acc.astype("datetime64[D]")
        known = ~np.isnat(acc)
        hour = np.zeros(len(rows), dtype="int64")
        hour[known] = (acc[known] - day[known]) // np.timedelta64(1, "h")
        col = np.full(len(rows), -1, dtype="int16")
        today = rep & known & (day == np.datetime64(self.today, "D"))
        col[today] = hour[today]
        for d in self.days:
            on = rep & known & (day == np.datetime64(d, "D"))
            col[on] = HOURS + hour[on]
        return col, self._leaf(store, rows)

    def _ancestors(self, leaf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The slots of every node above (and at) each leaf, and the leaf index of each."""
        ok = leaf >= 0
        a = self.anc[leaf[ok]]
        has = a >= 0
        src = np.repeat(np.flatnonzero(ok), has.sum(axis=1))
        return self._slots(a[has]), src

    def _apply(self, leaf: np.ndarray, col: np.ndarray, sign: int) -> None:
        keep = col >= 0
        slots, src = self._ancestors(leaf[keep])
        if len(slots):
            np.add.at(self.sums, (slots, col[keep][src].astype("int64")), sign)
            self._moved.append(slots)

    def update(self, store: "OrderStore", rows: np.ndarray) -> None:
        """Rows of the store just written (new orders or new versions)."""
        rows = np.asarray(rows, dtype="int64")
        if not len(rows):
            return
        self._grow(store.n)
        col, leaf = self._contrib(store, rows)
        old_col, old_leaf = self.row_col[rows], self.row_leaf[rows]
        moved = (col != old_col) | (leaf != old_leaf)
        self._apply(old_leaf[moved], old_col[moved], -1)
        self._apply(leaf[moved], col[moved], 1)
        self.row_col[rows], self.row_leaf[rows] = col, leaf
        # status and times of these rows may move the open-order numbers of both places
        for lf in (old_leaf, leaf):
            self._moved.append(self._ancestors(lf)[0])

    # --- a cycle --------------------------------------------------------------------------------
    def cycle(self, store: "OrderStore", now: datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(every node down to feeder level, in code order; the nodes that may have moved since
        the last cycle, all of them on the first), as node_kpis' columns."""
        now64 = pd.Timestamp(now).to_datetime64().astype("datetime64[us]")
        day0 = np.datetime64(self.today, "D").astype("datetime64[us]")
        hour_td, day_td = np.timedelta64(1, "h"), np.timedelta64(1, "D")
        tod = now64 - day0
        acc = store.col("accepted_at")
        rep = store.repairs()
        prev = self.prev_now
        everything = prev is None or now64 < prev or now64 - prev > hour_td
        edges = []                       # rows whose time edge fell in (prev, now]

        def fell(t):
            return (t > prev) & (t <= now64)

        # rows that count only while time is on their side
        future = rep & (acc > now64) & (acc < day0 + day_td)
        last_hour = rep & (acc > now64 - hour_td) & (acc <= now64)
        hour_start = tod // hour_td * hour_td
        partial = np.zeros(store.n, dtype=bool)
        base_hour = np.zeros(store.n, dtype=bool)
        for d in self.days:
            start = np.datetime64(d, "D").astype("datetime64[us]")
            partial |= rep & (acc >= start + hour_start) & (acc <= start + tod)
            base_hour |= rep & (acc > start + tod - hour_td) & (acc <= start + tod)
            if not everything:
                shifted = acc + (day0 - start)
                edges += [rep & fell(shifted), rep & fell(shifted + hour_td)]
        is_open = store.open_repair()
        if not everything:
            edges += [rep & fell(acc), rep & fell(acc + hour_td)]
        vol_rows = np.flatnonzero(future | last_hour | partial | base_hour | is_open)
        o = vol_rows
        v = np.zeros((len(o), len(_VOLATILE)))
        v[:, 0] = last_hour[o]
        v[:, 1] = partial[o]
        v[:, 2] = base_hour[o]
        op = is_open[o]
        v[:, 3] = op
        status = store.col("status")[o]
        for i, step in enumerate(OPEN_STEPS):
            v[:, 4 + i] = op & (status == store.code("status", step))
        area = store._lookup("area_type")[store.col("area_type")[o]]
        arr_min = pd.Series(area, dtype=object).map(self.rep["arrival_minutes"]).to_numpy(dtype="float64")
        res_min = pd.Series(area, dtype=object).map(self.rep["restore_minutes"]).to_numpy(dtype="float64")
        arrived_at = store.col("arrived_at")[o]
        not_arrived = op & np.isnat(arrived_at)
        due_arrival = _plus_minutes(acc[o], arr_min)
        due_restore = _plus_minutes(arrived_at, res_min)
        overdue = not_arrived & (due_arrival < now64)
        late = op & ~np.isnat(arrived_at) & (due_restore < now64)
        v[:, 9] = overdue
        v[:, 10] = not_arrived
        v[:, 11] = overdue & store.col("key_customer")[o]
        v[:, 12] = late
        if not everything:
            deadline_fell = (not_arrived & fell(due_arrival)) | (op & ~np.isnat(arrived_at) & fell(due_restore))
        leaf = self._leaf(store, o)
        v_slots, v_src = self._ancestors(leaf)
        f = np.flatnonzero(future[o])
        if everything:
            cand = np.arange(self.n_slots)
        else:
            moved = [self._ancestors(self._leaf(store, np.flatnonzero(e)))[0] for e in edges]
            moved.append(self._ancestors(leaf[deadline_fell])[0])
            moved.append(self._ancestors(leaf[f])[0])
            cand = np.unique(np.concatenate([*self._moved, *moved, np.zeros(0, "int64")]))
        self._moved = []
        self.prev_now = now64
        local = np.full(self.n_slots, -1, dtype="int64")
        local[cand] = np.arange(len(cand))
        vol = np.zeros((len(cand), len(_VOLATILE)))
        at = local[v_slots]
        hit = at >= 0
        np.add.at(vol, at[hit], v[v_src[hit]])
        hours = self.sums[cand, :HOURS].astype("float64")
        if len(f):       # orders stamped ahead of now: not counted until their time has come
            fs, fsrc = self._ancestors(leaf[f])
            fat = local[fs]
            fh = ((acc[o][f] - acc[o][f].astype("datetime64[D]")) // hour_td).astype("int64")[fsrc]
            np.subtract.at(hours, (fat[fat >= 0], fh[fat >= 0]), 1.0)
        n = len(self.days)
        base = self.sums[cand, HOURS:].astype("float64")
        h_now = int(tod // hour_td)
        out = np.empty((len(cand), len(REPAIR_COLUMNS)))
        out[:, 0] = hours.sum(axis=1)
        out[:, 1] = vol[:, 0]
        out[:, 2:2 + HOURS] = hours
        out[:, 2 + HOURS:2 + 2 * HOURS] = base / n if n else 0.0
        out[:, 2 + 2 * HOURS] = (base[:, :h_now].sum(axis=1) + vol[:, 1]) / n if n else 0.0
        out[:, 3 + 2 * HOURS] = vol[:, 2] / n if n else 0.0
        out[:, 4 + 2 * HOURS:] = vol[:, 3:]
        up = cand < self.n_upper
        self.upper_out[cand[up]] = out[up]
        codes = self.tree.code_array
        moved_frame = pd.DataFrame(out, index=pd.Index(codes[self.node[cand]], dtype=object), columns=REPAIR_COLUMNS)
        whole = pd.DataFrame(self.upper_out.copy(), index=pd.Index(codes[self.upper], dtype=object),
                             columns=REPAIR_COLUMNS)
        whole.attrs["baseline_days"] = moved_frame.attrs["baseline_days"] = self.baseline_days
        return whole, moved_frame


def _extend_lut(lut: tuple[int, np.ndarray], cats: list, tree: Tree) -> tuple[int, np.ndarray]:
    """(codes seen, tree position per store code then -1 for a missing code), extended by the
    codes the store added since (the province has 330k 台区: never look them all up again)."""
    seen, table = lut
    if seen == len(cats):
        return lut
    more = tree.positions(cats[seen:]).astype("int64")
    return len(cats), np.concatenate([table[:-1], more, [-1]])


def _plus_minutes(t: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """t + minutes (NaT where either is missing), as pd.to_timedelta(minutes, unit="min") adds."""
    out = np.full(len(t), np.datetime64("NaT"), dtype="datetime64[us]")
    ok = ~np.isnan(minutes) & ~np.isnat(t)
    out[ok] = t[ok] + np.round(minutes[ok] * 60e6).astype("int64").astype("timedelta64[us]")
    return out


def _json_str(values) -> list[str]:
    """Each value as dumps writes it (None -> null), strings escaped once per distinct value."""
    import json
    memo: dict = {}
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            out.append("null")
            continue
        text = memo.get(v)
        if text is None:
            # a plain string is written as it is between quotes (json escapes only quotes,
            # backslashes and control characters with ensure_ascii=False)
            plain = isinstance(v, str) and v.isprintable() and '"' not in v and "\\" not in v
            text = memo[v] = f'"{v}"' if plain else json.dumps(v, ensure_ascii=False)
        out.append(text)
    return out


def _json_float(values: np.ndarray) -> list[str]:
    return ["null" if x != x else repr(x) for x in values.astype("float64").tolist()]


def _json_time(values: np.ndarray) -> list[str]:
    text = np.datetime_as_string(values.astype("datetime64[s]"), unit="s")
    bad = np.isnat(values)
    return ["null" if b else f'"{t}"' for t, b in zip(text.tolist(), bad.tolist())]


def countdown_lists(clocks: pd.DataFrame, tree: Tree, levels, top: int) -> dict[str, str]:
    """`top_per_node(clocks, tree, "tarea_code", levels, ["minutes_left"], [True], top)` with each
    node's list as the JSON text dumps would write, built from per-row texts (the lists change on
    every cycle: every open order's minutes move)."""
    n = len(clocks)
    if not n:
        return {}
    cols = list(clocks.columns)
    texts = {}
    for c in cols:
        a = clocks[c].to_numpy()
        if c in ("accepted_at", "deadline"):
            texts[c] = _json_time(a.astype("datetime64[us]"))
        elif c in ("limit_min", "minutes_left", "used_share"):
            texts[c] = _json_float(a)
        elif c == "key_customer":
            texts[c] = ["true" if x else "false" for x in a.astype(bool).tolist()]
        else:
            texts[c] = _json_str(a.tolist())
    keys = [f'"{c}":' for c in cols]
    rows = ["{" + ",".join(k + t for k, t in zip(keys, vals)) + "}" for vals in zip(*(texts[c] for c in cols))]
    return _node_lists(rows, clocks["minutes_left"].to_numpy(dtype="float64"),
                       tree.positions(clocks["tarea_code"].to_numpy(dtype=object)), tree, levels, top)


def _node_lists(rows: list[str], minutes_left: np.ndarray, leaf: np.ndarray, tree: Tree, levels, top: int
                ) -> dict[str, str]:
    """Each node's `top` rows nearest their limit (NaN last, ties in row order) as a JSON list."""
    order = np.argsort(minutes_left, kind="stable")
    leaf = leaf[order]
    out: dict[str, str] = {}
    for level in levels:
        anc = np.where(leaf >= 0, tree.ancestor_positions[level][np.maximum(leaf, 0)], -1)
        ok = anc >= 0
        by_node = np.argsort(anc[ok], kind="stable")
        nodes, picked = anc[ok][by_node], order[ok][by_node]
        starts = np.flatnonzero(np.r_[True, nodes[1:] != nodes[:-1]])
        ends = np.r_[starts[1:], len(nodes)]
        codes = tree.code_array[nodes[starts]] if len(starts) else []
        for code, s, e in zip(codes, starts.tolist(), ends.tolist()):
            out[code] = "[" + ",".join(rows[i] for i in picked[s:min(e, s + top)].tolist()) + "]"
    return out


_FIXED = ("order_no", "tarea_code", "stage", "status", "key_customer", "accepted_at", "deadline", "limit_min")


class CountdownTexts:
    """`countdown_lists(countdowns(open orders of the store, now, limits), ...)`, with each
    order's fixed part of its JSON text (number, 台区, stage, status, key customer, accepted,
    deadline, limit) kept per store row until the row is written again: a cycle formats only
    what moves with the clock (minutes left, share used, colour). One instance holds one
    generation of the store's rows and one set of limits."""

    def __init__(self, store: "OrderStore", repair_limits: dict):
        self.generation, self.rep = store.generation, repair_limits
        self.prefix = np.full(0, None, dtype=object)
        self._lut = (0, np.full(1, -1, dtype="int64"))
        self._tree = None

    def forget(self, rows: np.ndarray) -> None:
        """Rows just written: their text is made again when next needed."""
        rows = np.asarray(rows, dtype="int64")
        self.prefix[rows[rows < len(self.prefix)]] = None

    def lists(self, store: "OrderStore", now: datetime, tree: Tree, levels, top: int) -> dict[str, str]:
        rows = np.flatnonzero(store.open_repair())
        if not len(rows):
            return {}
        if len(self.prefix) < store.n:
            self.prefix = np.concatenate([self.prefix, np.full(store.n - len(self.prefix), None, dtype=object)])
        rep = self.rep
        acc, arrived_at = store.col("accepted_at")[rows], store.col("arrived_at")[rows]
        arrived = ~np.isnat(arrived_at)
        area = pd.Series(store._lookup("area_type")[store.col("area_type")[rows]], dtype=object)
        arrival_min = area.map(rep["arrival_minutes"]).to_numpy(dtype="float64")
        restore_min = area.map(rep["restore_minutes"]).to_numpy(dtype="float64")
        limit = np.where(arrived, restore_min, arrival_min)
        start = np.where(arrived, arrived_at, acc)
        deadline = _plus_minutes(start, limit)
        missing = np.flatnonzero(pd.isna(self.prefix[rows]))
        if len(missing):
            m = rows[missing]
            texts = {
                "order_no": _json_str(store.col("order_no")[m].tolist()),
                "tarea_code": _json_str(store._lookup("tarea_code")[store.col("tarea_code")[m]].tolist()),
                "stage": ['"restore"' if a else '"arrival"' for a in arrived[missing].tolist()],
                "status": _json_str(store._lookup("status")[store.col("status")[m]].tolist()),
                "key_customer": ["true" if x else "false" for x in store.col("key_customer")[m].tolist()],
                "accepted_at": _json_time(acc[missing]),
                "deadline": _json_time(deadline[missing]),
                "limit_min": _json_float(limit[missing]),
            }
            keys = [f'"{c}":' for c in _FIXED]
            self.prefix[m] = ["{" + ",".join(k + t for k, t in zip(keys, vals))
                              for vals in zip(*(texts[c] for c in _FIXED))]
        now64 = pd.Timestamp(now).to_datetime64().astype("datetime64[us]")
        left = (deadline - now64).astype("int64") / 1e6 / 60.0
        left[np.isnat(deadline)] = np.nan
        used = (now64 - start).astype("int64") / 1e6 / 60.0 / limit
        used[np.isnat(start)] = np.nan
        colour = np.select([left < 0, used >= rep["warn_share"]], ["red", "yellow"], "normal").tolist()
        left_r = np.round(left, 1)
        texts = [f'{p},"minutes_left":{a},"used_share":{b},"colour":"{c}"}}'
                 for p, a, b, c in zip(self.prefix[rows].tolist(), _json_float(left_r),
                                       _json_float(np.round(used, 4)), colour)]
        if self._tree is not tree:
            self._tree, self._lut = tree, (0, np.full(1, -1, dtype="int64"))
        self._lut = _extend_lut(self._lut, store._cats["tarea_code"], tree)
        leaf = self._lut[1][store.col("tarea_code")[rows]]
        return _node_lists(texts, left_r, leaf, tree, levels, top)
