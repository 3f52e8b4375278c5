"""Repair work-order KPIs per node (docs/kpis.md, section "Repair orders").

Input `orders`: one row per order (latest version), columns of wo_order with timestamps parsed
and `area_type` of its 台区. Output: one row per node with counts, hourly arrays and baselines.
"""
from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pandas as pd

from collectors.domain.calendar import same_type_days
from collectors.domain.tree import Tree

OPEN_STEPS = ("accepted", "dispatched", "received", "departed", "arrived")
HOURS = 24


def open_repair_mask(orders: pd.DataFrame) -> pd.Series:
    """Open = a repair order not yet restored (复电) and not cancelled."""
    return ((orders["order_type"] == "repair") & orders["restored_at"].isna()
            & orders["status"].isin(OPEN_STEPS))


def arrival_deadline(orders: pd.DataFrame, arrival_minutes: dict) -> pd.Series:
    minutes = orders["area_type"].map(arrival_minutes).astype("float64")
    return orders["accepted_at"] + pd.to_timedelta(minutes, unit="min")


def indicators(orders: pd.DataFrame, now: datetime, baseline_days: list[date],
               arrival_minutes: dict) -> pd.DataFrame:
    """One numeric column per KPI contribution of each order; summing them gives the KPIs."""
    rep = orders[orders["order_type"] == "repair"]
    acc = rep["accepted_at"]
    today = pd.Timestamp(now).normalize()
    now_ts = pd.Timestamp(now)
    out = pd.DataFrame({"tarea_code": rep["tarea_code"].to_numpy()})
    in_today = ((acc >= today) & (acc <= now_ts)).to_numpy()
    out["repair_today"] = in_today.astype(int)
    out["repair_last_hour"] = ((acc > now_ts - pd.Timedelta(hours=1)) & (acc <= now_ts)).to_numpy().astype(int)
    hour = acc.dt.hour.to_numpy()
    for h in range(HOURS):
        out[f"h{h:02d}"] = (in_today & (hour == h)).astype(int)

    # Baseline: the mean over the n same-type days of the count in the same window of that day.
    n = len(baseline_days)
    base_hourly = np.zeros((len(rep), HOURS))
    base_today = np.zeros(len(rep))
    base_last_hour = np.zeros(len(rep))
    now_tod = now_ts - today
    for d in baseline_days:
        start = pd.Timestamp(d)
        on_day = ((acc >= start) & (acc < start + pd.Timedelta(days=1))).to_numpy()
        base_hourly[on_day, hour[on_day]] += 1.0 / n
        end = start + now_tod
        base_today += ((acc >= start) & (acc <= end)).to_numpy() / n
        base_last_hour += ((acc > end - pd.Timedelta(hours=1)) & (acc <= end)).to_numpy() / n
    for h in range(HOURS):
        out[f"b{h:02d}"] = base_hourly[:, h]
    out["baseline_today"] = base_today
    out["baseline_last_hour"] = base_last_hour

    is_open = open_repair_mask(rep).to_numpy()
    out["open_repair"] = is_open.astype(int)
    for step in OPEN_STEPS:
        out[f"open_{step}"] = (is_open & (rep["status"] == step).to_numpy()).astype(int)
    not_arrived = is_open & rep["arrived_at"].isna().to_numpy()
    overdue = not_arrived & (arrival_deadline(rep, arrival_minutes) < now_ts).to_numpy()
    out["overdue_arrival"] = overdue.astype(int)
    out["open_not_arrived"] = not_arrived.astype(int)
    out["key_customer_overdue"] = (overdue & rep["key_customer"].astype(bool).to_numpy()).astype(int)
    return out


def node_kpis(orders: pd.DataFrame, tree: Tree, now: datetime, limits: dict) -> pd.DataFrame:
    base_cfg = limits["baseline"]
    days = same_type_days(now.date(), base_cfg["same_type_days"], base_cfg["lookback_days"])
    ind = indicators(orders, now, days, limits["repair"]["arrival_minutes"])
    per_node = tree.complete(tree.rollup(ind, "tarea_code", upto="tarea"), upto="feeder")
    per_node.attrs["baseline_days"] = [d.isoformat() for d in days]
    return per_node


def payload(row: pd.Series, baseline_days: list[str]) -> dict:
    """The JSON a screen needs for one node."""
    return {
        "repair_today": int(row["repair_today"]),
        "repair_last_hour": int(row["repair_last_hour"]),
        "baseline_today": round(float(row["baseline_today"]), 3),
        "baseline_last_hour": round(float(row["baseline_last_hour"]), 3),
        "hourly": [int(row[f"h{h:02d}"]) for h in range(HOURS)],
        "baseline_hourly": [round(float(row[f"b{h:02d}"]), 3) for h in range(HOURS)],
        "baseline_days": baseline_days,
        "open_repair": int(row["open_repair"]),
        "backlog": {s: int(row[f"open_{s}"]) for s in OPEN_STEPS},
        "overdue_arrival": int(row["overdue_arrival"]),
        "open_not_arrived": int(row["open_not_arrived"]),
        "key_customer_overdue": int(row["key_customer_overdue"]),
    }
