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

    def __init__(self, times, flags=("key_customer", "billing_anomaly", "keyword")):
        self.times, self.flags = tuple(times), tuple(flags)
        self.columns = [*self.TEXT, *self.CODED, *self.times, *self.flags]
        self.n = 0
        self.horizon = None                     # the retention horizon last applied
        self._rows: dict[str, int] = {}
        self._cats = {c: [] for c in self.CODED}
        self._code_of = {c: {} for c in self.CODED}
        self._lookups: dict[str, np.ndarray] = {}
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

    def upsert(self, new: pd.DataFrame) -> None:
        """Newest version per order wins. `new` holds no version older than the stored one."""
        if new.empty:
            return
        new = new.sort_values("updated_at", kind="stable").drop_duplicates("order_no", keep="last")
        keys = new["order_no"].to_numpy(dtype=object)
        rows = self.rows_of(keys)
        fresh = rows < 0
        added = int(fresh.sum())
        rows[fresh] = np.arange(self.n, self.n + added)
        size = len(next(iter(self._data.values())))
        if self.n + added > size:
            more = self._blank(max(added, size, 1024))
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

    def keep(self, mask: np.ndarray) -> None:
        """Forget the rows where `mask` is False (compacts the arrays)."""
        if mask.all():
            return
        idx = np.flatnonzero(mask)
        self._data = {c: a[idx].copy() for c, a in self._data.items()}
        self.n = len(idx)
        self._rows = dict(zip(self._data["order_no"].tolist(), range(self.n)))

    def _lookup(self, column: str) -> np.ndarray:
        """The column's values by code, then None (rebuilt only when a value was added)."""
        cached = self._lookups.get(column)
        if cached is None or len(cached) != len(self._cats[column]) + 1:
            cached = self._lookups[column] = np.array([*self._cats[column], None], dtype=object)
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
        the rows of `mask`."""
        out = np.zeros(self.n, dtype=bool)
        for h in self.HASHED.values():
            col = self.col(h)
            wanted = np.unique(col[mask])
            wanted = wanted[wanted != 0]
            if len(wanted):
                out |= pd.Series(col, copy=False).isin(wanted).to_numpy()
        return out
