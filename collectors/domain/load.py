"""Load KPIs (docs/kpis.md, section "Load"): feeder load from SCADA, 台区 load from AMI.

Curves are 96-point (15-min) curves: a bucket's value is the sum over feeders of each feeder's
mean reading in that bucket. History kept at 15-min resolution and live 1-min readings therefore
give the same curve.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from collectors.domain.tree import Tree

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
    sums = tree.rollup(wide.reset_index(), "feeder_code", upto="feeder", how="sum")
    reported = tree.rollup(counts, "feeder_code", upto="feeder", how="sum")
    return sums.where(reported > 0)


def current_load(today: pd.DataFrame, tree: Tree, now: datetime, fresh_minutes: float) -> pd.DataFrame:
    """Per node: the sum of each feeder's latest reading, if it is no older than fresh_minutes."""
    feeders = tree.nodes[tree.nodes["level"] == "feeder"]
    fresh = today[today["ts"] >= pd.Timestamp(now) - pd.Timedelta(minutes=fresh_minutes)]
    latest = fresh.sort_values("ts").drop_duplicates("feeder_code", keep="last")
    latest = latest.assign(rated_current_a=feeders["rated_current_a"].reindex(latest["feeder_code"]).to_numpy(),
                           feeders_reporting=1)
    cols = ["feeder_code", "active_mw", "current_a", "rated_current_a", "feeders_reporting"]
    per_node = tree.rollup(latest[cols], "feeder_code", upto="feeder")
    total = tree.rollup(pd.DataFrame({"feeder_code": feeders.index, "feeders_total": 1}),
                        "feeder_code", upto="feeder")
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
    return tree.rollup(at_point, "feeder_code", upto="feeder")["active_mw"]


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
    per_node = tree.rollup(flags, "feeder_code", upto="feeder")
    return tree.complete(per_node, upto="feeder").astype("int64")
