"""Load KPIs (docs/kpis.md, section "Load"): feeder load from SCADA, 台区 load from AMI.

Curves are 96-point (15-min) curves: a bucket's value is the sum over feeders of each feeder's
mean reading in that bucket. History kept at 15-min resolution and live 1-min readings therefore
give the same curve.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from collectors.domain.tree import LEVELS, Tree

BUCKETS = 96
QUARTER = pd.Timedelta(minutes=15)


def bucket_of(ts: pd.Series) -> pd.Series:
    return (ts.dt.hour * 4 + ts.dt.minute // 15).astype("int64")


def feeder_buckets(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean active_mw and current_a per feeder and 15-min bucket of one day's rows."""
    if rows.empty:
        return pd.DataFrame(columns=["feeder_code", "bucket", "active_mw", "current_a"])
    return (rows.assign(bucket=bucket_of(rows["ts"]))
            .groupby(["feeder_code", "bucket"], as_index=False)[["active_mw", "current_a"]].mean())


def node_curves(buckets: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    """Node × 96 matrix of load (MW); NaN where no feeder below the node reported in a bucket."""
    if buckets.empty:
        return pd.DataFrame(columns=range(BUCKETS), dtype="float64")
    wide = buckets.pivot(index="feeder_code", columns="bucket", values="active_mw")
    wide = wide.reindex(columns=range(BUCKETS))
    counts = wide.notna().astype(int).reset_index()
    sums = tree.rollup_sum(wide.reset_index(), "feeder_code", upto="feeder")
    reported = tree.rollup_sum(counts, "feeder_code", upto="feeder")
    return sums.where(reported > 0)


def update_curves(curves: pd.DataFrame, buckets: pd.DataFrame, tree: Tree, changed) -> pd.DataFrame:
    """node_curves(buckets, tree) given the curves before `changed` buckets were recomputed:
    only those columns are rolled up again (a minute of SCADA changes one bucket of 96)."""
    cols = sorted(changed)
    part = buckets[buckets["bucket"].isin(cols)]
    if curves.empty or part.empty:
        return node_curves(buckets, tree)
    wide = part.pivot(index="feeder_code", columns="bucket", values="active_mw").reindex(columns=cols)
    counts = wide.notna().astype(int).reset_index()
    sums = tree.rollup_sum(wide.reset_index(), "feeder_code", upto="feeder")
    new = sums.where(tree.rollup_sum(counts, "feeder_code", upto="feeder") > 0)
    if not new.index.isin(curves.index).all():       # a node reporting for the first time today
        return node_curves(buckets, tree)
    out = curves.copy()
    out[cols] = np.nan
    out.loc[new.index, cols] = new[cols].to_numpy()
    return out[out.notna().any(axis=1)]               # as node_curves: no row without a value


def current_load(today: pd.DataFrame, tree: Tree, now: datetime, fresh_minutes: float) -> pd.DataFrame:
    """Per node: the sum of each feeder's latest reading, if it is no older than fresh_minutes."""
    feeders = tree.memo("feeders", lambda: tree.nodes[tree.nodes["level"] == "feeder"])
    fresh = today[today["ts"] >= pd.Timestamp(now) - pd.Timedelta(minutes=fresh_minutes)]
    latest = fresh.sort_values("ts").drop_duplicates("feeder_code", keep="last")
    latest = latest.assign(rated_current_a=feeders["rated_current_a"].reindex(latest["feeder_code"]).to_numpy(),
                           feeders_reporting=1)
    cols = ["feeder_code", "active_mw", "current_a", "rated_current_a", "feeders_reporting"]
    per_node = tree.rollup_sum(latest[cols], "feeder_code", upto="feeder")
    total = tree.memo("feeders_total", lambda: tree.rollup_sum(
        pd.DataFrame({"feeder_code": feeders.index, "feeders_total": 1}), "feeder_code", upto="feeder"))
    per_node = per_node.reindex(total.index).fillna(0).join(total)
    per_node["load_rate"] = per_node["current_a"] / per_node["rated_current_a"].replace(0, np.nan)
    return per_node


def consecutive_flags(points: pd.DataFrame, code_col: str, value_col: str, last_ts: pd.Timestamp,
                      n: int, threshold: float) -> pd.Series:
    """True for codes whose n consecutive 15-min points ending at last_ts are all ≥ threshold."""
    expected = [last_ts - k * QUARTER for k in range(n)]
    window = points[points["ts"].isin(expected)]
    wide = window.pivot_table(index=code_col, columns="ts", values=value_col, aggfunc="last")
    wide = wide.reindex(columns=expected)
    return (wide >= threshold).all(axis=1) & wide.notna().all(axis=1)


def tarea_load(points: pd.DataFrame, tree: Tree, now: datetime, cfg: dict) -> pd.DataFrame:
    """Per node: heavy-load and overloaded 台区 (8 consecutive points), low-voltage customers."""
    tareas = tree.nodes[tree.nodes["level"] == "tarea"]
    total = tree.rollup(pd.DataFrame({"tarea_code": tareas.index, "tareas_total": 1}), "tarea_code",
                        upto="feeder")
    if points.empty:
        return total.assign(heavy_tareas=0, overload_tareas=0, low_voltage_customers=0,
                            tareas_reporting=0, ami_ts=None)
    last_ts = points["ts"].max()
    points = points.assign(rate=points["apparent_kva"]
                           / tareas["capacity_kva"].reindex(points["tarea_code"]).to_numpy())
    n = cfg["consecutive_points"]
    heavy = consecutive_flags(points, "tarea_code", "rate", last_ts, n, cfg["heavy_rate"])
    over = consecutive_flags(points, "tarea_code", "rate", last_ts, n, cfg["overload_rate"])
    lv_window = [last_ts - k * QUARTER for k in range(cfg["low_voltage_points"])]
    lv = (points[points["ts"].isin(lv_window)]
          .pivot_table(index="tarea_code", columns="ts", values="low_voltage_customers", aggfunc="last")
          .reindex(columns=lv_window))
    # AMI gives counts per interval: customers low in every one of the last 4 intervals ≥ the min.
    low_voltage = lv.min(axis=1).where(lv.notna().all(axis=1), 0)
    reporting = points.loc[points["ts"] == last_ts, "tarea_code"].drop_duplicates()
    flags = pd.DataFrame({"heavy_tareas": heavy, "overload_tareas": over,
                          "low_voltage_customers": low_voltage}).fillna(0)
    flags["tareas_reporting"] = flags.index.isin(reporting).astype(int)
    flags = flags.astype("int64").rename_axis("tarea_code").reset_index()
    per_node = tree.rollup(flags, "tarea_code", upto="tarea")
    per_node = per_node.reindex(total.index.union(per_node.index)).fillna(0).astype("int64").join(total)
    per_node["ami_ts"] = last_ts.isoformat()
    return per_node


# ---- this year's peak, the latest 15-min point, and feeder heavy / overload ---------------

def daily_peak(day_rows: pd.DataFrame, tree: Tree) -> pd.Series:
    """Per node: the highest 15-min load (MW) of one day's rows; nodes without data are absent."""
    curves = node_curves(feeder_buckets(day_rows), tree)
    return curves.max(axis=1).dropna()


def last_complete_quarter(now: datetime) -> pd.Timestamp:
    """Start of the newest 15-min interval that has ended by `now`."""
    return pd.Timestamp(now).floor(QUARTER) - QUARTER


def quarter_points(rows: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Mean active_mw and current_a per feeder and 15-min interval (ts = interval start)."""
    starts = rows["ts"].dt.floor(QUARTER)
    keep = (starts >= first) & (starts <= last)
    return (rows[keep].assign(ts=starts[keep])
            .groupby(["feeder_code", "ts"], as_index=False)[["active_mw", "current_a"]].mean())


def point_load(points: pd.DataFrame, tree: Tree, at: pd.Timestamp) -> pd.Series:
    """Per node: the sum of its feeders' means in the interval starting at `at` (MW)."""
    at_point = points.loc[points["ts"] == at, ["feeder_code", "active_mw"]]
    if at_point.empty:
        return pd.Series(dtype="float64")
    return tree.rollup_sum(at_point, "feeder_code", upto="feeder")["active_mw"]


def feeder_load_flags(rows: pd.DataFrame, tree: Tree, now: datetime, cfg: dict) -> pd.DataFrame:
    """Per node: heavy and overloaded feeders (load rate ≥ limit for n consecutive intervals)."""
    n = cfg["consecutive_points"]
    last = last_complete_quarter(now)
    points = quarter_points(rows, last - (n - 1) * QUARTER, last)
    rated = tree.nodes["rated_current_a"].reindex(points["feeder_code"]).to_numpy()
    points = points.assign(rate=points["current_a"] / rated)
    heavy = consecutive_flags(points, "feeder_code", "rate", last, n, cfg["feeder_heavy_rate"])
    over = consecutive_flags(points, "feeder_code", "rate", last, n, cfg["feeder_overload_rate"])
    flags = pd.DataFrame({"heavy_feeders": heavy, "overload_feeders": over}).fillna(False)
    flags = flags.astype("int64").rename_axis("feeder_code").reset_index()
    per_node = tree.rollup_sum(flags, "feeder_code", upto="feeder")
    return tree.complete(per_node, upto="feeder").astype("int64")


# ---- AMI state at province size: compact arrays instead of a frame of 4 M objects ---------

class TareaPoints:
    """The recent AMI 15-min points, newest version per (台区, ts), as arrays.

    Per timestamp a slot holds, sorted by 台区 position, the position (int32), apparent power
    (kVA), low-voltage customers and the version stamp (updated_at, µs). A province's 3 h is
    ~4 M points, ~100 MB here against several GB as a frame of Python objects. Codes get a
    position when first seen; positions never move, so a topology reload changes nothing here.
    """

    FIELDS = ("apparent_kva", "low_voltage_customers")

    def __init__(self):
        self.codes = pd.Index([], dtype=object)
        self.slots: dict[pd.Timestamp, dict[str, np.ndarray]] = {}

    def __len__(self) -> int:
        return sum(len(s["pos"]) for s in self.slots.values())

    def positions(self, codes: np.ndarray) -> np.ndarray:
        pos = self.codes.get_indexer(codes)
        if (pos < 0).any():
            self.codes = self.codes.append(pd.Index(pd.unique(codes[pos < 0]), dtype=object))
            pos = self.codes.get_indexer(codes)
        return pos.astype("int32")

    def merge(self, rows: pd.DataFrame) -> None:
        """Fold validated, typed rows in (tarea_code, ts, apparent_kva, low_voltage_customers,
        updated_at); the newest updated_at wins per key, and on a tie the later row."""
        if rows.empty:
            return
        self.merge_arrays(self.positions(rows["tarea_code"].to_numpy(dtype=object)),
                          rows["ts"].to_numpy(dtype="datetime64[us]"),
                          rows["updated_at"].to_numpy(dtype="datetime64[us]"),
                          {f: rows[f].to_numpy(dtype="float64") for f in self.FIELDS})

    def from_tree(self, tree: Tree, tree_pos: np.ndarray) -> np.ndarray:
        """Positions here of 台区 given by their position in the tree (no string look-ups: a
        province batch is 330 k codes). Every 台区 of a new tree gets its position once."""
        got = getattr(self, "_tree_map", None)
        if got is None or got[0] is not tree:
            tareas = np.flatnonzero(tree.level_numbers == LEVEL_TAREA)
            mapping = np.full(len(tree.nodes), -1, dtype="int32")
            mapping[tareas] = self.positions(tree.code_array[tareas])
            self._tree_map = got = (tree, mapping)
        out = got[1][tree_pos]
        other = out < 0                          # a code that is not a 台区 of this tree
        if other.any():
            out[other] = self.positions(tree.code_array[tree_pos[other]])
        return out

    def tree_positions(self, tree: Tree) -> np.ndarray:
        """tree.positions(self.codes), looked up again only for a new tree or new codes (codes
        are only appended, so their number tells whether they changed)."""
        got = getattr(self, "_tree_positions", None)
        if got is None or got[0] is not tree or len(got[1]) != len(self.codes):
            got = self._tree_positions = (tree, tree.positions(self.codes))
        return got[1]

    def merge_arrays(self, pos: np.ndarray, ts: np.ndarray, upd: np.ndarray, fields: dict[str, np.ndarray]) -> None:
        """`merge` for rows given as arrays: positions here, ts and updated_at (datetime64[us])."""
        if not len(pos):
            return
        new = {"pos": pos.astype("int32"), "upd": upd.astype("datetime64[us]").view("int64"),
               **{f: np.asarray(fields[f], dtype="float64") for f in self.FIELDS}}
        ts = ts.astype("datetime64[us]")
        order = np.argsort(ts, kind="stable")
        uniq, starts = np.unique(ts[order], return_index=True)
        bounds = [*starts[1:], len(order)]
        for t, a, b in zip(uniq, starts, bounds):
            idx = order[a:b]
            part = {k: v[idx] for k, v in new.items()}
            stamp = pd.Timestamp(t)
            old = self.slots.get(stamp)
            if old is not None:    # old rows first: on a tie of versions the new row wins
                part = {k: np.concatenate([old[k], part[k]]) for k in part}
            by = np.lexsort((part["upd"], part["pos"]))           # stable: ties keep their order
            p = part["pos"][by]
            last = np.empty(len(p), dtype=bool)
            last[:-1] = p[1:] != p[:-1]
            last[-1] = True
            self.slots[stamp] = {k: v[by][last] for k, v in part.items()}

    def keep_from(self, since: pd.Timestamp) -> None:
        self.slots = {t: s for t, s in self.slots.items() if t >= since}

    def last_ts(self) -> pd.Timestamp | None:
        return max(self.slots) if self.slots else None

    def dense(self, ts: pd.Timestamp, field: str) -> np.ndarray:
        """One slot's field for every known code (NaN where the 台区 has no point)."""
        out = np.full(len(self.codes), np.nan)
        slot = self.slots.get(ts)
        if slot is not None:
            out[slot["pos"]] = slot[field]
        return out

    def frame(self) -> pd.DataFrame:
        """The points as a frame (tests and debugging)."""
        parts = [pd.DataFrame({"tarea_code": self.codes[s["pos"]], "ts": t, **{f: s[f] for f in self.FIELDS}})
                 for t, s in self.slots.items()]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["tarea_code", "ts",
                                                                                        *self.FIELDS])


def tarea_load_points(points: TareaPoints, tree: Tree, now: datetime, cfg: dict) -> pd.DataFrame:
    """`tarea_load` computed from TareaPoints with arrays: the same frame, rows in code order."""
    last_ts = points.last_ts()
    if last_ts is None:
        return tarea_load(pd.DataFrame(columns=["tarea_code", "ts", *TareaPoints.FIELDS]), tree, now, cfg)
    is_tarea = tree.level_numbers == LEVEL_TAREA
    tpos = points.tree_positions(tree)
    known = tpos >= 0
    cap = np.full(len(points.codes), np.nan)
    tarea_here = known.copy()
    tarea_here[known] = is_tarea[tpos[known]]
    cap[tarea_here] = tree.nodes["capacity_kva"].to_numpy("float64")[tpos[tarea_here]]

    window = [last_ts - k * QUARTER for k in range(cfg["consecutive_points"])]
    rates = np.vstack([points.dense(t, "apparent_kva") for t in window]) / cap
    with np.errstate(invalid="ignore"):
        heavy = (rates >= cfg["heavy_rate"]).all(axis=0)
        over = (rates >= cfg["overload_rate"]).all(axis=0)
    lv_window = [last_ts - k * QUARTER for k in range(cfg["low_voltage_points"])]
    lvs = np.vstack([points.dense(t, "low_voltage_customers") for t in lv_window])
    all_lv = ~np.isnan(lvs).any(axis=0)
    low = np.zeros(len(points.codes))
    low[all_lv] = lvs[:, all_lv].min(axis=0)
    reporting = ~np.isnan(points.dense(last_ts, "apparent_kva"))
    # the 台区 the pivots of `tarea_load` see: a rate in the 8 points or a count in the 4
    member = (~np.isnan(rates)).any(axis=0) | (~np.isnan(lvs)).any(axis=0)

    count, sums = tree.rollup_positions(
        tpos[member], {"heavy_tareas": heavy[member], "overload_tareas": over[member],
                       "low_voltage_customers": low[member].astype("int64"),
                       "tareas_reporting": reporting[member]}, upto="tarea")
    total_count = tareas_below(tree)
    has_total = total_count > 0
    rows = tree.code_order[(count > 0)[tree.code_order] | has_total[tree.code_order]]
    per_node = pd.DataFrame({k: v[rows].astype("int64") for k, v in sums.items()},
                            index=pd.Index(tree.code_array[rows], dtype=tree.nodes.index.dtype))
    total = total_count[rows]
    per_node["tareas_total"] = np.where(has_total[rows], total, np.nan) if not has_total[rows].all() else total
    per_node["ami_ts"] = last_ts.isoformat()
    return per_node


LEVEL_TAREA = LEVELS.index("tarea")


def tareas_below(tree: Tree) -> np.ndarray:
    """Per node (by position) the 台区 below it, for the levels city..feeder (0 for 台区)."""
    return tree.memo("tareas_below", lambda: tree.rollup_positions(
        np.flatnonzero(tree.level_numbers == LEVEL_TAREA), {}, upto="feeder")[0])
