"""Customer-hours, month-to-date RS-1 / SAIDI / SAIFI and frequent-outage 台区 (docs/kpis.md).

Everything is counted per (outage, 台区) pair of the OMS scope, with the customers of the 台区
from the customer files. An outage lasts from start_at to restored_at, or to `now` while it is
not restored. Cancelled and not yet started ones do not count. A pair is sustained when the
outage lasted longer than `sustained_minutes` [ASSUMED, DL/T 836 / DOMAIN.md].
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from collectors.domain.intervals import union_hours
from collectors.domain.tree import Tree

FREQUENT_ORDER = ("yellow", "orange", "red")   # level 1, 2, 3


def outage_pairs(outages: pd.DataFrame, scope: pd.DataFrame, tree: Tree, now: datetime,
                 sustained_minutes: float) -> pd.DataFrame:
    """One row per (outage, 台区): start, end, customers, sustained, active."""
    now_ts = pd.Timestamp(now)
    live = outages[~outages["status"].isin(("cancelled", "scheduled")) & (outages["start_at"] <= now_ts)]
    live = live.reset_index(drop=True)
    end = live["restored_at"].fillna(now_ts).clip(upper=now_ts)
    spans = pd.DataFrame({"outage_id": live["outage_id"], "start": live["start_at"], "end": end,
                          "active": live["restored_at"].isna().to_numpy(),
                          "sustained": (end - live["start_at"]) > pd.Timedelta(minutes=sustained_minutes)})
    pairs = scope[["outage_id", "tarea_code"]].drop_duplicates().merge(spans, on="outage_id")
    return pairs.assign(customers=tree.nodes["customers"].reindex(pairs["tarea_code"]).to_numpy())


def month_start(now: datetime) -> pd.Timestamp:
    return pd.Timestamp(now).normalize().replace(day=1)


def node_kpis(pairs: pd.DataFrame, tree: Tree, now: datetime) -> pd.DataFrame:
    """Per node: customer-hours of outages in progress, month-to-date customer-hours,
    customer interruptions, SAIDI (h), SAIFI and RS-1 (a fraction)."""
    now_ts, start = pd.Timestamp(now), month_start(now)
    customers = tree.nodes.loc[tree.nodes["level"] == "tarea", "customers"]
    active = union_hours(pairs[pairs["active"]], "tarea_code")
    sustained = pairs[pairs["sustained"]]
    mtd = union_hours(sustained, "tarea_code", lo=start, hi=now_ts)
    began = sustained[sustained["start"] >= start]
    leaf = pd.DataFrame({
        "customer_hours_active": active.reindex(customers.index, fill_value=0.0) * customers,
        "customer_hours_mtd": mtd.reindex(customers.index, fill_value=0.0) * customers,
        "interruptions_mtd": began.groupby("tarea_code")["customers"].sum().reindex(customers.index, fill_value=0),
    }).rename_axis("tarea_code").reset_index()
    per_node = tree.rollup(leaf, "tarea_code", upto="tarea")
    served = tree.nodes["customers"].reindex(per_node.index).where(lambda c: c > 0)
    period_h = (now_ts - start).total_seconds() / 3600.0
    per_node["customers_served"] = tree.nodes["customers"].reindex(per_node.index)
    per_node["saidi_mtd_h"] = per_node["customer_hours_mtd"] / served
    per_node["saifi_mtd"] = per_node["interruptions_mtd"] / served
    per_node["rs1_mtd"] = 1.0 - per_node["saidi_mtd_h"] / period_h if period_h > 0 else np.nan
    return per_node


def frequent_tareas(pairs: pd.DataFrame, now: datetime, cfg: dict) -> pd.DataFrame:
    """Per 台区 with sustained outages: outages started in each rule's window, and the level
    (0 none … 3 red) of the highest rule it meets."""
    now_ts = pd.Timestamp(now)
    sustained = pairs[pairs["sustained"]]
    counts = {}
    level = pd.Series(0, index=sustained["tarea_code"].unique(), dtype="int64")
    for rank, name in enumerate(FREQUENT_ORDER, start=1):
        rule = cfg[name]
        recent = sustained[sustained["start"] > now_ts - pd.Timedelta(days=rule["days"])]
        n = recent.groupby("tarea_code")["outage_id"].nunique().reindex(level.index, fill_value=0)
        counts[f"outages_{rule['days']}d"] = n
        level = level.mask(n >= rule["count"], rank)
    frame = pd.DataFrame(counts).assign(level=level)
    return frame[frame["level"] > 0].rename_axis("tarea_code")


def frequent_counts(frequent: pd.DataFrame, tree: Tree) -> pd.DataFrame:
    """Per node: how many 台区 below it are frequent-outage 台区 at each level."""
    leaf = pd.DataFrame({f"frequent_{name}": (frequent["level"] == rank).astype(int)
                         for rank, name in enumerate(FREQUENT_ORDER, start=1)})
    leaf = leaf.rename_axis("tarea_code").reset_index()
    return tree.complete(tree.rollup(leaf, "tarea_code", upto="tarea"), upto="feeder").astype("int64")
